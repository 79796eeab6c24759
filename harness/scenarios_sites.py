"""Scenarios that reach the persistence sites the plain ones do not (issue 15).

What: more `@scenario`s for harness/scenarios.py (imported at its end, so
`SCENARIOS` holds them too): a value over CHUNK_SIZE (the large-frame log
write and the chunked snapshot and rewrite writes), failing appends (F25's
rollback and F8's torn-tail cut at the next open), failing save and rewrite
steps (their cleanup unlinks, the hardened commit's roll-forward at open), a
store without a log (the hardened save's plain rename), and re-shards that
fail and are finished or retried by the next open (the journal's recovery).
`kevy-verify sites` lists which site each one reaches. `cross-shard` reaches
the intent of F45 (written, torn, rolled forward) and F44's ordering syncs.

Why faults: a scenario is a deterministic program, so a step that must fail
fails by a fault it arms on its own CrashFS (`model.crashfs.Fault`) right
before the call and disarms right after; the explorer's rerun of the scenario
for each crash point arms the same fault at the same step. A failed point is
a numbered point like any other: the explorer crashes before and after it.

Rules:
1. A failed call promises nothing: a save or rewrite that raised records no
   barrier; a write whose append raised stays in flight until the client can
   tell, after a restart, whether it took (`_settle_by_reading`).
2. A store that refuses calls after a failure (hardened: `ShardFailed`, a
   failed log) is closed best effort and reopened as a new process, as an
   operator would restart it.
3. Only rule-4 verbs of harness/scenarios.py (plain SET, INCRBY, RPUSH, SADD,
   DEL): a difference after recovery is a durability problem.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable

from harness.scenarios import SCENARIOS, InvalidScenario, Run, Scenario, scenario
from impl.snapshot import CHUNK_SIZE
from impl.store import StoreError
from model.crashfs import Fault

__all__ = ["BIG"]

#: A value over CHUNK_SIZE (1 MiB), incompressible so no encoding shrinks it under
#: the chunk: its log frame bypasses the 8 KiB buffer (aof rule 2), and the snapshot
#: and rewrite writers flush a full chunk before their last write.
BIG = random.Random(15).randbytes(CHUNK_SIZE + 4096)


def _faulty(run: Run, faults: list[Fault], call: Callable[[], object]) -> None:
    """Run `call` with `faults` armed on the run's CrashFS; the OSError a fault makes it
    raise is the step's expected end (rule 1). The faults are disarmed afterwards,
    fired or not: some fire under one profile only (hardened's `.reset`)."""
    plan = getattr(run.fs, "faults", None)
    if plan is None:
        raise InvalidScenario(f"scenario {run.scenario.name!r}: faults need a CrashFS")
    plan.faults[:0] = faults
    try:
        call()
    except OSError:
        pass
    finally:
        plan.faults.clear()


def _restart(run: Run, shards: int | None = None) -> None:
    """Rule 2: close best effort (a failed store may refuse its close), open again."""
    store, run.store = run.store, None
    if store is not None:
        with contextlib.suppress(OSError, StoreError):
            store.close()
    run.open(shards)


def _settle_by_reading(run: Run, key: bytes, value: bytes | None) -> None:
    """Rule 1: the write in flight was `SET key value` (`value` None: a DEL of `key`);
    after a restart the client reads `key` and so learns whether it took."""
    if run.history.in_flight is None:
        return
    store = run.store
    assert store is not None
    run.history.settle(applied=store.execute([b"GET", key]) == value)


# --------------------------------------------------------------------------


@scenario(
    "big-value",
    "a value over the 1 MiB chunk, an AOF rewrite, then a save (the "
    "large-frame log write and the chunked rewrite and snapshot writes)",
)
def big_value(run: Run) -> None:
    run.write(b"SET", b"big", BIG)
    run.write(b"SET", b"a", b"1")
    # The rewrite first: with no snapshot yet hardened rewrites too (F9's switch
    # turns a rewrite beside a snapshot into a save).
    run.begin_rewrite()
    run.write_rewrite()
    run.finish_rewrite()
    run.write(b"INCRBY", b"n", b"5")
    run.save()


_LOG = "*/aof-0.aof"


@scenario(
    "append-fails",
    "an append cut short by a failing disk, a restart, then one whose "
    "rollback fails too: its torn frame meets the next open (F25's rollback, F8's cut)",
)
def append_fails(run: Run) -> None:
    run.write(b"SET", b"a", b"1")
    # Five bytes reach the file, then the disk fails: kevy keeps the rest buffered
    # (its close completes the frame); hardened cuts back to the synced length.
    _faulty(
        run,
        [Fault("write", _LOG, "short", nbytes=5), Fault("write", _LOG, "eio")],
        lambda: run.write(b"SET", b"b", b"2"),
    )
    _restart(run)
    _settle_by_reading(run, b"b", b"2")
    run.write(b"INCRBY", b"n", b"5")
    # The same, and the rollback's truncate fails as well: hardened leaves five
    # torn bytes that its next open cuts (F8's switch).
    _faulty(
        run,
        [
            Fault("write", _LOG, "short", nbytes=5),
            Fault("write", _LOG, "eio"),
            Fault("truncate", _LOG, "eio"),
        ],
        lambda: run.write(b"SET", b"c", b"3"),
    )
    _restart(run)
    _settle_by_reading(run, b"c", b"3")
    run.write(b"SADD", b"s", b"m")


@scenario(
    "save-fails",
    "a save whose new log base cannot be synced, a write, then a save whose snapshot "
    "rename fails and whose cleanup fails too, a restart, a write",
)
def save_fails(run: Run) -> None:
    run.write(b"SET", b"a", b"1")
    run.write(b"INCRBY", b"n", b"5")
    # kevy builds the base as `<aof>.rewrite`, hardened as `<aof>.reset`: either
    # fails its fsync and is unlinked (commit_save's cleanup).
    _faulty(run, [Fault("fsync", "*.rewrite"), Fault("fsync", "*.reset")], run.save)
    run.write(b"RPUSH", b"l", b"x")
    # The snapshot rename (the commit point) fails, and so does hardened's unlink of
    # `.reset`: the next open finds `.reset` beside `<snapshot>.tmp` and discards it.
    _faulty(run, [Fault("rename", "*.tmp"), Fault("unlink", "*.reset")], run.save)
    _restart(run)
    run.write(b"SADD", b"s", b"m")


@scenario(
    "save-install-fails",
    "writes, a save whose reset log cannot be renamed into place (hardened: after the "
    "snapshot rename, its commit point), a restart, a write",
)
def save_install_fails(run: Run) -> None:
    run.write(b"SET", b"a", b"1")
    run.write(b"INCRBY", b"n", b"5")
    # Hardened: the snapshot is committed, `.reset` cannot be renamed over the log;
    # the store refuses writes, and the next open renames `.reset` into place.
    # kevy has no `.reset`: its save completes.
    _faulty(run, [Fault("rename", "*.reset")], run.save)
    _restart(run)
    run.write(b"DEL", b"a")


@scenario(
    "rewrite-fails",
    "a rewrite whose temp file cannot be synced, with writes teed "
    "around it, then a rewrite whose install rename fails, then a write",
)
def rewrite_fails(run: Run) -> None:
    run.write(b"SET", b"a", b"1")
    run.write(b"RPUSH", b"l", b"x")
    run.begin_rewrite()
    run.write(b"INCRBY", b"n", b"5")  # teed
    # dump_aof's fsync fails: the rewrite is aborted and its temp file unlinked.
    _faulty(run, [Fault("fsync", "*.rewrite")], run.write_rewrite)
    run.write(b"SADD", b"s", b"m")
    run.begin_rewrite()
    run.write_rewrite()
    run.write(b"DEL", b"a")  # teed
    _faulty(run, [Fault("rename", "*.rewrite")], run.finish_rewrite)
    if run.store is not None and run.store.failed_shards():
        _restart(run)
    run.write(b"SET", b"b", b"2")


def _no_aof(run: Run) -> None:
    run.write(b"SET", b"a", b"1")
    run.write(b"INCRBY", b"n", b"5")
    run.save()
    run.write(b"RPUSH", b"l", b"x")


# Registered by hand: `@scenario` has no way to pass StoreConfig fields. Policy
# "no": without a log an acknowledgement promises nothing, only a save does.
SCENARIOS["save-no-aof"] = Scenario(
    "save-no-aof",
    "a store without an AOF: writes, a save, a write (the save's plain "
    "snapshot rename; hardened also saves at close, F30)",
    "no",
    _no_aof,
    extra=(("aof_enabled", False),),
)


def _stale_log(run: Run) -> None:
    # F42: an AOF-enabled process leaves a log; the next opens without the AOF,
    # still replays it, and saves: the save must not leave the log to be replayed
    # again over its snapshot.
    run.write(b"RPUSH", b"l", b"x")
    run.write(b"INCRBY", b"n", b"5")
    run.close()
    run.open(changes={"aof_enabled": False})
    run.write(b"SET", b"a", b"1")
    run.save()


SCENARIOS["save-stale-log"] = Scenario(
    "save-stale-log",
    "writes with the AOF on, a reopen with it off, a write and a save over the old log "
    "(F42: the save resets the stale log; hardened by its roll-forward commit)",
    "no",
    _stale_log,
)


@scenario(
    "reshard-torn-journal",
    "a re-shard whose journal write is cut short (the open "
    "fails), then an open that deletes the torn journal and re-shards again over the "
    "stale .reshard files",
    requires="impl.reshard",
)
def reshard_torn_journal(run: Run) -> None:
    run.write(b"SET", b"a", b"1")
    run.write(b"INCRBY", b"n", b"5")
    run.close()
    journal = "*/reshard.journal"
    # Before the commit point: the old layout stays whole; the retry's
    # commit_reshard unlinks the stale `.reshard` files first.
    _faulty(
        run,
        [Fault("write", journal, "short", nbytes=5), Fault("write", journal, "eio")],
        lambda: run.open(shards=3),
    )
    _restart(run, shards=3)
    run.write(b"SET", b"b", b"2")


@scenario(
    "reshard-roll-forward",
    "writes and a save, a re-shard that fails after its "
    "journal (a source rename fails), then an open that rolls the journal forward",
    requires="impl.reshard",
)
def reshard_roll_forward(run: Run) -> None:
    run.write(b"SET", b"a", b"1")
    run.save()  # the old layout has a snapshot: finish_reshard renames it away
    run.write(b"INCRBY", b"n", b"5")
    run.close()
    # After the commit point: the next open's recover_journal finishes the re-shard.
    _faulty(run, [Fault("rename", "*/aof-0.aof")], lambda: run.open(shards=3))
    _restart(run, shards=3)
    run.write(b"SET", b"b", b"2")


_INTENT = "*/cross-shard.intent"


@scenario(
    "cross-shard",
    "three shards under everysec: writes, a DEL across shards, one whose intent is "
    "torn by a failing disk (a restart deletes it), one whose intent cannot be removed "
    "(a restart runs it again) - F44's order and F45's intent",
    policy="everysec",
    shards=3,
)
def cross_shard(run: Run) -> None:
    # Shards of 3: a -> 1, b -> 2, c -> 0, n -> 0.
    run.write(b"SET", b"a", b"1")
    run.write(b"SET", b"b", b"1")
    run.write(b"SET", b"c", b"1")
    run.write(b"DEL", b"a", b"b")
    run.write(b"INCRBY", b"n", b"5")
    run.write(b"SET", b"a", b"2")
    # kevy 1.17 writes no intent, so neither fault fires there: its DELs just run.
    _faulty(
        run,
        [Fault("write", _INTENT, "short", nbytes=5), Fault("write", _INTENT, "eio")],
        lambda: run.write(b"DEL", b"a", b"c"),
    )
    _restart(run)
    _settle_by_reading(run, b"c", None)
    run.write(b"SET", b"c", b"2")
    _faulty(run, [Fault("unlink", _INTENT)], lambda: run.write(b"DEL", b"a", b"c"))
    _restart(run)
    _settle_by_reading(run, b"c", None)
    run.write(b"SET", b"b", b"2")


_COMMIT = "*/save.commit"


def _shards_no_aof(run: Run) -> None:
    run.write(b"SET", b"a", b"1")
    run.write(b"SET", b"b", b"1")
    run.write(b"SET", b"c", b"1")
    run.save()
    run.write(b"INCRBY", b"n", b"5")
    # kevy 1.17 writes no record, so neither fault fires there: its saves just run.
    # The record is torn by a failing disk: the save fails, a restart deletes it.
    _faulty(
        run,
        [Fault("write", _COMMIT, "short", nbytes=5), Fault("write", _COMMIT, "eio")],
        run.save,
    )
    _restart(run)
    run.write(b"SET", b"a", b"2")
    # Committed, then a rename fails: every shard fails, a restart finishes the save.
    _faulty(run, [Fault("rename", "*/dump-1.rdb.tmp")], run.save)
    _restart(run)
    run.write(b"SET", b"b", b"2")


# Registered by hand, as save-no-aof: `@scenario` takes no StoreConfig fields.
SCENARIOS["save-shards-no-aof"] = Scenario(
    "save-shards-no-aof",
    "three shards without an AOF: writes and a save, a save whose commit record is torn "
    "(a restart deletes it), one whose rename fails after its record (a restart finishes "
    "it) - F46's commit across shards",
    "no",
    _shards_no_aof,
    shards=3,
    extra=(("aof_enabled", False),),
)
