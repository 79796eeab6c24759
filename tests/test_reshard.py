"""Tests for impl/reshard.py: merge, redistribution, commit, finish, recovery (docs/SPEC.md §8,
§9.1).

Method: a source directory is built in the old layout (snapshots + AOFs of
every type, TTLs, an already-expired key); the *expected* keyspace is what a
same-layout open reads from it. A re-shard then runs through `CrashingFS`,
which raises a private `BaseException` instead of performing its k-th
mutating call (create, write, fsync, rename, unlink, ...) — a process crash:
every completed call survives, nothing after it happens. Then `reopen` does
what `Store.open` does (§9.1 steps 4–6: recover the journal, read
`shards.meta`, load the same layout or re-shard again) and the union of the
shards must equal the expected keyspace exactly (deadlines to the ms), with
every key in exactly one shard, the one KevyHash names. Every k is tried, on
the real disk (pytest's tmp_path) and in memory (an OverlayFileSystem over an
empty directory).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.explore import explore
from impl.aof import FsyncPolicy
from impl.clock import ManualClock
from impl.fs import FileSystem, OsFileSystem, OverlayFileSystem, WritableFile, join, write_all
from impl.journal import Journal, JournalUnreadable, format_journal, parse_journal
from impl.keyspace import Keyspace, SetValue, Stream, StreamGroup, ZSet
from impl.keyspace_json import describe_difference, document, same_keyspace
from impl.layout import (
    JOURNAL,
    SHARDS_META,
    STANDARD_NAMES,
    FileNames,
    Layout,
    Routing,
    format_shards_meta,
    infer_files_n,
    parse_shards_meta,
    premigration_of,
    reshard_of,
    reshard_tmp_of,
    shard_of,
)
from impl.profile import HARDENED, KEVY_1_17, SWITCHES, Profile
from impl.reshard import (
    DIR_FSYNC_SWITCH,
    META_FSYNC_SWITCH,
    commit_reshard,
    finish_reshard,
    merge_sources,
    recover_journal,
    redistribute,
    reshard_open,
    stamp_from_ms,
)
from impl.resp import MAGIC, encode_frame
from impl.snapshot import SnapshotCorrupt, save_snapshot
from impl.store import Store, StoreConfig
from model.crashfs import MODELS, CrashFS, SimulatedCrash
from tests.recording_fs import RecordingFS

#: 2026-11-23T00:00:00Z, the day the golden directory was generated.
NOW = 1_795_392_000_000
STAMP = NOW * 1_000_000
FUTURE = NOW + 3_600_123  # a deadline an hour away, not a round number
CUSTOM = FileNames.embedded("data.snap", "data.aof")
GOLDEN = Path(__file__).parent / "golden" / "dirs"


# --------------------------------------------------------------------------
# Crash injection.


class _Crash(BaseException):
    """The injected process crash. A BaseException, so `except Exception`/`OSError`
    cleanup in the code under test cannot swallow it."""


class _CrashingFile:
    def __init__(self, fs: CrashingFS, inner: WritableFile) -> None:
        self._fs = fs
        self._inner = inner
        self.path = inner.path

    def write(self, data: bytes) -> int:
        self._fs.tick(f"write {os.path.basename(self.path)}")
        return self._inner.write(data)

    def fdatasync(self) -> None:
        self._fs.tick(f"fdatasync {os.path.basename(self.path)}")
        self._inner.fdatasync()

    def fsync(self) -> None:
        self._fs.tick(f"fsync {os.path.basename(self.path)}")
        self._inner.fsync()

    def truncate(self, length: int) -> None:
        self._fs.tick(f"truncate {os.path.basename(self.path)}")
        self._inner.truncate(length)

    def size(self) -> int:
        return self._inner.size()

    def close(self) -> None:
        self._inner.close()  # closing persists nothing; never a crash point


class CrashingFS:
    """Forwards to `base`; the `crash_at`-th mutating call (1-based) raises `_Crash`
    instead of running. `ops` names every mutating call attempted, in order."""

    def __init__(self, base: FileSystem, crash_at: int | None = None) -> None:
        self.base = base
        self.crash_at = crash_at
        self.ops: list[str] = []

    def tick(self, op: str) -> None:
        self.ops.append(op)
        if self.crash_at is not None and len(self.ops) == self.crash_at:
            raise _Crash(f"point {self.crash_at}: {op}")

    def read_bytes(self, path: str) -> bytes:
        return self.base.read_bytes(path)

    def exists(self, path: str) -> bool:
        return self.base.exists(path)

    def is_dir(self, path: str) -> bool:
        return self.base.is_dir(path)

    def file_size(self, path: str) -> int:
        return self.base.file_size(path)

    def listdir(self, path: str) -> list[str]:
        return self.base.listdir(path)

    def makedirs(self, path: str) -> None:
        self.base.makedirs(path)

    def open_append(self, path: str, *, create: bool = True) -> WritableFile:
        self.tick(f"open_append {os.path.basename(path)}")
        return _CrashingFile(self, self.base.open_append(path, create=create))

    def create_truncate(self, path: str) -> WritableFile:
        self.tick(f"create {os.path.basename(path)}")
        return _CrashingFile(self, self.base.create_truncate(path))

    def rename(self, src: str, dst: str) -> None:
        self.tick(f"rename {os.path.basename(src)} -> {os.path.basename(dst)}")
        self.base.rename(src, dst)

    def unlink(self, path: str) -> None:
        self.tick(f"unlink {os.path.basename(path)}")
        self.base.unlink(path)

    def fsync_dir(self, path: str) -> None:
        self.tick(f"fsync_dir {os.path.basename(path)}")
        self.base.fsync_dir(path)


# --------------------------------------------------------------------------
# Directories: fresh ones on disk or in memory, and their contents.

FsFactory = Callable[[str], tuple[FileSystem, str]]


def dir_factory(kind: str, tmp_path: Path) -> FsFactory:
    """`make(tag)` → (fs, directory): a fresh empty data directory, on the real disk
    (`kind == "os"`) or in memory (an OverlayFileSystem over an empty directory)."""
    def make(tag: str) -> tuple[FileSystem, str]:
        if kind == "os":
            path = tmp_path / tag
            path.mkdir()
            return OsFileSystem(), str(path)
        base = tmp_path / f"empty-{tag}"
        base.mkdir()
        return OverlayFileSystem(OsFileSystem()), str(base)
    make.on_disk = kind == "os"  # type: ignore[attr-defined]
    return make


@pytest.fixture(params=["os", "memory"])
def new_dir(request: pytest.FixtureRequest, tmp_path: Path) -> FsFactory:
    return dir_factory(request.param, tmp_path)


def files(fs: FileSystem, directory: str) -> dict[str, bytes]:
    """Every file in `directory` with its bytes."""
    return {name: fs.read_bytes(join(directory, name)) for name in fs.listdir(directory)}


def write_file(fs: FileSystem, path: str, data: bytes) -> None:
    f = fs.create_truncate(path)
    try:
        write_all(f, data)
    finally:
        f.close()


def aof_bytes(*frames: tuple[bytes, ...]) -> bytes:
    return MAGIC + b"".join(encode_frame(list(argv)) for argv in frames)


def ks(now: int = NOW) -> Keyspace:
    return Keyspace(ManualClock(now))


def sample_stream() -> Stream:
    st = Stream(entries={(1700000000000, 0): [(b"e", b"1")], (1700000000001, 3): [(b"e", b"2")]},
                last_id=(1700000000001, 3), max_deleted_id=(1, 1), entries_added=5)
    st.groups[b"g"] = StreamGroup(last_delivered=(1700000000000, 0), consumers={b"c": 7})
    return st


def build_source(fs: FileSystem, directory: str, n: int, names: FileNames = STANDARD_NAMES,
                 *, meta: bool = True) -> None:
    """An n-shard data directory as kevy leaves it: per shard a snapshot (every type,
    TTLs, one key already expired) and an AOF written after it (overwrites, a DEL,
    a PEXPIREAT, a key expired by PEXPIREAT in the past). Keys are routed as kevy
    routes them, so a same-layout open reads each key from exactly one shard."""
    shards = [ks() for _ in range(n)]
    frames: list[list[tuple[bytes, ...]]] = [[] for _ in range(n)]

    def at(key: bytes) -> int:
        return shard_of(key, n)

    for j in range(12):
        key = b"s:%d" % j
        shards[at(key)].put(key, b"v%d" % j, FUTURE + j if j % 3 == 0 else None)
    for key, value in [
        (b"h", {b"f": b"1", b"g": b"2"}),
        (b"l", [b"x", b"y", b"x"]),
        (b"set", SetValue({b"a": None, b"b": None})),
        (b"z", ZSet({b"m": -0.0, b"n": float("inf"), b"o": 1.5})),
        (b"stream", sample_stream()),
        (b"bin\x00\xff", b"\r\n\x00"),
    ]:
        shards[at(key)].put(key, value, FUTURE if key == b"h" else None)
    shards[at(b"gone")].put(b"gone", b"expired before the re-shard", NOW - 1)
    for j in range(12):
        key = b"a:%d" % j
        frames[at(key)].append((b"SET", key, b"w%d" % j))
    for key in (b"s:1", b"s:4"):  # overwrite a snapshot key from the log
        frames[at(key)].append((b"SET", key, b"rewritten"))
    frames[at(b"s:2")].append((b"DEL", b"s:2"))
    frames[at(b"a:5")].append((b"PEXPIREAT", b"a:5", b"%d" % (FUTURE + 77)))
    frames[at(b"a:6")].append((b"PEXPIREAT", b"a:6", b"%d" % (NOW - 5)))  # deletes at once
    frames[at(b"h")].append((b"HSET", b"h", b"f", b"9"))
    frames[at(b"l")].append((b"RPUSH", b"l", b"tail"))
    frames[at(b"z")].append((b"ZADD", b"z", b"2.25", b"p"))
    for i in range(n):
        save_snapshot(fs, shards[i], names.snapshot_path(directory, i, n), NOW)
        write_file(fs, names.aof_path(directory, i, n), aof_bytes(*frames[i]))
    if meta:
        write_file(fs, join(directory, SHARDS_META), format_shards_meta(Layout(n)))


def read_layout(fs: FileSystem, directory: str, n: int, names: FileNames) -> list[Keyspace]:
    """§9.1 "Same": shard i's snapshot, then its AOF, into shard i (no re-routing)."""
    from impl.replay import replay_aof
    from impl.snapshot import load_snapshot

    shards = [ks() for _ in range(n)]
    for i in range(n):
        snap = names.snapshot_path(directory, i, n)
        if fs.exists(snap):
            load_snapshot(fs, snap, shards[i], NOW)
        replay_aof(fs, names.aof_path(directory, i, n), shards[i], profile=KEVY_1_17)
    return shards


