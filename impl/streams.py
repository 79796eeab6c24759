"""Stream verbs (docs/SPEC.md §4.3, §6.8): XADD, XDEL, XTRIM, XLEN, XRANGE, XSETID, XGROUP,
XCLAIM, XACK.

What: one handler per verb, `handler(ks, argv, ctx) -> reply`, used by live
execution, by kevy's replay when `replay_stream_verbs` / `replay_stream_writes`
are on, and by the Redis-dialect replay.

Why: kevy 1.17's own replay skips every stream verb (docs/SPEC.md §5), so a rewritten
log loses its streams (docs/SPEC.md §4.3); the fix replays exactly the forms the
rewrite emits, whose meaning docs/SPEC.md §6.8 pins down.

Rules (docs/SPEC.md §6.8):
1. An ID is (ms, seq) of u64, text `ms-seq`; parts are UINT split at the first
   `-`; `ms` alone means `ms-0`. Explicit XADD IDs must exceed `last_id` and
   not be 0-0; `*` takes `max(now, last.ms)`; `ms-*` fails below `last.ms`.
2. `last_id` never decreases; `max_deleted_id` is the largest ID removed by
   XDEL/XTRIM/MAXLEN (in a Redis log by XDEL alone, as Redis keeps it);
   `entries_added` counts XADDs. A stream key stays when
   its last entry goes (streams are not collections that vanish).
3. `XADD key MAXLEN 0 <id> x x` creates the key with `last_id = id`, trims the
   dummy entry (`max_deleted_id = id`), `entries_added = 1` (docs/SPEC.md §4.3).
4. XSETID needs the key and `id ≥ top entry`; the Redis dialect and live
   calls add Redis 7's checks on ENTRIESADDED / MAXDELETEDID, kevy's replay
   sets them verbatim (a snapshot may hold inconsistent scalars, docs/SPEC.md §3.6).
   Live calls alone also refuse an ID below the stream's `max_deleted_id`;
   live calls and the Redis dialect read `MAXDELETEDID 0-0` as not given, as
   Redis does (its loader runs the same xsetidCommand).
5. `XCLAIM k g c 0 id… TIME t RETRYCOUNT n FORCE JUSTID` on an existing entry
   installs the PEL row (c, t, n), creating consumer c (last seen = now) if
   missing; on a missing entry it removes any row. FORCE on an entry no one
   read starts its row's count at 0 in kevy, at 1 in Redis (then, as in both,
   +1 unless JUSTID or RETRYCOUNT): switch `redis_xclaim_force_count`. An
   existing claiming consumer keeps its seen-time in kevy; Redis sets it to
   now with every row it claims: switch `redis_xclaim_seen_time`. A live XCLAIM is logged
   verbatim, unless `xclaim_logs_time` (F16) logs that absolute form (plus
   LASTID) once per PEL row it changed, as Redis does.
6. CREATECONSUMER stamps `last_seen_ms` with the clock (docs/SPEC.md §6.8).
7. Live calls check their arguments in Redis 7.2's order (which error a
   malformed call gets); kevy 1.17's replay skips stream verbs, so these
   replies are ours under both profiles.
"""

from __future__ import annotations

from collections.abc import Sequence

from impl.commands_base import (
    ERR_NO_KEY,
    ERR_NOT_INT,
    ERR_SYNTAX,
    CommandError,
    Ctx,
    Reply,
    wrong_args,
)
from impl.keyspace import Entry, Keyspace, PelRow, Stream, StreamGroup, StreamId
from impl.numbers import U64_MAX, parse_uint

__all__ = ["STREAM_REWRITE_VERBS", "STREAM_VERBS", "STREAM_WRITE_VERBS", "parse_stream_id"]

_ERR_ID = "ERR Invalid stream ID specified as stream command argument"
_ERR_XADD_SMALL = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
_ERR_XADD_ZERO = "ERR The ID specified in XADD must be greater than 0-0"
_ERR_EXHAUSTED = "ERR The stream has exhausted the last possible ID, unable to add more items"
_ERR_NEED_KEY = (
    "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may "
    "want to use the MKSTREAM option to create an empty stream automatically."
)
_MAX_ID = (U64_MAX, U64_MAX)


