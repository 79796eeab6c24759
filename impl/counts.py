"""Shard counts a data directory records, checked before anything loops by them.

Why: kevy 1.17 takes a shard count from `reshard.journal`, `shards.meta` or
the largest `dump-<X>.rdb` / `aof-<X>.aof` name and then loops over (or
allocates for) that many shards (FINDINGS F40). `check_recorded_counts`
applies impl/layout.py rule 5 to every one of them; the tools call it in
every profile (they must never hang), `Store.open` under the
`bounded_shard_counts` switch.
"""

from __future__ import annotations

from impl.fs import FileSystem, join
from impl.journal import parse_journal
from impl.layout import (
    JOURNAL,
    SHARDS_META,
    check_shard_count,
    largest_file_index,
    parse_shards_meta,
)

__all__ = ["check_recorded_counts"]


def _read(fs: FileSystem, path: str) -> bytes | None:
    # Unreadable (missing, a directory, a FIFO): no count to check here; the
    # open itself reports what kevy does with such a file.
    try:
        return fs.read_bytes(path)
    except OSError:
        return None


def _count_offset(data: bytes, field: bytes) -> int:
    """Where the value of `field=` starts in a journal (0 if not found)."""
    at = data.find(b"\n" + field + b"=")
    return 0 if at < 0 else at + 2 + len(field)


def check_recorded_counts(fs: FileSystem, directory: str) -> None:
    """Raise `ShardCountError` for the first implausible recorded count (rule 3)."""
    path = join(directory, JOURNAL)
    data = _read(fs, path)
    if data is not None:
        try:
            journal = parse_journal(data)
        except Exception:  # unreadable: Store.open reports it properly
            journal = None
        if journal is not None:
            for field, n in ((b"prev_n", journal.prev_n), (b"n", journal.n)):
                check_shard_count(fs, directory, n, source=path,
                                  offset=_count_offset(data, field))
    path = join(directory, SHARDS_META)
    data = _read(fs, path)
    layout = parse_shards_meta(data) if data is not None else None
    if layout is not None and data is not None:
        start = len(data) - len(data.lstrip())
        check_shard_count(fs, directory, layout.n, source=path, offset=start)
    largest = largest_file_index(fs, directory)
    if largest is not None:
        check_shard_count(fs, directory, largest[0], source=join(directory, largest[1]))
