"""Redis 7's multi-part AOF: `appendonlydir/` with a manifest, a base and incr files.

What: `is_redis_aof_dir(fs, path)` recognises the layout (a directory holding
exactly one `*.manifest`); `manifest_files(fs, path)` lists the parts in the
order Redis replays them (the base first, then the incr files in manifest
order, aof.c loadAppendOnlyFiles); `replay_redis_aof_dir` replays them, in
the Redis dialect, into one keyspace and returns one report per part.

Why: Redis 7 no longer writes a single `appendonly.aof`; before this module
`dump --dialect redis appendonlydir/` printed an empty keyspace with exit 0.

Rules:
1. Manifest lines are `file <name> seq <n> type <b|h|i>` (aof.c
   aofInfoFormat; keys may come in any order, values may be quoted). `h`
   (history) parts are no longer live and are not replayed.
2. A base that begins with `REDIS` holds an RDB preamble; it is refused with
   `RedisAofDirError` naming the file (this reader replays commands only).
3. A manifest line that cannot be parsed is a `RedisAofDirError` naming the
   manifest and the byte offset of the line; a part it names that is missing
   is one naming that part (offset 0).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from impl.errors import CorruptInput
from impl.fs import FileSystem
from impl.keyspace import Keyspace
from impl.profile import Profile
from impl.replay import Dialect, ReplayReport, replay_bytes

__all__ = [
    "ManifestPart",
    "RedisAofDirError",
    "is_redis_aof_dir",
    "manifest_files",
    "replay_redis_aof_dir",
]

RDB_MAGIC = b"REDIS"


class RedisAofDirError(CorruptInput):
    """A Redis `appendonlydir/` that cannot be replayed exactly (rules 2 and 3)."""

    unit = "Redis AOF manifest"


@dataclass(frozen=True)
class ManifestPart:
    name: str
    seq: int
    kind: str  # "b" base, "i" incr, "h" history


def _join(directory: str, name: str) -> str:
    return directory.rstrip("/") + "/" + name


def _manifest_name(fs: FileSystem, path: str) -> str | None:
    if not fs.is_dir(path):
        return None
    names = [n for n in fs.listdir(path) if n.endswith(".manifest")]
    return names[0] if len(names) == 1 else None


def is_redis_aof_dir(fs: FileSystem, path: str) -> bool:
    """True if `path` is a directory with exactly one `*.manifest` file (rule 1)."""
    return _manifest_name(fs, path) is not None


def _parse_manifest(data: bytes, where: str) -> list[ManifestPart]:
    parts: list[ManifestPart] = []
    offset = 0
    for raw in data.split(b"\n"):
        line = raw.strip()
        start, offset = offset, offset + len(raw) + 1
        if not line or line.startswith(b"#"):
            continue
        try:
            words = shlex.split(line.decode("utf-8"))
            fields = dict(zip(words[0::2], words[1::2], strict=True))
            part = ManifestPart(fields["file"], int(fields["seq"]), fields["type"])
        except (ValueError, KeyError, UnicodeDecodeError) as e:
            raise RedisAofDirError(f"unreadable manifest line ({e})", offset=start).with_path(
                where
            ) from None
        if part.kind not in ("b", "h", "i") or "/" in part.name:
            raise RedisAofDirError(f"bad manifest entry {part!r}", offset=start).with_path(where)
        parts.append(part)
    return parts


def manifest_files(fs: FileSystem, path: str) -> list[str]:
    """The live parts of the AOF directory `path`, in replay order (rule 1)."""
    name = _manifest_name(fs, path)
    if name is None:
        raise RedisAofDirError("no single *.manifest file", offset=0).with_path(path)
    where = _join(path, name)
    parts = _parse_manifest(fs.read_bytes(where), where)
    bases = [p for p in parts if p.kind == "b"]
    incrs = [p for p in parts if p.kind == "i"]  # manifest order is replay order
    return [_join(path, p.name) for p in bases + incrs]


def replay_redis_aof_dir(
    fs: FileSystem, path: str, ks: Keyspace, *, profile: Profile
) -> list[ReplayReport]:
    """Replay every live part of `path` into `ks`; one report per part (rules 1-3)."""
    reports = []
    for part in manifest_files(fs, path):
        try:
            data = fs.read_bytes(part)
        except FileNotFoundError:
            raise RedisAofDirError("the manifest names a missing file", offset=0).with_path(
                part
            ) from None
        if data.startswith(RDB_MAGIC):  # only a base can carry one; check every part anyway
            raise RedisAofDirError(
                "base file has an RDB preamble; only command AOFs are read "
                "(rewrite with aof-use-rdb-preamble no)", offset=0,
            ).with_path(part)  # fmt: skip
        reports.append(replay_bytes(data, ks, profile=profile, dialect=Dialect.REDIS, path=part))
    return reports
