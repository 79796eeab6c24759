"""Throughput of snapshot load and save (impl/snapshot.py), in MB/s.

What: builds a keyspace-shaped data set (mostly short strings, plus hashes,
lists, sets, zsets of ~10 elements and a few streams with groups, ~1 in 10
keys with a TTL), encodes it as a ~100 MB version-4 snapshot, then times
`read_snapshot` (load into a fresh Keyspace) and `save_snapshot` (encode +
write through `OsFileSystem` to a temp dir, fsync, rename).

Why: `check` and `dump` load user snapshots of production size; the target
is a load rate of at least 25 MB/s on a 2-core machine (SPEC-independent,
from the issue). No test asserts on time; this script is run by hand:

    python bench/bench_snapshot.py            # ~100 MB
    python bench/bench_snapshot.py --mb 20    # quicker
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from impl.clock import ManualClock
from impl.fs import OsFileSystem
from impl.keyspace import Keyspace, PelRow, SetValue, Stream, StreamGroup, ZSet
from impl.snapshot import encode_snapshot, live_view, read_snapshot, save_snapshot

NOW = 1_795_392_000_000


def _value(rng: random.Random, i: int) -> object:
    kind = rng.random()
    blob = rng.randbytes
    if kind < 0.6:
        return blob(rng.randint(8, 120))
    if kind < 0.7:
        return {b"field:%d" % j: blob(rng.randint(4, 40)) for j in range(10)}
    if kind < 0.8:
        return [blob(rng.randint(4, 40)) for _ in range(10)]
    if kind < 0.9:
        return SetValue.fromkeys(b"member:%d:%d" % (i, j) for j in range(10))
    if kind < 0.999:
        return ZSet({b"player:%d" % j: rng.uniform(-1e6, 1e6) for j in range(10)})
    entries = {(1_700_000_000_000 + j, 0): [(b"temp", b"%d" % j), (b"site", b"lab")]
               for j in range(50)}
    top = max(entries)
    return Stream(entries=entries, last_id=top, entries_added=50, groups={
        b"workers": StreamGroup(top, {b"w1": NOW, b"w2": NOW},
                                {sid: PelRow(b"w1", NOW, 1) for sid in list(entries)[:5]}),
    })


def build(target_bytes: int, seed: int = 1) -> tuple[Keyspace, bytes]:
    rng = random.Random(seed)
    ks = Keyspace(ManualClock(NOW))
    size = 0
    i = 0
    while size < target_bytes:
        # Grow in batches and measure by encoding, so the file lands near the target.
        batch = Keyspace(ManualClock(NOW))
        for _ in range(20_000):
            ttl = NOW + rng.randint(1, 10**9) if rng.random() < 0.1 else None
            key = b"key:%d:%s" % (i, rng.randbytes(4).hex().encode())
            value = _value(rng, i)
            batch.put(key, value, ttl)  # type: ignore[arg-type]
            ks.put(key, value, ttl)  # type: ignore[arg-type]
            i += 1
        size += len(encode_snapshot(live_view(batch, NOW), NOW))
    return ks, encode_snapshot(live_view(ks, NOW), NOW)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=100.0, help="snapshot size to build (MB)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each measurement")
    args = ap.parse_args()

    t = time.perf_counter()
    src, data = build(int(args.mb * 1e6))
    mb = len(data) / 1e6
    print(f"built {len(src)} keys, {mb:.1f} MB snapshot in {time.perf_counter() - t:.1f} s")

    # Wall time suffers when other processes share the cores; CPU time does not.
    for i in range(args.repeat):
        dst = Keyspace(ManualClock(NOW))
        gc.collect()
        w, c = time.perf_counter(), time.process_time()
        read_snapshot(data, dst)
        w, c = time.perf_counter() - w, time.process_time() - c
        assert len(dst) == len(src)
        del dst
        print(f"load  run {i + 1}: {mb / w:6.1f} MB/s wall ({w:.2f} s), "
              f"{mb / c:6.1f} MB/s cpu ({c:.2f} s)")

    fs = OsFileSystem()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "dump-0.rdb")
        for i in range(args.repeat):
            w, c = time.perf_counter(), time.process_time()
            save_snapshot(fs, src, path, NOW)
            w, c = time.perf_counter() - w, time.process_time() - c
            print(f"save  run {i + 1}: {mb / w:6.1f} MB/s wall ({w:.2f} s), "
                  f"{mb / c:6.1f} MB/s cpu ({c:.2f} s)  [encode + write + fsync + rename]")
        assert os.path.getsize(path) == len(data)


if __name__ == "__main__":
    main()
