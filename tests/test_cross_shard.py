"""Writes across shards: the hole between two logs (F44) and the half-done command (F45).

What: kevy 1.17 gives every shard its own log, synced on its own. Under
`everysec`/`no` a power cut can keep a later write on one shard and lose an
earlier one on another (F44); and FLUSHALL, FLUSHDB or a DEL of keys on several
shards is logged shard by shard, so a power cut between them leaves it done on
some shards only (F45). Both recover a keyspace after no prefix of the client's
writes, which one log (Redis's AOF) never does. `cross_shard_order` syncs the
other shards' logs before a write; `cross_shard_intent` makes such a command
all-or-nothing with a durable intent (impl/cross_shard.py) that an open finishes.

Why: found by the hunt once several shards ran under every policy (it had
restricted them to `always` until the contract said what a hole is); these pin
each on its smallest history, judged over the crash's images, plus the intent's
own protocol: its format, its torn and hostile forms, a failure half way, and a
roll-forward onto another shard count and without a log.
"""

from __future__ import annotations

import pytest

from harness.lifecycle import Program, execute
from impl import cross_shard
from impl.aof import FsyncPolicy
from impl.clock import ManualClock
from impl.cross_shard import CorruptIntent, format_intent, parse_intent
from impl.layout import shard_of
from impl.profile import HARDENED, KEVY_1_17, Profile
from impl.store import ShardFailed, Store, StoreConfig
from model.crashfs import CrashFS, Fault, FaultPlan

DIR = "/data"


def test_the_keys_used_here_live_on_different_shards() -> None:
    assert shard_of(b"a", 2) != shard_of(b"b", 2)
    assert len({shard_of(k, 3) for k in (b"a", b"b", b"c")}) == 3


# ---- F44: a hole between two shards' logs ----------------------------------------------


def _hole() -> Program:
    # `b`, then `a` on the other shard, neither synced; a barrier syncs shard 0's
    # log (`a`) first, and the power goes right after: `a` survives, `b` does not.
    return Program(
        "everysec",
        2,
        [
            ["w", "SET", "b", "1"],
            ["w", "SET", "a", "1"],
            ["crash", ["fsync"], 1, "after", "ordered", []],
        ],
    )


def test_kevy_keeps_a_later_write_on_one_shard_and_loses_an_earlier_one() -> None:
    failure = execute(_hole(), KEVY_1_17, lenient=True)
    assert failure is not None and failure.rule == "no_prefix", failure
    assert failure.judgement is not None and failure.judgement.recovered is not None
    assert {k["key"] for k in failure.judgement.recovered["keys"]} == {"a"}


@pytest.mark.parametrize("profile", [KEVY_1_17.with_switches("cross_shard_order"), HARDENED])
def test_ordered_logs_lose_only_a_suffix(profile: Profile) -> None:
    assert execute(_hole(), profile, lenient=True) is None


# ---- F45: a command half done across shards ---------------------------------------------


def _half_flushall(policy: str, k: int) -> Program:
    return Program(
        policy,
        3,
        [
            ["w", "SET", "c", "1"],  # shard 0: flushed first
            ["w", "SET", "a", "1"],
            ["w", "SET", "b", "1"],
            ["crash", ["w", "FLUSHALL"], k, "after", "process-crash", []],
        ],
    )


def test_kevy_leaves_a_flushall_done_on_some_shards_only() -> None:
    # Under `always` each shard's FLUSHALL frame is synced in turn: a power cut
    # right after the first leaves one shard flushed.
    failure = execute(_half_flushall("always", 1), KEVY_1_17, lenient=True)
    assert failure is not None and failure.rule == "no_prefix", failure
    assert failure.judgement is not None and failure.judgement.recovered is not None
    assert {k["key"] for k in failure.judgement.recovered["keys"]} == {"a", "b"}


@pytest.mark.parametrize("policy", ["always", "everysec", "no"])
@pytest.mark.parametrize("k", range(1, 13))
@pytest.mark.parametrize(
    "profile", [KEVY_1_17.with_switches("cross_shard_intent", "cross_shard_order"), HARDENED]
)
def test_an_intent_makes_a_flushall_all_or_nothing(profile: Profile, policy: str, k: int) -> None:
    # Every crash point of the intent's protocol (write, fsync, directory fsync,
    # three shards' frames, the syncs, the removal) and one past its end.
    assert execute(_half_flushall(policy, k), profile, lenient=True) is None


