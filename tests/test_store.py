"""Tests for impl/store.py: open/recover (§9.1), writes (§9.2), save (§9.3), rewrite (§9.4).

The three-phase protocols are driven through the explicit phase API so that
writes land deterministically between the phases; every check that matters
reopens the directory and compares what replay rebuilds. Syscall sequences
are compared with docs/SPEC.md §2.8 through `RecordingFS`. No test sleeps: time is a
`ManualClock`, the save retry's sleeper is injected, the reaper is manual.
"""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
from pathlib import Path

import pytest

from impl import cli
from impl.aof import FsyncPolicy
from impl.clock import ManualClock
from impl.errors import CorruptLogRefused, KevyVerifyError
from impl.fs import OsFileSystem
from impl.keyspace_json import describe_difference, same_keyspace
from impl.profile import HARDENED, KEVY_1_17, Profile, get_profile
from impl.resp import MAGIC, encode_frame, scan_aof
from impl.store import (
    SAVE_RETRIES,
    SaveTimedOut,
    ShardBusy,
    ShardFailed,
    Store,
    StoreConfig,
    reset_path,
)
from model.crashfs import CrashFS

GOLDEN = Path(__file__).parent / "golden" / "dirs"
A, D = "aof-0.aof", "dump-0.rdb"
RW, TMP = A + ".rewrite", D + ".tmp"
NOW = 1_795_435_200_000  # 2026-11-23T12:00Z, when the golden files were made


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def cfg(path, **kw) -> StoreConfig:
    kw.setdefault("reaper", "manual")
    kw.setdefault("appendfsync", FsyncPolicy.ALWAYS)
    return StoreConfig(data_dir=str(path), **kw)


def open_store(path, clock, fs=None, profile: Profile = KEVY_1_17, **kw) -> Store:
    return Store.open(cfg(path, **kw), fs=fs or OsFileSystem(), clock=clock, profile=profile)


def values(store: Store) -> dict[str, object]:
    return {k["key"]: k["value"] for k in store.snapshot()["keys"]}


def reopened(path, clock, profile: Profile = KEVY_1_17, **kw) -> dict[str, object]:
    store = open_store(path, clock, profile=profile, **kw)
    try:
        return values(store)
    finally:
        store.close()


def log_frames(path: Path) -> list[tuple[bytes, ...]]:
    return [f.argv for f in scan_aof(path.read_bytes()).frames]


# -- open (§9.1) ----------------------------------------------------------------


def test_in_memory_store_touches_no_files(clock, rec):
    store = Store.open(StoreConfig(reaper="manual"), fs=rec, clock=clock)
    store.set(b"k", b"v")
    assert values(store) == {"k": "v"}
    assert store.save() is False and store.rewrite_aof() is None
    store.close()
    assert rec.calls == []


def test_open_of_an_empty_dir_writes_meta_then_the_new_log(tmp_path, clock, rec):
    store = open_store(tmp_path / "d", clock, fs=rec)
    assert rec.take() == [
        ("create", "shards.meta"), ("write", "shards.meta", b"1\nkevyhash\n"),
        ("close", "shards.meta"),  # a plain overwrite: no temp file, no fsync (§7.2)
        ("open_append", A, True), ("write", A, MAGIC), ("fdatasync", A),
    ]
    store.close()
    assert sorted(os.listdir(tmp_path / "d")) == [A, "shards.meta"]


def test_custom_names_skip_shards_meta(tmp_path, clock):
    open_store(tmp_path, clock, snapshot_name="my.rdb", aof_name="my.aof").close()
    assert sorted(os.listdir(tmp_path)) == ["my.aof"]


def test_golden_dir_single_opens_to_kevys_keyspace_and_files_unchanged(tmp_path, clock):
    src = GOLDEN / "dir_single"
    for name in os.listdir(src):  # copy the bytes, not the read-only mode
        shutil.copyfile(src / name, tmp_path / name)
    before = {n: (tmp_path / n).read_bytes() for n in os.listdir(tmp_path)}
    store = open_store(tmp_path, clock, appendfsync=FsyncPolicy.EVERYSEC)
    expected = json.loads((GOLDEN / "dir_single.json").read_text())
    actual = store.snapshot()
    assert same_keyspace(expected, actual), describe_difference(expected, actual)
    store.close()
    listing = json.loads((GOLDEN / "dir_single.open.json").read_text())
    assert sorted([n, (tmp_path / n).stat().st_size] for n in os.listdir(tmp_path)) == sorted(
        listing["files_after_open"])
    assert {n: (tmp_path / n).read_bytes() for n in os.listdir(tmp_path)} == before


def test_aof_is_replayed_even_when_disabled_and_then_not_opened(tmp_path, clock, rec):
    store = open_store(tmp_path, clock)
    store.set(b"k", b"v")
    store.close()
    store = open_store(tmp_path, clock, fs=rec, aof_enabled=False)
    assert values(store) == {"k": "v"}
    store.set(b"k2", b"v2")
    store.close()
    assert [c for c in rec.mutations() if c[1] == A] == []
    assert log_frames(tmp_path / A) == [(b"SET", b"k", b"v")]


