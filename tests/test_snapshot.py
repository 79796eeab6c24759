"""impl/snapshot.py against docs/SPEC.md §3 and the golden files kevy 1.17 wrote.

Covers: the goldens load to exactly kevy's reading and re-encode byte for
byte; the §3.7 worked bytes; encode→read identity on arbitrary keyspaces
(document and score bits); v2/v3 files; the loader's duplicate/TTL/order
rules; hostile and truncated inputs; the tmp-then-rename file protocol; the
frozen-view deadline drift (F3).
"""

from __future__ import annotations

import json
import struct
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from impl.clock import ManualClock
from impl.errors import CorruptInput, TruncatedInput
from impl.fs import OsFileSystem
from impl.keyspace import Keyspace, PelRow, SetValue, Stream, StreamGroup, ZSet
from impl.keyspace_json import describe_difference, document, same_keyspace
from impl.numbers import U64_MAX, float_bits
from impl.profile import HARDENED, KEVY_1_17
from impl.snapshot import (
    CHUNK_SIZE,
    FrozenView,
    SnapshotCorrupt,
    SnapshotTruncated,
    UnrepresentableValue,
    encode_record,
    encode_snapshot,
    freeze,
    live_view,
    load_snapshot,
    read_snapshot,
    save_snapshot,
    write_snapshot_tmp,
)
from tests.strategies import NEG_NAN, build_keyspace, keyspace_rows

GOLDEN = Path(__file__).parent / "golden"
#: 2026-11-23T00:00:00Z, when the goldens were generated (PROVENANCE.md)
NOW = 1_795_392_000_000
DEADLINE_2030 = 1_893_456_000_000


def _ks(now: int = NOW) -> Keyspace:
    return Keyspace(ManualClock(now))


def _rows(ks: Keyspace) -> list[tuple[bytes, object, int | None]]:
    """Every entry of `ks` in table order, as encode_snapshot rows (expired included)."""
    return [(k, e.value, None if e.deadline_ms is None else e.deadline_ms - ks.now())
            for k, e in ks.raw().items()]


def _score_bits(ks: Keyspace) -> dict[bytes, list[tuple[bytes, int]]]:
    return {k: [(m, float_bits(s)) for m, s in e.value.ordered()]
            for k, e in ks.raw().items() if isinstance(e.value, ZSet)}


def _snap(*records: bytes, version: int = 4, tail: bytes = b"\x00") -> bytes:
    return b"KEVYSNAP" + bytes([version]) + b"".join(records) + tail


def _b(x: bytes) -> bytes:
    return struct.pack("<I", len(x)) + x


# --------------------------------------------------------------------------
# Golden files written by kevy 1.17.


@pytest.mark.parametrize("name", ["snap_one_each", "snap_binary"])
def test_golden_snapshot_loads_to_kevys_reading(name: str) -> None:
    data = (GOLDEN / "snapshots" / f"{name}.rdb").read_bytes()
    expected = json.loads((GOLDEN / "snapshots" / f"{name}.json").read_text("utf-8"))
    ks = _ks()
    report = read_snapshot(data, ks)
    assert describe_difference(expected, document(ks)) is None
    assert report.version == 4
    assert report.records == len(expected["keys"])
    assert report.findings() == []


@pytest.mark.parametrize("name", ["snap_one_each", "snap_binary"])
def test_golden_snapshot_reencodes_byte_for_byte_in_file_order(name: str) -> None:
    # Records, hash fields and set members are fed back in the order the file
    # holds them (the reader keeps file order), so kevy's exact bytes come back.
    data = (GOLDEN / "snapshots" / f"{name}.rdb").read_bytes()
    ks = _ks()
    read_snapshot(data, ks)
    assert encode_snapshot(_rows(ks), NOW) == data


