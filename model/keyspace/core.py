"""Executable specification of the write verbs: what a Redis 7.2 client expects.

What: `ModelKeyspace`, a single-database keyspace with an explicit clock.
`execute(argv, now_ms)` runs one command and returns its reply; `snapshot` and
`to_keyspace_json` expose the state for comparison with `impl/` and with dumps.
Every verb `impl/commands.py` supports is one small function below, registered
in `COMMANDS` with its Redis arity, so arity errors are uniform.

Why: a Hypothesis machine drives the same command sequences into impl and into
this model and requires equal replies and equal keyspaces after every step.
The model is the independent second opinion (ARCHITECTURE.md): it imports
nothing from `impl/` and is written from Redis 7.2 semantics (t_string.c,
t_hash.c, t_list.c, t_set.c, t_zset.c, t_stream.c, expire.c, db.c, util.c),
not from the kevy SPEC. Where kevy 1.17 (docs/SPEC.md §5, §6) and Redis disagree the
model says what Redis does and the disagreement is listed in
`KNOWN_DIFFERENCES` (model/keyspace/differences.py) as a finding against kevy.

Rules:
1. Time is an argument. A key whose deadline is `d` is live while
   `now_ms <= d` and absent once `now_ms > d` (Redis `keyIsExpired`:
   `now > when`). Commands that set a deadline at or before now delete the key
   at once (`checkAlreadyExpired`: `when <= now`). See KNOWN_DIFFERENCES
   "expiry boundary": kevy treats `d <= now` as expired, so the two disagree
   only at the exact millisecond of the deadline.
2. Replies: integer -> int, bulk string -> bytes, nil (bulk or array) -> None,
   status -> str, array -> list, error -> `ErrorReply` (returned, never
   raised), carrying Redis 7.2's full error text including its code
   ("ERR ...", "WRONGTYPE ...", "NOGROUP ...", "BUSYGROUP ...").
3. Checks happen in Redis's order (argument parsing before key lookup where
   Redis does so), because the order decides which error a client sees.
4. Collections other than streams disappear when emptied; an empty stream is
   a key.
5. What the model cannot say, it refuses loudly: `NotModelled` is raised (not
   returned) for real Redis behaviour outside this specification (ZRANGE
   BYSCORE/BYLEX, approximate `~` trimming, MINID, LIMIT, ENTRIESREAD). A
   driver must not generate those.
7. A random choice is an observation, not a rule: SPOP removes members Redis
   (or kevy) picks at random, so the driver passes the members the server
   answered as `execute(..., chosen=...)` and the model checks that they are a
   valid pick (distinct members of the set, as many as the count allows) and
   applies exactly them. Without `chosen`, an SPOP that has to pick raises
   `NotModelled`; one with nothing to pick (absent key, count 0, errors) is
   answered as Redis does.
6. Only RESP2 reply shapes are modelled (what kevy's RESP server speaks).

Unordered replies: Redis promises no order for HGETALL and SMEMBERS. The model
returns HGETALL in field insertion order (what a small listpack hash does) and
SMEMBERS sorted by bytes; compare those replies through `canonical_reply`.
DBSIZE: Redis counts expired keys not yet reaped (a race with active expiry);
the model answers the number of live keys, the value after full reaping.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeAlias

from model.values import (
    Stream,
    StreamID,
)

# The public names are listed once, in the package's __init__.

REDIS_VERSION = "7.2"


@dataclass(frozen=True)
class ErrorReply:
    """An error reply; `message` is the full text, e.g. "ERR syntax error"."""

    message: str


Reply: TypeAlias = int | bytes | str | list[Any] | ErrorReply | None


class NotModelled(NotImplementedError):
    """A real Redis behaviour this specification deliberately does not cover."""


# --------------------------------------------------------------------------
# Snapshot shapes (canonical, comparable with ==).
# --------------------------------------------------------------------------


class GroupSnapshot(NamedTuple):
    name: bytes
    last_delivered: StreamID
    consumers: tuple[tuple[bytes, int], ...]  # sorted by name: (name, seen_ms)
    pel: tuple[tuple[StreamID, bytes, int, int], ...]  # sorted by id: (id, owner, ms, count)


class StreamSnapshot(NamedTuple):
    entries: tuple[tuple[StreamID, tuple[tuple[bytes, bytes], ...]], ...]
    last_id: StreamID
    max_deleted_id: StreamID
    entries_added: int
    groups: tuple[GroupSnapshot, ...]  # sorted by name


class KeySnapshot(NamedTuple):
    """One live key: type name, canonical value, absolute deadline (Unix ms) or None.

    Canonical values: string -> bytes; hash -> tuple of (field, value) sorted by
    field; list -> tuple; set -> frozenset; zset -> tuple of (member, score) in
    Redis order; stream -> StreamSnapshot.
    """

    type: str
    value: object
    deadline_ms: int | None


# --------------------------------------------------------------------------
# Errors, by their Redis 7.2 text (server.c createSharedObjects and the t_*.c
# call sites).
# --------------------------------------------------------------------------

WRONGTYPE = ErrorReply("WRONGTYPE Operation against a key holding the wrong kind of value")
NOT_INTEGER = ErrorReply("ERR value is not an integer or out of range")
NOT_FLOAT = ErrorReply("ERR value is not a valid float")
OVERFLOW = ErrorReply("ERR increment or decrement would overflow")
SYNTAX = ErrorReply("ERR syntax error")
NO_SUCH_KEY = ErrorReply("ERR no such key")
OUT_OF_RANGE = ErrorReply("ERR index out of range")
INVALID_STREAM_ID = ErrorReply("ERR Invalid stream ID specified as stream command argument")


def _arity_error(name: str) -> ErrorReply:
    return ErrorReply(f"ERR wrong number of arguments for '{name}' command")


def _expire_time_error(name: str) -> ErrorReply:
    return ErrorReply(f"ERR invalid expire time in '{name}' command")


def _text(data: bytes) -> str:
    """Bytes as they appear inside an error message (one char per byte)."""
    return data.decode("latin-1")


# --------------------------------------------------------------------------
# The keyspace.
# --------------------------------------------------------------------------

Value: TypeAlias = bytes | dict | list | set | Stream


@dataclass
class _Entry:
    value: Value
    deadline_ms: int | None = None


def _type_name(value: Value) -> str:
    if isinstance(value, bytes):
        return "string"
    if isinstance(value, Stream):
        return "stream"
    if isinstance(value, list):
        return "list"
    if isinstance(value, set):
        return "set"
    if isinstance(value, _ZSet):
        return "zset"
    return "hash"


class _ZSet(dict):
    """member -> score, and which of Redis's two encodings holds it.

    The encoding shows: a listpack stores an integral score as an integer, so
    a -0 score reads back as 0 there, while a skiplist keeps -0 (Redis 7
    zsetAdd via lpAppendDouble). Redis starts a sorted set as a listpack and
    converts it for good once it would exceed `LISTPACK_ENTRIES` members or
    take a member longer than `LISTPACK_VALUE` bytes (the defaults of
    zset-max-listpack-entries / -value).
    """

    LISTPACK_ENTRIES = 128
    LISTPACK_VALUE = 64
    skiplist = False

    def admit(self, member: bytes, score: float) -> None:
        """Store `score` for `member` as the current encoding would (always a
        skiplist unless the keyspace models encodings)."""
        if not self.skiplist and (
            len(member) > self.LISTPACK_VALUE
            or (member not in self and len(self) + 1 > self.LISTPACK_ENTRIES)
        ):
            self.skiplist = True
        self[member] = score if self.skiplist or score != 0 else 0.0


def _is_live(entry: _Entry, now_ms: int) -> bool:
    return entry.deadline_ms is None or now_ms <= entry.deadline_ms


def _zset_order(zset: dict[bytes, float]) -> list[tuple[bytes, float]]:
    """Redis order: score ascending (-0.0 == 0.0), ties by member bytes. No NaN exists."""
    return sorted(zset.items(), key=lambda item: (item[1], item[0]))


class ModelKeyspace:
    """One Redis database, as a client sees it. Feed `now_ms` non-decreasing."""

    def __init__(self, *, encodings: bool = False) -> None:
        self._keys: dict[bytes, _Entry] = {}
        self.now_ms = 0
        # The one place Redis's internal encodings show through a reply (a -0
        # score in a small sorted set, see `_ZSet`). Off (the specification),
        # every score keeps its sign, as kevy does; the live-Redis
        # differential turns it on to meet the server byte for byte.
        self.encodings = encodings
        #: the observed pick of the command being executed (rule 7)
        self.chosen: tuple[bytes, ...] | None = None

    # -- driving -----------------------------------------------------------

    def execute(
        self, argv: Sequence[bytes], now_ms: int, *, chosen: Sequence[bytes] | None = None
    ) -> Reply:
        """Run one command at `now_ms` (Unix ms) and return its reply.

        `chosen`: the members an SPOP removed, as the server answered (rule 7).
        """
        self.chosen = None if chosen is None else tuple(bytes(m) for m in chosen)
        self.now_ms = now_ms
        self._reap(now_ms)
        if not argv:
            # Redis never sees an empty command (the protocol parser drops it).
            raise NotModelled("an empty argv is not a command")
        args = [bytes(a) for a in argv]
        verb = args[0].upper().decode("latin-1")
        command = COMMANDS.get(verb)
        if command is None:
            return _unknown_command(args)
        if not _arity_ok(command.arity, len(args)):
            return _arity_error(command.name)
        return command.run(self, args)

    def _reap(self, now_ms: int) -> None:
        # Expired keys are absent to every command; dropping them all up front is
        # observably the same as Redis's lazy + active expiry (DBSIZE aside).
        for key in [k for k, e in self._keys.items() if not _is_live(e, now_ms)]:
            del self._keys[key]

    # -- observing ---------------------------------------------------------

    def snapshot(self, now_ms: int) -> dict[bytes, KeySnapshot]:
        """Every key live at `now_ms` -> KeySnapshot."""
        return {
            key: KeySnapshot(_type_name(e.value), _canonical(e.value), e.deadline_ms)
            for key, e in sorted(self._keys.items())
            if _is_live(e, now_ms)
        }

    def to_keyspace_json(self, now_ms: int) -> dict[str, Any]:
        """The canonical `kevy-keyspace/1` document (docs/keyspace-json.md).

        That format's own rule applies here: a key whose deadline is at or before
        `now_ms` is omitted (rule 1 of this module keeps it live at equality).
        """
        keys = []
        for key, e in sorted(self._keys.items()):
            if e.deadline_ms is not None and e.deadline_ms <= now_ms:
                continue
            keys.append(
                {
                    "key": _text(key),
                    "type": _type_name(e.value),
                    "expire_at_ms": e.deadline_ms,
                    "value": _json_value(e.value),
                }
            )
        return {"format": "kevy-keyspace/1", "keys": keys}

    # -- helpers for verbs -------------------------------------------------

    def get(self, key: bytes) -> _Entry | None:
        return self._keys.get(key)

    def lookup(self, key: bytes, type_name: str) -> _Entry | ErrorReply | None:
        """The live entry, None if absent, or WRONGTYPE if it holds another type."""
        entry = self._keys.get(key)
        if entry is not None and _type_name(entry.value) != type_name:
            return WRONGTYPE
        return entry

    def put(self, key: bytes, value: Value, deadline_ms: int | None = None) -> None:
        self._keys[key] = _Entry(value, deadline_ms)

    def delete(self, key: bytes) -> bool:
        return self._keys.pop(key, None) is not None

    def delete_if_empty(self, key: bytes) -> None:
        entry = self._keys.get(key)
        if entry is not None and not isinstance(entry.value, Stream) and not entry.value:
            del self._keys[key]

    def keys(self) -> list[bytes]:
        return list(self._keys)

    def clear(self) -> None:
        self._keys.clear()


def _canonical(value: Value) -> object:
    if isinstance(value, bytes):
        return value
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, set):
        return frozenset(value)
    if isinstance(value, _ZSet):
        return tuple(_zset_order(value))
    if isinstance(value, Stream):
        return StreamSnapshot(
            entries=tuple(value.entries.items()),
            last_id=value.last_id,
            max_deleted_id=value.max_deleted_id,
            entries_added=value.entries_added,
            groups=tuple(
                GroupSnapshot(
                    name,
                    g.last_delivered,
                    tuple(sorted(g.consumers.items())),
                    tuple(
                        (i, p.owner, p.delivery_ms, p.delivery_count)
                        for i, p in sorted(g.pel.items())
                    ),
                )
                for name, g in sorted(value.groups.items())
            ),
        )
    return tuple(sorted(value.items()))


def _total_order_key(score: float) -> int:
    """IEEE-754 totalOrder as an integer (keyspace-json.md: -0.0 sorts before 0.0)."""
    bits = struct.unpack("<q", struct.pack("<d", score))[0]
    return bits ^ 0x7FFFFFFFFFFFFFFF if bits < 0 else bits


def _json_score(score: float) -> float | str:
    if math.isnan(score):
        return "nan"
    if math.isinf(score):
        return "inf" if score > 0 else "-inf"
    return score


def _json_value(value: Value) -> object:
    if isinstance(value, bytes):
        return _text(value)
    if isinstance(value, list):
        return [_text(e) for e in value]
    if isinstance(value, set):
        return [_text(m) for m in sorted(value)]
    if isinstance(value, _ZSet):
        ordered = sorted(value.items(), key=lambda ms: (_total_order_key(ms[1]), ms[0]))
        return [[_text(m), _json_score(s)] for m, s in ordered]
    if isinstance(value, Stream):
        return {
            "entries": [
                [str(i), [[_text(f), _text(v)] for f, v in fields]]
                for i, fields in value.entries.items()
            ],
            "last_id": str(value.last_id),
            "max_deleted_id": str(value.max_deleted_id),
            "entries_added": value.entries_added,
            "groups": [
                {
                    "name": _text(name),
                    "last_delivered": str(g.last_delivered),
                    "consumers": [[_text(c), seen] for c, seen in sorted(g.consumers.items())],
                    "pel": [
                        [str(i), _text(p.owner), p.delivery_ms, p.delivery_count]
                        for i, p in sorted(g.pel.items())
                    ],
                }
                for name, g in sorted(value.groups.items())
            ],
        }
    return [[_text(f), _text(v)] for f, v in sorted(value.items())]


def canonical_reply(argv: Sequence[bytes], reply: Reply) -> Reply:
    """`reply` with Redis's unordered replies (HGETALL, SMEMBERS) put in a fixed order."""
    verb = bytes(argv[0]).upper() if argv else b""
    if isinstance(reply, list) and verb == b"SMEMBERS":
        return sorted(reply)
    if isinstance(reply, list) and verb == b"HGETALL":
        pairs = sorted(zip(reply[0::2], reply[1::2], strict=True))
        return [x for pair in pairs for x in pair]
    return reply


