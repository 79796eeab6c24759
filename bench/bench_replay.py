"""Throughput of AOF replay into a keyspace (impl/replay.py + impl/commands.py).

Uses the same deterministic generator as bench_resp.py (SET/HSET/RPUSH/ZADD,
16–512-byte values, seed 17) and times `replay_bytes` of the whole image into
a fresh keyspace under each profile. Prints MB/s (1 MB = 10**6 bytes). The
target is >= 12 MB/s on a 2-core machine. Not a test: nothing asserts on time.

    python bench/bench_replay.py            # 100 MB, best of 3
    python bench/bench_replay.py --mb 20 --repeat 1
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_resp import generate_aof

from impl.clock import ManualClock
from impl.keyspace import Keyspace
from impl.profile import get_profile
from impl.replay import replay_bytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=100, help="size of the generated AOF")
    parser.add_argument("--repeat", type=int, default=3, help="runs per profile (best wins)")
    args = parser.parse_args()
    data = generate_aof(args.mb * 10**6)
    print(f"generated AOF: {len(data) / 1e6:.1f} MB")
    for name in ("kevy-1.17", "hardened"):
        profile = get_profile(name)
        best = float("inf")
        for _ in range(args.repeat):
            ks = Keyspace(ManualClock(1_795_392_000_000))
            gc.collect()
            start = time.perf_counter()
            report = replay_bytes(data, ks, profile=profile)
            best = min(best, time.perf_counter() - start)
            assert report.outcome.value == "clean", report.outcome
            del ks
        print(f"replay ({name}): {len(data) / 1e6 / best:6.1f} MB/s "
              f"({report.frames} frames, {best:.2f} s)")


if __name__ == "__main__":
    main()