def test_golden_dir_dump_keeps_the_written_deadline() -> None:
    data = (GOLDEN / "dirs" / "dir_single" / "dump-0.rdb").read_bytes()
    ks = _ks()
    report = read_snapshot(data, ks)
    assert report.records == 10 and report.findings() == []
    # kevy wrote now + floor(remaining): 1 ms before the 2030 deadline it was given.
    assert ks.raw()[b"ttl-key"].deadline_ms == DEADLINE_2030 - 1
    assert ks.raw()[b"ttl-key"].value == b"expires 2030"
    assert encode_snapshot(_rows(ks), NOW) == data


# --------------------------------------------------------------------------
# §3.7 worked bytes.

STRING_KV = bytes.fromhex("4B455659534E4150 04 01 00 01000000 6B 01000000 76 00")
STRING_KV_TTL_RECORD = bytes.fromhex("01 01 00B4C5DAB8010000 01000000 6B 01000000 76")
STREAM_ST_RECORD = bytes.fromhex(
    "06 00 020000007374"
    "0500000000000000 0100000000000000"
    "0500000000000000 0100000000000000"
    "0100000000000000"
    "00000000"
    "01000000 0100000067"
    "0500000000000000 0100000000000000"
    "00000000 00000000"
)
PEL_ROW = bytes.fromhex(
    "0700000000000000 0100000000000000 020000006331 D204000000000000 01000000"
)


def test_worked_bytes_string_without_ttl() -> None:
    assert len(STRING_KV) == 22
    assert encode_snapshot([(b"k", b"v", None)], NOW) == STRING_KV
    ks = _ks()
    read_snapshot(STRING_KV, ks)
    assert ks.raw()[b"k"].value == b"v" and ks.raw()[b"k"].deadline_ms is None


def test_worked_bytes_string_with_deadline_2030() -> None:
    assert encode_record(b"k", b"v", DEADLINE_2030) == STRING_KV_TTL_RECORD
    assert encode_snapshot([(b"k", b"v", DEADLINE_2030 - NOW)], NOW) == _snap(
        STRING_KV_TTL_RECORD)
    ks = _ks()
    read_snapshot(_snap(STRING_KV_TTL_RECORD), ks)
    assert ks.raw()[b"k"].deadline_ms == DEADLINE_2030


@pytest.mark.parametrize(("score", "raw"), [
    (1.5, "000000000000F83F"), (-0.0, "0000000000000080"),
])
def test_worked_bytes_score(score: float, raw: str) -> None:
    record = encode_record(b"z", ZSet({b"m": score}), None)
    assert record.endswith(_b(b"m") + bytes.fromhex(raw))


def test_worked_bytes_stream_st() -> None:
    st_ = Stream(last_id=(5, 1), max_deleted_id=(5, 1), entries_added=1,
                 groups={b"g": StreamGroup(last_delivered=(5, 1))})
    assert encode_record(b"st", st_, None) == STREAM_ST_RECORD
    ks = _ks()
    read_snapshot(_snap(STREAM_ST_RECORD), ks)
    assert ks.raw()[b"st"].value == st_


def test_worked_bytes_pel_row() -> None:
    st_ = Stream(entries={(7, 1): [(b"a", b"1")]}, last_id=(7, 1), entries_added=1,
                 groups={b"g": StreamGroup((7, 1), {b"c1": 1234},
                                           {(7, 1): PelRow(b"c1", 1234, 1)})})
    record = encode_record(b"s", st_, None)
    assert record.endswith(b"\x01\x00\x00\x00" + PEL_ROW)  # n_pel = 1, then the row


# --------------------------------------------------------------------------
# encode → read is the identity.


@given(keyspace_rows(NOW, max_keys=10))
def test_encode_then_read_is_the_identity(rows: list) -> None:
    src = build_keyspace(rows, NOW)
    data = encode_snapshot(live_view(src, NOW), NOW)
    dst = _ks()
    report = read_snapshot(data, dst)
    assert same_keyspace(document(src), document(dst), tolerance_ms=0), (
        describe_difference(document(src), document(dst), 0))
    assert _score_bits(dst) == _score_bits(src)  # -0.0, NaN sign and payload kept
    assert report.records == len(rows) and report.findings() == []
    # And writing what we read gives the same bytes again.
    assert encode_snapshot(live_view(dst, NOW), NOW) == data


