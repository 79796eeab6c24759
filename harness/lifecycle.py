"""The lifecycle program: a seeded, replayable drive of the store over its configurations.

What: a `Program` is a configuration (fsync policy, shard count) and a list of
`Step`s - client writes (strings, TTL verbs, lists, sets with SPOP, hashes, zsets,
streams with a consumer group, XCLAIM and XACK,
streams, multi-key DEL, FLUSHALL), time passing (ms to days, with the
everysec `maybe_sync`), the manual reaper, `fsync_aof`, a save, a rewrite,
a save or rewrite in its phases with client writes (and time) in between,
a clean close and reopen (with another shard count: a re-shard), the server
re-sharding the directory by slots (rule 14), and `crash` - run an inner step
with the power cut at its k-th persistence point, or the k-th of one op
(`"rename:1"`), or right after it, take one crash image of a model
(`process-crash`, `ordered`, `posix`; every image when there are at most
`SMALL_IMAGE_SPACE`), recover, judge, and carry on from the recovered disk.
`execute(program, profile)` runs it on a `CrashFS` and returns the first
`Failure` (a contract verdict or an exception) or None.

Why: the hunt (`harness/hunt.py`) needs a machine it can run outside pytest
(tests/ is not packaged), generate from a seed, shrink, and store as a corpus
case that replays exactly: every random choice - including the crash image,
recorded as `CrashFS.sample_image`'s choices - is in the program itself.
What the hunt draws is harness/lifecycle_gen.py.

Rules (the contract per configuration, each from its source):
1. docs/SPEC.md §2.3 via `model.contract` rule 2: `always` = durable at the
   ack; `everysec` = durable at the next `maybe_sync` that synced; `no` =
   durable only at barriers (`fsync_aof`, a completed save or rewrite).
2. A clean close is a barrier: Redis's SHUTDOWN flushes and fsyncs the AOF
   (redis.io "Persistence": "on shutdown ... the AOF is fsynced"), so a
   write acknowledged before a close that returned must survive any later
   power loss, whatever the policy.
3. A reopen without a crash must give back every acknowledged write (a
   process that closed and opened lost nothing).
4. A crash image is recovered with the configuration the crashed step was
   opening (a reopen with another shard count crashes mid re-shard and is
   recovered as the new layout, as an operator would restart it).
5. A failed call (an injected EIO, ENOSPC, short or half-written write on
   any file-system call of a step) is a reported failure, not a crash: the
   write it hit was never acknowledged, so it may be in what the client sees
   or not - but from then on the store must show one admissible state, and
   keep every promise made before. A store that refuses every call after the
   failure (`ShardFailed`) is reopened, as an operator would, and so is an open
   that failed (a reopen, a re-shard, the server's re-shard of rule 14): the
   directory the failure left must give back every promise. Redis's stance
   is stricter still: under `always` it exits on an AOF write error
   (aof.c `flushAppendOnlyFile`), and it truncates a partial write back.
6. Outside damage (`["damage", kind]`): the store is closed (a barrier), bytes
   that are no frame are appended to the first log (or another log's bytes:
   `concat`, two logs concatenated, F47), and the store reopened.
   Every frame before them is intact, so every acknowledged write must come
   back - or the open must refuse, naming the log and the damage's offset
   (model.contract rule 6); a refusal ends the program, as the next move is
   the operator's. kevy 1.17 opens and appends behind the damage (F8, F14).
7. everysec with the Manual reaper (`["cron", ms]`: time passes, then a tick):
   Redis promises that under everysec at most about a second of writes is
   lost (redis.io "Persistence": "fsync every second ... you can lose 1 second
   of data"); in Manual mode the tick is the store's only clock, so a write
   acknowledged at least 1 s before a tick must survive a later power cut.
8. Two processes (`["twin", [[who, step], ...]]`): a second store opens the
   same directory while the first is open; both serve one client, whose
   acknowledged writes all count. Refusing the second open is correct (Redis
   and hardened lock the directory); kevy 1.17 takes no lock (F19).
9. AOF disabled (`config: {"aof_enabled": false}`): writes are durable only at
   a completed save (the policy is `no`: an ack or `fsync_aof` promises
   nothing), and a clean close still is a durability point (rule 2: Redis's
   SHUTDOWN saves when persistence is on; kevy 1.17 drops everything since
   the last save, F30). With several shards a `bgsave` saves them all (a save
   of one shard without logs is no durability step: F46).
10. An open's work is bounded by what the directory holds: at most
   `OPEN_CALLS_PER_ENTRY` file-system calls per directory entry and configured
   shard, plus `OPEN_CALLS_BASE` (`CrashFS.call_budget`). A loader that probes
   by a count it read from a file (a 20-byte `shards.meta` naming 10^9 shards,
   F40) would otherwise run for hours; refusing such a file, naming it and the
   count's offset, is what rule 6 allows.
11. The background reaper (`config: {"reaper": "background"}`) is the store's
   own scheduled step, not something the harness does for it: `Store.open`
   hands its pass to the harness (`scheduler`), and a `tick` runs that pass
   after the time passes (expiry, everysec `maybe_sync`, auto-rewrite, as the
   thread would). A pass that synced promises what it synced (rule 1).
12. A reopen may change the configuration (`["reopen", n, {field: value}]`):
   the reaper's mode, or the AOF turned on or off (drawn only under `no`, whose
   promises - barriers only - hold whether or not a log exists). What a clean
   close made durable (rule 2) must come back whatever the next open's
   configuration: an operator who turns the log off expects the store to hold
   what it held.
13. Several shards are one store to the client: the contract is one log's, under
   every policy (Redis has one AOF; redis.io "Persistence": everysec may lose the
   last second of writes - a suffix, never a write before one that survived). A
   crash or failure inside a command that spans shards (FLUSHALL, FLUSHDB, a DEL
   of keys on several shards) leaves it done everywhere or nowhere. An everysec
   sync, or a save or rewrite of one shard, promises the acknowledged writes
   only when no other shard's log is left behind
   (`harness.scenarios.all_synced`). kevy 1.17 keeps each shard's log on its own
   (F44, F45).
14. The other routing (`["server", n]`): the kevy server in cluster mode takes the
   directory over - it re-shards it to n shards routed by CRC16 slots
   (docs/SPEC.md §7.3, §8: merge, redistribute, journal, `shards.meta` tagged
   `slots`) - and stops; the store then reopens it, which re-shards it back to
   kevyhash (§9.1 "Different"). The directory changed hands twice and nobody
   wrote: every acknowledged write must come back (rule 3), and a power cut in
   either re-shard is recovered by the store's next open (rule 4: the journal is
   finished, then the store's own re-shard runs). Drawn only with kevy's default
   file names, the only ones the server uses.
15. A process crash kills the process, not the kernel: the program goes on on the
   same file system (`CrashFS.resume`), where what the dead process wrote and never
   synced is still unsynced. The recovered writes it had not been promised stay
   unpromised (`History.rebase`), until a later acknowledgement or barrier
   promises every write before it (rules 1, 2, 13) - the store served them, and a
   client that saw them was acknowledged after them. A restarted store must make
   what it replayed durable before it promises it: PostgreSQL syncs its whole data
   directory at startup after a crash (`SyncDataDirectory`, fd.c), since the crashed
   server may have left data in the kernel page cache only; kevy 1.17 does not (F51).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from harness.scenarios import (
    DATA_DIR,
    RECOVERY_SEED,
    Run,
    Scenario,
    all_synced,
    recover,
    refusal_record,
)
from harness.sites import record_site, site_of_crash
from impl import reshard
from impl.fs import write_all
from impl.keyspace import Keyspace
from impl.layout import STANDARD_NAMES, Routing
from impl.profile import Profile
from impl.resp import scan_aof
from impl.store import DataDirLocked, StoreError, iter_shard_paths
from model.contract import Judgement, OutsideModel
from model.crashfs import CrashFS, FaultPlan, NthCallFails, SimulatedCrash, WorkBudgetExceeded

__all__ = [
    "MODELS",
    "Failure",
    "Program",
    "execute",
    "parse_point",
    "traced",
]

MODELS = ("process-crash", "ordered", "posix")
POLICIES = ("always", "everysec", "no")
#: images a lenient replay judges when a recorded image no longer fits the log
LENIENT_IMAGES = 64

#: a crash whose image space is at most this big has every image judged
SMALL_IMAGE_SPACE = 8
#: maxmemory policies a program may run under (impl/store.py EVICTION_POLICIES)
EVICTIONS = ("allkeys-lru", "allkeys-random", "volatile-ttl")
#: further configurations a program may run under: Redis's file names for one
#: shard (n > 1 always uses dump-N.rdb / aof-N.aof), an auto-rewrite the
#: reaper's tick triggers after a few hundred bytes of log, no AOF (rule 9), and
#: kevy's default background reaper (rule 11)
CONFIGS: tuple[dict[str, Any], ...] = (
    {"snapshot_name": "dump.rdb", "aof_name": "appendonly.aof"},
    {"auto_rewrite_min_size": 200, "auto_rewrite_percentage": 50},
    {"aof_enabled": False},
    {"reaper": "background"},
)
#: kinds of injected failure (model.crashfs.NthCallFails)
FAULT_KINDS = ("eio", "enospc", "short", "partial")
#: outside damage appended to a closed log's tail (rule 6): bytes after its last frame
DAMAGE: dict[str, bytes] = {
    "zeros": bytes(16),  # a zero-padded tail (a file system that extended, then crashed)
    "torn": b"*3\r\n$3\r\nSET\r\n$1\r\nk",  # a frame cut short
    "huge": b"*9223372036854775807\r\n",  # an absurd element count
    "garbage": b"\xff\xfe garbage \x00\r\n",  # no `*`: read as an inline command
    "corrupt": b"*1\r\n!3\r\nabc\r\n",  # a frame with a bad bulk header: corrupt
}
#: outside damage to `shards.meta` (rule 6, rule 10): its whole new content
META_DAMAGE: dict[str, bytes] = {
    "meta_count": b"1000000000\n",  # a count no directory backs (F40)
}
#: rule 10: an open may make this many file-system calls per directory entry and
#: configured shard, plus a base
OPEN_CALLS_PER_ENTRY = 64
OPEN_CALLS_BASE = 1024
#: a Step is a JSON-able list: [verb, *args]; a crash is
#: ["crash", inner_step, k, when, model, choices]; a fault is
#: ["fault", inner_step, n, kind]: the inner step's n-th fallible file-system call fails
Step = list[Any]


@dataclass
class Program:
    policy: str
    shards: int
    steps: list[Step] = field(default_factory=list)
    maxmemory: int = 0
    """Bytes the store may hold (0: no limit); above it, `eviction` picks victims."""
    eviction: str = "noeviction"
    config: dict[str, Any] = field(default_factory=dict)
    """Further StoreConfig fields: one shard's file names, auto-rewrite thresholds."""

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"policy": self.policy, "shards": self.shards, "steps": self.steps}
        if self.maxmemory:
            doc.update(maxmemory=self.maxmemory, eviction=self.eviction)
        if self.config:
            doc["config"] = dict(self.config)
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Program:
        return cls(doc["policy"], int(doc["shards"]), list(doc["steps"]),
                   int(doc.get("maxmemory", 0)), str(doc.get("eviction", "noeviction")),
                   dict(doc.get("config", {})))


