"""The embedded store: shards, locks, auto-logging, save, rewrite, open/recover, reaper.

What: kevy 1.17's `kevy_embedded::Store` (docs/SPEC.md §9) over the pieces in `impl/`:
`Store.open` recovers a data directory exactly as §9.1 says, `execute` runs a
write under its shard's lock and appends the frames kevy's embedded API logs
(§5.1, §9.2), `save` and `rewrite_aof` are the three-phase protocols of §9.3
and §9.4, `tick` / the background reaper expire keys (§9.5), `close` is §9.6.

Why this shape: every protocol that spans a lock release (save, rewrite) is
also offered as explicit phases (`begin_save` → `write_save` → `commit_save`,
`begin_rewrite` → `write_rewrite` → `finish_rewrite`) so tests interleave
writes between them deterministically instead of racing threads; the one
real thread (the background reaper) is optional and tests use
`reaper="manual"`.

Rules:
1. Every disk operation goes through the injected `FileSystem`; time comes
   from the injected `Clock`. The only real sleeps are the background
   reaper's interval and the default `sleeper` of the save retry (§9.3 step
   1: 2000 × 5 ms); tests inject a sleeper that records instead.
2. Routing is `shard_of(key, n)` (KevyHash) on `argv[1]`; a command without a
   key goes to shard 0; `FLUSHALL`/`FLUSHDB` run in every shard (one frame
   each, §5.1); a multi-key `DEL` is split per shard.
3. One `threading.RLock` per shard. A write holds exactly one shard lock
   while it mutates and appends; nothing takes two shard locks except
   `snapshot()`, which takes them all in index order.
4. An append failure is raised after the keyspace changed (§5.1: "mutates,
   then appends"). Evictions are never logged (§9.2).
5. Cleanup handlers catch `Exception` only: an injected crash (a
   `BaseException` raised by a test's file system) must leave the disk
   exactly as a real crash would, with no cleanup run.
6. With every switch off this is kevy 1.17 decision for decision, including
   its defects. The switches used here: `save_commit_roll_forward` (finding
   F5: a crash between the snapshot rename and the log-reset rename makes
   the next open replay the whole old log over a snapshot that already
   holds it), `rewrite_saves_beside_snapshot` (F9: a rewrite beside a
   snapshot makes open apply the full image on top of the snapshot),
   `aof_dir_fsync` (F4, F6, F7), `aof_refuse_corrupt` (F14: kevy replays up to a
   corrupt frame, then appends behind it where replay never reaches; the fix
   makes open fail with `CorruptLogRefused` and change nothing) and
   `save_failure_stops_tee` (F17: a failed snapshot rename leaves the save's
   tee running, so no later save or rewrite of the shard can run).
7. A commit that fails *after* one of its renames took effect (only the
   hardened directory syncs can fail there) refuses further writes to the
   shard (`ShardFailed`) until the store is reopened: the open log is then no
   longer the one the next open replays, so an acknowledged write would be lost.
"""

from __future__ import annotations

import contextlib
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from impl import commands, cross_shard, replay, save_commit, snapshot
from impl.aof import (
    AUTO_REWRITE_MIN_SIZE,
    AUTO_REWRITE_PERCENTAGE,
    Aof,
    FsyncPolicy,
    RewriteResult,
    rewrite_tmp_path,
    write_aof_base,
)
from impl.clock import Clock
from impl.counts import check_recorded_counts
from impl.errors import CorruptLogRefused, KevyVerifyError, UsageError
from impl.fs import DirLock, FileSystem, LockingFileSystem, dirname, join
from impl.keyspace import Keyspace, ListValue, SetValue, Stream, ZSet
from impl.keyspace_json import document
from impl.layout import (
    SHARDS_META,
    FileNames,
    Layout,
    Routing,
    infer_files_n,
    parse_shards_meta,
    shard_of,
    tmp_of,
)
from impl.profile import KEVY_1_17, Profile
from impl.rewrite import dump_aof
from impl.snapshot import FrozenView

__all__ = [
    "EVICTION_POLICIES",
    "SAVE_RETRIES",
    "SAVE_RETRY_SLEEP_S",
    "DataDirLocked",
    "PhaseError",
    "SaveTimedOut",
    "Scheduler",
    "ShardBusy",
    "ShardFailed",
    "Store",
    "StoreConfig",
    "StoreError",
    "iter_shard_paths",
    "reset_path",
]

#: §9.3 step 1: a save waits for an in-flight rewrite 2000 × 5 ms, then times out.
SAVE_RETRIES = 2000
SAVE_RETRY_SLEEP_S = 0.005
EVICTION_POLICIES = ("noeviction", "allkeys-random", "volatile-ttl", "allkeys-lru")

Sleeper = Callable[[float], None]
#: How a harness runs the background reaper without a thread (`Store.open`'s
#: `scheduler`): it is handed the reaper's one pass and its interval in ms, and runs
#: the pass as a step of its own schedule. The pass returns how many logs it synced.
Scheduler = Callable[[Callable[[], int], int], None]
Argv = list[bytes]


def _stderr_line(line: str) -> None:
    print(line, file=sys.stderr)


def _real_sleep(seconds: float) -> None:
    """The store's only wall-time wait (reaper interval, save retry); tests inject their own."""
    time.sleep(seconds)


def reset_path(aof: str) -> str:
    """`<aof>.reset`: the hardened save's log base (switch `save_commit_roll_forward`)."""
    return aof + ".reset"


# --------------------------------------------------------------------------
# Errors.


class StoreError(KevyVerifyError):
    """Root of the store's own errors (I/O failures stay `OSError`)."""


class ShardBusy(StoreError):
    """A save's freeze found a rewrite in flight (a tee) on this shard (§9.3 step 1).

    `save()` retries (2000 × 5 ms); the phase API raises this at once so a
    test decides what happens next. Finish or abort the rewrite first.
    """

    def __init__(self, shard: int) -> None:
        super().__init__(f"shard {shard}: an AOF rewrite is in flight (tee active); "
                         "finish or abort it, then save again")
        self.shard = shard


class SaveTimedOut(StoreError, TimeoutError):
    """§9.3: the rewrite did not finish within 2000 retries; nothing changed."""

    def __init__(self, shard: int, retries: int) -> None:
        super().__init__(f"shard {shard}: save gave up after {retries} retries of "
                         f"{SAVE_RETRY_SLEEP_S * 1000:g} ms waiting for an AOF rewrite")
        self.shard = shard
        self.retries = retries


class PhaseError(StoreError, RuntimeError):
    """A phase API was called out of order (e.g. `commit_save` without `write_save`)."""