def test_special_scores_keep_their_bits() -> None:
    scores = {b"a": -0.0, b"b": 5e-324, b"c": float("inf"), b"d": float("-inf"),
              b"e": float("nan"), b"f": NEG_NAN, b"g": 0.0}
    data = encode_snapshot([(b"z", ZSet(scores), None)], NOW)
    ks = _ks()
    read_snapshot(data, ks)
    got = {m: float_bits(s) for m, s in ks.raw()[b"z"].value.scores.items()}
    assert got == {m: float_bits(s) for m, s in scores.items()}


# --------------------------------------------------------------------------
# Versions 2 and 3 (hand-built).


def test_v2_ttl_is_remaining_reanchored_to_load_time() -> None:
    rec = b"\x01\x01" + struct.pack("<Q", 5000) + _b(b"k") + _b(b"v")
    ks = _ks(NOW + 123)
    report = read_snapshot(_snap(rec, version=2), ks)
    assert report.version == 2
    assert ks.raw()[b"k"].deadline_ms == NOW + 123 + 5000


def test_v3_ttl_is_absolute() -> None:
    rec = b"\x01\x01" + struct.pack("<Q", DEADLINE_2030) + _b(b"k") + _b(b"v")
    ks = _ks()
    read_snapshot(_snap(rec, version=3), ks)
    assert ks.raw()[b"k"].deadline_ms == DEADLINE_2030


@pytest.mark.parametrize("version", [2, 3])
def test_v2_v3_stream_has_no_group_section(version: int) -> None:
    payload = (struct.pack("<QQQQQ", 9, 0, 3, 0, 4) + struct.pack("<I", 1)
               + struct.pack("<QQI", 9, 0, 1) + _b(b"f") + _b(b"v"))
    after = b"\x01\x00" + _b(b"s") + _b(b"x")  # a record right after: no group count read
    ks = _ks()
    report = read_snapshot(_snap(b"\x06\x00" + _b(b"st") + payload, after, version=version), ks)
    assert report.records == 2
    st_ = ks.raw()[b"st"].value
    assert st_ == Stream(entries={(9, 0): [(b"f", b"v")]}, last_id=(9, 0),
                         max_deleted_id=(3, 0), entries_added=4)
    assert ks.raw()[b"s"].value == b"x"


# --------------------------------------------------------------------------
# Loader rules (§3.6).


def test_ttl_flag_other_than_01_means_no_ttl_and_is_reported() -> None:
    rec = b"\x01\x02" + _b(b"k") + _b(b"v")  # no u64 follows a flag of 02
    ks = _ks()
    report = read_snapshot(_snap(rec), ks)
    assert ks.raw()[b"k"].deadline_ms is None
    assert report.odd_ttl_flags == [(9, 2)]


def test_passed_deadline_loads_an_expired_key() -> None:
    rec = b"\x01\x01" + struct.pack("<Q", NOW - 10) + _b(b"k") + _b(b"v")
    ks = _ks()
    report = read_snapshot(_snap(rec), ks)
    assert len(ks) == 1  # inserted: counts toward DBSIZE
    assert ks.raw()[b"k"].deadline_ms == NOW  # remaining 0
    assert document(ks)["keys"] == []  # but never seen live
    assert report.expired_on_load == [(9, b"k")]


def test_deadline_saturates_on_write() -> None:
    assert encode_record(b"k", b"v", U64_MAX)[2:10] == b"\xff" * 8
    data = encode_snapshot([(b"k", b"v", U64_MAX)], NOW)
    assert data[11:19] == b"\xff" * 8


