"""Expiries and the log (FINDINGS.md F43, ours: F23's fix was incomplete without it).

What: kevy logs no expiry. Its own replay expires a key whose logged deadline has
passed at once, mid-log, which is F23 (a later frame that extended the TTL comes
too late). `replay_no_expiry`, F23's fix, replays the log as it was written and
judges deadlines at the end - as Redis loads an AOF - but Redis can do that only
because it propagates every expiry as an explicit DEL. Without that DEL, a write
that found its key expired (`APPEND c x` after `c`'s TTL passed: a fresh "x")
replays onto the stale value ("1x", still carrying the old deadline), and the
acknowledged write is gone after a restart. `expiry_logs_del` logs the DEL, for a
lazy expiry found by a command and for an active one by the reaper.

Why: found by the hunt (a key with a 1.5 s TTL written during a save whose write
ran 5 s later, then APPEND); pinned here on the smallest histories.
"""

from __future__ import annotations

import pytest

from harness.lifecycle import Program, execute
from impl.profile import HARDENED, KEVY_1_17, Profile

WITHOUT = HARDENED.with_switches("expiry_logs_del", on=False)


def _program(expire: list[object]) -> Program:
    # SET c 1 PX 1500; 5 s pass; the key expires (by the write's lookup, or by the
    # reaper first); APPEND recreates it; then a reopen replays the log.
    return Program(
        "always",
        1,
        [["w", "SET", "c", "1", "PX", "1500"], ["tick", 5000], *expire,
         ["w", "APPEND", "c", "x"], ["reopen", 1]],
    )


LAZY: list[object] = []
ACTIVE: list[object] = [["reap"]]


@pytest.mark.parametrize("expire", [LAZY, ACTIVE], ids=["lazy", "active"])
def test_replaying_as_written_without_the_expiry_loses_the_write(expire: list[object]) -> None:
    failure = execute(_program(expire), WITHOUT)
    assert failure is not None and failure.rule == "lost_durable", failure
    assert "missing key 'c'" in failure.message


@pytest.mark.parametrize("expire", [LAZY, ACTIVE], ids=["lazy", "active"])
@pytest.mark.parametrize("profile", [HARDENED, KEVY_1_17], ids=["hardened", "kevy-1.17"])
def test_a_logged_del_or_kevys_eager_replay_keeps_it(
    expire: list[object], profile: Profile
) -> None:
    # kevy 1.17's replay expires the key mid-log (F23's cause) and so gets this one right.
    assert execute(_program(expire), profile) is None


def test_a_deadline_set_in_the_past_is_logged_as_the_deletion_it_is() -> None:
    # EXPIREAT with a time not in the future deletes at once (kevy for absolute
    # times, Redis for all); logged as PEXPIREAT, a replay that judges deadlines at
    # its end keeps the old value until then, and APPEND lands on it.
    program = Program(
        "always",
        1,
        [["w", "SET", "a", "2"], ["w", "EXPIREAT", "a", "1700000000"],
         ["w", "APPEND", "a", "1"], ["reopen", 1]],
    )
    failure = execute(program, WITHOUT)
    assert failure is not None and "missing key 'a'" in failure.message, failure
    assert execute(program, HARDENED) is None
    assert execute(program, KEVY_1_17) is None  # its replay deletes mid-log (F23's cause)
