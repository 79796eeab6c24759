"""Hash (t_hash.c) and list (t_list.c) verbs of the Redis model.

Part of the `model.keyspace` package (split by value type); the registry of
verbs lives in `model/keyspace/__init__.py`.
"""

from __future__ import annotations

from model.keyspace.core import (
    NO_SUCH_KEY,
    NOT_INTEGER,
    OUT_OF_RANGE,
    OVERFLOW,
    ErrorReply,
    ModelKeyspace,
    Reply,
    _arity_error,
    _text,
)
from model.values import (
    I64_MAX,
    I64_MIN,
    parse_ll,
)

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


def _pop_count(args: list[bytes]) -> int | ErrorReply | None:
    """The optional count of LPOP/RPOP/SPOP (argv[2]); None when absent."""
    if len(args) < 3:
        return None
    # getPositiveLongFromObjectOrReply passes its "must be positive" text down
    # to getLongLongFromObjectOrReply (object.c), so a count that is not an
    # integer gets that text too, not "not an integer".
    count = parse_ll(args[2])
    if count is None or count < 0:
        return ErrorReply("ERR value is out of range, must be positive")
    return count


def _pop(db: ModelKeyspace, args: list[bytes], head: bool) -> Reply:
    """popGenericCommand: without count a bulk reply, with count an array reply."""
    if len(args) > 3:
        return _arity_error(_text(args[0]).lower())
    count = _pop_count(args)
    if isinstance(count, ErrorReply):
        return count
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
