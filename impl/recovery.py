"""Recover a data directory the way kevy's `Store::open` would, without touching it.

Why: a user holding a kevy data directory wants to know what kevy will
recover from it — including a journal roll-forward or a re-shard — before
letting kevy loose on it. Running the real open path (`Store.open`) on an
`OverlayFileSystem` over a read-only view gives exactly that answer, and any
file the open would have created, renamed or deleted is reported instead of
done.

Rules:
1. The shard count is the one kevy would settle on without a re-shard: a
   committed journal's `n`, else `shards.meta`'s, else the inferred file count
   (at least 1). `--shards` overrides it (and may trigger a re-shard in memory).
2. The log is replayed but never opened for append (`aof_enabled=False`): kevy
   replays even when the AOF is disabled (§9.1), and opening would only add a
   header to a fresh file.
3. Before anything runs, every shard count the directory records (the
   journal's `prev_n` and `n`, `shards.meta`'s, the largest file index) must be
   plausible (impl/layout.py rule 5): kevy 1.17 would loop by it, and the tool
   must neither hang nor allocate by a count the directory does not back, in
   any profile (impl/counts.py `check_recorded_counts`).
"""

from __future__ import annotations

from impl.clock import Clock
from impl.counts import check_recorded_counts, read_recorded_counts
from impl.fs import FileSystem, OverlayFileSystem, join
from impl.journal import JournalUnreadable
from impl.keyspace import Keyspace
from impl.layout import JOURNAL
from impl.profile import Profile
from impl.store import Store, StoreConfig

__all__ = ["recorded_shard_count", "recover_directory_readonly"]


def recorded_shard_count(fs: FileSystem, directory: str) -> int:
    """The shard count kevy would open `directory` with without re-sharding (rule 1)."""
    return read_recorded_counts(fs, directory).shard_count


def recover_directory_readonly(
    fs: FileSystem,
    directory: str,
    *,
    profile: Profile,
    clock: Clock,
    notes: list[str],
    info: list[str],
    shards: int | None = None,
) -> list[Keyspace]:
    """Run kevy's open on `directory` in memory; return the shards' keyspaces.

    Appends to `notes` what recovery skipped or dropped (with offsets) and to
    `info` what it would have changed on disk.
    """
    recorded = read_recorded_counts(fs, directory)  # read once: checked, then used
    check_recorded_counts(fs, directory, recorded)
    overlay = OverlayFileSystem(fs)
    n = shards if shards is not None else recorded.shard_count
    config = StoreConfig(data_dir=directory, shards=n, aof_enabled=False, reaper="manual")
    # kevy's own recovery lines (a re-shard being completed) become notes, so
    # they reach the terminal through the CLI's escaping printer, not raw.
    try:
        store = Store.open(config, fs=overlay, clock=clock, profile=profile,
                           log=lambda line: info.append(line.rstrip("\n")))
    except JournalUnreadable as e:
        # kevy's open fails on it; the parser does not know the file's name.
        raise (e if e.path else e.with_path(join(directory, JOURNAL))) from None
    try:
        for report in store.recovery_reports:
            for event in report.events:
                (notes if event.lossy else info).append(f"{report.path}: {event}")
        for change in overlay.changes():
            info.append(f"recovery would change {change} (not written: read-only)")
        return [store.keyspace(i) for i in range(store.n)]
    finally:
        store.close()
