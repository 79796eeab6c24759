"""KEVYSNAP snapshots: read versions 2..4, write version 4, tmp-then-rename save.

What: `read_snapshot` loads a snapshot's records into a `Keyspace` exactly as
kevy 1.17's loader does (docs/SPEC.md §3.6) and returns a `SnapshotReport` of
everything `check` wants to flag; `encode_snapshot` produces the version-4
bytes kevy's writer produces (§3.2–3.5); `write_snapshot_tmp`, `save_snapshot`
and `load_snapshot` are the file-level protocols of §3.8, through the
`FileSystem` seam; `freeze` builds the point-in-time view a save writes (§9.3).

Why: snapshots are half of what survives a crash. The loader decides which
bytes become data, so it must accept, reject and collapse exactly what kevy
does; the writer must produce files kevy reads back.

Rules:
1. Reader contract: the whole file is in memory; `read_snapshot` returns a
   report or raises a `SnapshotTruncated` (short read anywhere, §3.6 step 8)
   or `SnapshotCorrupt` (bad magic, bad version, unknown opcode). Nothing else
   escapes: no IndexError, no struct.error.
2. Order of reads is kevy's: opcode, then TTL, then key, and only then is the
   opcode validated (§3.6 step 4). So a short read inside the TTL or key of a
   record with an unknown opcode is a truncation, not an unknown opcode.
3. Never allocate from a declared size. kevy allocates buffers from counts and
   lengths before reading (§3.6 step 8); we first check that the declared
   bytes exist (a count of n elements needs at least n × the element's minimum
   size), so `u32 n = 0xFFFFFFFF` with three bytes left costs O(1).
4. A record is inserted only once it is complete; records before an error stay
   in the store (§3.6 step 8), and the error says how many were loaded.
5. Deadlines are exact absolute Unix ms (impl/keyspace.py rule 1): v3/v4
   `deadline = now + max(0, stored − now)`, v2 `deadline = now + stored`
   (§3.4, §3.5 step 5). A remaining of 0 still inserts the (expired) key.
6. Within a record duplicates collapse as in kevy (§3.6 step 6); the report
   counts them, since a kevy writer never produces them.
7. The writer emits TTL flag `00`/`01` only, u32 lengths and counts, zset
   members ascending (§6.7), PEL rows ascending including tombstones (§3.3).
"""

from __future__ import annotations

import gc
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from impl.errors import CorruptInput, DecodeError, KevyVerifyError, TruncatedInput
from impl.fs import FileSystem, dirname, write_all
from impl.keyspace import (
    Entry,
    Keyspace,
    ListValue,
    PelRow,
    SetValue,
    Stream,
    StreamGroup,
    StreamId,
    Value,
    ZSet,
    format_id,
)
from impl.numbers import U64_MAX
from impl.profile import KEVY_1_17, SWITCHES, Profile

__all__ = [
    "CHUNK_SIZE",
    "DIR_FSYNC_SWITCH",
    "MAGIC",
    "OPCODES",
    "VERSION",
    "FrozenView",
    "SnapshotCorrupt",
    "SnapshotItem",
    "SnapshotReport",
    "SnapshotTruncated",
    "UnrepresentableValue",
    "copy_value",
    "encode_record",
    "encode_records",
    "encode_snapshot",
    "freeze",
    "live_view",
    "load_snapshot",
    "read_snapshot",
    "save_snapshot",
    "source_items",
    "write_snapshot_tmp",
]

