"""`kevy-verify fuzz TARGET`: run one atheris fuzz target in a subprocess.

What: `register(subparsers)` adds the `fuzz` command; `run_target` starts
`python fuzz/targets/<TARGET>.py` under libFuzzer with the committed corpus
`fuzz/corpus/<TARGET>/` as read-only seeds, a growing working corpus in
`fuzz/nightly-out/corpus/<TARGET>/` (gitignored), crash artifacts written to
`fuzz/crashes/<TARGET>/` (gitignored except its README), and returns a
`FuzzResult` with the executions per second libFuzzer reported and the crash
files that appeared. `fuzz/nightly.py` calls `run_target` for every target.

Why a subprocess: libFuzzer owns its process (it calls `exit` at the end and
forks with `-jobs`), and an instrumented import must happen before anything
else imports `impl`, so the target cannot share the CLI's interpreter.

Rules:
1. Exit codes follow impl/cli.py: 0 no crash; 1 a crash (or leak/timeout/OOM
   artifact) was written; 2 usage error (unknown target, missing atheris).
2. Defaults a run always gets, each overridable after `--`: a per-input
   timeout of 10 s (a hang is a finding), an RSS limit of 2048 MB, and
   `-print_final_stats=1` (the source of exec/s); per target, `TARGET_FLAGS`
   (both RESP targets: `-max_len=512`).
3. A crash is replayed by `pytest tests/test_fuzz_corpus.py` once its file
   is moved to `fuzz/regressions/<TARGET>/` with the fix.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from harness.progress import Ticker, wait

__all__ = ["FUZZ_DIR", "TARGETS", "TARGET_FLAGS", "FuzzResult", "register", "run_target"]

#: fuzz/ at the repository root (harness/ is its sibling)
FUZZ_DIR = Path(__file__).resolve().parents[1] / "fuzz"
#: every target, in the order nightly runs them (fuzz/common.py TARGETS)
TARGETS = ("resp", "resp_reader", "aof", "snapshot", "shards_meta", "journal", "dirs")
#: libFuzzer flags every run starts with (rule 2); later flags override them
DEFAULT_FLAGS = ("-timeout=10", "-rss_limit_mb=2048", "-print_final_stats=1")
#: per-target defaults, after DEFAULT_FLAGS and before the caller's flags.
#: RESP: every parser state (count, length, payload, terminator, resumption)
#: is reached within a frame or two, and longer inputs only repeat frames at
#: ~25 us per instrumented frame: 512 bytes keeps ~5,000 exec/s where the
#: corpus-derived limit (~2.5 KB) gave ~1,800. Longer committed inputs and the
#: golden logs still go through every oracle in tests/test_fuzz_corpus.py.
TARGET_FLAGS: dict[str, tuple[str, ...]] = {
    "resp": ("-max_len=512",), "resp_reader": ("-max_len=512",)}

_EXECS = re.compile(rb"stat::number_of_executed_units:\s*(\d+)")
_DONE = re.compile(rb"Done (\d+) runs in (\d+) second")
_EXEC_S = re.compile(rb"exec/s: (\d+)")


@dataclass
class FuzzResult:
    """What one fuzz run did."""

    target: str
    #: wall-clock seconds the subprocess ran
    seconds: float
    #: libFuzzer's exit code (0: no finding)
    returncode: int
    #: inputs executed (summed over workers with --jobs), 0 if not reported
    executions: int = 0
    #: crash/timeout/oom/leak artifacts that appeared during the run
    crashes: list[Path] = field(default_factory=list)
    #: where libFuzzer's output was written
    log: Path | None = None

    @property
    def exec_per_second(self) -> float:
        """Executions per wall-clock second (0 if none were reported)."""
        return self.executions / self.seconds if self.seconds > 0 else 0.0


def _parse_executions(output: bytes) -> int:
    # -print_final_stats gives exact counts (one per worker with -jobs); a run
    # that crashed stops before them, so fall back to the last status line.
    stats = [int(m) for m in _EXECS.findall(output)]
    if stats:
        return sum(stats)
    done = _DONE.findall(output)
    if done:
        return sum(int(runs) for runs, _ in done)
    lines = [line for line in output.splitlines() if line.startswith(b"#")]
    if lines:
        last = lines[-1].split()[0].lstrip(b"#")
        return int(last) if last.isdigit() else 0
    return 0


def run_target(
    target: str,
    *,
    seconds: int,
    jobs: int = 1,
    extra: Sequence[str] = (),
    log: Path | None = None,
    nice: int = 10,
    progress: TextIO | None = None,
) -> FuzzResult:
    """Fuzz `target` for `seconds` (per worker) and report; see the module rules."""
    if target not in TARGETS:
        raise ValueError(f"unknown fuzz target {target!r}; choose one of {', '.join(TARGETS)}")
    crashes = FUZZ_DIR / "crashes" / target
    work = FUZZ_DIR / "nightly-out" / "corpus" / target
    logs = FUZZ_DIR / "nightly-out" / "logs"
    for directory in (crashes, work, logs):
        directory.mkdir(parents=True, exist_ok=True)
    log = log or logs / f"{target}.log"
    before = set(crashes.iterdir())
    cmd = [sys.executable, str(FUZZ_DIR / "targets" / f"{target}.py"), *DEFAULT_FLAGS,
           *TARGET_FLAGS.get(target, ()), f"-max_total_time={seconds}",
           f"-artifact_prefix={crashes}{os.sep}"]
    if jobs > 1:
        cmd += [f"-jobs={jobs}", f"-workers={jobs}"]
    cmd += [*extra, str(work), str(FUZZ_DIR / "corpus" / target)]
    if nice and hasattr(os, "nice"):
        cmd = ["nice", "-n", str(nice), *cmd]
    # With -jobs each worker writes fuzz-<i>.log into the working directory:
    # give every target its own, emptied first, so counts are this run's only.
    workers = logs / f"{target}-workers"
    workers.mkdir(exist_ok=True)
    for stale in workers.glob("fuzz-*.log"):
        stale.unlink()
    started = time.monotonic()
    ticker = Ticker(progress, f"fuzz {target}", float(seconds)) if progress else None

    def inputs_so_far() -> str:
        return f"{_parse_executions(log.read_bytes())} inputs"

    # libFuzzer's own timeout ends a run; this one only guards a wedged child.
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, cwd=workers)
        try:
            if ticker is None:
                proc.wait(timeout=seconds + 300)
            else:
                wait(proc, seconds + 300, ticker, inputs_so_far)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    elapsed = time.monotonic() - started
    if ticker is not None:
        ticker.close(min(elapsed, seconds), inputs_so_far())
    output = log.read_bytes()
    if jobs > 1:
        output += b"".join(p.read_bytes() for p in sorted(workers.glob("fuzz-*.log")))
    found = sorted(p for p in set(crashes.iterdir()) - before if p.name != "README.md")
    return FuzzResult(target, elapsed, proc.returncode, _parse_executions(output), found, log)


def _cmd_fuzz(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        import atheris  # noqa: F401 - only checking it is installed
    except ModuleNotFoundError:
        err.write("kevy-verify: error: atheris is not installed (pip install -e '.[dev]')\n")
        return 2
    # argparse cannot mix options after a positional with a `--` tail (the
    # tail positional is matched, empty, together with TARGET), so everything
    # after TARGET arrives here and is split by hand: our options, then `--`
    # (argparse drops a `--` that directly follows TARGET; anything we do not
    # recognise goes to libFuzzer too).
    rest = list(args.libfuzzer)
    own, extra = (rest[: rest.index("--")], rest[rest.index("--") + 1 :]) if "--" in rest else (
        rest, [])
    try:
        _, unknown = _options(argparse.ArgumentParser(prog="kevy-verify fuzz TARGET",
                                                      add_help=False)).parse_known_args(
            own, namespace=args)
    except SystemExit as exit_:
        return int(exit_.code or 0) or 2
    extra = unknown + extra
    result = run_target(args.target, seconds=args.time, jobs=args.jobs, extra=extra,
                        progress=err)
    out.write(
        f"fuzz {result.target}: {result.executions} inputs in {result.seconds:.0f} s "
        f"({result.exec_per_second:.0f} exec/s), libFuzzer exit {result.returncode}; "
        f"log {result.log}\n"
    )
    for crash in result.crashes:
        out.write(f"  crash: {crash}  (replay: python {FUZZ_DIR}/targets/{args.target}.py "
                  f"{crash})\n")
    return 1 if result.crashes or result.returncode != 0 else 0


def _options(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--time", type=int, default=60, metavar="S",
                   help="seconds to fuzz (per worker; default 60)")
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="parallel libFuzzer workers (default 1)")
    return p


def register(sub: Any) -> None:
    """Add the `fuzz` command to the `kevy-verify` subparsers."""
    p = sub.add_parser(
        "fuzz", help="run one parser fuzz target with atheris (crashes to fuzz/crashes/)",
        description="Fuzz one parser with atheris/libFuzzer in a subprocess. Seeds come from "
        "fuzz/corpus/TARGET, new inputs go to fuzz/nightly-out/corpus/TARGET, crashes to "
        "fuzz/crashes/TARGET. Flags after `--` go to libFuzzer.",
        epilog="Exit codes: 0 no crash; 1 a crash was written; 2 usage error.",
    )
    p.add_argument("target", choices=TARGETS, metavar="TARGET",
                   help=f"one of: {', '.join(TARGETS)}")
    _options(p)
    p.add_argument("libfuzzer", nargs=argparse.REMAINDER, metavar="-- FLAGS",
                   help="libFuzzer flags, e.g. -- -max_len=4096 -dict=FILE")
    p.set_defaults(func=_cmd_fuzz, harness=True)