# --------------------------------------------------------------------------
# Dispatch.
# --------------------------------------------------------------------------

Handler: TypeAlias = Callable[[ModelKeyspace, list[bytes]], Reply]


@dataclass(frozen=True)
class Command:
    """A verb: its Redis name (lowercase, as error texts print it), arity, handler.

    Arity follows the Redis command table: n > 0 means exactly n arguments
    (verb included), n < 0 means at least -n.
    """

    name: str
    arity: int
    run: Handler


def _arity_ok(arity: int, argc: int) -> bool:
    return argc == arity if arity > 0 else argc >= -arity


def _unknown_command(args: list[bytes]) -> ErrorReply:
    # server.c commandCheckExistence: quote args until 128 chars are used.
    quoted = ""
    for arg in args[1:]:
        if len(quoted) >= 128:
            break
        quoted += "'" + _text(arg)[: 128 - len(quoted)] + "' "
    message = f"ERR unknown command '{_text(args[0])[:128]}', with args beginning with: {quoted}"
    return ErrorReply(message.replace("\r", " ").replace("\n", " "))


def _upper(arg: bytes) -> bytes:
    return arg.upper()


def _cstr(arg: bytes) -> bytes:
    """An argument as C string functions see it: the bytes before the first NUL.

    Redis matches option words with strcasecmp and prints arguments into
    error replies with %s, so "NX\\0junk" is NX and prints as "NX"; command
    and subcommand names are looked up by their full length, so they are not.
    """
    return arg.split(b"\x00", 1)[0]


def _option(arg: bytes) -> bytes:
    """An option word as strcasecmp compares it (see `_cstr`)."""
    return _cstr(arg).upper()


def _ctext(arg: bytes) -> str:
    """An argument as an error reply's %s prints it (see `_cstr`)."""
    return _text(_cstr(arg))


# Filled by model/keyspace/__init__.py with every verb module's handlers, so
# execute() dispatches through one table while the verbs live per value type.
COMMANDS: dict[str, Command] = {}
