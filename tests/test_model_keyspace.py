"""Hand-worked cases and properties for `model/keyspace/` and `model/values.py`.

Each expected reply is worked out from Redis 7.2 semantics by hand (the source
function is named where it is not obvious), never by running the model.
"""

from __future__ import annotations

import json
import struct
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.keyspace import (
    COMMANDS,
    KNOWN_DIFFERENCES,
    ErrorReply,
    KeySnapshot,
    ModelKeyspace,
    NotModelled,
    canonical_reply,
)
from model.values import (
    _POWERS_TEN,
    StreamID,
    format_double,
    format_long_double_human,
    fpconv_dtoa,
    parse_double,
    parse_ll,
    parse_long_double,
    parse_stream_id,
)

T0 = 1_700_000_000_000
WRONGTYPE = ErrorReply("WRONGTYPE Operation against a key holding the wrong kind of value")
NOT_INT = ErrorReply("ERR value is not an integer or out of range")
SYNTAX = ErrorReply("ERR syntax error")


class Session:
    """A keyspace plus a clock; `s("SET k v")` runs a space-separated command."""

    def __init__(self) -> None:
        self.ks = ModelKeyspace()
        self.now = T0

    def __call__(self, line: str | list[bytes], at: int | None = None):
        if at is not None:
            self.now = at
        argv = line if isinstance(line, list) else [w.encode() for w in line.split(" ")]
        return self.ks.execute(argv, self.now)

    def snap(self) -> dict[bytes, KeySnapshot]:
        return self.ks.snapshot(self.now)


@pytest.fixture
def s() -> Session:
    return Session()


def err(text: str) -> ErrorReply:
    return ErrorReply(text)


# ----------------------------------------------------------------- dispatch


def test_unknown_verb_and_case_insensitive(s: Session) -> None:
    assert s("FOO a b") == err("ERR unknown command 'FOO', with args beginning with: 'a' 'b' ")
    assert s("set k v") == "OK"
    assert s("gEt k") == b"v"


def test_arity_errors_use_lowercase_name(s: Session) -> None:
    assert s("GET") == err("ERR wrong number of arguments for 'get' command")
    assert s("Del") == err("ERR wrong number of arguments for 'del' command")
    assert s("HSET h f") == err("ERR wrong number of arguments for 'hset' command")
    assert s("HSET h f v g") == err("ERR wrong number of arguments for 'hset' command")
    assert s("XGROUP CREATE k g") == err(
        "ERR wrong number of arguments for 'xgroup|create' command"
    )
    assert s.snap() == {}


# ------------------------------------------------------------------ strings


def test_set_options(s: Session) -> None:
    assert s("SET k v NX") == "OK"
    assert s("SET k w NX") is None
    assert s("SET k w XX") == "OK"
    assert s("SET j w XX") is None
    assert s("SET k v NX XX") == SYNTAX
    assert s("SET k v EX 10 PX 10") == SYNTAX
    assert s("SET k v EX 10 KEEPTTL") == SYNTAX
    assert s("SET k v EX") == SYNTAX
    assert s("SET k v BOGUS") == SYNTAX
    assert s("SET k v EX 0") == err("ERR invalid expire time in 'set' command")
    assert s("SET k v PX -5") == err("ERR invalid expire time in 'set' command")
    assert s("SET k v EX 1.5") == NOT_INT
    assert s("GET k") == b"w"  # none of the failed SETs changed anything


def test_set_ttl_forms_and_keepttl(s: Session) -> None:
    assert s("SET k v EX 10") == "OK"
    assert s.snap()[b"k"].deadline_ms == T0 + 10_000
    assert s("SET k v2 KEEPTTL") == "OK"
    assert s.snap()[b"k"] == KeySnapshot("string", b"v2", T0 + 10_000)
    assert s("SET k v3") == "OK"  # a plain SET clears the TTL
    assert s.snap()[b"k"].deadline_ms is None
    assert s(f"SET k v PXAT {T0 + 5}") == "OK"
    assert s("PTTL k") == 5
    assert s(f"SET k v EXAT {T0 // 1000 + 3}") == "OK"
    assert s.snap()[b"k"].deadline_ms == T0 + 3000
    assert s("SET k v EX 1 EX 7") == "OK"  # a repeated EX: the last wins
    assert s("TTL k") == 7


def test_set_get(s: Session) -> None:
    assert s("SET k v GET") is None
    assert s("SET k w GET") == b"v"
    assert s("SET k x NX GET") == b"w"  # NX aborts but GET still answers
    assert s("GET k") == b"w"
    assert s("SET j x XX GET") is None
    assert s("EXISTS j") == 0
    s("RPUSH l a")
    assert s("SET l v GET") == WRONGTYPE
    assert s("TYPE l") == "list"
    assert s("SET l v") == "OK"  # plain SET replaces any type
    assert s("TYPE l") == "string"


