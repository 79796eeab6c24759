"""Commands on a keyspace: replaying a log (`apply`) and live execution (`execute`).

What: the two entry points to the verb handlers of `impl.commands_keys`,
`impl.commands_collections` and `impl.streams`.

* `apply(ks, argv, profile=…, dialect=…)` is what kevy does for each frame of
  an AOF it replays (docs/SPEC.md §5): it returns an `Applied` saying APPLIED,
  SKIPPED (verb not in the replay set), IGNORED (missing arguments or a
  discarded error) or EMPTY.
* `execute(ks, argv, profile=…)` is what a client of the embedded store sees:
  a Redis-style reply and the frames the embedded API appends to the AOF for
  that call (docs/SPEC.md §5.1).

Why one module of tables: replay is the hot path of every recovery (the
benchmark wants ≥ 12 MB/s of AOF), so `apply` is a dict lookup plus a direct
call, with the per-(profile, dialect) context and table built once; live
execution shares the same handlers wherever the semantics agree.

Rules:
1. The verb is argv[0] with ASCII letters upper-cased (docs/SPEC.md §5), for both
   entry points and both dialects.
2. `Dialect.KEVY` under `kevy-1.17` replays exactly docs/SPEC.md §5's table: SET's
   options ignored, ZADD flags eaten as scores, EXPIRE's extra arguments
   ignored, pop counts lenient, every other verb SKIPPED (SELECT, MULTI, EXEC
   and all stream verbs included). Switches widen it: `replay_stream_verbs`
   (the rewrite's stream forms, docs/SPEC.md §4.3), `replay_stream_writes` (the other
   stream writes), `replay_command_options` (SET/ZADD/EXPIRE options),
   `set_ttl_one_frame` (the `SET k v PXAT t` frame its writer logs, F15).
3. `Dialect.REDIS` (a stock Redis 7 log) replays with Redis semantics
   whatever the profile, honours every option, applies all stream writes and
   never deletes for a past deadline: the caller replays into a keyspace with
   `lazy_expire=False`, and deadlines are judged when it is read.
4. Errors are returned (`ErrorReply`), never raised, by `execute`; `apply`
   discards them (docs/SPEC.md §5).
5. Reply conventions, shared with `model/keyspace/`: integer → int, bulk →
   bytes, nil → None, status → str, array → list, error → ErrorReply.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from impl.commands_base import (
    CommandError,
    Ctx,
    ErrorReply,
    Handler,
    Reply,
    wrong_args,
)
from impl.commands_collections import COLLECTION_VERBS, replay_zadd
from impl.commands_keys import KEY_VERBS, replay_set, replay_set_pxat
from impl.keyspace import Keyspace, WrongTypeError
from impl.profile import Profile
from impl.streams import STREAM_REWRITE_VERBS, STREAM_VERBS, STREAM_WRITE_VERBS

__all__ = [
    "APPLIED",
    "EMPTY",
    "EXEC_VERBS",
    "REPLAY_VERBS",
    "Applied",
    "CommandError",
    "Dialect",
    "ErrorReply",
    "Outcome",
    "Reply",
    "Result",
    "apply",
    "execute",
    "replay_table",
]


class Dialect(enum.Enum):
    """Who wrote the log being replayed."""

    #: kevy's embedded store or server (docs/SPEC.md §5)
    KEVY = "kevy"
    #: a stock Redis 7 server (absolute PXAT, explicit DELs for expiries)
    REDIS = "redis"


class Outcome(enum.Enum):
    """What `apply` did with one frame."""

    #: the command ran (it may still have changed nothing, e.g. DEL of a missing key)
    APPLIED = "applied"
    #: the verb is not in the replay set; the caller counts it and reports its offset
    SKIPPED = "skipped"
    #: the verb is known but the command was dropped: missing arguments or an error
    IGNORED = "ignored"
    #: the frame had no arguments at all
    EMPTY = "empty"


@dataclass(frozen=True, slots=True)
class Applied:
    """The result of `apply`: an outcome, the verb (upper-cased) and, if IGNORED, why."""

    outcome: Outcome
    verb: bytes = b""
    #: for IGNORED: the error text or "missing arguments"
    reason: str = ""


#: shared results, so the common cases allocate nothing
APPLIED = Applied(Outcome.APPLIED)
EMPTY = Applied(Outcome.EMPTY)


@dataclass(slots=True)
class Result:
    """The result of `execute`: the reply and the AOF frames logged (docs/SPEC.md §5.1)."""

    reply: Reply
    log: list[list[bytes]] = field(default_factory=list)


def _handler(table: dict[bytes, tuple[object, int, int | None]], verb: bytes) -> Handler:
    return table[verb][0]  # type: ignore[return-value]


_ALL_LIVE: dict[bytes, tuple[object, int, int | None]] = {
    **KEY_VERBS,
    **COLLECTION_VERBS,
    **STREAM_VERBS,
}

#: verb → (handler, min argc, max argc or None) for `execute`
EXEC_VERBS: dict[bytes, tuple[Handler, int, int | None]] = dict(_ALL_LIVE)  # type: ignore[arg-type]

#: docs/SPEC.md §5's replay table: verb → minimum argc ("arguments used"), kevy 1.17
REPLAY_VERBS: dict[bytes, int] = {
    b"SET": 3, b"DEL": 2, b"INCR": 2, b"DECR": 2, b"INCRBY": 3, b"DECRBY": 3,
    b"INCRBYFLOAT": 3, b"APPEND": 3, b"GETSET": 3, b"GETDEL": 2,
    b"EXPIRE": 3, b"PEXPIRE": 3, b"EXPIREAT": 3, b"PEXPIREAT": 3, b"PERSIST": 2,
    b"FLUSHDB": 1, b"FLUSHALL": 1,
    b"HSET": 4, b"HDEL": 3, b"HINCRBY": 4,
    b"RPUSH": 3, b"LPUSH": 3, b"LPOP": 2, b"RPOP": 2, b"LSET": 4, b"LREM": 4, b"LTRIM": 4,
    b"SADD": 3, b"SREM": 3, b"SPOP": 2,
    b"ZADD": 4, b"ZREM": 3, b"ZINCRBY": 4,
}  # fmt: skip

#: kevy's replay-only forms (docs/SPEC.md §5), replaced by the live ones under
#: `replay_command_options` and in the Redis dialect
_KEVY_REPLAY_FORMS: dict[bytes, Handler] = {b"SET": replay_set, b"ZADD": replay_zadd}


def replay_table(profile: Profile, dialect: Dialect) -> dict[bytes, tuple[Handler, int]]:
    """The replay set for (profile, dialect): verb → (handler, minimum argc). Rule 2, 3."""
    redis = dialect is Dialect.REDIS
    options = redis or profile.fixes("replay_command_options")
    table: dict[bytes, tuple[Handler, int]] = {}
    for verb, min_argc in REPLAY_VERBS.items():
        handler = _handler(_ALL_LIVE, verb)
        if not options and verb in _KEVY_REPLAY_FORMS:
            handler = _KEVY_REPLAY_FORMS[verb]
        if verb == b"SET" and not redis and profile.fixes("set_ttl_one_frame"):
            # What the F15 writer logs must round-trip with or without
            # `replay_command_options`.
            handler = replay_set_pxat(handler)
        table[verb] = (handler, min_argc)
    if redis:
        table[b"UNLINK"] = (_handler(_ALL_LIVE, b"DEL"), 2)
        table.update(STREAM_WRITE_VERBS)  # type: ignore[arg-type]
    else:
        if profile.fixes("replay_stream_verbs"):
            table.update(STREAM_REWRITE_VERBS)  # type: ignore[arg-type]
        if profile.fixes("replay_stream_writes"):
            table.update(STREAM_WRITE_VERBS)  # type: ignore[arg-type]
    return table


class _Replayer:
    """The per-(profile, dialect) state of `apply`: a context and a table, built once."""

    __slots__ = ("ctx", "profile", "table")

    def __init__(self, profile: Profile, dialect: Dialect) -> None:
        self.profile = profile
        self.ctx = Ctx(profile, replay=True, redis_dialect=dialect is Dialect.REDIS)
        self.table = replay_table(profile, dialect)


# Keyed by id(profile); the stored profile is checked by identity, so a
# recycled id never returns another profile's table.
# Two dicts, chosen by identity: hashing an Enum member runs Python code.
_KEVY_REPLAYERS: dict[int, _Replayer] = {}
_REDIS_REPLAYERS: dict[int, _Replayer] = {}
_MISSING_ARGS = "missing arguments"


def apply(
    ks: Keyspace,
    argv: Sequence[bytes],
    *,
    profile: Profile,
    dialect: Dialect = Dialect.KEVY,
) -> Applied:
    """Replay one frame into `ks` as kevy would (docs/SPEC.md §5). Never raises for bad input."""
    if not argv:
        return EMPTY
    cache = _KEVY_REPLAYERS if dialect is Dialect.KEVY else _REDIS_REPLAYERS
    r = cache.get(id(profile))
    if r is None or r.profile is not profile:
        r = cache[id(profile)] = _Replayer(profile, dialect)
    verb = argv[0]
    entry = r.table.get(verb)
    if entry is None:
        verb = verb.upper()  # ASCII letters only, as kevy's to_ascii_uppercase
        entry = r.table.get(verb)
        if entry is None:
            return Applied(Outcome.SKIPPED, bytes(verb))
    handler, min_argc = entry
    if len(argv) < min_argc:
        return Applied(Outcome.IGNORED, verb, _MISSING_ARGS)
    try:
        handler(ks, argv, r.ctx)
    except CommandError as e:
        return Applied(Outcome.IGNORED, verb, e.message)
    except WrongTypeError as e:
        return Applied(Outcome.IGNORED, verb, str(e))
    return APPLIED


_EXEC_CTX: dict[int, tuple[Profile, Ctx]] = {}


def _unknown(argv: Sequence[bytes]) -> ErrorReply:
    """Redis 7's text for an unknown verb (each argument cut to 128 bytes)."""
    args = "".join(f"'{x[:128].decode('latin-1')}' " for x in argv[1:])
    name = argv[0][:128].decode("latin-1")
    return ErrorReply(f"ERR unknown command '{name}', with args beginning with: {args}")


