"""Seeded differential: the same commands to `ModelKeyspace` and a live redis-server.

Every step sends one random command (few keys so types collide, binary and
edge-case arguments) to both, compares the full replies (error text included)
and then the whole keyspace. Seeds are fixed, so every failure replays with
`pytest tests/test_redis_differential.py -k <seed>`.

Clock: `DEBUG SET-ACTIVE-EXPIRE 0` stops Redis reaping keys on its own; the
model runs at Redis's clock, read with TIME just before each command
(`t0`) and just after (`t1`). Commands whose reply depends on the exact
millisecond (TTL, PTTL) are accepted when Redis's reply lies between the
model's replies at `t1` and at `t0`; deadlines set relative to now are
compared within that step's [t0, t1] window. Generated deadlines are
either in the past or at least 1000 s away, so no key expires between two
reads of the clock (which would make liveness depend on scheduling).

Encodings: Redis stores a -0 score in a listpack-encoded (small) zset as
the integer 0 and keeps -0 in a skiplist; the model runs with
`encodings=True` and follows that (model/keyspace/core.py `_ZSet`), so -0
scores and 65-byte members are generated. Replies and keyspaces compare
scores with their sign. Version rule ZC: 7.2 sizes a new zset by all of
ZADD's members, 7.0 by the first; the generator adds one member at a time.

Rule SUB, a Redis quirk not followed: a subcommand name is looked up in a
dict whose hash covers the whole argument but whose compare is strcasecmp,
so "CREATECONSUMER\\0C" is found or not depending on its hash bucket. The
model treats any such name as unknown; the generator sends NUL-suffixed
words only where Redis parses them with strcasecmp alone (options), and
there the model follows Redis: "NX\\0junk" is NX (model/keyspace/core.py
`_option`), and an argument printed into an error stops at its NUL.

SPOP's pick is random: the model takes the members Redis answered as its
pick (model/keyspace/core.py rule 7) and checks that they are a valid one.

Deliberate non-follows, excluded by rule (the generator never emits them):
approximate trimming, MINID/LIMIT, ENTRIESREAD,
ZRANGE BYSCORE/BYLEX — all `NotModelled`. Consumer groups are compared
whole (XINFO STREAM FULL: cursor, roster, pending entries with delivery
counts as Redis's signed reply prints its uint64), seen and delivery times
within the step's clock window.
"""

from __future__ import annotations

import copy
import math
import os
import random
from typing import Any, NamedTuple

import pytest

from model.keyspace import ErrorReply, ModelKeyspace, canonical_reply
from model.values import StreamID
from tests.redis_server import RedisError, RedisServer, RespClient

#: the model follows Redis 7.2 (model/keyspace/core.py); CI's Debian server is 7.0
FOLLOWED_VERSION = "7.2"
#: servers the differential can vouch for, each with the version rules it needs
SUPPORTED_SERVERS = ("7.0", "7.2")
#: verbs whose replies carry a score printed from a C double
SCORE_VERBS = {b"ZADD", b"ZINCRBY", b"ZSCORE", b"ZRANGE"}
NIGHTLY = os.environ.get("KEVY_VERIFY_PROFILE") == "nightly"
KEYS = [b"a", b"b", b"c\x00", b"\xff"]
VALUES = [b"", b"0", b"-1", b"1.5", b"9223372036854775807", b"-9223372036854775808",
          b"x", b"\x00\r\n", b"inf", b"-0", b"1e3", b"abc" * 20, b"-0.0",
          b"L" * 65]  # fmt: skip
TIME_SENSITIVE = {b"TTL", b"PTTL"}
STREAM_KEY = b"s\x00t"
GROUPS = [b"g", b"h\x00i"]
CONSUMERS = [b"alice", b"b\x00b"]
IDS = [b"1-1", b"2-0", b"2-1", b"5-0", b"0-1"]
#: delivery counts near the top of Redis's signed 64-bit reply range
RETRIES = [b"0", b"3", b"-1", b"9223372036854775806", b"9223372036854775807"]