def test_getset_getdel_append_strlen(s: Session) -> None:
    assert s("GETSET k a") is None
    s("EXPIRE k 100")
    assert s("GETSET k b") == b"a"
    assert s("TTL k") == -1  # GETSET clears the TTL
    s("EXPIRE k 100")
    assert s("APPEND k cd") == 3
    assert s("TTL k") == 100  # APPEND keeps it
    assert s("STRLEN k") == 3
    assert s("STRLEN nope") == 0
    assert s("APPEND new xy") == 2
    assert s("GETDEL k") == b"bcd"
    assert s("GETDEL k") is None
    s("SADD st m")
    for line in ("GET st", "GETSET st x", "GETDEL st", "APPEND st x", "STRLEN st"):
        assert s(line) == WRONGTYPE, line


def test_incr_family(s: Session) -> None:
    assert s("INCR n") == 1
    assert s("INCRBY n 41") == 42
    assert s("DECR n") == 41
    assert s("DECRBY n 50") == -9
    assert s("GET n") == b"-9"
    s("SET p +5")
    assert s("INCR p") == NOT_INT  # string2ll: no '+'
    s("SET p 007")
    assert s("INCR p") == NOT_INT  # ... and no leading zeros
    assert s("INCRBY n +1") == NOT_INT
    assert s("INCRBY n 1.0") == NOT_INT
    s("HSET h f 1")
    assert s("INCR h") == WRONGTYPE
    assert s("INCRBY h x") == NOT_INT  # the increment is parsed before the type check


def test_incr_overflow_boundaries(s: Session) -> None:
    s("SET n 9223372036854775806")
    assert s("INCR n") == 9223372036854775807
    assert s("INCR n") == err("ERR increment or decrement would overflow")
    assert s("GET n") == b"9223372036854775807"
    s("SET m -9223372036854775807")
    assert s("DECR m") == -9223372036854775808
    assert s("DECRBY m 1") == err("ERR increment or decrement would overflow")
    assert s("DECRBY z -9223372036854775808") == err("ERR decrement would overflow")
    assert s("EXISTS z") == 0
    assert s("INCRBY z -9223372036854775808") == -9223372036854775808
    assert s("INCRBY z 9223372036854775808") == NOT_INT


def test_incr_keeps_ttl(s: Session) -> None:
    s("SET n 1 PX 5000")
    s("INCR n")
    s("INCRBYFLOAT n 1.5")
    assert s.snap()[b"n"] == KeySnapshot("string", b"3.5", T0 + 5000)


def test_incrbyfloat(s: Session) -> None:
    assert s("INCRBYFLOAT f 0.1") == b"0.1"
    assert s("INCRBYFLOAT f 0.2") == b"0.3"  # long double, %.17Lf, zeros cut
    s("SET g 10.50")
    assert s("INCRBYFLOAT g 0.1") == b"10.6"
    s("SET g 5.0e3")
    assert s("INCRBYFLOAT g 2.0e2") == b"5200"
    assert s("INCRBYFLOAT g 0x10") == b"5216"  # strtold reads hex
    assert s("INCRBYFLOAT g inf") == err("ERR increment would produce NaN or Infinity")
    assert s("INCRBYFLOAT g nan") == err("ERR value is not a valid float")
    assert s("INCRBYFLOAT g 1e5000") == err("ERR value is not a valid float")  # ERANGE
    assert s("INCRBYFLOAT g abc") == err("ERR value is not a valid float")
    s("SET sp 1")
    assert s([b"INCRBYFLOAT", b"g", b" 1"]) == err("ERR value is not a valid float")
    s("SET w abc")
    assert s("INCRBYFLOAT w 1") == err("ERR value is not a valid float")
    s([b"SET", b"nul", b"-1\x00"])
    assert s("INCRBYFLOAT nul 1") == err("ERR value is not a valid float")
    s("SET neg -1")
    assert s("INCRBYFLOAT neg 1") == b"0"
    assert s("INCRBYFLOAT neg -0.00000000000000000001") == b"0"  # "-0" is printed as "0"


# --------------------------------------------------------------------- keys


def test_del_exists_type_dbsize_flush(s: Session) -> None:
    s("SET a 1")
    s("RPUSH b x")
    assert s("EXISTS a a b c") == 3
    assert s("DEL a a c") == 1
    assert s("TYPE b") == "list"
    assert s("TYPE a") == "none"
    assert s("DBSIZE") == 1
    assert s("FLUSHDB x") == SYNTAX
    assert s("FLUSHALL ASYNC") == "OK"
    assert s("DBSIZE") == 0


def test_expire_basic_and_expiry_boundary(s: Session) -> None:
    s("SET k v")
    assert s("EXPIRE k 10") == 1
    assert s("TTL k") == 10
    assert s("PTTL k", at=T0 + 9_499) == 501
    assert s("TTL k") == 1  # (501 + 500) // 1000: TTL rounds to nearest
    assert s("GET k", at=T0 + 10_000) == b"v"  # now == deadline: still live (now > when)
    assert s("PTTL k") == 0
    assert s("GET k", at=T0 + 10_001) is None
    assert s.snap() == {}
    assert s("EXPIRE nope 10") == 0
    assert s("TTL nope") == -2
    s("SET p v")
    assert s("TTL p") == -1