def execute(ks: Keyspace, argv: Sequence[bytes], *, profile: Profile) -> Result:
    """Run one command as a client of the embedded store (docs/SPEC.md §5.1, §6). Never raises."""
    if not argv:
        return Result(ErrorReply("ERR empty command"))
    cached = _EXEC_CTX.get(id(profile))
    if cached is None or cached[0] is not profile:
        cached = _EXEC_CTX[id(profile)] = (profile, Ctx(profile, replay=False))
    c = cached[1].fresh()
    verb = argv[0].upper()
    entry = EXEC_VERBS.get(verb)
    if entry is None:
        return Result(_unknown(argv))
    handler, lo, hi = entry
    n = len(argv)
    if n < lo or (hi is not None and n > hi) or (verb == b"HSET" and n % 2):
        return Result(ErrorReply(wrong_args(verb.decode("latin-1").lower())))
    # F43: with `expiry_logs_del`, a key this call found expired is logged as a DEL
    # before the call's own frames, as Redis propagates a lazy expiry.
    expired: list[bytes] | None = [] if c.expiry_del else None
    ks.expired = expired
    try:
        reply: Reply = handler(ks, argv, c)
    except CommandError as e:
        reply = ErrorReply(e.message)
    except WrongTypeError as e:
        reply = ErrorReply(str(e))
    finally:
        ks.expired = None
    log = c.log if c.log is not None else []
    if expired:
        log = [[b"DEL", key] for key in expired] + log
    return Result(reply, log)