def _word(r: random.Random, word: bytes, *, nul: bool = True) -> bytes:
    """An option word as a client may send it: any case, sometimes NUL-suffixed
    (Redis compares options with strcasecmp, which stops at the NUL). Rule SUB:
    never for a subcommand name (module doc)."""
    word = word.lower() if r.random() < 0.2 else word
    return word + b"\x00" + word[:1] if nul and r.random() < 0.1 else word


def _key(r: random.Random) -> bytes:
    return r.choice(KEYS)


def _val(r: random.Random) -> bytes:
    if r.random() < 0.3:
        return str(r.randint(-100, 100)).encode()
    return r.choice(VALUES)


def _pick(argv: list[bytes], reply: Any) -> list[bytes] | None:
    """The members Redis's SPOP removed, from its reply (model rule 7)."""
    if argv[0] != b"SPOP":
        return None
    if isinstance(reply, bytes):
        return [reply]
    return list(reply) if isinstance(reply, list) else None


def _command(r: random.Random, now_ms: int, live_ids: list[bytes]) -> list[bytes]:
    """One random command the model specifies (no NotModelled corner)."""
    k, v = _key(r), _val(r)
    score, score2 = v, _val(r)
    far = str(r.randint(1000, 10**6)).encode()
    past = str(now_ms - r.randint(1, 10**6)).encode()
    w = r.choice
    choices: list[list[bytes]] = [
        [b"SET", k, v], [b"SET", k, v, _word(r, w([b"NX", b"XX", b"GET"]))],
        [b"SET", k, v, b"EX", far], [b"GET", k], [b"GETSET", k, v], [b"GETDEL", k],
        [b"APPEND", k, v], [b"INCR", k], [b"DECR", k], [b"INCRBY", k, v], [b"DECRBY", k, v],
        [b"INCRBYFLOAT", k, v], [b"STRLEN", k], [b"DEL", k, _key(r)], [b"EXISTS", k, k],
        [b"TYPE", k], [b"EXPIRE", k, far], [b"PEXPIREAT", k, past], [b"PERSIST", k],
        [b"TTL", k], [b"PTTL", k], [b"EXPIRE", k, far, _word(r, w([b"NX", b"XX", b"GT", b"LT"]))],
        [b"HSET", k, _val(r), v], [b"HGET", k, _val(r)], [b"HDEL", k, _val(r)],
        [b"HINCRBY", k, _val(r), v], [b"HGETALL", k], [b"HLEN", k],
        [b"LPUSH", k, v], [b"RPUSH", k, v, _val(r)], [b"LPOP", k], [b"RPOP", k, b"2"],
        [b"LSET", k, str(r.randint(-3, 3)).encode(), v],
        [b"LREM", k, str(r.randint(-2, 2)).encode(), v],
        [b"LTRIM", k, str(r.randint(-3, 3)).encode(), str(r.randint(-3, 3)).encode()],
        [b"LRANGE", k, b"0", b"-1"], [b"LLEN", k],
        [b"SADD", k, v, _val(r)], [b"SREM", k, v], [b"SMEMBERS", k], [b"SCARD", k],
        [b"SISMEMBER", k, v], [b"SPOP", k], [b"SPOP", k, str(r.randint(-1, 3)).encode()],
        [b"ZADD", k, score, _val(r)], [b"ZADD", k, b"INCR", score, _val(r)],
        [b"ZINCRBY", k, score2, _val(r)], [b"ZREM", k, _val(r)], [b"ZSCORE", k, _val(r)],
        [b"ZCARD", k], [b"ZRANGE", k, b"0", b"-1", b"WITHSCORES"],
        [b"XADD", k, b"*", b"f", v],
        [b"XADD", k, r.choice([b"1-1", b"2-*", b"0-1", b"5"]), b"f", v],
        [b"XADD", k, b"MAXLEN", str(r.randint(0, 3)).encode(), b"*", b"f", v],
        [b"XDEL", k, b"1-1"], [b"XLEN", k], [b"XRANGE", k, b"-", b"+"],
        [b"DBSIZE"],
        *_group_commands(r, k, now_ms, live_ids),
    ]  # fmt: skip
    return r.choice(choices)