def test_expire_zero_negative_and_past(s: Session) -> None:
    for line in (
        "EXPIRE k 0",
        "EXPIRE k -5",
        "PEXPIRE k -1",
        f"PEXPIREAT k {T0 - 1}",
        f"PEXPIREAT k {T0}",
        "EXPIREAT k 1",
    ):
        s("SET k v")
        assert s(line) == 1, line
        assert s("EXISTS k") == 0, line
    assert s(f"PEXPIREAT k {T0}") == 0  # missing key


def test_expire_overflow(s: Session) -> None:
    s("SET k v")
    assert s("EXPIRE k 9223372036854776") == err("ERR invalid expire time in 'expire' command")
    assert s("PEXPIRE k 9223372036854775807") == err("ERR invalid expire time in 'pexpire' command")
    assert s("EXPIREAT k 9223372036854775") == 1  # *1000 fits; base 0


def test_expire_nx_xx_gt_lt(s: Session) -> None:
    s("SET k v")
    assert s("EXPIRE k 100 XX") == 0
    assert s("EXPIRE k 100 GT") == 0  # no TTL counts as infinite
    assert s("EXPIRE k 100 LT") == 1
    assert s("EXPIRE k 50 NX") == 0
    assert s("EXPIRE k 200 GT") == 1
    assert s("EXPIRE k 200 GT") == 0  # not strictly greater
    assert s("EXPIRE k 300 LT") == 0
    assert s("EXPIRE k 150 lt xx") == 1
    assert s("TTL k") == 150
    assert s("EXPIRE k 1 NX XX") == err(
        "ERR NX and XX, GT or LT options at the same time are not compatible"
    )
    assert s("EXPIRE k 1 GT LT") == err("ERR GT and LT options at the same time are not compatible")
    assert s("EXPIRE k 1 FOO") == err("ERR Unsupported option FOO")
    assert s("EXPIRE k x FOO") == err("ERR Unsupported option FOO")  # options parsed first
    assert s("PERSIST k") == 1
    assert s("PERSIST k") == 0
    assert s("PERSIST nope") == 0


# ------------------------------------------------------------------- hashes


def test_hashes(s: Session) -> None:
    assert s("HSET h a 1 b 2") == 2
    assert s("HSET h a 9 c 3") == 1
    assert s("HGET h a") == b"9"
    assert s("HGET h z") is None
    assert s("HLEN h") == 3
    assert s("HGETALL h") == [b"a", b"9", b"b", b"2", b"c", b"3"]
    assert s("HDEL h a z") == 1
    s("PEXPIRE h 1000")
    assert s("HDEL h b c") == 2
    assert s("EXISTS h") == 0  # empty hash disappears
    assert s("HGETALL h") == []
    assert s("HDEL h a") == 0


def test_hincrby(s: Session) -> None:
    assert s("HINCRBY h f 5") == 5
    s("PEXPIRE h 1000")
    assert s("HINCRBY h f -7") == -2
    assert s.snap()[b"h"] == KeySnapshot("hash", ((b"f", b"-2"),), T0 + 1000)
    s("HSET h g 9223372036854775807 x y")
    assert s("HINCRBY h g 1") == err("ERR increment or decrement would overflow")
    assert s("HINCRBY h x 1") == err("ERR hash value is not an integer")
    assert s("HINCRBY h f 1x") == NOT_INT
    s("SET str v")
    assert s("HINCRBY str f 1") == WRONGTYPE
    assert s("HSET str f v") == WRONGTYPE


# -------------------------------------------------------------------- lists


def test_push_pop(s: Session) -> None:
    assert s("LPUSH l a b c") == 3
    assert s("RPUSH l d") == 4
    assert s("LRANGE l 0 -1") == [b"c", b"b", b"a", b"d"]
    assert s("LPOP l") == b"c"
    assert s("RPOP l 2") == [b"d", b"a"]  # tail first
    assert s("LPOP l 0") == []
    assert s("LPOP l -1") == err("ERR value is out of range, must be positive")
    # getPositiveLongFromObjectOrReply hands its message to the integer parse too
    assert s("LPOP l x") == err("ERR value is out of range, must be positive")
    assert s("LPOP nope x") == err("ERR value is out of range, must be positive")
    assert s("LPOP l 1 2") == err("ERR wrong number of arguments for 'lpop' command")
    assert s("LPOP l 5") == [b"b"]
    assert s("EXISTS l") == 0
    assert s("LPOP l") is None
    assert s("LPOP l 3") is None  # nil array


def test_lset(s: Session) -> None:
    assert s("LSET l 0 x") == err("ERR no such key")
    assert s("LSET l x x") == err("ERR no such key")  # key checked before the index
    s("RPUSH l a b c")
    assert s("LSET l -1 z") == "OK"
    assert s("LSET l 3 z") == err("ERR index out of range")
    assert s("LSET l -4 z") == err("ERR index out of range")
    assert s("LSET l 1.0 z") == NOT_INT
    assert s("LRANGE l 0 -1") == [b"a", b"b", b"z"]


