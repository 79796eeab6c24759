"""A save of several shards without a log, made all-or-nothing (switch
`save_commit_across_shards`, F46).

What: with the AOF disabled a store's only durable state is its snapshots, one per
shard, and `save` renames them into place shard by shard (docs/SPEC.md §9.3). A
power cut between two renames recovers one shard at the new save and another at
the old one: a state after no prefix of the client's writes. With the switch the
save first writes and syncs every shard's `<snapshot>.tmp` (and, under F42's fix,
the empty log base that replaces a stale log), then makes a commit record durable
- `save.commit`, naming the shard count - then renames everything into place,
syncs the directory and removes the record. An open that finds a whole record
renames every `<snapshot>.tmp` it names into place before anything else reads
the directory (`roll_forward`); a torn one (the power went while it was written:
no rename happened yet) is deleted, and the old snapshots stand.

Why the re-shard's journal is not reused: it names a layout change and its
recovery renames sources away (docs/SPEC.md §8.5); a save changes no layout, and
kevy 1.17 would read a `reshard.journal` as an interrupted re-shard.

Format (ours; kevy 1.17 neither writes nor reads it): the line
`kevy-verify save-commit v1\\n`, then the shard count in decimal and `\\n`. A
strict prefix of that is torn, and so is a record of zero bytes (its sync failed:
F52); anything else is refused (`CorruptSaveCommit`,
naming the file and offset), as is a count outside 2..MAX_SHARDS (F40: a count
read from a file bounds no loop before it is checked).
"""

from __future__ import annotations

from collections.abc import Callable

from impl.errors import CorruptInput
from impl.fs import FileSystem, join, write_all
from impl.layout import MAX_SHARDS, tmp_of

__all__ = [
    "COMMIT_NAME",
    "HEADER",
    "CorruptSaveCommit",
    "format_commit",
    "parse_commit",
    "remove_commit",
    "roll_forward",
    "write_commit",
]

COMMIT_NAME = "save.commit"
HEADER = b"kevy-verify save-commit v1\n"


class CorruptSaveCommit(CorruptInput):
    """A `save.commit` no crash of ours leaves (a crash leaves a strict prefix of what
    `write_commit` wrote): refused, since renaming by it could install files no save
    finished."""

    unit = "save commit"


def format_commit(n: int) -> bytes:
    """The record's bytes for a save of `n` shards."""
    return HEADER + b"%d\n" % n


def parse_commit(data: bytes, path: str = COMMIT_NAME) -> int | None:
    """The shard count a whole record names, None for a torn one; raises
    `CorruptSaveCommit` for anything else."""
    if len(data) <= len(HEADER) and HEADER.startswith(data):
        return None
    if not data.strip(b"\0"):
        # F52: the record's fsync failed (the save raised before any rename) and a
        # power cut kept its length but not its pages (CrashFS rule 6, Linux after
        # a writeback error): never committed, so torn.
        return None
    if not data.startswith(HEADER):
        raise CorruptSaveCommit(
            "not a save commit record",
            offset=0,
            expected=repr(HEADER),
            got=data[: len(HEADER)],
            path=path,
        )
    body = data[len(HEADER) :]
    digits = body[:-1] if body.endswith(b"\n") else body
    if not digits.isdigit() or len(digits) > 5 or digits.startswith(b"0"):
        raise CorruptSaveCommit(
            "not a shard count",
            offset=len(HEADER),
            got=body[:8],
            path=path,
        )
    if not body.endswith(b"\n"):
        return None  # torn inside its count: no rename happened yet
    n = int(digits)
    if not 2 <= n <= MAX_SHARDS:
        raise CorruptSaveCommit(
            f"shard count {n} outside 2..{MAX_SHARDS}",
            offset=len(HEADER),
            path=path,
        )
    return n


# write_commit/remove_commit mirror impl/cross_shard.py's intent on purpose: each
# protocol's calls stay its own crash sites (`kevy-verify sites`), which one shared
# helper would merge into one.
def write_commit(fs: FileSystem, directory: str, n: int) -> None:
    """Make the record durable: write, fsync, close, fsync the directory (the commit point)."""
    f = fs.create_truncate(join(directory, COMMIT_NAME))
    try:
        write_all(f, format_commit(n))
        f.fsync()
    finally:
        f.close()
    fs.fsync_dir(directory)


def remove_commit(fs: FileSystem, directory: str) -> None:
    """Remove the record, durably: a resurrected one would rename a later save's
    unfinished `.tmp` files into place."""
    fs.unlink(join(directory, COMMIT_NAME))
    fs.fsync_dir(directory)


def roll_forward(
    fs: FileSystem,
    directory: str,
    snapshot_path: Callable[[int, int], str],
    log: Callable[[str], None],
) -> None:
    """At open, before anything reads a snapshot: finish a save whose record is whole
    (rename each `<snapshot>.tmp` of its shards into place), or drop a torn record.
    `snapshot_path(i, n)` is shard i's snapshot under an n-shard layout."""
    path = join(directory, COMMIT_NAME)
    if not fs.exists(path):
        return
    n = parse_commit(fs.read_bytes(path), path)
    if n is None:
        log(f"kevy-verify: removing a torn save commit {path} (its save never committed)")
    else:
        for i in range(n):
            target = snapshot_path(i, n)
            if fs.exists(tmp_of(target)):
                fs.rename(tmp_of(target), target)
        fs.fsync_dir(directory)
    remove_commit(fs, directory)
