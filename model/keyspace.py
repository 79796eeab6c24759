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
`KNOWN_DIFFERENCES` as a finding against kevy.

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
   returned) for real Redis behaviour outside this specification (SPOP's random
   choice, ZRANGE BYSCORE/BYLEX, approximate `~` trimming, MINID, LIMIT,
   ENTRIESREAD). A driver must not generate those.
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
    I64_MAX,
    I64_MIN,
    MAX_ID,
    U64_MAX,
    ZERO_ID,
    Group,
    Pending,
    Stream,
    StreamID,
    format_double,
    format_long_double_human,
    long_double_add,
    parse_double,
    parse_ll,
    parse_long_double,
    parse_stream_id,
)

__all__ = [
    "COMMANDS",
    "KNOWN_DIFFERENCES",
    "REDIS_VERSION",
    "ErrorReply",
    "GroupSnapshot",
    "KeySnapshot",
    "KnownDifference",
    "ModelKeyspace",
    "NotModelled",
    "Reply",
    "StreamSnapshot",
    "canonical_reply",
]

REDIS_VERSION = "7.2"


@dataclass(frozen=True)
class ErrorReply:
    """An error reply; `message` is the full text, e.g. "ERR syntax error"."""

    message: str


Reply: TypeAlias = int | bytes | str | list[Any] | ErrorReply | None


class NotModelled(NotImplementedError):
    """A real Redis behaviour this specification deliberately does not cover."""


# --------------------------------------------------------------------------
# Known differences between Redis 7.2 and kevy 1.17 (per docs/SPEC.md).
# --------------------------------------------------------------------------


class KnownDifference(NamedTuple):
    verb: str
    redis7: str
    kevy117: str


KNOWN_DIFFERENCES: tuple[KnownDifference, ...] = (
    KnownDifference(
        "(all keys) expiry boundary",
        "a key is expired only when now > deadline (db.c keyIsExpired); live at now == deadline",
        "expired iff deadline <= now (docs/SPEC.md §6.2)",
    ),
    KnownDifference(
        "SET",
        "honours EX/PX/EXAT/PXAT/NX/XX/KEEPTTL/GET; bad combinations -> ERR syntax error; "
        "EX/PX <= 0 -> ERR invalid expire time in 'set' command",
        "replay ignores every option: the write is unconditional and clears the TTL "
        "(docs/SPEC.md §5)",
    ),
    KnownDifference(
        "INCR/DECR/INCRBY/DECRBY/HINCRBY (integer grammar)",
        "string2ll: rejects '+5', '007', '-0' (stored value and argument) with "
        "'ERR value is not an integer or out of range' / 'ERR hash value is not an integer'",
        "SINT accepts an optional '+' and leading zeros (docs/SPEC.md §0, §6.3)",
    ),
    KnownDifference(
        "DECRBY key -9223372036854775808",
        "ERR decrement would overflow; nothing changes",
        "the negation wraps to -2^63, which is then added (docs/SPEC.md §5)",
    ),
    KnownDifference(
        "INCRBYFLOAT (arithmetic and printing)",
        "x86-64 long double sum printed with %.17Lf, zeros trimmed: 0.1 + 0.2 -> '0.3'",
        "binary64 sum printed with DISPLAYF: 0.1 + 0.2 -> '0.30000000000000004' "
        "(docs/SPEC.md §6.3)",
    ),
    KnownDifference(
        "INCRBYFLOAT (grammar)",
        "strtold: hex floats ('0x10') accepted; any leading/trailing space in the stored value "
        "rejected; overflow/underflow-to-zero rejected",
        "FLOAT grammar: no hex; stored value trimmed of Unicode whitespace; overflow -> inf "
        "(then rejected as non-finite), underflow -> 0 accepted (docs/SPEC.md §0, §6.3)",
    ),
    KnownDifference(
        "EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT (negative time)",
        "accepted; the deadline is in the past so the key is deleted, reply 1",
        "negative t fails UINT and the command is ignored: the key survives (docs/SPEC.md §5)",
    ),
    KnownDifference(
        "EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT (NX/XX/GT/LT)",
        "conditions honoured; unknown option -> ERR Unsupported option <opt>",
        "extra arguments ignored: the TTL is set unconditionally (docs/SPEC.md §5)",
    ),
    KnownDifference(
        "EXPIRE/EXPIREAT (overflow)",
        "seconds * 1000 or base + t overflowing i64 -> ERR invalid expire time in '<cmd>' command",
        "t * 1000 saturates (docs/SPEC.md §5)",
    ),
    KnownDifference(
        "LPOP/RPOP key count",
        "count must be a non-negative integer ('ERR value is out of range, must be positive'); "
        "with a count the reply is an array (nil array on a missing key)",
        "count absent or not SINT -> 1; negative -> 0 (docs/SPEC.md §5)",
    ),
    KnownDifference(
        "HSET with an odd number of field/value arguments",
        "ERR wrong number of arguments for 'hset' command; nothing written",
        "complete pairs are written, the unpaired tail ignored (docs/SPEC.md §5)",
    ),
    KnownDifference(
        "ZADD/ZINCRBY (NaN and bad scores)",
        "one unparsable score (or 'nan') rejects the whole command with "
        "'ERR value is not a valid float'; inf + -inf -> 'ERR resulting score is not a number "
        "(NaN)'",
        "a bad score skips only its pair; NaN scores are stored; inf + -inf stores NaN "
        "(docs/SPEC.md §5, §6.7)",
    ),
    KnownDifference(
        "ZADD flags NX/XX/GT/LT/CH/INCR",
        "recognised",
        "not recognised; consumed as scores (which fail FLOAT) (docs/SPEC.md §5)",
    ),
    KnownDifference(
        "ZADD score grammar",
        "strtod: hex ('0x1p3') accepted; '1e400' and '1e-400' rejected (ERANGE)",
        "FLOAT: no hex; overflow -> +-inf, underflow -> 0 (docs/SPEC.md §0)",
    ),
    KnownDifference(
        "sorted-set order of -0.0 and 0.0",
        "-0.0 == 0.0: equal scores, ties broken by member; ZADD 0 (or ZINCRBY 0) on a member "
        "at -0.0 is not an update (the stored -0.0 stays)",
        "IEEE total order: -0.0 < 0.0, distinct scores (docs/SPEC.md §6.7)",
    ),
    KnownDifference(
        "XADD ... MAXLEN n (and XTRIM)",
        "trimming does not touch max_deleted_entry_id (t_stream.c streamTrim); only XDEL does",
        "entries removed by MAXLEN/XTRIM raise max_deleted_id (docs/SPEC.md §6.8); the rewrite's "
        "'XADD key MAXLEN 0 <last> x x' relies on it (docs/SPEC.md §4.3)",
    ),
    KnownDifference(
        "XCLAIM ... TIME t",
        "t < 0 or t > now is replaced by now; the claiming consumer is created if missing "
        "and its seen-time set to now",
        "installs (owner, t, n) unconditionally (docs/SPEC.md §6.8)",
    ),
    KnownDifference(
        "DEL/HDEL/SREM/ZREM/LPUSH/... with missing arguments",
        "ERR wrong number of arguments for '<cmd>' command",
        "ignored (docs/SPEC.md §5)",
    ),
    KnownDifference(
        "errors in general",
        "returned to the client; the command has no effect",
        "replay discards errors silently (docs/SPEC.md §5); same state, no reply",
    ),
    KnownDifference(
        "SPOP",
        "removes random members (not modelled: a specification cannot say which)",
        "removes the first members in internal iteration order (docs/SPEC.md §5)",
    ),
    KnownDifference(
        "DBSIZE",
        "counts keys still in the dict, including expired ones not yet reaped",
        "same, and snapshot load inserts already-expired keys that count (docs/SPEC.md §3.6)",
    ),
)


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
    """member -> score. A dict subclass only so that the type is distinguishable."""


