"""Hypothesis strategies for keyspaces, shared by every test module.

What: arbitrary values of all six types (binary bytes including empty, zset
scores including -0.0, 5e-324, ±inf and NaNs of both signs, streams with
groups, consumers and PEL rows including tombstones), keyspace rows
`(key, value, deadline_ms | None)` and ready-made `Keyspace`s.

Why: every format in docs/SPEC.md §3–§4 must carry every value; one strategy used by
all modules means a value that breaks one format is tried against the others.

Rules:
1. Streams are *consistent* (what kevy itself can reach): entries ascending
   and ≤ `last_id`, each with ≥ 1 field pair; `entries_added ≥ len` (≥ 1 once `last_id ≠ 0-0`);
   `max_deleted_id ≤ last_id`; a stream with `last_id = 0-0` never had an entry
   (`entries_added = 0`, `max_deleted_id = 0-0`); every PEL owner is in its
   group's roster (the loader would otherwise add it, §3.6 step 7); tombstone
   PEL rows name IDs ≤ `last_id` that are not entries.
2. `allow_empty=False` leaves out zero-element hashes, lists, sets and zsets
   (kevy deletes a collection that becomes empty, §6.4–6.7), for tests that
   replay a rewrite.
3. Deadlines are strictly after `now_ms` (live keys), up to u64 max.
"""

from __future__ import annotations

import math
import struct

from hypothesis import strategies as st

from impl.clock import ManualClock
from impl.keyspace import (
    Keyspace,
    ListValue,
    PelRow,
    SetValue,
    Stream,
    StreamGroup,
    StreamId,
    Value,
    ZSet,
)

__all__ = [
    "KINDS",
    "NEG_NAN",
    "Row",
    "binaries",
    "build_keyspace",
    "keyspace_rows",
    "keyspaces",
    "scores",
    "stream_ids",
    "streams",
    "values",
]

U64_MAX = 2**64 - 1
KINDS = ("string", "hash", "list", "set", "zset", "stream")
#: a quiet NaN with the sign bit set (what `-nan` and ∞ + (−∞) give on x86-64)
NEG_NAN: float = struct.unpack("<d", struct.pack("<Q", 0xFFF8_0000_0000_0000))[0]

Row = tuple[bytes, Value, int | None]


def binaries(max_size: int = 6) -> st.SearchStrategy[bytes]:
    """Arbitrary bytes, biased towards tiny and awkward ones (empty, CRLF, NUL, 0xFF)."""
    return st.one_of(
        st.sampled_from([b"", b"\r\n", b"\x00", b"\xff", b"*1\r\n$1\r\n", b"a"]),
        st.binary(max_size=max_size),
    )


def scores() -> st.SearchStrategy[float]:
    """zset scores: the special values of §4.2/§6.7 plus arbitrary floats (any NaN)."""
    specials = [
        -0.0, 0.0, 5e-324, -5e-324, math.inf, -math.inf, math.nan, NEG_NAN,
        1e-20, 1e17, -1e17, 0.1, 1.5, 3.0, -42.0, 1.7976931348623157e308,
    ]
    return st.one_of(st.sampled_from(specials), st.floats(allow_nan=True, allow_infinity=True))


def stream_ids(max_ms: int = 20) -> st.SearchStrategy[StreamId]:
    """Small IDs that collide often, plus the extremes of u64."""
    part = st.one_of(st.integers(0, max_ms), st.sampled_from([U64_MAX - 1, U64_MAX]))
    return st.tuples(part, st.integers(0, 3) | st.just(U64_MAX))


