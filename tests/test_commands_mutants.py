"""impl/commands.py: the replay tables, the per-profile caches and `execute`'s edges
(README "Adequacy").

What: which verbs each (profile, dialect) replays and with which handler
(docs/SPEC.md §5; the Redis dialect's UNLINK and stream writes), the exact
`Applied` of a dropped frame, Redis's unknown-command text, HSET's arity, the
F43 DEL frame, and that the contexts `apply` and `execute` cache are built once
per profile object and never handed to another profile.

Why fresh profiles: as in tests/test_commands_base_mutants.py, a context or
table is built by the first call with a profile object; each test here makes
its own (`_fresh`) so that it builds them itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from impl import commands
from impl.clock import ManualClock
from impl.commands import Applied, Dialect, ErrorReply, Outcome, apply, execute
from impl.keyspace import Keyspace
from impl.profile import HARDENED, KEVY_1_17, Profile

T0 = 1_700_000_000_000


def _fresh(profile: Profile, *switches: str) -> Profile:
    return Profile(profile.name, profile.enabled | set(switches))


def _argv(cmd: str | Sequence[bytes]) -> list[bytes]:
    return [w.encode() for w in cmd.split(" ")] if isinstance(cmd, str) else list(cmd)


def _ks(*, lazy: bool = True) -> Keyspace:
    return Keyspace(ManualClock(T0), lazy_expire=lazy)


def _replay(
    cmds: list[str], profile: Profile, dialect: Dialect = Dialect.KEVY
) -> tuple[Keyspace, list[Applied]]:
    ks = _ks(lazy=dialect is Dialect.KEVY)
    p = _fresh(profile)
    return ks, [apply(ks, _argv(c), profile=p, dialect=dialect) for c in cmds]


# -- the Redis dialect's table -------------------------------------------------------


def test_a_redis_log_replays_unlink_as_del_kevy_skips_it() -> None:
    ks, out = _replay(["SET a 1", "SET b 2", "UNLINK a"], KEVY_1_17, Dialect.REDIS)
    assert out[2] == Applied(Outcome.APPLIED)
    assert ks.lookup(b"a") is None and ks.lookup(b"b") is not None
    ks, out = _replay(["SET a 1", "UNLINK a"], KEVY_1_17)
    assert out[1] == Applied(Outcome.SKIPPED, b"UNLINK")
    assert ks.lookup(b"a") is not None


def test_a_redis_log_replays_stream_writes_kevy_only_under_the_switch() -> None:
    xadd = ["XADD s 1-0 f v"]
    ks, out = _replay(xadd, KEVY_1_17, Dialect.REDIS)
    assert out == [Applied(Outcome.APPLIED)] and ks.lookup(b"s") is not None
    ks, out = _replay(xadd, KEVY_1_17)
    assert out == [Applied(Outcome.SKIPPED, b"XADD")] and ks.lookup(b"s") is None
    ks, out = _replay(xadd, KEVY_1_17.with_switches("replay_stream_writes"))
    assert out == [Applied(Outcome.APPLIED)] and ks.lookup(b"s") is not None


def test_a_redis_log_judges_set_pxat_by_redis_rules_even_under_set_ttl_one_frame() -> None:
    # F15's replay form takes kevy's UINT ("+5", 0); Redis's SET refuses both.
    one_frame = KEVY_1_17.with_switches("set_ttl_one_frame")
    for t in ("+5", "0"):
        ks, out = _replay([f"SET k v PXAT {t}"], one_frame, Dialect.REDIS)
        assert out[0].outcome is Outcome.IGNORED, t
        assert ks.lookup(b"k") is None


# -- kevy's table under set_ttl_one_frame (F15) ---------------------------------------


def test_set_ttl_one_frame_replays_the_frame_its_writer_logs() -> None:
    frame = f"SET k v PXAT {T0 + 5000}"
    ks, _ = _replay([frame], KEVY_1_17)
    assert ks.lookup(b"k").deadline_ms is None  # kevy 1.17: SET's options ignored
    ks, _ = _replay([frame], KEVY_1_17.with_switches("set_ttl_one_frame"))
    assert ks.lookup(b"k").deadline_ms == T0 + 5000


def test_set_ttl_one_frame_leaves_other_sets_to_kevys_replay_form() -> None:
    ks, out = _replay(["SET k v NX"], KEVY_1_17.with_switches("set_ttl_one_frame"))
    assert out == [Applied(Outcome.APPLIED)]
    assert ks.lookup(b"k").value == b"v"


def test_set_ttl_one_frame_wraps_set_only() -> None:
    # The one-frame form would read `RPUSH l a` as `SET l a`.
    ks, _ = _replay(["RPUSH l a", "DEL l"], KEVY_1_17.with_switches("set_ttl_one_frame"))
    assert ks.lookup(b"l") is None
    ks, _ = _replay(["RPUSH l a"], KEVY_1_17.with_switches("set_ttl_one_frame"))
    assert ks.lookup(b"l").value == [b"a"]


# -- what apply reports ---------------------------------------------------------------


def test_a_dropped_frame_names_its_verb_and_why() -> None:
    _, out = _replay(["set k", "RPUSH s a", "LSET s x v", "SET h v", "hset h f v"], KEVY_1_17)
    assert out[0] == Applied(Outcome.IGNORED, b"SET", "missing arguments")
    assert out[2] == Applied(
        Outcome.IGNORED, b"LSET", "ERR value is not an integer or out of range"
    )
    assert out[4] == Applied(
        Outcome.IGNORED,
        b"HSET",
        "WRONGTYPE Operation against a key holding the wrong kind of value",
    )


def test_the_replay_context_is_a_replays_in_both_dialects() -> None:
    # Live, FLUSHALL with a stray argument is a syntax error; replayed, it flushes.
    for dialect in (Dialect.KEVY, Dialect.REDIS):
        ks, out = _replay(["SET k v", "FLUSHALL junk"], KEVY_1_17, dialect)
        assert out[1] == Applied(Outcome.APPLIED), dialect
        assert ks.lookup(b"k") is None


def test_kevy_replay_context_is_kevys_not_redis() -> None:
    # kevy compares whole option words; a Redis log stops at the NUL.
    nul = [b"SET", b"k", b"v", b"NX\x00junk"]
    opts = _fresh(KEVY_1_17, "replay_command_options")
    ks = _ks()
    assert apply(ks, nul, profile=opts).outcome is Outcome.IGNORED
    ks = _ks(lazy=False)
    assert apply(ks, nul, profile=opts, dialect=Dialect.REDIS) == Applied(Outcome.APPLIED)


def test_apply_builds_one_replayer_per_profile_and_dialect() -> None:
    p = _fresh(KEVY_1_17)
    ks = _ks()
    apply(ks, _argv("SET a 1"), profile=p)
    first = commands._KEVY_REPLAYERS[id(p)]
    assert first.profile is p
    apply(ks, _argv("SET b 2"), profile=p)
    assert commands._KEVY_REPLAYERS[id(p)] is first
    apply(_ks(lazy=False), _argv("SET a 1"), profile=p, dialect=Dialect.REDIS)
    assert commands._REDIS_REPLAYERS[id(p)].profile is p
    assert commands._KEVY_REPLAYERS[id(p)] is first


# -- execute ---------------------------------------------------------------------------


def test_execute_builds_one_context_per_profile() -> None:
    p = _fresh(HARDENED)
    ks = _ks()
    execute(ks, _argv("SET a 1"), profile=p)
    first = commands._EXEC_CTX[id(p)]
    assert first[0] is p
    execute(ks, _argv("SET b 2"), profile=p)
    assert commands._EXEC_CTX[id(p)] is first


def test_execute_never_uses_a_context_cached_for_another_profile() -> None:
    # A recycled id(): the entry found belongs to a profile that is gone.
    kevy, hardened = _fresh(KEVY_1_17), _fresh(HARDENED)
    execute(_ks(), _argv("SET a 1"), profile=hardened)
    commands._EXEC_CTX[id(kevy)] = commands._EXEC_CTX[id(hardened)]
    r = execute(_ks(), _argv("SET k v PX 100"), profile=kevy)
    assert r.log == [[b"SET", b"k", b"v"], [b"PEXPIREAT", b"k", str(T0 + 100).encode()]]
    assert commands._EXEC_CTX[id(kevy)][0] is kevy


def test_unknown_command_text_cuts_each_argument_at_128_bytes() -> None:
    name, arg = b"N" * 200, b"a" * 200
    r = execute(_ks(), [name, arg, b"\xe9"], profile=KEVY_1_17)
    assert r.reply == ErrorReply(
        f"ERR unknown command '{'N' * 128}', with args beginning with: '{'a' * 128}' '\xe9' "
    )


def test_hset_wants_field_value_pairs() -> None:
    ks = _ks()
    assert execute(ks, _argv("HSET h f v"), profile=KEVY_1_17).reply == 1
    assert execute(ks, _argv("HSET h f v g w"), profile=KEVY_1_17).reply == 1
    assert execute(ks, _argv("HSET h f v g"), profile=KEVY_1_17).reply == ErrorReply(
        "ERR wrong number of arguments for 'hset' command"
    )


def test_execute_leaves_no_expiry_collector_on_the_keyspace() -> None:
    ks = _ks()
    execute(ks, _argv("SET k v PX 10"), profile=_fresh(HARDENED))
    assert ks.expired is None
    ks.clock.advance(20)  # type: ignore[attr-defined]
    assert ks.lookup(b"k") is None  # a lazy expiry outside execute records nowhere


@pytest.mark.parametrize("profile", [KEVY_1_17, HARDENED])
def test_a_write_that_found_its_key_expired_logs_del_first_under_f43(profile: Profile) -> None:
    ks = _ks()
    execute(ks, _argv("SET k v PX 10"), profile=_fresh(profile))
    ks.clock.advance(20)  # type: ignore[attr-defined]
    r = execute(ks, _argv("APPEND k x"), profile=_fresh(profile))
    dels = [[b"DEL", b"k"]] if profile is HARDENED else []
    assert r.log == [*dels, [b"APPEND", b"k", b"x"]]
