"""impl/snapshot.py's reader, pinned where mutmut found it loose (README "Adequacy";
the writer's side is tests/test_snapshot_writer_mutants.py).

The fields every load error carries for `check` and callers, the report's
findings line by line, the exact boundaries of rule 3's early size checks (an
element of the minimal size; a record that ends exactly at the end of the file
is loaded before the truncation), equal IDs as out of order, per-type counts,
bytearray input and the collector's state after a load.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from impl.clock import ManualClock
from impl.fs import OsFileSystem
from impl.keyspace import Keyspace
from impl.keyspace_json import document
from impl.snapshot import (
    MAGIC,
    SnapshotCorrupt,
    SnapshotTruncated,
    encode_snapshot,
    load_snapshot,
    read_snapshot,
)

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