def _fmt(sid: StreamId) -> bytes:
    return b"%d-%d" % sid


def parse_stream_id(raw: bytes, default_seq: int = 0) -> StreamId | None:
    """`ms` or `ms-seq` (rule 1); None if malformed."""
    ms_text, dash, seq_text = raw.partition(b"-")
    ms = parse_uint(ms_text)
    seq = parse_uint(seq_text) if dash else default_seq
    if ms is None or seq is None:
        return None
    return ms, seq


def _id_arg(raw: bytes, default_seq: int = 0) -> StreamId:
    sid = parse_stream_id(raw, default_seq)
    if sid is None:
        raise CommandError(_ERR_ID)
    return sid


def _stream(ks: Keyspace, key: bytes) -> Stream | None:
    e = ks.get_typed(key, Stream)
    return None if e is None else e.value


def _group(ks: Keyspace, key: bytes, name: bytes, missing: str) -> tuple[Stream, StreamGroup]:
    st = _stream(ks, key)
    if st is None:
        raise CommandError(missing)
    g = st.groups.get(name)
    if g is None:
        raise CommandError(
            f"NOGROUP No such consumer group '{name.decode('latin-1')}' "
            f"for key name '{key.decode('latin-1')}'"
        )
    return st, g


def _trim(st: Stream, maxlen: int, c: Ctx) -> int:
    """Remove the oldest entries beyond `maxlen`; return how many (rule 2).

    kevy raises `max_deleted_id` as it trims; Redis moves it on XDEL only
    (trimming only ever removes the head), so a Redis log is replayed that way.
    """
    raise_max_deleted = not c.redis_dialect
    excess = len(st.entries) - maxlen
    if excess <= 0:
        return 0
    for sid in st.sorted_ids()[:excess]:
        del st.entries[sid]
        if raise_max_deleted:
            st.max_deleted_id = max(st.max_deleted_id, sid)
    return excess


def _maxlen_arg(a: Sequence[bytes], i: int, c: Ctx) -> tuple[int, int]:
    """Parse `MAXLEN [=] n` at a[i] (the MAXLEN word); return (n, next index)."""
    i += 1
    if i < len(a) and a[i] == b"=":
        i += 1
    if i >= len(a):
        raise CommandError(ERR_SYNTAX)
    n = c.sint(a[i])
    if n is None:
        raise CommandError(ERR_NOT_INT)
    if n < 0:
        raise CommandError("ERR The MAXLEN argument must be >= 0.")
    return n, i + 1


def _xadd_id_arg(raw: bytes) -> tuple[StreamId, bool] | None:
    """XADD's ID argument, parsed before the key is looked up (rule 1): None
    for `*`, else (id, seq given); `ms-*` is (ms-0, False)."""
    if raw == b"*":
        return None
    ms_text, dash, seq_text = raw.partition(b"-")
    if dash and seq_text == b"*":
        ms = parse_uint(ms_text)
        if ms is None:
            raise CommandError(_ERR_ID)
        return (ms, 0), False
    return _id_arg(raw), True


def _next_id(given: tuple[StreamId, bool] | None, last: StreamId, now: int) -> StreamId:
    """The ID an XADD resolves to against the stream's `last` (rule 1). The
    caller has already refused an exhausted stream (`last` = max-max)."""
    if given is None:
        ms = max(now, last[0])
        if ms != last[0]:
            return ms, 0
        if last[1] < U64_MAX:
            return ms, last[1] + 1
        return ms + 1, 0
    sid, seq_given = given
    if not seq_given:  # ms-*: continue that millisecond's sequence
        ms = sid[0]
        if ms < last[0] or (ms == last[0] and last[1] == U64_MAX):
            raise CommandError(_ERR_XADD_SMALL)
        return (ms, last[1] + 1) if ms == last[0] else (ms, 0)
    if sid <= last:
        raise CommandError(_ERR_XADD_SMALL)
    return sid


