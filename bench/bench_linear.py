"""Is every reader linear? Time per MB and peak memory, 1 MB to 100 MB, per verb family.

Issue 12: replaying LPUSH (and a RPUSH/LPOP queue) grew about x3.2 per doubling
of the input, `check` on many unknown verbs x4, and 5 M empty frames (20 MB)
took 1.45 GB. Goal: flat time/MB, and peak RSS <= 4 x input + 64 MB.

Time is the child's CPU time (`time.process_time`), not wall time: on a
shared machine other processes inflate wall time, not CPU time. Each
(family, size) runs in a fresh child process, so its peak RSS
(`ru_maxrss`) is its own; the input file is generated in the child (the
generator's bytes count in the peak, as a reader's input buffer does).
Families:

- `lpush`  replay of `LPUSH l <8 B>` frames (one ever-growing list);
- `queue`  replay of `RPUSH q <8 B>`, `RPUSH q <8 B>`, `LPOP q` (a queue that grows);
- `unknown` `kevy-verify check` of a log of `FOOBAR<i%1000> k v` frames (all skipped);
- `distinct` the same with every verb distinct (`FOOBAR<i>`): one report line per verb;
- `empty`  replay of `*0\\r\\n` frames (4 bytes each: 25 M at 100 MB).

Not a test: nothing asserts on time (the CI-sized linearity property is
tests/test_linear.py, which counts element moves instead).

    nice -n 10 python bench/bench_linear.py                  # 1 2 5 10 20 50 100 MB
    nice -n 10 python bench/bench_linear.py --mb 1 4 16 --families lpush queue
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FAMILIES = ("lpush", "queue", "unknown", "distinct", "empty")
MAGIC = b"KEVYAOF1\n"


def _frame(*argv: bytes) -> bytes:
    return b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv)


def generate(family: str, size: int) -> bytes:
    """A kevy log of about `size` bytes for `family` (deterministic)."""
    # One growing bytearray, not a list of frames: the generator's own peak
    # stays near 2x the input, so the peak RSS measures the reader.
    buf = bytearray(MAGIC)
    i = 0
    while len(buf) < size:
        if family == "lpush":
            buf += _frame(b"LPUSH", b"l", b"%08d" % i)
        elif family == "queue":
            buf += _frame(b"LPOP", b"q") if i % 3 == 2 else _frame(b"RPUSH", b"q", b"%08d" % i)
        elif family == "unknown":
            buf += _frame(b"FOOBAR%d" % (i % 1000), b"k", b"v")
        elif family == "distinct":
            buf += _frame(b"FOOBAR%d" % i, b"k", b"v")
        else:
            buf += b"*0\r\n"
        i += 1
    data = bytes(buf)
    del buf
    return data


def run_one(family: str, mb: float) -> tuple[float, float, int]:
    """In this process: (seconds, peak RSS MB, input bytes)."""
    from impl.cli import main
    from impl.clock import ManualClock
    from impl.keyspace import Keyspace
    from impl.profile import KEVY_1_17
    from impl.replay import replay_bytes

    data = generate(family, int(mb * 10**6))
    if family in ("unknown", "distinct"):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "aof-0.aof")
            with open(path, "wb") as f:
                f.write(data)
            n = len(data)
            del data
            t0 = time.process_time()
            # Output goes to /dev/null, as to a terminal or pipe: not kept in memory.
            with open(os.devnull, "w") as sink:
                main(["check", path, "--now-ms", "0"], out=sink, err=sink)
            dt = time.process_time() - t0
    else:
        n = len(data)
        t0 = time.process_time()
        replay_bytes(data, Keyspace(ManualClock(0)), profile=KEVY_1_17)
        dt = time.process_time() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    return dt, peak, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, nargs="+", default=[1, 2, 5, 10, 20, 50, 100])
    parser.add_argument("--families", nargs="+", choices=FAMILIES, default=list(FAMILIES))
    parser.add_argument("--one", nargs=2, metavar=("FAMILY", "MB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        dt, peak, n = run_one(args.one[0], float(args.one[1]))
        print(f"{dt} {peak} {n}")
        return
    print(f"{'family':8} {'MB':>6} {'cpu s':>8} {'s/MB':>7} {'peak MB':>8} {'limit MB':>8}")
    for family in args.families:
        for mb in args.mb:
            out = subprocess.run(
                [sys.executable, __file__, "--one", family, str(mb)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
            dt, peak, n = float(out[0]), float(out[1]), int(out[2])
            size = n / 1e6
            limit = 4 * size + 64
            flag = "" if peak <= limit else "  OVER"
            print(
                f"{family:8} {size:6.1f} {dt:8.2f} {dt / size:7.3f} {peak:8.0f} {limit:8.0f}{flag}",
                flush=True,
            )


if __name__ == "__main__":
    main()