@pytest.mark.parametrize("model", ["ordered", "posix"])
@pytest.mark.parametrize("k", range(1, 9))
def test_an_intent_never_overtakes_an_earlier_unsynced_write(model: str, k: int) -> None:
    # The intent makes the DEL durable, so the unsynced INCRBY before it must be
    # synced first, or an image keeps the DEL (rolled forward) and loses the INCRBY.
    program = Program(
        "everysec",
        3,
        [
            ["w", "INCRBY", "n", "1"],  # shard 0
            ["w", "SET", "a", "1"],
            ["w", "SET", "b", "1"],
            ["fsync"],
            ["w", "INCRBY", "n", "1"],  # unsynced
            ["crash", ["w", "DEL", "a", "b"], k, "after", model, []],
        ],
    )
    assert execute(program, HARDENED, lenient=True) is None


def test_kevy_loses_a_completed_flushall_on_one_shard_under_everysec() -> None:
    # The command returned; the last shard's frame was never synced. The order
    # switch alone syncs the earlier shards' frames before each next one, so the
    # power cut keeps them and drops the last: the hunt's F45 history.
    program = Program(
        "everysec",
        3,
        [
            ["w", "SET", "a", "1"],
            ["w", "SET", "b", "1"],
            ["w", "SET", "c", "1"],
            ["w", "FLUSHALL"],
            ["crash", ["w", "SET", "k1", "1"], 1, "before", "posix", []],
        ],
    )
    failure = execute(program, KEVY_1_17.with_switches("cross_shard_order"), lenient=True)
    assert failure is not None and failure.rule == "no_prefix", failure
    assert execute(program, HARDENED, lenient=True) is None


# ---- the intent file -----------------------------------------------------------------


def test_every_strict_prefix_of_an_intent_is_torn_and_the_whole_is_the_command() -> None:
    argv = (b"DEL", b"a", b"b")
    data = format_intent(argv)
    assert parse_intent(data) == argv
    for cut in range(len(data)):
        assert parse_intent(data[:cut]) is None, cut
    # F52's case: an intent whose fsync failed (its command never ran) reads back as
    # zeros after a power cut - torn, not corrupt.
    for n in (1, len(data)):
        assert parse_intent(b"\0" * n) is None
    for junk in (b"X\0", b"XX"):  # zeros only: other bytes are no failed sync's
        with pytest.raises(CorruptIntent):
            parse_intent(junk)


@pytest.mark.parametrize(
    ("data", "offset"),
    [
        (b"kevy-verify cross-shard-intent v2\n", 0),  # another header
        (b"garbage", 0),  # not a prefix of the header
        (format_intent((b"DEL", b"a")) + b"x", len(cross_shard.HEADER)),  # trailing bytes
        (format_intent((b"SET", b"k", b"v")), len(cross_shard.HEADER)),  # not ours to run
        (cross_shard.HEADER + b"*1\r\n!3\r\nabc\r\n", len(cross_shard.HEADER)),  # corrupt
        (cross_shard.HEADER + b"*1\r\n$03\r\nDEL\r\n", len(cross_shard.HEADER)),  # not canonical
    ],
)
def test_an_intent_no_crash_leaves_is_refused_with_its_offset(data: bytes, offset: int) -> None:
    with pytest.raises(CorruptIntent) as e:
        parse_intent(data, "/data/cross-shard.intent")
    assert e.value.offset == offset
    assert e.value.path == "/data/cross-shard.intent"


def _open(fs: CrashFS, shards: int = 3, **extra: object) -> Store:
    config = StoreConfig(
        data_dir=DIR, shards=shards, appendfsync=FsyncPolicy.EVERYSEC, reaper="manual", **extra
    )  # type: ignore[arg-type]
    return Store.open(
        config, fs=fs, clock=ManualClock(1_700_000_000_000), profile=HARDENED, log=lambda line: None
    )


def _keys(store: Store) -> set[str]:
    return {k["key"] for k in store.snapshot()["keys"]}


def test_an_open_removes_a_torn_intent_and_refuses_a_hostile_one() -> None:
    fs = CrashFS()
    _open(fs).close()
    path = f"{DIR}/{cross_shard.INTENT_NAME}"
    f = fs.create_truncate(path)
    f.write(format_intent((b"FLUSHALL",))[:-3])
    f.close()
    lines: list[str] = []
    store = Store.open(
        StoreConfig(data_dir=DIR, shards=3),
        fs=fs,
        clock=ManualClock(0),
        profile=HARDENED,
        log=lines.append,
    )
    store.close()
    assert not fs.exists(path) and "torn cross-shard intent" in lines[0]
    f = fs.create_truncate(path)
    f.write(format_intent((b"SET", b"k", b"v")))
    f.close()
    with pytest.raises(CorruptIntent):
        _open(fs)
    assert fs.exists(path), "a refused intent is left for the operator"


