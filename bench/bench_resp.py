"""Throughput of impl/resp.py's AOF parsing on a generated AOF.

Generates (deterministically, seed 17) an AOF of SET/HSET/RPUSH/ZADD frames
with 16–512-byte values, then times three ways of reading every frame's argv:
the AOF scan used by replay/dump/check, a `parse_frame` loop, and a
`FrameReader` fed 64 KiB chunks. Prints MB/s (1 MB = 10**6 bytes) for each.
The target for the scan is >= 30 MB/s on a 2-core machine. Not a test: nothing
here asserts on time.

    python bench/bench_resp.py            # 100 MB, best of 3
    python bench/bench_resp.py --mb 20 --repeat 1
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from impl.resp import (
    MAGIC,
    NEED_DATA,
    FrameReader,
    Outcome,
    encode_frame,
    parse_frame,
    scan_aof,
)


def generate_aof(size: int, seed: int = 17) -> bytes:
    """An AOF image of at least `size` bytes: MAGIC, then a realistic verb mix."""
    rng = random.Random(seed)
    pool = rng.randbytes(1 << 20)  # values are slices of it: cheap yet varied

    def value() -> bytes:
        n = rng.randint(16, 512)
        at = rng.randrange(len(pool) - n)
        return pool[at : at + n]

    parts = [MAGIC]
    total = len(MAGIC)
    while total < size:
        key = b"key:%d" % rng.randrange(100_000)
        verb = rng.randrange(4)
        if verb == 0:
            argv = [b"SET", key, value()]
        elif verb == 1:
            argv = [b"HSET", key]
            for _ in range(rng.randint(1, 4)):
                argv += [b"field:%d" % rng.randrange(50), value()]
        elif verb == 2:
            argv = [b"RPUSH", key] + [value() for _ in range(rng.randint(1, 4))]
        else:
            argv = [b"ZADD", key]
            for _ in range(rng.randint(1, 4)):
                argv += [repr(rng.uniform(-1e6, 1e6)).encode(), value()]
        frame = encode_frame(argv)
        parts.append(frame)
        total += len(frame)
    return b"".join(parts)


def via_scan(data: bytes) -> int:
    scan = scan_aof(data)
    args = 0
    for frame in scan.frames:
        args += len(frame.argv)
    if scan.outcome is not Outcome.CLEAN:
        raise SystemExit(f"generated AOF did not scan clean: {scan!r}")
    return args


def via_parse_frame(data: bytes) -> int:
    pos, args = len(MAGIC), 0
    while pos < len(data):
        frame = parse_frame(data, pos)
        if frame is NEED_DATA:
            raise SystemExit(f"unexpected NEED_DATA at {pos}")
        args += len(frame.argv)
        pos = frame.end
    return args


def via_reader(data: bytes, chunk: int = 1 << 16) -> int:
    reader = FrameReader(aof=True)
    args = 0
    view = memoryview(data)
    for at in range(0, len(data), chunk):
        reader.feed(view[at : at + chunk])
        for frame in reader.frames():
            args += len(frame.argv)
    if reader.eof() is not Outcome.CLEAN:
        raise SystemExit("FrameReader did not end clean")
    return args


def best_rate(fn: Callable[[bytes], int], data: bytes, repeat: int) -> tuple[float, int]:
    best = float("inf")
    args = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        args = fn(data)
        best = min(best, time.perf_counter() - t0)
    return len(data) / best / 1e6, args


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100.0, help="AOF size in MB (10**6 bytes)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per method; best is shown")
    parser.add_argument("--save", type=Path, help="also write the generated AOF here")
    opts = parser.parse_args(argv)

    t0 = time.perf_counter()
    data = generate_aof(int(opts.mb * 1e6))
    print(f"generated {len(data) / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s")
    if opts.save:
        opts.save.write_bytes(data)
    for name, fn in [
        ("scan_aof().frames", via_scan),
        ("parse_frame loop", via_parse_frame),
        ("FrameReader 64 KiB", via_reader),
    ]:
        rate, args = best_rate(fn, data, opts.repeat)
        print(f"{name:20} {rate:8.1f} MB/s  ({args} args)")


if __name__ == "__main__":
    main()
