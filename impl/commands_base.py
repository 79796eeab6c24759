"""Shared pieces of the command layer: error texts, the call context, argument parsers.

What: everything the verb modules (`commands_keys`, `commands_collections`,
`streams`) share, so that none of them imports another and `impl.commands`
can build its dispatch tables from all three.

Why a call context: one handler serves live execution and replay wherever the
two agree (docs/SPEC.md §5 vs §6). What differs is carried by a `Ctx` built once per
(profile, dialect) for replay and once per call for `execute`:
* `log` is None on replay (nothing is logged) and a list on `execute`
  (the frames of docs/SPEC.md §5.1);
* each profile switch of `impl.profile` that changes a verb's meaning is read
  once into a plain attribute, so the replay hot path never calls
  `profile.fixes()`.

Rules:
1. Handlers signal a failure by raising `CommandError` (or the keyspace's
   `WrongTypeError`) *before* changing anything; `execute` turns it into an
   `ErrorReply`, `apply` into an IGNORED outcome (docs/SPEC.md §5: errors discarded).
2. Error texts are Redis 7's, verbatim.
3. Integers are parsed with `Ctx.sint`/`Ctx.uint`: kevy's SINT/UINT grammars
   (docs/SPEC.md §0) unless `redis_strict_numbers` selects Redis's `string2ll`; the
   same switch selects Redis's order of checks where kevy's differs
   (`Ctx.redis_order`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from impl.keyspace import Keyspace
from impl.numbers import I64_MAX, I64_MIN, U64_MAX, parse_sint, parse_uint
from impl.profile import Profile

__all__ = [
    "ERR_FLOAT",
    "ERR_NOT_INT",
    "ERR_OVERFLOW",
    "ERR_POSITIVE",
    "ERR_SYNTAX",
    "CommandError",
    "Ctx",
    "ErrorReply",
    "Handler",
    "Reply",
    "parse_strict_sint",
    "wrong_args",
]

ERR_NOT_INT = "ERR value is not an integer or out of range"
ERR_OVERFLOW = "ERR increment or decrement would overflow"
ERR_FLOAT = "ERR value is not a valid float"
ERR_SYNTAX = "ERR syntax error"
ERR_POSITIVE = "ERR value is out of range, must be positive"
ERR_NO_KEY = "ERR no such key"
ERR_INDEX = "ERR index out of range"
ERR_NAN_SCORE = "ERR resulting score is not a number (NaN)"


def wrong_args(name: str) -> str:
    """Redis 7's arity error; `name` is the command as Redis spells it (lower case)."""
    return f"ERR wrong number of arguments for '{name}' command"


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """An error reply, e.g. `ErrorReply("ERR syntax error")`. Compared with == by tests."""

    message: str


#: int | bytes | None | str (status) | list (array) | ErrorReply
Reply = Any


class CommandError(Exception):
    """A command failed; nothing was changed. `message` is the Redis error text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_STRICT_SINT = re.compile(rb"0|-?[1-9][0-9]*")


def parse_strict_sint(data: bytes) -> int | None:
    """Redis 7's `string2ll`: no `+`, no leading zeros, no `-0`, fits i64.

    post: __return__ is None or I64_MIN <= __return__ <= I64_MAX
    """
    if _STRICT_SINT.fullmatch(data) is None:
        return None
    value = int(data)
    return value if I64_MIN <= value <= I64_MAX else None


def _strict_uint(data: bytes) -> int | None:
    value = parse_strict_sint(data)
    return value if value is not None and value >= 0 else None


def _c_option(arg: bytes) -> bytes:
    """`arg` upper-cased up to its first NUL, as C's strcasecmp compares it."""
    return arg.split(b"\x00", 1)[0].upper()


