"""The fix-switch registry (impl/profile.py) and FINDINGS.md name the same findings.

A switch's `finding` is the FINDINGS.md ids it fixes, or "compat" for a
Redis-compatibility switch; the summary table's fix column names switches that
exist and that claim the row's id. A renamed switch or a finding id that drifts
on either side fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from impl.profile import SWITCHES

FINDINGS = (Path(__file__).parent.parent / "FINDINGS.md").read_text(encoding="utf-8")
HEADINGS = set(re.findall(r"^## (F\d+) — ", FINDINGS, flags=re.M))
ROWS = re.findall(r"^\| (F\d+) \|[^|]*\|[^|]*\| ([^|]*) \|", FINDINGS, flags=re.M)


def test_findings_has_its_headings_and_table() -> None:
    assert {"F1", "F5", "F9", "F17"} <= HEADINGS
    assert len(ROWS) >= 18


@pytest.mark.parametrize("name", sorted(SWITCHES))
def test_switch_names_findings_that_exist(name: str) -> None:
    finding = SWITCHES[name].finding
    if finding == "compat":
        return
    ids = finding.split(",")
    missing = [i for i in ids if i not in HEADINGS]
    assert not missing, f"{name}: {missing} have no '## F<n> — ' heading in FINDINGS.md"


@pytest.mark.parametrize(("fid", "fix"), ROWS, ids=[r[0] for r in ROWS])
def test_table_switches_exist_and_claim_the_row(fid: str, fix: str) -> None:
    for name in re.findall(r"`([a-z0-9_]+)`", fix):
        assert name in SWITCHES, f"{fid}: FINDINGS.md names unknown switch {name!r}"
        claimed = SWITCHES[name].finding.split(",")
        # A switch listed beside another (F6: two fixes together) may belong to a
        # sibling finding of the same protocol; it must still name real findings.
        if fid not in claimed:
            assert "+" in fix, f"{fid}: switch {name!r} claims {claimed}, not {fid}"


def test_profiles_json_lists_every_switch_with_its_finding() -> None:
    import io
    import json

    from impl.cli import main
    from impl.profile import PROFILES, SWITCHES

    out = io.StringIO()
    assert main(["profiles", "--format", "json"], out=out, err=io.StringIO()) == 0
    doc = json.loads(out.getvalue())
    assert doc["format"] == "kevy-verify-profiles/1"
    assert {s["name"]: s["finding"] for s in doc["switches"]} == {
        n: s.finding for n, s in SWITCHES.items()
    }
    assert doc["profiles"] == {n: sorted(p.enabled) for n, p in PROFILES.items()}
    assert doc["profiles"]["kevy-1.17"] == [] and len(doc["profiles"]["hardened"]) == len(SWITCHES)
