"""impl/snapshot.py's writer and frozen view, pinned where mutmut found them loose
(README "Adequacy"; the reader's side is tests/test_snapshot_mutants.py).

Every writer bound names the key, the field, the value and the limit, and
accepts the limit itself; a frozen view holds deep copies; what reaches the OS
before a later record fails; the directory-fsync hook of `save_snapshot`.
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
    UnrepresentableValue,
    copy_value,
    encode_record,
    encode_snapshot,
    freeze,
    read_snapshot,
    save_snapshot,
    write_snapshot_tmp,
)
from tests.recording_fs import RecordingFS

NOW = 1_795_392_000_000


def _ks(now: int = NOW) -> Keyspace:
    return Keyspace(ManualClock(now))


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


def test_a_deadline_before_the_epoch_is_written_as_0() -> None:
    rec = encode_snapshot([(b"k", b"v", -NOW - 5)], NOW)
    assert rec[9:11] == b"\x01\x01" and rec[11:19] == bytes(8)


def test_live_view_judges_expiry_at_the_time_it_is_given() -> None:
    from impl.snapshot import live_view

    ks = _ks(NOW)
    ks.put(b"soon", b"v", NOW + 10)
    ks.put(b"later", b"v", NOW + 100)
    assert [(k, rem) for k, _, rem in live_view(ks, NOW + 20)] == [(b"later", 80)]


def test_an_exact_frozen_view_keeps_a_key_without_ttl_without_ttl() -> None:
    from impl.profile import HARDENED

    ks = _ks(NOW)
    ks.put(b"forever", b"v", None)
    ks.put(b"soon", b"v", NOW + 1000)
    view = freeze(ks, NOW, profile=HARDENED)
    assert sorted((k, rem) for k, _, rem in view.items_at(NOW + 300)) == [
        (b"forever", None),
        (b"soon", 700),
    ]