def test_lrem(s: Session) -> None:
    s("RPUSH l a x a y a z a")
    assert s("LREM l -2 a") == 2
    assert s("LRANGE l 0 -1") == [b"a", b"x", b"a", b"y", b"z"]
    assert s("LREM l 1 a") == 1
    assert s("LRANGE l 0 -1") == [b"x", b"a", b"y", b"z"]
    assert s("LREM l 0 a") == 1
    assert s("LREM l 0 q") == 0
    assert s("LREM nope 0 q") == 0
    assert s("LREM l x q") == NOT_INT
    assert s("LREM l 0 x") == 1
    assert s("LREM l 0 y") == 1
    assert s("LREM l 0 z") == 1
    assert s("EXISTS l") == 0


@pytest.mark.parametrize(
    ("start", "end", "kept"),
    [
        (0, -1, "abcde"),
        (1, 3, "bcd"),
        (-2, -1, "de"),
        (-100, 1, "ab"),
        (3, 100, "de"),
        (3, 1, ""),
        (5, 10, ""),
        (0, -6, ""),
        (-1, -1, "e"),
    ],
)
def test_ltrim_and_lrange_edges(s: Session, start: int, end: int, kept: str) -> None:
    s("RPUSH l a b c d e")
    assert s(f"LRANGE l {start} {end}") == [c.encode() for c in kept]
    assert s(f"LTRIM l {start} {end}") == "OK"
    assert s("LRANGE l 0 -1") == [c.encode() for c in kept]
    assert s("EXISTS l") == (1 if kept else 0)


def test_list_ttl_kept_and_wrongtype(s: Session) -> None:
    s("RPUSH l a b")
    s("PEXPIRE l 777")
    s("LPUSH l c")
    s("LSET l 0 z")
    assert s.snap()[b"l"] == KeySnapshot("list", (b"z", b"a", b"b"), T0 + 777)
    s("SET str v")
    for line in (
        "LPUSH str a",
        "RPOP str",
        "LSET str 0 a",
        "LREM str 0 a",
        "LTRIM str 0 1",
        "LRANGE str 0 1",
        "LLEN str",
    ):
        assert s(line) == WRONGTYPE, line
    assert s("LTRIM nope 0 1") == "OK"
    assert s("LLEN nope") == 0


# --------------------------------------------------------------------- sets


def test_sets(s: Session) -> None:
    assert s("SADD st b a b") == 2
    assert s("SADD st c") == 1
    assert s("SISMEMBER st a") == 1
    assert s("SISMEMBER st q") == 0
    assert s("SCARD st") == 3
    assert s("SMEMBERS st") == [b"a", b"b", b"c"]
    assert s("SREM st a q") == 1
    assert s("SREM st b c") == 2
    assert s("EXISTS st") == 0
    assert s("SMEMBERS st") == []
    assert s("SPOP st") is None  # nothing to pick: no observation needed (rule 7)
    s("SADD st a b")
    with pytest.raises(NotModelled):
        s("SPOP st")  # a pick the caller did not pass


# -------------------------------------------------------------- sorted sets


def test_zadd_basic_and_order(s: Session) -> None:
    assert s("ZADD z 2 b 1 a 2 aa") == 3
    assert s("ZRANGE z 0 -1 WITHSCORES") == [b"a", b"1", b"aa", b"2", b"b", b"2"]
    assert s("ZRANGE z 0 0 REV") == [b"b"]
    assert s("ZADD z 5 a 2 b") == 0
    assert s("ZADD z CH 6 a 2 b 1 c") == 2  # one changed, one added
    assert s("ZCARD z") == 4
    assert s("ZSCORE z a") == b"6"
    assert s("ZSCORE z q") is None
    assert s("ZRANGE nope 0 -1") == []
    assert s("ZRANGE z 0 -1 LIMIT 0 1") == err(
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
    )
    with pytest.raises(NotModelled):
        s("ZRANGE z 0 1 BYSCORE")


def test_zadd_flags(s: Session) -> None:
    s("ZADD z 5 a")
    assert s("ZADD z NX 1 a 1 b") == 1
    assert s("ZSCORE z a") == b"5"
    assert s("ZADD z XX 1 a 1 c") == 0
    assert s("ZSCORE z a") == b"1"
    assert s("ZSCORE z c") is None
    assert s("ZADD z GT CH 0 a 3 b") == 1  # a not lowered, b raised
    assert s("ZADD z LT CH 9 a 2 b") == 1
    assert s("ZADD z GT 7 new") == 1  # GT/LT never stop an insertion
    assert s("ZADD z NX XX 1 a") == err("ERR XX and NX options at the same time are not compatible")
    assert s("ZADD z NX GT 1 a") == err(
        "ERR GT, LT, and/or NX options at the same time are not compatible"
    )
    assert s("ZADD z INCR 1 a 2 b") == err(
        "ERR INCR option supports a single increment-element pair"
    )
    assert s("ZADD z 1") == err("ERR wrong number of arguments for 'zadd' command")
    assert s("ZADD z 1 a 2") == SYNTAX
    assert s("ZADD z XX 1 nope INCR") == SYNTAX
    assert s("ZADD z INCR 2.5 a") == b"3.5"
    assert s("ZADD z INCR NX 1 a") is None
    assert s("ZADD q XX 1 a") == 0
    assert s("ZADD q XX INCR 1 a") is None
    assert s("EXISTS q") == 0