class DataDirLocked(StoreError):
    """Switch `data_dir_lock` (F19): another open store holds the data directory."""

    def __init__(self, directory: str) -> None:
        super().__init__(
            f"{directory}: data directory is in use by another process (its advisory lock "
            "is held); two processes on one directory lose each other's acknowledged "
            "writes (FINDINGS.md F19). Close the other one first"
        )
        self.directory = directory


class ShardFailed(StoreError):
    """A hardened save or rewrite failed after its rename, or an append failed
    (`append_failure_fails_shard`, F25); the shard refuses every call until reopened."""


# --------------------------------------------------------------------------
# Configuration.


@dataclass(frozen=True)
class StoreConfig:
    """kevy_embedded::Config (docs/SPEC.md §9). Defaults are kevy's."""

    #: data directory; None = pure in-memory store, no files at all (§9.1 step 2)
    data_dir: str | None = None
    #: number of shards (at least 1 is opened)
    shards: int = 1
    #: open and append to the per-shard AOFs (replay happens at open regardless, §9.1)
    aof_enabled: bool = True
    appendfsync: FsyncPolicy = FsyncPolicy.EVERYSEC
    #: single-shard snapshot name (n > 1 always uses dump-{i}.rdb)
    snapshot_name: str = "dump-0.rdb"
    #: single-shard AOF name (n > 1 always uses aof-{i}.aof)
    aof_name: str = "aof-0.aof"
    #: "background" runs a reaper thread (kevy's default); "manual" needs `tick()`
    reaper: Literal["background", "manual"] = "background"
    reaper_interval_ms: int = 100
    reaper_samples: int = 20
    reaper_rounds: int = 16
    auto_rewrite_percentage: int = AUTO_REWRITE_PERCENTAGE
    auto_rewrite_min_size: int = AUTO_REWRITE_MIN_SIZE
    #: bytes (approximate accounting); 0 = unlimited. Split evenly over shards.
    maxmemory: int = 0
    maxmemory_policy: str = "noeviction"

    def __post_init__(self) -> None:
        if self.reaper not in ("background", "manual"):
            raise UsageError(f"reaper must be 'background' or 'manual', got {self.reaper!r}")
        if self.maxmemory_policy not in EVICTION_POLICIES:
            raise UsageError(f"maxmemory_policy must be one of {EVICTION_POLICIES}, "
                             f"got {self.maxmemory_policy!r}")
        if not isinstance(self.appendfsync, FsyncPolicy):
            raise UsageError(f"appendfsync must be an FsyncPolicy, got {self.appendfsync!r}")

    @property
    def names(self) -> FileNames:
        """The embedded naming layout (§8.1)."""
        return FileNames.embedded(self.snapshot_name, self.aof_name)


# --------------------------------------------------------------------------
# Per-shard state.


@dataclass
class _SavePhase:
    view: FrozenView
    target: str
    has_tee: bool
    tmp: str | None = None


@dataclass
class _RewritePhase:
    view: FrozenView
    tmp: str
    keys: int | None = None
    #: switch `rewrite_saves_beside_snapshot`: this "rewrite" runs as a save
    as_save: bool = False


@dataclass
class _Shard:
    index: int
    ks: Keyspace
    snapshot_path: str | None
    aof_path: str | None
    lock: threading.RLock = field(default_factory=threading.RLock)
    aof: Aof | None = None
    save: _SavePhase | None = None
    rewrite: _RewritePhase | None = None
    failed: BaseException | None = None


# --------------------------------------------------------------------------
# The store.


