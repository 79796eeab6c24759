"""A multi-key DEL across a torn append (FINDINGS.md F41).

What: kevy 1.17 logs `DEL a b` as one frame per key removed (docs/SPEC.md §5.1),
appended together. A power cut before the append is synced may keep any prefix of
its bytes (the posix model tears an unsynced append anywhere), so recovery can
come back with `a` deleted and `b` not: a state after no prefix of the client's
writes. With `del_logs_one_frame` the command is one frame, as Redis propagates
it, and a torn frame is cut whole.

Why: found by the hunt (a torn everysec append after `DEL a s b`); this pins it
on the smallest history, judged by the contract over the crash's images.
"""

from __future__ import annotations

import pytest

from harness.lifecycle import Program, execute
from impl.profile import HARDENED, KEVY_1_17, Profile


def _program() -> Program:
    # The recorded image choices are empty, so `lenient` judges the crash's first
    # images (up to LENIENT_IMAGES): every way the DEL's append can be torn.
    # Under `always` the crash before the DEL's fdatasync leaves its append unsynced.
    return Program(
        "always",
        1,
        [
            ["w", "SET", "a", "1"],
            ["w", "SET", "b", "2"],
            ["crash", ["w", "DEL", "a", "b"], 1, "before", "posix", []],
        ],
    )


def test_kevy_keeps_half_a_torn_del() -> None:
    failure = execute(_program(), KEVY_1_17, lenient=True)
    assert failure is not None and failure.rule == "no_prefix", failure
    assert failure.judgement is not None and failure.judgement.recovered is not None
    keys = {k["key"] for k in failure.judgement.recovered["keys"]}
    assert keys == {"b"}  # a's frame survived, b's was torn off


@pytest.mark.parametrize("profile", [KEVY_1_17.with_switches("del_logs_one_frame"), HARDENED])
def test_one_frame_is_cut_whole(profile: Profile) -> None:
    assert execute(_program(), profile, lenient=True) is None
