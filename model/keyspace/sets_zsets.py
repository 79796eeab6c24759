"""Set (t_set.c) and sorted-set (t_zset.c) verbs of the Redis model.

Part of the `model.keyspace` package (split by value type); the registry of
verbs lives in `model/keyspace/__init__.py`.
"""

from __future__ import annotations

import math
from typing import Any

from model.keyspace.core import (
    NOT_FLOAT,
    NOT_INTEGER,
    SYNTAX,
    WRONGTYPE,
    ErrorReply,
    ModelKeyspace,
    NotModelled,
    Reply,
    _option,
    _ZSet,
    _zset_order,
)
from model.keyspace.hashes_lists import _pop_count, _resolve_range
from model.values import (
    format_double,
    parse_double,
    parse_ll,
)

# --------------------------------------------------------------------------
# Sets (t_set.c). SPOP's pick is random: it is taken as observed (core rule 7).
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
    """spopCommand / spopWithCountCommand; the members removed are `db.chosen`."""
    if len(args) > 3:
        return SYNTAX
    count = _pop_count(args)
    if isinstance(count, ErrorReply):
        return count
    entry = db.lookup(args[1], "set")
    if isinstance(entry, ErrorReply):
        return entry
    if entry is None:
        return None if count is None else []
    members: set[bytes] = entry.value
    wanted = 1 if count is None else min(count, len(members))
    if wanted == 0:
        return []
    chosen = db.chosen
    if chosen is None:
        raise NotModelled("SPOP picks members at random: pass the observed pick as `chosen`")
    if len(chosen) != wanted or len(set(chosen)) != wanted or not members.issuperset(chosen):
        raise NotModelled(
            f"SPOP {args[1]!r}: {list(chosen)!r} is not a pick of {wanted} distinct "
            f"members of the set {sorted(members)!r}"
        )
    members.difference_update(chosen)
    db.delete_if_empty(args[1])
    return chosen[0] if count is None else list(chosen)


# --------------------------------------------------------------------------
# Sorted sets (t_zset.c).
# --------------------------------------------------------------------------

NAN_SCORE = ErrorReply("ERR resulting score is not a number (NaN)")


def _zadd_generic(db: ModelKeyspace, args: list[bytes], incr: bool) -> Reply:
    """zaddGenericCommand, shared by ZADD and ZINCRBY (which also parses the flags)."""
    flags: set[str] = {"INCR"} if incr else set()
    index = 2
    while index < len(args):
        opt = _option(args[index]).decode("latin-1")
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
        fresh = _ZSet()
        # zsetTypeCreate sizes the new set for the whole command (Redis 7.2)
        fresh.skiplist = (
            not db.encodings
            or len(pairs) > fresh.LISTPACK_ENTRIES
            or any(len(m) > fresh.LISTPACK_VALUE for _, m in pairs)
        )
        db.put(args[1], fresh)
        entry = db.get(args[1])
    zset: _ZSet = entry.value
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
                zset.admit(member, score)
                updated += 1
        elif "XX" in flags:
            continue
        else:
            zset.admit(member, score)
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
        opt = _option(args[j])
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