#: docs/SPEC.md §3.2: the 8 magic bytes that open every snapshot.
MAGIC = b"KEVYSNAP"
#: docs/SPEC.md §3.4: the version kevy 1.17 writes.
VERSION = 4
#: docs/SPEC.md §3.4: versions the loader accepts.
_READABLE_VERSIONS = (2, 3, 4)
#: docs/SPEC.md §3.8: kevy writes snapshots through a 1 MiB user-space buffer.
CHUNK_SIZE = 1 << 20
#: docs/SPEC.md §3.2: opcode → type name (0 is the EOF marker).
OPCODES = {1: "string", 2: "hash", 3: "list", 4: "set", 5: "zset", 6: "stream"}
_OPCODE_OF = {
    bytes: 1, dict: 2, list: 3, ListValue: 3, SetValue: 4, ZSet: 5, Stream: 6,
}
_U32_MAX = 0xFFFF_FFFF

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_F64 = struct.Struct("<d")
_ID = struct.Struct("<QQ")
_STREAM_SCALARS = struct.Struct("<QQQQQ")
_PEL_HEAD = struct.Struct("<QQI")  # ms, seq, owner length
_PEL_TAIL = struct.Struct("<QI")  # delivery_time_ms, delivery_count
_FLAG_LEN = struct.Struct("<BI")  # TTL flag, then (no TTL) the key length
_TTL_LEN = struct.Struct("<QI")  # TTL value, then the key length

#: One row of a snapshot source: (key, value, remaining ms or None for no TTL).
SnapshotItem = tuple[bytes, Value, int | None]

#: The fix switch a later change may register to fsync the directory after the
#: rename (kevy 1.17 never does, docs/SPEC.md §2.8). Not registered here on purpose:
#: crash-safety switches are registered with their finding. Once registered,
#: `save_snapshot(..., profile=...)` honours it without further changes.
DIR_FSYNC_SWITCH = "fsync_snapshot_dir"


# --------------------------------------------------------------------------
# Errors.


class _SnapshotProgress(DecodeError):
    """How far a failed load got: `records_loaded` records were inserted
    before the fault, and `report` is what was seen up to there."""

    unit = "snapshot record"

    def __init__(
        self,
        message: str,
        *,
        offset: int,
        at: int | None = None,
        expected: str | None = None,
        got: bytes | None = None,
        path: str | None = None,
        records_loaded: int = 0,
        report: SnapshotReport | None = None,
    ) -> None:
        super().__init__(message, offset=offset, at=at, expected=expected, got=got, path=path)
        self.records_loaded = records_loaded
        self.report = report


class SnapshotTruncated(_SnapshotProgress, TruncatedInput):
    """The snapshot ends inside a record (or its header): a short read (§3.6 step 8).

    `offset` is the start of the record, `at` the byte where data ran out
    (always the file length).
    """


class SnapshotCorrupt(_SnapshotProgress, CorruptInput):
    """Snapshot bytes present and wrong: bad magic, bad version, unknown opcode (§3.6)."""


class UnrepresentableValue(KevyVerifyError, ValueError):
    """A value cannot be written in the KEVYSNAP format (a length over u32, an ID over u64).

    kevy 1.17 truncates such lengths with `as u32` (§3.5 step 3) and so writes a
    file that no longer parses; we refuse instead of writing garbage.
    """

    def __init__(self, key: bytes, what: str, value: int, limit: int) -> None:
        super().__init__(
            f"key {key[:32]!r}: {what} {value} does not fit the snapshot format "
            f"(maximum {limit}); kevy 1.17 would truncate it and write an unreadable file"
        )
        self.key = key
        self.what = what
        self.value = value
        self.limit = limit


class _Short(Exception):
    """Internal: the data ran out while reading a record (converted at the boundary)."""


# --------------------------------------------------------------------------
# The report.