def test_zadd_bad_scores_reject_everything(s: Session) -> None:
    assert s("ZADD z 1 a nan b") == err("ERR value is not a valid float")
    assert s("ZADD z 1 a 1e400 b") == err("ERR value is not a valid float")
    assert s("ZADD z 1 a x b") == err("ERR value is not a valid float")
    assert s("EXISTS z") == 0
    assert s("ZADD z inf a -inf b 0x1p3 c") == 3
    assert s("ZRANGE z 0 -1 WITHSCORES") == [b"b", b"-inf", b"c", b"8", b"a", b"inf"]
    assert s("ZINCRBY z -inf a") == err("ERR resulting score is not a number (NaN)")
    assert s("ZSCORE z a") == b"inf"


def test_zincrby(s: Session) -> None:
    assert s("ZINCRBY z 0.1 a") == b"0.1"
    assert s("ZINCRBY z 0.2 a") == b"0.30000000000000004"  # a double, Grisu2-printed
    assert s("ZINCRBY z x a") == err("ERR value is not a valid float")
    assert s("ZINCRBY z nx a") == SYNTAX  # ZINCRBY parses ZADD's flags too
    s("SET str v")
    assert s("ZINCRBY str 1 a") == WRONGTYPE
    assert s("ZRANGE str 0 1") == WRONGTYPE


def test_zset_negative_zero(s: Session) -> None:
    s("ZADD z -0 b 0 a")
    assert s("ZSCORE z b") == b"-0"
    assert s("ZRANGE z 0 -1") == [b"a", b"b"]  # equal scores: member order
    assert s("ZADD z CH 0 b") == 0  # -0.0 == 0.0: not an update
    assert s("ZSCORE z b") == b"-0"
    doc = s.ks.to_keyspace_json(s.now)
    assert json.dumps(doc["keys"][0]["value"]) == '[["b", -0.0], ["a", 0.0]]'  # total order


def test_zrem_and_empty(s: Session) -> None:
    s("ZADD z 1 a 2 b")
    s("PEXPIRE z 99")
    assert s("ZREM z a q") == 1
    assert s.snap()[b"z"] == KeySnapshot("zset", ((b"b", 2.0),), T0 + 99)
    assert s("ZREM z b") == 1
    assert s("EXISTS z") == 0


# ------------------------------------------------------------------ streams


def test_xadd_id_rules(s: Session) -> None:
    assert s("XADD x 5-1 f v") == b"5-1"
    assert s("XADD x 5-1 f v") == err(
        "ERR The ID specified in XADD is equal or smaller than the target stream top item"
    )
    assert s("XADD x 5-* f v") == b"5-2"
    assert s("XADD x 4-* f v") == err(
        "ERR The ID specified in XADD is equal or smaller than the target stream top item"
    )
    assert s("XADD x 6 f v") == b"6-0"
    assert s("XADD x * f v") == f"{T0}-0".encode()
    assert s("XADD x * f v") == f"{T0}-1".encode()  # same millisecond: sequence + 1
    assert s("XADD x * f v", at=T0 - 50) == f"{T0}-2".encode()  # clock behind: last + 1
    assert s("XADD y 0-0 f v") == err("ERR The ID specified in XADD must be greater than 0-0")
    assert s("XADD y 0 f v") == err("ERR The ID specified in XADD must be greater than 0-0")
    assert s("XADD y 0-* f v") == b"0-1"
    assert s("XADD y abc f v") == err("ERR Invalid stream ID specified as stream command argument")
    assert s("XADD y - f v") == err("ERR Invalid stream ID specified as stream command argument")
    assert s("XADD y 9 f") == err("ERR wrong number of arguments for 'xadd' command")
    assert s("XADD y NOMKSTREAM MAXLEN 1") == err(
        "ERR wrong number of arguments for 'xadd' command"
    )
    assert s("XADD z NOMKSTREAM * f v") is None
    assert s("EXISTS z") == 0
    assert s("XLEN x") == 6
    assert s("XADD x 18446744073709551615-18446744073709551615 f v") == (
        b"18446744073709551615-18446744073709551615"
    )
    assert s("XADD x * f v") == err(
        "ERR The stream has exhausted the last possible ID, unable to add more items"
    )


def test_xadd_maxlen_does_not_move_max_deleted_id(s: Session) -> None:
    s("XADD x 1-1 a 1")
    s("XADD x 2-1 b 2")
    assert s("XADD x MAXLEN = 1 3-1 c 3 c 4") == b"3-1"
    stream = s.snap()[b"x"].value
    assert [i for i, _ in stream.entries] == [(3, 1)]
    assert stream.entries[0][1] == ((b"c", b"3"), (b"c", b"4"))  # duplicate fields kept
    assert stream.max_deleted_id == (0, 0)  # streamTrim leaves it; kevy would say 2-1
    assert stream.entries_added == 3
    assert s("XADD x MAXLEN 0 4-1 x x") == b"4-1"
    assert s("XLEN x") == 0
    assert s("EXISTS x") == 1  # an empty stream is still a key
    assert s("XADD x MAXLEN -1 * f v") == err("ERR The MAXLEN argument must be >= 0.")
    assert s("XADD x MAXLEN x * f v") == NOT_INT
    with pytest.raises(NotModelled):
        s("XADD x MAXLEN ~ 5 * f v")