def reopen(fs: FileSystem, directory: str, n: int, names: FileNames = STANDARD_NAMES,
           *, now: int = NOW, log: list[str] | None = None) -> list[Keyspace]:
    """What Store.open does with a data directory (docs/SPEC.md §9.1 steps 4–6), minus the AOFs."""
    recover_journal(fs, directory, names, log=(log if log is not None else []).append)
    meta = join(directory, SHARDS_META)
    prev = parse_shards_meta(fs.read_bytes(meta)) if fs.exists(meta) else None
    same = (prev is not None and prev.n == n and prev.routing is Routing.KEVYHASH) or (
        prev is None and n == 1 and infer_files_n(fs, directory) <= 1)
    if same:
        shards = read_layout(fs, directory, n, names)
        if n > 1 or names.default_names:
            write_file(fs, meta, format_shards_meta(Layout(n)))
        return shards
    if prev is not None:
        src_n = prev.n
    else:
        inferred = infer_files_n(fs, directory)
        src_n = inferred if inferred > 1 else 1
    shards = [ks(now) for _ in range(n)]
    reshard_open(fs, directory, src_n=src_n, n=n, names=names, shards=shards, now_ms=now,
                 profile=KEVY_1_17)
    return shards


def assert_routed(shards: list[Keyspace]) -> None:
    """Every key sits in the shard KevyHash names, so none is held twice."""
    for i, shard in enumerate(shards):
        for key in shard.raw():
            assert shard_of(key, len(shards)) == i, (key, i)


