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