@dataclass
class SnapshotReport:
    """What a load saw, beyond the keys themselves: everything `check` flags.

    Offsets are record starts (the opcode byte) in the file.
    """

    #: the version byte (2, 3 or 4)
    version: int
    #: the wall clock the TTLs were converted against (§3.6 step 3)
    now_ms: int
    #: records inserted (EOF marker not counted)
    records: int = 0
    #: records per type name ("string", "hash", ...)
    by_type: dict[str, int] = field(default_factory=dict)
    #: offset of the EOF opcode, once reached
    eof_offset: int | None = None
    #: bytes after the EOF opcode (ignored by kevy; never written by kevy)
    trailing_offset: int | None = None
    trailing_bytes: int = 0
    #: (record offset, flag byte) for TTL flags other than 00/01 (read as "no TTL")
    odd_ttl_flags: list[tuple[int, int]] = field(default_factory=list)
    #: (record offset, key) for TTL'd records whose deadline had passed: loaded expired
    expired_on_load: list[tuple[int, bytes]] = field(default_factory=list)
    #: (record offset, key) for records that replaced a key already in the store
    replaced: list[tuple[int, bytes]] = field(default_factory=list)
    #: (record offset, key, what, n) duplicates collapsed inside one record:
    #: what ∈ hash field, set member, zset member, stream entry, group, consumer, pel row
    duplicates: list[tuple[int, bytes, str, int]] = field(default_factory=list)
    #: (record offset, key, what, id text) stream entry IDs / PEL rows out of ascending order
    non_ascending: list[tuple[int, bytes, str, str]] = field(default_factory=list)
    #: (record offset, key, owner) PEL owners absent from the roster, added with last_seen 0
    orphan_pel_owners: list[tuple[int, bytes, bytes]] = field(default_factory=list)

    def findings(self) -> list[str]:
        """One line per oddity a kevy 1.17 writer would never produce."""
        out = []
        if self.trailing_offset is not None:
            out.append(f"{self.trailing_bytes} bytes after the EOF marker at offset "
                       f"{self.trailing_offset} (ignored)")
        out += [f"record at offset {o}: TTL flag 0x{f:02x} read as 'no TTL'"
                for o, f in self.odd_ttl_flags]
        out += [f"record at offset {o}: key {k[:32]!r} repeats an earlier key (replaced)"
                for o, k in self.replaced]
        out += [f"record at offset {o}: key {k[:32]!r}: {n} duplicate {w}(s) collapsed"
                for o, k, w, n in self.duplicates]
        out += [f"record at offset {o}: key {k[:32]!r}: {w} {i} not in ascending order"
                for o, k, w, i in self.non_ascending]
        out += [f"record at offset {o}: key {k[:32]!r}: PEL owner {c[:32]!r} not in the "
                f"consumer roster (added with last_seen 0)" for o, k, c in self.orphan_pel_owners]
        return out


# --------------------------------------------------------------------------
# Reader.


def _bytes_list(data: bytes, pos: int, end: int, n: int) -> tuple[list[bytes], int]:
    """n × BYTES starting at pos. Raises _Short / struct.error when data runs out."""
    if 4 * n > end - pos:  # rule 3: each element needs ≥ 4 bytes; check before looping
        raise _Short
    out: list[bytes] = []
    append = out.append
    u32 = _U32.unpack_from
    for _ in range(n):
        (ln,) = u32(data, pos)
        q = pos + 4
        pos = q + ln
        # A slice past the end is silently short, but then pos > end and the next
        # unpack_from raises; the check after the loop covers the last element.
        append(data[q:pos])
    if pos > end:
        raise _Short
    return out, pos


def _read_zset(data: bytes, pos: int, end: int, n: int) -> tuple[dict[bytes, float], int]:
    if 12 * n > end - pos:
        raise _Short
    scores: dict[bytes, float] = {}
    u32 = _U32.unpack_from
    f64 = _F64.unpack_from
    for _ in range(n):
        (ln,) = u32(data, pos)
        pos += 4
        q = pos + ln
        if q + 8 > end:
            raise _Short
        # '<d' unpacking copies the 8 bytes, so every NaN payload survives.
        (scores[data[pos:q]],) = f64(data, q)
        pos = q + 8
    return scores, pos


