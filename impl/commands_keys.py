"""String, key and TTL verbs (docs/SPEC.md §5, §5.1, §6.1–§6.3).

What: one handler per verb, `handler(ks, argv, ctx) -> reply`, shared by
`impl.commands.execute` and `impl.commands.apply` where their semantics agree,
plus the replay-only forms kevy 1.17 uses (`replay_set`; `replay_set_pxat` for F15).

Why here: strings and TTLs are the verbs every log is full of, so their replay
forms are written for speed (no option parsing, one dict write).

Rules:
1. SET and GETSET clear the TTL; INCR family, INCRBYFLOAT and APPEND keep it
   (docs/SPEC.md §6.2). A missing key starts from "" / 0.
2. INCRBY: the stored value must parse with `ctx.sint`; overflow is an error;
   DECRBY negates with a two's-complement wrap (docs/SPEC.md §5) unless
   `redis_decrby_overflow`.
3. INCRBYFLOAT (docs/SPEC.md §6.3): stored value trimmed of Unicode whitespace (kevy's
   `str::trim`) unless `redis_strict_numbers`, parsed as FLOAT, finite; the
   result must be finite; stored integral-below-1e17 as an integer. kevy
   parses the increment first; `redis_strict_numbers` checks the key, the
   stored value, then the increment, reads both as Redis's string2ld does (a
   NaN increment is not a float; a stored `inf` is, so only the sum fails).
4. EXPIRE family (docs/SPEC.md §6.2): kevy takes UINT times, saturates ×1000, sets
   `deadline = now` for EXPIRE 0 and deletes at once only for an absolute
   deadline ≤ now; `redis_expire_semantics` gives Redis 7's signed times,
   delete-if-past and overflow errors. The Redis dialect never deletes here.
5. Log frames follow docs/SPEC.md §5.1; TTLs are always logged absolute (PEXPIREAT).
   A SET that sets a TTL is two frames, `SET` then `PEXPIREAT`, unless
   `set_ttl_one_frame` (F15) logs the one frame `SET k v PXAT <deadline>`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from impl.commands_base import (
    ERR_FLOAT,
    ERR_NOT_INT,
    ERR_SYNTAX,
    CommandError,
    Ctx,
    Handler,
    Reply,
    check_i64,
    sat_u64,
)
from impl.keyspace import Entry, Keyspace, WrongTypeError, type_name
from impl.numbers import I64_MAX, I64_MIN, format_incrbyfloat, parse_float, parse_uint

__all__ = [
    "KEY_VERBS",
    "replay_set",
    "replay_set_pxat",
]

_ERR_INCR_NAN = "ERR increment would produce NaN or Infinity"
_ERR_DECR_OVERFLOW = "ERR decrement would overflow"
# Rust's `char::is_whitespace` (White_Space property), which `str::trim` uses.
# Python's str.strip() would also strip U+001C..U+001F, which Rust keeps.
_RUST_WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _d(n: int) -> bytes:
    """DEC(n) of docs/SPEC.md §1.1."""
    return b"%d" % n


# -- strings ------------------------------------------------------------------


def replay_set(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    """kevy's replay SET (docs/SPEC.md §5): unconditional, clears TTL, options ignored."""
    ks.raw()[a[1]] = Entry(a[2])
    return "OK"


def _expire_arg(c: Ctx, raw: bytes, unit_ms: int, absolute: bool, now: int, name: str) -> int:
    """SET's EX/PX/EXAT/PXAT value → absolute deadline (Redis 7 rules, both profiles)."""
    t = c.sint(raw)
    if t is None:
        raise CommandError(ERR_NOT_INT)
    bad = f"ERR invalid expire time in '{name}' command"
    if t <= 0 or t > I64_MAX // unit_ms:
        raise CommandError(bad)
    ms = t * unit_ms
    if absolute:
        return ms
    if ms > I64_MAX - now:
        raise CommandError(bad)
    return now + ms


_SET_UNITS = {b"EX": (1000, False), b"PX": (1, False), b"EXAT": (1000, True), b"PXAT": (1, True)}