class Ctx:
    """What a handler needs besides the keyspace and argv. See the module docstring."""

    __slots__ = (
        "claim_refreshes_seen",
        "count_errors",
        "del_one_frame",
        "expire_options",
        "expiry_del",
        "force_count_one",
        "lenient_count",
        "log",
        "option",
        "past_deletes",
        "profile",
        "redis_dialect",
        "redis_expire",
        "redis_order",
        "reject_nan",
        "replay",
        "set_ttl_one_frame",
        "sint",
        "spop_logs_members",
        "strict_numbers",
        "uint",
        "wrap_decrby",
        "xclaim_logs_time",
        "zero_equal",
    )

    def __init__(self, profile: Profile, *, replay: bool, redis_dialect: bool = False) -> None:
        # A Redis log means Redis semantics whatever the profile: there is no
        # kevy behaviour to preserve for it (brief: Dialect.REDIS).
        def on(switch: str) -> bool:
            return redis_dialect or profile.fixes(switch)

        self.profile = profile
        self.replay = replay
        self.redis_dialect = redis_dialect
        self.log: list[list[bytes]] | None = None
        self.strict_numbers = on("redis_strict_numbers")
        self.sint: Callable[[bytes], int | None] = (
            parse_strict_sint if self.strict_numbers else parse_sint
        )
        self.uint: Callable[[bytes], int | None] = (
            _strict_uint if self.strict_numbers else parse_uint
        )
        # Which of two bad arguments a client hears about is part of the
        # grammar a client sees: the switch that makes argument parsing follow
        # Redis also makes LSET and INCRBYFLOAT check in Redis's order (key and
        # type before the index / increment). kevy 1.17 parses the argument first.
        self.redis_order = self.strict_numbers
        self.wrap_decrby = not on("redis_decrby_overflow")
        self.count_errors = on("redis_negative_count_errors")
        # docs/SPEC.md §5: on kevy's replay a count that is not SINT means 1.
        self.lenient_count = replay and not self.count_errors
        self.reject_nan = on("redis_reject_nan_scores")
        self.zero_equal = on("redis_zero_score_equality")
        # A forced claim's new PEL row starts at 1 in Redis (streamCreateNACK), 0 in kevy.
        self.force_count_one = on("redis_xclaim_force_count")
        self.claim_refreshes_seen = on("redis_xclaim_seen_time")
        self.redis_expire = on("redis_expire_semantics")
        # docs/SPEC.md §5: kevy's replay ignores trailing EXPIRE arguments; live calls
        # and the Redis dialect parse NX/XX/GT/LT.
        self.expire_options = not replay or on("replay_command_options")
        # docs/SPEC.md §6.2: a deadline already past deletes at once — except while a
        # Redis log replays, where every expiry is an explicit DEL in the log.
        self.past_deletes = not redis_dialect and not (replay and on("replay_no_expiry"))
        # Log spelling only (F15, F16): read by live calls, whose frames
        # kevy's own replay must turn back into the same state.
        self.set_ttl_one_frame = profile.fixes("set_ttl_one_frame")
        self.xclaim_logs_time = profile.fixes("xclaim_logs_time")
        self.spop_logs_members = profile.fixes("spop_logs_members")
        self.del_one_frame = profile.fixes("del_logs_one_frame")
        self.expiry_del = profile.fixes("expiry_logs_del")
        # An option word as the writer compared it: kevy compares whole
        # arguments, Redis uses strcasecmp, which stops at a NUL ("NX\0junk"
        # is NX to Redis and logged verbatim), so a Redis log is read that way.
        self.option: Callable[[bytes], bytes] = _c_option if redis_dialect else bytes.upper

    def fresh(self) -> Ctx:
        """A copy with an empty log (for one `execute` call)."""
        c = object.__new__(Ctx)
        for name in Ctx.__slots__:
            setattr(c, name, getattr(self, name))
        c.log = []
        return c


#: handler(ks, argv, ctx) -> reply; raises CommandError / WrongTypeError on failure
Handler = Callable[[Keyspace, Sequence[bytes], Ctx], Reply]


def check_i64(value: int, message: str = ERR_OVERFLOW) -> int:
    """`value` if it fits i64, else CommandError(message)."""
    if I64_MIN <= value <= I64_MAX:
        return value
    raise CommandError(message)


def sat_u64(value: int) -> int:
    """Saturate at u64::MAX (kevy's `saturating_mul`)."""
    return value if value <= U64_MAX else U64_MAX