def _is_live(entry: _Entry, now_ms: int) -> bool:
    return entry.deadline_ms is None or now_ms <= entry.deadline_ms


def _zset_order(zset: dict[bytes, float]) -> list[tuple[bytes, float]]:
    """Redis order: score ascending (-0.0 == 0.0), ties by member bytes. No NaN exists."""
    return sorted(zset.items(), key=lambda item: (item[1], item[0]))


class ModelKeyspace:
    """One Redis database, as a client sees it. Feed `now_ms` non-decreasing."""

    def __init__(self) -> None:
        self._keys: dict[bytes, _Entry] = {}
        self.now_ms = 0

    # -- driving -----------------------------------------------------------

    def execute(self, argv: Sequence[bytes], now_ms: int) -> Reply:
        """Run one command at `now_ms` (Unix ms) and return its reply."""
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


# --------------------------------------------------------------------------
# Strings (t_string.c).
# --------------------------------------------------------------------------


def _parse_set_options(args: list[bytes]) -> tuple[set[str], bytes | None] | ErrorReply:
    """parseExtendedStringArgumentsOrReply for SET: flags and the expire argument."""
    flags: set[str] = set()
    expire: bytes | None = None
    ttl_flags = {"EX", "PX", "EXAT", "PXAT"}
    j = 3
    while j < len(args):
        opt = _upper(args[j]).decode("latin-1")
        has_next = j + 1 < len(args)
        if opt == "NX" and "XX" not in flags:
            flags.add("NX")
        elif opt == "XX" and "NX" not in flags:
            flags.add("XX")
        elif opt == "GET":
            flags.add("GET")
        elif opt == "KEEPTTL" and not flags & ttl_flags:
            flags.add("KEEPTTL")
        elif opt in ttl_flags and "KEEPTTL" not in flags and not (flags & ttl_flags) - {opt}:
            if not has_next:
                return SYNTAX
            flags.add(opt)
            expire = args[j + 1]  # a repeated EX wins with its last value
            j += 1
        else:
            return SYNTAX
        j += 1
    return flags, expire