def _group_commands(
    r: random.Random, k: bytes, now_ms: int, live_ids: list[bytes]
) -> list[list[bytes]]:
    """Consumer groups, XCLAIM's options, XACK and XSETID: NUL-carrying names, IDs that
    exist or not (`live_ids`: the stream key's newest entries, so claims land),
    delivery counts at the edge of the signed 64-bit range."""
    ids = IDS + live_ids
    g, who, w = r.choice(GROUPS), r.choice(CONSUMERS), r.choice
    # mostly one key only streams are written to, so groups live long enough to claim
    k = STREAM_KEY if r.random() < 0.8 else k
    create = [b"XGROUP", _word(r, b"CREATE", nul=False), k, g, w([b"$", b"0", b"1-1", b"9-9"])]
    if r.random() < 0.5:
        create.append(_word(r, b"MKSTREAM"))
    claim = [b"XCLAIM", k, g, who, w([b"0", b"0", b"100000"])]
    claim += r.sample(ids, r.randint(1, 3))
    for _ in range(r.randint(0, 3)):
        opt = w([b"FORCE", b"JUSTID", b"RETRYCOUNT", b"IDLE", b"TIME", b"LASTID"])
        claim.append(_word(r, opt))
        if opt == b"RETRYCOUNT":
            claim.append(w(RETRIES))
        elif opt == b"IDLE":
            claim.append(str(r.choice([0, 50, 10**6])).encode())
        elif opt == b"TIME":
            claim.append(str(now_ms - r.choice([0, 100, 10**6])).encode())
        elif opt == b"LASTID":
            claim.append(w(ids))
    setid = [b"XSETID", k, w([b"5-0", b"9-9", b"2-1", b"0-0"])]
    if r.random() < 0.5:
        setid += [_word(r, b"ENTRIESADDED"), w([b"3", b"10", b"0"])]
    if r.random() < 0.5:
        setid += [_word(r, b"MAXDELETEDID"), w([b"0-0", b"1-1", b"5-0"])]
    return [
        create, create, [b"XGROUP", _word(r, b"CREATECONSUMER", nul=False), k, g, who],
        claim, claim, claim, setid, [b"XDEL", k, w(ids)],
        [b"XACK", k, g, *r.sample(ids, r.randint(1, 2))],
        [b"XADD", k, w(IDS), b"f", _val(r)], [b"XADD", k, b"*", b"f", _val(r)],
    ]  # fmt: skip


def _to_model_shape(reply: Any) -> Any:
    if isinstance(reply, RedisError):
        return ErrorReply(str(reply))
    if isinstance(reply, list):
        return [_to_model_shape(x) for x in reply]
    return reply


def _live_keyspace(c: RespClient) -> dict[bytes, tuple[str, object, int | None]]:
    """The server's whole keyspace in the model's canonical shapes (KeySnapshot)."""
    out: dict[bytes, tuple[str, object, int | None]] = {}
    for key in sorted(c.call("KEYS", "*")):
        kind = c.call("TYPE", key)
        value: object
        if kind == "string":
            value = c.call("GET", key)
        elif kind == "hash":
            flat = c.call("HGETALL", key)
            value = tuple(sorted(zip(flat[0::2], flat[1::2], strict=True)))
        elif kind == "list":
            value = tuple(c.call("LRANGE", key, 0, -1))
        elif kind == "set":
            value = frozenset(c.call("SMEMBERS", key))
        elif kind == "zset":
            flat = c.call("ZRANGE", key, 0, -1, "WITHSCORES")
            value = tuple((m, float(s)) for m, s in zip(flat[0::2], flat[1::2], strict=True))
        elif kind == "stream":
            value = _live_stream(c.call("XINFO", "STREAM", key, "FULL", "COUNT", "0"))
        else:
            raise AssertionError(f"unexpected type {kind!r}")
        deadline = c.call("PEXPIRETIME", key)
        out[key] = (kind, value, None if deadline == -1 else deadline)
    return out


