"""The explorer and its scenarios: counts, caching, findings, the CLI."""

from __future__ import annotations

import io
import json

import pytest

from harness import scenarios
from harness.cli import register
from harness.explore import explore, replay_case
from harness.scenarios import SCENARIOS, InvalidScenario, scenario
from impl import cli as file_tools


def test_scenarios_are_validated_at_definition() -> None:
    with pytest.raises(InvalidScenario, match=r"'aof-append'.*already used"):
        scenario("aof-append", "again")(lambda run: None)
    with pytest.raises(InvalidScenario, match=r"'Bad Name'.*must match"):
        scenario("Bad Name", "x")(lambda run: None)
    with pytest.raises(InvalidScenario, match="policy 'sometimes'"):
        scenario("x-y", "x", policy="sometimes")(lambda run: None)  # type: ignore[arg-type]
    assert {"aof-append", "save", "rewrite", "reopen"} <= set(SCENARIOS)


def test_hardened_aof_append_is_clean_under_every_model() -> None:
    for model in ("process-crash", "ordered", "posix"):
        result = explore("aof-append", "hardened", model)
        assert not result.findings, result.findings[0].judgement.explain()
        assert result.points >= 2 * 8 and result.images >= result.points


def test_kevy_loses_always_acked_writes_with_the_unsynced_aof_create() -> None:
    result = explore("aof-append", "kevy-1.17", "posix")
    assert result.recoveries < result.images  # the cache is hit
    texts = [f.judgement.explain() for f in result.findings]
    assert any("create aof-0.aof: lost (directory not fsynced)" in t for t in texts)
    first = result.findings[0]
    again = replay_case(first.case())
    assert again.verdict is first.judgement.verdict
    assert again.explain() == first.case()["message"]


def test_a_broken_contract_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    # Break the store on purpose: drop every write at recovery. The explorer
    # must report losses even under process-crash, where kevy is otherwise clean.
    real = scenarios.recover

    def amnesiac(*args, **kwargs):
        real(*args, **kwargs)
        return scenarios.Recovery({"format": "kevy-keyspace/1", "keys": []})

    monkeypatch.setattr("harness.explore.recover", amnesiac)
    result = explore("aof-append", "hardened", "process-crash")
    assert result.findings and result.findings[0].judgement.verdict.value == "lost_durable"


def main(argv: list[str], *, out: io.StringIO, err: io.StringIO) -> int:
    return file_tools.main(argv, out=out, err=err, extend=register)


def test_cli_explore(tmp_path) -> None:
    out, err = io.StringIO(), io.StringIO()
    rc = main(["explore", "aof-append", "--model", "posix", "--corpus", str(tmp_path)],
              out=out, err=err)
    assert rc == 0  # kevy-1.17 findings are findings, not failures
    assert "crash points" in out.getvalue() and "images/s" in out.getvalue()
    assert "crash run" in err.getvalue()
    cases = list((tmp_path / "violations").glob("*.json"))
    assert cases and json.loads(cases[0].read_text())["verdict"] == "lost_durable"
    rc = main(["explore", "aof-append", "--model", "ordered", "--profile", "hardened",
               "--no-corpus"], out=io.StringIO(), err=io.StringIO())
    assert rc == 0
