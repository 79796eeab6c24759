"""The finding-id table (harness/finding_ids.py) and the grouped report (harness/finding_report.py).

The table is tied three ways: to FINDINGS.md and the switch registry (every
row's id has its heading, its switch exists and claims the id, the group
title is the heading); to kevy 1.17 (every row classifies some violation of a
small re-shard walk, F13 the image of its corpus case); and to its switch by
ablation: under `kevy-1.17+SWITCH` the same walks still violate (other
findings remain) but no violation is classified by a row of SWITCH. Then the
grouping keeps every violation, and the text, the JSON and the replay command
agree with each other.
"""

from __future__ import annotations

import functools
import io
import itertools
import json
import re
import shlex
from pathlib import Path

import pytest

from harness.cli import register
from harness.explore import ExploreResult, _crash_run, explore
from harness.finding_ids import (
    TABLE,
    TITLES,
    UNCLASSIFIED,
    Row,
    classify,
    evidence,
    finding_evidence,
    group,
)
from harness.scenarios import get_scenario
from impl import cli as file_tools
from impl.profile import SWITCHES, get_profile
from model.contract import Verdict
from model.crashfs import MODELS

FINDINGS = (Path(__file__).parent.parent / "FINDINGS.md").read_text(encoding="utf-8")
HEADINGS = dict(re.findall(r"^## (F\d+) — (.+)$", FINDINGS, flags=re.M))
#: Small enough for CI (about a second a walk), large enough to hit every row but F13.
SAMPLE = 30
RESHARD = ("reshard", "reshard-aof0")
#: F13 needs the one image that loses only the journal's unlink: its corpus case.
F13_CASE = "reshard-aof0--kevy-1.17--posix--end-i96"


@functools.cache
def _walk(scenario: str, profile: str, model: str = "posix") -> ExploreResult:
    sample = SAMPLE if model == "posix" else None  # the other models' spaces are small
    return explore(scenario, profile, model, sample=sample, seed=1)  # type: ignore[arg-type]


#: Protocol rows (any scenario) whose protocol the re-shard walks do not run.
PROTOCOL_WALKS = {"F6": ("save", "save-no"), "F7": ("rewrite", "save-rewrite")}


def _walks(row: Row) -> list[tuple[str, str]]:
    """The small walks a row is checked on: its scenarios under every model, or
    (a protocol row) the scenarios of its protocol - the re-shard ones by default -
    under posix."""
    if row.scenarios:
        return [(sc, model) for sc in row.scenarios for model in MODELS]
    return [(sc, "posix") for sc in PROTOCOL_WALKS.get(row.finding, RESHARD)]


def main(argv: list[str], *, out: io.StringIO, err: io.StringIO) -> int:
    return file_tools.main(argv, out=out, err=err, extend=register)


def test_every_row_names_a_finding_and_a_switch_that_claims_it() -> None:
    for row in TABLE:
        assert row.finding in HEADINGS, f"{row.finding}: no '## {row.finding} — ' in FINDINGS.md"
        assert row.switch in SWITCHES, f"{row.finding}: unknown switch {row.switch!r}"
        assert row.finding in SWITCHES[row.switch].finding.split(","), (row.finding, row.switch)
        assert TITLES[row.finding] == HEADINGS[row.finding]


def _f13_row() -> str | None:
    case = json.loads((Path(__file__).parent / "corpus" / "violations" /
                       f"{F13_CASE}.json").read_text(encoding="utf-8"))  # fmt: skip
    sc, profile = get_scenario(case["scenario"]), get_profile(case["profile"])
    cr = _crash_run(sc, profile, None, "end")
    image = next(itertools.islice(cr.fs.images("posix"), case["image"], None))
    assert image.trace == case["trace"]
    row = classify(evidence(sc.name, Verdict(case["verdict"]), cr.op, image.decisions,
                            image.paths))  # fmt: skip
    return None if row is None else row.finding


def test_under_kevy_every_row_classifies_a_violation() -> None:
    hit = {row: 0 for row in TABLE}
    for scenario, model in sorted({w for row in TABLE for w in _walks(row)}):
        for f in _walk(scenario, "kevy-1.17", model).findings:
            row = classify(finding_evidence(f))
            if row is not None:
                hit[row] += 1
    assert _f13_row() == "F13"
    missing = [(r.finding, r.title) for r, n in hit.items() if not n and r.finding != "F13"]
    assert not missing, missing