@st.composite
def streams(draw: st.DrawFn, *, allow_tombstones: bool = True, max_time: int = U64_MAX) -> Stream:
    """A consistent stream (rule 1), with groups, consumers and PEL rows.

    `max_time` bounds last_seen_ms and delivery_time_ms (u64 in the snapshot;
    replay parses XCLAIM's TIME as a signed i64, so replay tests pass 2^63-1).
    """
    ids = sorted(set(draw(st.lists(stream_ids().filter(lambda i: i != (0, 0)), max_size=4))))
    # XADD needs at least one field/value pair, so no reachable entry is empty.
    fields = st.lists(st.tuples(binaries(), binaries()), min_size=1, max_size=3)
    entries = {sid: draw(fields) for sid in ids}
    top = ids[-1] if ids else (0, 0)
    last = draw(st.one_of(st.just(top), stream_ids().filter(lambda i: i >= top)))
    if last == (0, 0):
        added, mxd = 0, (0, 0)
    else:
        added = draw(st.integers(max(len(ids), 1), len(ids) + 5) | st.just(U64_MAX))
        mxd = draw(st.one_of(st.just((0, 0)), st.just(last),
                             stream_ids().filter(lambda i: i <= last)))
    s = Stream(entries=entries, last_id=last, max_deleted_id=mxd, entries_added=added)
    # Tombstones: IDs at or below last_id that are not entries (deleted later).
    gone = [i for i in draw(st.lists(stream_ids(), max_size=3))
            if i not in entries and (0, 0) < i <= last] if allow_tombstones else []
    candidates = sorted(set(ids) | set(gone))
    for name in draw(st.lists(binaries(), max_size=2, unique=True)):
        consumers = draw(st.dictionaries(binaries(), st.integers(0, max_time), max_size=3))
        pel: dict[StreamId, PelRow] = {}
        if consumers and candidates:
            owners = sorted(consumers)
            for sid in draw(st.lists(st.sampled_from(candidates), max_size=4, unique=True)):
                pel[sid] = PelRow(
                    draw(st.sampled_from(owners)),
                    draw(st.integers(0, max_time)),
                    draw(st.integers(0, 2**32 - 1)),
                )
        delivered = draw(st.one_of(st.just(last), st.just((0, 0)),
                                   stream_ids().filter(lambda i: i <= last)))
        s.groups[name] = StreamGroup(last_delivered=delivered, consumers=consumers, pel=pel)
    return s


def values(
    kind: str | None = None, *, allow_empty: bool = True, max_time: int = U64_MAX
) -> st.SearchStrategy[Value]:
    """A value of type `kind` (any of KINDS if None)."""
    lo = 0 if allow_empty else 1
    by_kind: dict[str, st.SearchStrategy[Value]] = {
        "string": binaries(12),
        "hash": st.dictionaries(binaries(), binaries(), min_size=lo, max_size=4),
        "list": st.lists(binaries(), min_size=lo, max_size=5).map(ListValue),
        "set": st.lists(binaries(), min_size=lo, max_size=5).map(SetValue.fromkeys),
        "zset": st.dictionaries(binaries(), scores(), min_size=lo, max_size=5).map(ZSet),
        "stream": streams(max_time=max_time),
    }
    if kind is not None:
        return by_kind[kind]
    return st.one_of(*by_kind.values())


def _deadline(now_ms: int) -> st.SearchStrategy[int | None]:
    return st.one_of(
        st.none(),
        st.integers(now_ms + 1, now_ms + 10**10),
        st.sampled_from([now_ms + 1, U64_MAX]),
    )


def keyspace_rows(
    now_ms: int,
    *,
    allow_empty: bool = True,
    max_keys: int = 8,
    kinds: tuple[str, ...] = KINDS,
    max_time: int = U64_MAX,
) -> st.SearchStrategy[list[Row]]:
    """Distinct keys with values and live deadlines (rule 3), in a random order."""
    value = st.one_of(*(values(k, allow_empty=allow_empty, max_time=max_time) for k in kinds))
    return st.lists(
        st.tuples(binaries(8), value, _deadline(now_ms)),
        max_size=max_keys,
        unique_by=lambda row: row[0],
    )


def build_keyspace(rows: list[Row], now_ms: int) -> Keyspace:
    """A Keyspace on a ManualClock at `now_ms` holding `rows` in order."""
    ks = Keyspace(ManualClock(now_ms))
    for key, value, deadline in rows:
        ks.put(key, value, deadline)
    return ks


def keyspaces(now_ms: int, **kwargs: object) -> st.SearchStrategy[Keyspace]:
    """Ready-made keyspaces (see `keyspace_rows` for the keyword arguments)."""
    return keyspace_rows(now_ms, **kwargs).map(  # type: ignore[arg-type]
        lambda rows: build_keyspace(rows, now_ms)
    )
