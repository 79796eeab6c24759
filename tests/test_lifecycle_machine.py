"""The lifecycle machine under Hypothesis: every drawn program keeps hardened's promises.

What: Hypothesis draws a seed; the program is exactly the one `kevy-verify hunt`
draws from that seed (`generate` and `fill_choices` on `random.Random(seed)`), run
on a CrashFS under `hardened`, where every contract rule of harness/lifecycle.py
must hold: no failure at all. A failure prints the seed and the program, which
`kevy-verify hunt --replay` runs once saved as a case.

Why: the hunt (tests/test_hunt.py) covers kevy-1.17 with shrinking and triage; this
is the same machine as a property, so the Hypothesis example database keeps every
failing seed (replayed first on the next run, shared through
`KEVY_VERIFY_REDIS_URL`) and HypoFuzz can run it for hours
(`hypothesis fuzz -- tests/test_lifecycle_machine.py`). It generalises the narrow
machines of tests/test_crash_machines.py, which stay as fast, readable sessions.
"""

from __future__ import annotations

import json
import random

from hypothesis import given
from hypothesis import strategies as st

from harness.lifecycle import execute
from harness.lifecycle_gen import fill_choices, generate
from impl.profile import HARDENED


@given(seed=st.integers(0, 2**32 - 1))
def test_hardened_keeps_every_promise_of_every_drawn_program(seed: int) -> None:
    program = fill_choices(generate(random.Random(seed)), HARDENED, random.Random(seed))
    failure = execute(program, HARDENED)
    assert failure is None, (
        f"seed {seed}: {failure.message}\nprogram: {json.dumps(program.to_json())}"
    )


def test_the_run_that_fills_a_program_judges_it_as_its_replay_does() -> None:
    # The hunt runs each program once (`fill_and_run`) and shrinks and stores what
    # `execute` replays: the two must agree, failure for failure.
    from harness.lifecycle_gen import fill_and_run
    from impl.profile import KEVY_1_17

    failed = 0
    for seed in range(60):
        program, failure = fill_and_run(generate(random.Random(seed)), KEVY_1_17,
                                        random.Random(seed))
        replayed = execute(program, KEVY_1_17)
        assert (failure is None) == (replayed is None), seed
        if failure is not None and replayed is not None:
            failed += 1
            assert (failure.step, failure.rule, failure.crash_verb, failure.point,
                    failure.message) == (replayed.step, replayed.rule, replayed.crash_verb,
                                         replayed.point, replayed.message), seed
    assert failed >= 5, "kevy-1.17 should fail some of these programs"


@given(seed=st.integers(0, 2**32 - 1))
def test_every_drawn_program_ends_in_a_crash_and_its_latent_failures_meet_a_power_cut(
    seed: int,
) -> None:
    # A failed call or a killed process can leave state only a power cut shows (F49's
    # dropped MAGIC, F53's unlinked log, F51's unsynced pages): the generator ends a
    # program in one when none follows the last such step.
    steps = generate(random.Random(seed)).steps
    kinds = [s[0] for s in steps]
    assert "crash" in kinds, steps
    cuts = [i for i, s in enumerate(steps) if s[0] == "crash" and s[4] != "process-crash"]
    latent = [i for i, s in enumerate(steps)
              if s[0] == "fault" or (s[0] == "crash" and s[4] == "process-crash")]
    if latent:
        assert cuts and cuts[-1] > latent[-1], steps