def test_xdel_xrange_xlen(s: Session) -> None:
    for i in range(1, 5):
        s(f"XADD x {i}-0 k {i}")
    assert s("XDEL x 2-0 9-0 3") == 2
    assert s("XDEL x bad") == err("ERR Invalid stream ID specified as stream command argument")
    assert s("XDEL nope bad") == 0  # the key is looked up first
    assert s.snap()[b"x"].value.max_deleted_id == (3, 0)
    assert s("XDEL x 1-0") == 1
    assert s.snap()[b"x"].value.max_deleted_id == (3, 0)  # only ever grows
    assert s("XRANGE x - +") == [[b"4-0", [b"k", b"4"]]]
    s("XADD x 5-0 k 5")
    assert s("XRANGE x - + COUNT 1") == [[b"4-0", [b"k", b"4"]]]
    assert s("XRANGE x - + COUNT 0") is None
    assert s("XRANGE x (4-0 +") == [[b"5-0", [b"k", b"5"]]]
    assert s("XRANGE nope - +") == []
    assert s("XLEN nope") == 0
    s("SET str v")
    assert s("XLEN str") == WRONGTYPE
    assert s("XADD str * f v") == WRONGTYPE


def test_xsetid(s: Session) -> None:
    assert s("XSETID x 5-0") == err("ERR no such key")
    s("XADD x 5-1 f v")
    assert s("XSETID x 5-0") == err(
        "ERR The ID specified in XSETID is smaller than the target stream top item"
    )
    assert s("XSETID x 9-0 ENTRIESADDED 0") == err(
        "ERR The entries_added specified in XSETID is smaller than the target stream length"
    )
    assert s("XSETID x 9-0 ENTRIESADDED -1") == err("ERR entries_added must be positive")
    assert s("XSETID x 9-0 MAXDELETEDID 9-1") == err(
        "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"
    )
    assert s("XSETID x 9-0 FOO 1") == SYNTAX
    assert s("XSETID x 9-0 ENTRIESADDED 7 MAXDELETEDID 8-0") == "OK"
    stream = s.snap()[b"x"].value
    assert (stream.last_id, stream.entries_added, stream.max_deleted_id) == ((9, 0), 7, (8, 0))
    assert s("XADD x 9-0 f v") == err(
        "ERR The ID specified in XADD is equal or smaller than the target stream top item"
    )
    assert s("XADD x 9-* f v") == b"9-1"


def test_xsetid_below_max_deleted_id(s: Session) -> None:
    # xsetidCommand checks the ID against the stream's max_deleted_entry_id after
    # the key lookup and before the top item (Redis test "XSETID cannot set
    # smaller ID than current MAXDELETEDID").
    for i in (1, 2, 3):
        s(f"XADD x 1-{i} f v")
    s("XDEL x 1-2 1-3")
    assert s("XSETID x 1-2") == err(
        "ERR The ID specified in XSETID is smaller than current max_deleted_entry_id"
    )
    assert s("XSETID x 1-3") == "OK"
    # The provided MAXDELETEDID is checked against the ID while parsing, before
    # the key is looked up.
    assert s("XSETID nope 1-0 MAXDELETEDID 5-0") == err(
        "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"
    )
    assert s("XSETID nope 1-0 ENTRIESADDED abc") == NOT_INT


def test_xgroup_create_and_consumers(s: Session) -> None:
    assert s("XGROUP CREATE x g $") == err(
        "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may "
        "want to use the MKSTREAM option to create an empty stream automatically."
    )
    assert s("XGROUP CREATE x g $ MKSTREAM") == "OK"
    assert s("XGROUP CREATE x g $") == err("BUSYGROUP Consumer Group name already exists")
    assert s("XGROUP CREATE x h 1-2 BOGUS") == err(
        "ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP."
    )
    assert s("XGROUP FOO x g") == err("ERR unknown subcommand 'FOO'. Try XGROUP HELP.")
    assert s("XGROUP CREATECONSUMER x nog c") == err(
        "NOGROUP No such consumer group 'nog' for key name 'x'"
    )
    assert s("XGROUP CREATECONSUMER x g c", at=T0 + 7) == 1
    assert s("XGROUP CREATECONSUMER x g c", at=T0 + 9) == 0
    group = s.snap()[b"x"].value.groups[0]
    assert group.name == b"g" and group.last_delivered == (0, 0)
    assert group.consumers == ((b"c", T0 + 7),)