@dataclass
class Failure:
    """The first thing that went wrong in a program."""

    step: int
    """Index of the step that failed."""
    rule: str
    """`lost_durable`, `no_prefix`, `recovery_error` (contract verdicts), or
    `exception:<Type>` for a store call that raised."""
    crash_verb: str
    """The verb the failing step ran (the crash's inner verb for a crash)."""
    point: str
    """Kind of persistence point the power was cut at (`rename`, `fsync_dir`, ...,
    `after` for a crash right after the verb, `none` without a crash)."""
    message: str
    judgement: Judgement | None = None


def _no_reaper(reaper_pass: Callable[[], int], interval_ms: int) -> None:
    """A second process's background reaper never runs (rule 8 steps are writes)."""


class SaveWaited(Exception):
    """A save waited for a rewrite although none runs (the machine is sequential):
    F17's symptom, raised at once instead of sleeping 2000 x 5 ms."""


def _no_wait(seconds: float) -> None:
    raise SaveWaited(f"a save waited {seconds} s for a rewrite, but none is in flight")


class _Stop(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def _b(x: Any) -> bytes:
    return x.encode() if isinstance(x, str) else bytes(x)


class _Machine:
    def __init__(self, program: Program, profile: Profile, lenient: bool = False) -> None:
        if program.config.get("aof_enabled") is False and program.policy != "no":
            # Rule 9: without a log an ack promises nothing, which only `no` says.
            raise ValueError("rule 9: a program without a log runs under `no`")
        self.lenient = lenient
        self.program = program
        self.profile = profile
        self.scenario = Scenario(
            "hunt",
            "a hunt program",
            program.policy,  # type: ignore[arg-type]
            lambda run: None,
            shards=program.shards,
            maxmemory=program.maxmemory,
            maxmemory_policy=program.eviction,
            extra=tuple(sorted(program.config.items())),
        )
        self.fs = CrashFS()
        #: persistence points of the file systems a crash left behind (`traced`)
        self.points_before: list[tuple[str, str]] = []
        #: (ops, first log size) after each appending step since the log's base
        self._sizes: list[tuple[int, int]] | None = None
        #: the current process's background reaper pass (`reaper: background`)
        self.reaper_pass: Callable[[], int] | None = None
        #: a fault step's plan for the open of its reopen (`"open/..."` points)
        self._open_plan: FaultPlan | None = None
        self.run = Run(self.scenario, profile, self.fs, scheduler=self._schedule)
        self._open(program.shards)
        self.index = 0
        #: the store refused a damaged log (rule 6): the program stops there
        self.ended = False

    def _reconfigure(self, changes: dict[str, Any]) -> None:
        """Rule 12: the next open (and a crash inside it) uses these StoreConfig fields."""
        if "aof_enabled" in changes and self.program.policy != "no":
            # Under always/everysec the history promises durability at acks, which a
            # store without a log does not give: not a program of this machine.
            raise ValueError("rule 12: the AOF is turned on or off only under `no`")
        extra = {**dict(self.scenario.extra), **changes}
        self.scenario = replace(self.scenario, extra=tuple(sorted(extra.items())))
        self.run.scenario = self.scenario

    def _open(self, shards: int, hash_seed: int | None = None) -> None:
        self.reaper_pass = None  # the store it belonged to is gone
        fs = self.fs
        entries = len(fs.listdir(DATA_DIR)) if fs.is_dir(DATA_DIR) else 0
        fs.calls, fs.call_budget = 0, OPEN_CALLS_BASE + OPEN_CALLS_PER_ENTRY * (entries + shards)
        try:
            self.run.open(shards, hash_seed=hash_seed)
        except WorkBudgetExceeded as e:
            self._fail(
                "unbounded_open",
                "open",
                "none",
                f"step {self.index}: an open of {entries} directory entries and {shards} "
                f"shard(s) made {e} (rule 10)",
            )
        finally:
            fs.call_budget = None
        assert self.run.store is not None
        self.run.store.sleeper = _no_wait

    def _schedule(self, reaper_pass: Callable[[], int], interval_ms: int) -> None:
        # Rule 11: the background reaper is the store's own step; `tick` runs it.
        self.reaper_pass = reaper_pass

    def _fail(
        self, rule: str, verb: str, point: str, message: str, judgement: Judgement | None = None
    ) -> None:
        raise _Stop(Failure(self.index, rule, verb, point, message, judgement))

    # ---- steps -------------------------------------------------------------

    def do(self, step: Step, run: Run | None = None) -> None:
        verb = step[0]
        r = self.run if run is None else run
        store = r.store
        assert store is not None
        if verb == "twin":
            self.twin(step)
        elif verb == "w":
            r.write(*(_b(a) for a in step[1:]))
        elif verb == "tick":
            if self.reaper_pass is not None:
                r.background_pass(int(step[1]), self.reaper_pass)
            else:
                r.tick(int(step[1]))
        elif verb == "reap":
            store.tick()
        elif verb == "cron":
            # What a Manual-mode user does (~10x/s, like Redis's hz): time passes, then
            # a tick. Under everysec that tick is the store's "every second": a
            # write acknowledged at least 1 s before it is owed durability (rule 7).
            r.clock.advance(int(step[1]))
            store.tick()
            # A tick whose sync failed (the log is then failed, F25) promises nothing.
            if self.program.policy == "everysec" and not store.failed_shards():
                now = r.clock.now_ms()
                upto = sum(1 for op in r.history.ops if op.acked and op.now_ms <= now - 1000)
                r.history.barrier("a Manual-mode tick at least 1 s after it (rule 7)", upto)
        elif verb == "fsync":
            r.fsync_aof()
        elif verb == "save":
            r.save()
        elif verb == "rewrite":
            if store.rewrite_aof() is not None and all_synced(store):
                r.history.barrier("rewrite completed")
        elif verb == "bgsave":
            # A save as kevy runs it (docs/SPEC.md §9.3): the view is frozen, clients
            # keep writing while it is written (their frames go to the live log and
            # its tee), and the write may run long after the freeze.
            _, delay, during = step
            if not r.config.aof_enabled and store.n > 1:
                # Without logs a save of one shard is no durability step of the store's
                # (it would make that shard's writes durable past the others'): kevy
                # saves several shards with `save()`, all of them, which is what runs.
                for inner in during:
                    self.do(inner, r)
                r.advance(int(delay))
                r.save()
                return
            freeze = r.begin_save()
            for inner in during:
                self._client_write(inner, r, verb)
            r.advance(int(delay))
            r.write_save()
            r.commit_save(freeze)
        elif verb == "bgrewrite":
            # A rewrite (§9.4) with writes while the view is written and before the
            # swap: the tee must carry every one of them into the new log.
            _, during, before_swap = step
            if store.begin_rewrite(0):
                for inner in during:
                    self._client_write(inner, r, verb)
                store.write_rewrite(0)
                for inner in before_swap:
                    self._client_write(inner, r, verb)
                r.finish_rewrite()
        elif verb == "reopen":
            r.close()
            r.history.barrier("clean close returned (rule 2)")
            if len(step) > 2:
                self._reconfigure(dict(step[2]))
            self._arm_open_plan()
            self._open(int(step[1]))
        elif verb == "server":
            r.close()
            r.history.barrier("clean close returned (rule 2)")
            try:
                self._server_takes_over(r, int(step[1]))
            finally:
                # The server stopped (done, or failed: rule 5); the store starts.
                self._arm_open_plan()
                self._open(r.config.shards)
        else:
            raise ValueError(f"unknown step {step!r}")

    def _client_write(self, inner: Step, r: Run, verb: str) -> None:
        """A client's write while a background save or rewrite runs. Its failure is
        the client's (rule 5), not the background job's, which goes on as kevy's
        thread would: the write is settled in or out as the client now sees it. A
        store that refuses every call from then on ends the step (the fault is
        then judged as the step's)."""
        try:
            self.do(inner, r)
        except (OSError, StoreError):
            store = r.store
            if store is None or store.failed_shards():
                raise
            self._settle(f"no crash: a client write during {verb} failed", verb, r)

    def _settle(self, label: str, verb: str, r: Run | None = None) -> None:
        """Rule 5 on a store that goes on: it shows one admissible state, and the
        history goes on from it."""
        r = r or self.run
        store, history = r.store, r.history
        assert store is not None
        j = history.judge(store.snapshot(), now_ms=r.clock.now_ms(), crash=label,
                          model="process-crash")
        if j.verdict.is_violation or j.prefix is None:
            self._fail(j.verdict.value, verb, "fault", j.explain(), j)
        # The failed write is in or out, as the client now sees it; after a reopen,
        # unpromised writes the failure rolled back are out too.
        history.rebase(j.prefix, j.evictions_kept)

    def _arm_open_plan(self) -> None:
        if self._open_plan is not None:
            self.fs.faults, self._open_plan = self._open_plan, None

    def _server_takes_over(self, r: Run, n: int) -> None:
        """Rule 14: what the kevy server in cluster mode does to the directory at its
        start - a re-shard to `n` shards routed by slots, with its standard names."""
        if not r.config.names.default_names:
            raise ValueError("the server uses kevy's default file names only (rule 14)")
        clock = r.clock
        keyspaces = [Keyspace(clock) for _ in range(n)]
        reshard.reshard_open(self.fs, DATA_DIR, src_n=max(1, r.config.shards), n=n,
                             names=STANDARD_NAMES, shards=keyspaces, now_ms=clock.now_ms(),
                             profile=self.profile, routing=Routing.SLOTS)

    def step(self, step: Step) -> None:
        try:
            self._step(step)
        except OutsideModel as e:
            # The store answered something no serial run of the client's writes gives
            # (two processes that each popped from their own copy of a set, F19).
            self._fail("outside_model", step[0], "none", f"step {self.index} {step!r}: {e}")

    def _step(self, step: Step) -> None:
        if step[0] not in ("w", "fsync"):
            self._sizes = None  # the log may be rewritten, reset or cut: frames re-based
        if step[0] == "crash":
            self.crash(step)
            return
        if step[0] == "fault":
            self.fault(step)
            return
        if step[0] == "damage":
            self.damage(step)
            return
        try:
            self.do(step)
        except (SimulatedCrash, _Stop):
            raise
        except Exception as e:
            self._fail(
                f"exception:{type(e).__name__}",
                step[0],
                "none",
                f"step {self.index} {step!r} raised {type(e).__name__}: {e}",
            )
        if step[0] in ("reopen", "server"):
            self._judge_live("reopen without a crash (rule 3)")
        self._note_size()

    def _note_size(self) -> None:
        """After a step that only appended: (ops so far, the first log's size), so a
        frame's offset tells which ops lie wholly before it (rule 6's in-log flip)."""
        if self.run.store is None:
            return
        _, path = next(iter_shard_paths(self.run.config))
        size = self.fs.file_size(path) if self.fs.exists(path) else 0
        if self._sizes is None:
            # A new base: its frames may hold any earlier op (a rewrite's image).
            self._sizes = [(0, 0), (len(self.run.history.ops), size)]
        else:
            self._sizes.append((len(self.run.history.ops), size))

    def _ops_before(self, offset: int) -> int:
        """The ops whose frames all lie before `offset` in the first log (0 if unknown)."""
        return max((ops for ops, size in self._sizes or [] if size <= offset), default=0)

    def _judge_live(self, label: str) -> None:
        store = self.run.store
        assert store is not None
        misrouted = store.misrouted()
        if misrouted:
            # Rule 14: a key no read can reach is lost, whatever `snapshot` lists.
            key, held, routed = misrouted[0]
            self._fail("misrouted", "reopen", "none",
                       f"step {self.index}: {label}: {len(misrouted)} key(s) held where the "
                       f"store's routing never looks, e.g. {key!r} in shard {held}, routed "
                       f"to shard {routed}")
        h = self.run.history
        # Rule 3: nothing acknowledged may go missing across a clean reopen.
        h.barrier(label)
        now = self.run.clock.now_ms()
        j = h.judge(store.snapshot(), now_ms=now, crash=label, model="process-crash")
        if j.verdict.is_violation:
            self._fail(j.verdict.value, "reopen", "none", j.explain(), j)

    def damage(self, step: Step) -> None:
        """Rule 6: close, append `DAMAGE[kind]` to the first log (or, for `concat`,
        the last shard's log: two logs concatenated; or replace `shards.meta` by
        `META_DAMAGE[kind]`; or flip a frame inside the log), reopen and judge."""
        r = self.run
        r.close()
        r.history.barrier("clean close returned (rule 2)")
        kind = str(step[1])
        if kind in META_DAMAGE:
            path, offset = f"{DATA_DIR}/shards.meta", 0
            r.history.damage(len(r.history.ops), path, offset)
            f = self.fs.create_truncate(path)
            data = META_DAMAGE[kind]
        elif kind == "flip":
            # Inside the log: one frame's first bulk header made corrupt ('$' -> '!'),
            # so every reader stops there; the ops wholly before it keep their promise.
            _, path = next(iter_shard_paths(r.config))
            frames = list(scan_aof(self.fs.read_bytes(path)).frames) if self.fs.exists(
                path) else []
            # Only multibulk frames with an argument have a bulk header to flip.
            frames = [fr for fr in frames if fr.kind == "multibulk" and fr.argv]
            if not frames:
                self._reopen_judged(f"a reopen with no frame to flip in {path} (rule 6)")
                return
            frame = frames[min(len(frames) - 1, int(float(step[2]) * len(frames)))]
            offset = frame.offset
            r.history.damage(self._ops_before(offset), path, offset)
            old = self.fs.read_bytes(path)
            flip = old.index(b"$", offset, frame.end)
            f = self.fs.create_truncate(path)
            data = old[:flip] + b"!" + old[flip + 1 :]
        else:
            paths = [aof for _, aof in iter_shard_paths(r.config)]
            path = paths[0]
            if not self.fs.exists(path):
                self._reopen_judged(f"a reopen with no {path} to damage (rule 6)")
                return
            if kind == "concat":
                # Two logs concatenated (`cat aof-N.aof >> aof-0.aof`, a botched
                # restore): the last shard's log, or with one shard the log itself.
                if not self.fs.exists(paths[-1]):
                    self._reopen_judged(f"a reopen with no {paths[-1]} to append (rule 6)")
                    return
                data = self.fs.read_bytes(paths[-1])
            else:
                data = DAMAGE[kind]
            offset = self.fs.file_size(path)
            r.history.damage(len(r.history.ops), path, offset)
            f = self.fs.open_append(path, create=False)
        try:
            write_all(f, data)
            f.fsync()
        finally:
            f.close()
        self._reopen_judged(
            f"a reopen after outside damage ({step[1]}) at {path} offset {offset} (rule 6)"
        )

    def _reopen_judged(self, label: str) -> None:
        """Reopen after a damage step: a refusal is judged (rule 6 admits one naming the
        damage), a store that opens must give back every acknowledged write."""
        r = self.run
        try:
            self._open(r.config.shards)
        except _Stop:
            raise
        except Exception as e:
            now = r.clock.now_ms()
            j = r.history.judge(None, error=f"{type(e).__name__}: {e}", refusal=refusal_record(e),
                                now_ms=now, crash=label, model="process-crash")
            if j.verdict.is_violation:
                self._fail(j.verdict.value, "damage", "none", j.explain(), j)
            self.ended = True  # refused, as allowed: the operator's move (rule 6)
            return
        self._judge_live(label)

    def twin(self, step: Step) -> None:
        """Rule 8: a second process opens the same directory, and the inner steps run
        on it ("b") or on the first ("a"), sharing one history (one client's view);
        then it closes. A refused open (`DataDirLocked`, hardened's F19 fix) is the
        right answer: the inner steps then do not run."""
        a = self.run
        b = Run(self.scenario, self.profile, self.fs, a.clock, scheduler=_no_reaper)
        b.history = a.history
        b.process = a.process + 1_000
        try:
            b.open(a.config.shards)
        except DataDirLocked:
            return
        assert b.store is not None
        b.store.sleeper = _no_wait
        for who, inner in step[1]:
            self.do(inner, b if who == "b" else a)
        b.close()
        a.history.barrier("the second process's clean close returned (rule 2)")

    def fault(self, step: Step) -> None:
        """Rule 5: run the inner step with its n-th fallible call failing, then settle
        what the client saw: a store that goes on must show an admissible state (the
        failed write in it or not, and from then on as the client sees it); a store
        that refuses (`ShardFailed`) is reopened as a new process and judged so."""
        _, inner, at, kind = step
        n, op = parse_point(at)
        plan = NthCallFails(n=n, kind=str(kind), op=op)
        if isinstance(at, str) and at.startswith("open/") and inner[0] in ("reopen", "server"):
            self._open_plan = plan  # armed by `do` once the close (and the server) ran
        else:
            self.fs.faults = plan
        try:
            self.do(inner)
        except (SimulatedCrash, _Stop):
            raise
        except (OSError, StoreError):
            pass  # a reported failure: the verb recorded no promise
        except Exception as e:
            self._fail(
                f"exception:{type(e).__name__}",
                inner[0],
                "fault",
                f"step {self.index} {inner!r} with a failing call raised {type(e).__name__}: {e}",
            )
        finally:
            self.fs.faults = FaultPlan()
            self._open_plan = None
        label = (
            f"no crash: {inner[0]} whose fallible call {at} failed ({kind}: "
            f"{'; '.join(plan.fired) or 'no fault fired'})"
        )
        if self.run.store is None:
            # An open that failed (a reopen, a re-shard in it): the operator starts the
            # store again, and the directory it left must give back every promise.
            label += ", then the open was run again"
            if not self._reopen_after(label, inner[0]):
                return
        store = self.run.store
        assert store is not None
        if store.failed_shards():
            with contextlib.suppress(OSError, StoreError):
                store.close()
            self.run.store = None
            label += ", then the store refused every call and was reopened"
            self._reopen_after(label, inner[0])
        self._settle(label, inner[0])

    def _reopen_after(self, label: str, verb: str) -> bool:
        """Open the store again after a failed call (rule 5). A reopen that fails is
        judged: nothing comes back, which no failed call excuses - unless the open
        refuses naming damage an earlier outside event made (rule 6), which ends
        the program (False)."""
        history = self.run.history
        try:
            self._open(self.run.config.shards)
        except _Stop:
            raise
        except Exception as e:
            j = history.judge(None, error=f"{type(e).__name__}: {e}", refusal=refusal_record(e),
                              now_ms=self.run.clock.now_ms(), crash=label,
                              model="process-crash")
            if j.ok and j.prefix is None:
                self.ended = True
                return False
            self._fail(j.verdict.value, verb, "fault", j.explain(), j)
        return True

    def crash(self, step: Step) -> None:
        _, inner, k, when, model, choices = step
        fs = self.fs
        n, op = parse_point(k)
        fs.arm(n, when, op)  # type: ignore[arg-type]
        try:
            self.do(inner)
        except SimulatedCrash as e:
            info = fs.crash_info
            assert info is not None and info.point is not None
            label = f"{info.when} {info.point.describe()}"
            kind = info.point.op  # the hunt's signature: the op crashed at, as data
            record_site("hunt", model, site_of_crash(e))  # crash-site coverage (sites)
        except _Stop:
            raise
        except Exception as e:
            self._fail(
                f"exception:{type(e).__name__}",
                inner[0],
                "none",
                f"step {self.index} {inner!r} raised {type(e).__name__}: {e}",
            )
        else:
            fs.crash()
            label = f"right after {inner[0]}"
            kind = "after"
        exhaustive = True
        try:
            images = [fs.chosen_image(choices, model)]
        except ValueError:
            if not self.lenient:
                raise
            # Triage under another profile: the log differs, so the recorded image
            # does not fit; hold the program to the first LENIENT_IMAGES images.
            images = list(itertools.islice(fs.images(model), LENIENT_IMAGES))
            exhaustive = False
        if exhaustive and fs.count_images(model) <= SMALL_IMAGE_SPACE:
            # A small space is judged whole, after the recorded image the program
            # goes on from: one torn append has a few cuts, and the one between two
            # frames (F41) is as likely as any.
            chosen = images[0]
            # The recorded image is among them: not recovered twice.
            images += [im for im in fs.images(model)
                       if im.files() != chosen.files() or im.dirs != chosen.dirs]
        now = self.run.clock.now_ms()
        history = self.run.history
        # The recovering process has hash keys of its own (scenarios rule 5), and
        # the store the program goes on with is that same process.
        seed = RECOVERY_SEED + (self.index << 8)
        first = None
        refused = False
        for image in images:
            rec = recover(
                self.scenario, self.profile, self.run.config, image.files(), image.dirs, now,
                hash_seed=seed,
            )
            j = history.judge(
                rec.doc, error=rec.error, refusal=rec.refusal, now_ms=now, crash=label,
                model=model, decisions=image.decisions,
            )
            if j.ok and j.prefix is None:
                # An admissible refusal (rule 6: the open names the damage): the
                # operator's move, as after a damage step; if the program would go
                # on from this image, it ends here.
                refused = refused or first is None
                continue
            if j.verdict.is_violation or j.prefix is None:
                self._fail(j.verdict.value, inner[0], kind, j.explain(), j)
            first = first or (image, j)
        if refused:
            self.ended = True
            return
        assert first is not None
        image, j = first
        assert j.prefix is not None
        history.rebase(j.prefix, j.evictions_kept)
        shards = self.run.config.shards
        if model == "process-crash":
            # The kernel lives on (rule 15): the same log, unsynced stays unsynced.
            fs.resume()
        else:
            self.points_before += [(p.op, p.path) for p in fs.points()]
            self.fs = image.to_fs()
        clock = self.run.clock
        self.run = Run(self.scenario, self.profile, self.fs, clock, scheduler=self._schedule)
        self.run.history = history
        self._open(shards, hash_seed=seed)

    def close(self) -> None:
        if self.run.store is not None and not self.fs.crashed:
            self.run.store.close()


def parse_point(at: int | str) -> tuple[int, Any]:
    """A crash or fault step's point: `k` (the k-th persistence point, or fallible
    call, of the step) or `"op:k"` (the k-th of that op: `"rename:1"`). A fault in a
    reopen may say `"open/..."`: counted from the open on, past the close."""
    if isinstance(at, str) and at.startswith("open/"):
        at = at[len("open/"):]
    if isinstance(at, str) and ":" in at:
        op, _, k = at.partition(":")
        return int(k), op
    return int(at), None


def execute(program: Program, profile: Profile, *, lenient: bool = False) -> Failure | None:
    """Run `program` under `profile`; the first failure, or None.

    Raises ValueError if a crash step's recorded image choices no longer fit
    its log (a shrink candidate that drifted: not a reproduction) - unless
    `lenient`, where such a crash is judged on the first `LENIENT_IMAGES` images.
    """
    return traced(program, profile, lenient=lenient)[0]


def traced(program: Program, profile: Profile, *,
           lenient: bool = False) -> tuple[Failure | None, list[tuple[str, str]]]:
    """`execute`, and the persistence points the run made, as (op, path), on every
    file system it ran on: where a profile's switches changed the protocol."""
    m = _Machine(program, profile, lenient)
    failure = None
    try:
        for i, step in enumerate(program.steps):
            if m.ended:
                break
            m.index = i
            m.step(step)
    except _Stop as stop:
        failure = stop.failure
    else:
        m.close()
    return failure, m.points_before + [(p.op, p.path) for p in m.fs.points()]
