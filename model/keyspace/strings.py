"""Strings (t_string.c) and keys/expiry (db.c, expire.c) verbs of the Redis model.

Part of the `model.keyspace` package (split by value type); the registry of
verbs lives in `model/keyspace/__init__.py`.
"""

from __future__ import annotations

from model.keyspace.core import (
    NOT_FLOAT,
    NOT_INTEGER,
    OVERFLOW,
    SYNTAX,
    WRONGTYPE,
    ErrorReply,
    ModelKeyspace,
    Reply,
    _ctext,
    _expire_time_error,
    _option,
    _text,
    _type_name,
)
from model.values import (
    I64_MAX,
    I64_MIN,
    format_long_double_human,
    long_double_add,
    parse_ll,
    parse_long_double,
)

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
        opt = _option(args[j]).decode("latin-1")
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
        opt = _option(arg).decode("latin-1")
        if opt not in ("NX", "XX", "GT", "LT"):
            return ErrorReply(f"ERR Unsupported option {_ctext(arg)}")
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
    if len(args) == 2 and _option(args[1]) in (b"SYNC", b"ASYNC"):
        pass
    elif len(args) != 1:
        return SYNTAX
    db.clear()
    return "OK"


def _dbsize(db: ModelKeyspace, args: list[bytes]) -> Reply:
    return len(db.keys())
