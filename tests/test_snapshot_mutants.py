"""impl/snapshot.py behaviours the suite left unpinned, found by mutmut (README "Adequacy").

Each test states a behaviour of the loader, the writer or the frozen view that a
mutmut survivor showed no test checked: the fields an error carries for `check`
and callers, the exact u64/u32 bounds of the writer, the deep copy a frozen view
holds, what reaches the OS before a writer error, and the directory-fsync hook.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from impl.clock import ManualClock
from impl.fs import OsFileSystem
from impl.keyspace import Entry, Keyspace, PelRow, SetValue, Stream, StreamGroup, ZSet
from impl.keyspace_json import document
from impl.numbers import U64_MAX
from impl.profile import SWITCHES, Profile, Switch
from impl.snapshot import (
    CHUNK_SIZE,
    DIR_FSYNC_SWITCH,
    MAGIC,
    SnapshotCorrupt,
    SnapshotTruncated,
    UnrepresentableValue,
    copy_value,
    encode_record,
    encode_snapshot,
    freeze,
    load_snapshot,
    read_snapshot,
    save_snapshot,
    write_snapshot_tmp,
)
from tests.recording_fs import RecordingFS

NOW = 1_795_392_000_000


def _ks(now: int = NOW) -> Keyspace:
    return Keyspace(ManualClock(now))


# --------------------------------------------------------------------------
# Errors: what a failed load tells its caller.


def test_bad_magic_names_the_header_and_what_was_expected() -> None:
    with pytest.raises(SnapshotCorrupt) as info:
        read_snapshot(b"KEVYSNAQ\x04\x00", _ks())
    err = info.value
    assert err.unit == "snapshot header"
    assert err.expected == repr(MAGIC)
    assert err.got == b"KEVYSNAQ"
    assert err.path is None


def test_truncated_record_carries_the_report_of_what_was_loaded() -> None:
    data = encode_snapshot([(b"a", b"1", None), (b"b", [b"x", b"y"], None)], NOW)
    cut = data[: len(data) - 3]  # inside the list record
    ks = _ks()
    with pytest.raises(SnapshotTruncated) as info:
        read_snapshot(cut, ks)
    err = info.value
    assert err.unit == "snapshot record"
    assert err.records_loaded == 1
    assert err.report is not None
    assert err.report.records == 1
    assert err.report.by_type == {"string": 1}
    assert ks.raw()[b"a"].value == b"1"


def test_snapshot_errors_keep_every_field_they_are_given() -> None:
    # Public constructors: a caller that knows the file may pass path directly.
    for cls in (SnapshotCorrupt, SnapshotTruncated):
        err = cls("m", offset=3, at=5, expected="e", got=b"g", path="p", records_loaded=2)
        assert (err.offset, err.at, err.expected, err.got, err.path) == (3, 5, "e", b"g", "p")
        assert err.records_loaded == 2
        assert err.report is None


def test_load_snapshot_names_the_file_and_converts_ttls_at_the_given_time(
    tmp_path: Path,
) -> None:
    path = tmp_path / "dump-0.rdb"
    # A v3/v4 TTL is an absolute deadline: expired relative to now_ms, live by the
    # keyspace's own clock. load_snapshot must convert against the now_ms given.
    path.write_bytes(encode_snapshot([(b"k", b"v", 1000)], NOW))
    later = NOW + 5000
    ks = _ks(NOW)
    report = load_snapshot(OsFileSystem(), str(path), ks, now_ms=later)
    assert report.now_ms == later
    assert [k for _, k in report.expired_on_load] == [b"k"]
    assert ks.raw()[b"k"].deadline_ms == later
    path.write_bytes(b"KEVYSNAP\x09")
    with pytest.raises(SnapshotCorrupt) as info:
        load_snapshot(OsFileSystem(), str(path), _ks())
    assert info.value.path == str(path)


# --------------------------------------------------------------------------
# Writer bounds.


def test_unrepresentable_value_names_key_field_value_and_limit() -> None:
    key = b"k" * 40
    too_big = U64_MAX + 1
    with pytest.raises(UnrepresentableValue) as info:
        encode_record(key, Stream(entries_added=too_big), None)
    err = info.value
    assert (err.key, err.what, err.value, err.limit) == (key, "entries_added", too_big, U64_MAX)
    # The message quotes at most 32 bytes of the key.
    assert repr(key[:32]) in str(err)
    assert repr(key[:33]) not in str(err)
    assert f"entries_added {too_big} does not fit" in str(err)


def test_u64_max_itself_is_representable() -> None:
    st = Stream(entries_added=U64_MAX, last_id=(U64_MAX, U64_MAX))
    ks = _ks()
    read_snapshot(encode_snapshot([(b"s", st, None)], NOW), ks)
    back = ks.raw()[b"s"].value
    assert isinstance(back, Stream)
    assert (back.entries_added, back.last_id) == (U64_MAX, (U64_MAX, U64_MAX))


@pytest.mark.parametrize("sid", [(U64_MAX + 1, 0), (0, U64_MAX + 1), (-1, 0), (0, -1)])
def test_either_half_of_a_stream_id_out_of_u64_is_refused(sid: tuple[int, int]) -> None:
    with pytest.raises(UnrepresentableValue) as info:
        encode_record(b"s", Stream(last_id=sid), None)
    assert info.value.what == f"last_id {sid[0]}-{sid[1]} part"


# --------------------------------------------------------------------------
# The frozen view holds deep copies.


def _every_type() -> Keyspace:
    ks = _ks()
    t = ks.raw()
    t[b"str"] = Entry(b"v", None)
    t[b"hash"] = Entry({b"f": b"1"}, None)
    t[b"list"] = Entry([b"a", b"b"], None)
    t[b"set"] = Entry(SetValue.fromkeys([b"m", b"n"]), None)
    t[b"zset"] = Entry(ZSet({b"m": 1.5}), None)
    t[b"stream"] = Entry(
        Stream(
            entries={(5, 1): [(b"f", b"v")], (7, 0): [(b"g", b"w")]},
            last_id=(9, 3),
            max_deleted_id=(6, 2),
            entries_added=11,
            groups={
                b"g1": StreamGroup(
                    last_delivered=(5, 1),
                    consumers={b"alice": 42, b"bob": 7},
                    pel={(5, 1): PelRow(b"alice", 1234, 3), (6, 0): PelRow(b"bob", 99, 1)},
                )
            },
        ),
        None,
    )
    return ks


def test_freeze_copies_every_type_exactly() -> None:
    ks = _every_type()
    frozen = freeze(ks, NOW)
    copy = _ks()
    for key, value, _ in frozen:
        copy.raw()[key] = Entry(value, None)
    assert document(copy, NOW) == document(ks, NOW)
    st = copy.raw()[b"stream"].value
    assert isinstance(st, Stream)
    assert (st.last_id, st.max_deleted_id, st.entries_added) == ((9, 3), (6, 2), 11)
    g = st.groups[b"g1"]
    assert g.last_delivered == (5, 1)
    assert g.consumers == {b"alice": 42, b"bob": 7}
    assert g.pel == {(5, 1): PelRow(b"alice", 1234, 3), (6, 0): PelRow(b"bob", 99, 1)}


def test_frozen_copies_do_not_follow_later_writes() -> None:
    ks = _every_type()
    before = document(ks, NOW)
    frozen = freeze(ks, NOW)
    t = ks.raw()
    t[b"hash"].value[b"f"] = b"2"
    t[b"list"].value.append(b"c")
    t[b"set"].value.add(b"o")
    t[b"zset"].value.scores[b"m"] = 9.0
    st = t[b"stream"].value
    st.entries[(5, 1)].append((b"x", b"y"))
    st.groups[b"g1"].consumers[b"carol"] = 1
    st.groups[b"g1"].pel[(7, 0)] = PelRow(b"alice", 5, 1)
    copy = _ks()
    for key, value, _ in frozen:
        copy.raw()[key] = Entry(value, None)
    assert document(copy, NOW) == before


def test_copy_value_refuses_what_is_not_a_keyspace_value() -> None:
    with pytest.raises(TypeError, match=r"^not a keyspace value: int$"):
        copy_value(3)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Files.


def test_a_full_chunk_reaches_the_os_before_a_later_record_fails(tmp_path: Path) -> None:
    # kevy's writer hands the OS each full 1 MiB as soon as it is full; a record
    # that then fails to encode leaves those bytes in the .tmp file (§3.8).
    header = len(MAGIC) + 1
    pad = CHUNK_SIZE - header - len(encode_record(b"k", b"", None))
    rows = [(b"k", b"x" * pad, None), (b"s", Stream(last_id=(U64_MAX + 1, 0)), None)]
    assert len(encode_record(b"k", b"x" * pad, None)) + header == CHUNK_SIZE
    rec = RecordingFS(OsFileSystem())
    with pytest.raises(UnrepresentableValue):
        write_snapshot_tmp(rec, rows, str(tmp_path / "d.rdb"), NOW)
    writes = [c for c in rec.calls if c[0] == "write"]
    assert [len(c[2]) for c in writes] == [CHUNK_SIZE]
    assert (tmp_path / "d.rdb.tmp").stat().st_size == CHUNK_SIZE


def test_a_registered_dir_fsync_switch_fsyncs_the_directory_after_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The hook save_snapshot documents: once a finding registers DIR_FSYNC_SWITCH,
    # a profile that turns it on fsyncs the snapshot's directory after the rename.
    monkeypatch.setitem(
        SWITCHES, DIR_FSYNC_SWITCH, Switch(DIR_FSYNC_SWITCH, "F32", "fsync the dir")
    )
    rec = RecordingFS(OsFileSystem())
    path = str(tmp_path / "dump-0.rdb")
    save_snapshot(
        rec, [(b"k", b"v", None)], path, NOW, profile=Profile("t", frozenset({DIR_FSYNC_SWITCH}))
    )
    muts = rec.mutations()
    assert muts[-2:] == [("rename", "dump-0.rdb.tmp", "dump-0.rdb"), ("fsync_dir", tmp_path.name)]
    rec.calls.clear()
    save_snapshot(rec, [(b"k", b"v", None)], path, NOW, profile=Profile("off"))
    assert ("fsync_dir", tmp_path.name) not in rec.calls


# --------------------------------------------------------------------------
# Every writer bound names the key, the field, the value and the limit.

U32_MAX = 0xFFFF_FFFF


class _Long(bytes):
    """Bytes that claim a length over u32: the writer's length guard reads len()
    before anything else, and 4 GiB does not fit a test."""

    def __len__(self) -> int:
        return U32_MAX + 1


class _LongList(list[tuple[bytes, bytes]]):
    def __len__(self) -> int:
        return U32_MAX + 1


class _LongDict(dict):  # type: ignore[type-arg]
    def __len__(self) -> int:
        return U32_MAX + 1


def _group(**kw: object) -> dict[bytes, StreamGroup]:
    return {b"g": StreamGroup(**kw)}  # type: ignore[arg-type]


_BIG = U64_MAX + 1
_STREAM_BOUNDS = [
    (Stream(last_id=(_BIG, 0)), f"last_id {_BIG}-0 part", _BIG, U64_MAX),
    (Stream(max_deleted_id=(3, _BIG)), f"max_deleted_id 3-{_BIG} part", _BIG, U64_MAX),
    (Stream(entries_added=_BIG), "entries_added", _BIG, U64_MAX),
    (Stream(entries=_LongDict()), "entry count", U32_MAX + 1, U32_MAX),
    (Stream(entries={(-1, 2): []}), "entry id -1-2 part", 2, U64_MAX),
    (Stream(entries={(1, 0): _LongList()}), "entry field count", U32_MAX + 1, U32_MAX),
    (Stream(entries={(1, 0): [(_Long(b"f"), b"v")]}), "entry field length", U32_MAX + 1, U32_MAX),
    (Stream(entries={(1, 0): [(b"f", _Long(b"v"))]}), "entry value length", U32_MAX + 1, U32_MAX),
    (Stream(groups=_LongDict()), "group count", U32_MAX + 1, U32_MAX),
    (Stream(groups={_Long(b"g"): StreamGroup()}), "group name length", U32_MAX + 1, U32_MAX),
    (
        Stream(groups=_group(last_delivered=(_BIG, 1))),
        f"last_delivered {_BIG}-1 part",
        _BIG,
        U64_MAX,
    ),
    (Stream(groups=_group(consumers=_LongDict())), "consumer count", U32_MAX + 1, U32_MAX),
    (
        Stream(groups=_group(consumers={_Long(b"c"): 0})),
        "consumer name length",
        U32_MAX + 1,
        U32_MAX,
    ),
    (Stream(groups=_group(consumers={b"c": _BIG})), "last_seen_ms", _BIG, U64_MAX),
    (Stream(groups=_group(pel=_LongDict())), "pel count", U32_MAX + 1, U32_MAX),
    (
        Stream(groups=_group(consumers={b"c": 0}, pel={(1, _BIG): PelRow(b"c", 0, 1)})),
        f"pel id 1-{_BIG} part",
        _BIG,
        U64_MAX,
    ),
    (
        Stream(groups=_group(pel={(1, 0): PelRow(_Long(b"c"), 0, 1)})),
        "pel owner length",
        U32_MAX + 1,
        U32_MAX,
    ),
    (Stream(groups=_group(pel={(1, 0): PelRow(b"c", _BIG, 1)})), "delivery_time_ms", _BIG, U64_MAX),
    (
        Stream(groups=_group(pel={(1, 0): PelRow(b"c", 0, U32_MAX + 1)})),
        "delivery_count",
        U32_MAX + 1,
        U32_MAX,
    ),
]


@pytest.mark.parametrize(
    ("value", "what", "n", "limit"),
    _STREAM_BOUNDS,
    ids=[b[1].split(" ")[0] + "-" + str(i) for i, b in enumerate(_STREAM_BOUNDS)],
)
def test_each_stream_bound_names_key_field_value_and_limit(
    value: Stream, what: str, n: int, limit: int
) -> None:
    with pytest.raises(UnrepresentableValue) as info:
        encode_record(b"the-key", value, None)
    err = info.value
    assert (err.key, err.what, err.value, err.limit) == (b"the-key", what, n, limit)


@pytest.mark.parametrize(
    ("key", "value", "what"),
    [
        (_Long(b"k"), b"v", "key length"),
        (b"k", {_Long(b"f"): b"v"}, "field length"),
        (b"k", {b"f": _Long(b"v")}, "value length"),
        (b"k", [_Long(b"e")], "element length"),
        (b"k", SetValue.fromkeys([_Long(b"m")]), "element length"),
        (b"k", ZSet({_Long(b"m"): 1.0}), "member length"),
    ],
)
def test_each_length_bound_names_the_field(key: bytes, value: object, what: str) -> None:
    with pytest.raises(UnrepresentableValue) as info:
        encode_record(key, value, None)  # type: ignore[arg-type]
    err = info.value
    assert (err.key, err.what, err.value, err.limit) == (key, what, U32_MAX + 1, U32_MAX)


def test_u32_bounds_accept_u32_max() -> None:
    row = PelRow(b"c", U64_MAX, U32_MAX)
    st = Stream(groups=_group(consumers={b"c": U64_MAX}, pel={(1, 0): row}))
    ks = _ks()
    read_snapshot(encode_snapshot([(b"s", st, None)], NOW), ks)
    back = ks.raw()[b"s"].value
    assert isinstance(back, Stream)
    assert back.groups[b"g"].consumers == {b"c": U64_MAX}
    assert back.groups[b"g"].pel == {(1, 0): row}


# --------------------------------------------------------------------------
# The report's findings, one full line per kind (what `check` prints).


def test_findings_pin_every_line() -> None:
    from impl.snapshot import SnapshotReport

    key = b"K" * 40
    report = SnapshotReport(
        version=4,
        now_ms=NOW,
        trailing_offset=22,
        trailing_bytes=7,
        odd_ttl_flags=[(9, 2)],
        replaced=[(30, key)],
        duplicates=[(40, key, "hash field", 2)],
        non_ascending=[(50, key, "pel row", "1-0")],
        orphan_pel_owners=[(60, key, b"C" * 40)],
    )
    k32 = repr(key[:32])  # every line quotes at most 32 bytes of a key or owner
    assert report.findings() == [
        "7 bytes after the EOF marker at offset 22 (ignored)",
        "record at offset 9: TTL flag 0x02 read as 'no TTL'",
        f"record at offset 30: key {k32} repeats an earlier key (replaced)",
        f"record at offset 40: key {k32}: 2 duplicate hash field(s) collapsed",
        f"record at offset 50: key {k32}: pel row 1-0 not in ascending order",
        f"record at offset 60: key {k32}: PEL owner {b'C' * 32!r} not in the consumer "
        "roster (added with last_seen 0)",
    ]
    assert SnapshotReport(version=4, now_ms=NOW).findings() == []


# --------------------------------------------------------------------------
# Reader bounds: the early "do the declared bytes exist" checks are exact, and
# a record that ends exactly at the end of the file is complete.


def _u32(n: int) -> bytes:
    return n.to_bytes(4, "little")


def _b(x: bytes) -> bytes:
    return _u32(len(x)) + x


def _snap(*records: bytes, version: int = 4, tail: bytes = b"\x00") -> bytes:
    return MAGIC + bytes([version]) + b"".join(records) + tail


def _zset_of_empty_members(n: int) -> bytes:
    # Each member is its minimal 12 bytes: length 0, then an 8-byte score.
    body = (_u32(0) + bytes(8)) * n
    return b"\x05\x00" + _b(b"z") + _u32(n) + body


def test_a_zset_of_minimal_members_fills_its_declared_bytes_exactly() -> None:
    # 3 members of 12 bytes each with only the EOF byte after them: 13 bytes
    # per member would already be more than the file holds.
    ks = _ks()
    report = read_snapshot(_snap(_zset_of_empty_members(3)), ks)
    assert report.records == 1
    assert ks.raw()[b"z"].value.scores == {b"": 0.0}
    assert report.duplicates == [(9, b"z", "zset member", 2)]


def test_a_record_ending_at_the_end_of_the_file_is_loaded_before_the_truncation() -> None:
    # No EOF marker: the last record is complete and stays; the truncation is
    # at the missing EOF byte, not inside the record.
    zset = b"\x05\x00" + _b(b"z") + _u32(1) + _b(b"m") + bytes(8)
    for record in (zset, _zset_of_empty_members(2)):
        data = _snap(record, tail=b"")
        ks = _ks()
        with pytest.raises(SnapshotTruncated) as info:
            read_snapshot(data, ks)
        assert info.value.records_loaded == 1
        assert info.value.offset == len(data)
        assert b"z" in ks.raw()


def _entry(ms: int, seq: int, *pairs: bytes) -> bytes:
    return (
        ms.to_bytes(8, "little")
        + seq.to_bytes(8, "little")
        + _u32(len(pairs) // 2)
        + b"".join(_b(p) for p in pairs)
    )


def _stream(entries: list[bytes], *, groups: bytes = _u32(0)) -> bytes:
    head = bytes(40) + _u32(len(entries))
    return b"\x06\x00" + _b(b"x") + head + b"".join(entries) + groups


def test_a_stream_of_field_less_entries_fills_its_declared_bytes_exactly() -> None:
    # Six entries of 20 bytes (ID + a field count of 0) and 5 bytes after them
    # (the group count and EOF): 21 bytes per entry would not fit.
    ks = _ks()
    report = read_snapshot(_snap(_stream([_entry(i, 0) for i in range(1, 7)])), ks)
    assert report.records == 1
    assert sorted(ks.raw()[b"x"].value.entries) == [(i, 0) for i in range(1, 7)]


def test_a_v3_stream_ending_at_the_end_of_the_file_is_loaded() -> None:
    data = _snap(_stream([_entry(1, 0), _entry(2, 0)], groups=b""), version=3, tail=b"")
    ks = _ks()
    with pytest.raises(SnapshotTruncated) as info:
        read_snapshot(data, ks)
    assert info.value.records_loaded == 1
    assert sorted(ks.raw()[b"x"].value.entries) == [(1, 0), (2, 0)]


def test_an_equal_stream_id_is_out_of_order_and_only_the_first_is_reported() -> None:
    ks = _ks()
    report = read_snapshot(_snap(_stream([_entry(1, 0, b"f", b"a"), _entry(1, 0, b"f", b"b")])), ks)
    assert report.non_ascending == [(9, b"x", "stream entry", "1-0")]
    assert report.duplicates == [(9, b"x", "stream entry", 1)]
    entries = [_entry(3, 0), _entry(2, 0), _entry(1, 0)]
    report = read_snapshot(_snap(_stream(entries)), _ks())
    assert report.non_ascending == [(9, b"x", "stream entry", "2-0")]


def test_a_deadline_before_the_epoch_is_written_as_0() -> None:
    rec = encode_snapshot([(b"k", b"v", -NOW - 5)], NOW)
    assert rec[9:11] == b"\x01\x01" and rec[11:19] == bytes(8)


def test_a_list_of_minimal_elements_fills_its_declared_bytes_exactly() -> None:
    # 3 empty elements of 4 bytes and only the EOF byte after them.
    ks = _ks()
    read_snapshot(_snap(b"\x03\x00" + _b(b"l") + _u32(3) + _u32(0) * 3), ks)
    assert list(ks.raw()[b"l"].value) == [b"", b"", b""]


def _group_bytes(name: bytes, consumers: bytes = _u32(0), pel: bytes = _u32(0)) -> bytes:
    return _b(name) + bytes(16) + consumers + pel


def _pel_row(ms: int, owner: bytes) -> bytes:
    return ms.to_bytes(8, "little") + bytes(8) + _b(owner) + bytes(8) + _u32(1)


def test_minimal_groups_consumers_and_pel_rows_fill_their_declared_bytes_exactly() -> None:
    # Three groups of 28 bytes, then EOF: 29 bytes per group would not fit.
    groups = _u32(3) + _group_bytes(b"") * 3
    ks = _ks()
    report = read_snapshot(_snap(_stream([], groups=groups)), ks)
    assert list(ks.raw()[b"x"].value.groups) == [b""]
    assert report.duplicates == [(9, b"x", "group", 1)] * 2
    # Six consumers of 12 bytes, then the PEL count and EOF (5 bytes).
    consumers = _u32(6) + (_b(b"") + bytes(8)) * 6
    ks = _ks()
    report = read_snapshot(_snap(_stream([], groups=_u32(1) + _group_bytes(b"g", consumers))), ks)
    assert ks.raw()[b"x"].value.groups[b"g"].consumers == {b"": 0}
    assert report.duplicates == [(9, b"x", "consumer", 1)] * 5
    # Two PEL rows of 32 bytes (empty owner), then EOF.
    pel = _u32(2) + _pel_row(1, b"") + _pel_row(2, b"")
    ks = _ks()
    read_snapshot(_snap(_stream([], groups=_u32(1) + _group_bytes(b"g", _u32(0), pel))), ks)
    assert sorted(ks.raw()[b"x"].value.groups[b"g"].pel) == [(1, 0), (2, 0)]


@pytest.mark.parametrize(
    "groups",
    [
        _u32(1) + _group_bytes(b""),  # groups end the file
        _u32(1) + _group_bytes(b"g", _u32(0), _u32(1) + _pel_row(1, b"")),  # a PEL row does
    ],
    ids=["group", "pel"],
)
def test_a_stream_whose_groups_end_the_file_is_loaded(groups: bytes) -> None:
    data = _snap(_stream([], groups=groups), tail=b"")
    ks = _ks()
    with pytest.raises(SnapshotTruncated) as info:
        read_snapshot(data, ks)
    assert info.value.records_loaded == 1 and info.value.offset == len(data)
    assert b"x" in ks.raw()


@pytest.mark.parametrize(
    "record",
    [
        b"\x03\x00" + _b(b"l") + _u32(2) + _u32(0) * 2,  # empty elements end the file
        b"\x03\x00" + _b(b"l") + _u32(1) + _b(b"last"),  # a non-empty one does
    ],
    ids=["empty", "non-empty"],
)
def test_a_list_ending_at_the_end_of_the_file_is_loaded(record: bytes) -> None:
    data = _snap(record, tail=b"")
    ks = _ks()
    with pytest.raises(SnapshotTruncated) as info:
        read_snapshot(data, ks)
    assert info.value.records_loaded == 1 and info.value.offset == len(data)
    assert b"l" in ks.raw()


def test_an_equal_pel_id_is_out_of_order() -> None:
    pel = _u32(2) + _pel_row(1, b"c") + _pel_row(1, b"c")
    report = read_snapshot(
        _snap(_stream([], groups=_u32(1) + _group_bytes(b"g", _u32(0), pel))), _ks()
    )
    assert report.non_ascending == [(9, b"x", "pel row", "1-0")]
    assert report.duplicates == [(9, b"x", "pel row", 1)]


# --------------------------------------------------------------------------
# Element-count bounds: 2**32 elements do not fit a test, so the length the
# writer reads is patched on the value's own class for the test's duration.


class _Exactly(bytes):
    def __len__(self) -> int:
        return U32_MAX


def test_a_length_of_exactly_u32_max_is_written() -> None:
    out = encode_record(_Exactly(b"k"), b"v", None)
    assert out[2:6] == b"\xff\xff\xff\xff"


@pytest.mark.parametrize("kind", ["list", "set", "zset"])
def test_element_counts_over_u32_are_refused_and_u32_max_is_written(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from impl.keyspace import ListValue

    value: object
    cls: type
    # A hash shares the list and set code path (one count check for all three).
    if kind == "list":
        value, cls = ListValue(), ListValue
    elif kind == "set":
        value, cls = SetValue(), SetValue
    else:
        value, cls = ZSet(), ZSet
    for n, refused in ((U32_MAX + 1, True), (U32_MAX, False)):
        if kind == "zset":
            fake = type("_Fake", (list,), {"__len__": lambda self, n=n: n})
            monkeypatch.setattr(ZSet, "ordered", lambda self, f=fake: f())
        else:
            monkeypatch.setattr(cls, "__len__", lambda self, n=n: n)
        if refused:
            with pytest.raises(UnrepresentableValue) as info:
                encode_record(b"k", value, None)  # type: ignore[arg-type]
            err = info.value
            assert (err.key, err.what, err.value, err.limit) == (b"k", "element count", n, U32_MAX)
        else:
            out = encode_record(b"k", value, None)  # type: ignore[arg-type]
            assert out[7:11] == b"\xff\xff\xff\xff"
        monkeypatch.undo()


def test_encode_record_refuses_what_is_not_a_keyspace_value() -> None:
    with pytest.raises(TypeError, match=r"^not a keyspace value: int$"):
        encode_record(b"k", 3, None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Header and opcode errors: every field `check` prints.


@pytest.mark.parametrize(
    ("data", "cls", "message", "offset", "at", "expected", "got"),
    [
        (b"KEVY", SnapshotTruncated, "file ends inside the magic", 0, 4, repr(MAGIC), b"KEVY"),
        (b"XX", SnapshotCorrupt, "kevy snapshot: bad magic", 0, 0, repr(MAGIC), b"XX"),
        (
            b"KEVYSNAQ\x04",
            SnapshotCorrupt,
            "kevy snapshot: bad magic",
            0,
            0,
            repr(MAGIC),
            b"KEVYSNAQ",
        ),
        (b"KEVYSNAP", SnapshotTruncated, "file ends before the version byte", 8, 8, None, None),
        (
            b"KEVYSNAP\x05\x00",
            SnapshotCorrupt,
            "kevy snapshot: bad version",
            8,
            8,
            "a version in 2..=4",
            b"\x05",
        ),
    ],
    ids=["short-magic", "short-bad-magic", "bad-magic", "no-version", "bad-version"],
)
def test_each_header_error_names_its_fields(
    data: bytes,
    cls: type,
    message: str,
    offset: int,
    at: int,
    expected: str | None,
    got: bytes | None,
) -> None:
    with pytest.raises(cls) as info:
        read_snapshot(data, _ks())
    err = info.value
    assert type(err) is cls
    assert (err.message, err.offset, err.at, err.expected, err.got) == (
        message,
        offset,
        at,
        expected,
        got,
    )
    assert err.unit == "snapshot header"


def test_a_header_with_no_record_is_a_truncated_record() -> None:
    with pytest.raises(SnapshotTruncated) as info:
        read_snapshot(b"KEVYSNAP\x04", _ks())
    assert (info.value.offset, info.value.unit) == (9, "snapshot record")


def test_an_unknown_opcode_names_its_byte_and_carries_the_report() -> None:
    good = b"\x01\x00" + _b(b"a") + _b(b"1")
    data = _snap(good, b"\x07\x00" + _b(b"k") + b"more")
    with pytest.raises(SnapshotCorrupt) as info:
        read_snapshot(data, _ks())
    err = info.value
    rec = 9 + len(good)
    assert (err.offset, err.at, err.expected, err.got) == (rec, rec, "an opcode in 0..=6", b"\x07")
    assert err.message == "kevy snapshot: unknown opcode 7"
    assert err.records_loaded == 1
    assert err.report is not None
    assert (err.report.records, err.report.by_type) == (1, {"string": 1})


def test_an_unknown_opcode_whose_key_ends_the_file_is_corrupt() -> None:
    # Rule 2: TTL and key are read first; both are complete, so the opcode is judged.
    with pytest.raises(SnapshotCorrupt):
        read_snapshot(_snap(b"\x07\x00" + _b(b"k"), tail=b""), _ks())


def test_a_string_ending_at_the_end_of_the_file_is_loaded() -> None:
    data = _snap(b"\x01\x00" + _b(b"k") + _b(b"v"), tail=b"")
    ks = _ks()
    with pytest.raises(SnapshotTruncated) as info:
        read_snapshot(data, ks)
    assert info.value.records_loaded == 1 and ks.raw()[b"k"].value == b"v"


def test_records_are_counted_per_type() -> None:
    rows = [
        (b"a", b"1", None),
        (b"b", b"2", None),
        (b"l", [b"x"], None),
        (b"h", {b"f": b"v"}, None),
    ]
    report = read_snapshot(encode_snapshot(rows, NOW), _ks())
    assert report.records == 4
    assert report.by_type == {"string": 2, "hash": 1, "list": 1}


def test_a_bytearray_or_memoryview_loads_as_bytes() -> None:
    data = encode_snapshot([(b"k", b"v", None), (b"l", [b"x"], None)], NOW)
    for view in (bytearray(data), memoryview(data)):
        ks = _ks()
        read_snapshot(view, ks)  # type: ignore[arg-type]
        assert all(type(k) is bytes for k in ks.raw())
        assert type(ks.raw()[b"k"].value) is bytes
        assert document(ks, NOW) == document(_loaded(data), NOW)


def _loaded(data: bytes) -> Keyspace:
    ks = _ks()
    read_snapshot(data, ks)
    return ks


def test_a_load_leaves_the_garbage_collector_as_it_found_it() -> None:
    import gc

    data = encode_snapshot([(b"k", b"v", None)], NOW)
    assert gc.isenabled()
    read_snapshot(data, _ks())
    assert gc.isenabled()
    gc.disable()
    try:
        read_snapshot(data, _ks())
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_live_view_judges_expiry_at_the_time_it_is_given() -> None:
    from impl.snapshot import live_view

    ks = _ks(NOW)
    ks.put(b"soon", b"v", NOW + 10)
    ks.put(b"later", b"v", NOW + 100)
    assert [(k, rem) for k, _, rem in live_view(ks, NOW + 20)] == [(b"later", 80)]
