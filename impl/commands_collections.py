"""Hash, list, set and sorted-set verbs (docs/SPEC.md §5, §5.1, §6.4–§6.7).

What: one handler per verb, `handler(ks, argv, ctx) -> reply`, shared by live
execution and replay, plus kevy's replay-only forms of ZADD and of the pop
counts.

Why together: they share one shape — look the key up typed (WRONGTYPE), create
it without TTL when absent, mutate, drop it when it becomes empty (docs/SPEC.md §6.1,
§6.4–§6.7) — and one logging rule: docs/SPEC.md §5.1's frames, or the argv as given
when the verb changed something.

Rules:
1. Every check that can fail runs before the first mutation.
2. Pop counts (LPOP/RPOP/SPOP): absent → one element, single reply; negative →
   0 popped (kevy) or `ERR value is out of range, must be positive` with
   `redis_negative_count_errors`; not an integer → 1 on kevy's replay (SPEC
   §5), an error elsewhere.
3. SPOP removes the first members in the set's iteration order (docs/SPEC.md §5):
   `Keyspace.first_members`, insertion order unless the keyspace stands for a
   process with its own hash seed. kevy logs `SPOP k n`, so a replay in another
   process pops other members (F24); with `spop_logs_members` the log names the
   members popped (`SREM k m...`, what Redis propagates), so replay is exact.
4. Zset order is (IEEE total order of score, member) (docs/SPEC.md §6.7); with
   `redis_zero_score_equality` -0.0 and 0.0 compare equal as in Redis, where
   ZADD/ZINCRBY rewrite a stored score only if the new one differs by ==
   (INCR still answers the sum it computed).
   NaN and ±inf scores are accepted unless `redis_reject_nan_scores`.
5. Replies render scores with DISPLAYF (docs/SPEC.md §0).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice

from impl.commands_base import (
    ERR_FLOAT,
    ERR_INDEX,
    ERR_NAN_SCORE,
    ERR_NO_KEY,
    ERR_NOT_INT,
    ERR_POSITIVE,
    ERR_SYNTAX,
    CommandError,
    Ctx,
    Reply,
    check_i64,
    wrong_args,
)
from impl.keyspace import Entry, Keyspace, ListValue, SetValue, ZSet
from impl.numbers import displayf, float_bits, parse_float, total_order_key

__all__ = [
    "COLLECTION_VERBS",
    "replay_lpop",
    "replay_rpop",
    "replay_spop",
    "replay_zadd",
]


def _d(n: int) -> bytes:
    return b"%d" % n


def _new(ks: Keyspace, key: bytes, value: object) -> object:
    """Create `key` holding the empty collection `value`, without TTL (docs/SPEC.md §6.1)."""
    ks.raw()[key] = Entry(value)  # type: ignore[arg-type]
    return value


def _list(ks: Keyspace, key: bytes) -> ListValue | None:
    """The list at `key` as a ListValue (None if absent; WRONGTYPE if not a list).

    A plain `list` stored by someone else is swapped for a ListValue once, so
    every list command below can rely on O(1) ends (impl/keyspace.py rule 5).
    """
    e = ks.get_typed(key, list | ListValue)  # type: ignore[arg-type]
    if e is None:
        return None
    if not isinstance(e.value, ListValue):
        e.value = ListValue(e.value)
    return e.value


def _gone_if_empty(ks: Keyspace, key: bytes, value: object) -> None:
    if not value:  # docs/SPEC.md §6.4–§6.7: an emptied collection disappears
        ks.raw().pop(key, None)


# -- hashes -----------------------------------------------------------------------


def cmd_hset(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    """HSET k f v [f v …]; replay ignores an unpaired tail (docs/SPEC.md §5)."""
    n = len(a)
    if n < 4:
        raise CommandError(wrong_args("hset"))
    e = ks.get_typed(a[1], dict)
    h = _new(ks, a[1], {}) if e is None else e.value
    before = len(h)
    for i in range(2, n - 1, 2):
        h[a[i]] = a[i + 1]
    if c.log is not None:
        c.log.append([b"HSET", *a[1:]])
    return len(h) - before


def cmd_hget(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    e = ks.get_typed(a[1], dict)
    return None if e is None else e.value.get(a[2])


def cmd_hdel(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    e = ks.get_typed(a[1], dict)
    if e is None:
        return 0
    h = e.value
    removed = 0
    for f in a[2:]:
        if h.pop(f, None) is not None:
            removed += 1
    _gone_if_empty(ks, a[1], h)
    if removed and c.log is not None:
        c.log.append([b"HDEL", *a[1:]])
    return removed


def cmd_hincrby(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    delta = c.sint(a[3])
    if delta is None:
        raise CommandError(ERR_NOT_INT)
    e = ks.get_typed(a[1], dict)
    cur = 0
    if e is not None and a[2] in e.value:
        parsed = c.sint(e.value[a[2]])
        if parsed is None:
            raise CommandError("ERR hash value is not an integer")
        cur = parsed
    new = check_i64(cur + delta)
    h = _new(ks, a[1], {}) if e is None else e.value
    h[a[2]] = _d(new)
    if c.log is not None:
        c.log.append([b"HINCRBY", a[1], a[2], a[3]])
    return new


def cmd_hgetall(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    e = ks.get_typed(a[1], dict)
    if e is None:
        return []
    return [x for pair in e.value.items() for x in pair]


def cmd_hlen(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    e = ks.get_typed(a[1], dict)
    return 0 if e is None else len(e.value)


# -- lists -----------------------------------------------------------------------


def cmd_rpush(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    lst = _list(ks, a[1])
    if lst is None:
        lst = _new(ks, a[1], ListValue())  # type: ignore[assignment]
    assert lst is not None
    lst.extend(a[2:])
    if c.log is not None:
        c.log.append([b"RPUSH", *a[1:]])
    return len(lst)


def cmd_lpush(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    lst = _list(ks, a[1])
    if lst is None:
        lst = _new(ks, a[1], ListValue())  # type: ignore[assignment]
    assert lst is not None
    # Each element goes to the head in argument order: LPUSH a b c → c b a
    # (deque.extendleft pushes one at a time, which is exactly that order).
    lst.extendleft(a[2:])
    if c.log is not None:
        c.log.append([b"LPUSH", *a[1:]])
    return len(lst)


def _count(a: Sequence[bytes], c: Ctx) -> int | None:
    """The pop count of argv[2]; None when absent. See rule 2."""
    if len(a) < 3:
        return None
    n = c.sint(a[2])
    if n is None:
        if c.lenient_count:
            return 1
        raise CommandError(ERR_POSITIVE)
    if n < 0:
        if c.count_errors:
            raise CommandError(ERR_POSITIVE)
        return 0
    return n


def _pop(left: bool, verb: bytes, ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    # A shared function under two thin `def`s, not a closure built at import
    # (impl/commands_keys.py `_flush` says why).
    count = _count(a, c)
    lst = _list(ks, a[1])
    if lst is None:
        return None
    k = min(1 if count is None else count, len(lst))
    # O(k), not O(len): popleft/pop at the ends of the deque.
    out = [lst.popleft() for _ in range(k)] if left else [lst.pop() for _ in range(k)]
    _gone_if_empty(ks, a[1], lst)
    if k and c.log is not None:
        c.log.append([verb, a[1], _d(k)])
    if count is None:
        return out[0] if out else None
    return out


def cmd_lpop(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    return _pop(True, b"LPOP", ks, a, c)


def cmd_rpop(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    return _pop(False, b"RPOP", ks, a, c)


replay_lpop = cmd_lpop
replay_rpop = cmd_rpop


def cmd_lset(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    if c.redis_order:
        # Redis 7.2 (t_list.c lsetCommand): "no such key" and WRONGTYPE come
        # before the index is parsed; kevy parses the index first.
        lst = _list(ks, a[1])
        if lst is None:
            raise CommandError(ERR_NO_KEY)
        i = c.sint(a[2])
        if i is None:
            raise CommandError(ERR_NOT_INT)
    else:
        i = c.sint(a[2])
        if i is None:
            raise CommandError(ERR_NOT_INT)
        lst = _list(ks, a[1])
        if lst is None:
            raise CommandError(ERR_NO_KEY)
    if i < 0:
        i += len(lst)
    if not 0 <= i < len(lst):
        raise CommandError(ERR_INDEX)
    lst[i] = a[3]
    if c.log is not None:
        c.log.append([b"LSET", a[1], a[2], a[3]])
    return "OK"


def cmd_lrem(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    count = c.sint(a[2])
    if count is None:
        raise CommandError(ERR_NOT_INT)
    lst = _list(ks, a[1])
    if lst is None:
        return 0
    target = a[3]
    items = list(lst)  # one O(n) pass: indexing a deque's middle is not O(1)
    limit = abs(count) if count else len(items)
    order = range(len(items) - 1, -1, -1) if count < 0 else range(len(items))
    hits = [i for i in order if items[i] == target][:limit]
    if hits:
        gone = set(hits)
        lst.clear()
        lst.extend(x for i, x in enumerate(items) if i not in gone)
    _gone_if_empty(ks, a[1], lst)
    if hits and c.log is not None:
        c.log.append([b"LREM", a[1], a[2], a[3]])
    return len(hits)


def _range(start: int, stop: int, length: int) -> tuple[int, int]:
    """Redis/kevy index range → [lo, hi) (docs/SPEC.md §6.5; empty when lo >= hi)."""
    if start < 0:
        start += length
    if stop < 0:
        stop += length
    start = max(start, 0)
    if start > stop or start >= length:
        return 0, 0
    return start, min(stop, length - 1) + 1


def cmd_ltrim(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    start, stop = c.sint(a[2]), c.sint(a[3])
    if start is None or stop is None:
        raise CommandError(ERR_NOT_INT)
    lst = _list(ks, a[1])
    if lst is None:
        return "OK"
    lo, hi = _range(start, stop, len(lst))
    if hi - lo != len(lst):
        kept = list(islice(lst, lo, hi))
        lst.clear()
        lst.extend(kept)
        _gone_if_empty(ks, a[1], lst)
        if c.log is not None:
            c.log.append([b"LTRIM", a[1], a[2], a[3]])
    return "OK"


def cmd_lrange(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    start, stop = c.sint(a[2]), c.sint(a[3])
    if start is None or stop is None:
        raise CommandError(ERR_NOT_INT)
    lst = _list(ks, a[1])
    if lst is None:
        return []
    lo, hi = _range(start, stop, len(lst))
    return list(islice(lst, lo, hi))


def cmd_llen(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    lst = _list(ks, a[1])
    return 0 if lst is None else len(lst)


# -- sets --------------------------------------------------------------------------


def cmd_sadd(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    e = ks.get_typed(a[1], SetValue)
    s = _new(ks, a[1], SetValue()) if e is None else e.value
    before = len(s)
    for m in a[2:]:
        s[m] = None
    if c.log is not None:
        c.log.append([b"SADD", *a[1:]])
    return len(s) - before


def cmd_srem(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    e = ks.get_typed(a[1], SetValue)
    if e is None:
        return 0
    s = e.value
    removed = sum(1 for m in a[2:] if s.discard(m))
    _gone_if_empty(ks, a[1], s)
    if removed and c.log is not None:
        c.log.append([b"SREM", *a[1:]])
    return removed


def cmd_spop(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    count = _count(a, c)
    e = ks.get_typed(a[1], SetValue)
    if e is None:
        return None if count is None else []
    s = e.value
    out = ks.first_members(s, 1 if count is None else count)
    for m in out:
        del s[m]
    _gone_if_empty(ks, a[1], s)
    if out and c.log is not None:
        frame = [b"SREM", a[1], *out] if c.spop_logs_members else [b"SPOP", a[1], _d(len(out))]
        c.log.append(frame)
    if count is None:
        return out[0] if out else None
    return out


replay_spop = cmd_spop


def cmd_smembers(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    e = ks.get_typed(a[1], SetValue)
    return [] if e is None else list(e.value)


def cmd_scard(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    e = ks.get_typed(a[1], SetValue)
    return 0 if e is None else len(e.value)


def cmd_sismember(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    e = ks.get_typed(a[1], SetValue)
    return int(e is not None and a[2] in e.value)


# -- sorted sets ---------------------------------------------------------------------


def _score_key(c: Ctx) -> object:
    """The comparison key of a score under this profile (rule 4)."""
    if c.zero_equal:
        return lambda s: total_order_key(0.0 if s == 0 else s)
    return total_order_key


def _same_score(c: Ctx, x: float, y: float) -> bool:
    # kevy replaces a score unless the bits are equal; Redis unless x == y.
    return x == y if c.zero_equal else float_bits(x) == float_bits(y)


def _score_arg(raw: bytes, c: Ctx) -> float:
    s = parse_float(raw)
    if s is None or (c.reject_nan and s != s):
        raise CommandError(ERR_FLOAT)
    return s


def replay_zadd(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    """kevy's replay ZADD (docs/SPEC.md §5): bad pairs skipped one by one, flags eaten as scores."""
    pairs = []
    for i in range(2, len(a) - 1, 2):
        s = parse_float(a[i])
        if s is not None:
            pairs.append((s, a[i + 1]))
    if not pairs:
        raise CommandError("no valid score/member pair")
    e = ks.get_typed(a[1], ZSet)
    scores = _new(ks, a[1], ZSet()).scores if e is None else e.value.scores
    for s, m in pairs:
        scores[m] = s
    return len(pairs)