def _sid(text: bytes) -> StreamID:
    return StreamID(*map(int, text.split(b"-")))


def _wrap64(n: int) -> int:
    # Redis keeps a delivery count in a uint64 and replies with it as a signed integer.
    return (n + 2**63) % 2**64 - 2**63


def _live_stream(full: list[Any]) -> StreamShape:
    """XINFO STREAM ... FULL COUNT 0 in the model's StreamSnapshot terms."""
    info = dict(zip(full[0::2], full[1::2], strict=True))
    entries = tuple(
        (_sid(eid), tuple(zip(f[0::2], f[1::2], strict=True))) for eid, f in info[b"entries"]
    )
    groups = []
    for flat in info[b"groups"]:
        g = dict(zip(flat[0::2], flat[1::2], strict=True))
        consumers = tuple(
            sorted((c[b"name"], c[b"seen-time"])
                   for c in (dict(zip(x[0::2], x[1::2], strict=True)) for x in g[b"consumers"]))
        )  # fmt: skip
        pel = tuple((_sid(i), owner, ms, count) for i, owner, ms, count in g[b"pending"])
        groups.append((g[b"name"], _sid(g[b"last-delivered-id"]), consumers, pel))
    return StreamShape(
        entries, _sid(info[b"last-generated-id"]), _sid(info[b"max-deleted-entry-id"]),
        info[b"entries-added"], tuple(sorted(groups)),
    )  # fmt: skip


class StreamShape(NamedTuple):
    """A stream as both sides can show it; times are compared apart (`_times`)."""

    entries: tuple[Any, ...]
    last_id: StreamID
    max_deleted_id: StreamID
    entries_added: int
    groups: tuple[Any, ...]

    def exact(self) -> tuple[Any, ...]:
        """Everything but the clock readings, delivery counts as Redis prints them."""
        groups = tuple(
            (name, last, tuple(c for c, _ in consumers),
             tuple((i, owner, _wrap64(count)) for i, owner, _, count in pel))
            for name, last, consumers, pel in self.groups
        )  # fmt: skip
        return (self.entries, self.last_id, self.max_deleted_id, self.entries_added, groups)

    def times(self) -> list[int]:
        """Seen-times and delivery times in a fixed order, for `_times_agree`."""
        out: list[int] = []
        for _, _, consumers, pel in self.groups:
            out += [ms for _, ms in consumers] + [ms for _, _, ms, _ in pel]
        return out


def _model_keyspace(model: ModelKeyspace, now_ms: int) -> dict[bytes, Any]:
    out: dict[bytes, tuple[str, object, int | None]] = {}
    for key, snap in model.snapshot(now_ms).items():
        value = snap.value
        if snap.type == "stream":
            st: Any = snap.value
            groups = tuple(
                (g.name, g.last_delivered, g.consumers, g.pel)
                for g in sorted(st.groups, key=lambda g: g.name)
            )
            value = StreamShape(st.entries, st.last_id, st.max_deleted_id, st.entries_added, groups)
        out[key] = (snap.type, value, snap.deadline_ms)
    return out


def _redis_ms(c: RespClient) -> int:
    sec, usec = c.call("TIME")
    return int(sec) * 1000 + int(usec) // 1000


def _signed(value: Any) -> Any:
    """A zset's (member, score) pairs with each score's sign made visible, since
    -0.0 == 0.0 would hide the difference ZSCORE prints."""
    if isinstance(value, tuple) and value and isinstance(value[0], tuple):
        if len(value[0]) == 2 and isinstance(value[0][1], float):
            return tuple((m, sc, math.copysign(1, sc)) for m, sc in value)
    return value


