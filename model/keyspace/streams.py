"""Stream (t_stream.c) verbs of the Redis model.

Part of the `model.keyspace` package (split by value type); the registry of
verbs lives in `model/keyspace/__init__.py`.
"""

from __future__ import annotations

from typing import Any

from model.keyspace.core import (
    INVALID_STREAM_ID,
    NO_SUCH_KEY,
    NOT_INTEGER,
    SYNTAX,
    ErrorReply,
    ModelKeyspace,
    NotModelled,
    Reply,
    _arity_error,
    _arity_ok,
    _ctext,
    _option,
    _text,
    _upper,
)
from model.values import (
    MAX_ID,
    U64_MAX,
    ZERO_ID,
    Group,
    Pending,
    Stream,
    StreamID,
    parse_ll,
    parse_stream_id,
)

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
        opt = _option(args[i])
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


def _xack(db: ModelKeyspace, args: list[bytes]) -> Reply:
    """XACK key group id... (t_stream.c xackCommand, Redis 7.2 order): the key's type,
    then a missing key or group acknowledges nothing, then every ID is parsed before
    any row is removed."""
    stream = _lookup_stream(db, args[1])
    if isinstance(stream, ErrorReply):
        return stream
    group = None if stream is None else stream.groups.get(args[2])
    if group is None:
        return 0
    ids = []
    for arg in args[3:]:
        parsed = parse_stream_id(arg, missing_seq=0, strict=True, allow_auto_seq=False)
        if parsed is None:
            return INVALID_STREAM_ID
        ids.append(parsed[0])
    return sum(1 for entry_id in ids if group.pel.pop(entry_id, None) is not None)


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
        if _option(args[j]) == b"COUNT" and j + 1 < len(args):
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
        opt = _option(args[i])
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
        f"ERR unknown subcommand or wrong number of arguments for '{_ctext(args[1])[:128]}'. "
        f"Try {_text(args[0]).upper()} HELP."
    )


_XGROUP_SUBCOMMANDS = {"CREATE": -5, "CREATECONSUMER": 5}
_XGROUP_NOT_MODELLED = {"DESTROY", "SETID", "DELCONSUMER", "HELP"}


def _xgroup(db: ModelKeyspace, args: list[bytes]) -> Reply:
    sub = _upper(args[1]).decode("latin-1")
    if sub in _XGROUP_NOT_MODELLED:
        raise NotModelled(f"XGROUP {sub} is outside this specification")
    if sub not in _XGROUP_SUBCOMMANDS:
        return ErrorReply(f"ERR unknown subcommand '{_ctext(args[1])[:128]}'. Try XGROUP HELP.")
    if not _arity_ok(_XGROUP_SUBCOMMANDS[sub], len(args)):
        return _arity_error(f"xgroup|{sub.lower()}")
    mkstream = False
    if sub == "CREATE":
        for opt in args[5:]:
            if _option(opt) == b"MKSTREAM":
                mkstream = True
            elif _option(opt) == b"ENTRIESREAD":
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
                f"NOGROUP No such consumer group '{_ctext(name)}' for key name '{_ctext(args[2])}'"
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
            f"NOGROUP No such key '{_ctext(args[1])}' or consumer group '{_ctext(args[2])}'"
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
        opt = _option(args[j])
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
            return ErrorReply(f"ERR Unrecognized XCLAIM option '{_ctext(args[j])}'")
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
