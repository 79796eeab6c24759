"""AOF rewrite: a keyspace as the minimal command stream kevy 1.17 writes (docs/SPEC.md §4).

What: `rewrite_frames` turns (key, value, remaining) rows into argv lists, one
command group per key; `rewrite_image` builds the in-memory image (MAGIC +
frames, §2.7 begin_concurrent_rewrite); `dump_aof` writes it to a file through
the `FileSystem` seam (§2.6 step 3, §4.4).

Why: a rewritten log replaces the old one, so every decision here — which
verbs, which order, how a score is spelled, what a stream loses — decides what
survives the next replay. kevy 1.17 loses data here in two documented ways:
the embedded replay skips every stream verb (§5, finding F1, fixed in replay),
and `S(x)` (§4.2) rounds scores to 17 decimals (finding F2, switch
`exact_rewrite_scores`).

Rules:
1. One group per live key, in the source's order (§4.1): string → SET; hash
   → one HSET; list → one RPUSH (head → tail); set → one SADD; zset → one ZADD
   in ascending (total order, member) order with S(x) scores; stream → §4.3.
   A collection with zero elements is the 2-argument frame (`HSET key`).
2. TTL'd keys end their group with `PEXPIREAT key DEC(now + remaining)`,
   saturating at u64.
3. A stream with no entries, last ID 0-0 and no groups yields no frames at
   all, and is not counted in `keys` (its XSETID / PEXPIREAT would target a
   key that does not exist at replay).
4. Frames are the canonical multibulk form of §1.1 (`impl.resp.encode_frame`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from impl.fs import FileSystem, write_all
from impl.keyspace import Keyspace, ListValue, SetValue, Stream, StreamId, Value, ZSet
from impl.numbers import U64_MAX, format_score_rewrite, format_score_shortest
from impl.profile import KEVY_1_17, Profile
from impl.resp import MAGIC, encode_frame
from impl.snapshot import CHUNK_SIZE, SnapshotItem, source_items

__all__ = [
    "MAGIC",
    "dump_aof",
    "key_group",
    "rewrite_frames",
    "rewrite_groups",
    "rewrite_image",
]

Argv = list[bytes]


def _dec(x: int) -> bytes:
    return b"%d" % x


def _id(sid: StreamId) -> bytes:
    return b"%d-%d" % sid


def _stream_group(key: bytes, st: Stream) -> list[Argv]:
    """§4.3 steps 1–4 (the TTL frame is added by the caller)."""
    frames: list[Argv] = []
    ids = st.sorted_ids()
    if not ids and st.last_id == (0, 0) and not st.groups:
        return frames  # rule 3
    for sid in ids:  # step 1
        argv = [b"XADD", key, _id(sid)]
        for f, v in st.entries[sid]:
            argv.append(f)
            argv.append(v)
        frames.append(argv)
    if not ids and st.last_id != (0, 0):  # step 2
        # Creates the key with last_id = last; the inline trim deletes the dummy
        # entry, leaving max_deleted_id = last and entries_added = 1.
        frames.append([b"XADD", key, b"MAXLEN", b"0", _id(st.last_id), b"x", b"x"])
    # Step 3: the scalars steps 1–2 leave behind, as (last, added, max_deleted).
    if ids:
        natural = (ids[-1], len(ids), (0, 0))
    else:
        natural = (st.last_id, 1 if st.last_id != (0, 0) else 0, st.last_id)
    if (st.last_id, st.entries_added, st.max_deleted_id) != natural:
        frames.append([b"XSETID", key, _id(st.last_id), b"ENTRIESADDED",
                       _dec(st.entries_added), b"MAXDELETEDID", _id(st.max_deleted_id)])
    for name, group in st.groups.items():  # step 4, map iteration order
        frames.append([b"XGROUP", b"CREATE", key, name, _id(group.last_delivered),
                       b"MKSTREAM"])
        # A consumer's last_seen_ms is not carried: CREATECONSUMER stamps replay time.
        for consumer in group.consumers:
            frames.append([b"XGROUP", b"CREATECONSUMER", key, name, consumer])
        for sid in sorted(group.pel):
            if sid not in st.entries:
                continue  # tombstone rows live only in the snapshot
            row = group.pel[sid]
            frames.append([b"XCLAIM", key, name, row.owner, b"0", _id(sid),
                           b"TIME", _dec(row.delivery_ms),
                           b"RETRYCOUNT", _dec(row.delivery_count),
                           b"FORCE", b"JUSTID"])
    return frames


def key_group(
    key: bytes, value: Value, remaining: int | None, now_ms: int, *, profile: Profile = KEVY_1_17
) -> list[Argv]:
    """The command group for one key (§4.1–4.3); empty only for rule 3's stream."""
    frames: list[Argv]
    if isinstance(value, bytes):
        frames = [[b"SET", key, value]]
    elif isinstance(value, SetValue):
        frames = [[b"SADD", key, *value]]
    elif isinstance(value, dict):
        argv = [b"HSET", key]
        for f, v in value.items():
            argv.append(f)
            argv.append(v)
        frames = [argv]
    elif isinstance(value, list | ListValue):
        frames = [[b"RPUSH", key, *value]]
    elif isinstance(value, ZSet):
        # §4.2: kevy's lossy S(x) (F2); the fix writes text that replays exactly.
        fmt = format_score_shortest if profile.fixes("exact_rewrite_scores") else (
            format_score_rewrite)
        argv = [b"ZADD", key]
        for member, score in value.ordered():
            argv.append(fmt(score).encode("ascii"))
            argv.append(member)
        frames = [argv]
    elif isinstance(value, Stream):
        frames = _stream_group(key, value)
        if not frames:
            return frames
    else:
        raise TypeError(f"not a keyspace value: {type(value).__name__}")
    if remaining is not None:
        deadline = min(U64_MAX, max(0, now_ms + remaining))  # rule 2: saturating
        frames.append([b"PEXPIREAT", key, _dec(deadline)])
    return frames