def _set(db: ModelKeyspace, args: list[bytes]) -> Reply:
    key, value = args[1], args[2]
    parsed = _parse_set_options(args)
    if isinstance(parsed, ErrorReply):
        return parsed
    flags, expire = parsed
    deadline: int | None = None
    if expire is not None:
        amount = parse_ll(expire)
        if amount is None:
            return NOT_INTEGER
        in_seconds = bool(flags & {"EX", "EXAT"})
        if amount <= 0 or (in_seconds and amount > I64_MAX // 1000):
            return _expire_time_error("set")
        deadline = amount * 1000 if in_seconds else amount
        if flags & {"EX", "PX"}:
            deadline += db.now_ms
            if deadline > I64_MAX:
                return _expire_time_error("set")
    old = db.get(key)
    reply: Reply = "OK"
    if "GET" in flags:
        if old is not None and not isinstance(old.value, bytes):
            return WRONGTYPE
        reply = old.value if old is not None else None
    if ("NX" in flags and old is not None) or ("XX" in flags and old is None):
        return reply if "GET" in flags else None
    if deadline is not None:
        keep = deadline
    elif "KEEPTTL" in flags and old is not None:
        keep = old.deadline_ms
    else:
        keep = None
    # A SET ... EXAT/PXAT in the past stores a key that is already expired.
    db.put(key, value, keep)
    return reply


def _get(db: ModelKeyspace, args: list[bytes]) -> Reply:
    entry = db.lookup(args[1], "string")
    if isinstance(entry, ErrorReply):
        return entry
    return None if entry is None else entry.value


def _getset(db: ModelKeyspace, args: list[bytes]) -> Reply:
    old = _get(db, args)
    if isinstance(old, ErrorReply):
        return old
    db.put(args[1], args[2])  # setKey without KEEPTTL: the TTL goes
    return old


def _getdel(db: ModelKeyspace, args: list[bytes]) -> Reply:
    old = _get(db, args)
    if isinstance(old, bytes):
        db.delete(args[1])
    return old


def _append(db: ModelKeyspace, args: list[bytes]) -> Reply:
    entry = db.lookup(args[1], "string")
    if isinstance(entry, ErrorReply):
        return entry
    if entry is None:
        db.put(args[1], args[2])
        return len(args[2])
    entry.value = entry.value + args[2]  # in place: the TTL stays
    return len(entry.value)


def _strlen(db: ModelKeyspace, args: list[bytes]) -> Reply:
    entry = db.lookup(args[1], "string")
    if isinstance(entry, ErrorReply):
        return entry
    return 0 if entry is None else len(entry.value)


def _incr_by(db: ModelKeyspace, key: bytes, delta: int) -> Reply:
    """incrDecrCommand: the stored value must be a string2ll integer."""
    entry = db.lookup(key, "string")
    if isinstance(entry, ErrorReply):
        return entry
    current = 0 if entry is None else parse_ll(entry.value)
    if current is None:
        return NOT_INTEGER
    result = current + delta
    if not I64_MIN <= result <= I64_MAX:
        return OVERFLOW
    if entry is None:
        db.put(key, str(result).encode())
    else:
        entry.value = str(result).encode()  # the TTL stays
    return result


def _incr(db: ModelKeyspace, args: list[bytes]) -> Reply:
    return _incr_by(db, args[1], 1)


def _decr(db: ModelKeyspace, args: list[bytes]) -> Reply:
    return _incr_by(db, args[1], -1)


def _incrby(db: ModelKeyspace, args: list[bytes]) -> Reply:
    delta = parse_ll(args[2])  # parsed before the key is looked at
    if delta is None:
        return NOT_INTEGER
    return _incr_by(db, args[1], delta)


def _decrby(db: ModelKeyspace, args: list[bytes]) -> Reply:
    delta = parse_ll(args[2])
    if delta is None:
        return NOT_INTEGER
    if delta == I64_MIN:
        return ErrorReply("ERR decrement would overflow")
    return _incr_by(db, args[1], -delta)


def _incrbyfloat(db: ModelKeyspace, args: list[bytes]) -> Reply:
    entry = db.lookup(args[1], "string")
    if isinstance(entry, ErrorReply):
        return entry
    current = parse_long_double(b"0" if entry is None else entry.value)
    if current is None:
        return NOT_FLOAT
    delta = parse_long_double(args[2])
    if delta is None:
        return NOT_FLOAT
    total = long_double_add(current, delta)
    if total is None:
        return ErrorReply("ERR increment would produce NaN or Infinity")
    text = format_long_double_human(total)
    if entry is None:
        db.put(args[1], text)
    else:
        entry.value = text  # the TTL stays
    return text


# --------------------------------------------------------------------------
# Keys and expiry (db.c, expire.c).
# --------------------------------------------------------------------------


def _del(db: ModelKeyspace, args: list[bytes]) -> Reply:
    return sum(1 for key in args[1:] if db.delete(key))


def _exists(db: ModelKeyspace, args: list[bytes]) -> Reply:
    return sum(1 for key in args[1:] if db.get(key) is not None)  # repeats count again


def _type(db: ModelKeyspace, args: list[bytes]) -> Reply:
    entry = db.get(args[1])
    return "none" if entry is None else _type_name(entry.value)


def _expire_generic(db: ModelKeyspace, args: list[bytes], base_ms: int, seconds: bool) -> Reply:
    """expireGenericCommand: options, then the time, then the key."""
    name = _text(args[0]).lower()
    flags: set[str] = set()
    for arg in args[3:]:
        opt = _upper(arg).decode("latin-1")
        if opt not in ("NX", "XX", "GT", "LT"):
            return ErrorReply(f"ERR Unsupported option {_text(arg)}")
        flags.add(opt)
    if "NX" in flags and flags & {"XX", "GT", "LT"}:
        return ErrorReply("ERR NX and XX, GT or LT options at the same time are not compatible")
    if {"GT", "LT"} <= flags:
        return ErrorReply("ERR GT and LT options at the same time are not compatible")
    when = parse_ll(args[2])
    if when is None:
        return NOT_INTEGER
    if seconds:
        if when > I64_MAX // 1000 or when < -(I64_MAX // 1000):
            return _expire_time_error(name)
        when *= 1000
    if when > I64_MAX - base_ms:
        return _expire_time_error(name)
    when += base_ms
    entry = db.get(args[1])
    if entry is None:
        return 0
    current = entry.deadline_ms
    if "NX" in flags and current is not None:
        return 0
    if "XX" in flags and current is None:
        return 0
    if "GT" in flags and (current is None or when <= current):
        return 0  # no TTL counts as an infinite one
    if "LT" in flags and current is not None and when >= current:
        return 0
    if when <= db.now_ms:
        db.delete(args[1])  # checkAlreadyExpired: deleted at once
    else:
        entry.deadline_ms = when
    return 1


def _expire(db: ModelKeyspace, args: list[bytes]) -> Reply:
    return _expire_generic(db, args, db.now_ms, seconds=True)


def _pexpire(db: ModelKeyspace, args: list[bytes]) -> Reply:
    return _expire_generic(db, args, db.now_ms, seconds=False)


def _expireat(db: ModelKeyspace, args: list[bytes]) -> Reply:
    return _expire_generic(db, args, 0, seconds=True)


def _pexpireat(db: ModelKeyspace, args: list[bytes]) -> Reply:
    return _expire_generic(db, args, 0, seconds=False)


def _persist(db: ModelKeyspace, args: list[bytes]) -> Reply:
    entry = db.get(args[1])
    if entry is None or entry.deadline_ms is None:
        return 0
    entry.deadline_ms = None
    return 1


def _ttl_generic(db: ModelKeyspace, args: list[bytes], in_ms: bool) -> Reply:
    entry = db.get(args[1])
    if entry is None:
        return -2
    if entry.deadline_ms is None:
        return -1
    remaining = max(entry.deadline_ms - db.now_ms, 0)
    return remaining if in_ms else (remaining + 500) // 1000  # TTL rounds to nearest


def _ttl(db: ModelKeyspace, args: list[bytes]) -> Reply:
    return _ttl_generic(db, args, in_ms=False)


def _pttl(db: ModelKeyspace, args: list[bytes]) -> Reply:
    return _ttl_generic(db, args, in_ms=True)


def _flush(db: ModelKeyspace, args: list[bytes]) -> Reply:
    # One database, so FLUSHDB and FLUSHALL mean the same here.
    if len(args) == 2 and _upper(args[1]) in (b"SYNC", b"ASYNC"):
        pass
    elif len(args) != 1:
        return SYNTAX
    db.clear()
    return "OK"


def _dbsize(db: ModelKeyspace, args: list[bytes]) -> Reply:
    return len(db.keys())


# --------------------------------------------------------------------------
# Hashes (t_hash.c).
# --------------------------------------------------------------------------


def _hset(db: ModelKeyspace, args: list[bytes]) -> Reply:
    if len(args) % 2 == 1:
        return _arity_error("hset")
    entry = db.lookup(args[1], "hash")
    if isinstance(entry, ErrorReply):
        return entry
    if entry is None:
        db.put(args[1], {})
        entry = db.get(args[1])
    fields: dict[bytes, bytes] = entry.value
    created = 0
    for f, v in zip(args[2::2], args[3::2], strict=True):
        created += f not in fields
        fields[f] = v
    return created


def _hget(db: ModelKeyspace, args: list[bytes]) -> Reply:
    entry = db.lookup(args[1], "hash")
    if isinstance(entry, ErrorReply):
        return entry
    return None if entry is None else entry.value.get(args[2])


def _hdel(db: ModelKeyspace, args: list[bytes]) -> Reply:
    entry = db.lookup(args[1], "hash")
    if isinstance(entry, ErrorReply) or entry is None:
        return entry if entry is not None else 0
    removed = sum(1 for f in args[2:] if entry.value.pop(f, None) is not None)
    db.delete_if_empty(args[1])
    return removed


def _hincrby(db: ModelKeyspace, args: list[bytes]) -> Reply:
    delta = parse_ll(args[3])  # parsed before the key is looked at
    if delta is None:
        return NOT_INTEGER
    entry = db.lookup(args[1], "hash")
    if isinstance(entry, ErrorReply):
        return entry
    stored = None if entry is None else entry.value.get(args[2])
    current = 0 if stored is None else parse_ll(stored)
    if current is None:
        return ErrorReply("ERR hash value is not an integer")
    result = current + delta
    if not I64_MIN <= result <= I64_MAX:
        return OVERFLOW
    if entry is None:
        db.put(args[1], {})
        entry = db.get(args[1])
    entry.value[args[2]] = str(result).encode()
    return result


def _hgetall(db: ModelKeyspace, args: list[bytes]) -> Reply:
    entry = db.lookup(args[1], "hash")
    if isinstance(entry, ErrorReply):
        return entry
    if entry is None:
        return []
    return [x for pair in entry.value.items() for x in pair]


def _hlen(db: ModelKeyspace, args: list[bytes]) -> Reply:
    entry = db.lookup(args[1], "hash")
    if isinstance(entry, ErrorReply):
        return entry
    return 0 if entry is None else len(entry.value)


# --------------------------------------------------------------------------
# Lists (t_list.c).
# --------------------------------------------------------------------------


def _push(db: ModelKeyspace, args: list[bytes], head: bool) -> Reply:
    entry = db.lookup(args[1], "list")
    if isinstance(entry, ErrorReply):
        return entry
    if entry is None:
        db.put(args[1], [])
        entry = db.get(args[1])
    items: list[bytes] = entry.value
    for element in args[2:]:
        if head:
            items.insert(0, element)  # LPUSH a b c leaves c b a
        else:
            items.append(element)
    return len(items)


def _lpush(db: ModelKeyspace, args: list[bytes]) -> Reply:
    return _push(db, args, head=True)


def _rpush(db: ModelKeyspace, args: list[bytes]) -> Reply:
    return _push(db, args, head=False)


def _pop(db: ModelKeyspace, args: list[bytes], head: bool) -> Reply:
    """popGenericCommand: without count a bulk reply, with count an array reply."""
    if len(args) > 3:
        return _arity_error(_text(args[0]).lower())
    count: int | None = None
    if len(args) == 3:
        # getPositiveLongFromObjectOrReply passes its "must be positive" text down
        # to getLongLongFromObjectOrReply (object.c), so a count that is not an
        # integer gets that text too, not "not an integer".
        count = parse_ll(args[2])
        if count is None or count < 0:
            return ErrorReply("ERR value is out of range, must be positive")
    entry = db.lookup(args[1], "list")
    if isinstance(entry, ErrorReply):
        return entry
    if entry is None:
        return None  # nil bulk, or nil array when a count was given
    items: list[bytes] = entry.value
    if count is None:
        element = items.pop(0) if head else items.pop()
        db.delete_if_empty(args[1])
        return element
    taken = min(count, len(items))
    if head:
        popped = items[:taken]
        del items[:taken]
    else:
        popped = items[len(items) - taken :][::-1]  # RPOP answers tail first
        del items[len(items) - taken :]
    db.delete_if_empty(args[1])
    return popped


def _lpop(db: ModelKeyspace, args: list[bytes]) -> Reply:
    return _pop(db, args, head=True)


def _rpop(db: ModelKeyspace, args: list[bytes]) -> Reply:
    return _pop(db, args, head=False)


def _lset(db: ModelKeyspace, args: list[bytes]) -> Reply:
    entry = db.lookup(args[1], "list")
    if isinstance(entry, ErrorReply):
        return entry
    if entry is None:
        return NO_SUCH_KEY  # the key is checked before the index is parsed
    index = parse_ll(args[2])
    if index is None:
        return NOT_INTEGER
    items: list[bytes] = entry.value
    position = index + len(items) if index < 0 else index
    if not 0 <= position < len(items):
        return OUT_OF_RANGE
    items[position] = args[3]
    return "OK"


def _lrem(db: ModelKeyspace, args: list[bytes]) -> Reply:
    count = parse_ll(args[2])
    if count is None:
        return NOT_INTEGER
    entry = db.lookup(args[1], "list")
    if isinstance(entry, ErrorReply) or entry is None:
        return entry if entry is not None else 0
    items: list[bytes] = entry.value
    limit = abs(count) if count else len(items)
    order = range(len(items) - 1, -1, -1) if count < 0 else range(len(items))
    doomed = [i for i in order if items[i] == args[3]][:limit]
    for i in sorted(doomed, reverse=True):
        del items[i]
    db.delete_if_empty(args[1])
    return len(doomed)


def _resolve_range(start: int, end: int, length: int) -> range:
    """The LRANGE/LTRIM/ZRANGE index rule: negatives from the end, then clamp."""
    if start < 0:
        start += length
    if end < 0:
        end += length
    start = max(start, 0)
    if start > end or start >= length:
        return range(0)
    return range(start, min(end, length - 1) + 1)


def _ltrim(db: ModelKeyspace, args: list[bytes]) -> Reply:
    start, end = parse_ll(args[2]), parse_ll(args[3])
    if start is None or end is None:
        return NOT_INTEGER
    entry = db.lookup(args[1], "list")
    if isinstance(entry, ErrorReply) or entry is None:
        return entry if entry is not None else "OK"
    keep = _resolve_range(start, end, len(entry.value))
    entry.value[:] = [entry.value[i] for i in keep]
    db.delete_if_empty(args[1])
    return "OK"


def _lrange(db: ModelKeyspace, args: list[bytes]) -> Reply:
    start, end = parse_ll(args[2]), parse_ll(args[3])
    if start is None or end is None:
        return NOT_INTEGER
    entry = db.lookup(args[1], "list")
    if isinstance(entry, ErrorReply) or entry is None:
        return entry if entry is not None else []
    return [entry.value[i] for i in _resolve_range(start, end, len(entry.value))]


def _llen(db: ModelKeyspace, args: list[bytes]) -> Reply:
    entry = db.lookup(args[1], "list")
    if isinstance(entry, ErrorReply):
        return entry
    return 0 if entry is None else len(entry.value)


# --------------------------------------------------------------------------
# Sets (t_set.c). SPOP/SRANDMEMBER are not modelled: Redis chooses at random.
# --------------------------------------------------------------------------


def _sadd(db: ModelKeyspace, args: list[bytes]) -> Reply:
    entry = db.lookup(args[1], "set")
    if isinstance(entry, ErrorReply):
        return entry
    if entry is None:
        db.put(args[1], set())
        entry = db.get(args[1])
    before = len(entry.value)
    entry.value.update(args[2:])
    return len(entry.value) - before


def _srem(db: ModelKeyspace, args: list[bytes]) -> Reply:
    entry = db.lookup(args[1], "set")
    if isinstance(entry, ErrorReply) or entry is None:
        return entry if entry is not None else 0
    removed = 0
    for member in args[2:]:
        if member in entry.value:
            entry.value.remove(member)
            removed += 1
    db.delete_if_empty(args[1])
    return removed


def _smembers(db: ModelKeyspace, args: list[bytes]) -> Reply:
    entry = db.lookup(args[1], "set")
    if isinstance(entry, ErrorReply):
        return entry
    return [] if entry is None else sorted(entry.value)


def _scard(db: ModelKeyspace, args: list[bytes]) -> Reply:
    entry = db.lookup(args[1], "set")
    if isinstance(entry, ErrorReply):
        return entry
    return 0 if entry is None else len(entry.value)


def _sismember(db: ModelKeyspace, args: list[bytes]) -> Reply:
    entry = db.lookup(args[1], "set")
    if isinstance(entry, ErrorReply):
        return entry
    return int(entry is not None and args[2] in entry.value)


def _spop(db: ModelKeyspace, args: list[bytes]) -> Reply:
    raise NotModelled("SPOP removes random members; a specification cannot say which")


# --------------------------------------------------------------------------
# Sorted sets (t_zset.c).
# --------------------------------------------------------------------------

NAN_SCORE = ErrorReply("ERR resulting score is not a number (NaN)")


def _zadd_generic(db: ModelKeyspace, args: list[bytes], incr: bool) -> Reply:
    """zaddGenericCommand, shared by ZADD and ZINCRBY (which also parses the flags)."""
    flags: set[str] = {"INCR"} if incr else set()
    index = 2
    while index < len(args):
        opt = _upper(args[index]).decode("latin-1")
        if opt not in ("NX", "XX", "CH", "INCR", "GT", "LT"):
            break
        flags.add(opt)
        index += 1
    rest = args[index:]
    if not rest or len(rest) % 2:
        return SYNTAX
    if {"NX", "XX"} <= flags:
        return ErrorReply("ERR XX and NX options at the same time are not compatible")
    if ("NX" in flags and flags & {"GT", "LT"}) or {"GT", "LT"} <= flags:
        return ErrorReply("ERR GT, LT, and/or NX options at the same time are not compatible")
    if "INCR" in flags and len(rest) > 2:
        return ErrorReply("ERR INCR option supports a single increment-element pair")
    pairs: list[tuple[float, bytes]] = []
    for score_text, member in zip(rest[0::2], rest[1::2], strict=True):
        score = parse_double(score_text)
        if score is None:
            return NOT_FLOAT  # all scores are parsed before anything changes
        pairs.append((score, member))
    entry = db.lookup(args[1], "zset")
    if isinstance(entry, ErrorReply):
        return entry
    if entry is None:
        if "XX" in flags:
            return None if "INCR" in flags else 0
        db.put(args[1], _ZSet())
        entry = db.get(args[1])
    zset: dict[bytes, float] = entry.value
    added = updated = processed = 0
    last_score = 0.0
    for score, member in pairs:
        if member in zset:
            if "NX" in flags:
                continue
            current = zset[member]
            if "INCR" in flags:
                score = score + current
                if math.isnan(score):
                    return NAN_SCORE
            if ("LT" in flags and score >= current) or ("GT" in flags and score <= current):
                continue
            if score != current:  # -0.0 == 0.0: not an update, the old zero stays
                zset[member] = score
                updated += 1
        elif "XX" in flags:
            continue
        else:
            zset[member] = score
            added += 1
        processed += 1
        last_score = score
    if "INCR" in flags:
        return format_double(last_score) if processed else None
    return added + updated if "CH" in flags else added


def _zadd(db: ModelKeyspace, args: list[bytes]) -> Reply:
    return _zadd_generic(db, args, incr=False)


def _zincrby(db: ModelKeyspace, args: list[bytes]) -> Reply:
    return _zadd_generic(db, args, incr=True)


def _zrem(db: ModelKeyspace, args: list[bytes]) -> Reply:
    entry = db.lookup(args[1], "zset")
    if isinstance(entry, ErrorReply) or entry is None:
        return entry if entry is not None else 0
    removed = sum(1 for m in args[2:] if entry.value.pop(m, None) is not None)
    db.delete_if_empty(args[1])
    return removed


def _zscore(db: ModelKeyspace, args: list[bytes]) -> Reply:
    entry = db.lookup(args[1], "zset")
    if isinstance(entry, ErrorReply):
        return entry
    if entry is None or args[2] not in entry.value:
        return None
    return format_double(entry.value[args[2]])


def _zcard(db: ModelKeyspace, args: list[bytes]) -> Reply:
    entry = db.lookup(args[1], "zset")
    if isinstance(entry, ErrorReply):
        return entry
    return 0 if entry is None else len(entry.value)


def _zrange(db: ModelKeyspace, args: list[bytes]) -> Reply:
    """ZRANGE key start stop [REV] [WITHSCORES] (rank ranges only)."""
    withscores = rev = limit = False
    j = 4
    while j < len(args):
        opt = _upper(args[j])
        if opt == b"WITHSCORES":
            withscores = True
        elif opt == b"LIMIT" and len(args) - j - 1 >= 2:
            if parse_ll(args[j + 1]) is None or parse_ll(args[j + 2]) is None:
                return NOT_INTEGER
            limit = True
            j += 2
        elif opt == b"REV" and not rev:
            rev = True
        elif opt in (b"BYSCORE", b"BYLEX"):
            raise NotModelled("ZRANGE BYSCORE/BYLEX is outside this specification")
        else:
            return SYNTAX
        j += 1
    if limit:
        return ErrorReply(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
        )
    start, end = parse_ll(args[2]), parse_ll(args[3])
    if start is None or end is None:
        return NOT_INTEGER
    entry = db.get(args[1])
    if entry is None:
        return []  # a missing key answers before the type check
    if not isinstance(entry.value, _ZSet):
        return WRONGTYPE
    ordered = _zset_order(entry.value)
    if rev:
        ordered.reverse()
    reply: list[Any] = []
    for i in _resolve_range(start, end, len(ordered)):
        member, score = ordered[i]
        reply.append(member)
        if withscores:
            reply.append(format_double(score))
    return reply


# --------------------------------------------------------------------------
# Streams (t_stream.c).
# --------------------------------------------------------------------------


def _lookup_stream(db: ModelKeyspace, key: bytes) -> Stream | ErrorReply | None:
    entry = db.lookup(key, "stream")
    if isinstance(entry, ErrorReply) or entry is None:
        return entry
    return entry.value


def _next_id(last: StreamID, now_ms: int) -> StreamID:
    """streamNextID: the clock if it is ahead, else the last ID plus one."""
    if now_ms > last.ms:
        return StreamID(now_ms, 0)
    if last.seq == U64_MAX:
        return StreamID(last.ms + 1, 0)
    return StreamID(last.ms, last.seq + 1)


def _xadd(db: ModelKeyspace, args: list[bytes]) -> Reply:
    maxlen: int | None = None
    nomkstream = False
    given: tuple[StreamID, bool] | None = None
    i = 2
    while i < len(args):
        more = len(args) - 1 - i
        opt = _upper(args[i])
        if args[i] == b"*":
            break
        if opt == b"MAXLEN" and more:
            if maxlen is not None:
                return ErrorReply(
                    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
                )
            if more >= 2 and args[i + 1] == b"~":
                raise NotModelled("approximate trimming depends on Redis's node layout")
            if more >= 2 and args[i + 1] == b"=":
                i += 1
            value = parse_ll(args[i + 1])
            if value is None:
                return NOT_INTEGER
            if value < 0:
                return ErrorReply("ERR The MAXLEN argument must be >= 0.")
            maxlen = value
            i += 1
        elif opt in (b"MINID", b"LIMIT") and more:
            raise NotModelled(f"XADD {_text(opt)} is outside this specification")
        elif opt == b"NOMKSTREAM":
            nomkstream = True
        else:
            given = parse_stream_id(args[i], missing_seq=0, strict=True, allow_auto_seq=True)
            if given is None:
                return INVALID_STREAM_ID
            break
        i += 1
    fields = args[i + 1 :]
    if len(fields) < 2 or len(fields) % 2:
        return _arity_error("xadd")
    if given is not None and given[1] and given[0] == ZERO_ID:
        return ErrorReply("ERR The ID specified in XADD must be greater than 0-0")
    stream = _lookup_stream(db, args[1])
    if isinstance(stream, ErrorReply):
        return stream
    if stream is None:
        if nomkstream:
            return None
        stream = Stream()
        db.put(args[1], stream)
    last = stream.last_id
    if last == MAX_ID:
        return ErrorReply(
            "ERR The stream has exhausted the last possible ID, unable to add more items"
        )
    if given is None:
        new_id = _next_id(last, db.now_ms)
    elif given[1]:
        new_id = given[0]
    elif given[0].ms == last.ms:  # <ms>-*: continue the sequence of that millisecond
        if last.seq == U64_MAX:
            return ErrorReply(
                "ERR The ID specified in XADD is equal or smaller than the target stream top item"
            )
        new_id = StreamID(last.ms, last.seq + 1)
    else:
        new_id = given[0]
    if new_id <= last:
        return ErrorReply(
            "ERR The ID specified in XADD is equal or smaller than the target stream top item"
        )
    stream.entries[new_id] = tuple(zip(fields[0::2], fields[1::2], strict=True))
    stream.last_id = new_id
    stream.entries_added += 1
    if maxlen is not None:
        # Exact trimming from the head. Redis's streamTrim leaves
        # max_deleted_id alone (only XDEL moves it); PEL rows become tombstones.
        while len(stream.entries) > maxlen:
            del stream.entries[next(iter(stream.entries))]
    return new_id.to_bytes()


def _xdel(db: ModelKeyspace, args: list[bytes]) -> Reply:
    stream = _lookup_stream(db, args[1])
    if isinstance(stream, ErrorReply) or stream is None:
        return stream if stream is not None else 0
    ids = []
    for arg in args[2:]:  # every ID is validated before any is deleted
        parsed = parse_stream_id(arg, missing_seq=0, strict=True, allow_auto_seq=False)
        if parsed is None:
            return INVALID_STREAM_ID
        ids.append(parsed[0])
    deleted = 0
    for entry_id in ids:
        if stream.entries.pop(entry_id, None) is not None:
            stream.max_deleted_id = max(stream.max_deleted_id, entry_id)
            deleted += 1
    return deleted


def _xlen(db: ModelKeyspace, args: list[bytes]) -> Reply:
    stream = _lookup_stream(db, args[1])
    if isinstance(stream, ErrorReply):
        return stream
    return 0 if stream is None else len(stream.entries)


def _entry_reply(entry_id: StreamID, fields: tuple[tuple[bytes, bytes], ...]) -> list[Any]:
    return [entry_id.to_bytes(), [x for pair in fields for x in pair]]


def _interval_id(arg: bytes, missing_seq: int) -> tuple[StreamID, bool] | None:
    """streamParseIntervalIDOrReply: `(id` is exclusive (and strict)."""
    if len(arg) > 1 and arg[:1] == b"(":
        parsed = parse_stream_id(
            arg[1:], missing_seq=missing_seq, strict=True, allow_auto_seq=False
        )
        return None if parsed is None else (parsed[0], True)
    parsed = parse_stream_id(arg, missing_seq=missing_seq, strict=False, allow_auto_seq=False)
    return None if parsed is None else (parsed[0], False)


def _xrange(db: ModelKeyspace, args: list[bytes]) -> Reply:
    start = _interval_id(args[2], 0)
    if start is None:
        return INVALID_STREAM_ID
    low = start[0]
    if start[1]:
        if low == MAX_ID:
            return ErrorReply("ERR invalid start ID for the interval")
        low = StreamID(low.ms + 1, 0) if low.seq == U64_MAX else StreamID(low.ms, low.seq + 1)
    end = _interval_id(args[3], U64_MAX)
    if end is None:
        return INVALID_STREAM_ID
    high = end[0]
    if end[1]:
        if high == ZERO_ID:
            return ErrorReply("ERR invalid end ID for the interval")
        high = StreamID(high.ms - 1, U64_MAX) if high.seq == 0 else StreamID(high.ms, high.seq - 1)
    count = -1
    j = 4
    while j < len(args):
        if _upper(args[j]) == b"COUNT" and j + 1 < len(args):
            value = parse_ll(args[j + 1])
            if value is None:
                return NOT_INTEGER
            count = max(value, 0)
            j += 2
        else:
            return SYNTAX
    stream = _lookup_stream(db, args[1])
    if isinstance(stream, ErrorReply) or stream is None:
        return stream if stream is not None else []
    if count == 0:
        return None  # COUNT 0 answers a nil array
    reply = [_entry_reply(i, f) for i, f in stream.entries.items() if low <= i <= high]
    return reply if count < 0 else reply[:count]


def _xsetid(db: ModelKeyspace, args: list[bytes]) -> Reply:
    parsed = parse_stream_id(args[2], missing_seq=0, strict=True, allow_auto_seq=False)
    if parsed is None:
        return INVALID_STREAM_ID
    new_last = parsed[0]
    entries_added: int | None = None
    max_deleted = ZERO_ID
    i = 3
    while i < len(args):
        more = len(args) - 1 - i
        opt = _upper(args[i])
        if opt == b"ENTRIESADDED" and more:
            value = parse_ll(args[i + 1])
            if value is None:
                return NOT_INTEGER
            if value < 0:
                return ErrorReply("ERR entries_added must be positive")
            entries_added = value
        elif opt == b"MAXDELETEDID" and more:
            md = parse_stream_id(args[i + 1], missing_seq=0, strict=True, allow_auto_seq=False)
            if md is None:
                return INVALID_STREAM_ID
            if new_last < md[0]:
                return ErrorReply(
                    "ERR The ID specified in XSETID is smaller than the provided "
                    "max_deleted_entry_id"
                )
            max_deleted = md[0]
        else:
            return SYNTAX
        i += 2
    stream = _lookup_stream(db, args[1])
    if isinstance(stream, ErrorReply):
        return stream
    if stream is None:
        return NO_SUCH_KEY
    if new_last < stream.max_deleted_id:
        return ErrorReply(
            "ERR The ID specified in XSETID is smaller than current max_deleted_entry_id"
        )
    if stream.entries:
        top = next(reversed(stream.entries))
        if new_last < top:
            return ErrorReply(
                "ERR The ID specified in XSETID is smaller than the target stream top item"
            )
        if entries_added is not None and len(stream.entries) > entries_added:
            return ErrorReply(
                "ERR The entries_added specified in XSETID is smaller than the target stream length"
            )
    stream.last_id = new_last
    if entries_added is not None:
        stream.entries_added = entries_added
    if max_deleted != ZERO_ID:  # MAXDELETEDID 0-0 is indistinguishable from "not given"
        stream.max_deleted_id = max_deleted
    return "OK"


def _xgroup_syntax(args: list[bytes]) -> ErrorReply:
    return ErrorReply(
        f"ERR unknown subcommand or wrong number of arguments for '{_text(args[1])[:128]}'. "
        f"Try {_text(args[0]).upper()} HELP."
    )


_XGROUP_SUBCOMMANDS = {"CREATE": -5, "CREATECONSUMER": 5}
_XGROUP_NOT_MODELLED = {"DESTROY", "SETID", "DELCONSUMER", "HELP"}


def _xgroup(db: ModelKeyspace, args: list[bytes]) -> Reply:
    sub = _upper(args[1]).decode("latin-1")
    if sub in _XGROUP_NOT_MODELLED:
        raise NotModelled(f"XGROUP {sub} is outside this specification")
    if sub not in _XGROUP_SUBCOMMANDS:
        return ErrorReply(f"ERR unknown subcommand '{_text(args[1])[:128]}'. Try XGROUP HELP.")
    if not _arity_ok(_XGROUP_SUBCOMMANDS[sub], len(args)):
        return _arity_error(f"xgroup|{sub.lower()}")
    mkstream = False
    if sub == "CREATE":
        for opt in args[5:]:
            if _upper(opt) == b"MKSTREAM":
                mkstream = True
            elif _upper(opt) == b"ENTRIESREAD":
                raise NotModelled("XGROUP CREATE ENTRIESREAD is outside this specification")
            else:
                return _xgroup_syntax(args)
    stream = _lookup_stream(db, args[2])
    if isinstance(stream, ErrorReply):
        return stream
    name = args[3]
    if not mkstream:
        if stream is None:
            return ErrorReply(
                "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you "
                "may want to use the MKSTREAM option to create an empty stream automatically."
            )
        if sub == "CREATECONSUMER" and name not in stream.groups:
            return ErrorReply(
                f"NOGROUP No such consumer group '{_text(name)}' for key name '{_text(args[2])}'"
            )
    if sub == "CREATECONSUMER":
        group = stream.groups[name]
        if args[4] in group.consumers:
            return 0
        group.consumers[args[4]] = db.now_ms
        return 1
    if len(args) > 8:
        return _xgroup_syntax(args)
    if args[4] == b"$":
        start = stream.last_id if stream is not None else ZERO_ID
    else:
        parsed = parse_stream_id(args[4], missing_seq=0, strict=True, allow_auto_seq=False)
        if parsed is None:
            return INVALID_STREAM_ID
        start = parsed[0]
    if stream is None:
        stream = Stream()
        db.put(args[2], stream)
    if name in stream.groups:
        return ErrorReply("BUSYGROUP Consumer Group name already exists")
    stream.groups[name] = Group(last_delivered=start)
    return "OK"


def _xclaim(db: ModelKeyspace, args: list[bytes]) -> Reply:
    """XCLAIM key group consumer min-idle id... [IDLE|TIME|RETRYCOUNT|FORCE|JUSTID|LASTID]."""
    stream = _lookup_stream(db, args[1])
    if isinstance(stream, ErrorReply):
        return stream
    group = None if stream is None else stream.groups.get(args[2])
    if stream is None or group is None:
        return ErrorReply(
            f"NOGROUP No such key '{_text(args[1])}' or consumer group '{_text(args[2])}'"
        )
    min_idle = parse_ll(args[4])
    if min_idle is None:
        return ErrorReply("ERR Invalid min-idle-time argument for XCLAIM")
    min_idle = max(min_idle, 0)
    ids: list[StreamID] = []
    j = 5
    while j < len(args):  # IDs run until the first argument that is not one
        parsed = parse_stream_id(args[j], missing_seq=0, strict=True, allow_auto_seq=False)
        if parsed is None:
            break
        ids.append(parsed[0])
        j += 1
    now = db.now_ms
    delivery: int | None = None
    retrycount = -1
    force = justid = False
    last_id = ZERO_ID
    while j < len(args):
        more = len(args) - 1 - j
        opt = _upper(args[j])
        if opt == b"FORCE":
            force = True
        elif opt == b"JUSTID":
            justid = True
        elif opt in (b"IDLE", b"TIME", b"RETRYCOUNT") and more:
            j += 1
            value = parse_ll(args[j])
            if value is None:
                return ErrorReply(f"ERR Invalid {_text(opt)} option argument for XCLAIM")
            if opt == b"IDLE":
                delivery = now - value
            elif opt == b"TIME":
                delivery = value
            else:
                retrycount = value
        elif opt == b"LASTID" and more:
            j += 1
            parsed = parse_stream_id(args[j], missing_seq=0, strict=True, allow_auto_seq=False)
            if parsed is None:
                return INVALID_STREAM_ID
            last_id = parsed[0]
        else:
            return ErrorReply(f"ERR Unrecognized XCLAIM option '{_text(args[j])}'")
        j += 1
    group.last_delivered = max(group.last_delivered, last_id)
    if delivery is None or delivery < 0 or delivery > now:
        delivery = now  # a bogus or absent time means "delivered now"
    consumer = args[3]
    reply: list[Any] = []
    for entry_id in ids:
        row = group.pel.get(entry_id)
        if entry_id not in stream.entries:
            group.pel.pop(entry_id, None)  # a claim on a deleted entry drops its row
            continue
        if row is None and not force:
            continue
        if row is not None and min_idle and now - row.delivery_ms < min_idle:
            continue
        count = 1 if row is None else row.delivery_count  # FORCE starts a row at 1
        if retrycount >= 0:
            count = retrycount
        elif not justid:
            count += 1
        group.consumers[consumer] = now  # created if missing; seen now
        group.pel[entry_id] = Pending(consumer, delivery, count)
        if justid:
            reply.append(entry_id.to_bytes())
        else:
            reply.append(_entry_reply(entry_id, stream.entries[entry_id]))
    return reply


# --------------------------------------------------------------------------
# The table.
# --------------------------------------------------------------------------


def _table(*rows: tuple[str, int, Handler]) -> dict[str, Command]:
    return {name.upper(): Command(name, arity, run) for name, arity, run in rows}


COMMANDS: dict[str, Command] = _table(
    ("set", -3, _set),
    ("get", 2, _get),
    ("getset", 3, _getset),
    ("getdel", 2, _getdel),
    ("append", 3, _append),
    ("incr", 2, _incr),
    ("decr", 2, _decr),
    ("incrby", 3, _incrby),
    ("decrby", 3, _decrby),
    ("incrbyfloat", 3, _incrbyfloat),
    ("strlen", 2, _strlen),
    ("del", -2, _del),
    ("exists", -2, _exists),
    ("type", 2, _type),
    ("expire", -3, _expire),
    ("pexpire", -3, _pexpire),
    ("expireat", -3, _expireat),
    ("pexpireat", -3, _pexpireat),
    ("persist", 2, _persist),
    ("ttl", 2, _ttl),
    ("pttl", 2, _pttl),
    ("flushdb", -1, _flush),
    ("flushall", -1, _flush),
    ("dbsize", 1, _dbsize),
    ("hset", -4, _hset),
    ("hget", 3, _hget),
    ("hdel", -3, _hdel),
    ("hincrby", 4, _hincrby),
    ("hgetall", 2, _hgetall),
    ("hlen", 2, _hlen),
    ("lpush", -3, _lpush),
    ("rpush", -3, _rpush),
    ("lpop", -2, _lpop),
    ("rpop", -2, _rpop),
    ("lset", 4, _lset),
    ("lrem", 4, _lrem),
    ("ltrim", 4, _ltrim),
    ("lrange", 4, _lrange),
    ("llen", 2, _llen),
    ("sadd", -3, _sadd),
    ("srem", -3, _srem),
    ("smembers", 2, _smembers),
    ("scard", 2, _scard),
    ("sismember", 3, _sismember),
    ("spop", -2, _spop),
    ("zadd", -4, _zadd),
    ("zincrby", 4, _zincrby),
    ("zrem", -3, _zrem),
    ("zscore", 3, _zscore),
    ("zcard", 2, _zcard),
    ("zrange", -4, _zrange),
    ("xadd", -5, _xadd),
    ("xdel", -3, _xdel),
    ("xlen", 2, _xlen),
    ("xrange", -4, _xrange),
    ("xsetid", -3, _xsetid),
    ("xgroup", -2, _xgroup),
    ("xclaim", -6, _xclaim),
)
