"""Replay every committed fuzz input through its target's oracle, on every pytest run.

What: each file under `fuzz/corpus/<target>/`, `fuzz/regressions/<target>/`
and `fuzz/crashes/<target>/` (a crash not yet fixed fails here on purpose),
plus the golden files of tests/golden/ that belong to the target, goes
through `fuzz.targets.<target>.check` with peak-memory measurement on every
input. Also: the seed files still equal what `fuzz/make_seeds.py` generates,
every committed file is at most 64 KiB, and `kevy-verify fuzz` parses its
arguments and reports crashes with the documented exit code.

Why: a crash found once must stay fixed, and the oracles must keep holding on
the inputs that reached the deepest code, without running atheris.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from fuzz import common
from fuzz.make_seeds import MAX_SEED_BYTES, seeds
from fuzz.targets import aof, dirs, journal, resp, resp_reader, shards_meta, snapshot
from harness import cli, fuzz_cli

ROOT = Path(__file__).resolve().parents[1]
FUZZ = ROOT / "fuzz"
GOLDEN = ROOT / "tests" / "golden"
CHECKS = {
    "resp": resp.check, "resp_reader": resp_reader.check, "aof": aof.check,
    "snapshot": snapshot.check, "shards_meta": shards_meta.check, "journal": journal.check,
    "dirs": dirs.check,
}
GOLDEN_FILES = {
    "resp": ["aof/*.aof", "dirs/*/aof-*.aof"],
    "resp_reader": ["aof/*.aof", "dirs/*/aof-*.aof"],
    "aof": ["aof/*.aof", "dirs/*/aof-*.aof"],
    "snapshot": ["snapshots/*.rdb", "dirs/*/dump-*.rdb"],
    "shards_meta": ["dirs/*/shards.meta"],
    "journal": [],
    "dirs": [],  # its inputs describe a tree (fuzz/targets/dirs.py), not one file
}
#: one input's oracle may take this long on a slow, busy machine before it
#: counts as a hang (libFuzzer's own -timeout is 10 s)
SLOW_INPUT_SECONDS = 5.0


def _cases() -> list[tuple[str, Path]]:
    cases = []
    for target in common.TARGETS:
        for kind in ("corpus", "regressions", "crashes"):
            folder = FUZZ / kind / target
            if folder.is_dir():
                cases += [(target, p) for p in sorted(folder.iterdir())
                          if p.is_file() and p.name != "README.md"]
        for pattern in GOLDEN_FILES[target]:
            cases += [(target, p) for p in sorted(GOLDEN.glob(pattern))]
    return cases


CASES = _cases()


@pytest.fixture(autouse=True)
def _measure_every_input() -> object:
    common.set_memory_every(1)
    yield
    common.set_memory_every(16)


@pytest.mark.parametrize(("target", "path"), CASES,
                         ids=[f"{t}:{p.relative_to(ROOT)}" for t, p in CASES])
def test_committed_input_passes_its_oracle(target: str, path: Path) -> None:
    started = time.monotonic()
    CHECKS[target](path.read_bytes())
    assert time.monotonic() - started < SLOW_INPUT_SECONDS, f"{path} took too long (a hang?)"


def test_resp_differential_from_the_scan_equals_the_one_from_parse_frame(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The RESP target feeds hiredis's comparison from its scan (one parse per
    # input); on every committed input that must end exactly where the
    # comparison driven by parse_frame ends, or the fast path changed the oracle.
    from tests.test_resp_hiredis import compare

    seen: list[tuple[str, int]] = []

    def spy(stream: bytes, parse: Callable[..., object]) -> tuple[str, int]:
        seen.append(compare(stream, parse))  # type: ignore[arg-type]
        return seen[-1]

    monkeypatch.setattr(resp, "compare", spy)
    compared = 0
    for target, path in CASES:
        if target != "resp":
            continue
        data = path.read_bytes()
        scan, frames = resp._check_scan(data)
        expected = compare(data[scan.start:])
        seen.clear()
        resp._check_hiredis(data, scan, frames)
        assert seen == [expected], path
        compared += expected[1]
    assert compared > 100  # the corpus really exercises frame-by-frame comparison


def test_every_target_has_a_corpus() -> None:
    for target in common.TARGETS:
        files = [p for p in (FUZZ / "corpus" / target).iterdir() if p.is_file()]
        assert len(files) >= 10, f"fuzz/corpus/{target} has {len(files)} files"
        assert all(p.stat().st_size <= MAX_SEED_BYTES for p in files)


def test_seed_files_match_make_seeds() -> None:
    # Every generated seed is committed and no stale one lingers. Contents may
    # drift while the formats evolve (the oracles replay them either way);
    # refresh with: python fuzz/make_seeds.py --clean
    for target, named in seeds().items():
        committed = {p.name for p in (FUZZ / "corpus" / target).glob("seed-*")}
        unique: dict[bytes, str] = {}
        for name in sorted(named):
            unique.setdefault(named[name], f"seed-{name}")
        assert committed == set(unique.values()), (
            f"fuzz/corpus/{target}: run python fuzz/make_seeds.py --clean"
        )


def test_oracle_rejects_an_escaping_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # The oracle is not vacuous: an undocumented exception type is a finding.
    def broken(data: bytes, ks: object, *, now_ms: int | None = None) -> None:
        raise IndexError("index out of range")

    monkeypatch.setattr(snapshot, "read_snapshot", broken)
    with pytest.raises(common.FuzzFinding, match="undocumented IndexError"):
        snapshot.check(b"KEVYSNAP\x04\x00")


def test_memory_bound_catches_allocation_from_a_length() -> None:
    with pytest.raises(common.FuzzFinding, match="peak allocation"):
        common.measured(lambda: bytearray(4 << 20), 10, 16, "allocates 4 MiB")


def test_fuzz_command_runs_the_target(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = []

    def fake_run(target: str, *, seconds: int, jobs: int = 1,
                 extra: tuple[str, ...] = (), progress: object = None) -> fuzz_cli.FuzzResult:
        calls.append((target, seconds, jobs, list(extra)))
        assert progress is not None  # the command shows progress on stderr
        return fuzz_cli.FuzzResult(target, 2.0, 1, 800, [tmp_path / "crash-1"], tmp_path / "l")

    monkeypatch.setattr(fuzz_cli, "run_target", fake_run)
    code = cli.main(["fuzz", "journal", "--time", "5", "--jobs", "2", "--", "-max_len=64"])
    assert calls == [("journal", 5, 2, ["-max_len=64"])]
    assert code == 1  # a crash was written
    assert "crash: " in capsys.readouterr().out


def test_target_flags_come_before_the_callers(monkeypatch: pytest.MonkeyPatch) -> None:
    # libFuzzer keeps the last value of a flag: the RESP target's default
    # -max_len must be in the command, and a caller's own -max_len after it.
    seen: list[list[str]] = []

    class FakePopen:
        returncode = 0

        def __init__(self, cmd: list[str], **kwargs: object) -> None:
            seen.append(cmd)

        def wait(self, timeout: float | None = None) -> int:
            return 0

    monkeypatch.setattr(fuzz_cli.subprocess, "Popen", FakePopen)
    fuzz_cli.run_target("resp", seconds=1, extra=["-max_len=64"], nice=0)
    fuzz_cli.run_target("journal", seconds=1, nice=0)
    resp_cmd, journal_cmd = seen
    assert resp_cmd.index("-max_len=512") < resp_cmd.index("-max_len=64")
    assert not any(flag.startswith("-max_len") for flag in journal_cmd)


def test_the_cli_and_the_corpus_know_the_same_targets() -> None:
    # harness/fuzz_cli.py keeps its own list (the installed console script
    # cannot import fuzz/); a target added to one list only would go unfuzzed
    # or unreplayed.
    assert fuzz_cli.TARGETS == common.TARGETS
