"""A save with the AOF disabled, over a directory that still holds a log (FINDINGS.md F42).

What: kevy's open replays whatever log the directory holds, AOF enabled or not, on
top of the snapshot. A store opened with the AOF disabled over a log that an
earlier (AOF-enabled) process wrote serves the log's writes, and its save writes
them into the snapshot - but leaves the log in place, so the next open applies
them a second time: list pushes and increments doubled, deleted keys back.
`save_resets_stale_log` resets that log to an empty base with the save's own
commit protocol (under `save_commit_roll_forward`, crash-safe by roll-forward).

Why: found by the hunt once a reopen could turn the AOF off (lifecycle rule 12);
pinned here on the smallest history, with every crash point of the fixed save
judged under the posix model.
"""

from __future__ import annotations

import pytest

from harness.lifecycle import Program, execute
from impl.profile import HARDENED, KEVY_1_17, Profile

WRITES = [["w", "RPUSH", "l", "2"], ["w", "INCRBY", "n", "5"], ["w", "SET", "a", "1"]]
TOGGLE = [["reopen", 1, {"aof_enabled": False}], ["w", "DEL", "a"]]


def _program(last: list[object]) -> Program:
    return Program("no", 1, [*WRITES, *TOGGLE, last])


def test_kevy_replays_the_stale_log_over_the_new_snapshot() -> None:
    failure = execute(_program(["save"]), KEVY_1_17)  # the save itself passes
    assert failure is None
    failure = execute(Program("no", 1, [*WRITES, *TOGGLE, ["save"], ["reopen", 1]]), KEVY_1_17)
    assert failure is not None and failure.rule == "no_prefix", failure
    assert failure.judgement is not None and failure.judgement.recovered is not None
    got = {k["key"]: k["value"] for k in failure.judgement.recovered["keys"]}
    assert got == {"l": ["2", "2"], "n": "10", "a": "1"}  # doubled, and `a` is back


@pytest.mark.parametrize("profile", [KEVY_1_17.with_switches("save_resets_stale_log"), HARDENED])
def test_the_fix_leaves_one_copy(profile: Profile) -> None:
    program = Program("no", 1, [*WRITES, *TOGGLE, ["save"], ["reopen", 1, {"aof_enabled": True}]])
    assert execute(program, profile) is None


@pytest.mark.parametrize("k", range(1, 12))
@pytest.mark.parametrize("when", ["before", "after"])
def test_hardened_save_over_a_stale_log_survives_a_crash_anywhere(k: int, when: str) -> None:
    # Empty recorded choices: `lenient` judges the crash's first images.
    crash = ["crash", ["save"], k, when, "posix", []]
    assert execute(_program(crash), HARDENED, lenient=True) is None
