"""F51: after a process crash, open serves what the dead process never synced.

A killed process leaves its unsynced appends in the page cache; the next open
replays them and serves them. Under `always` an acknowledgement promises every
write before it - and one that logs nothing (a DEL of a missing key) syncs
nothing, so a power cut takes back a write the store had served and a client
had been promised. `open_syncs_logs` syncs every log the open replayed
(PostgreSQL syncs its data directory at startup after a crash for the same
reason). The lifecycle machine goes on after a process crash on the same
kernel state (`CrashFS.resume`, harness/lifecycle.py rule 15); before it did,
the process-crash image became durable at once and this history passed.
"""

from __future__ import annotations

import random

import pytest

from harness.lifecycle import Program, execute
from harness.lifecycle_gen import fill_choices
from impl.profile import HARDENED, Profile

WITHOUT = HARDENED.with_switches("open_syncs_logs", on=False)


def _history(noop: list[str]) -> Program:
    return Program("always", 1, [
        ["w", "SET", "x", "0"],
        # Killed after SET a's write() reached the page cache, before its fdatasync:
        # never acknowledged, but the restarted store replays and serves it.
        ["crash", ["w", "SET", "a", "1"], "fdatasync:1", "before", "process-crash", []],
        noop,
        ["crash", ["tick", 10], 99, "after", "posix", None],
    ])


def _fails(program: Program, profile: Profile) -> str | None:
    for seed in range(6):
        failure = execute(fill_choices(program, profile, random.Random(seed)), profile)
        if failure is not None:
            return failure.rule
    return None


@pytest.mark.parametrize("noop", [["DEL", "missing"], ["PERSIST", "x"], ["SREM", "s", "m"]])
def test_an_ack_that_logs_nothing_promises_a_dead_process_s_unsynced_write(
    noop: list[str],
) -> None:
    program = _history(["w", *noop])
    assert _fails(program, WITHOUT) == "lost_durable"
    assert _fails(program, HARDENED) is None


def test_an_ack_that_logs_syncs_the_file_and_so_what_the_dead_process_left() -> None:
    # The same file's fdatasync covers the replayed bytes: no defect to see.
    assert _fails(_history(["w", "SET", "b", "2"]), WITHOUT) is None


def test_a_crash_right_after_the_ack_left_nothing_unsynced() -> None:
    program = _history(["w", "DEL", "missing"])
    program.steps[1] = ["crash", ["w", "SET", "a", "1"], "fdatasync:1", "after",
                        "process-crash", []]
    assert _fails(program, WITHOUT) is None