def _read_stream(
    data: bytes, pos: int, end: int, version: int, rec: int, key: bytes, report: SnapshotReport
) -> tuple[Stream, int]:
    lm, ls, dm, ds, added = _STREAM_SCALARS.unpack_from(data, pos)
    pos += 40
    (n,) = _U32.unpack_from(data, pos)
    pos += 4
    if 20 * n > end - pos:  # id (16) + field count (4) per entry
        raise _Short
    entries: dict[StreamId, list[tuple[bytes, bytes]]] = {}
    prev: StreamId | None = None
    bad_order = 0
    for _ in range(n):
        sid = _ID.unpack_from(data, pos)
        (nf,) = _U32.unpack_from(data, pos + 16)
        flat, pos = _bytes_list(data, pos + 20, end, 2 * nf)
        it = iter(flat)
        if prev is not None and sid <= prev:
            bad_order += 1
            if bad_order == 1:
                report.non_ascending.append((rec, key, "stream entry", format_id(sid)))
        prev = sid
        entries[sid] = list(zip(it, it, strict=True))
    if len(entries) < n:
        report.duplicates.append((rec, key, "stream entry", n - len(entries)))
    st = Stream(entries=entries, last_id=(lm, ls), max_deleted_id=(dm, ds), entries_added=added)
    if version < 4:  # §3.4: only v4 carries the group section
        return st, pos
    (ng,) = _U32.unpack_from(data, pos)
    pos += 4
    if 28 * ng > end - pos:  # name length + last_delivered + two counts
        raise _Short
    for _ in range(ng):
        (ln,) = _U32.unpack_from(data, pos)
        pos += 4
        q = pos + ln
        if q > end:
            raise _Short
        name = data[pos:q]
        group = StreamGroup(last_delivered=_ID.unpack_from(data, q))
        pos = q + 16
        (nc,) = _U32.unpack_from(data, pos)
        pos += 4
        if 12 * nc > end - pos:
            raise _Short
        for _ in range(nc):
            (ln,) = _U32.unpack_from(data, pos)
            pos += 4
            q = pos + ln
            if q > end:
                raise _Short
            cname = data[pos:q]
            if cname in group.consumers:
                report.duplicates.append((rec, key, "consumer", 1))
            (group.consumers[cname],) = _U64.unpack_from(data, q)
            pos = q + 8
        (npel,) = _U32.unpack_from(data, pos)
        pos += 4
        if 32 * npel > end - pos:
            raise _Short
        prev = None
        for _ in range(npel):
            ms, seq, ln = _PEL_HEAD.unpack_from(data, pos)
            pos += 20
            q = pos + ln
            if q > end:
                raise _Short
            owner = data[pos:q]
            when, count = _PEL_TAIL.unpack_from(data, q)
            pos = q + 12
            sid = (ms, seq)
            if prev is not None and sid <= prev:
                report.non_ascending.append((rec, key, "pel row", format_id(sid)))
            prev = sid
            if sid in group.pel:
                report.duplicates.append((rec, key, "pel row", 1))
            group.pel[sid] = PelRow(owner, when, count)
            # §3.6 step 7, row by row as kevy's loader reads them: an owner
            # missing from the roster joins it with last_seen 0, even if a later
            # row with the same ID replaces this one (a consumer with nothing
            # pending). Pending counts are derived from the PEL (pending_count).
            if owner not in group.consumers:
                group.consumers[owner] = 0
                report.orphan_pel_owners.append((rec, key, owner))
        if name in st.groups:
            report.duplicates.append((rec, key, "group", 1))
        st.groups[name] = group
    return st, pos


_E = TypeVar("_E", SnapshotTruncated, SnapshotCorrupt)


def _header(err: _E) -> _E:
    err.unit = "snapshot header"
    return err


def read_snapshot(data: bytes, ks: Keyspace, *, now_ms: int | None = None) -> SnapshotReport:
    """Load a KEVYSNAP file's records into `ks` (docs/SPEC.md §3.6); return what was seen.

    `now_ms` is the wall clock used for TTL conversion (default: `ks.clock`).
    Raises `SnapshotCorrupt` (bad magic / version / unknown opcode) or
    `SnapshotTruncated` (any short read); records before the error stay in `ks`.
    """
    # A load creates millions of small acyclic containers that all survive; the
    # cyclic collector would traverse the growing heap again and again for
    # nothing (measured: 100 MB loads ~1.7x slower). Pause it for the load only.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _read(data, ks, now_ms)
    finally:
        if was_enabled:
            gc.enable()