def test_duplicates_collapse_within_a_record() -> None:
    h = b"\x02\x00" + _b(b"h") + struct.pack("<I", 3) + _b(b"f") + _b(b"1") + _b(b"g") + \
        _b(b"2") + _b(b"f") + _b(b"3")
    s = b"\x04\x00" + _b(b"s") + struct.pack("<I", 3) + _b(b"a") + _b(b"b") + _b(b"a")
    z = b"\x05\x00" + _b(b"z") + struct.pack("<I", 2) + _b(b"m") + struct.pack("<d", 1.0) + \
        _b(b"m") + struct.pack("<d", 2.0)
    entries = (struct.pack("<QQI", 2, 0, 1) + _b(b"f") + _b(b"old")
               + struct.pack("<QQI", 1, 0, 1) + _b(b"f") + _b(b"x")
               + struct.pack("<QQI", 2, 0, 1) + _b(b"f") + _b(b"new"))
    groups = (struct.pack("<I", 1) + _b(b"g") + struct.pack("<QQ", 0, 0)
              + struct.pack("<I", 1) + _b(b"c1") + struct.pack("<Q", 77)
              + struct.pack("<I", 2)
              + struct.pack("<QQ", 2, 0) + _b(b"ghost") + struct.pack("<QI", 5, 1)
              + struct.pack("<QQ", 1, 0) + _b(b"c1") + struct.pack("<QI", 6, 2))
    x = (b"\x06\x00" + _b(b"x") + struct.pack("<QQQQQ", 2, 0, 0, 0, 3)
         + struct.pack("<I", 3) + entries + groups)
    ks = _ks()
    report = read_snapshot(_snap(h, s, z, x), ks)
    raw = ks.raw()
    assert raw[b"h"].value == {b"f": b"3", b"g": b"2"}
    assert list(raw[b"s"].value) == [b"a", b"b"]
    assert raw[b"z"].value.scores == {b"m": 2.0}
    stream = raw[b"x"].value
    assert stream.entries == {(2, 0): [(b"f", b"new")], (1, 0): [(b"f", b"x")]}
    g = stream.groups[b"g"]
    assert g.consumers == {b"c1": 77, b"ghost": 0}  # orphan owner joins with last_seen 0
    assert g.pending_count(b"ghost") == 1 and g.pending_count(b"c1") == 1
    kinds = {(what, n) for _, _, what, n in report.duplicates}
    assert kinds == {("hash field", 1), ("set member", 1), ("zset member", 1),
                     ("stream entry", 1)}
    assert [(w, i) for _, _, w, i in report.non_ascending] == [
        ("stream entry", "1-0"), ("pel row", "1-0")]
    assert report.orphan_pel_owners == [(x_offset(h, s, z), b"x", b"ghost")]


def x_offset(*before: bytes) -> int:
    return 9 + sum(len(r) for r in before)


def test_records_replace_existing_keys_without_clearing() -> None:
    ks = _ks()
    ks.put(b"old", b"kept")
    ks.put(b"k", [b"list"])
    report = read_snapshot(_snap(b"\x01\x00" + _b(b"k") + _b(b"new")), ks)
    assert ks.raw()[b"k"].value == b"new" and ks.raw()[b"old"].value == b"kept"
    assert report.replaced == [(9, b"k")]


def test_trailing_bytes_after_eof_are_ignored_but_reported() -> None:
    data = STRING_KV + b"garbage"
    ks = _ks()
    report = read_snapshot(data, ks)
    assert ks.raw()[b"k"].value == b"v"
    assert (report.eof_offset, report.trailing_offset, report.trailing_bytes) == (21, 22, 7)
    assert "7 bytes after the EOF marker" in report.findings()[0]


# --------------------------------------------------------------------------
# Corrupt and hostile input.


@pytest.mark.parametrize("data", [b"KEVYSNAQ\x04\x00", b"XX", b"kevysnap\x04\x00"])
def test_bad_magic(data: bytes) -> None:
    with pytest.raises(SnapshotCorrupt, match="bad magic") as info:
        read_snapshot(data, _ks())
    assert isinstance(info.value, CorruptInput) and info.value.offset == 0