def test_xclaim(s: Session) -> None:
    s("XADD x 1-1 f v")
    s("XADD x 2-1 f w")
    assert s("XCLAIM x g c 0 1-1") == err("NOGROUP No such key 'x' or consumer group 'g'")
    s("XGROUP CREATE x g 2-1")
    # The rewrite form installs a PEL row on an existing entry.
    assert s("XCLAIM x g alice 0 1-1 TIME 1234 RETRYCOUNT 3 FORCE JUSTID") == [b"1-1"]
    group = s.snap()[b"x"].value.groups[0]
    assert group.pel == (((1, 1), b"alice", 1234, 3),)
    assert group.consumers == ((b"alice", T0),)
    # Without FORCE an entry not pending is not claimed; without RETRYCOUNT/JUSTID
    # the count grows; a TIME in the future becomes now.
    assert s("XCLAIM x g bob 0 2-1 1-1 TIME 99999999999999") == [[b"1-1", [b"f", b"v"]]]
    group = s.snap()[b"x"].value.groups[0]
    assert group.pel == (((1, 1), b"bob", T0, 4),)
    # FORCE on a missing entry claims nothing and drops any row.
    s("XDEL x 1-1")
    assert s("XCLAIM x g bob 0 1-1 5-5 FORCE JUSTID") == []
    assert s.snap()[b"x"].value.groups[0].pel == ()
    assert s("XCLAIM x g bob x 1-1") == err("ERR Invalid min-idle-time argument for XCLAIM")
    assert s("XCLAIM x g bob 0 1-1 TIME x") == err("ERR Invalid TIME option argument for XCLAIM")
    assert s("XCLAIM x g bob 0 1-1 BOGUS") == err("ERR Unrecognized XCLAIM option 'BOGUS'")


def test_xclaim_min_idle_and_lastid(s: Session) -> None:
    s("XADD x 1-1 f v")
    s("XGROUP CREATE x g 0")
    s("XCLAIM x g a 0 1-1 FORCE JUSTID")
    assert s.snap()[b"x"].value.groups[0].pel == (((1, 1), b"a", T0, 1),)  # new rows count 1
    assert s("XCLAIM x g b 100 1-1 JUSTID", at=T0 + 50) == []  # idle 50 < 100
    assert s("XCLAIM x g b 100 1-1 JUSTID LASTID 7-0", at=T0 + 100) == [b"1-1"]
    group = s.snap()[b"x"].value.groups[0]
    assert group.last_delivered == (7, 0)
    assert group.pel == (((1, 1), b"b", T0 + 100, 1),)


# ---------------------------------------------------- snapshot and JSON form


def test_keyspace_json_document(s: Session) -> None:
    s("SET s hello")
    s("HSET h f2 v2 f1 v1")
    s("RPUSH l a b a")
    s("SADD st y x")
    s("ZADD z inf b 1.0 a 0.5 c")
    s("XADD x 1700000000000-0 f v")
    s("XGROUP CREATE x g 1700000000000-0")
    s("XCLAIM x g alice 0 1700000000000-0 TIME 1700000000123 RETRYCOUNT 1 FORCE JUSTID")
    s("PEXPIREAT x 1893456000000")
    s([b"SET", b"\xff", b"\x00"])
    doc = s.ks.to_keyspace_json(s.now)
    assert doc["format"] == "kevy-keyspace/1"
    by_key = {k["key"]: k for k in doc["keys"]}
    assert [k["key"] for k in doc["keys"]] == ["h", "l", "s", "st", "x", "z", "\xff"]
    assert by_key["h"]["value"] == [["f1", "v1"], ["f2", "v2"]]
    assert by_key["st"]["value"] == ["x", "y"]
    assert by_key["z"]["value"] == [["c", 0.5], ["a", 1.0], ["b", "inf"]]
    assert by_key["\xff"]["value"] == "\x00"
    assert by_key["x"] == {
        "key": "x",
        "type": "stream",
        "expire_at_ms": 1893456000000,
        "value": {
            "entries": [["1700000000000-0", [["f", "v"]]]],
            "last_id": "1700000000000-0",
            "max_deleted_id": "0-0",
            "entries_added": 1,
            "groups": [
                {
                    "name": "g",
                    "last_delivered": "1700000000000-0",
                    "consumers": [["alice", T0]],
                    "pel": [["1700000000000-0", "alice", 1700000000000, 1]],
                }
            ],
        },
    }
    json.dumps(doc)  # serialisable as is


def test_json_omits_key_at_its_deadline(s: Session) -> None:
    s("SET k v PX 10")
    assert s.ks.snapshot(T0 + 10) != {}  # Redis: live at the deadline
    assert s.ks.to_keyspace_json(T0 + 10)["keys"] == []  # the JSON format's rule


def test_canonical_reply() -> None:
    assert canonical_reply([b"smembers", b"k"], [b"b", b"a"]) == [b"a", b"b"]
    assert canonical_reply([b"HGETALL", b"k"], [b"b", b"2", b"a", b"1"]) == [b"a", b"1", b"b", b"2"]
    assert canonical_reply([b"LRANGE"], [b"b", b"a"]) == [b"b", b"a"]


def test_known_differences_table_is_filled() -> None:
    assert len(KNOWN_DIFFERENCES) >= 15
    for row in KNOWN_DIFFERENCES:
        assert row.verb and row.redis7 and row.kevy117
    assert all(
        name == c.name and c.name == c.name.lower()
        for name, c in ((c.name, c) for c in COMMANDS.values())
    )


# ------------------------------------------------------------ number printing


