"""The sharded, cached, representative crash walk (harness/explore_walk.py) and its pool."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable

import pytest

from harness.cli import register
from harness.explore import ExploreResult, explore
from harness.explore_pool import TaskPool, pool_map
from harness.explore_walk import finding_signature, representative_class
from harness.scenarios import SCENARIOS
from impl import cli as file_tools
from model.crashfs import MODELS, Decision


def main(argv: list[str], *, out: io.StringIO, err: io.StringIO) -> int:
    return file_tools.main(argv, out=out, err=err, extend=register)


def _square(x: int) -> tuple[int, int]:
    return x, x * x


def _pid_square(x: int) -> tuple[int, int]:
    return os.getpid(), x * x


def _same(a: ExploreResult, b: ExploreResult) -> None:
    for attr in ("points", "images", "recoveries", "violations", "space", "whole_runs"):
        assert getattr(a, attr) == getattr(b, attr), attr
    assert [f.case() for f in a.findings] == [f.case() for f in b.findings]
    assert [f.occurrences for f in a.findings] == [f.occurrences for f in b.findings]


def test_pool_map_keeps_task_order_and_refuses_zero_jobs() -> None:
    tasks = list(range(7))
    assert pool_map(_square, tasks, 2) == [(x, x * x) for x in tasks]
    assert pool_map(_square, tasks, 1) == pool_map(_square, tasks, 3)
    with pytest.raises(ValueError, match="at least 1"):
        pool_map(_square, tasks, 0)


def test_task_pool_keeps_its_workers_and_task_order_across_batches() -> None:
    with TaskPool(2) as pool:
        first = pool.submit(_pid_square, range(6))
        second = pool.submit(_pid_square, range(6, 12))
        a, b = first.result(), second.result()
    assert [r[1] for r in a + b] == [x * x for x in range(12)]
    workers = {r[0] for r in a + b}
    assert os.getpid() not in workers and len(workers) <= 2, "one pool, two processes"
    with pytest.raises(ValueError, match="at least 1"):
        TaskPool(0)


def test_one_job_task_pool_runs_a_batch_only_when_asked_and_never_once_cancelled() -> None:
    ran: list[int] = []

    def note(x: int) -> int:
        ran.append(x)
        return x

    with TaskPool(1) as pool:
        kept, dropped = pool.submit(note, [1, 2]), pool.submit(note, [3])
        dropped.cancel()
        assert ran == []
        assert kept.result() == [1, 2]
    assert ran == [1, 2]


@pytest.mark.parametrize("mode", ["exhaustive", "representative"])
def test_two_jobs_give_the_result_of_one(mode: str) -> None:
    # save-rewrite/posix: 12 639 images, 77 findings, some recovery inputs
    # shared across crash points - the shards must still recover each once.
    one = explore("save-rewrite", "kevy-1.17", "posix", mode=mode)
    two = explore("save-rewrite", "kevy-1.17", "posix", mode=mode, jobs=2)
    three = explore("save-rewrite", "kevy-1.17", "posix", mode=mode, jobs=3)
    assert one.findings and one.recoveries < one.images
    _same(one, two)
    _same(one, three)


def test_two_jobs_give_the_sample_of_one() -> None:
    one = explore("save-no", "kevy-1.17", "posix", sample=40, seed=3)
    two = explore("save-no", "kevy-1.17", "posix", sample=40, seed=3, jobs=2)
    assert one.sampled and one.findings
    _same(one, two)


def test_the_recovery_cache_spans_crash_points() -> None:
    # Recovery inputs repeat across crash points (a point that changes nothing
    # on disk); each distinct input is recovered once, yet judged per point.
    result = explore("save", "kevy-1.17", "process-crash")
    assert result.recoveries < result.points == result.images


def test_representative_class_blanks_only_the_tear_byte() -> None:
    def torn(kept: int, number: int, tear: int) -> list[Decision]:
        return [Decision("data", "/data/aof-0.aof", "torn", reason="data", kept=kept, total=2,
                         event=f"append #{number} (30 B)", tear=tear)]

    a, b, c = torn(0, 1, 15), torn(0, 1, 29), torn(1, 2, 15)
    assert representative_class(a) == representative_class(b) != representative_class(c)
    assert str(a[0]) == ("aof-0.aof: 0 of 2 unprotected data op(s) kept, append #1 (30 B) "
                         "torn at byte 15")
    assert str(representative_class(a)[0]).endswith("torn at byte *")


_CHEAP = [
    (name, model)
    for name in SCENARIOS
    for model in MODELS
    # 2.7 M / 2.3 M / 0.7 M images: the bench, and the site scenarios' nightly walks
    if not ((name.startswith("reshard") or name in ("cross-shard", "save-shards-no-aof"))
            and model == "posix")
    # A 1 MiB value in every image (~1 s a model, ~40 s under posix): walked by
    # tests/test_scenarios_sites.py (representative; exhaustive under posix nightly)
    and name != "big-value"
]


@pytest.mark.parametrize("profile", ["kevy-1.17", "hardened"])
def test_representative_finds_every_distinct_finding_of_the_exhaustive_walk(profile: str) -> None:
    missed = {}
    for name, model in _CHEAP:
        full = explore(name, profile, model)
        rep = explore(name, profile, model, mode="representative")
        assert rep.images <= full.images and rep.space == full.images
        want = {finding_signature(f) for f in full.findings}
        got = {finding_signature(f) for f in rep.findings}
        if want != got:
            missed[(name, model)] = want ^ got
    assert not missed, missed


def test_cli_explore_jobs_and_mode(tmp_path) -> None:
    outs = []
    for extra in ([], ["--jobs", "2"]):
        out, err = io.StringIO(), io.StringIO()
        corpus = tmp_path / f"c{len(outs)}"
        argv = [
            "explore",
            "aof-append",
            "--model",
            "posix",
            "--mode",
            "representative",
            "--corpus",
            str(corpus),
            *extra,
        ]
        assert main(argv, out=out, err=err) == 0
        text = out.getvalue().replace(str(corpus), "DIR")
        text = re.sub(r"[\d.]+ s, \d+ images/s", "TIME", text)  # the one timed figure
        outs.append((text, sorted(os.listdir(corpus / "violations"))))
    assert outs[0] == outs[1]
    assert "representative images of 653" in outs[0][0]
    err = io.StringIO()
    assert (
        main(
            ["explore", "save", "--model", "posix", "--mode", "representative", "--sample", "3"],
            out=io.StringIO(),
            err=err,
        )
        == 2
    )
    assert "do not combine" in err.getvalue()
    with pytest.raises(SystemExit) as e:  # argparse's usage error
        main(["explore", "save", "--model", "posix", "--jobs", "0"], out=io.StringIO(), err=err)
    assert e.value.code == 2


def test_explore_json_says_what_the_text_report_says() -> None:
    import io
    import json

    from harness.cli import register
    from impl.cli import main as cli_main

    args = ["explore", "aof-append", "--model", "posix", "--no-corpus"]
    text = io.StringIO()
    assert cli_main(args, out=text, err=io.StringIO(), extend=register) == 0
    out = io.StringIO()
    assert cli_main([*args, "--format", "json"], out=out, err=io.StringIO(), extend=register) == 0
    doc = json.loads(out.getvalue())
    assert doc["format"] == "kevy-verify-explore/1" and len(doc["runs"]) == 1
    run = doc["runs"][0]
    assert run["findings"], "kevy-1.17 has findings on aof-append under posix"
    for g in run["groups"]:  # every group, its counts and its example, as the text shows it
        assert (f"{g['images']} violating image(s), {g['keys']} distinct key(s); "
                f"example {g['example']} ") in text.getvalue()  # fmt: skip
    assert sum(g["keys"] for g in run["groups"]) == len(run["findings"])
    assert f"{run['images']} images" in text.getvalue()
    assert f"{run['violations']} violating images" in text.getvalue()


@pytest.mark.parametrize("scenario", ["save", "save-rewrite", "reshard-aof0"])
def test_recovering_by_what_was_read_judges_exactly_what_whole_bytes_judge(
    scenario: str,
) -> None:
    # The read cache (harness.explore.ReadCache) reuses a recovery for any image
    # that agrees on the paths and on the bytes recovery used; the plain dict
    # reuses it only for byte-identical images. Same verdict for every image,
    # so the same violations and findings - with fewer recoveries run.
    model = "ordered" if scenario == "reshard-aof0" else "posix"
    by_read = explore(scenario, "kevy-1.17", model)
    by_bytes = explore(scenario, "kevy-1.17", model, cache={})
    assert by_read.images == by_bytes.images
    assert by_read.violations == by_bytes.violations
    assert [finding_signature(f) for f in by_read.findings] == [
        finding_signature(f) for f in by_bytes.findings
    ]
    assert [f.occurrences for f in by_read.findings] == [f.occurrences for f in by_bytes.findings]
    assert by_read.recoveries <= by_bytes.recoveries
    if scenario == "save":
        # dump-0.rdb.tmp's unsynced bytes are never read by recovery: collapsed.
        assert by_read.recoveries * 2 < by_bytes.recoveries


def test_the_reading_file_system_records_every_use_of_a_file() -> None:
    from model.crashfs import CrashFS

    made: list[str] = []

    def maker(name: str, data: bytes) -> Callable[[], bytes]:
        def make() -> bytes:
            made.append(name)
            return data

        return make

    fs, touched = CrashFS.from_lazy_files(
        {"/d/a": maker("a", b"x"), "/d/b": maker("b", b"yy"), "/d/c": maker("c", b"")},
        dirs={"/d"},
    )
    assert sorted(fs.listdir("/d")) == ["a", "b", "c"] and fs.exists("/d/c")
    fs.rename("/d/c", "/d/e")
    fs.unlink("/d/e")
    assert not touched and not made
    assert fs.file_size("/d/b") == 2
    assert fs.read_bytes("/d/a") == b"x"
    assert touched == {"/d/a", "/d/b"} and made == ["b", "a"]


@pytest.mark.parametrize("scenario", ["save", "xclaim-clock"])
def test_a_recovery_reused_by_what_it_read_equals_a_fresh_one(scenario: str) -> None:
    # Image by image: what the read cache hands back is what recovering that
    # image's whole bytes gives (the cache's soundness, not just equal counts).
    from harness.explore import ReadCache, _Judge, crash_runs
    from harness.scenarios import get_scenario, recover
    from impl.profile import KEVY_1_17

    sc = get_scenario(scenario)
    judge = _Judge(sc, KEVY_1_17, ReadCache())
    reused = 0
    for cr in crash_runs(sc, KEVY_1_17):
        judge.cache.advance()  # type: ignore[union-attr]
        now = cr.run.clock.now_ms()
        for image in cr.fs.images("posix"):
            before = judge.recoveries
            _, rec = judge.recovery(cr, image)
            reused += judge.recoveries == before
            fresh = recover(sc, KEVY_1_17, cr.run.config, image.files(), image.dirs, now)
            assert rec == fresh, (cr.label, image.index, image.trace)
    assert reused > 1000