def test_a_different_layout_goes_through_the_reshard_seam(tmp_path, clock):
    store = open_store(tmp_path, clock)
    store.rpush(b"l", b"a")
    store.set(b"hello", b"1")
    store.close()
    store = open_store(tmp_path, clock, shards=2)  # 1 → 2 shards: impl.reshard runs
    assert values(store) == {"l": ["a"], "hello": "1"}
    assert store.shard_for(b"hello") == 1
    store.close()
    assert (tmp_path / "shards.meta").read_bytes() == b"2\nkevyhash\n"
    assert (tmp_path / "dump-0.rdb").exists() and (tmp_path / "dump-1.rdb").exists()


# -- writes (§9.2) ----------------------------------------------------------------------


def test_always_write_is_write_plus_fdatasync_and_survives_reopen(tmp_path, clock, rec):
    store = open_store(tmp_path, clock, fs=rec)
    rec.take()
    store.rpush(b"l", b"a", b"b")
    assert rec.take() == [("write", A, encode_frame([b"RPUSH", b"l", b"a", b"b"])),
                          ("fdatasync", A)]
    store.incr_by(b"n", 5)
    store.close()
    assert reopened(tmp_path, clock) == {"l": ["a", "b"], "n": "5"}


def test_ttl_is_logged_as_absolute_pexpireat(tmp_path, clock):
    store = open_store(tmp_path, clock)
    store.set(b"k", b"v")
    store.expire(b"k", 10)
    store.close()
    assert log_frames(tmp_path / A)[-1] == (b"PEXPIREAT", b"k", b"%d" % (NOW + 10_000))
    clock.advance(9_999)
    assert reopened(tmp_path, clock) == {"k": "v"}
    clock.advance(1)
    assert reopened(tmp_path, clock) == {}


def test_shards_route_by_kevyhash_and_flushall_reaches_every_shard(tmp_path, clock):
    (tmp_path / "shards.meta").write_bytes(b"2\nkevyhash\n")  # same layout: no re-shard
    store = open_store(tmp_path, clock, shards=2)
    keys = [b"a", b"abc", b"hello", b"user:1000"]  # docs/SPEC.md §7.3: n=2 → 0, 1, 1, 0
    assert [store.shard_for(k) for k in keys] == [0, 1, 1, 0]
    for k in keys:
        store.set(k, b"1")
    assert store.delete(b"a", b"abc", b"missing") == 2  # split per shard
    store.close()
    assert log_frames(tmp_path / "aof-0.aof") == [
        (b"SET", b"a", b"1"), (b"SET", b"user:1000", b"1"), (b"DEL", b"a")]
    assert log_frames(tmp_path / "aof-1.aof") == [
        (b"SET", b"abc", b"1"), (b"SET", b"hello", b"1"), (b"DEL", b"abc")]
    store = open_store(tmp_path, clock, shards=2)
    assert values(store) == {"hello": "1", "user:1000": "1"}
    store.flushall()
    store.close()
    for name in ("aof-0.aof", "aof-1.aof"):
        assert log_frames(tmp_path / name)[-1] == (b"FLUSHALL",)
    assert reopened(tmp_path, clock, shards=2) == {}


def test_eviction_is_not_logged(tmp_path, clock):
    store = open_store(tmp_path, clock, maxmemory=200, maxmemory_policy="allkeys-lru")
    for i in range(10):
        store.set(b"k%d" % i, b"x" * 40)
    live = values(store)
    assert 0 < len(live) < 10 and "k9" in live
    store.close()
    assert len(log_frames(tmp_path / A)) == 10  # every SET, no DEL for evictions


# -- snapshot save (§9.3) -------------------------------------------------------------------


def test_save_syscalls_are_kevys(tmp_path, clock, rec):
    store = open_store(tmp_path, clock, fs=rec)
    store.set(b"a", b"1")
    rec.take()
    store.begin_save(0)
    assert rec.take() == []  # Always: nothing buffered to flush
    store.set(b"b", b"2")  # after the freeze: goes to the live log and the tee
    tee = encode_frame([b"SET", b"b", b"2"])
    assert rec.take() == [("write", A, tee), ("fdatasync", A)]
    store.write_save(0)
    calls = rec.take()
    assert calls[0] == ("create", TMP) and calls[-2:] == [("fsync", TMP), ("close", TMP)]
    assert {c[0] for c in calls[1:-2]} == {"write"}
    store.commit_save(0)
    assert rec.take() == [
        ("rename", TMP, D),
        ("create", RW), ("write", RW, MAGIC), ("fsync", RW), ("close", RW),
        ("open_append", RW, False), ("write", RW, tee), ("fsync", RW), ("close", RW),
        ("rename", RW, A), ("open_append", A, False), ("close", A),
    ]
    store.close()
    # After a save the log holds MAGIC + only the post-freeze writes.
    assert (tmp_path / A).read_bytes() == MAGIC + tee
    assert reopened(tmp_path, clock) == {"a": "1", "b": "2"}