def cmd_set(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    """SET k v [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL] (Redis 7)."""
    key, value = a[1], a[2]
    if len(a) == 3:  # the common case, kept cheap for replay
        ks.raw()[key] = Entry(value)
        if c.log is not None:
            c.log.append([b"SET", key, value])
        return "OK"
    nx = xx = get = keepttl = False
    unit: tuple[int, bool] | None = None
    unit_arg = b""
    i, n = 3, len(a)
    while i < n:
        opt = c.option(a[i])
        if opt == b"NX" and not xx:
            nx = True
        elif opt == b"XX" and not nx:
            xx = True
        elif opt == b"GET":
            get = True
        elif opt == b"KEEPTTL" and unit is None:
            keepttl = True
        elif (
            opt in _SET_UNITS
            and not keepttl
            and i + 1 < n
            and (unit is None or unit == _SET_UNITS[opt])
        ):
            unit = _SET_UNITS[opt]
            i += 1
            unit_arg = a[i]
        else:
            raise CommandError(ERR_SYNTAX)
        i += 1
    now = ks.now()
    deadline = None if unit is None else _expire_arg(c, unit_arg, unit[0], unit[1], now, "set")
    old = ks.lookup(key)
    if get and old is not None and not isinstance(old.value, bytes):
        raise WrongTypeError()
    reply: Reply = (old.value if old is not None else None) if get else "OK"
    if (nx and old is not None) or (xx and old is None):
        return reply if get else None
    if keepttl and old is not None:
        deadline = old.deadline_ms
    if deadline is not None and deadline <= now and c.past_deletes and unit is not None:
        # Redis 7: a SET whose EXAT/PXAT is already past leaves no key.
        ks.raw().pop(key, None)
    else:
        ks.put(key, value, deadline)
    if c.log is not None:
        if deadline is None:
            c.log.append([b"SET", key, value])
        elif c.set_ttl_one_frame:
            # F15: one frame, so no crash and no torn-tail cut can keep the value
            # without its TTL (Redis 7 propagates SET ... PX n the same way).
            c.log.append([b"SET", key, value, b"PXAT", _d(deadline)])
        else:
            # kevy's set_with_ttl (docs/SPEC.md §5.1): two frames, appended and synced
            # one by one.
            c.log.append([b"SET", key, value])
            c.log.append([b"PEXPIREAT", key, _d(deadline)])
    return reply


def replay_set_pxat(fallback: Handler) -> Handler:
    """Replay SET under `set_ttl_one_frame` (F15): the one frame the fixed writer logs,
    `SET k v PXAT t`, means what kevy's `SET k v` + `PEXPIREAT k t` meant; any other
    SET goes to `fallback` (kevy's `replay_set`, or Redis's SET under
    `replay_command_options`).

    `t` is kevy's UINT, not Redis's PXAT range: the writer logs kevy's u64
    deadline (a KEEPTTL of a saturated one included), and a frame it wrote must
    replay whatever number grammar the profile uses for client arguments.
    """

    def replay_set_one_frame(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
        if len(a) == 3:
            ks.raw()[a[1]] = Entry(a[2])
            return "OK"
        if len(a) == 5 and c.option(a[3]) == b"PXAT":
            t = parse_uint(a[4])
            if t is None:
                raise CommandError(ERR_NOT_INT)
            if t <= ks.now() and c.past_deletes:
                ks.raw().pop(a[1], None)  # as PEXPIREAT with a past deadline (docs/SPEC.md §5)
            else:
                ks.put(a[1], a[2], t)
            return "OK"
        return fallback(ks, a, c)

    return replay_set_one_frame


def cmd_get(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    e = ks.get_typed(a[1], bytes)
    return None if e is None else e.value


def cmd_strlen(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    e = ks.get_typed(a[1], bytes)
    return 0 if e is None else len(e.value)


def cmd_getset(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    e = ks.get_typed(a[1], bytes)
    ks.raw()[a[1]] = Entry(a[2])
    if c.log is not None:
        c.log.append([b"GETSET", a[1], a[2]])
    return None if e is None else e.value


def cmd_getdel(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    e = ks.get_typed(a[1], bytes)
    if e is None:
        return None
    del ks.raw()[a[1]]
    if c.log is not None:
        c.log.append([b"GETDEL", a[1]])
    return e.value


def cmd_append(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    e = ks.get_typed(a[1], bytes)
    if e is None:
        ks.raw()[a[1]] = e = Entry(a[2])
    else:
        e.value = e.value + a[2]
    if c.log is not None:
        c.log.append([b"APPEND", a[1], a[2]])
    return len(e.value)


def _incrby(ks: Keyspace, key: bytes, delta: int, c: Ctx) -> int:
    e = ks.get_typed(key, bytes)
    if e is None:
        ks.raw()[key] = Entry(_d(delta))
        new = delta
    else:
        cur = c.sint(e.value)
        if cur is None:
            raise CommandError(ERR_NOT_INT)
        new = check_i64(cur + delta)
        e.value = _d(new)
    if c.log is not None:
        c.log.append([b"INCRBY", key, _d(delta)])
    return new


def cmd_incr(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    return _incrby(ks, a[1], 1, c)


def cmd_decr(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    return _incrby(ks, a[1], -1, c)


def cmd_incrby(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    n = c.sint(a[2])
    if n is None:
        raise CommandError(ERR_NOT_INT)
    return _incrby(ks, a[1], n, c)


def cmd_decrby(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    n = c.sint(a[2])
    if n is None:
        raise CommandError(ERR_NOT_INT)
    if n == I64_MIN:
        if not c.wrap_decrby:
            raise CommandError(_ERR_DECR_OVERFLOW)
        # kevy: `n.wrapping_neg()` — −(−2^63) is −2^63 (docs/SPEC.md §5).
        return _incrby(ks, a[1], I64_MIN, c)
    return _incrby(ks, a[1], -n, c)


def _incrbyfloat_delta(raw: bytes, c: Ctx) -> float:
    delta = parse_float(raw)
    # Redis's string2ld rejects NaN as not a float; kevy's FLOAT takes it and
    # fails later on the non-finite sum (docs/SPEC.md §6.3).
    if delta is None or (c.strict_numbers and delta != delta):
        raise CommandError(ERR_FLOAT)
    return delta


def _incrbyfloat_current(e: Entry | None, c: Ctx) -> float:
    if e is None:
        return 0.0
    try:
        text = e.value.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandError(ERR_FLOAT) from None
    if not c.strict_numbers:
        text = text.strip(_RUST_WHITESPACE)
    parsed = parse_float(text.encode("utf-8"))
    # kevy wants a finite stored value (docs/SPEC.md §6.3); Redis's string2ld takes
    # "inf" and only the sum fails ("increment would produce NaN or Infinity").
    if parsed is None or parsed != parsed or (not c.strict_numbers and math.isinf(parsed)):
        raise CommandError(ERR_FLOAT)
    return parsed


def cmd_incrbyfloat(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    if c.redis_order:
        # Redis 7.2 (t_string.c incrbyfloatCommand): the key's type, the stored
        # value, then the increment.
        e = ks.get_typed(a[1], bytes)
        cur = _incrbyfloat_current(e, c)
        delta = _incrbyfloat_delta(a[2], c)
    else:
        delta = _incrbyfloat_delta(a[2], c)
        e = ks.get_typed(a[1], bytes)
        cur = _incrbyfloat_current(e, c)
    new = cur + delta
    if not math.isfinite(new):
        raise CommandError(_ERR_INCR_NAN)
    out = format_incrbyfloat(new).encode()
    if e is None:
        ks.raw()[a[1]] = Entry(out)
    else:
        e.value = out
    if c.log is not None:
        c.log.append([b"INCRBYFLOAT", a[1], a[2]])
    return out


# -- keys -----------------------------------------------------------------------


def cmd_del(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    removed: list[bytes] = []
    for key in a[1:]:
        if ks.delete(key):
            removed.append(key)
    if c.log is not None and removed:
        if c.del_one_frame:
            # One frame, as Redis propagates DEL: a torn append cuts all of it (F41).
            c.log.append([b"DEL", *removed])
        else:
            # docs/SPEC.md §5.1: one frame per key removed, appended together; a
            # torn tail or a failed write can keep the first keys' frames only (F41).
            c.log.extend([b"DEL", key] for key in removed)
    return len(removed)


def cmd_exists(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    return sum(1 for key in a[1:] if ks.lookup(key) is not None)


def cmd_type(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    e = ks.lookup(a[1])
    return "none" if e is None else type_name(e.value)


def cmd_dbsize(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    # kevy and Redis both count expired keys not yet removed.
    return len(ks)


# The verbs that differ only by a constant are thin `def`s over one shared
# function, not closures a factory builds at import: a closure built at import
# is what every later call runs, so mutmut (which forks its test runs from a
# process that has imported impl/) could never swap in a mutant of its body.


def _flush(verb: bytes, ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    if not c.replay and (len(a) > 2 or (len(a) == 2 and a[1].upper() not in (b"ASYNC", b"SYNC"))):
        raise CommandError(ERR_SYNTAX)
    ks.flush()
    if c.log is not None:
        c.log.append([verb])
    return "OK"


def cmd_flushdb(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    return _flush(b"FLUSHDB", ks, a, c)


def cmd_flushall(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    return _flush(b"FLUSHALL", ks, a, c)


# -- TTL ------------------------------------------------------------------------

_EXPIRE_FLAGS = (b"NX", b"XX", b"GT", b"LT")


def _expire_flags(a: Sequence[bytes], c: Ctx) -> set[bytes]:
    """Redis 7's `parseExtendedExpireArgumentsOrReply`."""
    flags: set[bytes] = set()
    for raw in a[3:]:
        opt = c.option(raw)
        if opt not in _EXPIRE_FLAGS:
            raise CommandError(f"ERR Unsupported option {raw.decode('latin-1')}")
        flags.add(opt)
    if b"NX" in flags and len(flags) > 1:
        raise CommandError("ERR NX and XX, GT or LT options at the same time are not compatible")
    if b"GT" in flags and b"LT" in flags:
        raise CommandError("ERR GT and LT options at the same time are not compatible")
    return flags


def _expire(
    unit_ms: int, absolute: bool, name: str, ks: Keyspace, a: Sequence[bytes], c: Ctx
) -> Reply:
    """EXPIRE (unit 1000, relative), PEXPIRE (1, relative), EXPIREAT (1000, absolute),
    PEXPIREAT (1, absolute); `name` is the verb Redis names in its error."""
    key = a[1]
    flags = _expire_flags(a, c) if c.expire_options else ()
    now = ks.now()
    if c.redis_expire:
        t = c.sint(a[2])
        if t is None:
            raise CommandError(ERR_NOT_INT)
        bad = f"ERR invalid expire time in '{name}' command"
        ms = check_i64(t * unit_ms, bad)
        deadline = ms if absolute else check_i64(ms + now, bad)
    else:
        t = c.uint(a[2])
        if t is None:
            raise CommandError(ERR_NOT_INT)
        ms = sat_u64(t * unit_ms)
        deadline = ms if absolute else now + ms
    e = ks.lookup(key)
    if e is None:
        return 0
    if flags:
        cur = e.deadline_ms
        if (
            (b"NX" in flags and cur is not None)
            or (b"XX" in flags and cur is None)
            or (b"GT" in flags and (cur is None or deadline <= cur))
            or (b"LT" in flags and cur is not None and deadline >= cur)
        ):
            return 0
    if deadline <= now and c.past_deletes and (absolute or c.redis_expire):
        del ks.raw()[key]
        if c.log is not None and c.expiry_del:
            # F43: a replay that judges deadlines only at its end must not meet
            # this key under a later write; Redis propagates the deletion as DEL.
            c.log.append([b"DEL", key])
            return 1
    else:
        e.deadline_ms = deadline
    if c.log is not None:
        c.log.append([b"PEXPIREAT", key, _d(deadline)])
    return 1


def cmd_expire(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    return _expire(1000, False, "expire", ks, a, c)


def cmd_pexpire(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    return _expire(1, False, "pexpire", ks, a, c)


def cmd_expireat(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    return _expire(1000, True, "expireat", ks, a, c)


def cmd_pexpireat(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    return _expire(1, True, "pexpireat", ks, a, c)


def cmd_persist(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    e = ks.lookup(a[1])
    if e is None or e.deadline_ms is None:
        return 0
    e.deadline_ms = None
    if c.log is not None:
        c.log.append([b"PERSIST", a[1]])
    return 1


def _ttl(unit_ms: int, ks: Keyspace, a: Sequence[bytes]) -> Reply:
    e = ks.lookup(a[1])
    if e is None:
        return -2
    if e.deadline_ms is None:
        return -1
    left = max(0, e.deadline_ms - ks.now())
    # Redis rounds TTL to the nearest second.
    return left if unit_ms == 1 else (left + 500) // 1000


def cmd_ttl(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    return _ttl(1000, ks, a)


def cmd_pttl(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    return _ttl(1, ks, a)


#: verb → (handler, min argc, max argc or None); arity as Redis 7 checks it
KEY_VERBS: dict[bytes, tuple[object, int, int | None]] = {
    b"SET": (cmd_set, 3, None),
    b"GET": (cmd_get, 2, 2),
    b"STRLEN": (cmd_strlen, 2, 2),
    b"GETSET": (cmd_getset, 3, 3),
    b"GETDEL": (cmd_getdel, 2, 2),
    b"APPEND": (cmd_append, 3, 3),
    b"INCR": (cmd_incr, 2, 2),
    b"DECR": (cmd_decr, 2, 2),
    b"INCRBY": (cmd_incrby, 3, 3),
    b"DECRBY": (cmd_decrby, 3, 3),
    b"INCRBYFLOAT": (cmd_incrbyfloat, 3, 3),
    b"DEL": (cmd_del, 2, None),
    b"EXISTS": (cmd_exists, 2, None),
    b"TYPE": (cmd_type, 2, 2),
    b"DBSIZE": (cmd_dbsize, 1, 1),
    b"FLUSHDB": (cmd_flushdb, 1, None),
    b"FLUSHALL": (cmd_flushall, 1, None),
    b"EXPIRE": (cmd_expire, 3, None),
    b"PEXPIRE": (cmd_pexpire, 3, None),
    b"EXPIREAT": (cmd_expireat, 3, None),
    b"PEXPIREAT": (cmd_pexpireat, 3, None),
    b"PERSIST": (cmd_persist, 2, 2),
    b"TTL": (cmd_ttl, 2, 2),
    b"PTTL": (cmd_pttl, 2, 2),
}