class Store:
    """An open embedded store. Build with `Store.open`; thread-safe; `close()` when done."""

    def __init__(self, config: StoreConfig, *, fs: FileSystem | None, clock: Clock,
                 profile: Profile, sleeper: Sleeper, shards: list[_Shard],
                 recovery_reports: list[replay.ReplayReport] | None = None) -> None:
        """Use `Store.open`; this only assembles the pieces."""
        #: what each AOF replay at open did (torn tail, skipped verbs, ...), shard order
        self.recovery_reports: list[replay.ReplayReport] = list(recovery_reports or [])
        self.config = config
        self.fs = fs
        self.clock = clock
        self.profile = profile
        self.sleeper = sleeper
        self._shards = shards
        self._rng = random.Random(0)
        #: evicted keys since the last `take_evicted`, kept only while someone
        #: observes them (a harness sets this; a plain store must not grow a list)
        self.record_evictions = False
        self._evicted: list[bytes] = []
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None
        #: switch `data_dir_lock`: held from before recovery until close()
        self.dir_lock: DirLock | None = None
        self.closed = False
        #: switch `cross_shard_order` (F44): writes are ordered across shards' logs
        self._ordered = len(shards) > 1 and profile.fixes("cross_shard_order")
        #: switch `cross_shard_intent` (F45): a command on several shards' logs is
        #: all-or-nothing
        self._intents = (len(shards) > 1 and config.aof_enabled and fs is not None
                         and config.data_dir is not None
                         and profile.fixes("cross_shard_intent"))
        self._order_lock = threading.Lock()

    # -- open (§9.1) -----------------------------------------------------------
    @classmethod
    def open(cls, config: StoreConfig, *, fs: FileSystem | None, clock: Clock,
             profile: Profile = KEVY_1_17, sleeper: Sleeper | None = None,
             log: Callable[[str], None] | None = None,
             hash_seed: int | None = None, scheduler: Scheduler | None = None) -> Store:
        """docs/SPEC.md §9.1: recover the data directory, open the logs, start the reaper.

        `log` receives the lines kevy prints while recovering (an interrupted
        re-shard being completed); default stderr, as kevy. The crash explorer
        opens thousands of images and passes a sink. `hash_seed` stands for this
        process's hash keys (impl/keyspace.py rule 6): a harness gives each
        simulated process its own; None keeps insertion order. With
        `reaper="background"`, `scheduler` (if given) receives `reaper_pass` and the
        interval instead of a thread being started: the harness's clock decides
        when the background reaper runs, as a step of its own.
        """
        n = max(1, config.shards)
        keyspaces = [
            Keyspace(clock, hash_seed=None if hash_seed is None else hash_seed + i)
            for i in range(n)
        ]
        directory = config.data_dir
        reports: list[replay.ReplayReport] = []
        dir_lock: DirLock | None = None
        if directory is None:
            shards = [_Shard(i, keyspaces[i], None, None) for i in range(n)]
        else:
            if fs is None:
                raise UsageError("a data_dir needs a FileSystem (fs=OsFileSystem() for the disk)")
            dir_lock = _lock_data_dir(fs, directory, profile)
            try:
                shards = _recover(fs, directory, n, config, keyspaces, clock, profile, reports,
                                  log)
                if profile.fixes("open_syncs_dir"):
                    # F28: a previous process may have renamed a log or snapshot into
                    # place and died (or failed) before syncing the directory; appending
                    # to the renamed file now would put acknowledged writes in a file a
                    # power loss can take back. Sync the names first.
                    fs.fsync_dir(directory)
            except BaseException:
                if dir_lock is not None:
                    dir_lock.release()
                raise
        store = cls(config, fs=fs, clock=clock, profile=profile,
                    sleeper=sleeper or _real_sleep, shards=shards, recovery_reports=reports)
        store.dir_lock = dir_lock
        try:
            if directory is not None and config.aof_enabled:
                assert fs is not None
                for shard in shards:
                    assert shard.aof_path is not None
                    shard.aof = Aof.open(fs, shard.aof_path, config.appendfsync,
                                         clock=clock, profile=profile)
            if store._ordered or profile.fixes("open_syncs_logs"):
                # F44's invariant (at most one log behind) must hold from the start,
                # and F51: what this open replayed and will serve may be bytes no
                # process synced (a killed process's page cache, a log a failed store
                # closed unsynced); a later ack promises them, even one that wrote
                # nothing (a DEL of a missing key under always). PostgreSQL syncs
                # its whole data directory at startup after a crash for this reason.
                for shard in shards:
                    if shard.aof is not None:
                        shard.aof.sync()
            if directory is not None and profile.fixes("cross_shard_intent"):
                store._finish_intent(log)
        except Exception:
            store._close_logs(sync=False)
            store._release_dir_lock()
            raise
        if config.reaper == "background":
            if scheduler is not None:
                scheduler(store.reaper_pass, config.reaper_interval_ms)
            else:
                store._start_reaper()
        return store

    # -- introspection ------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of shards."""
        return len(self._shards)

    def keyspace(self, i: int) -> Keyspace:
        """Shard i's keyspace (tests; hold no reference across writes from other threads)."""
        return self._shards[i].ks

    def aof(self, i: int) -> Aof | None:
        """Shard i's open log, or None (no data dir, AOF disabled, closed)."""
        return self._shards[i].aof

    def failed_shards(self) -> list[int]:
        """Shards that refuse every call until the store is reopened (`ShardFailed`)."""
        return [s.index for s in self._shards if _failure(s) is not None]

    def shard_for(self, key: bytes) -> int:
        """The shard index that owns `key` (KevyHash, §7.3)."""
        return shard_of(key, self.n)

    def misrouted(self) -> list[tuple[bytes, int, int]]:
        """(key, shard holding it, shard routing sends it to) for every key held where
        no read or write of it looks (a directory another routing laid out, opened
        as if it were the same layout): lost to every client though `snapshot`
        lists it."""
        out = []
        for i, shard in enumerate(self._shards):
            with shard.lock:
                out += [(k, i, self.shard_for(k)) for k in shard.ks.raw()
                        if self.shard_for(k) != i]
        return out

    def snapshot(self) -> dict[str, Any]:
        """The canonical `kevy-keyspace/1` document of every shard (all locks, in order)."""
        with contextlib.ExitStack() as stack:
            for shard in self._shards:
                stack.enter_context(shard.lock)
            return document([s.ks for s in self._shards], self.clock.now_ms())

    # -- writes and reads (§9.2) ---------------------------------------------------------
    def execute(self, argv: Sequence[bytes | str]) -> Any:
        """Run one command; log what kevy's embedded API logs for it (§5.1); return the reply."""
        args = [a.encode() if isinstance(a, str) else bytes(a) for a in argv]
        if not args:
            raise UsageError("empty command")
        verb = args[0].upper()
        parts = self._parts(verb, args)
        if parts is None:
            key = _routing_key(args)
            return self._run(self._shards[0 if key is None else self.shard_for(key)], args)
        if len(parts) > 1 and self._intents:
            return self._run_with_intent(args, parts)
        return self._run_parts(verb, parts)

    def _parts(self, verb: bytes, args: Argv) -> list[tuple[_Shard, Argv]] | None:
        """What a command runs on each shard, if it may span shards: FLUSHALL and
        FLUSHDB on every shard, a multi-key DEL on each shard its keys live on (in
        shard order). None for a command of one key's shard - UNLINK too: it is no
        live command (docs/SPEC.md §5), and gets its error from the first key's shard."""
        if verb in (b"FLUSHALL", b"FLUSHDB"):
            return [(shard, args) for shard in self._shards]
        if verb == b"DEL" and self.n > 1 and len(args) > 2:
            by_shard: dict[int, list[bytes]] = {}
            for key in args[1:]:
                by_shard.setdefault(self.shard_for(key), []).append(key)
            return [(self._shards[i], [args[0], *by_shard[i]]) for i in sorted(by_shard)]
        return None

    def _run_parts(self, verb: bytes, parts: list[tuple[_Shard, Argv]], *,
                   evict: bool = True) -> Any:
        replies = [self._run(shard, part, evict=evict) for shard, part in parts]
        if verb == b"DEL":
            return sum(int(r) for r in replies)
        return replies[-1]

    def _run_with_intent(self, args: Argv, parts: list[tuple[_Shard, Argv]]) -> Any:
        """Switch `cross_shard_intent` (F45): a command on several shards is made
        all-or-nothing by a durable intent (impl/cross_shard.py). Any failure on the
        way fails every shard: the next open's roll-forward settles the command
        before another write can follow it."""
        fs, directory = self._require_dir(), self.config.data_dir
        assert directory is not None
        try:
            # The intent makes the command durable: every write before it must be
            # first, or a power cut could keep the command and lose them.
            self.fsync_aof()
            cross_shard.write_intent(fs, directory, args)
            reply = self._run_parts(args[0].upper(), parts)
            self.fsync_aof()
            cross_shard.remove_intent(fs, directory)
        except Exception as err:
            self._fail_every_shard(err)
            raise
        return reply

    def _finish_intent(self, log: Callable[[str], None] | None) -> None:
        """Switch `cross_shard_intent` at open: run again the command of an intent a
        crash or failure left (on the current layout, which a re-shard may have
        changed), make it durable, and remove the intent."""
        fs, directory = self._require_dir(), self.config.data_dir
        assert directory is not None
        argv = cross_shard.read_intent(fs, directory, log or _stderr_line)
        if argv is None:
            return
        verb, args = argv[0].upper(), list(argv)
        # None: a DEL of several keys on a store of one shard now (a re-shard).
        # No eviction pass: this is recovery, which evicts nothing (§9.1, as a
        # replay), and keys it evicted would be gone with no client write to
        # answer for them (F48, ours). The next write evicts, as after any open.
        self._run_parts(verb, self._parts(verb, args) or [(self._shards[0], args)], evict=False)
        if self.config.aof_enabled:
            self.fsync_aof()
        else:
            self.save()  # no log to hold it: the snapshots must
        cross_shard.remove_intent(fs, directory)

    def log(self, argv: Sequence[bytes]) -> None:
        """kevy's `Store::log(parts)`: append a raw frame to the shard of `parts[1]` (§5.1)."""
        args = [bytes(a) for a in argv]
        shard = self._shards[self.shard_for(args[1]) if len(args) > 1 else 0]
        with shard.lock:
            self._check_usable(shard)
            if shard.aof is not None:
                shard.aof.append(args)

    def _check_usable(self, shard: _Shard) -> None:
        if self.closed:
            raise StoreError("the store is closed")
        failed = _failure(shard)
        if failed is not None:
            raise ShardFailed(f"shard {shard.index}: refusing calls since a failure "
                              f"({failed}); reopen the store") from failed

    def _run(self, shard: _Shard, args: Argv, *, evict: bool = True) -> Any:
        if self._ordered and shard.aof is not None:
            with self._order_lock:
                self._sync_other_logs(shard)
                return self._run_locked(shard, args, evict=evict)
        return self._run_locked(shard, args, evict=evict)

    def _sync_other_logs(self, shard: _Shard) -> None:
        """Switch `cross_shard_order` (F44): before `shard` logs a write, sync every
        other shard's log that holds unsynced bytes.

        Each shard's log syncs on its own (everysec, no), and a power cut keeps each
        file's unsynced tail or not independently, so kevy 1.17 can keep a later
        write on one shard and lose an earlier one on another: a hole no single log
        (Redis's AOF) can have. With this, at most one log is behind at any time, and
        what a power cut loses is a suffix of the acknowledged writes. A failed sync
        fails the write before it runs (nothing applied). The order lock keeps two
        client threads from interleaving their shards between the sync and the write.
        """
        for other in self._shards:
            if other is not shard:
                with other.lock:
                    if other.aof is not None and other.aof.dirty:
                        other.aof.sync()

    def _run_locked(self, shard: _Shard, args: Argv, *, evict: bool) -> Any:
        with shard.lock:
            self._check_usable(shard)
            result = commands.execute(shard.ks, args, profile=self.profile)
            if shard.aof is not None:
                # Frames are appended one by one, each with the policy's fsync:
                # kevy's embedded API opens no group-commit window (§2.3 is
                # "server use"), so SET + PEXPIREAT under Always are two syncs.
                # A failed append marks the log failed under F25's fix
                # (`Aof._failed`), and `_check_usable` then refuses the shard.
                for frame in result.log:
                    shard.aof.append(list(frame))
            if evict:
                self._evict(shard)
            return result.reply

    # Convenience wrappers (each is one `execute`).
    def set(self, key: bytes, value: bytes) -> Any:
        return self.execute([b"SET", key, value])

    def get(self, key: bytes) -> Any:
        return self.execute([b"GET", key])

    def delete(self, *keys: bytes) -> Any:
        return self.execute([b"DEL", *keys])

    def incr_by(self, key: bytes, delta: int) -> Any:
        return self.execute([b"INCRBY", key, b"%d" % delta])

    def rpush(self, key: bytes, *values: bytes) -> Any:
        return self.execute([b"RPUSH", key, *values])

    def expire(self, key: bytes, seconds: int) -> Any:
        return self.execute([b"EXPIRE", key, b"%d" % seconds])

    def flushall(self) -> Any:
        return self.execute([b"FLUSHALL"])

    # -- eviction -----------------------------------------------------------------
    def _evict(self, shard: _Shard) -> int:
        """Evict from `shard` while over its share of maxmemory. Not logged (§9.2);
        logged as DEL with `evictions_logged` (F26)."""
        cfg = self.config
        if cfg.maxmemory <= 0 or cfg.maxmemory_policy == "noeviction":
            return 0
        budget = max(1, cfg.maxmemory // self.n)
        data = shard.ks.raw()
        used = sum(_approx_size(k, e.value) for k, e in data.items())
        evicted = 0
        while used > budget and data:
            victim = self._victim(shard.ks)
            if victim is None:
                break
            used -= _approx_size(victim, data[victim].value)
            del data[victim]
            evicted += 1
            if self.record_evictions:
                self._evicted.append(victim)
            if shard.aof is not None and self.profile.fixes("evictions_logged"):
                # F26: Redis propagates an eviction as a DEL (evict.c
                # `propagateDeletion`); kevy logs nothing, so a restart brings
                # every evicted key back.
                shard.aof.append([b"DEL", victim])
        return evicted

    def take_evicted(self) -> list[bytes]:
        """Keys evicted (to stay under maxmemory) since the last call, in order;
        recorded only with `record_evictions` on."""
        out, self._evicted = self._evicted, []
        return out

    def _victim(self, ks: Keyspace) -> bytes | None:
        data = ks.raw()
        policy = self.config.maxmemory_policy
        if policy == "allkeys-random":
            return self._rng.choice(list(data))
        if policy == "volatile-ttl":
            ttl = [(e.deadline_ms, k) for k, e in data.items() if e.deadline_ms is not None]
            return min(ttl)[1] if ttl else None
        # allkeys-lru (approximation): the oldest inserted key.
        return next(iter(data))

    # -- snapshot save (§9.3) ----------------------------------------------------------
    def _require_dir(self) -> FileSystem:
        if self.config.data_dir is None or self.fs is None:
            raise UsageError("this store has no data directory")
        return self.fs

    def begin_save(self, i: int) -> None:
        """§9.3 phase 1 (under the lock): freeze a view and, with a log, start its tee.

        Raises `ShardBusy` at once if a rewrite is in flight (`save()` retries).
        """
        self._require_dir()
        shard = self._shards[i]
        with shard.lock:
            self._check_usable(shard)
            if shard.save is not None:
                raise PhaseError(f"shard {i}: a save is already in progress")
            if shard.aof is not None and shard.aof.is_rewriting:
                raise ShardBusy(i)
            view = snapshot.freeze(shard.ks, self.clock.now_ms(), profile=self.profile)
            if shard.aof is not None:
                shard.aof.begin_view_rewrite()
            assert shard.snapshot_path is not None
            shard.save = _SavePhase(view, shard.snapshot_path, shard.aof is not None)

    def write_save(self, i: int) -> str:
        """§9.3 phase 2 (unlocked): write `<target>.tmp`, fsynced. Returns the tmp path.

        On error the tee is aborted (under the lock), `.tmp` stays, the save is over.
        """
        fs = self._require_dir()
        shard = self._shards[i]
        phase = self._save_phase(shard, need_tmp=False)
        try:
            phase.tmp = snapshot.write_snapshot_tmp(fs, phase.view, phase.target,
                                                    self.clock.now_ms())
        except Exception:
            with shard.lock:
                if shard.aof is not None:
                    shard.aof.abort_concurrent_rewrite()
                shard.save = None
            raise
        return phase.tmp

    def commit_save(self, i: int) -> None:
        """§9.3 phase 3 (under the lock): rename the snapshot, reset the log to MAGIC + tee."""
        fs = self._require_dir()
        shard = self._shards[i]
        with shard.lock:
            phase = self._save_phase(shard, need_tmp=True)
            assert phase.tmp is not None
            if self.profile.fixes("save_commit_roll_forward"):
                self._commit_save_hardened(fs, shard, phase)
                return
            # kevy 1.17. Between this rename and the log's rename below, the
            # directory holds the new snapshot *and* the old, complete log: a
            # crash there replays every pre-freeze write a second time at the
            # next open (finding F5).
            try:
                fs.rename(phase.tmp, phase.target)
                self._dir_fsync(fs, phase.target)  # HARDENED aof_dir_fsync only
            except Exception:
                shard.save = None
                # kevy returns the error with the tee still active (§9.3 step 3):
                # every later save waits on a rewrite that never ends (ShardBusy →
                # SaveTimedOut), every rewrite skips the shard, and the tee grows
                # with each write (F17). The live log was appended to throughout,
                # so it is complete and the tee holds nothing it lacks: discard
                # it, as a failed `write_save` does.
                if self.profile.fixes("save_failure_stops_tee") and shard.aof is not None:
                    shard.aof.abort_concurrent_rewrite()
                raise
            shard.save = None
            if shard.aof is None:
                self._reset_stale_log(fs, shard)  # F42's fix; a no-op without it
                return
            aof = shard.aof
            tmp = aof.tmp_path
            try:
                aof.write_aof_base(tmp)
                aof.finish_concurrent_rewrite(tmp, 0)
            except Exception:
                aof.abort_concurrent_rewrite()
                with contextlib.suppress(OSError):
                    fs.unlink(tmp)
                raise

    def _commit_save_hardened(self, fs: FileSystem, shard: _Shard, phase: _SavePhase) -> None:
        """Switch `save_commit_roll_forward`: reset log first, snapshot rename = commit point.

        Order: `<aof>.reset` = MAGIC + tee (full fsync) → rename snapshot tmp →
        target (the commit point) → rename `.reset` → aof. Open (`_roll_forward`)
        finishes a commit interrupted after the snapshot rename and discards a
        `.reset` while `<target>.tmp` still exists (commit never happened).
        """
        assert phase.tmp is not None
        aof = shard.aof
        shard.save = None
        if aof is None:
            stale = self._stale_log(fs, shard)
            if stale is None:
                fs.rename(phase.tmp, phase.target)
                self._dir_fsync(fs, phase.target)
                return
            # F42 on the roll-forward protocol: `.reset` is an empty log base for
            # the log the AOF-disabled store does not own, and the next open's
            # `_roll_forward` finishes a commit cut short, as with a log.
            reset = reset_path(stale)
            self._dir_fsync(fs, phase.tmp)
            write_aof_base(fs, reset)
            self._dir_fsync(fs, reset)
            fs.rename(phase.tmp, phase.target)
            self._dir_fsync(fs, phase.target)
            fs.rename(reset, stale)
            self._dir_fsync(fs, stale)
            return
        reset = reset_path(aof.path)
        tee = aof.take_tee()
        # F6: the `.tmp` name must be durable before `.reset` can be, or a power
        # loss may keep `.reset` without `.tmp` and roll-forward would install an
        # empty log beside the old snapshot.
        self._dir_fsync(fs, phase.tmp)
        try:
            write_aof_base(fs, reset)
            aof.append_tee_to(reset, tee)
        except Exception:
            with contextlib.suppress(OSError):
                fs.unlink(reset)
            raise
        # F6: and `.reset` must be durable before the snapshot rename commits,
        # or the new snapshot could meet the old log (replayed twice).
        self._dir_fsync(fs, reset)
        try:
            fs.rename(phase.tmp, phase.target)
        except Exception:
            with contextlib.suppress(OSError):
                fs.unlink(reset)
            raise
        try:
            # The directory sync belongs inside: once the rename has happened,
            # a failure of either step leaves the same state to refuse (below).
            self._dir_fsync(fs, phase.target)
            aof._install(reset, 0)
        except Exception as err:
            # The snapshot is committed and `.reset` holds the log that goes
            # with it; appending to the old log now would put writes where the
            # next open's roll-forward discards them. Refuse writes instead.
            self._fail_shard(shard, err)
            raise

    def _stale_log(self, fs: FileSystem, shard: _Shard) -> str | None:
        """Switch `save_resets_stale_log` (F42): the log an AOF-disabled shard left in
        place, if any. Every open replays it over the snapshot, so a save that keeps
        it makes the next open apply its writes twice."""
        path = shard.aof_path
        if not self.profile.fixes("save_resets_stale_log") or path is None:
            return None
        return path if fs.exists(path) else None

    def _reset_stale_log(self, fs: FileSystem, shard: _Shard) -> None:
        """kevy's own commit order (docs/SPEC.md §9.3) applied to a stale log: after
        the snapshot rename, an empty log base is renamed over it (the window between
        the two renames is F5's, closed by `save_commit_roll_forward`)."""
        stale = self._stale_log(fs, shard)
        if stale is None:
            return
        tmp = rewrite_tmp_path(stale)
        write_aof_base(fs, tmp)
        fs.rename(tmp, stale)
        self._dir_fsync(fs, stale)

    def _fail_shard(self, shard: _Shard, err: BaseException) -> None:
        """Refuse writes to `shard` until the store is reopened (`ShardFailed`).

        For a commit that failed after its rename: the directory then holds a
        consistent state (recovered by the next open), but the open log is not
        where appends would be replayed from.
        """
        shard.failed = err
        if shard.aof is not None:
            shard.aof.close()
            shard.aof = None

    def _fail_every_shard(self, err: BaseException) -> None:
        """A commit across shards (F45's intent, F46's record) failed after its commit
        point: every shard refuses calls until a reopen's roll-forward settles it, so
        no write can follow the half-done command in any log."""
        for shard in self._shards:
            with shard.lock:
                if shard.failed is None:
                    self._fail_shard(shard, err)

    def _dir_fsync(self, fs: FileSystem, path: str) -> None:
        if self.profile.fixes("aof_dir_fsync"):
            fs.fsync_dir(dirname(path))

    def _save_phase(self, shard: _Shard, *, need_tmp: bool) -> _SavePhase:
        phase = shard.save
        if phase is None or (need_tmp and phase.tmp is None):
            step = "write_save" if need_tmp else "begin_save"
            raise PhaseError(f"shard {shard.index}: call {step}({shard.index}) first")
        return phase

    def abort_save(self, i: int) -> None:
        """Abandon a save between phases: discard the tee; the live log stays complete."""
        shard = self._shards[i]
        with shard.lock:
            if shard.save is not None and shard.aof is not None:
                shard.aof.abort_concurrent_rewrite()
            shard.save = None

    def save(self) -> bool:
        """§9.3 for every shard in index order. False without a data directory."""
        if self.config.data_dir is None:
            return False
        if self._saves_together():
            self._save_together()
            return True
        for i in range(self.n):
            self._begin_save_retrying(i)
            self.write_save(i)
            self.commit_save(i)
        return True

    def _begin_save_retrying(self, i: int) -> None:
        retries = 0
        while True:
            try:
                self.begin_save(i)
                return
            except ShardBusy:
                if retries >= SAVE_RETRIES:
                    raise SaveTimedOut(i, retries) from None
                retries += 1
                self.sleeper(SAVE_RETRY_SLEEP_S)

    def _saves_together(self) -> bool:
        """Switch `save_commit_across_shards` (F46): several shards and no log."""
        return (self.n > 1 and self.profile.fixes("save_commit_across_shards")
                and all(shard.aof is None for shard in self._shards))

    def _save_together(self) -> None:
        """F46's save (impl/save_commit.py): every shard's `.tmp` (and, under F42's fix,
        a stale log's empty `.reset`) written and synced, the commit record made
        durable, then every rename, a directory sync, and the record removed. A
        failure before the record leaves the old snapshots (the save failed); after
        it, every shard fails until a reopen, whose roll-forward finishes the save."""
        fs, directory = self._require_dir(), self.config.data_dir
        assert directory is not None
        installs: list[tuple[str, str]] = []
        # A failure before the record needs no cleanup: a failed `write_save` ends its
        # own save, and each finished one is ended here before the next begins.
        for i, shard in enumerate(self._shards):
            self._begin_save_retrying(i)
            tmp = self.write_save(i)
            with shard.lock:
                target = self._save_phase(shard, need_tmp=True).target
                shard.save = None
            installs.append((tmp, target))
            stale = self._stale_log(fs, shard)
            if stale is not None:
                write_aof_base(fs, reset_path(stale))
                installs.append((reset_path(stale), stale))
        fs.fsync_dir(directory)  # every `.tmp` and `.reset` name, before the commit
        save_commit.write_commit(fs, directory, self.n)
        try:
            for src, dst in installs:
                fs.rename(src, dst)
            fs.fsync_dir(directory)
            save_commit.remove_commit(fs, directory)
        except Exception as err:
            self._fail_every_shard(err)
            raise

    # -- AOF rewrite (§9.4) --------------------------------------------------------------
    def begin_rewrite(self, i: int) -> bool:
        """§9.4 phase 1 (locked): freeze a view, flush, start the tee. False = skipped.

        kevy 1.17 writes the full image as the new log and leaves the snapshot
        alone, although open loads the snapshot and then replays the log on
        top of it (finding F9): every list is doubled, and keys, fields and
        members deleted since the snapshot come back. With the switch
        `rewrite_saves_beside_snapshot` a shard that has a snapshot is
        compacted by a save instead (snapshot + log reset, same three phases).
        """
        fs = self._require_dir()
        shard = self._shards[i]
        with shard.lock:
            self._check_usable(shard)
            aof = shard.aof
            if aof is None or aof.is_rewriting:
                return False
            assert shard.snapshot_path is not None
            if self.profile.fixes("rewrite_saves_beside_snapshot") and fs.exists(
                    shard.snapshot_path):
                self.begin_save(i)
                assert shard.save is not None
                shard.rewrite = _RewritePhase(shard.save.view, tmp_of(shard.save.target),
                                              as_save=True)
                return True
            view = snapshot.freeze(shard.ks, self.clock.now_ms(), profile=self.profile)
            shard.rewrite = _RewritePhase(view, aof.begin_view_rewrite())
            return True

    def write_rewrite(self, i: int) -> int:
        """§9.4 phase 2 (unlocked): `dump_aof(<aof>.rewrite, view)`. Returns the key count.

        On error: abort the tee, delete the temp file, re-raise.
        """
        fs = self._require_dir()
        shard = self._shards[i]
        phase = shard.rewrite
        if phase is None:
            raise PhaseError(f"shard {i}: call begin_rewrite({i}) first")
        if phase.as_save:
            try:
                self.write_save(i)  # aborts the tee itself on error
            except Exception:
                shard.rewrite = None
                raise
            phase.keys = len(phase.view)
            return phase.keys
        try:
            phase.keys, _ = dump_aof(fs, phase.tmp, phase.view, self.clock.now_ms(),
                                     profile=self.profile)
        except Exception:
            self._abort_rewrite_locked(shard)
            raise
        return phase.keys

    def finish_rewrite(self, i: int) -> RewriteResult:
        """§9.4 phase 3 (locked): `finish_concurrent_rewrite`; on error abort + delete temp."""
        shard = self._shards[i]
        with shard.lock:
            phase = shard.rewrite
            if phase is None or phase.keys is None or shard.aof is None:
                raise PhaseError(f"shard {i}: call write_rewrite({i}) first")
            if phase.as_save:
                shard.rewrite = None
                self.commit_save(i)
                aof = shard.aof
                return RewriteResult(phase.keys, aof.size_bytes if aof is not None else 0)
            aof = shard.aof
            try:
                result = aof.finish_concurrent_rewrite(phase.tmp, phase.keys)
            except Exception as err:
                self._abort_rewrite_locked(shard)
                if aof.failed is not None:
                    # The new log is installed but its name is not durable
                    # (aof.py `_install`): the old handle's appends would be lost.
                    self._fail_shard(shard, err)
                raise
            shard.rewrite = None
            return result

    def abort_rewrite(self, i: int) -> None:
        """Abandon a rewrite between phases: discard the tee, delete the temp file."""
        self._abort_rewrite_locked(self._shards[i])

    def _abort_rewrite_locked(self, shard: _Shard) -> None:
        with shard.lock:
            phase, shard.rewrite = shard.rewrite, None
            if phase is not None and phase.as_save:
                self.abort_save(shard.index)
                return
            if shard.aof is not None:
                shard.aof.abort_concurrent_rewrite()
            if phase is not None and self.fs is not None:
                with contextlib.suppress(OSError):
                    self.fs.unlink(phase.tmp)

    def rewrite_aof(self) -> RewriteResult | None:
        """§9.4 for every shard with a log and no tee; summed `{keys, bytes}` or None."""
        if self.config.data_dir is None:
            return None
        keys = size = 0
        done = False
        for i in range(self.n):
            if not self.begin_rewrite(i):
                continue
            self.write_rewrite(i)
            result = self.finish_rewrite(i)
            keys += result.keys
            size += result.bytes
            done = True
        return RewriteResult(keys, size) if done else None

    def _auto_rewrite(self) -> None:
        """§9.4 auto-rewrite: the three phases for each shard where §2.5 says due."""
        cfg = self.config
        for i, shard in enumerate(self._shards):
            with shard.lock:
                aof = shard.aof
                due = aof is not None and aof.rewrite_due(cfg.auto_rewrite_percentage,
                                                          cfg.auto_rewrite_min_size)
            if not due:
                continue
            try:
                if self.begin_rewrite(i):
                    self.write_rewrite(i)
                    self.finish_rewrite(i)
            except (OSError, KevyVerifyError) as err:
                print(f"kevy: auto AOF rewrite of shard {i} failed: {err}", file=sys.stderr)

    # -- durability barrier, reaper, close -------------------------------------------------------
    def fsync_aof(self) -> None:
        """Flush + fdatasync every shard's log, whatever the policy."""
        for shard in self._shards:
            with shard.lock:
                if shard.aof is not None:
                    shard.aof.sync()  # a failure marks the log failed (F25's fix)

    def tick(self) -> int:
        """Manual reaper (§9.5): `tick_expire` per shard, then the auto-rewrite check.

        Not `maybe_sync` (kevy's Manual mode never syncs on tick: F29), unless
        `manual_tick_syncs`. Returns keys expired.
        """
        expired = 0
        for shard in self._shards:
            with shard.lock:
                expired += self._tick_expire(shard)
                if shard.aof is not None and self.profile.fixes("manual_tick_syncs"):
                    # F29: Manual mode's tick is the store's only clock; without this,
                    # an everysec log is never fsynced until close (the background
                    # reaper's loop does it on every pass).
                    with contextlib.suppress(OSError):
                        shard.aof.maybe_sync()
        self._auto_rewrite()
        return expired

    def _tick_expire(self, shard: _Shard) -> int:
        """§6.2 active expiry: sampled rounds from a pseudo-random slot.

        kevy logs nothing for a key it expires; with `expiry_logs_del` (F43) each
        is logged as a DEL, as Redis propagates an active expiry, so replay cannot
        meet the stale value under a later write.
        """
        ks = shard.ks
        log = shard.aof is not None and self.profile.fixes("expiry_logs_del")
        samples = max(1, self.config.reaper_samples)
        removed = 0
        empty_rounds = 0
        now = ks.now()
        for _ in range(max(0, self.config.reaper_rounds)):
            data = ks.raw()
            keys = list(data)
            if not keys:
                break
            start = self._rng.randrange(len(keys))
            sampled = expired = 0
            for step in range(min(len(keys), 8 * samples)):
                key = keys[(start + step) % len(keys)]
                entry = data.get(key)
                if entry is None or entry.deadline_ms is None:
                    continue
                sampled += 1
                if entry.deadline_ms <= now:
                    del data[key]
                    expired += 1
                    if log:
                        assert shard.aof is not None
                        shard.aof.append([b"DEL", key])
                if sampled >= samples:
                    break
            removed += expired
            if sampled == 0:
                empty_rounds += 1
                if empty_rounds >= 3:
                    break
                continue
            empty_rounds = 0
            if expired * 4 < sampled:
                break
        return removed

    def _start_reaper(self) -> None:
        thread = threading.Thread(target=self._reaper_loop, name="kevy-reaper", daemon=True)
        self._reaper = thread
        thread.start()

    def _reaper_loop(self) -> None:
        interval = self.config.reaper_interval_ms / 1000
        # Event.wait is the background reaper's real sleep (module rule 1).
        while not self._stop.wait(interval) and not self.closed:
            self.reaper_pass()

    def reaper_pass(self) -> int:
        """One pass of the background reaper (§9.5): per shard `tick_expire` and
        `maybe_sync`, then the auto-rewrite check. Returns the logs it synced.

        The thread of `reaper="background"` runs it every interval; a harness that
        passed `scheduler` to `open` runs it itself. A closed store does nothing.
        """
        synced = 0
        for shard in self._shards:
            with shard.lock:
                if self.closed:
                    return synced
                self._tick_expire(shard)
                if shard.aof is not None:
                    with contextlib.suppress(OSError):
                        synced += bool(shard.aof.maybe_sync())
        self._auto_rewrite()
        return synced

    def close(self) -> None:
        """§9.6: stop the reaper; per shard `maybe_sync`; flush buffers without fsync."""
        if self.closed:
            return
        self._stop.set()
        if self._reaper is not None and self._reaper is not threading.current_thread():
            self._reaper.join()
        try:
            if (not self.config.aof_enabled and self.config.data_dir is not None
                    and self.profile.fixes("close_saves_without_aof")
                    and not self.failed_shards()):
                # F30: with no log, nothing since the last save survives a restart;
                # Redis saves on SHUTDOWN when persistence is on. Save first.
                self.save()
        finally:
            try:
                self._close_logs(sync=True)
            finally:
                # A save or a log that fails at close must not keep the directory
                # locked (F19's lock; F50) nor leave the store half open.
                self._release_dir_lock()
                self.closed = True

    def _release_dir_lock(self) -> None:
        lock, self.dir_lock = self.dir_lock, None
        if lock is not None:
            lock.release()

    def _close_logs(self, *, sync: bool) -> None:
        first: BaseException | None = None
        for shard in self._shards:
            with shard.lock:
                aof, shard.aof = shard.aof, None
                if aof is None:
                    continue
                try:
                    if aof.failed is not None:
                        pass  # F25: nothing more may reach a failed log
                    elif sync and self.profile.fixes("close_fsyncs_log"):
                        # F22: a clean close is a durability point (Redis fsyncs the AOF
                        # on SHUTDOWN); maybe_sync under everysec/no leaves acked writes
                        # unsynced.
                        aof.sync()
                    elif sync:
                        with contextlib.suppress(OSError):
                            aof.maybe_sync()
                except BaseException as err:
                    first = first or err
                finally:
                    aof.close()
        if first is not None:
            raise first

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Store {self.config.data_dir!r} shards={self.n} {self.profile.name}>"


def _approx_size(key: bytes, value: object) -> int:
    """A rough byte count for maxmemory accounting (kevy's own numbers differ)."""
    size = 48 + len(key)
    if isinstance(value, bytes):
        return size + len(value)
    if isinstance(value, SetValue | list | ListValue):
        return size + sum(16 + len(m) for m in value)
    if isinstance(value, dict):
        return size + sum(32 + len(f) + len(v) for f, v in value.items())
    if isinstance(value, ZSet):
        return size + sum(24 + len(m) for m in value.scores)
    if isinstance(value, Stream):
        return size + sum(24 + sum(len(f) + len(v) for f, v in fv)
                          for fv in value.entries.values())
    return size


# --------------------------------------------------------------------------
# Open-time recovery (§9.1 steps 3–6).


def _read_meta(fs: FileSystem, directory: str) -> Layout | None:
    try:
        data = fs.read_bytes(join(directory, SHARDS_META))
    except OSError:
        return None
    return parse_shards_meta(data)


def _routing_key(args: Argv) -> bytes | None:
    """The key a command is routed by: the first argument, except for the verbs whose
    first argument is a subcommand (`XGROUP CREATE key ...`). Routing XGROUP by its
    subcommand put a group, and MKSTREAM's stream, on another shard than the
    stream's own (ours, found by the hunt: FINDINGS.md F27)."""
    if len(args) > 2 and args[0].upper() in (b"XGROUP", b"XINFO"):
        return args[2]
    return args[1] if len(args) > 1 else None


def _failure(shard: _Shard) -> BaseException | None:
    """Why `shard` refuses calls: its own failure, or its log's (F17, F18, F25)."""
    if shard.failed is not None:
        return shard.failed
    return shard.aof.failed if shard.aof is not None else None


def _recover_journal(fs: FileSystem, directory: str, names: FileNames,
                     profile: Profile, log: Callable[[str], None] | None) -> None:
    """§9.1 step 4 through the re-shard seam (`impl.reshard.recover_journal`)."""
    from impl import reshard  # the seam: imported where used, as the other re-shard call

    reshard.recover_journal(fs, directory, names, profile=profile, log=log)


def _roll_forward(fs: FileSystem, shard: _Shard) -> None:
    """Switch `save_commit_roll_forward`: settle a save commit a crash interrupted.

    `<aof>.reset` exists only between the hardened commit's first step and its
    last rename. If `<snapshot>.tmp` is still there the snapshot rename (the
    commit point) never happened: discard `.reset`. Otherwise the snapshot is
    the new one and `.reset` is its log: rename it over the AOF.
    """
    assert shard.aof_path is not None and shard.snapshot_path is not None
    reset = reset_path(shard.aof_path)
    if not fs.exists(reset):
        return
    if fs.exists(tmp_of(shard.snapshot_path)):
        fs.unlink(reset)
    else:
        fs.rename(reset, shard.aof_path)


def _refuse_corrupt(report: replay.ReplayReport) -> None:
    """Switch `aof_refuse_corrupt`: a log whose replay stopped at a corrupt frame is
    refused, not appended to behind the garbage (kevy 1.17, F14).

    Called right after the replay, before open writes anything (shards.meta, a
    log's MAGIC), so a refused directory is byte for byte what the operator had.
    """
    if report.error is not None:
        raise CorruptLogRefused(report.path, report.stop, report.size, report.error)


def _lock_data_dir(fs: FileSystem, directory: str, profile: Profile) -> DirLock | None:
    """Switch `data_dir_lock` (F19): lock the directory before recovery touches it.

    kevy 1.17 takes no lock. A FileSystem that cannot lock (an in-memory
    overlay whose writes never reach a disk, a test's recording wrapper) is
    opened unlocked: there is no second process it could race.
    """
    if not profile.fixes("data_dir_lock") or not isinstance(fs, LockingFileSystem):
        return None
    fs.makedirs(directory)
    try:
        return fs.lock_dir(directory)
    except BlockingIOError:
        raise DataDirLocked(directory) from None


def _recover(fs: FileSystem, directory: str, n: int, config: StoreConfig,
             keyspaces: list[Keyspace], clock: Clock, profile: Profile,
             reports: list[replay.ReplayReport],
             log: Callable[[str], None] | None = None) -> list[_Shard]:
    names = config.names
    fs.makedirs(directory)
    if profile.fixes("bounded_shard_counts"):  # F40: before any loop by a recorded count
        check_recorded_counts(fs, directory)
    if profile.fixes("save_commit_across_shards"):  # F46: before anything reads a snapshot
        save_commit.roll_forward(fs, directory,
                                 lambda i, k: names.snapshot_path(directory, i, k),
                                 log or _stderr_line)
    _recover_journal(fs, directory, names, profile, log)
    prev = _read_meta(fs, directory)
    same = (prev is not None and prev.n == n and prev.routing is Routing.KEVYHASH) or (
        prev is None and n == 1 and infer_files_n(fs, directory) <= 1
    )
    shards = [
        _Shard(i, keyspaces[i], names.snapshot_path(directory, i, n),
               names.aof_path(directory, i, n))
        for i in range(n)
    ]
    if profile.fixes("save_commit_roll_forward"):
        for shard in shards:
            _roll_forward(fs, shard)
    if same:
        for shard in shards:
            assert shard.snapshot_path is not None and shard.aof_path is not None
            if fs.exists(shard.snapshot_path):
                snapshot.load_snapshot(fs, shard.snapshot_path, shard.ks, clock.now_ms())
            # Replayed even when the AOF is disabled in the config (§9.1).
            reports.append(replay.replay_aof(fs, shard.aof_path, shard.ks, profile=profile))
            if profile.fixes("aof_refuse_corrupt"):
                _refuse_corrupt(reports[-1])
            if profile.fixes("aof_refuse_concatenated"):
                replay.refuse_concatenated(reports[-1])
        if n > 1 or names.default_names:
            from impl import reshard  # the seam, as in `_recover_journal`

            reshard.write_shards_meta(fs, directory, Layout(n, Routing.KEVYHASH), profile=profile,
                                      reshard=False)
        return shards
    if prev is not None:
        src_n = prev.n
    else:
        inferred = infer_files_n(fs, directory)
        src_n = inferred if inferred > 1 else 1
    from impl import reshard

    reshard.reshard_open(fs, directory, src_n=src_n, n=n, names=names, shards=keyspaces,
                         now_ms=clock.now_ms(), profile=profile)
    return shards


def iter_shard_paths(config: StoreConfig) -> Iterator[tuple[str, str]]:
    """(snapshot path, AOF path) of each shard of `config` (tests, tools)."""
    if config.data_dir is None:
        return
    n = max(1, config.shards)
    for i in range(n):
        yield (config.names.snapshot_path(config.data_dir, i, n),
               config.names.aof_path(config.data_dir, i, n))