def _read(data: bytes, ks: Keyspace, now_ms: int | None) -> SnapshotReport:
    if not isinstance(data, bytes):
        data = bytes(data)
    end = len(data)
    if end < 8:
        # kevy's read_exact of the magic fails with UnexpectedEof here. We call it a
        # truncation only if what is present could still become the magic.
        if MAGIC.startswith(data):
            raise _header(SnapshotTruncated("file ends inside the magic", offset=0, at=end,
                                            expected=repr(MAGIC), got=data))
        raise _header(SnapshotCorrupt("kevy snapshot: bad magic", offset=0,
                                      expected=repr(MAGIC), got=data))
    if data[:8] != MAGIC:
        raise _header(SnapshotCorrupt("kevy snapshot: bad magic", offset=0,
                                      expected=repr(MAGIC), got=data[:8]))
    if end < 9:
        raise _header(SnapshotTruncated("file ends before the version byte", offset=8, at=end))
    version = data[8]
    if version not in _READABLE_VERSIONS:
        raise _header(SnapshotCorrupt("kevy snapshot: bad version", offset=8,
                                      expected="a version in 2..=4", got=data[8:9]))
    now = ks.clock.now_ms() if now_ms is None else now_ms
    report = SnapshotReport(version=version, now_ms=now)
    by_type = [0] * 7  # records per opcode
    table = ks.raw()
    u32 = _U32.unpack_from
    flag_len = _FLAG_LEN.unpack_from
    ttl_len = _TTL_LEN.unpack_from
    relative = version == 2
    pos = 9
    rec = pos
    records = 0
    try:
        while True:
            rec = pos
            if pos >= end:
                raise _Short
            op = data[pos]
            if op == 0:
                report.eof_offset = pos
                pos += 1
                if pos < end:
                    report.trailing_offset = pos
                    report.trailing_bytes = end - pos
                break
            # One unpack for the TTL flag and, when there is no TTL, the key length.
            flag, ln = flag_len(data, pos + 1)
            deadline: int | None = None
            if flag == 1:
                stored, ln = ttl_len(data, pos + 2)
                pos += 14
                # Rule 5: v2 stores remaining ms; v3/v4 an absolute deadline.
                deadline = now + stored if relative else max(now, stored)
            else:
                pos += 6
                if flag != 0:
                    report.odd_ttl_flags.append((rec, flag))
            q = pos + ln
            if q > end:
                raise _Short
            key = data[pos:q]
            pos = q
            # Rule 2: the opcode is judged only after TTL and key were read.
            value: Value
            if op == 1:
                (ln,) = u32(data, pos)
                pos += 4
                q = pos + ln
                if q > end:
                    raise _Short
                value = data[pos:q]
                pos = q
            elif op == 3:
                (n,) = u32(data, pos)
                value, pos = _bytes_list(data, pos + 4, end, n)
            elif op == 2:
                (n,) = u32(data, pos)
                flat, pos = _bytes_list(data, pos + 4, end, 2 * n)
                it = iter(flat)
                value = dict(zip(it, it, strict=True))  # last field wins (§3.6 step 6)
                if len(value) < n:
                    report.duplicates.append((rec, key, "hash field", n - len(value)))
            elif op == 4:
                (n,) = u32(data, pos)
                members, pos = _bytes_list(data, pos + 4, end, n)
                value = SetValue.fromkeys(members)
                if len(value) < n:
                    report.duplicates.append((rec, key, "set member", n - len(value)))
            elif op == 5:
                (n,) = u32(data, pos)
                scores, pos = _read_zset(data, pos + 4, end, n)
                value = ZSet()
                value.scores = scores  # last score wins (§3.6 step 6)
                if len(scores) < n:
                    report.duplicates.append((rec, key, "zset member", n - len(scores)))
            elif op == 6:
                value, pos = _read_stream(data, pos, end, version, rec, key, report)
            else:
                # The report travels with the error: fill in its totals as the
                # truncation path does (fuzz/regressions/snapshot/unknown-opcode-report).
                report.records = records
                report.by_type = {OPCODES[o]: by_type[o] for o in OPCODES if by_type[o]}
                raise SnapshotCorrupt(
                    f"kevy snapshot: unknown opcode {op}", offset=rec, at=rec,
                    expected="an opcode in 0..=6", got=data[rec:rec + 1],
                    records_loaded=records, report=report,
                )
            if key in table:
                report.replaced.append((rec, key))
            table[key] = Entry(value, deadline)
            if deadline is not None and deadline <= now:
                report.expired_on_load.append((rec, key))
            by_type[op] += 1
            records += 1
    except (_Short, struct.error):
        # struct.unpack_from raises struct.error only when the buffer is too
        # short, so both mean "the data ran out" (§3.6 step 8).
        report.records = records
        report.by_type = {OPCODES[o]: by_type[o] for o in OPCODES if by_type[o]}
        raise SnapshotTruncated(
            f"data ends inside the record after {records} complete record(s)",
            offset=rec, at=end, records_loaded=records, report=report,
        ) from None
    report.records = records
    report.by_type = {OPCODES[o]: by_type[o] for o in OPCODES if by_type[o]}
    return report


