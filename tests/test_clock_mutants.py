"""impl/clock.py: the two clocks' contracts (README "Adequacy", mutation score).

Every other test reaches `ManualClock` only through its default start and
forward moves, and `SystemClock` only through the CLI; mutmut showed that the
edges (time zero, a zero step, the pre-1970 floor, the messages) went
unchecked. `SystemClock` reads `time.time_ns`, so its floor and rounding are
checked against a substituted `time_ns`: the real one never says 1969.
"""

from __future__ import annotations

import time

import pytest

from impl import clock as clock_module
from impl.clock import Clock, ManualClock, SystemClock


def test_system_clock_is_whole_milliseconds_of_the_wall_clock() -> None:
    before = time.time_ns() // 1_000_000
    now = SystemClock().now_ms()
    after = time.time_ns() // 1_000_000
    assert type(now) is int
    assert before <= now <= after
    assert isinstance(SystemClock(), Clock)


def test_system_clock_floors_nanoseconds_and_never_goes_below_zero(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(clock_module.time, "time_ns", lambda: 1_234_567_999_999)
    assert SystemClock().now_ms() == 1_234_567
    # A clock set before 1970 reads as 0, the earliest Unix millisecond.
    monkeypatch.setattr(clock_module.time, "time_ns", lambda: -5_000_000)
    assert SystemClock().now_ms() == 0


def test_manual_clock_starts_at_its_documented_default() -> None:
    # Corpus cases and golden outputs replay deadlines against this start.
    assert ManualClock().now_ms() == 1_700_000_000_000
    assert repr(ManualClock()) == "ManualClock(1700000000000)"


def test_manual_clock_accepts_time_zero_and_refuses_before_1970() -> None:
    assert ManualClock(0).now_ms() == 0
    with pytest.raises(ValueError, match=r"^clock cannot be before 1970$"):
        ManualClock(-1)


def test_manual_clock_moves_only_forward_and_a_zero_step_is_allowed() -> None:
    c = ManualClock(1_000)
    c.advance(0)
    assert c.now_ms() == 1_000
    c.advance(1)
    assert c.now_ms() == 1_001
    with pytest.raises(ValueError, match=r"^time does not go backwards$"):
        c.advance(-1)
    assert c.now_ms() == 1_001


def test_manual_clock_set_jumps_to_the_given_time() -> None:
    c = ManualClock(1_000)
    c.set(5)
    assert c.now_ms() == 5