def assert_same(expected: list[Keyspace], actual: list[Keyspace], context: str = "") -> None:
    __tracebackhide__ = True
    exp, act = document(expected, NOW), document(actual, NOW)
    diff = describe_difference(exp, act, tolerance_ms=0)
    assert diff is None, f"{context}: {diff}"
    assert sum(len(list(s.live_items(NOW))) for s in actual) == len(act["keys"]), context


# --------------------------------------------------------------------------
# §8.2 merge order and the FLUSHALL rule.


def test_merge_loads_shards_in_order_snapshot_then_aof(new_dir: FsFactory) -> None:
    fs, d = new_dir("merge")
    snaps = {0: {b"a": b"s0", b"b": b"s0"}, 1: {b"a": b"s1", b"c": b"s1"}}
    for i, keys in snaps.items():
        src = ks()
        for k, v in keys.items():
            src.put(k, v)
        save_snapshot(fs, src, join(d, f"dump-{i}.rdb"), NOW)
    write_file(fs, join(d, "aof-0.aof"), aof_bytes((b"SET", b"a", b"a0"), (b"SET", b"z", b"z0")))
    # Shard 1's log deletes a key merged from shard 0: one keyspace for the whole merge.
    write_file(fs, join(d, "aof-1.aof"), aof_bytes((b"DEL", b"b"), (b"SET", b"c", b"c1")))
    write_file(fs, join(d, "aof-2.aof"), aof_bytes((b"SET", b"d", b"d2")))
    temp = ks()
    found = merge_sources(fs, d, 3, STANDARD_NAMES, temp, profile=KEVY_1_17, now_ms=NOW)
    assert found == [join(d, n) for n in ("dump-0.rdb", "aof-0.aof", "dump-1.rdb",
                                          "aof-1.aof", "aof-2.aof")]
    got = {k: e.value for k, e in temp.live_items(NOW)}
    # a: s0 < a0 (shard 0's log) < s1 (shard 1's snapshot loads after shard 0's log).
    assert got == {b"a": b"s1", b"z": b"z0", b"c": b"c1", b"d": b"d2"}
    assert sorted(fs.listdir(d)) == ["aof-0.aof", "aof-1.aof", "aof-2.aof", "dump-0.rdb",
                                     "dump-1.rdb"]  # nothing moved


def test_merge_flushall_in_a_later_shard_removes_earlier_shards_keys(
        new_dir: FsFactory) -> None:
    fs, d = new_dir("flush")
    for i in range(3):
        src = ks()
        src.put(b"k%d" % i, b"snap")
        save_snapshot(fs, src, join(d, f"dump-{i}.rdb"), NOW)
    write_file(fs, join(d, "aof-0.aof"), aof_bytes((b"SET", b"x", b"0")))
    write_file(fs, join(d, "aof-1.aof"), aof_bytes((b"SET", b"y", b"1"), (b"FLUSHALL",),
                                                   (b"SET", b"after", b"1")))
    temp = ks()
    merge_sources(fs, d, 3, STANDARD_NAMES, temp, profile=KEVY_1_17, now_ms=NOW)
    # k0, x (shard 0), k1, y (shard 1 before the flush) are gone; k2 loads after it.
    assert {k: e.value for k, e in temp.live_items(NOW)} == {b"after": b"1", b"k2": b"snap"}


def test_hardened_merge_flushall_clears_only_its_own_shard(new_dir: FsFactory) -> None:
    # F21: FLUSHALL is logged into every shard; kevy's one-keyspace merge lets shard
    # 1's copy wipe shard 0's keys. Loaded shard by shard, each flush clears its own.
    fs, d = new_dir("flush-hardened")
    for i in range(3):
        src = ks()
        src.put(b"k%d" % i, b"snap")
        save_snapshot(fs, src, join(d, f"dump-{i}.rdb"), NOW)
    write_file(fs, join(d, "aof-0.aof"), aof_bytes((b"SET", b"x", b"0")))
    write_file(fs, join(d, "aof-1.aof"), aof_bytes((b"SET", b"y", b"1"), (b"FLUSHALL",),
                                                   (b"SET", b"after", b"1")))
    temp = ks()
    merge_sources(fs, d, 3, STANDARD_NAMES, temp, profile=HARDENED, now_ms=NOW)
    got = {k: e.value for k, e in temp.live_items(NOW)}
    assert got == {b"k0": b"snap", b"x": b"0", b"after": b"1", b"k2": b"snap"}


def test_merge_load_error_aborts_before_anything_is_written(new_dir: FsFactory) -> None:
    fs, d = new_dir("corrupt")
    build_source(fs, d, 2)
    write_file(fs, join(d, "dump-1.rdb"), b"KEVYSNAQ\x04\x00\x00\x00")
    before = files(fs, d)
    with pytest.raises(SnapshotCorrupt):
        reopen(fs, d, 3)
    assert files(fs, d) == before


# --------------------------------------------------------------------------
# §9.1 redistribution.


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 8])
def test_redistribution_matches_kevy_routing(n: int, new_dir: FsFactory) -> None:
    import json

    golden = json.loads((GOLDEN.parent / "routing" / "routing_kevyhash.json").read_text())
    fs, d = new_dir(f"route{n}")
    src = ks()
    for j, entry in enumerate(golden["keys"]):
        src.put(entry["key"].encode("latin-1"), b"%d" % j, FUTURE + j if j % 2 else None)
    save_snapshot(fs, src, join(d, "dump-0.rdb"), NOW)
    write_file(fs, join(d, SHARDS_META), format_shards_meta(Layout(1)))
    shards = [ks() for _ in range(n)]
    reshard_open(fs, d, src_n=1, n=n, names=STANDARD_NAMES, shards=shards, now_ms=NOW,
                 profile=KEVY_1_17)
    for entry in golden["keys"]:
        key = entry["key"].encode("latin-1")
        holders = [i for i, s in enumerate(shards) if key in s.raw()]
        # kevy's own answer, observed on a real store (not our shard_of).
        assert holders == [entry["shard"][str(n)]], entry["key"][:40]
    assert_same([src], shards)
    # What was committed reads back shard by shard as the same keyspace.
    assert_same([src], read_layout(fs, d, n, STANDARD_NAMES), "after reading the new layout")