# --------------------------------------------------------------------------
# Writer.


def _check(key: bytes, what: str, n: int, limit: int) -> int:
    # kevy writes `n as u32` / `as u64` (§3.5 step 3): a silent truncation.
    if n < 0 or n > limit:
        raise UnrepresentableValue(key, what, n, limit)
    return n


def _encode_bytes(out: list[bytes], key: bytes, what: str, b: bytes) -> None:
    n = len(b)
    if n > _U32_MAX:
        raise UnrepresentableValue(key, f"{what} length", n, _U32_MAX)
    out.append(_U32.pack(n))
    out.append(b)


def _encode_id(key: bytes, what: str, sid: StreamId) -> bytes:
    ms, seq = sid
    if not (0 <= ms <= U64_MAX and 0 <= seq <= U64_MAX):
        raise UnrepresentableValue(key, f"{what} {ms}-{seq} part", max(ms, seq), U64_MAX)
    return _ID.pack(ms, seq)


def _encode_stream(out: list[bytes], key: bytes, st: Stream) -> None:
    out.append(_encode_id(key, "last_id", st.last_id))
    out.append(_encode_id(key, "max_deleted_id", st.max_deleted_id))
    out.append(_U64.pack(_check(key, "entries_added", st.entries_added, U64_MAX)))
    out.append(_U32.pack(_check(key, "entry count", len(st.entries), _U32_MAX)))
    for sid in st.sorted_ids():
        fields = st.entries[sid]
        out.append(_encode_id(key, "entry id", sid))
        out.append(_U32.pack(_check(key, "entry field count", len(fields), _U32_MAX)))
        for f, v in fields:  # insertion order (§3.3)
            _encode_bytes(out, key, "entry field", f)
            _encode_bytes(out, key, "entry value", v)
    out.append(_U32.pack(_check(key, "group count", len(st.groups), _U32_MAX)))
    for name, group in st.groups.items():
        _encode_bytes(out, key, "group name", name)
        out.append(_encode_id(key, "last_delivered", group.last_delivered))
        out.append(_U32.pack(_check(key, "consumer count", len(group.consumers), _U32_MAX)))
        for cname, seen in group.consumers.items():
            _encode_bytes(out, key, "consumer name", cname)
            out.append(_U64.pack(_check(key, "last_seen_ms", seen, U64_MAX)))
        out.append(_U32.pack(_check(key, "pel count", len(group.pel), _U32_MAX)))
        for sid in sorted(group.pel):  # ascending, tombstones included (§3.3)
            row = group.pel[sid]
            out.append(_encode_id(key, "pel id", sid))
            _encode_bytes(out, key, "pel owner", row.owner)
            out.append(_U64.pack(_check(key, "delivery_time_ms", row.delivery_ms, U64_MAX)))
            out.append(_U32.pack(_check(key, "delivery_count", row.delivery_count, _U32_MAX)))


