"""Shard counts a data directory records, checked before anything loops by them.

Why: kevy 1.17 takes a shard count from `reshard.journal`, `shards.meta` or
the largest `dump-<X>.rdb` / `aof-<X>.aof` name and then loops over (or
allocates for) that many shards (FINDINGS F40). `check_recorded_counts`
applies impl/layout.py rule 5 to every one of them; the tools call it in
every profile (they must never hang), `Store.open` under the
`bounded_shard_counts` switch.
"""

from __future__ import annotations

from dataclasses import dataclass

from impl.fs import FileSystem, join
from impl.journal import Journal, parse_journal
from impl.layout import (
    JOURNAL,
    SHARDS_META,
    Layout,
    check_shard_count,
    largest_file_index,
    parse_shards_meta,
)

__all__ = ["RecordedCounts", "check_recorded_counts", "read_recorded_counts"]


@dataclass(frozen=True)
class RecordedCounts:
    """What a data directory records about its shard count, read once.

    `*_error` is the error reading that file raised (a missing file is not
    one), so a caller can fail where kevy's own read would.
    """

    directory: str
    journal: Journal | None
    journal_data: bytes | None
    journal_error: OSError | None
    layout: Layout | None
    meta_data: bytes | None
    meta_error: OSError | None
    #: (largest file index + 1, that file's name), or None
    largest: tuple[int, str] | None

    @property
    def shard_count(self) -> int:
        """The count kevy opens with without re-sharding (impl/recovery.py rule 1)."""
        if self.journal_error is not None:
            raise self.journal_error
        if self.journal is not None:
            return max(1, self.journal.n)
        if self.meta_error is not None:
            raise self.meta_error
        if self.layout is not None:
            return max(1, self.layout.n)
        return max(1, self.largest[0] if self.largest is not None else 0)


def _read(fs: FileSystem, path: str) -> tuple[bytes | None, OSError | None]:
    try:
        return fs.read_bytes(path), None
    except FileNotFoundError:
        return None, None
    except OSError as e:  # a directory, a FIFO, unreadable
        return None, e


def read_recorded_counts(fs: FileSystem, directory: str) -> RecordedCounts:
    """Read the journal, `shards.meta` and the file names once."""
    journal_data, journal_error = _read(fs, join(directory, JOURNAL))
    journal = None
    if journal_data is not None:
        try:
            journal = parse_journal(journal_data)
        except Exception:  # unreadable: Store.open reports it properly
            journal = None
    meta_data, meta_error = _read(fs, join(directory, SHARDS_META))
    layout = parse_shards_meta(meta_data) if meta_data is not None else None
    return RecordedCounts(directory, journal, journal_data, journal_error, layout, meta_data,
                          meta_error, largest_file_index(fs, directory))  # fmt: skip


def _count_offset(data: bytes, field: bytes) -> int:
    """Where the value of `field=` starts in a journal (0 if not found).

    The last line wins: `parse_journal` keeps the value a repeated field was
    last assigned, so that is the count being refused."""
    at = data.rfind(b"\n" + field + b"=")
    return 0 if at < 0 else at + 2 + len(field)


def check_recorded_counts(
    fs: FileSystem, directory: str, recorded: RecordedCounts | None = None
) -> None:
    """Raise `ShardCountError` for the first implausible recorded count (rule 5
    of impl/layout.py); an unreadable file has no count to check here."""
    r = read_recorded_counts(fs, directory) if recorded is None else recorded
    if r.journal is not None and r.journal_data is not None:
        path = join(directory, JOURNAL)
        for field, n in ((b"prev_n", r.journal.prev_n), (b"n", r.journal.n)):
            check_shard_count(fs, directory, n, source=path,
                              offset=_count_offset(r.journal_data, field))  # fmt: skip
    if r.layout is not None and r.meta_data is not None:
        start = len(r.meta_data) - len(r.meta_data.lstrip())
        check_shard_count(fs, directory, r.layout.n, source=join(directory, SHARDS_META),
                          offset=start)  # fmt: skip
    if r.largest is not None:
        check_shard_count(fs, directory, r.largest[0], source=join(directory, r.largest[1]))