def test_redistribute_keeps_exact_deadlines_and_drops_expired_keys() -> None:
    temp = ks()
    temp.put(b"live", b"1", NOW + 1)
    temp.put(b"edge", b"1", NOW)  # deadline ≤ now is expired (§6.2)
    temp.put(b"forever", b"1")
    stores = [ks() for _ in range(3)]
    assert redistribute(temp, stores, NOW) == 2
    placed = {k: e.deadline_ms for s in stores for k, e in s.raw().items()}
    assert placed == {b"live": NOW + 1, b"forever": None}


# --------------------------------------------------------------------------
# §8.3/§8.5: the files a completed re-shard leaves, and kevy's exact call order.


@pytest.mark.parametrize(("prev_n", "n"), [(1, 3), (3, 2), (2, 5), (4, 1)])
def test_commit_leaves_exactly_the_glossary_files(prev_n: int, n: int,
                                                  new_dir: FsFactory) -> None:
    fs, d = new_dir(f"files{prev_n}{n}")
    build_source(fs, d, prev_n)
    old = files(fs, d)
    expected = read_layout(fs, d, prev_n, STANDARD_NAMES)
    shards = reopen(fs, d, n)
    assert_routed(shards)
    assert_same(expected, shards)
    after = files(fs, d)
    backups = {premigration_of(name, STAMP): data
               for name, data in old.items() if name != SHARDS_META}
    assert set(after) == {f"dump-{i}.rdb" for i in range(n)} | {SHARDS_META} | set(backups)
    assert after[SHARDS_META] == b"%d\nkevyhash\n" % n
    for name, data in backups.items():
        assert after[name] == data, f"backup {name} differs from the file it saved"
    assert_same(expected, read_layout(fs, d, n, STANDARD_NAMES), "new layout read back")


def _protocol(calls: list[tuple]) -> list[tuple]:
    """Recorded mutations with snapshot bytes elided (they are tested elsewhere)."""
    out = []
    for call in calls:
        if call[0] == "write" and call[1] not in (JOURNAL, SHARDS_META):
            out.append(("write", call[1]))
        else:
            out.append(call)
    return out


def test_calls_are_kevys_in_kevys_order(tmp_path: Path) -> None:
    fs = RecordingFS(OsFileSystem())
    d = str(tmp_path)
    build_source(fs, d, 2)
    fs.calls.clear()
    reopen(fs, d, 3)
    journal = format_journal(Journal(stamp=STAMP, prev_n=2, n=3, routing=Routing.KEVYHASH))
    pre = f".premigration.{STAMP}"
    save = []
    for i in range(3):
        tmp, done = f"dump-{i}.rdb.reshard.tmp", f"dump-{i}.rdb.reshard"
        save += [("create", tmp), ("write", tmp), ("fsync", tmp), ("close", tmp),
                 ("rename", tmp, done)]
    assert _protocol(fs.mutations()) == [
        ("unlink", "dump-0.rdb.reshard"), ("unlink", "dump-1.rdb.reshard"),
        ("unlink", "dump-2.rdb.reshard"),
        *save,
        ("create", JOURNAL), ("write", JOURNAL, journal), ("fsync", JOURNAL),
        ("close", JOURNAL),  # the commit point
        ("rename", "dump-0.rdb", "dump-0.rdb" + pre), ("rename", "aof-0.aof", "aof-0.aof" + pre),
        ("rename", "dump-1.rdb", "dump-1.rdb" + pre), ("rename", "aof-1.aof", "aof-1.aof" + pre),
        ("rename", "dump-0.rdb.reshard", "dump-0.rdb"),
        ("rename", "dump-1.rdb.reshard", "dump-1.rdb"),
        ("rename", "dump-2.rdb.reshard", "dump-2.rdb"),
        ("create", SHARDS_META), ("write", SHARDS_META, b"3\nkevyhash\n"), ("close", SHARDS_META),
        ("unlink", JOURNAL),
    ]  # and no fsync_dir anywhere: kevy 1.17 never syncs a directory (§2.8)


def test_stale_reshard_files_below_target_n_are_replaced_others_stay(
        new_dir: FsFactory) -> None:
    fs, d = new_dir("stale")
    build_source(fs, d, 1)
    expected = read_layout(fs, d, 1, STANDARD_NAMES)
    write_file(fs, join(d, "dump-1.rdb.reshard"), b"stale from an aborted re-shard")
    write_file(fs, join(d, "dump-7.rdb.reshard"), b"stale, index >= target n")
    shards = reopen(fs, d, 3)
    assert_same(expected, shards)
    assert_same(expected, read_layout(fs, d, 3, STANDARD_NAMES))
    left = fs.listdir(d)
    assert "dump-7.rdb.reshard" in left  # §8.6: stays until a commit with n > 7
    assert "dump-1.rdb.reshard" not in left


def test_finish_again_after_completion_only_rewrites_meta(tmp_path: Path) -> None:
    base = OsFileSystem()
    d = str(tmp_path)
    build_source(base, d, 3)
    reopen(base, d, 2)
    before = files(base, d)
    fs = RecordingFS(base)
    finish_reshard(fs, d, 3, Layout(2), STAMP, STANDARD_NAMES)
    assert fs.mutations() == [("create", SHARDS_META), ("write", SHARDS_META, b"2\nkevyhash\n"),
                              ("close", SHARDS_META)]
    assert files(base, d) == before


def test_finish_again_after_the_store_wrote_renames_its_live_aof(tmp_path: Path) -> None:
    """kevy 1.17, pinned: step 1 renames the previous layout's AOFs unconditionally, so
    a journal that outlives its re-shard (its unlink is never made durable: no directory
    fsync) renames the new layout's live AOF over the original backup at the next open.
    A process crash cannot leave such a journal; a power loss can (see the report)."""
    fs = OsFileSystem()
    d = str(tmp_path)
    build_source(fs, d, 3)
    reopen(fs, d, 2)
    original_backup = fs.read_bytes(join(d, premigration_of("aof-0.aof", STAMP)))
    live = aof_bytes((b"SET", b"written", b"after the re-shard"))
    write_file(fs, join(d, "aof-0.aof"), live)  # what the store appends once open
    write_file(fs, join(d, JOURNAL), format_journal(Journal(STAMP, 3, 2, Routing.KEVYHASH)))
    recover_journal(fs, d, STANDARD_NAMES, log=[].append)
    assert "aof-0.aof" not in fs.listdir(d)
    assert fs.read_bytes(join(d, premigration_of("aof-0.aof", STAMP))) == live
    assert original_backup != live  # ... and the old backup is gone
    assert all(b"written" not in shard.raw() for shard in read_layout(fs, d, 2, STANDARD_NAMES))