def encode_record(key: bytes, value: Value, deadline_ms: int | None) -> bytes:
    """One version-4 record (§3.2): opcode, TTL, key, payload."""
    op = _OPCODE_OF.get(type(value))
    if op is None:
        raise TypeError(f"not a keyspace value: {type(value).__name__}")
    out: list[bytes] = []
    if deadline_ms is None:
        out.append(bytes((op, 0)))
    else:
        out.append(bytes((op, 1)))
        out.append(_U64.pack(deadline_ms))
    _encode_bytes(out, key, "key", key)
    if op == 1:
        _encode_bytes(out, key, "value", value)  # type: ignore[arg-type]
    elif op == 2 or op == 4 or op == 3:
        n = len(value)  # type: ignore[arg-type]
        if n > _U32_MAX:
            raise UnrepresentableValue(key, "element count", n, _U32_MAX)
        out.append(_U32.pack(n))
        if op == 2:
            for f, v in value.items():  # type: ignore[union-attr]
                _encode_bytes(out, key, "field", f)
                _encode_bytes(out, key, "value", v)
        else:
            for m in value:  # type: ignore[union-attr]
                _encode_bytes(out, key, "element", m)
    elif op == 5:
        ordered = value.ordered()  # type: ignore[union-attr]
        if len(ordered) > _U32_MAX:
            raise UnrepresentableValue(key, "element count", len(ordered), _U32_MAX)
        out.append(_U32.pack(len(ordered)))
        for m, score in ordered:  # ascending (§6.7)
            _encode_bytes(out, key, "member", m)
            out.append(_F64.pack(score))
    else:
        _encode_stream(out, key, value)  # type: ignore[arg-type]
    return b"".join(out)


def _written_deadline(now_ms: int, remaining: int) -> int:
    # §3.5 step 2: now + remaining, saturating at u64 (and never below 0).
    return min(U64_MAX, max(0, now_ms + remaining))


def encode_records(items: Iterable[SnapshotItem], now_ms: int) -> Iterator[bytes]:
    """The file, piece by piece: header, one piece per record, EOF marker (§3.5)."""
    yield MAGIC + bytes((VERSION,))
    for key, value, remaining in items:
        deadline = None if remaining is None else _written_deadline(now_ms, remaining)
        yield encode_record(key, value, deadline)
    yield b"\x00"


def encode_snapshot(items: Iterable[SnapshotItem], now_ms: int) -> bytes:
    """A version-4 snapshot of `items` (key, value, remaining ms | None), now = `now_ms`.

    `items` are written in the order given; a caller must already have dropped
    entries whose deadline had passed (§3.5 step 2: `live_view` and `freeze` do).
    Raises `UnrepresentableValue` for a length over u32 or an ID part over u64.
    """
    return b"".join(encode_records(items, now_ms))


# --------------------------------------------------------------------------
# Sources: a live keyspace and a frozen view.


def live_view(ks: Keyspace, now_ms: int) -> Iterator[SnapshotItem]:
    """Live entries of `ks` at `now_ms`, in table order, with remaining TTL (§3.5 step 2)."""
    for key, entry in ks.live_items(now_ms):
        rem = None if entry.deadline_ms is None else entry.deadline_ms - now_ms
        yield key, entry.value, rem