def _score_text_equal(a: Any, b: Any) -> bool:
    """Version rule 7.0 vs 7.2: 7.0 prints a double with %.17g, 7.2 with the shortest
    round-trip text (fpconv_dtoa); both denote the same double, so compare by value
    (and sign: -0 and 0 are equal doubles but different replies)."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_score_text_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, bytes) and isinstance(b, bytes) and a != b:
        try:
            x, y = float(a), float(b)
            return x == y and math.copysign(1, x) == math.copysign(1, y)
        except ValueError:
            return False
    return bool(a == b)


def _newest_ids(model: ModelKeyspace, now_ms: int) -> list[bytes]:
    snap = model.snapshot(now_ms).get(STREAM_KEY)
    if snap is None or snap.type != "stream":
        return []
    return [eid.to_bytes() for eid, _ in snap.value.entries[-3:]]  # type: ignore[attr-defined]


def _xsetid_below_max_deleted(model: ModelKeyspace, argv: list[bytes]) -> bool:
    """Version rule 7.0 (not generated against a 7.0 server): 7.0's XSETID does
    not compare the new ID with the stream's current max_deleted_entry_id, so
    it accepts a last ID below a deleted one, which 7.2 refuses."""
    if argv[0] != b"XSETID":
        return False
    snap = model.snapshot(model.now_ms).get(argv[1])
    if snap is None or snap.type != "stream":
        return False
    return _sid(argv[2]) < snap.value.max_deleted_id  # type: ignore[attr-defined]


def _stamp(argv: list[bytes], reply: Any, t0: int, t1: int) -> int:
    # An auto-ID XADD is stamped at the ms Redis chose (its reply), clamped to [t0, t1].
    if argv[0] == b"XADD" and isinstance(reply, bytes) and b"*" in argv:
        return min(max(int(reply.split(b"-")[0]), t0), t1)
    return t0


def run_differential(
    server: RedisServer, seed: int, steps: int, script: list[list[bytes]] | None = None
) -> int:
    """Drive `steps` commands from `seed` (or the fixed `script`); assert agreement
    after each; return the number of commands sent."""
    redis70 = server.version().startswith("7.0.")  # also: XSETID's max_deleted rule
    c = server.client()
    assert c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == "OK"
    assert c.call("FLUSHALL") == "OK"
    model = ModelKeyspace(encodings=True)  # the server's -0 in a listpack zset
    r = random.Random(seed)
    # deadline tolerance: each deadline set relative to now may sit anywhere in its step's window
    drift: dict[bytes, int] = {}
    window_max = 0
    for step in range(steps if script is None else len(script)):
        t0 = _redis_ms(c)
        argv = _command(r, t0, _newest_ids(model, t0)) if script is None else script[step]
        while script is None and redis70 and _xsetid_below_max_deleted(model, argv):
            argv = _command(r, t0, _newest_ids(model, t0))
        reply = _to_model_shape(c.call(*argv))
        t1 = _redis_ms(c)
        window_max = max(window_max, t1 - t0)
        where = f"seed={seed} step={step} argv={argv!r}"
        if argv[0] in TIME_SENSITIVE:
            late = copy.deepcopy(model).execute(argv, t1)
            early = model.execute(argv, t0)
            if isinstance(reply, int) and isinstance(early, int) and isinstance(late, int):
                # the model's deadline may precede Redis's by the key's drift (module doc)
                slack = drift.get(argv[1], 0)
                slack = slack if argv[0] == b"PTTL" else int(slack > 0)
                top = max(early, late) + (slack if min(early, late) >= 0 else 0)
                assert min(early, late) <= reply <= top, (where, reply, early, late)
            else:
                assert reply == early, (where, reply, early)
        else:
            expected = model.execute(argv, _stamp(argv, reply, t0, t1), chosen=_pick(argv, reply))
            got, want = canonical_reply(argv, reply), canonical_reply(argv, expected)
            if redis70 and argv[0] in SCORE_VERBS:
                assert _score_text_equal(got, want), (where, reply, expected)
            assert (redis70 and argv[0] in SCORE_VERBS) or got == want, (
                where, reply, expected,
            )  # fmt: skip
            if len(argv) > 1:
                relative = argv[0] in (b"EXPIRE", b"SET")
                window = t1 - t0 if relative else 0
                drift[argv[1]] = max(drift.get(argv[1], 0), window)
        live = _live_keyspace(c)
        mine = _model_keyspace(model, t1)
        assert live.keys() == mine.keys(), (where, live.keys(), mine.keys())
        for key, (kind, value, deadline) in live.items():
            m_kind, m_value, m_deadline = mine[key]
            if kind == "stream" and m_kind == "stream":
                assert value.exact() == m_value.exact(), (where, key, value, m_value)
                # the model ran the step at t0, Redis somewhere in [t0, t1]
                for got_ms, want_ms in zip(value.times(), m_value.times(), strict=True):
                    assert 0 <= got_ms - want_ms <= window_max, (where, key, value, m_value)
            else:
                assert (kind, _signed(value)) == (m_kind, _signed(m_value)), (
                    where, key, live[key], mine[key],
                )  # fmt: skip
            if deadline is None or m_deadline is None:
                assert deadline == m_deadline, (where, key, deadline, m_deadline)
            else:
                late_by = deadline - m_deadline
                assert 0 <= late_by <= drift.get(key, 0), (where, key, deadline, m_deadline)
    c.close()
    return steps if script is None else len(script)


@pytest.fixture(scope="module")
def server() -> Any:
    with RedisServer() as s:
        yield s


def test_server_version_is_one_the_differential_knows(server: RedisServer) -> None:
    # The differential only vouches for versions whose differences it has rules for.
    assert server.version().rsplit(".", 1)[0] in SUPPORTED_SERVERS, server.version()


@pytest.mark.parametrize("seed", range(16))
def test_differential_ci(server: RedisServer, seed: int) -> None:
    run_differential(server, seed, 500)


def test_delivery_counter_past_two_to_the_63(server: RedisServer) -> None:
    # A delivery count is a uint64 that Redis replies with as a signed integer:
    # RETRYCOUNT 2^63-1 then one more delivery prints as -2^63 (the class the
    # random walk reaches too rarely to count on).
    s, g = STREAM_KEY, b"g"
    script = [
        [b"XADD", s, b"1-1", b"f", b"v"], [b"XGROUP", b"CREATE", s, g, b"0"],
        [b"XCLAIM", s, g, b"alice", b"0", b"1-1", b"FORCE", b"RETRYCOUNT",
         b"9223372036854775807"],
        [b"XCLAIM", s, g, b"bob", b"0", b"1-1"], [b"XCLAIM", s, g, b"alice", b"0", b"1-1"],
    ]  # fmt: skip
    assert run_differential(server, 0, 0, script) == len(script)


def test_negative_zero_score_follows_the_encoding(server: RedisServer) -> None:
    # A listpack zset stores -0 as the integer 0, a skiplist keeps -0; a set
    # turns into a skiplist for a member over 64 bytes or a 129th member, both
    # when it is created and when it grows.
    many = [w for i in range(1, 129) for w in (b"1", b"m%d" % i)]
    script = [
        [b"ZADD", b"small", b"-0", b"m"], [b"ZSCORE", b"small", b"m"],
        [b"ZADD", b"long", b"1", b"a"], [b"ZADD", b"long", b"1", b"L" * 65],
        [b"ZADD", b"long", b"-0", b"m"], [b"ZSCORE", b"long", b"m"],
        [b"ZADD", b"big", b"1", b"m0"], [b"ZADD", b"big", *many], [b"ZADD", b"big", b"-0", b"m"],
        [b"ZINCRBY", b"big", b"-0", b"m"], [b"ZRANGE", b"big", b"0", b"0", b"WITHSCORES"],
    ]  # fmt: skip
    if not server.version().startswith("7.0."):
        # Version rule ZC: 7.2 sizes a new set by all of ZADD's members, 7.0 by its first
        script += [[b"ZADD", b"new-long", b"-0", b"m", b"1", b"L" * 65],
                   [b"ZSCORE", b"new-long", b"m"]]  # fmt: skip
    assert run_differential(server, 0, 0, script) == len(script)


@pytest.mark.nightly
@pytest.mark.skipif(not NIGHTLY, reason="nightly form: KEVY_VERIFY_PROFILE=nightly")
def test_differential_nightly(server: RedisServer) -> None:
    assert sum(run_differential(server, 1000 + s, 5000) for s in range(20)) >= 100_000