def test_commit_needs_one_store_per_target_shard(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs 3 stores"):
        commit_reshard(OsFileSystem(), str(tmp_path), prev_n=1, target=Layout(3),
                       stores=[ks()], names=STANDARD_NAMES, stamp=STAMP, now_ms=NOW)
    assert os.listdir(tmp_path) == []


def test_stamp_is_nanoseconds_from_the_injected_clock() -> None:
    assert stamp_from_ms(NOW) == STAMP
    assert stamp_from_ms(-5) == 0  # "0 if before 1970" (§8.3 step 3)


# --------------------------------------------------------------------------
# §8.7: a crash at every point, then the next open.


@dataclass(frozen=True)
class Scenario:
    prev_n: int
    n: int
    names: FileNames = STANDARD_NAMES
    meta: bool = True

    def __str__(self) -> str:
        custom = "" if self.names.default_names else "-custom"
        legacy = "" if self.meta else "-nometa"
        return f"{self.prev_n}to{self.n}{custom}{legacy}"


SCENARIOS = [
    Scenario(1, 3),
    Scenario(3, 2),
    Scenario(2, 4),
    Scenario(4, 1),
    Scenario(1, 2, CUSTOM),
    Scenario(3, 1, CUSTOM),
    Scenario(3, 3, meta=False),  # legacy dir without shards.meta: re-shards n → n
]


def _crash_runs(new_dir: FsFactory, sc: Scenario) -> Iterator[tuple[int, FileSystem, str, str]]:
    """For k = 1, 2, …: a fresh source dir with a re-shard crashed at point k.

    Yields (k, fs, directory, description of the crash point); stops after the
    first k at which the re-shard completes.
    """
    k = 0
    while True:
        k += 1
        fs, d = new_dir(f"{sc}-{k}")
        build_source(fs, d, sc.prev_n, sc.names, meta=sc.meta)
        crashing = CrashingFS(fs, crash_at=k)
        shards = [ks() for _ in range(sc.n)]
        try:
            reshard_open(crashing, d, src_n=sc.prev_n, n=sc.n, names=sc.names, shards=shards,
                         now_ms=NOW, profile=KEVY_1_17)
        except _Crash as crash:
            yield k, fs, d, str(crash)
            continue
        assert k > 10, f"only {k - 1} crash points: the protocol did not run"
        return


#: Every scenario runs in memory; on the real disk (where each fsync is real and
#: costs milliseconds) a subset that still covers growing, shrinking, custom names
#: (a legacy directory runs in memory only).
ON_DISK = {"1to3", "3to2", "3to1-custom"}
CRASH_CASES = [pytest.param(kind, sc, id=f"{kind}-{sc}") for sc in SCENARIOS
               for kind in ("memory", "os") if kind == "memory" or str(sc) in ON_DISK]


@pytest.mark.parametrize(("kind", "sc"), CRASH_CASES)
def test_crash_at_every_point_then_reopen_keeps_every_key(kind: str, sc: Scenario,
                                                          tmp_path: Path) -> None:
    new_dir = dir_factory(kind, tmp_path)
    fs0, d0 = new_dir(f"{sc}-clean")
    build_source(fs0, d0, sc.prev_n, sc.names, meta=sc.meta)
    expected = read_layout(fs0, d0, sc.prev_n, sc.names)
    originals = files(fs0, d0)
    reopen(fs0, d0, sc.n, sc.names)
    clean_files = files(fs0, d0)
    points = 0
    for _k, fs, d, where in _crash_runs(new_dir, sc):
        points += 1
        logs: list[str] = []
        shards = reopen(fs, d, sc.n, sc.names, log=logs)
        assert_routed(shards)
        assert_same(expected, shards, where)
        after = files(fs, d)
        # The disk converges to what an uninterrupted re-shard leaves, backups included.
        assert after == clean_files, f"{where}: files differ: {sorted(after)} vs " \
                                     f"{sorted(clean_files)}"
        assert_same(expected, read_layout(fs, d, sc.n, sc.names), f"{where}: files read back")
        assert len(logs) <= 1
    assert points >= 15
    assert any(name.endswith(f".premigration.{STAMP}") for name in clean_files)
    assert all(clean_files[premigration_of(n, STAMP)] == data
               for n, data in originals.items() if n != SHARDS_META)


@pytest.mark.parametrize(("kind", "sc"), [pytest.param("os", Scenario(1, 3), id="os-1to3"),
                                           pytest.param("memory", Scenario(3, 2, CUSTOM),
                                                        id="memory-3to2-custom")])
def test_crash_then_reopen_with_the_old_shard_count(kind: str, sc: Scenario,
                                                    tmp_path: Path) -> None:
    """The user goes back to the old configuration after the crash: before the commit
    point the old layout is read as it was; after it the roll-forward happens and the
    open re-shards back. Either way no key is lost."""
    new_dir = dir_factory(kind, tmp_path)
    fs0, d0 = new_dir(f"{sc}-back")
    build_source(fs0, d0, sc.prev_n, sc.names)
    expected = read_layout(fs0, d0, sc.prev_n, sc.names)
    for _k, fs, d, where in _crash_runs(new_dir, sc):
        shards = reopen(fs, d, sc.prev_n, sc.names, now=NOW + 1)
        assert_routed(shards)
        assert_same(expected, shards, where)


def test_crash_during_recovery_after_a_crash(tmp_path: Path) -> None:
    """A crash at every point of the re-shard, then again at every point of the next
    open (recovery or the re-run re-shard), then a clean open: nothing lost."""
    sc = Scenario(3, 2)

    fresh = dir_factory("memory", tmp_path)

    fs0, d0 = fresh("clean")
    build_source(fs0, d0, sc.prev_n)
    expected = read_layout(fs0, d0, sc.prev_n, STANDARD_NAMES)
    combos = 0
    for k1, _fs, _d, _where in _crash_runs(fresh, sc):
        k2 = 0
        while True:
            k2 += 1
            fs, d = fresh(f"{k1}-{k2}")
            build_source(fs, d, sc.prev_n)
            try:
                reshard_open(CrashingFS(fs, k1), d, src_n=3, n=2, names=STANDARD_NAMES,
                             shards=[ks(), ks()], now_ms=NOW, profile=KEVY_1_17)
            except _Crash as first:
                where = str(first)
            try:
                reopen(CrashingFS(fs, k2), d, 2)
            except _Crash as second:
                where += f", then {second}"
                shards = reopen(fs, d, 2)
                assert_routed(shards)
                assert_same(expected, shards, where)
                combos += 1
                continue
            break
    assert combos > 100


def test_torn_journal_is_deleted_and_the_reshard_runs_again(new_dir: FsFactory) -> None:
    """Every prefix of a valid journal, as left by a crash inside its write (§8.7)."""
    probe_fs, probe_d = new_dir("probe")
    build_source(probe_fs, probe_d, 1)
    expected = read_layout(probe_fs, probe_d, 1, STANDARD_NAMES)
    probe = CrashingFS(probe_fs)
    reshard_open(probe, probe_d, src_n=1, n=3, names=STANDARD_NAMES,
                 shards=[ks(), ks(), ks()], now_ms=NOW, profile=KEVY_1_17)
    write_at = probe.ops.index(f"write {JOURNAL}") + 1
    full = format_journal(Journal(stamp=STAMP, prev_n=1, n=3, routing=Routing.KEVYHASH))
    # On disk every real fsync costs time: there, cut at and around each line
    # boundary (and both ends); in memory, at every byte.
    cuts = range(len(full) + 1)
    if getattr(new_dir, "on_disk", False):
        ends = [i + 1 for i, b in enumerate(full) if b == 0x0A]
        cuts = sorted({0, 1, len(full)} | {c + o for c in ends for o in (-2, -1, 0, 1)
                                         if 0 <= c + o <= len(full)})
    torn_seen = parsed_seen = 0
    for cut in cuts:
        fs, d = new_dir(f"torn{cut}")
        build_source(fs, d, 1)
        with pytest.raises(_Crash):
            reshard_open(CrashingFS(fs, write_at), d, src_n=1, n=3, names=STANDARD_NAMES,
                         shards=[ks(), ks(), ks()], now_ms=NOW, profile=KEVY_1_17)
        assert fs.read_bytes(join(d, JOURNAL)) == b""  # created, nothing written yet
        write_file(fs, join(d, JOURNAL), full[:cut])
        before = files(fs, d)
        logs: list[str] = []
        recover_journal(fs, d, STANDARD_NAMES, log=logs.append)
        if parse_journal(full[:cut]) is None:
            torn_seen += 1
            before.pop(JOURNAL)
            assert files(fs, d) == before, f"cut {cut}: a torn journal deletes only itself"
            assert logs == []
        else:
            parsed_seen += 1  # the full journal, and the one missing only its last LF
            assert fs.listdir(d).count(SHARDS_META) == 1
            assert fs.read_bytes(join(d, SHARDS_META)) == b"3\nkevyhash\n"
            assert len(logs) == 1 and str(STAMP) in logs[0]
        shards = reopen(fs, d, 3)
        assert_same(expected, shards, f"journal cut at byte {cut}")
        assert JOURNAL not in fs.listdir(d)
    assert parsed_seen == 2 and torn_seen == len(cuts) - 2


def test_unreadable_journal_fails_the_open_and_changes_nothing(new_dir: FsFactory) -> None:
    fs, d = new_dir("unreadable")
    build_source(fs, d, 1)
    write_file(fs, join(d, "dump-0.rdb.reshard"), b"whatever")
    write_file(fs, join(d, JOURNAL), b"kevy-reshard-journal v1\nstamp=1\xff\n")
    before = files(fs, d)
    with pytest.raises(JournalUnreadable):
        recover_journal(fs, d, STANDARD_NAMES)
    assert files(fs, d) == before


class _EioOnJournal(RecordingFS):
    def read_bytes(self, path: str) -> bytes:
        if path.endswith(JOURNAL):
            raise OSError(errno.EIO, "Input/output error", path)
        return super().read_bytes(path)


def test_journal_io_error_fails_the_open(tmp_path: Path) -> None:
    fs = _EioOnJournal(OsFileSystem())
    d = str(tmp_path)
    write_file(fs, join(d, JOURNAL), format_journal(Journal(STAMP, 1, 2, Routing.KEVYHASH)))
    fs.calls.clear()
    with pytest.raises(OSError) as info:
        recover_journal(fs, d, STANDARD_NAMES)
    assert info.value.errno == errno.EIO
    assert fs.mutations() == []


def test_no_journal_is_a_no_op(tmp_path: Path) -> None:
    fs = RecordingFS(OsFileSystem())
    recover_journal(fs, str(tmp_path), STANDARD_NAMES)
    assert fs.mutations() == []


def test_recovery_uses_the_names_in_effect_now(new_dir: FsFactory) -> None:
    """§8.1: a journal committed for a custom-named 1-shard store rolls forward with
    the names the opener passes."""
    fs, d = new_dir("names")
    build_source(fs, d, 1, CUSTOM)
    expected = read_layout(fs, d, 1, CUSTOM)
    crashed = CrashingFS(fs)
    reshard_open(crashed, d, src_n=1, n=2, names=CUSTOM, shards=[ks(), ks()], now_ms=NOW,
                 profile=KEVY_1_17)
    after_journal = crashed.ops.index(f"fsync {JOURNAL}") + 2  # 1-based: the next call
    fs, d = new_dir("names2")
    build_source(fs, d, 1, CUSTOM)
    with pytest.raises(_Crash):
        reshard_open(CrashingFS(fs, after_journal), d, src_n=1, n=2, names=CUSTOM,
                     shards=[ks(), ks()], now_ms=NOW, profile=KEVY_1_17)
    assert JOURNAL in fs.listdir(d) and "data.snap" in fs.listdir(d)
    recover_journal(fs, d, CUSTOM, log=[].append)
    assert {"data.snap", "data.aof"}.isdisjoint(fs.listdir(d))
    assert_same(expected, read_layout(fs, d, 2, CUSTOM))


# --------------------------------------------------------------------------
# The fix switches (F10–F13): where the syncs go, and what each one prevents.


def test_fix_syncs_are_off_in_kevy_and_placed_by_the_switches(tmp_path: Path) -> None:
    assert {DIR_FSYNC_SWITCH, META_FSYNC_SWITCH} <= set(SWITCHES)
    assert HARDENED.fixes(DIR_FSYNC_SWITCH) and HARDENED.fixes(META_FSYNC_SWITCH)
    for profile in (KEVY_1_17, HARDENED):
        fs = RecordingFS(OsFileSystem())
        d = str(tmp_path / profile.name)
        os.mkdir(d)
        build_source(fs, d, 1)
        fs.calls.clear()
        reshard_open(fs, d, src_n=1, n=2, names=STANDARD_NAMES, shards=[ks(), ks()],
                     now_ms=NOW, profile=profile)
        ops = [c[:2] for c in fs.mutations() if c[0] != "write"]
        syncs = [i for i, c in enumerate(ops) if c[0] == "fsync_dir"]
        meta_syncs = [i for i, c in enumerate(ops) if c == ("fsync", SHARDS_META)]
        if profile is KEVY_1_17:
            assert syncs == [] and meta_syncs == []  # docs/SPEC.md §2.8, §7.2, §8.5
            continue
        assert len(syncs) == 4 and len(meta_syncs) == 1
        # F10: after the last .reshard rename, before the journal is created.
        assert ops[syncs[0] - 1] == ("rename", "dump-1.rdb.reshard.tmp")
        assert ops[syncs[0] + 1] == ("create", JOURNAL)
        # F11: after the journal is written and closed, before any source is renamed.
        assert ops[syncs[1] - 1] == ("close", JOURNAL)
        assert ops[syncs[1] + 1] == ("rename", "dump-0.rdb")
        # F12: shards.meta synced, then the directory, then the journal unlinked ...
        assert meta_syncs[0] < syncs[2] and ops[syncs[2] + 1] == ("unlink", JOURNAL)
        # F13: ... and the unlink synced before anything else happens.
        assert syncs[3] == syncs[2] + 2 and syncs[3] == len(ops) - 1


def _posix_losses(profile: Profile, *, only: str = "", first: bool = False) -> list[str]:
    """Crash a 1 → 3 re-shard before and after each of its persistence points;
    reopen every posix image (with `only`, those that decide on that file's
    unprotected data) and list the ones that lost or changed a key. `first`:
    stop at the first."""
    base = _one_shard_files()
    probe = CrashFS.from_files(base)
    reshard_open(probe, "/d", src_n=1, n=3, names=STANDARD_NAMES, shards=[ks(), ks(), ks()],
                 now_ms=NOW, profile=profile)
    expected = document(read_layout(probe, "/d", 3, STANDARD_NAMES), NOW)
    problems = []
    for point in probe.points():
        for when in ("before", "after"):
            fs = CrashFS.from_files(base, crash_at=point.index, when=when)  # type: ignore[arg-type]
            with pytest.raises(SimulatedCrash):
                reshard_open(fs, "/d", src_n=1, n=3, names=STANDARD_NAMES,
                             shards=[ks(), ks(), ks()], now_ms=NOW, profile=profile)
            for image in fs.images("posix"):
                if only and not any(d.op == "data" and d.path.endswith("/" + only)
                                    for d in image.decisions):
                    continue
                got = document(reopen(image.to_fs(), "/d", 3, STANDARD_NAMES), NOW)
                if not same_keyspace(expected, got):
                    problems.append(f"{when} {point.describe()}: {'; '.join(image.trace)}")
                    if first:
                        return problems
    return problems


def _one_shard_files() -> dict[str, bytes]:
    fs = CrashFS()
    fs.makedirs("/d")
    build_source(fs, "/d", 1)
    return fs.snapshot_files()


@pytest.mark.parametrize(("profile", "only"), [
    pytest.param(KEVY_1_17, "", id="kevy-1.17"),
    pytest.param(HARDENED.with_switches(META_FSYNC_SWITCH, on=False), "shards.meta",
                 id="hardened-without-meta-fsync"),
    pytest.param(HARDENED.with_switches(DIR_FSYNC_SWITCH, on=False), "",
                 id="hardened-without-dir-fsync"),
])
def test_posix_images_of_a_reshard_lose_keys_without_the_fixes(profile: Profile,
                                                                only: str) -> None:
    """The re-shard alone (no store, no log opened after it), crashed after every
    call, every posix image reopened: kevy 1.17 loses keys (F10–F12), and so does
    `hardened` without either re-shard switch."""
    assert _posix_losses(profile, only=only, first=True), "expected a lost key"


def test_posix_images_of_a_hardened_reshard_lose_nothing() -> None:
    problems = _posix_losses(HARDENED)
    assert problems == [], problems[:3]


def test_the_reshard_switches_alone_leave_only_f4_in_the_store_scenario() -> None:
    """kevy 1.17 with only the two re-shard switches, `reshard-aof0` under posix:
    every violation left loses a log's create (F4, `aof_dir_fsync`'s finding),
    none comes from the re-shard. This needs the F13 sync after the journal
    unlink, which `hardened` alone would not show: there the AOF open's own
    directory sync happens to persist the unlink too."""
    profile = KEVY_1_17.with_switches(DIR_FSYNC_SWITCH, META_FSYNC_SWITCH)
    result = explore("reshard-aof0", profile, "posix")
    assert result.findings, "F4 is not fixed by these switches"
    for finding in result.findings:
        lost = [d for d in finding.decisions if d.fate == "lost" and d.reason == "name"]
        assert any(d.op == "create" and d.path.startswith("/data/aof-") for d in lost), \
            finding.judgement.explain()


def test_a_torn_shards_meta_at_a_same_layout_open_loses_nothing() -> None:
    """FINDINGS "(e)", the store's own meta write: a same-layout open rewrites
    shards.meta in place, unsynced, even in `hardened` (impl/store.py). Crash
    it anywhere, take every image under every model: a torn or emptied meta
    reads as no layout, infer_files_n finds 3, and the open re-shards 3 → 3,
    which merges every shard back, so nothing is lost. A harmless extra
    re-shard, not a finding (F12 is the re-shard's meta write)."""
    config = StoreConfig(data_dir="/d", shards=3, appendfsync=FsyncPolicy.ALWAYS,
                         reaper="manual")
    built = CrashFS()
    store = Store.open(config, fs=built, clock=ManualClock(NOW), profile=KEVY_1_17)
    for key in (b"a", b"n", b"l"):  # KevyHash of 3: shards 1, 0, 2
        store.execute([b"SET", key, key + b"-v"])
    store.close()
    base = built.snapshot_files()
    durable = {b"a": b"a-v", b"n": b"n-v", b"l": b"l-v"}

    def run(fs: CrashFS, acked: dict[bytes, bytes]) -> None:
        s = Store.open(config, fs=fs, clock=ManualClock(NOW + 1), profile=KEVY_1_17)
        s.execute([b"SET", b"b", b"after"])
        acked[b"b"] = b"after"
        s.close()

    probe = CrashFS.from_files(base)
    run(probe, {})
    assert ("truncate", "/d/shards.meta") in [(p.op, p.path) for p in probe.points()]
    torn_seen = 0
    for point in probe.points():
        for when in ("before", "after"):
            fs = CrashFS.from_files(base, crash_at=point.index, when=when)  # type: ignore[arg-type]
            acked = dict(durable)
            with contextlib.suppress(SimulatedCrash):
                run(fs, acked)
            for model in MODELS:
                for image in fs.images(model):
                    meta = image.files().get("/d/shards.meta")
                    torn_seen += meta is not None and parse_shards_meta(meta) is None
                    rec = Store.open(config, fs=image.to_fs(), clock=ManualClock(NOW + 2),
                                     profile=KEVY_1_17)
                    got = {k.encode(): v for k, v in _strings(rec.snapshot()).items()}
                    rec.close()
                    where = f"{when} {point.describe()}, {model}: {image.trace}"
                    assert all(got.get(k) == v for k, v in acked.items()), where
    assert torn_seen > 0  # the torn meta did occur, and was harmless


def _strings(doc: dict) -> dict[str, bytes]:
    out = {}
    for entry in doc["keys"]:
        assert entry["type"] == "string"
        out[entry["key"]] = entry["value"].encode()
    return out


# --------------------------------------------------------------------------
# A directory kevy itself wrote.


def _copy_golden(name: str, dest: Path) -> str:
    dest.mkdir()
    for src in (GOLDEN / name).iterdir():
        shutil.copyfile(src, dest / src.name)  # the golden files are read-only
        os.chmod(dest / src.name, stat.S_IRUSR | stat.S_IWUSR)
    return str(dest)


def test_golden_single_shard_dir_resharded_to_3_then_2(tmp_path: Path) -> None:
    import json

    want = json.loads((GOLDEN / "dir_single.json").read_text())
    d = _copy_golden("dir_single", tmp_path / "d")
    fs = OsFileSystem()
    originals = files(fs, d)
    three = reopen(fs, d, 3, now=NOW)
    assert same_keyspace(want, document(three, NOW)), describe_difference(
        want, document(three, NOW))
    assert_routed(three)
    later = NOW + 1000  # a later open, so a later stamp (kevy's are nanoseconds)
    two = reopen(fs, d, 2, now=later)
    assert_routed(two)
    assert same_keyspace(want, document(two, NOW)), describe_difference(want, document(two, NOW))
    again = read_layout(fs, d, 2, STANDARD_NAMES)
    assert same_keyspace(want, document(again, NOW))
    s1, s2 = STAMP, stamp_from_ms(later)
    after = files(fs, d)
    assert sorted(after) == sorted([
        "dump-0.rdb", "dump-1.rdb", SHARDS_META,
        f"dump-0.rdb.premigration.{s1}", f"aof-0.aof.premigration.{s1}",
        f"dump-0.rdb.premigration.{s2}", f"dump-1.rdb.premigration.{s2}",
        f"dump-2.rdb.premigration.{s2}",
    ])
    assert after[SHARDS_META] == b"2\nkevyhash\n"
    assert after[f"dump-0.rdb.premigration.{s1}"] == originals["dump-0.rdb"]
    assert after[f"aof-0.aof.premigration.{s1}"] == originals["aof-0.aof"]
    assert not any(name.endswith((".reshard", ".tmp")) or name == JOURNAL for name in after)
    assert reshard_tmp_of("x") == "x.reshard.tmp" and reshard_of("x") == "x.reshard"


def test_store_open_sends_the_recovery_line_to_its_log(
    new_dir: FsFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    # kevy prints one line when it completes an interrupted re-shard; Store.open
    # routes it to `log` (the explorer's sink) and writes nothing to stderr then.
    fs, d = new_dir("logged")
    build_source(fs, d, 1)
    probe = CrashingFS(fs)
    reshard_open(probe, d, src_n=1, n=3, names=STANDARD_NAMES,
                 shards=[ks(), ks(), ks()], now_ms=NOW, profile=KEVY_1_17)
    fs2, d2 = new_dir("crashed")
    build_source(fs2, d2, 1)
    with pytest.raises(_Crash):
        reshard_open(CrashingFS(fs2, probe.ops.index(f"write {JOURNAL}") + 2), d2, src_n=1,
                     n=3, names=STANDARD_NAMES, shards=[ks(), ks(), ks()], now_ms=NOW,
                     profile=KEVY_1_17)
    assert parse_journal(fs2.read_bytes(join(d2, JOURNAL))) is not None
    lines: list[str] = []
    store = Store.open(StoreConfig(data_dir=d2, shards=3, reaper="manual"), fs=fs2,
                       clock=ManualClock(NOW), log=lines.append)
    store.close()
    assert len(lines) == 1 and "completing interrupted re-shard" in lines[0]
    assert "completing" not in capsys.readouterr().err
