"""Profiles: `kevy-1.17` (faithful, defects included) and `hardened` (each fix on).

Why: the harness hunts defects in a faithful copy of kevy 1.17, and a finding
is only useful next to its fix. Every fix is one named switch registered here;
`hardened` turns them all on, `kevy-1.17` none. Code asks
`profile.fixes("switch_name")`, so a finding and its fix sit side by side and
`kevy-verify profiles` can list them.

Rules:
1. A switch name is registered exactly once, with the finding it fixes and a
   one-line summary. Asking for an unregistered name raises at once (a typo
   must not silently select the faithful behaviour).
2. A switch changes behaviour only where kevy 1.17 is wrong; with every switch
   off the code is kevy 1.17 decision for decision.
3. Every switch is registered in this module, above the profiles, so
   `HARDENED` is a plain constant holding all of them.
4. Profiles are immutable; `with_switches()` derives a custom one (used by
   tests to isolate one fix).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "HARDENED",
    "KEVY_1_17",
    "PROFILES",
    "SWITCHES",
    "Profile",
    "Switch",
    "get_profile",
]


@dataclass(frozen=True)
class Switch:
    name: str
    #: the FINDINGS.md entries this switch fixes, comma-separated ("F1", "F4,F6,F7"), or
    #: "compat" for a Redis-compatibility switch: kevy's documented replay semantics
    #: differ from Redis there (model/keyspace KNOWN_DIFFERENCES), which is no defect
    finding: str
    #: one line: what the fixed behaviour does
    summary: str


SWITCHES: dict[str, Switch] = {}


def _register(name: str, finding: str, summary: str) -> None:
    if not re.fullmatch(r"compat|F\d+(,F\d+)*", finding):
        raise ValueError(f"switch {name!r}: finding {finding!r} is not 'compat' or F-ids")
    if name in SWITCHES:
        raise ValueError(f"switch {name!r} registered twice")
    SWITCHES[name] = Switch(name, finding, summary)


# --- formats and replay (issue 2) ------------------------------------------
_register(
    "replay_stream_verbs",
    "F1",
    "replay applies the stream verbs the rewrite emits (XADD, XSETID, XGROUP, XCLAIM) "
    "instead of skipping them, so a rewritten log keeps its streams",
)
_register(
    "exact_rewrite_scores",
    "F2",
    "the rewrite writes zset scores as shortest round-trip text (keeping -0, tiny "
    "values and NaN's sign) instead of %.17f, so rewrite->replay keeps every score",
)

# --- snapshots (issue 2) ------------------------------------------------------
_register(
    "exact_frozen_deadlines",
    "F3",
    "a frozen view keeps absolute deadlines, so a snapshot written from it records "
    "each key's true deadline instead of one drifted later by the freeze->write delay",
)

# --- AOF and embedded store (issue 3) -------------------------------------------
_register(
    "save_commit_roll_forward",
    "F5",
    "a snapshot save builds the reset log as <aof>.reset before renaming the snapshot, "
    "and open rolls a leftover .reset forward (or discards it while <snapshot>.tmp "
    "exists), so a crash between the two renames cannot replay the old log on top of "
    "the new snapshot and apply every pre-save write twice",
)
_register(
    "aof_dir_fsync",
    "F4,F6,F7",
    "fsync the data directory after creating a new AOF and after every AOF/snapshot "
    "rename of a rewrite or save, so a power loss can neither forget a rename nor keep "
    "the log reset while losing the snapshot rename",
)
_register(
    "aof_cut_torn_tail",
    "F8",
    "opening a log whose last frame is torn cuts that frame (and a partial MAGIC) "
    "before appending, instead of appending after it where every later frame would "
    "be unreadable",
)
_register(
    "aof_refuse_corrupt",
    "F14",
    "opening a store whose log has a corrupt (not truncated) frame fails with "
    "CorruptLogRefused naming the file and the frame's byte offset, leaving every byte "
    "as it was, instead of replaying up to the frame and appending after it where no "
    "later write is ever replayed",
)
_register(
    "rewrite_saves_beside_snapshot",
    "F9",
    "an AOF rewrite of a shard that has a snapshot runs as a snapshot save (snapshot + "
    "log reset) instead of writing a full image beside the old snapshot, which the next "
    "open would load and then replay the image on top of: lists doubled, keys and "
    "members deleted since the snapshot brought back",
)
_register(
    "save_failure_stops_tee",
    "F17",
    "a save whose commit fails before the log is reset (the snapshot rename) discards the "
    "tee it started, as a failed snapshot write does, instead of leaving it running: every "
    "later save then waits on a rewrite that never ends (SaveTimedOut), every rewrite is "
    "skipped and the tee grows with each write until the process exits",
)
_register(
    "set_ttl_one_frame",
    "F15",
    "SET with EX/PX/EXAT/PXAT/KEEPTTL (set_with_ttl) is logged as one frame SET k v PXAT "
    "<deadline>, as Redis 7 propagates it, and replay honours SET's options, instead of "
    "SET then PEXPIREAT synced one by one, where a crash between them brings the key back "
    "without its TTL; a log written so reads in kevy 1.17 as a SET with no TTL at all",
)
_register(
    "xclaim_logs_time",
    "F16",
    "a live XCLAIM is logged as Redis propagates it (t_stream.c streamPropagateXCLAIM): "
    "one XCLAIM k g owner 0 id TIME <delivery> RETRYCOUNT <count> FORCE JUSTID LASTID <id> "
    "per PEL row it changed (XGROUP SETID if it only moved LASTID), instead of verbatim, "
    "where replay re-reads IDLE, a missing TIME and the retry count against the replay clock",
)

# --- the data directory (issue 12) ----------------------------------------------
_register(
    "data_dir_lock",
    "F19",
    "an open store holds an exclusive advisory lock (flock) on its data directory, so a "
    "second process's open fails with DataDirLocked naming the directory instead of "
    "sharing it, where one process's save discards the other's acknowledged writes",
)

# --- re-shard (impl/reshard.py, docs/SPEC.md §8) ------------------------------------------
_register(
    "reshard_dir_fsync",
    "F10,F11,F12,F13",
    "a re-shard fsyncs the data directory after writing every <snapshot>.reshard (before "
    "the journal), after writing the journal (before the first source is renamed away), "
    "before deleting the journal and after deleting it, so a power loss cannot keep the "
    "journal without a .reshard file, the renamed sources without the journal, the "
    "journal's deletion without finish's renames, or bring the journal back to rename "
    "the new layout's live aof-0.aof away",
)
_register(
    "reshard_meta_fsync",
    "F12",
    "finish_reshard fsyncs shards.meta before the journal is deleted, so a power loss "
    "cannot keep the journal's deletion while shards.meta still says the old shard "
    "count, which makes the next open re-shard the new files as if they were the old",
)
_register(
    "bounded_shard_counts",
    "F40",
    "open refuses (ShardCountError, naming the file and the count's offset) a shard count "
    "from reshard.journal, shards.meta or a file name that is above 1024 and above the "
    "number of directory entries, instead of looping over every shard it names: a 20-byte "
    "shards.meta saying 10**9 keeps kevy's open busy for hours",
)
_register(
    "reshard_merge_per_shard",
    "F21",
    "a re-shard loads each source shard (snapshot, then AOF) into a keyspace of its own and "
    "then merges them, instead of replaying every shard into one keyspace, where a FLUSHALL "
    "in shard i's log (FLUSHALL is logged into every shard) deletes every key merged from "
    "shards < i, acknowledged writes after the FLUSHALL included",
)
_register(
    "close_fsyncs_log",
    "F22",
    "a clean close flushes and fsyncs every shard's log (Redis fsyncs the AOF on SHUTDOWN) "
    "instead of a policy maybe_sync whose errors are ignored, so under everysec or no a "
    "write acknowledged before a close that returned survives the next power loss",
)
_register(
    "replay_no_expiry",
    "F23",
    "replay expires nothing while the log is read (as Redis does while loading: no lazy "
    "expiry, a past PEXPIREAT or SET PXAT keeps the key) instead of deleting a key whose "
    "logged deadline passed before the replay, which loses it when a later frame of the "
    "same log extended its TTL (EXPIRE after SET PX)",
)

# --- command semantics (impl/commands*.py): kevy 1.17 vs Redis 7 ---------------
_register(
    "redis_decrby_overflow",
    "compat",
    "DECRBY with -9223372036854775808 fails 'ERR decrement would overflow' instead of "
    "wrapping the negation to -2^63 and adding it",
)
_register(
    "redis_negative_count_errors",
    "compat",
    "LPOP/RPOP/SPOP with a negative or non-integer count fail 'ERR value is out of range, "
    "must be positive' instead of popping 0 (negative) or 1 (replay of a non-integer)",
)
_register(
    "redis_reject_nan_scores",
    "compat",
    "ZADD/ZINCRBY reject a NaN score ('ERR value is not a valid float') and a NaN result "
    "('ERR resulting score is not a number (NaN)') instead of storing NaN",
)
_register(
    "redis_zero_score_equality",
    "compat",
    "zset scores -0.0 and 0.0 compare equal (ties ordered by member, ZADD does not "
    "rewrite one into the other, a new member's ZINCRBY stores the increment itself, "
    "ZINCRBY 0 on a -0.0 member keeps -0.0, ZADD INCR answers the sum it computed) "
    "instead of IEEE total order",
)
_register(
    "redis_expire_semantics",
    "compat",
    "EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT take signed times, delete the key at once when "
    "the deadline is not in the future, and fail 'invalid expire time' on overflow, "
    "instead of rejecting negatives, leaving EXPIRE 0 keys until the next check and "
    "saturating",
)
_register(
    "redis_strict_numbers",
    "compat",
    "integers (stored values and arguments) use Redis's grammar (no '+', no leading "
    "zeros, no '-0'); INCRBYFLOAT does not trim whitespace around the stored value, "
    "rejects a NaN increment, accepts a stored inf (only the sum fails) and checks the "
    "key, the stored value, then the increment; LSET checks the key before the index, "
    "as Redis orders its replies",
)
_register(
    "redis_xclaim_force_count",
    "compat",
    "XCLAIM ... FORCE on an entry no consumer read creates its pending row with "
    "delivery count 1 (Redis's streamCreateNACK), then adds 1 unless JUSTID or "
    "RETRYCOUNT, instead of starting at 0",
)
_register(
    "redis_xclaim_seen_time",
    "compat",
    "XCLAIM sets the claiming consumer's last-seen time to now for every row it claims, "
    "as Redis does, instead of leaving an existing consumer's seen-time alone",
)
_register(
    "replay_command_options",
    "compat",
    "replay honours SET's EX/PX/EXAT/PXAT/NX/XX/KEEPTTL/GET, ZADD's NX/XX/GT/LT/CH/INCR "
    "and EXPIRE's NX/XX/GT/LT instead of ignoring SET's options and consuming ZADD's "
    "flags as scores",
)
_register(
    "append_failure_fails_shard",
    "F25",
    "a failed append (write or fsync error) fails the shard: every later call is "
    "refused until a reopen, instead of serving the write from memory while its "
    "frame is not durable and later acks are promised over it",
)
_register(
    "evictions_logged",
    "F26",
    "an eviction (maxmemory) is logged as DEL of the evicted key, as Redis propagates "
    "it, instead of not at all, so a restart does not bring evicted keys back",
)
_register(
    "open_syncs_dir",
    "F28",
    "open syncs the data directory before accepting writes, so a rename a previous "
    "process made but never synced (it crashed, or its directory sync failed) is "
    "durable before new acknowledged writes land in the renamed file",
)
_register(
    "manual_tick_syncs",
    "F29",
    "the Manual-mode tick also runs each log's everysec maybe_sync, as the background "
    "reaper's loop does, instead of never fsyncing an everysec log until close",
)
_register(
    "close_saves_without_aof",
    "F30",
    "with the AOF disabled, a clean close saves a snapshot (as Redis's SHUTDOWN does "
    "when persistence is on) instead of dropping every write since the last save",
)
_register(
    "meta_atomic_write",
    "F31",
    "shards.meta is written to a temp file, fsynced and renamed into place (then the "
    "directory synced), so a torn write can never turn a count of 16 into 1",
)
_register(
    "spop_logs_members",
    "F24",
    "SPOP logs the members it removed (SREM k m1 m2 ..., as Redis propagates it) "
    "instead of SPOP k n, which a recovering process replays against its own hash "
    "order and so pops other members than the client was told",
)
_register(
    "expiry_logs_del",
    "F43",
    "a key found expired (by a command's lookup or the reaper) or deleted for a past "
    "deadline (EXPIREAT now) is logged as DEL k, as "
    "Redis propagates expiries, instead of nothing, where replay meets the stale value "
    "under a later write (APPEND, INCR, LPUSH ...) and the acknowledged write is lost",
)
_register(
    "save_resets_stale_log",
    "F42",
    "a save of a shard whose AOF is disabled resets a log it finds in place to an empty "
    "base (with the save's commit protocol), instead of leaving it for the next open to "
    "replay over the new snapshot, which applies every logged write twice",
)
_register(
    "del_logs_one_frame",
    "F41",
    "a multi-key DEL is logged as one frame DEL k1 k2 ... of the keys it removed (per "
    "shard), as Redis propagates it, instead of one DEL frame per key, where a torn or "
    "failed append keeps the first keys' deletions and loses the rest",
)
_register(
    "cross_shard_order",
    "F44",
    "with several shards, a write first syncs every other shard's log that holds "
    "unsynced bytes, so at most one shard's log is behind and a power cut loses a suffix "
    "of the acknowledged writes, as one log would, instead of an earlier write on one "
    "shard while a later one on another survives",
)
_register(
    "cross_shard_intent",
    "F45",
    "FLUSHALL, FLUSHDB and a DEL of keys on several shards first make an intent durable "
    "(cross-shard.intent), run on every shard, sync every log and remove it; an open runs "
    "a left intent's command again - instead of a power cut between two shards leaving "
    "the command done on some shards and not on others",
)
_register(
    "save_commit_across_shards",
    "F46",
    "with the AOF disabled, a save of several shards writes every shard's snapshot, "
    "commits with a durable record (save.commit), then renames them all, and an open "
    "finishes a committed one - instead of renaming shard by shard, where a power cut "
    "between two renames recovers shards from two different saves",
)
_register(
    "aof_refuse_concatenated",
    "F47",
    "an open refuses a log holding a second log's header (MAGIC past offset 0: two "
    "logs concatenated), naming the file and the offset, instead of skipping the header "
    "as an unknown inline command and replaying the other log's writes a second time "
    "or into the wrong shard",
)
_register(
    "aof_failed_create_unlinks",
    "F49",
    "an open whose new log's MAGIC fails to sync removes the file before it fails, so "
    "the next open creates the log anew - instead of leaving a file whose MAGIC the "
    "failed sync dropped and the next process appends to, whose head a power cut turns "
    "to zeros with the first frame after it",
)
_register(
    "open_syncs_logs",
    "F51",
    "open syncs every log it replayed before it serves, so what a killed process left "
    "in the page cache (writes it never synced) is durable before a later "
    "acknowledgement promises it - instead of serving it until a power cut takes it "
    "back under a write that survives",
)
_register(
    "rewrite_reopen_fails_log",
    "F53",
    "a rewrite whose reopen of the renamed log fails marks the log failed (writes are "
    "refused until the store is reopened) instead of going on appending to the file "
    "the rename replaced, where every later write is lost",
)
_register(
    "replay_stream_writes",
    "compat",
    "replay also applies the stream writes a live log carries (XDEL, XTRIM, XACK, "
    "XGROUP SETID/DESTROY/DELCONSUMER), so a live stream replays like a rewritten one",
)

@dataclass(frozen=True)
class Profile:
    name: str
    enabled: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        unknown = sorted(self.enabled - SWITCHES.keys())
        if unknown:
            raise ValueError(f"profile {self.name!r}: unknown switches {unknown}")

    def fixes(self, switch: str) -> bool:
        """True if this profile turns on the fix named `switch`."""
        if switch not in SWITCHES:
            raise KeyError(f"unknown switch {switch!r}; registered: {sorted(SWITCHES)}")
        return switch in self.enabled

    def with_switches(self, *names: str, on: bool = True) -> Profile:
        """A copy with `names` turned on (or off)."""
        enabled = self.enabled | set(names) if on else self.enabled - set(names)
        suffix = ("+" if on else "-") + ",".join(sorted(names))
        return Profile(f"{self.name}{suffix}", frozenset(enabled))

    def __repr__(self) -> str:
        return f"Profile({self.name!r})"


KEVY_1_17 = Profile("kevy-1.17")
HARDENED = Profile("hardened", frozenset(SWITCHES))

PROFILES = {p.name: p for p in (KEVY_1_17, HARDENED)}


def get_profile(name: str) -> Profile:
    """The profile called `name`: `kevy-1.17`, `hardened`, or a derived name
    `with_switches` gives (`hardened-xclaim_logs_time`: hardened with that
    switch off; `kevy-1.17+aof_dir_fsync`: kevy with it on).

    Derived names let a corpus case pin a finding that only an ablation shows
    (a defect of our own that no kevy 1.17 log can carry).
    """
    if name in PROFILES:
        return PROFILES[name]
    for base, sign in ((b, s) for b in PROFILES for s in "+-"):
        if name.startswith(base + sign):
            switches = name[len(base) + 1 :].split(",")
            if switches and all(sw in SWITCHES for sw in switches):
                return PROFILES[base].with_switches(*switches, on=sign == "+")
    raise KeyError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}, or one of "
                   "them followed by +SWITCH[,SWITCH] or -SWITCH[,SWITCH]")
