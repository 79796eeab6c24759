"""The explorer and its scenarios: counts, caching, findings, the CLI."""

from __future__ import annotations

import io
import json
import random
import re

import pytest

from harness import scenarios
from harness.cli import register
from harness.explore import CaseDrifted, clean_case, explore, replay_case
from harness.scenarios import SCENARIOS, InvalidScenario, drive, get_scenario, scenario
from impl import cli as file_tools
from impl.profile import get_profile
from model.crashfs import CrashFS


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
    real = scenarios.recover_reading

    def amnesiac(*args, **kwargs):
        _, read = real(*args, **kwargs)
        return scenarios.Recovery({"format": "kevy-keyspace/1", "keys": []}), read

    monkeypatch.setattr("harness.explore.recover_reading", amnesiac)
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


# --------------------------------------------------------------------------
# Sampled exploration (`--sample N --seed S`).


def _finding_view(result) -> list[tuple[str, list[str], str]]:
    return [(f.id, f.trace, f.judgement.explain()) for f in result.findings]


def test_sampling_is_deterministic_and_finds_the_unsynced_aof_create() -> None:
    # aof-append posix has runs of up to ~100 images; 4 per run samples most runs.
    a = explore("aof-append", "kevy-1.17", "posix", sample=4, seed=7)
    b = explore("aof-append", "kevy-1.17", "posix", sample=4, seed=7)
    whole = explore("aof-append", "kevy-1.17", "posix")
    assert a.sampled and a.images < a.space == whole.images
    assert 0 < a.whole_runs < a.points
    assert "sampled" in a.summary() and f"{a.images} of {a.space} images" in a.summary()
    assert (a.images, a.violations, _finding_view(a)) == (b.images, b.violations,
                                                           _finding_view(b))
    texts = [t for _, _, t in _finding_view(a)]
    assert any("create aof-0.aof: lost (directory not fsynced)" in t for t in texts)
    drawn = [f for f in a.findings if f.draw is not None]
    assert drawn and all(f.image is None and f.choices for f in drawn)
    assert all(f.id.endswith(f"-s7d{f.draw[1]}") for f in drawn)
    other = explore("aof-append", "kevy-1.17", "posix", sample=4, seed=8)
    assert _finding_view(other) != _finding_view(a)  # the seed does choose the images


def test_a_sampled_case_replays_from_its_choices_or_its_trace() -> None:
    result = explore("aof-append", "kevy-1.17", "posix", sample=4, seed=7)
    finding = next(f for f in result.findings if f.draw is not None)
    case = json.loads(json.dumps(finding.case()))  # as stored on disk
    assert case["sample"] == {"seed": 7, "draw": finding.draw[1]}
    again = replay_case(case)
    assert again.verdict is finding.judgement.verdict and again.explain() == case["message"]
    # Choices that no longer fit: the image is found again by its trace.
    case["choices"] = [*case["choices"], 0]
    assert replay_case(case).explain() == case["message"]
    case["trace"] = ["no such decision"]
    with pytest.raises(CaseDrifted, match="neither its recorded choices nor its trace"):
        replay_case(case)


def test_a_sample_at_least_as_large_as_every_run_is_the_exhaustive_walk() -> None:
    whole = explore("aof-append", "kevy-1.17", "posix")
    big = explore("aof-append", "kevy-1.17", "posix", sample=10_000, seed=3)
    assert not big.sampled and big.whole_runs == big.points == whole.points
    assert (big.images, big.space, big.violations) == (whole.images, whole.images,
                                                       whole.violations)
    assert _finding_view(big) == _finding_view(whole)
    assert "walked whole" in big.summary() and "sampled" not in big.summary()
    with pytest.raises(ValueError, match="at least 1"):
        explore("aof-append", "kevy-1.17", "posix", sample=0)


def test_sampled_images_are_enumerated_images_and_rebuild_from_their_choices() -> None:
    fs = CrashFS()
    drive(get_scenario("rewrite"), get_profile("kevy-1.17"), fs)
    fs.crash()
    for model in ("ordered", "posix"):
        enumerated = {tuple(im.trace): im.files() for im in fs.images(model)}
        rng = random.Random(1)
        for _ in range(40):
            image = fs.sample_image(rng, model)
            assert tuple(image.trace) in enumerated
            assert image.files() == enumerated[tuple(image.trace)]
            assert image.choices is not None
            again = fs.chosen_image(image.choices, model)
            assert again.trace == image.trace and again.files() == image.files()
        with pytest.raises(ValueError, match="ran out"):
            fs.chosen_image([], model)


def test_cli_explore_sample(tmp_path) -> None:
    out, err = io.StringIO(), io.StringIO()
    rc = main(["explore", "aof-append", "--model", "posix", "--sample", "3", "--seed", "5",
               "--corpus", str(tmp_path)], out=out, err=err)
    assert rc == 0
    first = out.getvalue().splitlines()[0]
    assert "sampled" in first and "seed 5, at most 3 per crash run" in first
    cases = [json.loads(p.read_text()) for p in (tmp_path / "violations").glob("*.json")]
    assert any("choices" in c for c in cases)
    again = io.StringIO()
    main(["explore", "aof-append", "--model", "posix", "--sample", "3", "--seed", "5",
          "--no-corpus"], out=again, err=io.StringIO())
    untimed = re.compile(r", [0-9.]+ s, [0-9]+ images/s$")
    assert untimed.sub("", again.getvalue().splitlines()[0]) == untimed.sub("", first)
    err = io.StringIO()
    assert main(["explore", "aof-append", "--model", "posix", "--seed", "5", "--no-corpus"],
                out=io.StringIO(), err=err) == 2
    assert "--seed needs --sample" in err.getvalue()
    with pytest.raises(SystemExit):
        main(["explore", "aof-append", "--model", "posix", "--sample", "0"],
             out=io.StringIO(), err=io.StringIO())


def test_a_sampled_clean_case_judges_its_sample() -> None:
    case = clean_case("aof-append", "hardened", "posix", sample=3, seed=2)
    assert case["id"] == "aof-append--hardened--posix--every-s2n3"
    assert case["sample"] == {"seed": 2, "images_per_run": 3}
    assert replay_case(case).ok
    # The same sample of kevy 1.17 is not silent: the case really judges images.
    kevy = dict(case, profile="kevy-1.17")
    assert replay_case(kevy).verdict.value == "lost_durable"


def test_derived_profile_names_round_trip_through_get_profile() -> None:
    # Corpus cases name ablation profiles the way with_switches does; the
    # replay must rebuild exactly that profile, and refuse an unknown switch.
    from impl.profile import HARDENED, KEVY_1_17

    off = HARDENED.with_switches("xclaim_logs_time", on=False)
    assert get_profile(off.name).enabled == off.enabled
    on = KEVY_1_17.with_switches("aof_dir_fsync", "aof_cut_torn_tail")
    assert get_profile(on.name).enabled == on.enabled
    with pytest.raises(KeyError, match="unknown profile"):
        get_profile("hardened-no_such_switch")