@pytest.mark.parametrize("version", [0, 1, 5, 255])
def test_bad_version(version: int) -> None:
    with pytest.raises(SnapshotCorrupt, match="bad version") as info:
        read_snapshot(b"KEVYSNAP" + bytes([version]) + b"\x00", _ks())
    assert info.value.offset == 8
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("op", [7, 8, 100, 255])
def test_unknown_opcode_after_ttl_and_key(op: int) -> None:
    good = b"\x01\x00" + _b(b"a") + _b(b"1")
    bad = bytes([op]) + b"\x01" + struct.pack("<Q", 0) + _b(b"key")
    ks = _ks()
    with pytest.raises(SnapshotCorrupt, match=f"unknown opcode {op}:") as info:
        read_snapshot(_snap(good, bad), ks)
    err = info.value
    assert err.message == f"kevy snapshot: unknown opcode {op}"
    assert err.offset == 9 + len(good) and err.records_loaded == 1
    assert ks.raw()[b"a"].value == b"1"  # records before the error stay


def test_unknown_opcode_with_short_key_is_a_truncation() -> None:
    # kevy reads TTL and key before judging the opcode (§3.6 step 4).
    data = b"KEVYSNAP\x04" + b"\x09\x00" + struct.pack("<I", 10) + b"abc"
    with pytest.raises(SnapshotTruncated):
        read_snapshot(data, _ks())


HOSTILE = [
    ("key length", b"\x01\x00" + b"\xff\xff\xff\xff" + b"abc"),
    ("string length", b"\x01\x00" + _b(b"k") + b"\xff\xff\xff\xff" + b"abc"),
    ("hash count", b"\x02\x00" + _b(b"k") + b"\xff\xff\xff\xff" + _b(b"f")),
    ("list count", b"\x03\x00" + _b(b"k") + b"\xff\xff\xff\xff" + _b(b"e")),
    ("set count", b"\x04\x00" + _b(b"k") + b"\xff\xff\xff\xff" + _b(b"e")),
    ("zset count", b"\x05\x00" + _b(b"k") + b"\xff\xff\xff\xff" + _b(b"e")),
    ("list element", b"\x03\x00" + _b(b"k") + struct.pack("<I", 1) + b"\xff\xff\xff\xff"),
    ("stream entries", b"\x06\x00" + _b(b"k") + bytes(40) + b"\xff\xff\xff\xff"),
    ("entry fields", b"\x06\x00" + _b(b"k") + bytes(40) + struct.pack("<I", 1) + bytes(16)
     + b"\xff\xff\xff\xff"),
    ("groups", b"\x06\x00" + _b(b"k") + bytes(40) + bytes(4) + b"\xff\xff\xff\xff"),
    ("consumers", b"\x06\x00" + _b(b"k") + bytes(40) + bytes(4) + struct.pack("<I", 1)
     + _b(b"g") + bytes(16) + b"\xff\xff\xff\xff"),
    ("pel", b"\x06\x00" + _b(b"k") + bytes(40) + bytes(4) + struct.pack("<I", 1)
     + _b(b"g") + bytes(16) + bytes(4) + b"\xff\xff\xff\xff"),
]