def cmd_xadd(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    """XADD k [NOMKSTREAM] [MAXLEN [=] n] <id|*|ms-*> f v [f v …].

    Checks run in Redis 7.2's order (t_stream.c xaddCommand), which decides
    the error a malformed call gets: the options and the ID, the field count,
    0-0, the key (WRONGTYPE; NOMKSTREAM on a missing key answers nil), an
    exhausted stream, then the ID against the top item.
    """
    i, maxlen, nomk = 2, None, False
    given: tuple[StreamId, bool] | None = None
    while i < len(a):
        if a[i] == b"*":
            break
        opt = c.option(a[i])
        if opt == b"NOMKSTREAM":
            nomk, i = True, i + 1
        elif opt == b"MAXLEN" and i + 1 < len(a):
            if maxlen is not None:
                raise CommandError(
                    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
                )
            maxlen, i = _maxlen_arg(a, i, c)
        else:
            given = _xadd_id_arg(a[i])
            break
    fields = len(a) - i - 1
    if fields < 2 or fields % 2:
        raise CommandError(wrong_args("xadd"))
    if given == ((0, 0), True):
        raise CommandError(_ERR_XADD_ZERO)
    st = _stream(ks, a[1])
    if st is None and nomk:
        return None
    last = (0, 0) if st is None else st.last_id
    if last == _MAX_ID:
        raise CommandError(_ERR_EXHAUSTED)
    sid = _next_id(given, last, ks.now())
    if st is None:
        st = Stream()
        ks.raw()[a[1]] = Entry(st)
    st.entries[sid] = [(a[j], a[j + 1]) for j in range(i + 1, len(a), 2)]
    st.last_id = sid
    st.entries_added += 1
    if maxlen is not None:
        _trim(st, maxlen, c)
    if c.log is not None:
        frame = [b"XADD", a[1]]
        if maxlen is not None:
            frame += (b"MAXLEN", b"%d" % maxlen)
        c.log.append([*frame, _fmt(sid), *a[i + 1 :]])
    return _fmt(sid)


def cmd_xdel(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    # Redis 7.2 looks the key up first (a missing key answers 0 whatever the
    # IDs), then parses every ID before deleting any.
    st = _stream(ks, a[1])
    if st is None:
        return 0
    ids = [_id_arg(x) for x in a[2:]]
    removed = 0
    for sid in ids:
        if st.entries.pop(sid, None) is not None:
            removed += 1
            st.max_deleted_id = max(st.max_deleted_id, sid)
    if removed and c.log is not None:
        c.log.append([b"XDEL", *a[1:]])
    return removed


def cmd_xtrim(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    """XTRIM k MAXLEN [=] n."""
    if c.option(a[2]) != b"MAXLEN":
        raise CommandError(ERR_SYNTAX)
    maxlen, end = _maxlen_arg(a, 2, c)
    if end != len(a):
        raise CommandError(ERR_SYNTAX)
    st = _stream(ks, a[1])
    removed = 0 if st is None else _trim(st, maxlen, c)
    if removed and c.log is not None:
        c.log.append([b"XTRIM", a[1], b"MAXLEN", b"%d" % maxlen])
    return removed


def cmd_xlen(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    st = _stream(ks, a[1])
    return 0 if st is None else len(st.entries)


def _bound(raw: bytes, is_start: bool) -> StreamId:
    """An XRANGE bound as an inclusive ID. An exclusive bound past either end
    of the ID space is an error, as Redis's streamIncrID/streamDecrID make it."""
    if raw == b"-":
        return (0, 0)
    if raw == b"+":
        return _MAX_ID
    exclusive = raw.startswith(b"(")
    sid = _id_arg(raw[1:] if exclusive else raw, 0 if is_start else U64_MAX)
    if not exclusive:
        return sid
    as_int = (sid[0] << 64) | sid[1]
    as_int += 1 if is_start else -1
    if not 0 <= as_int < 1 << 128:
        raise CommandError(
            "ERR invalid start ID for the interval"
            if is_start
            else "ERR invalid end ID for the interval"
        )
    return as_int >> 64, as_int & U64_MAX


def _entry_reply(st: Stream, sid: StreamId) -> list[object]:
    return [_fmt(sid), [x for pair in st.entries[sid] for x in pair]]


def cmd_xrange(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    """XRANGE k start end [COUNT n]… (Redis 7.2 xrangeGenericCommand: the last
    COUNT wins; a missing key answers an empty array, COUNT <= 0 on a stream a
    nil array)."""
    lo, hi = _bound(a[2], True), _bound(a[3], False)
    count = None
    j = 4
    while j < len(a):
        if c.option(a[j]) != b"COUNT" or j + 1 >= len(a):
            raise CommandError(ERR_SYNTAX)
        count = c.sint(a[j + 1])
        if count is None:
            raise CommandError(ERR_NOT_INT)
        j += 2
    st = _stream(ks, a[1])
    if st is None:
        return []
    if count is not None and count <= 0:
        return None
    ids = [sid for sid in st.sorted_ids() if lo <= sid <= hi]
    return [_entry_reply(st, sid) for sid in ids[:count]]


def cmd_xsetid(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    """XSETID k id [ENTRIESADDED n] [MAXDELETEDID id] (rule 4).

    Redis 7.2 (t_stream.c xsetidCommand) checks each option as it parses it,
    all before the key is looked up: so a bad ENTRIESADDED or a MAXDELETEDID
    above the ID fails even on a missing key.
    """
    sid = _id_arg(a[2])
    redis_checks = not c.replay or c.redis_dialect
    # Only a live call: kevy's replay applies what the rewrite wrote, and an
    # XSETID in a Redis log was accepted by a Redis whose MAXLEN never raises
    # max_deleted_id (impl's does: KNOWN_DIFFERENCES "XADD ... MAXLEN n").
    live = not c.replay
    added = mxd = None
    ignored_zero = False
    i = 3
    while i < len(a):
        opt = c.option(a[i])
        if opt == b"ENTRIESADDED" and i + 1 < len(a):
            if redis_checks:
                added = c.sint(a[i + 1])
                if added is None:
                    raise CommandError(ERR_NOT_INT)
                if added < 0:
                    raise CommandError("ERR entries_added must be positive")
            else:
                # kevy's own counter is a u64, and the rewrite writes it in full:
                # kevy's UINT whatever grammar the profile gives client arguments
                # (with `redis_strict_numbers`, `c.uint` stops at i64, and the
                # rewrite's XSETID of a counter past 2^63 - 1 was dropped, taking the
                # stream's last ID back to its top entry's).
                added = parse_uint(a[i + 1])
                if added is None:
                    raise CommandError("ERR entries_added must be positive")
        elif opt == b"MAXDELETEDID" and i + 1 < len(a):
            mxd = _id_arg(a[i + 1])
            if redis_checks and sid < mxd:
                raise CommandError(
                    "ERR The ID specified in XSETID is smaller than the provided "
                    "max_deleted_entry_id"
                )
            # Redis reads MAXDELETEDID 0-0 as not given, also while loading its own
            # log (xsetidCommand runs either way); kevy's replay sets it verbatim.
            ignored_zero = redis_checks and mxd == (0, 0)
            if ignored_zero:
                mxd = None
        else:
            raise CommandError(ERR_SYNTAX)
        i += 2
    st = _stream(ks, a[1])
    if st is None:
        raise CommandError(ERR_NO_KEY)
    if live and sid < st.max_deleted_id:
        raise CommandError(
            "ERR The ID specified in XSETID is smaller than current max_deleted_entry_id"
        )
    # Redis 7.2 (t_stream.c xsetidCommand) checks the ID against the top item
    # before entries_added against the length: the first failing check names
    # the error the client sees.
    if st.entries and sid < st.top_id():
        raise CommandError(
            "ERR The ID specified in XSETID is smaller than the target stream top item"
        )
    if redis_checks and added is not None and len(st.entries) > added:
        raise CommandError(
            "ERR The entries_added specified in XSETID is smaller than the target stream length"
        )
    st.last_id = sid
    if added is not None:
        st.entries_added = added
    if mxd is not None:
        st.max_deleted_id = mxd
    if c.log is not None:
        if ignored_zero:
            # Replay sets MAXDELETEDID verbatim (a rewrite may need 0-0), so
            # the frame says what this call did instead.
            frame = [b"XSETID", a[1], _fmt(sid)]
            if added is not None:
                frame += (b"ENTRIESADDED", b"%d" % added)
            c.log.append(frame)
        else:
            c.log.append([b"XSETID", *a[1:]])
    return "OK"


# -- consumer groups ---------------------------------------------------------------


def _xgroup_create(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    """XGROUP CREATE k g <id|$> [MKSTREAM] [ENTRIESREAD n]."""
    if len(a) < 5:
        raise CommandError(wrong_args("xgroup|create"))
    mkstream = False
    i = 5
    while i < len(a):
        opt = c.option(a[i])
        if opt == b"MKSTREAM":
            mkstream, i = True, i + 1
        elif opt == b"ENTRIESREAD" and i + 1 < len(a):
            i += 2  # the read counter is not part of kevy's group state
        else:
            raise CommandError(_subcommand_syntax(a))
    # Redis 7.2 (t_stream.c xgroupCommand): the key (WRONGTYPE, then "requires
    # the key" without MKSTREAM) before the ID, the ID before BUSYGROUP.
    st = _stream(ks, a[2])
    if st is None and not mkstream:
        raise CommandError(_ERR_NEED_KEY)
    sid = None if a[4] == b"$" else _id_arg(a[4])
    if st is not None and a[3] in st.groups:
        raise CommandError("BUSYGROUP Consumer Group name already exists")
    if st is None:
        st = Stream()
        ks.raw()[a[2]] = Entry(st)
    last = st.last_id if sid is None else sid
    st.groups[a[3]] = StreamGroup(last_delivered=last)
    if c.log is not None:
        frame = [b"XGROUP", b"CREATE", a[2], a[3], _fmt(last)]
        c.log.append([*frame, b"MKSTREAM"] if mkstream else frame)
    return "OK"


def _subcommand_syntax(a: Sequence[bytes]) -> str:
    """Redis's addReplySubcommandSyntaxError: the subcommand as the client spelled it."""
    return (
        f"ERR unknown subcommand or wrong number of arguments for "
        f"'{a[1][:128].decode('latin-1')}'. Try {a[0].decode('latin-1').upper()} HELP."
    )


def _xgroup_createconsumer(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    if len(a) != 5:
        raise CommandError(wrong_args("xgroup|createconsumer"))
    _, g = _group(ks, a[2], a[3], _ERR_NEED_KEY)
    if a[4] in g.consumers:
        return 0
    g.consumers[a[4]] = ks.now()
    if c.log is not None:
        c.log.append([b"XGROUP", b"CREATECONSUMER", a[2], a[3], a[4]])
    return 1


def _xgroup_setid(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    """XGROUP SETID k g <id|$> [ENTRIESREAD n]."""
    if len(a) not in (5, 7):
        raise CommandError(wrong_args("xgroup|setid"))
    st, g = _group(ks, a[2], a[3], _ERR_NEED_KEY)
    g.last_delivered = st.last_id if a[4] == b"$" else _id_arg(a[4])
    if c.log is not None:
        c.log.append([b"XGROUP", b"SETID", a[2], a[3], _fmt(g.last_delivered)])
    return "OK"


def _xgroup_destroy(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    if len(a) != 4:
        raise CommandError(wrong_args("xgroup|destroy"))
    st = _stream(ks, a[2])
    if st is None:
        raise CommandError(_ERR_NEED_KEY)
    if st.groups.pop(a[3], None) is None:
        return 0
    if c.log is not None:
        c.log.append([b"XGROUP", b"DESTROY", a[2], a[3]])
    return 1


def _xgroup_delconsumer(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    if len(a) != 5:
        raise CommandError(wrong_args("xgroup|delconsumer"))
    _, g = _group(ks, a[2], a[3], _ERR_NEED_KEY)
    if a[4] not in g.consumers:
        return 0
    owned = [sid for sid, row in g.pel.items() if row.owner == a[4]]
    for sid in owned:
        del g.pel[sid]
    del g.consumers[a[4]]
    if c.log is not None:
        c.log.append([b"XGROUP", b"DELCONSUMER", a[2], a[3], a[4]])
    return len(owned)


_XGROUP = {
    b"CREATE": _xgroup_create,
    b"CREATECONSUMER": _xgroup_createconsumer,
    b"SETID": _xgroup_setid,
    b"DESTROY": _xgroup_destroy,
    b"DELCONSUMER": _xgroup_delconsumer,
}
#: the XGROUP subcommands the rewrite emits (docs/SPEC.md §4.3)
_XGROUP_REWRITE = (b"CREATE", b"CREATECONSUMER")
_XGROUP_ALL = tuple(_XGROUP)


def _xgroup(allowed: Sequence[bytes], ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    # A shared function under thin `def`s, not a closure built at import
    # (impl/commands_keys.py `_flush` says why).
    sub = a[1].upper()
    if sub not in allowed:
        if c.replay:
            raise CommandError(f"XGROUP {sub.decode('latin-1')} is not replayed")
        raise CommandError(f"ERR unknown subcommand '{a[1].decode('latin-1')}'. Try XGROUP HELP.")
    return _XGROUP[sub](ks, a, c)


def cmd_xgroup(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    """XGROUP with every subcommand (live, the Redis dialect, `replay_stream_writes`)."""
    return _xgroup(_XGROUP_ALL, ks, a, c)


def replay_xgroup_rewrite(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    """XGROUP as `replay_stream_verbs` replays it: the rewrite's subcommands only."""
    return _xgroup(_XGROUP_REWRITE, ks, a, c)


def cmd_xclaim(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    """XCLAIM k g consumer min-idle id… [IDLE ms] [TIME ms] [RETRYCOUNT n] [FORCE] [JUSTID]
    [LASTID id] (rule 5)."""
    # Redis 7.2 (t_stream.c xclaimCommand) wants the key and the group before
    # it parses anything, and names neither precisely.
    st = _stream(ks, a[1])
    g = None if st is None else st.groups.get(a[2])
    if st is None or g is None:
        raise CommandError(
            f"NOGROUP No such key '{a[1].decode('latin-1')}' or "
            f"consumer group '{a[2].decode('latin-1')}'"
        )
    min_idle = c.sint(a[4])
    if min_idle is None:
        raise CommandError("ERR Invalid min-idle-time argument for XCLAIM")
    now = ks.now()
    # The IDs run up to the first argument that is not one, which starts the
    # options (so with no ID at all, the first argument is an unknown option).
    i, ids = 5, []
    while i < len(a):
        sid = parse_stream_id(a[i])
        if sid is None:
            break
        ids.append(sid)
        i += 1
    deliver_at, retry, force, justid, lastid = now, None, False, False, None
    while i < len(a):
        opt, more = c.option(a[i]), i + 1 < len(a)
        if opt in (b"IDLE", b"TIME", b"RETRYCOUNT") and more:
            n = c.sint(a[i + 1])
            if n is None:
                raise CommandError(
                    f"ERR Invalid {opt.decode('latin-1')} option argument for XCLAIM"
                )
            if opt == b"IDLE":
                deliver_at = now - n
            elif opt == b"TIME":
                deliver_at = n
            else:
                retry = n
            i += 2
        elif opt == b"LASTID" and more:
            lastid, i = _id_arg(a[i + 1]), i + 2
        elif opt in (b"FORCE", b"JUSTID"):
            force, justid = force or opt == b"FORCE", justid or opt == b"JUSTID"
            i += 1
        else:
            raise CommandError(f"ERR Unrecognized XCLAIM option '{a[i].decode('latin-1')}'")
    moved = False
    if lastid is not None and lastid > g.last_delivered:
        g.last_delivered, moved = lastid, True
    out: list[object] = []
    #: (id, row) for every PEL row this call installed or dropped, for the log
    changed: list[tuple[StreamId, PelRow]] = []
    for sid in ids:
        row = g.pel.get(sid)
        if sid not in st.entries:
            # The entry is gone: drop its row instead of claiming a tombstone.
            dropped = g.pel.pop(sid, None)
            if dropped is not None:
                changed.append((sid, dropped))
            continue
        if row is None:
            if not force:
                continue
            row = PelRow(a[3], now, 1 if c.force_count_one else 0)
        elif min_idle > 0 and now - row.delivery_ms < min_idle:
            continue
        count = retry if retry is not None else row.delivery_count + (0 if justid else 1)
        g.pel[sid] = new = PelRow(a[3], max(0, deliver_at), count)
        changed.append((sid, new))
        if c.claim_refreshes_seen:
            g.consumers[a[3]] = now  # Redis: the claiming consumer is seen now
        else:
            g.consumers.setdefault(a[3], now)
        out.append(_fmt(sid) if justid else _entry_reply(st, sid))
    if c.log is not None:
        if c.xclaim_logs_time:
            _log_xclaim_rows(c.log, a[1], a[2], g, changed, moved)
        else:
            # Verbatim: IDLE, a missing TIME and the count's increment are
            # re-read against the replay clock and the replayed row (F16).
            c.log.append([b"XCLAIM", *a[1:]])
    return out


def _log_xclaim_rows(
    log: list[list[bytes]],
    key: bytes,
    group: bytes,
    g: StreamGroup,
    changed: list[tuple[StreamId, PelRow]],
    moved: bool,
) -> None:
    """Switch `xclaim_logs_time` (F16): log an XCLAIM as Redis 7 propagates it
    (t_stream.c streamPropagateXCLAIM), one absolute frame per PEL row it changed,
    so replay at any later time installs the same (owner, delivery time, count).

    A row dropped because its entry is gone is logged with its old values: the
    entry is gone at replay too, so the frame drops the row there. A call that
    changed no row but moved the group's last-delivered ID logs XGROUP SETID,
    as Redis's streamPropagateGroupID does (replayed under `replay_stream_writes`,
    like every live stream write that is not one of the rewrite's forms).
    """
    last = _fmt(g.last_delivered)
    for sid, row in changed:
        log.append(
            [
                b"XCLAIM",
                key,
                group,
                row.owner,
                b"0",
                _fmt(sid),
                b"TIME",
                b"%d" % row.delivery_ms,
                b"RETRYCOUNT",
                b"%d" % row.delivery_count,
                b"FORCE",
                b"JUSTID",
                b"LASTID",
                last,
            ]
        )
    if moved and not changed:
        log.append([b"XGROUP", b"SETID", key, group, last])


def cmd_xack(ks: Keyspace, a: Sequence[bytes], c: Ctx) -> Reply:
    ids = [_id_arg(x) for x in a[3:]]
    st = _stream(ks, a[1])
    g = None if st is None else st.groups.get(a[2])
    if g is None:
        return 0
    acked = sum(1 for sid in ids if g.pel.pop(sid, None) is not None)
    if acked and c.log is not None:
        c.log.append([b"XACK", *a[1:]])
    return acked


#: verb → (handler, min argc, max argc or None); everything live execution offers
STREAM_VERBS: dict[bytes, tuple[object, int, int | None]] = {
    b"XADD": (cmd_xadd, 5, None),
    b"XDEL": (cmd_xdel, 3, None),
    b"XTRIM": (cmd_xtrim, 4, None),
    b"XLEN": (cmd_xlen, 2, 2),
    b"XRANGE": (cmd_xrange, 4, None),
    b"XSETID": (cmd_xsetid, 3, None),
    b"XGROUP": (cmd_xgroup, 2, None),
    b"XCLAIM": (cmd_xclaim, 6, None),
    b"XACK": (cmd_xack, 4, None),
}

#: the verbs the rewrite emits (docs/SPEC.md §4.3), replayed under `replay_stream_verbs`
STREAM_REWRITE_VERBS: dict[bytes, tuple[object, int]] = {
    b"XADD": (cmd_xadd, 5),
    b"XSETID": (cmd_xsetid, 3),
    b"XGROUP": (replay_xgroup_rewrite, 2),
    b"XCLAIM": (cmd_xclaim, 6),
}

#: every stream write: the Redis dialect, or kevy's replay under `replay_stream_writes`
STREAM_WRITE_VERBS: dict[bytes, tuple[object, int]] = {
    b"XADD": (cmd_xadd, 5),
    b"XDEL": (cmd_xdel, 3),
    b"XTRIM": (cmd_xtrim, 4),
    b"XSETID": (cmd_xsetid, 3),
    b"XGROUP": (cmd_xgroup, 2),
    b"XCLAIM": (cmd_xclaim, 6),
    b"XACK": (cmd_xack, 4),
}
