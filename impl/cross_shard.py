"""A write that spans shards, made all-or-nothing (switch `cross_shard_intent`, F45).

What: `FLUSHALL`, `FLUSHDB` and a `DEL` whose keys live on several
shards run shard by shard, each shard logging its own frame (docs/SPEC.md §5.1,
§9.2). kevy 1.17 has no commit across shards, so a power cut between two shards'
frames (or before the last of them is synced) recovers some shards with the
command and others without it: a state after no prefix of the client's writes.
With the switch the store first writes an *intent* - the command, as one RESP
frame, in `cross-shard.intent` in the data directory - and makes it durable
(file fsync, directory fsync); then runs the command on every shard, syncs every
log, and removes the intent (directory fsync) before the client gets its reply.
An open that finds a complete intent runs the command again on every shard and
removes it (`read_intent`, then `Store`'s roll-forward); a torn one (the power
went while it was written, so no shard ran the command yet) is deleted, and one
no crash could leave is refused (`CorruptIntent`, naming the file and offset).

Why running it again is safe: each of these commands is idempotent on one shard
(a second `FLUSHALL` or `DEL k` of what is gone changes nothing), and no later
write can follow it in any log while its intent exists - the reply comes after
the intent is gone, and a store whose protocol failed half way refuses every
call until it is reopened (`Store` fails every shard), so the reopen's
roll-forward is the next thing to touch the data.

Format (ours: kevy 1.17 neither writes nor reads it; a kevy 1.17 process opening
the directory ignores it): the line `kevy-verify cross-shard-intent v1\\n`, then
the command as one RESP multibulk frame (docs/SPEC.md §1.2), then nothing. A
strict prefix of that is a torn intent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from impl import resp
from impl.errors import CorruptInput
from impl.fs import FileSystem, join, write_all

__all__ = [
    "HEADER",
    "INTENT_NAME",
    "VERBS",
    "CorruptIntent",
    "format_intent",
    "parse_intent",
    "read_intent",
    "remove_intent",
    "write_intent",
]

INTENT_NAME = "cross-shard.intent"
HEADER = b"kevy-verify cross-shard-intent v1\n"
#: the commands that may span shards (impl/store.py `Store._parts`)
VERBS = frozenset({b"FLUSHALL", b"FLUSHDB", b"DEL"})


def format_intent(argv: Sequence[bytes]) -> bytes:
    """The intent file's bytes for the command `argv`."""
    return HEADER + resp.encode_frame(list(argv))


class CorruptIntent(CorruptInput):
    """An intent file holds bytes no crash of ours leaves: refuse to open (a crash
    only ever leaves a prefix of what `write_intent` wrote; anything else is outside
    damage, and running a command read from it could destroy data)."""

    unit = "cross-shard intent"


def parse_intent(data: bytes, path: str = INTENT_NAME) -> tuple[bytes, ...] | None:
    """The command an intent file holds, or None if it is torn (a strict prefix of
    what `format_intent` writes, or zero bytes: its sync failed, so its command
    never ran - F52's case). Raises `CorruptIntent` for anything else."""
    if data and not data.strip(b"\0"):
        return None
    if len(data) < len(HEADER):
        if HEADER.startswith(data):
            return None
        raise CorruptIntent(
            "not a cross-shard intent",
            offset=0,
            expected=repr(HEADER),
            got=data[: len(HEADER)],
            path=path,
        )
    if not data.startswith(HEADER):
        raise CorruptIntent(
            "not a cross-shard intent",
            offset=0,
            expected=repr(HEADER),
            got=data[: len(HEADER)],
            path=path,
        )
    try:
        frame = resp.parse_frame(data, len(HEADER))
    except resp.CorruptFrame as e:
        raise CorruptIntent(
            f"corrupt command: {e.message}", offset=len(HEADER), at=e.at, path=path
        ) from None
    if frame is resp.NEED_DATA:
        return None
    if (
        frame.end != len(data)
        or not frame.canonical
        or not frame.argv
        or (frame.argv[0].upper() not in VERBS)
    ):
        raise CorruptIntent(
            "not a command this store writes an intent for",
            offset=len(HEADER),
            at=frame.end,
            path=path,
        )
    return frame.argv


def write_intent(fs: FileSystem, directory: str, argv: Sequence[bytes]) -> None:
    """Make the intent for `argv` durable: write, fsync, close, fsync the directory."""
    f = fs.create_truncate(join(directory, INTENT_NAME))
    try:
        write_all(f, format_intent(argv))
        f.fsync()
    finally:
        f.close()
    fs.fsync_dir(directory)


def remove_intent(fs: FileSystem, directory: str) -> None:
    """Remove the intent, durably (a resurrected intent would run its command again
    after later writes)."""
    fs.unlink(join(directory, INTENT_NAME))
    fs.fsync_dir(directory)


def read_intent(
    fs: FileSystem, directory: str, log: Callable[[str], None]
) -> tuple[bytes, ...] | None:
    """At open: the command a complete intent holds (to run again), else None. A
    torn intent is removed here, with a line to `log`: no shard ran its command."""
    path = join(directory, INTENT_NAME)
    if not fs.exists(path):
        return None
    argv = parse_intent(fs.read_bytes(path), path)
    if argv is None:
        log(f"kevy-verify: removing a torn cross-shard intent {path} (its command never ran)")
        remove_intent(fs, directory)
    return argv