@pytest.mark.parametrize(("what", "record"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_count_costs_nothing(what: str, record: bytes) -> None:
    data = _snap(record, tail=b"")
    tracemalloc.start()
    try:
        start = time.perf_counter()
        with pytest.raises(SnapshotTruncated) as info:
            read_snapshot(data, _ks())
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"{what}: peak {peak} bytes for a declared 4 GiB"
    assert elapsed < 1.0  # a loop over 2^32 elements would take minutes
    assert info.value.offset == 9 and info.value.at == len(data)


def _valid_snapshot() -> bytes:
    st_ = Stream(entries={(7, 1): [(b"a", b"1")], (8, 0): []}, last_id=(9, 9),
                 max_deleted_id=(9, 9), entries_added=5,
                 groups={b"g": StreamGroup((8, 0), {b"c1": 5, b"c2": 0},
                                           {(7, 1): PelRow(b"c1", 1234, 1),
                                            (9, 9): PelRow(b"c2", 1, 2)})})
    rows = [(b"s", b"v", 1000), (b"h", {b"f": b"v"}, None), (b"l", [b"a", b""], None),
            (b"set", SetValue.fromkeys([b"x"]), None), (b"z", ZSet({b"m": -0.0}), 5),
            (b"st", st_, None)]
    return encode_snapshot(rows, NOW)


def test_every_truncation_is_typed_and_in_range() -> None:
    data = _valid_snapshot()
    eof = len(data) - 1
    for cut in range(len(data) + 1):
        ks = _ks()
        if cut > eof:
            read_snapshot(data[:cut], ks)
            assert len(ks) == 6
            continue
        with pytest.raises(SnapshotTruncated) as info:
            read_snapshot(data[:cut], ks)
        err = info.value
        assert isinstance(err, TruncatedInput)
        assert 0 <= err.offset <= cut and err.at == cut, (cut, str(err))
        assert len(ks) == err.records_loaded
        assert "\n" not in str(err)


@given(st.binary(max_size=64))
def test_arbitrary_bytes_never_escape_the_error_tree(tail: bytes) -> None:
    for data in (tail, b"KEVYSNAP\x04" + tail, b"KEVYSNAP\x02" + tail):
        try:
            read_snapshot(data, _ks())
        except (SnapshotTruncated, SnapshotCorrupt) as err:
            assert 0 <= err.offset <= len(data) and err.at <= len(data)


def test_error_message_is_one_line_with_offsets() -> None:
    data = STRING_KV[:-3]
    with pytest.raises(SnapshotTruncated) as info:
        read_snapshot(data, _ks())
    assert str(info.value) == (
        "truncated snapshot record at offset 9 (byte 19): "
        "data ends inside the record after 0 complete record(s)")


# --------------------------------------------------------------------------
# Writer limits.


class _Huge(bytes):
    """A byte string that claims to be longer than u32 can say."""

    def __len__(self) -> int:
        return 2**32


def test_length_over_u32_is_refused_not_truncated() -> None:
    with pytest.raises(UnrepresentableValue, match="element length 4294967296"):
        encode_snapshot([(b"l", [_Huge()], None)], NOW)
    with pytest.raises(UnrepresentableValue, match="entries_added"):
        encode_snapshot([(b"s", Stream(entries_added=2**64), None)], NOW)


# --------------------------------------------------------------------------
# Files (§3.8) through the real file system.


class _Recorder(OsFileSystem):
    """OsFileSystem that logs each call (and each write's size)."""

    def __init__(self) -> None:
        self.log: list[tuple] = []

    def create_truncate(self, path: str):  # type: ignore[no-untyped-def]
        self.log.append(("create", Path(path).name))
        inner = super().create_truncate(path)
        log = self.log

        class F:
            path = inner.path

            def write(self, data: bytes) -> int:
                log.append(("write", len(data)))
                return inner.write(data)

            def fsync(self) -> None:
                log.append(("fsync",))
                inner.fsync()

            def fdatasync(self) -> None:
                log.append(("fdatasync",))
                inner.fdatasync()

            def size(self) -> int:
                return inner.size()

            def truncate(self, n: int) -> None:
                inner.truncate(n)

            def close(self) -> None:
                log.append(("close",))
                inner.close()

        return F()

    def rename(self, src: str, dst: str) -> None:
        self.log.append(("rename", Path(src).name, Path(dst).name))
        super().rename(src, dst)

    def fsync_dir(self, path: str) -> None:
        self.log.append(("fsync_dir",))
        super().fsync_dir(path)


def test_save_snapshot_writes_tmp_then_renames(tmp_path: Path) -> None:
    fs = _Recorder()
    src = _ks()
    src.put(b"big", b"x" * (2 * CHUNK_SIZE + 10))
    src.put(b"ttl", [b"a"], NOW + 60_000)
    target = str(tmp_path / "dump-0.rdb")
    save_snapshot(fs, src, target, NOW)
    size = (tmp_path / "dump-0.rdb").stat().st_size
    assert fs.log == [
        ("create", "dump-0.rdb.tmp"),
        ("write", CHUNK_SIZE), ("write", CHUNK_SIZE), ("write", size - 2 * CHUNK_SIZE),
        ("fsync",), ("close",),
        ("rename", "dump-0.rdb.tmp", "dump-0.rdb"),
    ]  # no directory fsync: kevy 1.17 (§3.8)
    assert not (tmp_path / "dump-0.rdb.tmp").exists()
    dst = _ks()
    report = load_snapshot(fs, target, dst)
    assert report.records == 2
    assert same_keyspace(document(src), document(dst), tolerance_ms=0)


def test_write_snapshot_tmp_does_not_rename(tmp_path: Path) -> None:
    src = _ks()
    src.put(b"k", b"v")
    tmp = write_snapshot_tmp(OsFileSystem(), src, str(tmp_path / "d.rdb"), NOW)
    assert tmp == str(tmp_path / "d.rdb.tmp")
    assert Path(tmp).read_bytes() == STRING_KV
    assert not (tmp_path / "d.rdb").exists()


def test_failed_write_leaves_tmp_in_place(tmp_path: Path) -> None:
    def rows():  # type: ignore[no-untyped-def]
        yield b"k", b"v", None
        raise OSError(28, "No space left on device")

    target = str(tmp_path / "d.rdb")
    with pytest.raises(OSError):
        save_snapshot(OsFileSystem(), rows(), target, NOW)
    assert (tmp_path / "d.rdb.tmp").exists() and not (tmp_path / "d.rdb").exists()


def test_load_snapshot_errors_carry_the_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.rdb"
    path.write_bytes(STRING_KV[:15])
    with pytest.raises(SnapshotTruncated) as info:
        load_snapshot(OsFileSystem(), str(path), _ks())
    assert str(info.value).startswith(f"{path}: truncated snapshot record at offset 9")


# --------------------------------------------------------------------------
# Frozen views (§9.3) and F3.


def _frozen_then_written(profile) -> int:  # type: ignore[no-untyped-def]
    ks = _ks()
    ks.put(b"k", b"v", NOW + 10_000)
    view = freeze(ks, NOW, profile=profile)
    ks.put(b"k", b"changed")  # the view is a copy
    data = encode_snapshot(view.items_at(NOW + 500), NOW + 500)  # written 500 ms later
    assert view[0][1] == b"v"
    out = _ks(NOW + 500)
    read_snapshot(data, out)
    return out.raw()[b"k"].deadline_ms  # type: ignore[return-value]


def test_frozen_view_deadline_drifts_in_kevy_1_17() -> None:
    assert _frozen_then_written(KEVY_1_17) == NOW + 10_500  # F3: 500 ms late


def test_frozen_view_deadline_exact_when_fixed() -> None:
    assert _frozen_then_written(HARDENED) == NOW + 10_000


def test_freeze_copies_values_and_drops_expired_keys() -> None:
    ks = _ks()
    st_ = Stream(entries={(1, 0): [(b"f", b"v")]}, last_id=(1, 0), entries_added=1,
                 groups={b"g": StreamGroup((1, 0), {b"c": 1}, {(1, 0): PelRow(b"c", 1, 1)})})
    ks.put(b"st", st_)
    ks.put(b"gone", b"x", NOW)
    view = freeze(ks, NOW)
    assert isinstance(view, FrozenView) and [r[0] for r in view] == [b"st"]
    st_.groups[b"g"].pel.clear()
    st_.entries.clear()
    frozen = view[0][1]
    assert (1, 0) in frozen.entries and (1, 0) in frozen.groups[b"g"].pel