def copy_value(value: Value) -> Value:
    """A deep copy sharing only immutable bytes (what a frozen view must hold)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, SetValue):
        return SetValue(value)
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list | ListValue):
        return list(value)
    if isinstance(value, ZSet):
        return ZSet(value.scores)
    if isinstance(value, Stream):
        return Stream(
            entries={sid: list(fv) for sid, fv in value.entries.items()},
            last_id=value.last_id,
            max_deleted_id=value.max_deleted_id,
            entries_added=value.entries_added,
            groups={
                name: StreamGroup(
                    last_delivered=g.last_delivered,
                    consumers=dict(g.consumers),
                    pel={sid: PelRow(r.owner, r.delivery_ms, r.delivery_count)
                         for sid, r in g.pel.items()},
                )
                for name, g in value.groups.items()
            },
        )
    raise TypeError(f"not a keyspace value: {type(value).__name__}")


class FrozenView(list[SnapshotItem]):
    """A point-in-time copy of a keyspace: rows (key, value copy, remaining at freeze).

    docs/SPEC.md §9.3: kevy 1.17 resolves remaining TTLs when it freezes, and the writer
    later writes `now_at_write + remaining` — so every written deadline drifts
    later by the freeze→write delay (finding F3). With `exact_deadlines`
    (switch `exact_frozen_deadlines`) `items_at(now)` re-anchors each remaining
    TTL to the write time, so the written deadline is the true one.
    """

    def __init__(self, rows: Iterable[SnapshotItem], frozen_at_ms: int,
                 exact_deadlines: bool) -> None:
        super().__init__(rows)
        self.frozen_at_ms = frozen_at_ms
        self.exact_deadlines = exact_deadlines

    def items_at(self, now_ms: int) -> Iterator[SnapshotItem]:
        """The rows as a writer running at `now_ms` sees them."""
        if not self.exact_deadlines:
            yield from self  # kevy 1.17: remaining as of the freeze
            return
        shift = now_ms - self.frozen_at_ms
        for key, value, rem in self:
            # now + (rem − shift) = frozen_at + rem = the true deadline. It may lie
            # in the past now; the loader then inserts it already expired.
            yield key, value, (None if rem is None else rem - shift)


def freeze(ks: Keyspace, now_ms: int, *, profile: Profile = KEVY_1_17) -> FrozenView:
    """Freeze the live keys of `ks` at `now_ms` (docs/SPEC.md §9.3 step 1): deep copies,
    remaining TTLs."""
    rows = [(k, copy_value(v), rem) for k, v, rem in live_view(ks, now_ms)]
    return FrozenView(rows, now_ms, profile.fixes("exact_frozen_deadlines"))


def source_items(src: Keyspace | Iterable[SnapshotItem], now_ms: int) -> Iterable[SnapshotItem]:
    """The (key, value, remaining) rows a writer running at `now_ms` sees in `src`.

    A `Keyspace` is read live (remaining = deadline − now); a `FrozenView` as
    frozen (§9.3); anything else is taken to be rows already.
    """
    if isinstance(src, Keyspace):
        return live_view(src, now_ms)
    if isinstance(src, FrozenView):
        return src.items_at(now_ms)
    return src


# --------------------------------------------------------------------------
# Files (§3.8).


def write_snapshot_tmp(
    fs: FileSystem, src: Keyspace | Iterable[SnapshotItem], path: str, now_ms: int
) -> str:
    """Write `path + ".tmp"` (create/truncate, 1 MiB chunks, full fsync, close); return it.

    No rename. On any error the `.tmp` file is left in place (§3.8) and the
    error propagates. `src` is a live `Keyspace`, a `FrozenView`, or any
    iterable of (key, value, remaining ms | None).
    """
    tmp = path + ".tmp"
    f = fs.create_truncate(tmp)
    try:
        buf = bytearray()
        for piece in encode_records(source_items(src, now_ms), now_ms):
            buf += piece
            # kevy's BufWriter hands the OS 1 MiB at a time; bytes still in the
            # buffer at a crash are lost, which is what the crash model needs.
            while len(buf) >= CHUNK_SIZE:
                write_all(f, bytes(buf[:CHUNK_SIZE]))
                del buf[:CHUNK_SIZE]
        if buf:
            write_all(f, bytes(buf))  # flush
        f.fsync()
    finally:
        f.close()
    return tmp


def save_snapshot(
    fs: FileSystem,
    src: Keyspace | Iterable[SnapshotItem],
    path: str,
    now_ms: int,
    *,
    profile: Profile = KEVY_1_17,
) -> None:
    """`write_snapshot_tmp` then `rename(tmp → path)`; the directory is not fsynced (§3.8)."""
    tmp = write_snapshot_tmp(fs, src, path, now_ms)
    fs.rename(tmp, path)
    # Hook point: kevy 1.17 never fsyncs the directory (docs/SPEC.md §2.8), so the rename
    # may be lost by a power failure. A fix switch named DIR_FSYNC_SWITCH, once
    # registered in impl/profile.py, turns the directory fsync on here.
    if DIR_FSYNC_SWITCH in SWITCHES and profile.fixes(DIR_FSYNC_SWITCH):
        fs.fsync_dir(dirname(path))


def load_snapshot(
    fs: FileSystem, path: str, ks: Keyspace, now_ms: int | None = None
) -> SnapshotReport:
    """Read `path` and load it into `ks` (§3.6); errors carry `path`."""
    data = fs.read_bytes(path)
    try:
        return read_snapshot(data, ks, now_ms=now_ms)
    except (SnapshotTruncated, SnapshotCorrupt) as err:
        raise err.with_path(path) from None

