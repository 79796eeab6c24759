"""A fault step whose reopen itself fails is judged, not a crash of the hunt.

What: after an injected failure the machine reopens a store that refuses every
call (rule 5). If that reopen raises - a log the failure left corrupt, refused by
`aof_refuse_corrupt` - nothing comes back, which no failed call excuses: the
program fails with `recovery_error`, naming the failure.

Why: a 60 s hunt of kevy-1.17 under a profile with `cross_shard_intent` but not
F25's fix crashed in a worker on exactly this (session 7), losing the run; a
finding must be a finding, never a harness exception.
"""

from __future__ import annotations

import pytest

from harness import lifecycle
from harness.lifecycle import Program, execute
from impl.errors import CorruptLogRefused
from impl.profile import HARDENED, get_profile
from impl.resp import CorruptFrame


def test_a_reopen_after_a_fault_that_raises_is_a_recovery_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_open = lifecycle._Machine._open
    calls = []

    def open_(self: lifecycle._Machine, shards: int, hash_seed: int | None = None) -> None:
        calls.append(shards)
        if len(calls) == 2:  # the reopen after the failed append
            cause = CorruptFrame("bad", offset=9, at=12, buf=b"", expected="x", got=b"y")
            raise CorruptLogRefused("/data/aof-0.aof", 9, 40, cause)
        real_open(self, shards, hash_seed)

    monkeypatch.setattr(lifecycle._Machine, "_open", open_)
    program = Program(
        "always", 1, [["w", "SET", "a", "1"], ["fault", ["w", "SET", "b", "2"], 1, "eio"]]
    )
    failure = execute(program, HARDENED)
    assert failure is not None and failure.rule == "recovery_error", failure
    assert failure.point == "fault" and "refused every call and was reopened" in failure.message


def test_a_client_write_that_fails_during_a_background_save_does_not_stop_the_save() -> None:
    # A client's failed write is the client's (rule 5); kevy's save thread goes on.
    # The machine once let the write's error leave the save begun, and the next
    # BGSAVE raised PhaseError: a class the hunt credited to F25's fix (session 10).
    program = Program(
        "always",
        1,
        [
            ["w", "SET", "a", "1"],
            ["fault", ["bgsave", 0, [["w", "SET", "c", "2"]]], 2, "eio"],
            ["bgsave", 0, []],
            ["crash", ["w", "SET", "b", "1"], 1, "after", "process-crash", []],
        ],
    )
    assert execute(program, get_profile("hardened-append_failure_fails_shard")) is None
    assert execute(program, get_profile("kevy-1.17")) is None
