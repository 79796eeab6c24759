"""fuzz/nightly.py: what it runs, what it writes, and when it fails.

The real job takes an hour; here libFuzzer, the explorer and pytest are
replaced by fakes so the summary and the exit rule are what is tested.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fuzz import nightly
from harness.explore import ExploreResult
from harness.fuzz_cli import FuzzResult


def _fake_run(target: str, *, seconds: int) -> FuzzResult:
    return FuzzResult(target, float(seconds), 0, 100 * seconds, [], None)


def _fake_explore(bad: set[tuple[str, str]]) -> Any:
    def explore(name: str, profile: str, model: str) -> ExploreResult:
        result = ExploreResult(name, profile, model, points=3, images=10, elapsed_s=0.5)
        result.violations = 4 if (profile, model) in bad else 0
        return result
    return explore


@pytest.fixture
def out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(nightly, "OUT", tmp_path)
    monkeypatch.setattr(nightly, "run_target", _fake_run)
    return tmp_path


def test_summary_lists_every_target_and_every_explored_run(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nightly, "explore", _fake_explore({("kevy-1.17", "posix")}))
    code = nightly.main(["--time", "2", "--explore", "both", "--no-pytest"])
    summary = json.loads((out / "summary.json").read_text())
    assert code == 0  # kevy-1.17's violations are findings, not failures
    assert set(summary["targets"]) == set(nightly.TARGETS)
    assert summary["targets"]["resp"]["exec_per_second"] == 100.0
    rows = summary["explore"]
    assert len(rows) == 2 * len(nightly.SCENARIOS) * len(nightly.MODELS)
    assert {r["violations"] for r in rows if r["profile"] == "kevy-1.17"
            and r["model"] == "posix"} == {4}
    assert "explore" in (out / "summary.txt").read_text()


def test_a_hardened_violation_fails_the_night(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nightly, "explore", _fake_explore({("hardened", "ordered")}))
    assert nightly.main(["--time", "1", "--targets", "journal", "--no-pytest"]) == 1


def test_a_crash_fails_the_night(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crashed(target: str, *, seconds: int) -> FuzzResult:
        return FuzzResult(target, 1.0, 1, 5, [nightly.FUZZ_DIR / "crashes" / target / "x"], None)

    monkeypatch.setattr(nightly, "run_target", crashed)
    assert nightly.main(["--time", "1", "--targets", "resp", "--explore", "none",
                         "--no-pytest"]) == 1


def test_summary_carries_crash_site_coverage_with_the_machines_log(out: Path) -> None:
    line = {"search": "machines", "model": "posix", "site": "repair:repair_aof:rename#1"}
    (out / "sites.jsonl").write_text(json.dumps(line) + "\n")
    from harness import sites

    try:
        assert nightly.main(["--time", "1", "--targets", "resp", "--explore", "none",
                             "--no-pytest"]) == 0
    finally:
        sites.SEARCH_LOG.hits.clear()
    summary = json.loads((out / "summary.json").read_text())
    by_id = {s["id"]: s for s in summary["sites"]["sites"]}
    assert by_id["repair:repair_aof:rename#1"]["reached"]["machines"] == ["posix"]
    assert "crash sites:" in (out / "summary.txt").read_text()