def test_format_double_cases() -> None:
    cases = {
        0.1: b"0.1",
        1.5: b"1.5",
        -0.0: b"-0",
        1e18: b"1000000000000000000",  # double2ll path
        2.0**62: b"4611686018427387904",
        2.0**63: b"9223372036854776000",  # fpconv: shortest digits padded with zeros
        1e21: b"1e+21",
        1e-7: b"1e-7",
        1e-5: b"0.00001",
        5e-324: b"5e-324",
        float("inf"): b"inf",
        float("-inf"): b"-inf",
        1.7976931348623157e308: b"1.7976931348623157e+308",
    }
    for value, text in cases.items():
        assert format_double(value) == text, value
    # Grisu2 is not always shortest; here it prints 17 digits where 16 suffice.
    assert fpconv_dtoa(-2.141659257817648e249) == "-2.1416592578176478e+249"


def test_cached_powers_match_fpconv_table() -> None:
    # Values from deps/fpconv/fpconv_powers.h (first, 45th and last rows).
    assert _POWERS_TEN[0] == (18054884314459144840, -1220)
    assert _POWERS_TEN[44] == (11258999068426240000, -50)
    assert _POWERS_TEN[86] == (12648080533535911531, 1066)


def test_number_grammars() -> None:
    assert parse_ll(b"0") == 0
    assert parse_ll(b"-9223372036854775808") == -(2**63)
    for bad in (b"", b"+1", b"01", b"-0", b" 1", b"1 ", b"9223372036854775808", b"-"):
        assert parse_ll(bad) is None, bad
    assert parse_double(b"-0") == 0.0 and str(parse_double(b"-0")) == "-0.0"
    assert parse_double(b"1e-310") == 1e-310  # subnormal: ERANGE but nonzero, accepted
    assert parse_double(b"1e-400") is None
    assert parse_double(b"Infinity") == float("inf")
    assert parse_double(b"1e") is None
    assert parse_long_double(b"0.1") != Fraction(1, 10)  # rounded to 64 bits
    # strtod/strtold stop at a NUL, short of the length util.c demands
    assert parse_double(b"1\x00") is None and parse_long_double(b"-1\x00") is None
    assert parse_long_double(b"-1\x002") is None
    assert format_long_double_human(Fraction(1, 3)) == b"0.33333333333333333"
    assert parse_stream_id(b" +007-1", missing_seq=0, strict=True, allow_auto_seq=False) == (
        StreamID(7, 1),
        True,
    )
    assert parse_stream_id(b"5-*", missing_seq=0, strict=True, allow_auto_seq=True) == (
        StreamID(5, 0),
        False,
    )
    assert parse_stream_id(b"+", missing_seq=0, strict=True, allow_auto_seq=False) is None


# --------------------------------------------------------------- properties

_I64 = st.integers(-(2**63), 2**63 - 1)


@given(a=_I64, b=_I64)
@settings(max_examples=200, deadline=None)
def test_incrby_composes(a: int, b: int) -> None:
    """INCRBY a then b equals INCRBY a+b whenever no step overflows."""
    lo, hi = -(2**63), 2**63 - 1
    one, two = Session(), Session()
    first = one(f"INCRBY k {a}")
    second = one(f"INCRBY k {b}")
    if lo <= a + b <= hi:
        assert (first, second) == (a, a + b)
        assert two(f"INCRBY k {a + b}") == a + b
        assert one.snap() == two.snap()
    else:
        assert second == ErrorReply("ERR increment or decrement would overflow")
        assert one.snap()[b"k"].value == str(a).encode()


@given(st.floats(allow_nan=False))
@settings(max_examples=300, deadline=None)
def test_format_double_round_trips(x: float) -> None:
    text = format_double(x)
    back = parse_double(text)
    assert back is not None
    assert struct.pack("<d", back) == struct.pack("<d", x)


_KEYS = st.sampled_from([b"a", b"b", b"c"])
_SMALL = st.sampled_from([b"0", b"1", b"-1", b"2", b"x", b"5-1", b"inf"])
_VERBS = sorted(c.name.upper().encode() for c in COMMANDS.values() if c.name != "spop")


@st.composite
def _commands(draw: st.DrawFn) -> list[bytes]:
    verb = draw(st.sampled_from(_VERBS))
    tail = draw(st.lists(st.one_of(_KEYS, _SMALL), max_size=5))
    return [verb, draw(_KEYS), *tail]


def _is_reply(value: object) -> bool:
    if isinstance(value, list):
        return all(_is_reply(v) for v in value)
    return value is None or isinstance(value, int | bytes | str | ErrorReply)


@given(steps=st.lists(st.tuples(_commands(), st.integers(0, 3000)), min_size=1, max_size=25))
@settings(max_examples=300, deadline=None)
def test_random_sessions_keep_the_invariants(steps: list[tuple[list[bytes], int]]) -> None:
    """Every reply has a documented type; snapshots never hold expired keys or empties."""
    ks = ModelKeyspace()
    now = T0
    for argv, advance in steps:
        now += advance
        try:
            reply = ks.execute(argv, now)
        except NotModelled:
            continue
        assert _is_reply(reply), (argv, reply)
        snap = ks.snapshot(now)
        for key, entry in snap.items():
            assert entry.deadline_ms is None or entry.deadline_ms >= now, key
            if entry.type != "stream":
                assert len(entry.value) > 0, key
        json.dumps(ks.to_keyspace_json(now))