def rewrite_groups(
    items: Keyspace | Iterable[SnapshotItem], now_ms: int, *, profile: Profile = KEVY_1_17
) -> Iterator[list[Argv]]:
    """One non-empty command group per key of `items`, in source order."""
    for key, value, remaining in source_items(items, now_ms):
        group = key_group(key, value, remaining, now_ms, profile=profile)
        if group:
            yield group


def rewrite_frames(
    items: Keyspace | Iterable[SnapshotItem], now_ms: int, *, profile: Profile = KEVY_1_17
) -> Iterator[Argv]:
    """Every frame's argv, in file order (§4.1). `items`: a Keyspace, FrozenView or rows."""
    for group in rewrite_groups(items, now_ms, profile=profile):
        yield from group


def rewrite_image(
    items: Keyspace | Iterable[SnapshotItem], now_ms: int, *, profile: Profile = KEVY_1_17
) -> tuple[bytes, int]:
    """(MAGIC + every frame, number of key groups): the in-memory rewrite (§2.7)."""
    parts = [MAGIC]
    keys = 0
    for group in rewrite_groups(items, now_ms, profile=profile):
        keys += 1
        parts.extend(encode_frame(argv) for argv in group)
    return b"".join(parts), keys


def dump_aof(
    fs: FileSystem,
    path: str,
    items: Keyspace | Iterable[SnapshotItem],
    now_ms: int,
    *,
    profile: Profile = KEVY_1_17,
) -> tuple[int, int]:
    """Write the rewrite to `path` (§2.6 step 3); return (keys, bytes).

    Create/truncate, MAGIC + frames through a 1 MiB buffer, flush, length,
    full fsync, close. On error the partial file is left behind (§2.6).
    """
    f = fs.create_truncate(path)
    try:
        buf = bytearray(MAGIC)
        keys = 0
        for group in rewrite_groups(items, now_ms, profile=profile):
            keys += 1
            for argv in group:
                buf += encode_frame(argv)
                # kevy's BufWriter hands the OS 1 MiB at a time (§4.4).
                while len(buf) >= CHUNK_SIZE:
                    write_all(f, bytes(buf[:CHUNK_SIZE]))
                    del buf[:CHUNK_SIZE]
        if buf:
            write_all(f, bytes(buf))
        size = f.size()
        f.fsync()
    finally:
        f.close()
    return keys, size