_ZADD_FLAGS = (b"NX", b"XX", b"GT", b"LT", b"CH", b"INCR")


def cmd_zadd(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    """ZADD k [NX|XX] [GT|LT] [CH] [INCR] s m [s m …] (Redis 7 parsing)."""
    flags: set[bytes] = set()
    i = 2
    while i < len(a) and a[i].upper() in _ZADD_FLAGS:
        flags.add(a[i].upper())
        i += 1
    rest = len(a) - i
    if rest == 0 or rest % 2:
        raise CommandError(ERR_SYNTAX)
    nx, xx, gt, lt, incr = (f in flags for f in (b"NX", b"XX", b"GT", b"LT", b"INCR"))
    if nx and xx:
        raise CommandError("ERR XX and NX options at the same time are not compatible")
    if (gt and nx) or (lt and nx) or (gt and lt):
        raise CommandError("ERR GT, LT, and/or NX options at the same time are not compatible")
    if incr and rest > 2:
        raise CommandError("ERR INCR option supports a single increment-element pair")
    pairs = [(_score_arg(a[j], c), a[j + 1]) for j in range(i, len(a), 2)]
    e = ks.get_typed(a[1], ZSet)
    scores = {} if e is None else e.value.scores
    key = _score_key(c)
    added = changed = 0
    applied: list[tuple[float, bytes]] = []
    #: INCR's reply: the sum, even where an equal stored score is kept
    #: (Redis answers zsetAdd's newscore: -0.0 + 0 answers 0 and keeps -0.0)
    incr_result: float | None = None
    for s, m in pairs:
        cur = scores.get(m)
        if cur is None:
            if xx:
                continue
            new = s if not incr or c.zero_equal else 0.0 + s
            if new != new and c.reject_nan:
                raise CommandError(ERR_NAN_SCORE)
            added += 1
        else:
            if nx:
                continue
            new = cur + s if incr else s
            if new != new and c.reject_nan:
                raise CommandError(ERR_NAN_SCORE)
            if (gt and key(new) <= key(cur)) or (lt and key(new) >= key(cur)):
                continue
            if _same_score(c, new, cur):
                applied.append((cur, m))
                incr_result = new
                continue
            changed += 1
        scores[m] = new
        applied.append((new, m))
        incr_result = new
    if e is None and scores:
        ks.raw()[a[1]] = Entry(ZSet(scores))
    if c.log is not None and incr:
        # Logged as the increment, not the sum: replay redoes the same float
        # addition, where DISPLAYF of a NaN sum would lose its sign bit.
        if applied:
            c.log.append([b"ZINCRBY", a[1], a[i], a[i + 1]])
    elif c.log is not None:
        # docs/SPEC.md §5.1: every pair with DISPLAYF scores; with NX/XX/GT/LT only the
        # members that were written, so the frame replays without the flags.
        logged = applied if (nx or xx or gt or lt) else pairs
        if logged:
            frame = [b"ZADD", a[1]]
            for s, m in logged:
                frame += (displayf(s).encode(), m)
            c.log.append(frame)
    if incr:
        return None if incr_result is None else displayf(incr_result).encode()
    return added + changed if b"CH" in flags else added


def cmd_zincrby(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    d = _score_arg(a[2], c)
    e = ks.get_typed(a[1], ZSet)
    scores = {} if e is None else e.value.scores
    cur = scores.get(a[3])
    if cur is None:
        # kevy adds to 0 (0 + -0.0 = 0.0); Redis stores the increment itself.
        new = d if c.zero_equal else 0.0 + d
    else:
        new = cur + d
    if new != new and c.reject_nan:
        raise CommandError(ERR_NAN_SCORE)
    # Redis (zsetAdd) rewrites a score only if it changed by ==, so -0.0 + 0
    # keeps -0.0 stored while the reply says 0; kevy compares bits.
    if cur is None or not _same_score(c, new, cur):
        scores[a[3]] = new
    if e is None:
        ks.raw()[a[1]] = Entry(ZSet(scores))
    if c.log is not None:
        c.log.append([b"ZINCRBY", a[1], a[2], a[3]])
    return displayf(new).encode()


def cmd_zrem(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    e = ks.get_typed(a[1], ZSet)
    if e is None:
        return 0
    scores = e.value.scores
    removed = sum(1 for m in a[2:] if scores.pop(m, None) is not None)
    _gone_if_empty(ks, a[1], scores)
    if removed and c.log is not None:
        c.log.append([b"ZREM", *a[1:]])
    return removed


def cmd_zscore(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    e = ks.get_typed(a[1], ZSet)
    s = None if e is None else e.value.scores.get(a[2])
    return None if s is None else displayf(s).encode()


def cmd_zcard(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    e = ks.get_typed(a[1], ZSet)
    return 0 if e is None else len(e.value)


def ordered(zset: ZSet, c: Ctx) -> list[tuple[bytes, float]]:
    """Members with scores in this profile's order (rule 4)."""
    key = _score_key(c)
    return sorted(zset.scores.items(), key=lambda ms: (key(ms[1]), ms[0]))


def cmd_zrange(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    """ZRANGE k start stop [REV] [WITHSCORES] (index ranges only)."""
    start, stop = c.sint(a[2]), c.sint(a[3])
    opts = [x.upper() for x in a[4:]]
    if any(o not in (b"WITHSCORES", b"REV") for o in opts):
        raise CommandError(ERR_SYNTAX)
    if start is None or stop is None:
        raise CommandError(ERR_NOT_INT)
    e = ks.get_typed(a[1], ZSet)
    if e is None:
        return []
    items = ordered(e.value, c)
    if b"REV" in opts:
        items.reverse()
    lo, hi = _range(start, stop, len(items))
    out: list[bytes] = []
    for m, s in items[lo:hi]:
        out.append(m)
        if b"WITHSCORES" in opts:
            out.append(displayf(s).encode())
    return out


#: verb → (handler, min argc, max argc or None); arity as Redis 7 checks it
COLLECTION_VERBS: dict[bytes, tuple[object, int, int | None]] = {
    b"HSET": (cmd_hset, 4, None),
    b"HGET": (cmd_hget, 3, 3),
    b"HDEL": (cmd_hdel, 3, None),
    b"HINCRBY": (cmd_hincrby, 4, 4),
    b"HGETALL": (cmd_hgetall, 2, 2),
    b"HLEN": (cmd_hlen, 2, 2),
    b"LPUSH": (cmd_lpush, 3, None),
    b"RPUSH": (cmd_rpush, 3, None),
    b"LPOP": (cmd_lpop, 2, 3),
    b"RPOP": (cmd_rpop, 2, 3),
    b"LSET": (cmd_lset, 4, 4),
    b"LREM": (cmd_lrem, 4, 4),
    b"LTRIM": (cmd_ltrim, 4, 4),
    b"LRANGE": (cmd_lrange, 4, 4),
    b"LLEN": (cmd_llen, 2, 2),
    b"SADD": (cmd_sadd, 3, None),
    b"SREM": (cmd_srem, 3, None),
    b"SPOP": (cmd_spop, 2, 3),
    b"SMEMBERS": (cmd_smembers, 2, 2),
    b"SCARD": (cmd_scard, 2, 2),
    b"SISMEMBER": (cmd_sismember, 3, 3),
    b"ZADD": (cmd_zadd, 4, None),
    b"ZREM": (cmd_zrem, 3, None),
    b"ZINCRBY": (cmd_zincrby, 4, 4),
    b"ZSCORE": (cmd_zscore, 3, 3),
    b"ZRANGE": (cmd_zrange, 4, 6),
    b"ZCARD": (cmd_zcard, 2, 2),
}
