"""A snapshot PEL that repeats an entry ID (docs/SPEC.md §3.6 steps 6-7), read as kevy does.

kevy's loader handles PEL rows one at a time: each row replaces any earlier
row with the same ID (last wins), and each row whose owner is missing from
the consumer roster adds that owner with last_seen 0, even when a later row
then replaces the row. So the overwritten row's owner stays in the roster,
with nothing pending.
"""

from __future__ import annotations

import struct

from impl.clock import ManualClock
from impl.keyspace import Keyspace
from impl.snapshot import MAGIC, read_snapshot

NOW = 1_795_392_000_000


def _b(data: bytes) -> bytes:
    return struct.pack("<I", len(data)) + data


def _stream_with_pel(*rows: tuple[int, bytes, int, int]) -> bytes:
    entries = struct.pack("<QQI", 1, 0, 1) + _b(b"f") + _b(b"v")
    pel = b"".join(
        struct.pack("<QQ", ms, 0) + _b(owner) + struct.pack("<QI", when, count)
        for ms, owner, when, count in rows
    )
    groups = (
        struct.pack("<I", 1)
        + _b(b"g")
        + struct.pack("<QQ", 1, 0)
        + struct.pack("<I", 1)
        + _b(b"c1")
        + struct.pack("<Q", 77)
        + struct.pack("<I", len(rows))
        + pel
    )
    rec = (
        b"\x06\x00"
        + _b(b"x")
        + struct.pack("<QQQQQ", 1, 0, 0, 0, 1)
        + struct.pack("<I", 1)
        + entries
        + groups
    )
    return MAGIC + bytes([4]) + rec + b"\x00"


def test_a_repeated_pel_id_keeps_the_last_row_and_every_owner_in_the_roster() -> None:
    data = _stream_with_pel((1, b"ghost", 5, 1), (1, b"c1", 6, 2), (1, b"late", 7, 3))
    ks = Keyspace(ManualClock(NOW))
    report = read_snapshot(data, ks, now_ms=NOW)
    g = ks.raw()[b"x"].value.groups[b"g"]
    assert {sid: (r.owner, r.delivery_ms, r.delivery_count) for sid, r in g.pel.items()} == {
        (1, 0): (b"late", 7, 3)
    }
    # ghost's row was replaced, but kevy added ghost to the roster when it read it.
    assert g.consumers == {b"c1": 77, b"ghost": 0, b"late": 0}
    assert [g.pending_count(c) for c in (b"c1", b"ghost", b"late")] == [0, 0, 1]
    assert [o for _, _, o in report.orphan_pel_owners] == [b"ghost", b"late"]
    assert [(w, n) for _, _, w, n in report.duplicates] == [("pel row", 1), ("pel row", 1)]
