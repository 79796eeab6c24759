"""impl/commands_collections.py: hash, list, set and zset verbs at their edges
(README "Adequacy").

What: each verb's reply on a missing key and on an existing one, the exact
error texts (Redis 7's), the frames logged (docs/SPEC.md §5.1: only when
something changed), index ranges at both ends (docs/SPEC.md §6.5), LREM from
the tail, ZADD's flag grammar and per-member outcomes with NX/XX/GT/LT/CH/INCR,
and the zset order under kevy's bitwise and Redis's == score comparison
(docs/SPEC.md §6.7, `redis_zero_score_equality`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from impl.clock import ManualClock
from impl.commands import Applied, Outcome, apply, execute
from impl.commands_base import ErrorReply
from impl.keyspace import Keyspace, ListValue, SetValue
from impl.numbers import float_bits
from impl.profile import KEVY_1_17, Profile

T0 = 1_700_000_000_000
STRICT = KEVY_1_17.with_switches("redis_strict_numbers")
ZERO_EQ = KEVY_1_17.with_switches("redis_zero_score_equality")
NO_NAN = KEVY_1_17.with_switches("redis_reject_nan_scores")
NOT_INT = ErrorReply("ERR value is not an integer or out of range")
SYNTAX = ErrorReply("ERR syntax error")


def _argv(cmd: str | Sequence[bytes]) -> list[bytes]:
    return [w.encode() for w in cmd.split(" ")] if isinstance(cmd, str) else list(cmd)


def run(ks: Keyspace, cmd: str, profile: Profile = KEVY_1_17) -> tuple[object, list[str]]:
    r = execute(ks, _argv(cmd), profile=profile)
    return r.reply, [b" ".join(f).decode("latin-1") for f in r.log]


def reply(ks: Keyspace, cmd: str, profile: Profile = KEVY_1_17) -> object:
    return run(ks, cmd, profile)[0]


def ks_with(*cmds: str, profile: Profile = KEVY_1_17) -> Keyspace:
    ks = Keyspace(ManualClock(T0), lazy_expire=True)
    for cmd in cmds:
        assert not isinstance(reply(ks, cmd, profile), ErrorReply), cmd
    return ks


# -- reads of a missing key and of a present one -----------------------------------------


@pytest.mark.parametrize(
    ("cmd", "missing", "present"),
    [
        ("HLEN h", 0, 2),
        ("HGET h f", None, b"1"),
        ("HGETALL h", [], [b"f", b"1", b"g", b"2"]),
        ("LLEN l", 0, 3),
        ("LRANGE l 0 -1", [], [b"a", b"b", b"c"]),
        ("SCARD s", 0, 2),
        ("SMEMBERS s", [], [b"x", b"y"]),
        ("SISMEMBER s x", 0, 1),
        ("SISMEMBER s q", 0, 0),
        ("ZCARD z", 0, 2),
        ("ZSCORE z m", None, b"1.5"),
        ("ZRANGE z 0 -1", [], [b"m", b"n"]),
    ],
)
def test_reads(cmd: str, missing: object, present: object) -> None:
    assert run(ks_with(), cmd) == (missing, [])
    ks = ks_with("HSET h f 1 g 2", "RPUSH l a b c", "SADD s x y", "ZADD z 1.5 m 2 n")
    assert run(ks, cmd) == (present, [])


@pytest.mark.parametrize("cmd", ["HDEL h f", "LREM l 0 a", "SREM s x", "ZREM z m"])
def test_removals_from_a_missing_key_answer_zero_and_log_nothing(cmd: str) -> None:
    assert run(ks_with(), cmd) == (0, [])


# -- hashes ------------------------------------------------------------------------------


def test_hdel_counts_each_field_removed_and_drops_an_emptied_hash() -> None:
    ks = ks_with("HSET h a 1 b 2 c 3")
    assert run(ks, "HDEL h a b nope") == (2, ["HDEL h a b nope"])
    assert run(ks, "HDEL h nope") == (0, [])
    assert run(ks, "HDEL h c") == (1, ["HDEL h c"])
    assert ks.raw() == {}


def test_hincrby_errors() -> None:
    ks = ks_with("HSET h s x n 9223372036854775807")
    assert reply(ks, "HINCRBY h n x") == NOT_INT
    assert reply(ks, "HINCRBY h s 1") == ErrorReply("ERR hash value is not an integer")
    assert reply(ks, "HINCRBY h n 1") == ErrorReply("ERR increment or decrement would overflow")
    assert run(ks, "HINCRBY h new -3") == (-3, ["HINCRBY h new -3"])


# -- lists -------------------------------------------------------------------------------


def test_lset_in_redis_order_on_a_present_list() -> None:
    ks = ks_with("RPUSH l a b c")
    assert run(ks, "LSET l -1 z", STRICT) == ("OK", ["LSET l -1 z"])
    assert reply(ks, "LRANGE l 0 -1") == [b"a", b"b", b"z"]
    assert reply(ks, "LSET l x z", STRICT) == NOT_INT
    assert reply(ks, "LSET l 3 z", STRICT) == ErrorReply("ERR index out of range")
    assert reply(ks, "LSET l -4 z") == ErrorReply("ERR index out of range")


def test_lrem_from_the_head_the_tail_and_everywhere() -> None:
    ks = ks_with("RPUSH l a b a c a")
    assert run(ks, "LREM l -2 a") == (2, ["LREM l -2 a"])
    assert reply(ks, "LRANGE l 0 -1") == [b"a", b"b", b"c"]
    ks = ks_with("RPUSH l a b a c a")
    assert run(ks, "LREM l 2 a") == (2, ["LREM l 2 a"])
    assert reply(ks, "LRANGE l 0 -1") == [b"b", b"c", b"a"]
    ks = ks_with("RPUSH l a b a")
    assert run(ks, "LREM l -5 a") == (2, ["LREM l -5 a"])
    assert reply(ks, "LRANGE l 0 -1") == [b"b"]
    assert run(ks, "LREM l 0 q") == (0, [])
    assert reply(ks, "LREM l x q") == NOT_INT
    assert run(ks, "LREM l 0 b") == (1, ["LREM l 0 b"])
    assert ks.raw() == {}


@pytest.mark.parametrize(
    ("start", "stop", "want"),
    [
        (0, 0, [b"a"]),
        (1, 1, [b"b"]),
        (0, -1, [b"a", b"b", b"c"]),
        (-2, -1, [b"b", b"c"]),
        (-9, 0, [b"a"]),
        (2, 9, [b"c"]),
        (3, 9, []),
        (2, 1, []),
        (0, -4, []),
        (2, -9, []),
    ],
)
def test_lrange_indices(start: int, stop: int, want: list[bytes]) -> None:
    ks = ks_with("RPUSH l a b c")
    assert reply(ks, f"LRANGE l {start} {stop}") == want


def test_lrange_and_ltrim_want_integers() -> None:
    ks = ks_with("RPUSH l a b c")
    for cmd in ("LRANGE l x 1", "LRANGE l 1 x", "LTRIM l x 1", "LTRIM l 1 x"):
        assert run(ks, cmd) == (NOT_INT, [])


def test_a_start_past_the_stop_is_empty_wherever_the_stop_falls() -> None:
    ks = ks_with("RPUSH l a b c", "ZADD z 1 a 2 b 3 c")
    assert reply(ks, "ZRANGE z 2 -9") == []
    assert run(ks, "LTRIM l 2 -9") == ("OK", ["LTRIM l 2 -9"])
    assert ks.lookup(b"l") is None


def test_ltrim_logs_only_when_it_removed_something() -> None:
    ks = ks_with("RPUSH l a b c")
    assert run(ks, "LTRIM l 0 9") == ("OK", [])
    assert run(ks, "LTRIM l -9 -1") == ("OK", [])
    assert run(ks, "LTRIM l 1 9") == ("OK", ["LTRIM l 1 9"])
    assert reply(ks, "LRANGE l 0 -1") == [b"b", b"c"]
    assert run(ks, "LTRIM nope 0 1") == ("OK", [])


def test_pop_counts() -> None:
    ks = ks_with("RPUSH l a b c d")
    assert run(ks, "LPOP l") == (b"a", ["LPOP l 1"])
    assert run(ks, "RPOP l 2") == ([b"d", b"c"], ["RPOP l 2"])
    assert run(ks, "LPOP l 0") == ([], [])
    assert run(ks, "LPOP l -1") == ([], [])
    assert reply(ks, "LPOP l -1", KEVY_1_17.with_switches("redis_negative_count_errors")) == (
        ErrorReply("ERR value is out of range, must be positive")
    )
    assert run(ks, "LPOP l 5") == ([b"b"], ["LPOP l 1"])
    assert ks.raw() == {}
    assert run(ks, "LPOP l") == (None, [])
    assert run(ks, "RPOP l 2") == (None, [])


# -- sets --------------------------------------------------------------------------------


def test_sadd_srem_counts() -> None:
    ks = ks_with()
    assert run(ks, "SADD s a b a") == (2, ["SADD s a b a"])
    assert run(ks, "SADD s a") == (0, ["SADD s a"])
    assert run(ks, "SREM s a q") == (1, ["SREM s a q"])
    assert run(ks, "SREM s q") == (0, [])
    assert run(ks, "SREM s b") == (1, ["SREM s b"])
    assert ks.raw() == {}


def test_spop() -> None:
    ks = ks_with("SADD s a b c")
    assert run(ks, "SPOP s") == (b"a", ["SPOP s 1"])
    assert run(ks, "SPOP s 5") == ([b"b", b"c"], ["SPOP s 2"])
    assert ks.raw() == {}
    assert run(ks, "SPOP s") == (None, [])
    assert run(ks, "SPOP s 2") == ([], [])
    ks = ks_with("SADD s a b c")
    assert run(ks, "SPOP s 0") == ([], [])
    members = KEVY_1_17.with_switches("spop_logs_members")
    assert run(ks, "SPOP s 2", members) == ([b"a", b"b"], ["SREM s a b"])


# -- sorted sets: ZADD ---------------------------------------------------------------------


def test_zadd_flag_grammar() -> None:
    ks = ks_with("ZADD z 5 a")
    assert reply(ks, "ZADD z NX CH") == SYNTAX
    assert reply(ks, "ZADD z 1 a 2") == SYNTAX
    assert reply(ks, "ZADD z nx xx 1 a") == ErrorReply(
        "ERR XX and NX options at the same time are not compatible"
    )
    gt_lt_nx = ErrorReply("ERR GT, LT, and/or NX options at the same time are not compatible")
    for flags in ("GT NX", "LT NX", "GT LT", "gt lt"):
        assert reply(ks, f"ZADD z {flags} 1 a") == gt_lt_nx, flags
    assert reply(ks, "ZADD z INCR 1 a 2 b") == ErrorReply(
        "ERR INCR option supports a single increment-element pair"
    )
    assert reply(ks, "ZSCORE z a") == b"5"


def test_zadd_nx_and_xx_go_member_by_member() -> None:
    ks = ks_with("ZADD z 5 a")
    assert run(ks, "ZADD z XX 1 new 7 a") == (0, ["ZADD z 7 a"])
    assert run(ks, "ZADD z NX 1 a 2 new") == (1, ["ZADD z 2 new"])
    assert reply(ks, "ZRANGE z 0 -1 WITHSCORES") == [b"new", b"2", b"a", b"7"]


@pytest.mark.parametrize(
    ("flag", "score", "written"),
    [("GT", 9, True), ("GT", 5, False), ("GT", 1, False),
     ("LT", 1, True), ("LT", 5, False), ("LT", 9, False), ("lt", 1, True)],
)  # fmt: skip
def test_zadd_gt_lt(flag: str, score: int, written: bool) -> None:
    ks = ks_with("ZADD z 5 a")
    r, log = run(ks, f"ZADD z {flag} CH {score} a 3 new")
    assert r == 1 + int(written and score != 5)
    want_a = score if written else 5
    assert reply(ks, "ZSCORE z a") == str(want_a).encode()
    assert log == [f"ZADD z {score} a 3 new" if written else "ZADD z 3 new"]


def test_zadd_counts_added_or_changed_with_ch() -> None:
    ks = ks_with("ZADD z 4 a 4 b")
    assert run(ks, "ZADD z 5 a 4 b 1 c") == (1, ["ZADD z 5 a 4 b 1 c"])
    assert run(ks, "ZADD z CH 7 a 8 b 4 c") == (3, ["ZADD z 7 a 8 b 4 c"])
    assert run(ks, "ZADD z ch 7 a 8 b") == (0, ["ZADD z 7 a 8 b"])


def test_zadd_an_unchanged_score_is_still_written_and_logged() -> None:
    ks = ks_with("ZADD z 5 a")
    assert run(ks, "ZADD z XX 5 a") == (0, ["ZADD z 5 a"])
    assert run(ks, "ZADD z 5 a 6 b") == (1, ["ZADD z 5 a 6 b"])
    assert run(ks, "ZADD z INCR 0 a") == (b"5", ["ZINCRBY z 0 a"])


def test_zadd_incr() -> None:
    ks = ks_with("ZADD z 5 a")
    assert run(ks, "ZADD z INCR 2 a") == (b"7", ["ZINCRBY z 2 a"])
    assert run(ks, "ZADD z XX INCR 2 new") == (None, [])
    # kevy adds a new member's increment to 0: 0 + -0.0 is 0.0
    assert run(ks, "ZADD z INCR -0 m") == (b"0", ["ZINCRBY z -0 m"])
    assert float_bits(ks.lookup(b"z").value.scores[b"m"]) == float_bits(0.0)
    # Redis stores the increment itself
    ks = ks_with("ZADD z 5 a", profile=ZERO_EQ)
    assert run(ks, "ZADD z INCR -0 m", ZERO_EQ) == (b"-0", ["ZINCRBY z -0 m"])


def test_zadd_nan_sum_under_redis_nan_rules() -> None:
    ks = ks_with("ZADD z inf a", profile=NO_NAN)
    assert run(ks, "ZADD z INCR -inf a", NO_NAN) == (
        ErrorReply("ERR resulting score is not a number (NaN)"),
        [],
    )
    assert run(ks, "ZADD z nan b", NO_NAN) == (ErrorReply("ERR value is not a valid float"), [])


def test_zadd_under_zero_equality_logs_the_scores_given() -> None:
    ks = ks_with("ZADD z 0 a", profile=ZERO_EQ)
    assert run(ks, "ZADD z -0 a", ZERO_EQ) == (0, ["ZADD z -0 a"])
    assert float_bits(ks.lookup(b"z").value.scores[b"a"]) == float_bits(0.0)  # kept


def test_kevy_replay_zadd_drops_a_frame_with_no_valid_pair() -> None:
    ks = ks_with()
    out = apply(ks, _argv("ZADD z x y NX m"), profile=Profile("kevy-1.17"))
    assert out == Applied(Outcome.IGNORED, b"ZADD", "no valid score/member pair")


# -- sorted sets: order and ZRANGE -----------------------------------------------------------


def test_zrange_order_ties_and_rev() -> None:
    ks = ks_with("ZADD z 1 b 1 a 0.5 c")
    assert reply(ks, "ZRANGE z 0 -1") == [b"c", b"a", b"b"]
    assert reply(ks, "ZRANGE z 0 -1 rev") == [b"b", b"a", b"c"]
    assert reply(ks, "ZRANGE z 0 0 REV WITHSCORES") == [b"b", b"1"]
    assert reply(ks, "ZRANGE z 0 -1 LIMIT") == SYNTAX
    assert reply(ks, "ZRANGE z x 1") == NOT_INT
    assert reply(ks, "ZRANGE z 1 x") == NOT_INT


def test_zero_equality_orders_zero_scores_as_one() -> None:
    ks = ks_with("ZADD z 2 a 1 b 0.5 c -0 d 0 e -1 f", profile=ZERO_EQ)
    assert reply(ks, "ZRANGE z 0 -1", ZERO_EQ) == [b"f", b"d", b"e", b"c", b"b", b"a"]
    # kevy's total order puts -0 before 0 whatever the members
    ks = ks_with("ZADD z 0 a -0 b")
    assert reply(ks, "ZRANGE z 0 -1") == [b"b", b"a"]
    assert reply(ks, "ZRANGE z 0 -1", ZERO_EQ) == [b"a", b"b"]


def test_zrem_and_zincrby() -> None:
    ks = ks_with("ZADD z 1 a 2 b")
    assert run(ks, "ZREM z a q") == (1, ["ZREM z a q"])
    assert run(ks, "ZINCRBY z 2 b") == (b"4", ["ZINCRBY z 2 b"])
    assert run(ks, "ZREM z b") == (1, ["ZREM z b"])
    assert ks.raw() == {}


def test_a_zero_pop_count_is_no_error_even_under_redis_count_errors() -> None:
    errors = KEVY_1_17.with_switches("redis_negative_count_errors")
    ks = ks_with("RPUSH l a", "SADD s a")
    assert run(ks, "LPOP l 0", errors) == ([], [])
    assert run(ks, "SPOP s 0", errors) == ([], [])


def test_a_plain_list_stored_by_a_caller_becomes_a_list_value() -> None:
    # impl/keyspace.py rule 5: a plain list is accepted and converted once
    ks = ks_with()
    ks.put(b"l", [b"a", b"b", b"c"])
    assert run(ks, "LPOP l") == (b"a", ["LPOP l 1"])
    assert isinstance(ks.lookup(b"l").value, ListValue)
    assert reply(ks, "LRANGE l 0 -1") == [b"b", b"c"]


def test_ltrim_inside_the_list() -> None:
    ks = ks_with("RPUSH l a b c")
    assert run(ks, "LTRIM l 1 1") == ("OK", ["LTRIM l 1 1"])
    assert reply(ks, "LRANGE l 0 -1") == [b"b"]


def test_sadd_stores_members_as_every_other_set_builder_does() -> None:
    # Keyspaces are compared by value (dump, check, the differential tests): a
    # set SADD built must equal the same set loaded from a snapshot.
    ks = ks_with("SADD s a b")
    assert ks.lookup(b"s").value == SetValue.fromkeys([b"a", b"b"])