@pytest.mark.parametrize("policy", list(FsyncPolicy))
def test_writes_between_save_phases_survive_exactly_once(tmp_path, clock, policy):
    store = open_store(tmp_path, clock, appendfsync=policy)
    store.rpush(b"l", b"t0")
    store.incr_by(b"n", 1)
    store.begin_save(0)
    store.rpush(b"l", b"t1")
    store.incr_by(b"n", 10)
    store.write_save(0)
    store.rpush(b"l", b"t2")
    store.incr_by(b"n", 100)
    store.commit_save(0)
    store.rpush(b"l", b"t3")
    store.incr_by(b"n", 1000)
    store.close()
    assert reopened(tmp_path, clock) == {"l": ["t0", "t1", "t2", "t3"], "n": "1111"}
    assert [f[0] for f in log_frames(tmp_path / A)] == [b"RPUSH", b"INCRBY"] * 3


def test_save_waits_for_a_rewrite_with_the_injected_sleeper(tmp_path, clock):
    naps: list[float] = []
    store = Store.open(cfg(tmp_path), fs=OsFileSystem(), clock=clock, sleeper=naps.append)
    store.set(b"k", b"v")
    assert store.begin_rewrite(0)
    with pytest.raises(ShardBusy):
        store.begin_save(0)
    with pytest.raises(SaveTimedOut) as info:
        store.save()
    assert len(naps) == SAVE_RETRIES and set(naps) == {0.005}
    assert info.value.retries == SAVE_RETRIES
    assert not (tmp_path / D).exists()  # nothing changed
    # A rewrite that finishes while the save sleeps lets the save through.
    naps.clear()

    def finish_on_third_nap(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 3:
            store.write_rewrite(0)
            store.finish_rewrite(0)

    store.sleeper = finish_on_third_nap
    assert store.save() is True and len(naps) == 3
    store.close()
    assert reopened(tmp_path, clock) == {"k": "v"}


def test_failed_snapshot_write_aborts_the_tee_and_leaves_tmp(tmp_path, clock):
    store = open_store(tmp_path, clock)
    store.set(b"k", b"v")
    store.begin_save(0)
    os.mkdir(tmp_path / TMP)  # create_truncate of the .tmp now fails
    with pytest.raises(OSError):
        store.write_save(0)
    assert not store.aof(0).is_rewriting
    os.rmdir(tmp_path / TMP)
    store.set(b"k2", b"v2")
    store.close()
    assert reopened(tmp_path, clock) == {"k": "v", "k2": "v2"}


def _crash_after_snapshot_rename(tmp_path, clock, profile: Profile) -> None:
    """Run a save whose process dies right after `rename(dump-0.rdb.tmp → dump-0.rdb)`."""

    class Crash(BaseException):
        pass

    class CrashAfterSnapshotRename(OsFileSystem):
        def rename(self, src: str, dst: str) -> None:
            super().rename(src, dst)
            if dst.endswith(D):
                raise Crash

    store = open_store(tmp_path, clock, fs=CrashAfterSnapshotRename(), profile=profile)
    store.rpush(b"l", b"before")
    store.incr_by(b"n", 1)
    store.begin_save(0)
    store.rpush(b"l", b"during")
    store.write_save(0)
    with pytest.raises(Crash):
        store.commit_save(0)
    # The process is gone: no close, nothing more reaches the disk. Its exit
    # drops its flock on the directory (hardened's data_dir_lock, F19).
    if store.dir_lock is not None:
        store.dir_lock.release()


def test_kevy_replays_the_whole_old_log_over_the_new_snapshot_after_a_crash(tmp_path, clock):
    """Finding F5, reproduced: kevy 1.17 applies every pre-save write twice.

    History: RPUSH l before; INCRBY n 1; save freezes; RPUSH l during; the
    snapshot is renamed into place; the process dies before the log-reset
    rename. The directory now holds the new snapshot (before) *and* the old,
    complete log (before, during). The next open loads one and replays the
    other on top. Consequence: every non-idempotent write made since the
    previous save (RPUSH, INCRBY, APPEND, HINCRBY, ...) is applied twice.
    """
    _crash_after_snapshot_rename(tmp_path, clock, KEVY_1_17)
    assert reopened(tmp_path, clock) == {"l": ["before", "before", "during"], "n": "2"}


def test_hardened_save_commit_rolls_forward_after_the_same_crash(tmp_path, clock):
    _crash_after_snapshot_rename(tmp_path, clock, HARDENED)
    assert (tmp_path / (A + ".reset")).exists()
    assert reopened(tmp_path, clock, profile=HARDENED) == {"l": ["before", "during"], "n": "1"}
    assert not (tmp_path / (A + ".reset")).exists()


def test_hardened_open_discards_a_reset_log_while_the_snapshot_tmp_exists(tmp_path, clock):
    store = open_store(tmp_path, clock, profile=HARDENED)
    store.rpush(b"l", b"x")
    store.close()
    (tmp_path / TMP).write_bytes(b"KEVYSNAP\x04\x00")  # the commit point was not reached
    (tmp_path / (A + ".reset")).write_bytes(MAGIC)
    assert reopened(tmp_path, clock, profile=HARDENED) == {"l": ["x"]}
    assert not (tmp_path / (A + ".reset")).exists()


def test_hardened_save_syscalls(tmp_path, clock, rec):
    store = open_store(tmp_path, clock, fs=rec, profile=HARDENED)
    store.begin_save(0)
    store.set(b"b", b"2")
    store.write_save(0)
    rec.take()
    store.commit_save(0)
    reset = A + ".reset"
    # F6: the `.tmp` name is made durable before `.reset` exists, and `.reset`'s
    # name before the commit rename.
    assert rec.take() == [
        ("fsync_dir", tmp_path.name),
        ("create", reset), ("write", reset, MAGIC), ("fsync", reset), ("close", reset),
        ("open_append", reset, False), ("write", reset, encode_frame([b"SET", b"b", b"2"])),
        ("fsync", reset), ("close", reset), ("fsync_dir", tmp_path.name),
        ("rename", TMP, D), ("fsync_dir", tmp_path.name),
        ("rename", reset, A), ("fsync_dir", tmp_path.name),
        ("open_append", A, False), ("close", A),
    ]
    assert reset_path(str(tmp_path / A)).endswith(reset)
    store.close()


# -- AOF rewrite (§9.4) ------------------------------------------------------------------------


def test_rewrite_phases_keep_interleaved_writes_exactly_once(tmp_path, clock, rec):
    store = open_store(tmp_path, clock, fs=rec)
    for _i in range(5):
        store.incr_by(b"n", 1)
    store.rpush(b"l", b"t0")
    rec.take()
    assert store.begin_rewrite(0)
    assert store.begin_rewrite(0) is False  # a tee is active: skipped
    store.rpush(b"l", b"t1")
    store.write_rewrite(0)
    store.incr_by(b"n", 10)
    rec.take()
    result = store.finish_rewrite(0)
    tee = encode_frame([b"RPUSH", b"l", b"t1"]) + encode_frame([b"INCRBY", b"n", b"10"])
    assert rec.take() == [
        ("open_append", RW, False), ("write", RW, tee), ("fsync", RW), ("close", RW),
        ("rename", RW, A), ("open_append", A, False), ("close", A),
    ]
    assert result.keys == 2
    store.rpush(b"l", b"t2")
    store.close()
    assert log_frames(tmp_path / A)[:2] in (
        [(b"SET", b"n", b"5"), (b"RPUSH", b"l", b"t0")],
        [(b"RPUSH", b"l", b"t0"), (b"SET", b"n", b"5")],
    )
    assert reopened(tmp_path, clock) == {"l": ["t0", "t1", "t2"], "n": "15"}


def test_aborted_rewrite_leaves_the_old_log_intact_and_in_use(tmp_path, clock):
    store = open_store(tmp_path, clock)
    store.rpush(b"l", b"t0")
    before = (tmp_path / A).read_bytes()
    assert store.begin_rewrite(0)
    store.rpush(b"l", b"t1")
    store.write_rewrite(0)
    store.abort_rewrite(0)
    assert not (tmp_path / RW).exists()
    assert (tmp_path / A).read_bytes().startswith(before)
    store.rpush(b"l", b"t2")
    store.close()
    assert reopened(tmp_path, clock) == {"l": ["t0", "t1", "t2"]}
    assert len(log_frames(tmp_path / A)) == 3


def test_rewrite_aof_sums_shards_and_tick_runs_the_auto_rewrite(tmp_path, clock):
    store = open_store(tmp_path, clock, auto_rewrite_min_size=100)
    for _i in range(20):
        store.incr_by(b"n", 1)
    assert store.aof(0).rewrites_total == 0
    store.tick()
    assert store.aof(0).rewrites_total == 1
    assert log_frames(tmp_path / A) == [(b"SET", b"n", b"20")]
    assert store.rewrite_aof().keys == 1
    store.close()


# -- reaper, barrier, close (§9.5, §9.6) ----------------------------------------------------------


def test_tick_expires_but_never_syncs(tmp_path, clock, rec):
    store = open_store(tmp_path, clock, fs=rec, appendfsync=FsyncPolicy.EVERYSEC)
    store.set(b"k", b"v")
    store.expire(b"k", 1)
    rec.take()
    clock.advance(5_000)
    assert store.tick() == 1
    assert rec.take() == []  # no maybe_sync in Manual mode
    assert store.keyspace(0).raw() == {}
    store.fsync_aof()
    assert [c[0] for c in rec.take()] == ["write", "fdatasync"]


def test_close_syncs_only_what_maybe_sync_would(tmp_path, clock, rec):
    store = open_store(tmp_path, clock, fs=rec, appendfsync=FsyncPolicy.EVERYSEC)
    store.set(b"k", b"v")
    rec.take()
    store.close()  # within 1 s of the open's sync: flush, no fsync
    assert rec.take() == [("write", A, encode_frame([b"SET", b"k", b"v"])), ("close", A)]
    store = open_store(tmp_path, clock, fs=rec, appendfsync=FsyncPolicy.EVERYSEC)
    store.set(b"k", b"w")
    clock.advance(1_000)
    rec.take()
    store.close()
    assert [c[0] for c in rec.take()] == ["write", "fdatasync", "close"]


def test_background_reaper_starts_and_stops(tmp_path, clock):
    store = Store.open(StoreConfig(data_dir=str(tmp_path), reaper="background",
                                   reaper_interval_ms=1), fs=OsFileSystem(), clock=clock)
    store.set(b"k", b"v")
    store.close()
    assert store._reaper is not None and not store._reaper.is_alive()


def _save_delete_rewrite(tmp_path, clock, profile: Profile) -> dict[str, object]:
    store = open_store(tmp_path, clock, profile=profile)
    store.rpush(b"l", b"a", b"b")
    store.set(b"gone", b"1")
    store.execute([b"HSET", b"h", b"f1", b"1", b"f2", b"2"])
    assert store.save()
    store.delete(b"gone")
    store.execute([b"HDEL", b"h", b"f1"])
    assert store.rewrite_aof() is not None
    store.close()  # a clean close: no crash anywhere
    return reopened(tmp_path, clock, profile=profile)


def test_kevy_rewrite_beside_a_snapshot_doubles_lists_and_resurrects_deletes(tmp_path, clock):
    """Finding F9, reproduced: no crash needed.

    History: RPUSH l a b; SET gone 1; HSET h f1 1 f2 2; save; DEL gone;
    HDEL h f1; rewrite_aof; close; open. The rewrite replaced the log with a
    full image (RPUSH l a b, HSET h f2 2) but left dump-0.rdb, and open loads
    the snapshot and then replays the image on top of it. Consequence: the
    list is doubled, the deleted key and the deleted field are back.
    """
    assert _save_delete_rewrite(tmp_path, clock, KEVY_1_17) == {
        "l": ["a", "b", "a", "b"], "gone": "1", "h": [["f1", "1"], ["f2", "2"]]}


def test_hardened_rewrite_beside_a_snapshot_is_a_save(tmp_path, clock):
    assert _save_delete_rewrite(tmp_path, clock, HARDENED) == {
        "l": ["a", "b"], "h": [["f2", "2"]]}
    assert (tmp_path / A).read_bytes() == MAGIC


# -- a corrupt frame mid-file (switch aof_refuse_corrupt, F14) ----------------------------


def _log_with_corrupt_second_frame(tmp_path: Path) -> tuple[bytes, int]:
    """MAGIC, SET a 1, INCRBY n 5 with its first `$` flipped to `!`, RPUSH l x y.

    Returns the bytes and the damaged frame's offset."""
    first = encode_frame([b"SET", b"a", b"1"])
    bad = encode_frame([b"INCRBY", b"n", b"5"]).replace(b"$", b"!", 1)
    data = MAGIC + first + bad + encode_frame([b"RPUSH", b"l", b"x", b"y"])
    (tmp_path / A).write_bytes(data)
    return data, len(MAGIC) + len(first)


def test_kevy_appends_behind_a_corrupt_frame_and_loses_every_later_write(tmp_path, clock):
    data, offset = _log_with_corrupt_second_frame(tmp_path)
    store = open_store(tmp_path, clock)
    assert values(store) == {"a": "1"}
    assert store.recovery_reports[0].stop == offset
    store.execute([b"SADD", b"s", b"m"])  # acknowledged under appendfsync always
    store.close()
    grown = (tmp_path / A).read_bytes()
    assert grown.startswith(data) and len(grown) > len(data)  # appended after the garbage
    assert reopened(tmp_path, clock) == {"a": "1"}  # ... where replay never reaches


def test_hardened_refuses_a_corrupt_log_naming_file_and_offset_and_changes_nothing(
        tmp_path, clock):
    data, offset = _log_with_corrupt_second_frame(tmp_path)
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(CorruptLogRefused) as info:
        open_store(tmp_path, clock, profile=HARDENED)
    err = info.value
    assert isinstance(err, KevyVerifyError)
    assert err.path == str(tmp_path / A) and err.offset == offset
    text = str(err)
    assert "\n" not in text
    assert f"{tmp_path / A}: refusing to open the log: corrupt frame at offset {offset}" in text
    assert "expected bulk string" in text
    assert sorted(os.listdir(tmp_path)) == before  # not even shards.meta
    assert (tmp_path / A).read_bytes() == data


def test_hardened_still_opens_a_torn_tail_and_a_clean_log(tmp_path, clock):
    # A torn tail is a crash mid-append, not damage: cut (F8), never refused.
    (tmp_path / A).write_bytes(MAGIC + encode_frame([b"SET", b"a", b"1"]) + b"*3\r\n$3\r\nSE")
    assert reopened(tmp_path, clock, profile=HARDENED) == {"a": "1"}
    assert reopened(tmp_path, clock, profile=HARDENED) == {"a": "1"}


@pytest.mark.parametrize("profile, code", [("kevy-1.17", 0), ("hardened", 1)])
def test_dump_of_a_dir_with_a_corrupt_log(tmp_path, profile, code):
    _, offset = _log_with_corrupt_second_frame(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    rc = cli.main(["dump", str(tmp_path), "--profile", profile, "--now-ms", str(NOW)],
                  out=out, err=err)
    assert rc == code
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and f"offset {offset}" in lines[0] and str(tmp_path / A) in lines[0]
    if code:  # the store's refusal, one line, no keyspace printed
        assert lines[0].startswith("kevy-verify: refused: ") and out.getvalue() == ""
    else:  # what kevy 1.17 recovers, with the dropped bytes named
        assert "corrupt-frame" in lines[0]
        assert [k["key"] for k in json.loads(out.getvalue())["keys"]] == ["a"]


# -- SET with a TTL as one frame (switch set_ttl_one_frame, F15) ---------------------------


def deadlines(path, clock, profile: Profile) -> dict[str, int | None]:
    store = open_store(path, clock, profile=profile)
    try:
        return {k["key"]: k["expire_at_ms"] for k in store.snapshot()["keys"]}
    finally:
        store.close()


SET_PX = [b"SET", b"k", b"v", b"PX", b"100000"]


def test_kevy_set_with_ttl_is_two_synced_frames_and_a_crash_between_drops_the_ttl(
        tmp_path, clock, rec):
    store = open_store(tmp_path, clock, fs=rec)
    rec.take()
    store.execute(SET_PX)
    first = encode_frame([b"SET", b"k", b"v"])
    second = encode_frame([b"PEXPIREAT", b"k", b"%d" % (NOW + 100_000)])
    assert rec.take() == [("write", A, first), ("fdatasync", A),
                          ("write", A, second), ("fdatasync", A)]
    store.close()
    assert deadlines(tmp_path, clock, KEVY_1_17) == {"k": NOW + 100_000}
    # Power lost after the first fdatasync: a key the client never had, no TTL.
    (tmp_path / A).write_bytes(MAGIC + first)
    assert deadlines(tmp_path, clock, KEVY_1_17) == {"k": None}
    # ... and a torn PEXPIREAT that the F8 fix cuts ends the same way.
    (tmp_path / A).write_bytes(MAGIC + first + second[:-1])
    assert deadlines(tmp_path, clock, HARDENED.with_switches("set_ttl_one_frame", on=False)) \
        == {"k": None}


def test_hardened_set_with_ttl_is_one_frame_all_or_nothing(tmp_path, clock, rec):
    store = open_store(tmp_path, clock, fs=rec, profile=HARDENED)
    rec.take()
    store.execute(SET_PX)
    frame = encode_frame([b"SET", b"k", b"v", b"PXAT", b"%d" % (NOW + 100_000)])
    assert rec.take() == [("write", A, frame), ("fdatasync", A)]
    store.close()
    data = (tmp_path / A).read_bytes()
    assert data.endswith(frame)
    assert deadlines(tmp_path, clock, HARDENED) == {"k": NOW + 100_000}
    # Downgrade: kevy 1.17 ignores SET's options, so it reads the key without TTL.
    assert deadlines(tmp_path, clock, KEVY_1_17) == {"k": None}
    (tmp_path / A).write_bytes(data[:-1])  # torn: cut at open, the write is simply absent
    assert deadlines(tmp_path, clock, HARDENED) == {}


# -- XCLAIM logged with its delivery time (switch xclaim_logs_time, F16, ours) -------------


def _pel_after_reopening_later(tmp_path, clock, profile: Profile) -> object:
    store = open_store(tmp_path, clock, profile=profile)
    for cmd in ("XADD x 1-1 f v", "XGROUP CREATE x g 0",
                "XCLAIM x g c 0 1-1 RETRYCOUNT 1 FORCE JUSTID"):
        store.execute(cmd.split())
    store.close()
    clock.advance(5_000)
    stream = reopened(tmp_path, clock, profile=profile).get("x")
    return None if stream is None else stream["groups"][0]["pel"]


def test_hardened_xclaim_keeps_its_delivery_time_across_a_later_reopen(tmp_path, clock):
    assert _pel_after_reopening_later(tmp_path, clock, HARDENED) == [["1-1", "c", NOW, 1]]


def test_verbatim_xclaim_takes_the_reopen_time_and_kevy_drops_the_stream(tmp_path, clock):
    no_time = HARDENED.with_switches("xclaim_logs_time", on=False)
    assert _pel_after_reopening_later(tmp_path / "a", clock, no_time) == [
        ["1-1", "c", NOW + 5_000, 1]]
    # kevy 1.17 skips every stream verb at replay (docs/SPEC.md §5): no stream to get wrong.
    assert _pel_after_reopening_later(tmp_path / "b", clock, KEVY_1_17) is None


# -- a save or rewrite whose commit fails (switch save_failure_stops_tee, F17) -------------
#
# Faults are injected through CrashFS's FaultPlan (an injected failure changes
# nothing on disk); the store's save retry sleeps through the injected sleeper,
# so a SaveTimedOut costs no wall time. Each history is an RPUSH and an INCRBY
# per step, so a lost write and a doubled one both show in the reopened keyspace.

DATA = "/data"


def crash_store(fs: CrashFS, clock, profile: Profile, naps: list[float] | None = None) -> Store:
    sleeper = naps.append if naps is not None else _no_nap
    return Store.open(cfg(DATA), fs=fs, clock=clock, profile=profile, sleeper=sleeper)


def _no_nap(seconds: float) -> None:
    raise AssertionError(f"the save waited {seconds} s on a rewrite nobody is running")


def step(store: Store, tag: str) -> None:
    store.rpush(b"l", tag.encode())
    store.incr_by(b"n", 1)


def crash_reopened(fs: CrashFS, clock, profile: Profile) -> dict[str, object]:
    store = crash_store(fs, clock, profile)
    try:
        return values(store)
    finally:
        store.close()


def expected(*tags: str) -> dict[str, object]:
    return {"l": list(tags), "n": str(len(tags))}


def fail_snapshot_rename(fs: CrashFS, store: Store) -> None:
    fs.fail_next("rename", f"{DATA}/{TMP}", "eio")
    with pytest.raises(OSError) as info:
        store.save()
    assert info.value.errno == errno.EIO and fs.faults.fired == [f"rename {TMP} → {D}: EIO"]


@pytest.mark.parametrize("profile", ["kevy-1.17", "hardened-save_commit_roll_forward,"
                                     "save_failure_stops_tee"])
def test_kevy_failed_snapshot_rename_leaves_the_tee_running_and_no_save_ever_succeeds(
        clock, profile):
    """F17: §9.3 step 3, "If the rename itself fails the error is returned with the
    tee still active." Nothing ends that tee: every later save waits 2000 × 5 ms
    and fails, every rewrite skips the shard, the tee grows with every write."""
    fs, naps = CrashFS(), []
    store = crash_store(fs, clock, get_profile(profile), naps)
    step(store, "t0")
    fail_snapshot_rename(fs, store)
    aof = store.aof(0)
    assert aof is not None and aof.is_rewriting
    step(store, "t1")
    with pytest.raises(SaveTimedOut):
        store.save()
    assert len(naps) == SAVE_RETRIES
    assert store.rewrite_aof() is None  # skipped: "a rewrite is in flight"
    assert aof.tee == encode_frame([b"RPUSH", b"l", b"t1"]) + encode_frame(
        [b"INCRBY", b"n", b"1"])
    step(store, "t2")
    store.close()
    # No write is lost or doubled: the live log was appended to throughout.
    assert crash_reopened(fs, clock, KEVY_1_17) == expected("t0", "t1", "t2")
    assert not fs.exists(f"{DATA}/{D}") and fs.exists(f"{DATA}/{TMP}")


@pytest.mark.parametrize("profile", ["kevy-1.17+save_failure_stops_tee", "hardened",
                                     "hardened-save_commit_roll_forward"])
def test_after_a_failed_snapshot_rename_the_next_rewrite_and_save_succeed(clock, profile):
    """The fix: the failed commit discards its tee (the live log is complete), so
    the next rewrite runs, the next save commits, and the reopened store holds
    every acknowledged write exactly once. (`hardened`'s own commit takes the tee
    before the rename, so it never had F17.)"""
    prof = get_profile(profile)
    fs = CrashFS()
    store = crash_store(fs, clock, prof)
    step(store, "t0")
    fail_snapshot_rename(fs, store)
    aof = store.aof(0)
    assert aof is not None and not aof.is_rewriting
    step(store, "t1")
    # The rewrite first: kevy 1.17's rewrite beside a snapshot is F9, not this.
    result = store.rewrite_aof()
    assert result is not None and result.keys == 2
    step(store, "t2")
    assert store.save() is True  # `_no_nap`: it never waited
    assert fs.exists(f"{DATA}/{D}")
    step(store, "t3")
    store.close()
    assert crash_reopened(fs, clock, prof) == expected("t0", "t1", "t2", "t3")


class FailDirSyncAfterRename(CrashFS):
    """CrashFS whose first directory sync after a rename onto `onto` fails with EIO.

    A FaultPlan entry matches an op and a path, and a hardened commit syncs the
    same directory several times; this arms the fault at the right moment.
    """

    def __init__(self, onto: str) -> None:
        super().__init__()
        self.onto: str | None = onto

    def rename(self, src: str, dst: str) -> None:
        super().rename(src, dst)
        if self.onto is not None and dst.endswith("/" + self.onto):
            self.onto = None
            self.fail_next("fsync_dir", DATA, "eio")


@pytest.mark.parametrize(("verb", "onto"), [("save", D), ("save", A), ("rewrite", A)])
def test_hardened_directory_sync_failure_after_a_commit_rename_refuses_writes_until_reopen(
        clock, verb, onto):
    """Ours (hardened only: kevy syncs no directory). The rename has happened when
    its directory sync fails, so the open log is no longer the one a reopen
    replays: after the snapshot rename the next open rolls `.reset` forward, and
    after a log rename the old handle appends to an unlinked file. Before the fix
    both kinds of write were acknowledged and then lost at the reopen. Now the
    shard refuses them until the store is reopened, and the reopened store holds
    every acknowledged write once and saves and rewrites again."""
    fs = FailDirSyncAfterRename(onto)
    store = crash_store(fs, clock, HARDENED)
    step(store, "t0")
    with pytest.raises(OSError) as info:
        store.save() if verb == "save" else store.rewrite_aof()
    assert info.value.errno == errno.EIO and fs.faults.fired == ["fsync_dir /data: EIO"]
    for refused in (lambda: step(store, "t1"), store.save, store.rewrite_aof):
        with pytest.raises(ShardFailed, match="reopen the store"):
            refused()
    store.close()
    assert crash_reopened(fs, clock, HARDENED) == expected("t0")
    store = crash_store(fs, clock, HARDENED)
    step(store, "t1")
    assert store.save() is True
    step(store, "t2")
    assert store.rewrite_aof() is not None
    step(store, "t3")
    store.close()
    assert crash_reopened(fs, clock, HARDENED) == expected("t0", "t1", "t2", "t3")


@pytest.mark.parametrize(("profile", "fails", "back"), [
    ("kevy-1.17", RW, ["t0", "t0", "t1"]),  # F5 without a crash
    ("hardened", A + ".reset", ["t0", "t1"]),
])
def test_a_failed_log_reset_after_the_snapshot_rename(clock, profile, fails, back):
    """kevy 1.17 renames the snapshot, then fails to build the log base (§9.3: "If
    the AOF steps fail: abort tee, delete <aof>.rewrite, fail"): the new snapshot
    now sits beside the old, complete log, and the next open replays every
    pre-save write a second time - F5's state, reached by ENOSPC, no crash.
    `save_commit_roll_forward` builds `.reset` before the rename instead."""
    prof = get_profile(profile)
    fs = CrashFS()
    store = crash_store(fs, clock, prof)
    step(store, "t0")
    fs.fail_next("create", f"{DATA}/{fails}", "enospc")
    with pytest.raises(OSError) as info:
        store.save()
    assert info.value.errno == errno.ENOSPC
    step(store, "t1")
    store.close()
    assert crash_reopened(fs, clock, prof) == {"l": back, "n": str(len(back))}


def test_xgroup_is_routed_by_its_key_not_its_subcommand() -> None:
    # F27 (ours): routed by argv[1], the group and MKSTREAM's stream went to the
    # shard of "CREATE", beside (not in) the stream's own shard.
    from impl.aof import FsyncPolicy
    from impl.clock import ManualClock
    from impl.store import Store, StoreConfig
    from model.crashfs import CrashFS

    config = StoreConfig(data_dir="/data", shards=4, appendfsync=FsyncPolicy.ALWAYS,
                         reaper="manual")
    store = Store.open(config, fs=CrashFS(), clock=ManualClock(1_700_000_000_000))
    assert store.shard_for(b"x") != store.shard_for(b"CREATE")
    store.execute([b"XADD", b"x", b"1-1", b"f", b"v"])
    assert store.execute([b"XGROUP", b"CREATE", b"x", b"g", b"0", b"MKSTREAM"]) == "OK"
    holders = [i for i in range(store.n) if b"x" in store.keyspace(i).raw()]
    assert holders == [store.shard_for(b"x")]
    assert b"g" in store.keyspace(holders[0]).raw()[b"x"].value.groups
    store.close()


def test_a_scheduled_background_reaper_runs_only_when_the_harness_says(clock: ManualClock) -> None:
    # Store.open(scheduler=...) hands over the reaper's pass instead of starting a
    # thread; each pass expires keys and syncs an everysec log that is due.
    import threading

    fs = CrashFS()
    passes: list[tuple[object, int]] = []
    before = threading.active_count()
    config = cfg("/d", reaper="background", appendfsync=FsyncPolicy.EVERYSEC)
    store = Store.open(config, fs=fs, clock=clock, scheduler=lambda p, ms: passes.append((p, ms)))
    assert threading.active_count() == before and len(passes) == 1
    reaper_pass, interval = passes[0]
    assert interval == config.reaper_interval_ms
    store.execute([b"SET", b"k", b"v", b"PX", b"500"])
    store.execute([b"SET", b"j", b"w"])
    assert reaper_pass() == 0  # not yet a second since the log's last sync
    clock.advance(1000)
    synced_before = [p for p in fs.points() if p.op == "fdatasync"]
    assert reaper_pass() == 1  # expired k, synced the log once
    assert len([p for p in fs.points() if p.op == "fdatasync"]) == len(synced_before) + 1
    assert values(store) == {"j": "w"}
    assert b"k" not in store.keyspace(0).raw()  # removed, not just hidden
    store.close()
    assert reaper_pass() == 0  # a closed store's pass does nothing


def test_a_close_whose_save_fails_still_releases_the_directory_lock() -> None:
    """F50 (ours, found by the hunt): with the AOF disabled, hardened's close saves
    first (F30's fix); a save that failed there left the store open and its
    directory locked (F19's lock), so the same process could never open it again."""
    from model.crashfs import Fault, FaultPlan

    fs = CrashFS()
    config = StoreConfig(data_dir="/d", aof_enabled=False, reaper="manual")
    store = Store.open(config, fs=fs, clock=ManualClock(0), profile=HARDENED)
    store.execute([b"SET", b"k", b"v"])
    fs.faults = FaultPlan([Fault("fsync", "/d/dump-0.rdb.tmp")])
    with pytest.raises(OSError):
        store.close()
    fs.faults = FaultPlan()
    assert store.closed and store.dir_lock is None
    again = Store.open(config, fs=fs, clock=ManualClock(0), profile=HARDENED)
    again.close()
