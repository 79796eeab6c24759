#!/usr/bin/env python3
"""Fuzz target: KEVYSNAP snapshots (impl/snapshot.py, docs/SPEC.md §3).

What `check(data)` asserts, beyond "no exception":

1. Only `SnapshotTruncated` / `SnapshotCorrupt` escape `read_snapshot`, with
   `0 <= offset <= at <= len(data)`; a truncation always points at the end of
   the input (a short read, §3.6 step 8) and the number of records it reports
   as loaded matches the report it carries.
2. Memory: the load's peak allocation is at most 48 × len + 256 KiB
   (sampled): counts and lengths are never trusted before their bytes exist
   (§3.6 step 8 says kevy allocates from them; docs/SPEC.md §0 says we must not).
3. Round trip: whatever was loaded (also the records before an error, which
   stay in the store) saves with `encode_snapshot` and loads again to the same
   keyspace — equal canonical JSON (`impl.keyspace_json.document`, compared
   with `same_keyspace` at zero TTL tolerance), equal zset score *bits*
   (JSON prints every NaN alike), equal stream groups — and the re-saved file
   is byte-identical when saved a second time (the writer is deterministic).
   The one deliberate difference: a v2 TTL re-anchored past u64 saturates on
   write (§3.5 step 2), so expected deadlines are clamped to 2**64-1.

Why: a snapshot decides what survives a crash; a loader that accepts bytes
kevy refuses, or a writer whose output does not read back the same, loses data.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # run as a script: make the repository importable
    sys.path[0] = str(Path(__file__).resolve().parents[2])

from fuzz.common import FuzzFinding, check_error, instrumented, measured

with instrumented(__name__):
    from impl.clock import ManualClock
    from impl.keyspace import Keyspace, Stream, ZSet
    from impl.keyspace_json import describe_difference, document
    from impl.numbers import U64_MAX, float_bits
    from impl.snapshot import (
        SnapshotCorrupt,
        SnapshotReport,
        SnapshotTruncated,
        encode_snapshot,
        live_view,
        read_snapshot,
    )

__all__ = ["NOW_MS", "TestOneInput", "check"]

#: the wall clock of every load and save: fixed so a check is deterministic
NOW_MS = 1_700_000_000_000
#: peak bytes allowed per input byte while loading (rule 2): the densest
#: input is a set of 5-byte distinct members, each a bytes object plus a
#: dict slot (~100 bytes of Python objects)
MEMORY_FACTOR = 48


def _load(data: bytes) -> tuple[Keyspace, SnapshotReport | None, BaseException | None]:
    ks = Keyspace(ManualClock(NOW_MS))
    try:
        return ks, read_snapshot(data, ks, now_ms=NOW_MS), None
    except Exception as err:  # the oracle classifies whatever escapes
        return ks, None, err


def _zset_bits(ks: Keyspace) -> dict[bytes, list[tuple[bytes, int]]]:
    return {
        key: [(m, float_bits(s)) for m, s in entry.value.ordered()]
        for key, entry in ks.live_items(NOW_MS)
        if isinstance(entry.value, ZSet)
    }


def _streams(ks: Keyspace) -> dict[bytes, Stream]:
    return {k: e.value for k, e in ks.live_items(NOW_MS) if isinstance(e.value, Stream)}


def _clamped(ks: Keyspace) -> Keyspace:
    # §3.5 step 2: the written deadline saturates at u64 (v2 TTLs can exceed it).
    for entry in ks.raw().values():
        if entry.deadline_ms is not None and entry.deadline_ms > U64_MAX:
            entry.deadline_ms = U64_MAX
    return ks


def check(data: bytes) -> None:
    """All oracles of the module docstring on one input."""
    ks, report, err = measured(lambda: _load(data), len(data), MEMORY_FACTOR, "read_snapshot")
    if err is not None:
        check_error(err, data, (SnapshotTruncated, SnapshotCorrupt))
        assert isinstance(err, (SnapshotTruncated, SnapshotCorrupt))
        if isinstance(err, SnapshotTruncated) and err.at != len(data):
            raise FuzzFinding(f"truncation at byte {err.at}, not at the end {len(data)}: {err}")
        if err.report is not None and err.records_loaded != err.report.records:
            raise FuzzFinding(f"{err.records_loaded} records loaded but report says "
                              f"{err.report.records}")
    elif report is None or report.records < 0:
        raise FuzzFinding("read_snapshot returned no report")
    _clamped(ks)
    expected = document(ks, NOW_MS)
    saved = encode_snapshot(live_view(ks, NOW_MS), NOW_MS)
    again = Keyspace(ManualClock(NOW_MS))
    try:
        read_snapshot(saved, again, now_ms=NOW_MS)
    except (SnapshotTruncated, SnapshotCorrupt) as reread:
        raise FuzzFinding(f"a saved snapshot does not load: {reread}") from reread
    difference = describe_difference(expected, document(again, NOW_MS), tolerance_ms=0)
    if difference is not None:
        raise FuzzFinding(f"save + load changed the keyspace: {difference}")
    if _zset_bits(ks) != _zset_bits(again):
        raise FuzzFinding("save + load changed a zset score's bits")
    if _streams(ks) != _streams(again):
        raise FuzzFinding("save + load changed a stream (groups, consumers or PEL)")
    if encode_snapshot(live_view(again, NOW_MS), NOW_MS) != saved:
        raise FuzzFinding("saving the reloaded keyspace gives different bytes")


def TestOneInput(data: bytes) -> None:  # atheris's conventional name
    check(data)


if __name__ == "__main__":
    import atheris

    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
