"""Linearity of replay and `check`: time per MB and peak memory, 1 MB to 100 MB.

For each verb family a deterministic log of the given size is generated and,
in a fresh child process per (family, size) so peak RSS is that run's alone,
replayed (`replay_bytes`) and checked (`kevy-verify check`). Printed per row:
seconds per MB for each, and the child's peak RSS against the issue's bound
`4 x input + 64 MB`. Flat s/MB down a family's rows means linear. Not a test:
nothing asserts on time.

Families: `lpush` (one list grown at the head), `queue` (RPUSH then LPOP: a
list that stays short while the log grows), `set` (SET of distinct keys),
`unknown` (distinct verbs kevy does not know: every frame is a skipped verb),
`empty` (empty multibulk frames `*0`).

    python bench/bench_linear.py                     # 1, 10, 100 MB
    python bench/bench_linear.py --sizes 1 4 16 --families lpush queue
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from impl.resp import encode_frame  # noqa: E402

FAMILIES = ("lpush", "queue", "set", "unknown", "empty")
MB = 10**6


def generate(family: str, size: int) -> bytes:
    """About `size` bytes of one family's frames (deterministic)."""
    out = bytearray(b"KEVYAOF1\n")
    i = 0
    while len(out) < size:
        if family == "lpush":
            out += encode_frame([b"LPUSH", b"l", b"v%08d" % i])
        elif family == "queue":
            out += encode_frame([b"RPUSH", b"q", b"v%08d" % i])
            out += encode_frame([b"LPOP", b"q"])
        elif family == "set":
            out += encode_frame([b"SET", b"k%09d" % i, b"v"])
        elif family == "unknown":
            out += encode_frame([b"NOSUCH%08d" % i, b"k"])
        else:
            out += b"*0\r\n"
        i += 1
    return bytes(out)


def child(path: str, mode: str) -> None:
    """Run one measurement and print JSON (seconds, peak RSS bytes)."""
    from impl.cli import main
    from impl.clock import ManualClock
    from impl.keyspace import Keyspace
    from impl.profile import get_profile
    from impl.replay import replay_bytes

    data = Path(path).read_bytes()
    start = time.perf_counter()
    if mode == "replay":
        replay_bytes(data, Keyspace(ManualClock(0)), profile=get_profile("kevy-1.17"))
    else:
        main(["check", "--now-ms", "0", path], out=io.StringIO(), err=io.StringIO())
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "peak": peak}))


def measure(path: Path, mode: str) -> dict[str, float]:
    r = subprocess.run([sys.executable, __file__, "--child", str(path), mode],
                       capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(r.stdout)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100], help="MB per log")
    p.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    p.add_argument("--child", nargs=2, metavar=("PATH", "MODE"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(*args.child)
        return
    print(f"{'family':8} {'MB':>5} {'replay s/MB':>11} {'check s/MB':>10} "
          f"{'peak MB':>8} {'bound MB':>8}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for family in args.families:
            for mb in args.sizes:
                path = Path(tmp) / "aof-0.aof"
                data = generate(family, mb * MB)
                path.write_bytes(data)
                size_mb = len(data) / MB
                rep, chk = measure(path, "replay"), measure(path, "check")
                peak = max(rep["peak"], chk["peak"]) / MB
                bound = 4 * size_mb + 64
                flag = "" if peak <= bound else "  OVER"
                print(f"{family:8} {size_mb:5.0f} {rep['seconds'] / size_mb:11.3f} "
                      f"{chk['seconds'] / size_mb:10.3f} {peak:8.0f} {bound:8.0f}{flag}",
                      flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