@pytest.mark.parametrize("switch", sorted({row.switch for row in TABLE}))
def test_a_rows_switch_makes_what_the_row_classifies_vanish(switch: str) -> None:
    """The ablation: kevy 1.17 plus only this switch, on the walks of its rows."""
    rows = [row for row in TABLE if row.switch == switch]
    for scenario, model in sorted({w for row in rows for w in _walks(row)}):
        result = _walk(scenario, f"kevy-1.17+{switch}", model)
        if scenario in RESHARD:
            assert result.violations, f"{scenario}: the other findings should remain"
        left = [
            (row.finding, f.id)
            for f in result.findings
            if (row := classify(finding_evidence(f))) is not None and row.switch == switch
        ]
        assert not left, left


def test_groups_keep_every_violation_and_count_images_and_keys() -> None:
    result = _walk("reshard", "kevy-1.17", "posix")
    groups = group(result)
    assert [g.id for g in groups] == ["F11", "F10", "F12", "F4"]
    assert sum(g.images for g in groups) == result.violations
    assert sum(g.keys for g in groups) == len(result.findings)
    assert {g.switch for g in groups} >= {"reshard_dir_fsync", "aof_dir_fsync"}


def test_unclassified_violations_are_grouped_by_signature_never_dropped() -> None:
    # xclaim-clock (F16 with stream replay, no row yet) loses names, data and nothing.
    result = explore("xclaim-clock", "kevy-1.17", "posix", sample=SAMPLE, seed=1)
    groups = group(result)
    other = [g for g in groups if g.id == UNCLASSIFIED]
    assert other and all(g.signature and g.switch is None for g in other)
    assert len({g.signature for g in other}) == len(other)
    assert sum(g.images for g in groups) == result.violations
    assert any(g.signature == "no_prefix x fdatasync x none lost" for g in other)
    assert any(g.id == "F4" for g in groups)  # a protocol row still applies


def _blocks(text: str) -> dict[str, tuple[int, int]]:
    """Group heading -> (images, keys), as the text report prints them."""
    out = {}
    for head, images, keys in re.findall(
        r"^(\S+) .*\n  (\d+) violating image\(s\), (\d+) distinct key\(s\)", text, flags=re.M
    ):
        out[head] = (int(images), int(keys))
    return out


def test_text_and_json_show_the_same_groups_and_the_replay_works(tmp_path: Path) -> None:
    run = ["explore", "reshard", "--model", "posix", "--sample", "30", "--seed", "1"]
    text, js = io.StringIO(), io.StringIO()
    assert main([*run, "--corpus", str(tmp_path / "c")], out=text, err=io.StringIO()) == 0
    assert main([*run, "--no-corpus", "--format", "json"], out=js, err=io.StringIO()) == 0
    (doc,) = json.loads(js.getvalue())["runs"]
    assert _blocks(text.getvalue()) == {g["id"]: (g["images"], g["keys"]) for g in doc["groups"]}
    assert sum(g["images"] for g in doc["groups"]) == doc["violations"]
    ids = {f["id"]: f["finding_id"] for f in doc["findings"]}
    for g in doc["groups"]:
        assert all(ids[k] == g["id"] for k in g["findings"]) and g["example"] == g["findings"][0]
    # The written run's replay line replays its example from that corpus.
    replay = re.findall(r"^  replay: (.+)$", text.getvalue(), flags=re.M)
    assert len(replay) == len(doc["groups"])
    argv = shlex.split(replay[0])
    assert argv[:2] == ["kevy-verify", "replay"] and argv[-2] == "--corpus"
    out = io.StringIO()
    assert main(argv[1:], out=out, err=io.StringIO()) == 0
    assert "(as recorded)" in out.getvalue()
    # After --no-corpus: the same walk into a scratch corpus, then that replay.
    walk, then = doc["groups"][0]["replay"].split(" > /dev/null && ")
    scratch = str(tmp_path / "scratch")
    walk_argv = [scratch if a == "/tmp/kevy-verify-cases" else a for a in shlex.split(walk)]
    then_argv = [scratch if a == "/tmp/kevy-verify-cases" else a for a in shlex.split(then)]
    assert main(walk_argv[1:], out=io.StringIO(), err=io.StringIO()) == 0
    out = io.StringIO()
    assert main(then_argv[1:], out=out, err=io.StringIO()) == 0
    assert "(as recorded)" in out.getvalue()
