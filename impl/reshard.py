"""Re-shard: merge an old shard layout, commit a new one, roll a journal forward.

What: kevy 1.17's re-shard protocol (docs/SPEC.md §8) and the "Different layout" path
of the embedded `Store.open` (docs/SPEC.md §9.1 step 6) that drives it:

* `merge_sources` (§8.2) loads every source shard into one temporary keyspace;
* `commit_reshard` (§8.3) writes each target shard as `<snapshot_i>.reshard`,
  then the journal `reshard.journal` — the commit point — then finishes;
* `finish_reshard` (§8.5) renames sources to `.premigration.<stamp>` backups,
  places the `.reshard` files, writes `shards.meta`, deletes the journal;
* `recover_journal` (§8.6) runs at every persistent open: a journal that
  parses is rolled forward, a torn one is deleted, an unreadable one fails;
* `reshard_open` (§9.1) = merge → redistribute by KevyHash → commit.

Why: a re-shard moves *every* key of a data directory between files. The
crash harness numbers each create/write/fsync/rename/unlink this module makes
and crashes between any two, so the module must make exactly kevy's calls, in
kevy's order, through the `FileSystem` seam — no extra syncs, no skipped
ones — or a finding (or its absence) says nothing about kevy.

Rules:

1. Every disk operation goes through the injected `FileSystem`; time comes
   from the caller (`now_ms`); the stamp is nanoseconds since the Unix epoch,
   derived from the injected time (`now_ms * 1_000_000`), never read here.
2. Every step of `finish_reshard` is idempotent (docs/SPEC.md §8.5), so re-running it
   after a crash at any point converges: a snapshot of the previous layout is
   a *source* iff its index is ≥ the target count or the target's
   `<snapshot_i>.reshard` still exists (a placed target has no `.reshard`
   sibling, §8.7); renames happen only if the source still exists.
3. No directory is fsynced and `shards.meta` is written by a plain truncating
   overwrite without fsync (docs/SPEC.md §2.8, §7.2): that is kevy 1.17. Two fix
   switches (impl/profile.py, findings F10–F13) change that, and only that:
   `reshard_dir_fsync` (`DIR_FSYNC_SWITCH`) fsyncs the data directory at the
   four points `_dir_fsync_hook` marks, each making one step's directory
   entries durable before the next step depends on them; `reshard_meta_fsync`
   (`META_FSYNC_SWITCH`) fsyncs `shards.meta` before the journal that would
   rewrite it can disappear. With both off the calls are kevy's, one for one.
4. Cleanup catches `OSError` only (the "errors ignored" delete of §8.3 step 1):
   an injected crash is a `BaseException` and must stop the protocol dead, as
   a real crash would.
5. Recovery uses the naming layout in effect when it runs (docs/SPEC.md §8.1): the
   `FileNames` passed in, not the names at commit time.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from impl.fs import FileSystem, join, write_all
from impl.journal import Journal, format_journal, parse_journal
from impl.keyspace import Keyspace
from impl.layout import (
    JOURNAL,
    SHARDS_META,
    FileNames,
    Layout,
    Routing,
    format_shards_meta,
    premigration_of,
    reshard_of,
    shard_of,
)
from impl.profile import KEVY_1_17, Profile
from impl.replay import replay_aof
from impl.snapshot import load_snapshot, save_snapshot

__all__ = [
    "DIR_FSYNC_SWITCH",
    "META_FSYNC_SWITCH",
    "NS_PER_MS",
    "commit_reshard",
    "finish_reshard",
    "merge_sources",
    "recover_journal",
    "redistribute",
    "reshard_open",
    "stamp_from_ms",
    "write_journal",
    "write_shards_meta",
]

#: docs/SPEC.md §8.3 step 3: the stamp is in nanoseconds; the injected clock gives ms.
NS_PER_MS = 1_000_000

#: Fix switch (F10–F13): fsync the data directory at the points
#: `_dir_fsync_hook` marks (kevy 1.17 never does, docs/SPEC.md §2.8, §8.5).
DIR_FSYNC_SWITCH = "reshard_dir_fsync"
#: Fix switch (F12): fsync `shards.meta` in `finish_reshard` (kevy 1.17 does
#: not, docs/SPEC.md §7.2), so the journal is never unlinked before the meta is durable.
META_FSYNC_SWITCH = "reshard_meta_fsync"
#: F21: load each source shard into its own keyspace before merging (`merge_sources`)
MERGE_PER_SHARD_SWITCH = "reshard_merge_per_shard"

Log = Callable[[str], None]


def _stderr_line(line: str) -> None:
    # kevy logs the roll-forward with eprintln!; the store passes no sink.
    sys.stderr.write(line + "\n")


def _dir_fsync_hook(fs: FileSystem, directory: str, profile: Profile) -> None:
    """fsync `directory` under `reshard_dir_fsync`; a no-op in kevy 1.17 (module rule 3)."""
    if profile.fixes(DIR_FSYNC_SWITCH):
        fs.fsync_dir(directory)


def stamp_from_ms(now_ms: int) -> int:
    """docs/SPEC.md §8.3 step 3: nanoseconds since the Unix epoch (0 before 1970), from ms.

    post: __return__ >= 0
    """
    return max(0, now_ms) * NS_PER_MS


# --------------------------------------------------------------------------
# §8.2 merge, §9.1 redistribution.


def merge_sources(
    fs: FileSystem,
    directory: str,
    src_n: int,
    names: FileNames,
    temp: Keyspace,
    *,
    profile: Profile,
    now_ms: int,
) -> list[str]:
    """Load every shard of the `src_n`-shard layout into `temp` (docs/SPEC.md §8.2).

    For i = 0 … src_n−1, in order: shard i's snapshot if it exists, then its
    AOF if it exists, all into the one `temp` keyspace — so a FLUSHALL in
    shard i's AOF also removes keys merged from shards < i, and a later shard
    overwrites an earlier one's key. Returns the paths found, in load order;
    nothing is moved. A snapshot load error aborts the merge (it propagates);
    a torn or corrupt AOF tail ends that AOF's replay as §1.3 says. With
    `reshard_merge_per_shard` (F21) each shard is loaded into a keyspace of its
    own first, so one shard's FLUSHALL clears only that shard.
    """
    found: list[str] = []
    per_shard = profile.fixes(MERGE_PER_SHARD_SWITCH)
    for i in range(src_n):
        # F21: kevy replays every source into the one `temp`, so a FLUSHALL (logged
        # into every shard's AOF) in shard i's log also wipes the keys already merged
        # from shards < i - writes acknowledged after that FLUSHALL included. The fix
        # loads each shard on its own, as it was live, then moves its keys over.
        into = Keyspace(temp.clock, hash_seed=temp.hash_seed) if per_shard else temp
        snap = names.snapshot_path(directory, i, src_n)
        if fs.exists(snap):
            load_snapshot(fs, snap, into, now_ms)
            found.append(snap)
        aof = names.aof_path(directory, i, src_n)
        if fs.exists(aof):
            replay_aof(fs, aof, into, profile=profile)
            found.append(aof)
        if into is not temp:
            for name, kept in list(into.live_items(now_ms)):
                temp.put(name, kept.value, kept.deadline_ms)
    return found


def redistribute(temp: Keyspace, stores: Sequence[Keyspace], now_ms: int,
                 routing: Routing = Routing.KEVYHASH) -> int:
    """Put every key live at `now_ms` into `stores[shard_of(key, len(stores), routing)]`
    (§9.1: the embedded store routes by kevyhash; the server in cluster mode by slots).

    The value object moves as is (the temp store is discarded) and the exact
    absolute deadline is kept. Returns the number of keys placed.

    pre: len(stores) >= 1
    """
    n = len(stores)
    placed = 0
    for key, entry in temp.live_items(now_ms):
        stores[shard_of(key, n, routing)].put(key, entry.value, entry.deadline_ms)
        placed += 1
    return placed


# --------------------------------------------------------------------------
# Small writers: the journal (§8.4) and shards.meta (§7.2).


def write_journal(fs: FileSystem, directory: str, journal: Journal) -> None:
    """Create/truncate `reshard.journal`, write it, full fsync, close (docs/SPEC.md §8.3 step 4)."""
    f = fs.create_truncate(join(directory, JOURNAL))
    try:
        write_all(f, format_journal(journal))
        f.fsync()
    finally:
        f.close()


def write_shards_meta(fs: FileSystem, directory: str, layout: Layout, *,
                      profile: Profile = KEVY_1_17, reshard: bool = True) -> None:
    """docs/SPEC.md §7.2: a plain truncating overwrite of `shards.meta` — no temp file, no fsync.

    Under `reshard_meta_fsync` the re-shard's write (`reshard=True`) is fsynced
    before it is closed: until the journal is gone a torn meta is rewritten by
    the roll-forward, and the journal goes only after this fsync (F12). An
    open's write (`reshard=False`) has no journal behind it, so a torn meta
    stays torn: `meta_atomic_write` (F31) writes a temp file, fsyncs it and
    renames it into place.
    """
    meta = join(directory, SHARDS_META)
    atomic = not reshard and profile.fixes("meta_atomic_write")
    # F31: overwritten in place, a torn "16\n..." reads as a count of 1 (a first
    # open with n > 1 writes it with no journal to roll forward), and the shards
    # past the torn count are never read again. Temp + fsync + rename + dir sync.
    f = fs.create_truncate(meta + ".tmp" if atomic else meta)
    try:
        write_all(f, format_shards_meta(layout))
        if atomic:
            f.fsync()
        # F12's fsync belongs to the re-shard's finish; an open's write has none.
        elif reshard and profile.fixes(META_FSYNC_SWITCH):
            f.fsync()
    finally:
        f.close()
    if atomic:
        fs.rename(meta + ".tmp", meta)
        fs.fsync_dir(directory)


# --------------------------------------------------------------------------
# §8.3 commit, §8.5 finish.


def commit_reshard(
    fs: FileSystem,
    directory: str,
    *,
    prev_n: int,
    target: Layout,
    stores: Sequence[Keyspace],
    names: FileNames,
    stamp: int,
    now_ms: int,
    profile: Profile = KEVY_1_17,
) -> int:
    """Write the target layout and commit it (docs/SPEC.md §8.3); return `stamp`.

    1. Delete every stale `<snapshot_i>.reshard`, i < target.n (errors ignored).
    2. `save_snapshot(stores[i], <snapshot_i>.reshard)` for each target shard
       (its own `.reshard.tmp`, full fsync, rename).
    3. `stamp` is the caller's (nanoseconds since the epoch, see `stamp_from_ms`).
    4. Write the journal — the commit point: before it the old layout is
       intact; after it recovery rolls forward.
    5. `finish_reshard`.

    pre: len(stores) == target.n
    """
    if len(stores) != target.n:
        raise ValueError(f"commit_reshard needs {target.n} stores, got {len(stores)}")
    for i in range(target.n):
        try:
            fs.unlink(reshard_of(names.snapshot_path(directory, i, target.n)))
        except OSError:
            pass  # §8.3 step 1: "errors ignored" — usually there is none to delete
    for i, store in enumerate(stores):
        save_snapshot(fs, store, reshard_of(names.snapshot_path(directory, i, target.n)),
                      now_ms, profile=profile)
    # F10: every `.reshard` name must be durable before the journal can be: a
    # journal that outlives a lost `.reshard` rename makes finish_reshard take
    # that index as already placed, so the new shard i is its old snapshot, or
    # nothing, while the sources holding its keys are renamed away.
    _dir_fsync_hook(fs, directory, profile)
    write_journal(fs, directory, Journal(stamp=stamp, prev_n=prev_n, n=target.n,
                                         routing=target.routing))
    # F11: the journal's name must be durable before the first source is
    # renamed away: a power loss that keeps the renames but not the journal
    # leaves the old meta and no sources, and the next open re-shards nothing.
    _dir_fsync_hook(fs, directory, profile)
    finish_reshard(fs, directory, prev_n, target, stamp, names, profile=profile)
    return stamp


def finish_reshard(
    fs: FileSystem,
    directory: str,
    prev_n: int,
    target: Layout,
    stamp: int,
    names: FileNames,
    *,
    profile: Profile = KEVY_1_17,
) -> None:
    """Roll a committed re-shard forward (docs/SPEC.md §8.5); every step is idempotent.

    1. For i < prev_n: the previous layout's snapshot is a source iff
       i ≥ target.n or the target's `<snapshot_i>.reshard` exists; a source
       that exists is renamed to `.premigration.<stamp>`. The previous
       layout's AOF, if it exists, is renamed likewise.
    2. For i < target.n: `<snapshot_i>.reshard`, if it exists, onto `snapshot_i`.
    3. `shards.meta` := target (truncating overwrite, no fsync).
    4. Delete the journal (if present: finishing again must not fail).
    No directory or meta is fsynced in kevy 1.17; the fix switches (module rule 3)
    sync the meta and the directory before step 4, and the directory after it.
    """
    for i in range(prev_n):
        snap = names.snapshot_path(directory, i, prev_n)
        is_source = i >= target.n or fs.exists(
            reshard_of(names.snapshot_path(directory, i, target.n)))
        if is_source and fs.exists(snap):
            fs.rename(snap, premigration_of(snap, stamp))
        aof = names.aof_path(directory, i, prev_n)
        if fs.exists(aof):
            fs.rename(aof, premigration_of(aof, stamp))
    for i in range(target.n):
        snap = names.snapshot_path(directory, i, target.n)
        placed = reshard_of(snap)
        if fs.exists(placed):
            fs.rename(placed, snap)
    write_shards_meta(fs, directory, target, profile=profile)
    # F12: the renames and the meta (synced above) must be durable before the
    # journal that would redo them disappears; else an image can keep the
    # unlink but lose a placement (shard i opens empty), a backup rename (the
    # old log is replayed into shard 0) or the meta (the next open re-shards
    # the new files as if they were the old layout).
    _dir_fsync_hook(fs, directory, profile)
    journal = join(directory, JOURNAL)
    if fs.exists(journal):
        fs.unlink(journal)
        # F13: the unlink must be durable before the store appends to the new
        # layout's logs, whose names (aof-0.aof) the journal's old layout
        # shares: a journal that comes back renames the live log away.
        _dir_fsync_hook(fs, directory, profile)


# --------------------------------------------------------------------------
# §8.6 recovery, §9.1 the open-time re-shard.


def recover_journal(
    fs: FileSystem,
    directory: str,
    names: FileNames,
    *,
    log: Log | None = None,
    profile: Profile = KEVY_1_17,
) -> None:
    """docs/SPEC.md §8.6, at every persistent open, before `shards.meta` is read.

    * no journal → nothing;
    * unreadable (an I/O error, or not UTF-8: `JournalUnreadable`) → raises,
      so the open fails and nothing is deleted;
    * parses → `finish_reshard` with the journal's values, after one log line
      (to `log`, default stderr);
    * torn → delete the journal only; stale `.reshard` files stay until the
      next `commit_reshard` removes them.
    """
    path = join(directory, JOURNAL)
    if not fs.exists(path):
        return
    journal = parse_journal(fs.read_bytes(path))  # raises JournalUnreadable / OSError
    if journal is None:
        fs.unlink(path)
        return
    (log or _stderr_line)(
        f"kevy: completing interrupted re-shard in {directory}: {journal.prev_n} -> "
        f"{journal.n} shards ({journal.routing.value}), stamp {journal.stamp}"
    )
    finish_reshard(fs, directory, journal.prev_n, journal.target, journal.stamp, names,
                   profile=profile)


def reshard_open(
    fs: FileSystem,
    directory: str,
    *,
    src_n: int,
    n: int,
    names: FileNames,
    shards: list[Keyspace],
    now_ms: int,
    profile: Profile,
    routing: Routing = Routing.KEVYHASH,
) -> int:
    """docs/SPEC.md §9.1 step 6, "Different": merge `src_n` shards, redistribute into `shards`,
    commit.

    `shards` are the store's `n` (empty) keyspaces; on return they hold the
    whole merged keyspace routed by `routing` (the embedded store's KevyHash;
    `Routing.SLOTS` is the server in cluster mode taking a directory over), and
    the directory holds the new layout. Returns the stamp (nanoseconds since the
    epoch, from `now_ms`).

    pre: len(shards) == n and n >= 1
    """
    if len(shards) != n:
        raise ValueError(f"reshard_open needs {n} keyspaces, got {len(shards)}")
    # One temp store for the whole merge (§8.2), on the shards' own clock so
    # replay's lazy expiry sees the same time the store does.
    temp = Keyspace(shards[0].clock, hash_seed=shards[0].hash_seed)
    merge_sources(fs, directory, src_n, names, temp, profile=profile, now_ms=now_ms)
    redistribute(temp, shards, now_ms, routing)
    return commit_reshard(
        fs, directory, prev_n=src_n, target=Layout(n, routing), stores=shards,
        names=names, stamp=stamp_from_ms(now_ms), now_ms=now_ms, profile=profile,
    )
