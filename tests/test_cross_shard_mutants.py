"""The store's side of F44, F45 and F46 (impl/store.py), edge by edge.

What: what mutmut's run of impl/store.py left alive in this session's code: a
two-shard store uses the intent, an intent is written only for a command that
really spans shards, F44's order leaves a shard's own writes batched, a DEL
across shards replies with its count, a roll-forward onto one shard, a failed
write of the save across shards, and the in-memory store's open.

Why: each is a behaviour a user can see (a reply, a file, a sync count, a save
that can run again), and each mutant was alive after the crash tests.
"""

from __future__ import annotations

import pytest

from harness.lifecycle import Program, execute
from impl import cross_shard, save_commit
from impl.aof import FsyncPolicy
from impl.clock import ManualClock
from impl.layout import shard_of
from impl.profile import HARDENED
from impl.resp import encode_frame
from impl.store import Store, StoreConfig
from model.crashfs import CrashFS, Fault, FaultPlan

DIR = "/data"


def _open(fs: CrashFS, shards: int, **kw: object) -> Store:
    config = StoreConfig(
        data_dir=DIR, shards=shards, appendfsync=FsyncPolicy.EVERYSEC, reaper="manual", **kw
    )  # type: ignore[arg-type]
    return Store.open(config, fs=fs, clock=ManualClock(0), profile=HARDENED, log=lambda line: None)


@pytest.mark.parametrize("k", range(1, 10))
def test_two_shards_are_enough_for_an_intent(k: int) -> None:
    assert (shard_of(b"a", 2), shard_of(b"b", 2)) == (0, 1)
    program = Program(
        "always",
        2,
        [
            ["w", "SET", "b", "1"],
            ["w", "SET", "a", "1"],
            ["crash", ["w", "FLUSHALL"], k, "after", "ordered", []],
        ],
    )
    assert execute(program, HARDENED, lenient=True) is None


def test_a_del_on_one_shard_writes_no_intent() -> None:
    fs = CrashFS()
    store = _open(fs, 3)
    assert shard_of(b"c", 3) == shard_of(b"n", 3)
    store.execute([b"SET", b"c", b"1"])
    store.execute([b"SET", b"n", b"1"])
    fs.faults = FaultPlan([Fault("create", "*/" + cross_shard.INTENT_NAME)])
    assert store.execute([b"DEL", b"c", b"n"]) == 2  # no intent: the fault never fires
    assert fs.faults.faults, "an intent was created for a DEL of one shard"
    store.close()


def test_a_del_across_shards_replies_with_its_count() -> None:
    store = _open(CrashFS(), 3)
    for key in (b"a", b"b", b"c"):
        store.execute([b"SET", key, b"1"])
    assert store.execute([b"DEL", b"a", b"c", b"zz"]) == 2
    store.close()


def test_the_order_sync_leaves_a_shards_own_writes_batched() -> None:
    store = _open(CrashFS(), 2)
    store.execute([b"SET", b"a", b"1"])
    store.execute([b"SET", b"a", b"2"])
    aof = store.aof(shard_of(b"a", 2))
    assert aof is not None
    # everysec: both frames still in the buffer; only another shard's write syncs them.
    assert aof.pending() == encode_frame([b"SET", b"a", b"1"]) + encode_frame([b"SET", b"a", b"2"])
    store.close()


def test_a_roll_forward_onto_one_shard_runs_the_whole_del_there() -> None:
    fs = CrashFS()
    store = _open(fs, 3)
    for key in (b"a", b"b", b"c"):
        store.execute([b"SET", key, b"1"])
    fs.faults = FaultPlan([Fault("unlink", "*/" + cross_shard.INTENT_NAME)])
    with pytest.raises(OSError):
        store.execute([b"DEL", b"a", b"c"])
    fs.faults = FaultPlan()
    assert store.dir_lock is not None
    store.dir_lock.release()  # the process dies; the reopen re-shards to one shard
    store = _open(fs, 1)
    assert [k["key"] for k in store.snapshot()["keys"]] == ["b"]
    assert not fs.exists(f"{DIR}/{cross_shard.INTENT_NAME}")
    store.close()


def test_a_failed_write_of_a_save_across_shards_lets_the_next_save_run() -> None:
    fs = CrashFS()
    store = _open(fs, 3, aof_enabled=False)
    for key in (b"a", b"b", b"c"):
        store.execute([b"SET", key, b"1"])
    fs.faults = FaultPlan([Fault("fsync", "*/dump-1.rdb.tmp")])
    with pytest.raises(OSError):
        store.save()
    fs.faults = FaultPlan()
    assert store.save() is True  # every begun save was aborted: none is "in progress"
    assert not fs.exists(f"{DIR}/{save_commit.COMMIT_NAME}")
    store.close()


def test_an_in_memory_hardened_store_opens() -> None:
    store = Store.open(StoreConfig(shards=3), fs=None, clock=ManualClock(0), profile=HARDENED)
    assert store.execute([b"DEL", b"a", b"b"]) == 0
    store.close()

