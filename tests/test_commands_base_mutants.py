"""impl/commands_base.py: the call context's switches and the shared parsers (README "Adequacy").

What: each attribute `Ctx.__init__` derives from a profile (docs/SPEC.md §5 vs §6)
is pinned by the smallest command whose reply, keyspace or log frames it
decides, next to the profile where it decides the other way; and the strict
(Redis `string2ll`) integer grammar is pinned at its bounds.

Why fresh profiles: `impl.commands` caches one `Ctx` per profile object, so
only the first test to run a profile builds its context. mutmut picks the
tests per mutant by coverage, and would credit `Ctx.__init__` to whichever test
happened to build it first. `_fresh` makes a new, equal profile for each call,
so every test here builds (and so exercises) its own context.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from impl.clock import ManualClock
from impl.commands import Applied, Dialect, Outcome, Result, apply, execute
from impl.commands_base import CommandError, ErrorReply, check_i64, parse_strict_sint
from impl.keyspace import Keyspace
from impl.numbers import I64_MAX, I64_MIN
from impl.profile import HARDENED, KEVY_1_17, Profile

T0 = 1_700_000_000_000
STRICT = "redis_strict_numbers"


def _fresh(profile: Profile) -> Profile:
    """An equal but new profile object (see the module docstring)."""
    return Profile(profile.name, profile.enabled)


def _argv(cmd: str | Sequence[bytes]) -> list[bytes]:
    return [w.encode() for w in cmd.split(" ")] if isinstance(cmd, str) else list(cmd)


def _ks() -> Keyspace:
    return Keyspace(ManualClock(T0), lazy_expire=True)


def _run(ks: Keyspace, cmd: str | Sequence[bytes], profile: Profile) -> Result:
    return execute(ks, _argv(cmd), profile=_fresh(profile))


def _apply(
    ks: Keyspace, cmd: str | Sequence[bytes], profile: Profile, dialect: Dialect = Dialect.KEVY
) -> Applied:
    return apply(ks, _argv(cmd), profile=_fresh(profile), dialect=dialect)


# -- the strict integer grammar ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (str(I64_MAX).encode(), I64_MAX),
        (str(I64_MIN).encode(), I64_MIN),
        (str(I64_MAX + 1).encode(), None),
        (str(I64_MIN - 1).encode(), None),
        (b"0", 0),
        (b"-0", None),
        (b"+1", None),
        (b"01", None),
    ],
)
def test_parse_strict_sint_takes_exactly_the_i64_range(text: bytes, value: int | None) -> None:
    assert parse_strict_sint(text) == value


def test_check_i64_accepts_both_bounds_and_names_the_overflow() -> None:
    assert check_i64(I64_MIN) == I64_MIN
    assert check_i64(I64_MAX) == I64_MAX
    with pytest.raises(CommandError, match="would overflow"):
        check_i64(I64_MIN - 1)


def test_decr_may_reach_i64_min_exactly() -> None:
    ks = _ks()
    _run(ks, f"SET n {I64_MIN + 1}", KEVY_1_17)
    assert _run(ks, "DECR n", KEVY_1_17).reply == I64_MIN


def test_command_error_carries_its_text_as_the_exception_text() -> None:
    # What a traceback (or a caller's str(e)) shows is the Redis error text.
    err = CommandError("ERR syntax error")
    assert str(err) == "ERR syntax error"
    assert err.message == "ERR syntax error"


# -- number grammars per profile --------------------------------------------------


def test_kevy_reads_a_signed_argument_with_a_plus_strict_refuses_it() -> None:
    ks = _ks()
    assert _run(ks, "INCRBY n +5", KEVY_1_17).reply == 5
    err = _run(ks, "INCRBY n +5", KEVY_1_17.with_switches(STRICT)).reply
    assert err.message == "ERR value is not an integer or out of range"


@pytest.mark.parametrize("seconds", ["+100", "-100"])
def test_expire_seconds_use_kevy_uint_or_the_strict_grammar(seconds: str) -> None:
    strict = KEVY_1_17.with_switches(STRICT)  # EXPIRE still kevy's (no redis_expire_semantics)
    ks = _ks()
    _run(ks, "SET k v", KEVY_1_17)
    kevy = _run(ks, f"EXPIRE k {seconds}", KEVY_1_17).reply
    assert kevy == (1 if seconds == "+100" else _not_int())
    ks = _ks()
    _run(ks, "SET k v", strict)
    assert _run(ks, f"EXPIRE k {seconds}", strict).reply == _not_int()
    assert ks.lookup(b"k") is not None and ks.lookup(b"k").deadline_ms is None


@pytest.mark.parametrize(("seconds", "deadline"), [("100", T0 + 100_000), ("0", T0)])
def test_expire_seconds_in_both_grammars(seconds: str, deadline: int) -> None:
    # 0 is a UINT in both (kevy's EXPIRE 0 sets the deadline to now, docs/SPEC.md §6.2)
    for profile in (KEVY_1_17, KEVY_1_17.with_switches(STRICT)):
        ks = _ks()
        _run(ks, "SET k v", profile)
        assert _run(ks, f"EXPIRE k {seconds}", profile).reply == 1
        assert ks.raw()[b"k"].deadline_ms == deadline


def _not_int() -> ErrorReply:
    return ErrorReply("ERR value is not an integer or out of range")


def test_strict_numbers_also_check_lset_in_redis_order() -> None:
    # Missing key and a bad index: Redis names the key, kevy 1.17 the index.
    ks = _ks()
    assert _run(ks, "LSET nokey x v", KEVY_1_17).reply == _not_int()
    assert _run(ks, "LSET nokey x v", KEVY_1_17.with_switches(STRICT)).reply.message == (
        "ERR no such key"
    )


def test_decrby_i64_min_wraps_in_kevy_and_fails_under_the_switch() -> None:
    ks = _ks()
    assert _run(ks, f"DECRBY n {I64_MIN}", KEVY_1_17).reply == I64_MIN
    ks = _ks()
    err = _run(ks, f"DECRBY n {I64_MIN}", KEVY_1_17.with_switches("redis_decrby_overflow")).reply
    assert err.message == "ERR decrement would overflow"
    assert ks.lookup(b"n") is None


def test_kevy_replay_reads_a_bad_pop_count_as_one() -> None:
    ks = _ks()
    _apply(ks, "RPUSH l a b c", KEVY_1_17)
    assert _apply(ks, "RPOP l notanumber", KEVY_1_17).outcome is Outcome.APPLIED
    assert ks.lookup(b"l").value == [b"a", b"b"]
    # live, the same count is an error and nothing is popped
    assert _run(ks, "RPOP l notanumber", KEVY_1_17).reply.message == (
        "ERR value is out of range, must be positive"
    )


# -- replay vs live ---------------------------------------------------------------


def test_replay_flushes_whatever_follows_flushall_live_checks_it() -> None:
    ks = _ks()
    _run(ks, "SET k v", KEVY_1_17)
    assert _run(ks, "FLUSHALL junk", KEVY_1_17).reply.message == "ERR syntax error"
    assert ks.lookup(b"k") is not None
    assert _apply(ks, "FLUSHALL junk", KEVY_1_17).outcome is Outcome.APPLIED
    assert ks.lookup(b"k") is None


@pytest.mark.parametrize("profile", [KEVY_1_17, HARDENED])
def test_live_expire_honours_nx(profile: Profile) -> None:
    ks = _ks()
    _run(ks, "SET k v EX 100", profile)
    assert _run(ks, "EXPIRE k 5 NX", profile).reply == 0
    assert ks.lookup(b"k").deadline_ms == T0 + 100_000


def test_kevy_replay_ignores_expire_options_the_switch_honours_them() -> None:
    ks = _ks()
    _apply(ks, "SET k v", KEVY_1_17)
    _apply(ks, f"PEXPIREAT k {T0 + 100} XX", KEVY_1_17)
    assert ks.lookup(b"k").deadline_ms == T0 + 100  # XX ignored: the deadline is set
    ks = _ks()
    options = KEVY_1_17.with_switches("replay_command_options")
    _apply(ks, "SET k v", options)
    _apply(ks, f"PEXPIREAT k {T0 + 100} XX", options)
    assert ks.lookup(b"k").deadline_ms is None  # XX: no TTL to replace, nothing set


def test_kevy_replay_deletes_at_a_past_deadline_unless_replay_no_expiry() -> None:
    ks = _ks()
    _apply(ks, "SET k v", KEVY_1_17)
    _apply(ks, "PEXPIREAT k 1", KEVY_1_17)
    assert b"k" not in ks.raw()
    ks = _ks()
    late = KEVY_1_17.with_switches("replay_no_expiry")
    _apply(ks, "SET k v", late)
    _apply(ks, "PEXPIREAT k 1", late)
    assert ks.raw()[b"k"].deadline_ms == 1  # judged at the end of the log, not here


@pytest.mark.parametrize("profile", [KEVY_1_17, HARDENED])
def test_live_expireat_in_the_past_deletes_at_once(profile: Profile) -> None:
    ks = _ks()
    _run(ks, "SET k v", profile)
    r = _run(ks, "PEXPIREAT k 1", profile)
    assert r.reply == 1
    assert b"k" not in ks.raw()
    # F43: hardened logs the deletion as Redis propagates it
    assert r.log == ([[b"DEL", b"k"]] if profile is HARDENED else [[b"PEXPIREAT", b"k", b"1"]])


def test_expiry_logs_del_logs_a_lazy_expiry_before_the_write() -> None:
    for profile, logged in (
        (HARDENED, True),
        (HARDENED.with_switches("expiry_logs_del", on=False), False),
    ):
        ks = _ks()
        _run(ks, "SET k v PX 10", profile)
        ks.clock.advance(20)  # type: ignore[attr-defined]
        r = _run(ks, "APPEND k x", profile)
        assert r.reply == 1
        assert r.log == ([[b"DEL", b"k"]] if logged else []) + [[b"APPEND", b"k", b"x"]]


# -- log spellings (F15, F16, del_logs_one_frame) ---------------------------------


def test_set_with_a_ttl_is_one_frame_only_under_set_ttl_one_frame() -> None:
    deadline = str(T0 + 10_000).encode()
    kevy = _run(_ks(), "SET k v PX 10000", KEVY_1_17).log
    assert kevy == [[b"SET", b"k", b"v"], [b"PEXPIREAT", b"k", deadline]]
    fixed = _run(_ks(), "SET k v PX 10000", KEVY_1_17.with_switches("set_ttl_one_frame")).log
    assert fixed == [[b"SET", b"k", b"v", b"PXAT", deadline]]


def test_xclaim_is_logged_verbatim_unless_xclaim_logs_time() -> None:
    claim = "XCLAIM s g c 0 1-1 FORCE"
    logs = {}
    for profile in (KEVY_1_17, KEVY_1_17.with_switches("xclaim_logs_time")):
        ks = _ks()
        for cmd in ("XADD s 1-1 f v", "XGROUP CREATE s g 0"):
            _run(ks, cmd, profile)
        logs[profile.name] = _run(ks, claim, profile).log
    assert logs["kevy-1.17"] == [_argv(claim)]
    # kevy's own count (0, then +1): no redis_xclaim_force_count here
    row = f"XCLAIM s g c 0 1-1 TIME {T0} RETRYCOUNT 1 FORCE JUSTID LASTID 0-0"
    assert logs["kevy-1.17+xclaim_logs_time"] == [_argv(row)]


def test_multikey_del_is_one_frame_only_under_del_logs_one_frame() -> None:
    kevy = _ks()
    fixed = _ks()
    one = KEVY_1_17.with_switches("del_logs_one_frame")
    for ks, profile in ((kevy, KEVY_1_17), (fixed, one)):
        _run(ks, "SET a 1", profile)
        _run(ks, "SET b 2", profile)
    assert _run(kevy, "DEL a b", KEVY_1_17).log == [[b"DEL", b"a"], [b"DEL", b"b"]]
    assert _run(fixed, "DEL a b", one).log == [[b"DEL", b"a", b"b"]]


# -- option words: whole arguments (kevy) or C strings (a Redis log) ---------------


def test_a_redis_log_reads_an_option_up_to_its_first_nul() -> None:
    # strcasecmp stops at the first NUL: "nx\0a\0b" is NX to Redis.
    ks = Keyspace(ManualClock(T0), lazy_expire=False)
    set_nx = [b"SET", b"k", b"v", b"nx\x00a\x00b"]
    assert _apply(ks, set_nx, KEVY_1_17, Dialect.REDIS).outcome is Outcome.APPLIED
    assert ks.lookup(b"k").value == b"v"
    _apply(ks, [b"SET", b"k", b"w", b"nx\x00a\x00b"], KEVY_1_17, Dialect.REDIS)
    assert ks.lookup(b"k").value == b"v"


def test_kevy_compares_whole_option_words() -> None:
    ks = _ks()
    r = _run(ks, [b"SET", b"k", b"v", b"NX\x00junk"], KEVY_1_17)
    assert r.reply.message == "ERR syntax error"
    assert ks.lookup(b"k") is None


def test_a_redis_log_trims_a_stream_without_raising_max_deleted_id() -> None:
    ks = Keyspace(ManualClock(T0), lazy_expire=False)
    for cmd in ("XADD s 1-0 f v", "XADD s MAXLEN 1 2-0 f v"):
        assert _apply(ks, cmd, KEVY_1_17, Dialect.REDIS).outcome is Outcome.APPLIED
    assert ks.lookup(b"s").value.max_deleted_id == (0, 0)
    ks = _ks()
    live = KEVY_1_17
    for cmd in ("XADD s 1-0 f v", "XADD s MAXLEN 1 2-0 f v"):
        _run(ks, cmd, live)
    assert ks.lookup(b"s").value.max_deleted_id == (1, 0)