def test_a_failure_half_way_fails_every_shard_and_the_reopen_finishes_the_command() -> None:
    fs = CrashFS()
    store = _open(fs)
    for key in (b"a", b"b", b"c"):
        store.execute([b"SET", key, b"1"])
    # The command ran on every shard and its logs are synced; removing the intent
    # fails, so it stays.
    fs.faults = FaultPlan([Fault("unlink", "*/" + cross_shard.INTENT_NAME)])
    with pytest.raises(OSError):
        store.execute([b"FLUSHALL"])
    fs.faults = FaultPlan()
    for key in (b"a", b"b", b"c"):  # no write may follow the command before the reopen
        with pytest.raises(ShardFailed):
            store.execute([b"SET", key, b"2"])
    store.close()
    assert fs.exists(f"{DIR}/{cross_shard.INTENT_NAME}")
    # Reopen on two shards (a re-shard) and with the log off: the command runs
    # again on the new layout and a save makes it durable before the intent goes.
    store = _open(fs, shards=2, aof_enabled=False)
    assert _keys(store) == set()
    assert not fs.exists(f"{DIR}/{cross_shard.INTENT_NAME}")
    store.close()
    store = _open(fs, shards=2, aof_enabled=False)
    assert _keys(store) == set()
    store.close()


def test_a_failed_intent_write_runs_nothing_and_fails_every_shard() -> None:
    fs = CrashFS()
    store = _open(fs)
    for key in (b"a", b"b", b"c"):
        store.execute([b"SET", key, b"1"])
    fs.faults = FaultPlan([Fault("fsync_dir", DIR)])
    with pytest.raises(OSError):
        store.execute([b"DEL", b"a", b"b"])
    fs.faults = FaultPlan()
    assert _keys(store) == {"a", "b", "c"}
    with pytest.raises(ShardFailed):
        store.execute([b"SET", b"c", b"2"])
    store.close()
    # The intent is whole on disk (only its directory sync failed): the reopen runs
    # the DEL, which the client saw fail - admissible for a failed call, and no
    # write came after it. Without a log the roll-forward saves before it removes
    # the intent, so a process that then dies without closing keeps the DEL.
    dead = _open(fs, aof_enabled=False)  # never closed: the process dies,
    assert dead.dir_lock is not None
    dead.dir_lock.release()  # and the kernel drops its lock
    assert not fs.exists(f"{DIR}/{cross_shard.INTENT_NAME}")
    store = _open(fs)
    assert _keys(store) == {"c"}
    store.close()


def test_an_open_syncs_what_it_serves_before_another_shard_can_outlive_it() -> None:
    # The 600 s hardened hunt's history (10 shards; `l` and `s` on shard 7). A failed
    # barrier fails every shard, and each log is closed unsynced: `l` sits in shard
    # 7's file, unsynced, and the reopen serves it. A later failed sync of shard 7
    # drops its unsynced pages - `l` with them - while `h` on shard 6 is made
    # durable: a hole, unless the open synced every log it serves (F44's invariant).
    program = Program(
        "everysec",
        10,
        [
            ["w", "RPUSH", "l", "1"],
            ["fault", ["w", "DEL", "c", "z"], 7, "short"],
            ["w", "SADD", "s", "2", "x"],
            ["fault", ["w", "SET", "b", "2"], 2, "partial"],
            ["w", "HSET", "h", "fx", "x"],
            ["crash", ["w", "XDEL", "x", "1-1"], 8, "before", "posix", []],
        ],
    )
    assert execute(program, HARDENED, lenient=True) is None


def test_the_reopen_that_finishes_an_intent_evicts_nothing() -> None:
    """F48 (ours, found by the hunt): the roll-forward ran the command through the
    write path, whose eviction pass then dropped a key no client write answers for."""
    fs = CrashFS()
    store = _open(fs, maxmemory=3 * 60, maxmemory_policy="allkeys-lru")  # 50 B a key
    store.execute([b"SET", b"a", b"1"])
    store.execute([b"SET", b"b", b"1"])
    fs.faults = FaultPlan([Fault("fsync_dir", DIR)])
    with pytest.raises(OSError):
        store.execute([b"DEL", b"c", b"x"])  # across shards: an intent, left whole
    fs.faults = FaultPlan()
    store.close()
    # Over its share now: the layout shrinks to one shard of the same maxmemory.
    store = _open(fs, shards=1, maxmemory=60, maxmemory_policy="allkeys-lru")
    assert not fs.exists(f"{DIR}/{cross_shard.INTENT_NAME}")
    assert _keys(store) == {"a", "b"}
    store.close()


def test_the_hunt_s_minimal_history_of_f48_passes_under_hardened() -> None:
    program = Program(
        "always", 1,
        [["w", "HSET", "h", "fx", "x"], ["w", "LPUSH", "l", "x"], ["reopen", 4],
         ["fault", ["w", "DEL", "x", "n"], "fsync_dir:1", "eio"]],
        maxmemory=300, eviction="allkeys-lru",
        config={"snapshot_name": "dump.rdb", "aof_name": "appendonly.aof"},
    )
    assert execute(program, HARDENED) is None
