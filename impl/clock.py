"""Injected time. Library code never reads the wall clock itself.

kevy keeps in-memory deadlines on a monotonic clock and converts to and from
Unix milliseconds at the edges (docs/SPEC.md §6.2). Keeping every deadline as exact
absolute Unix milliseconds gives the same observable behaviour without the
~584-year wrap, and lets a test move time by hand. Only the composition root
(`impl/cli.py`) constructs a `SystemClock`.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    def now_ms(self) -> int:
        """Unix time in whole milliseconds (floor); 0 before 1970."""
        ...


class SystemClock:
    """The real wall clock (for the CLI and real-process tests only)."""

    def now_ms(self) -> int:
        return max(0, time.time_ns() // 1_000_000)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, now_ms: int = 1_700_000_000_000) -> None:
        if now_ms < 0:
            raise ValueError("clock cannot be before 1970")
        self._now = now_ms

    def now_ms(self) -> int:
        return self._now

    def advance(self, ms: int) -> None:
        if ms < 0:
            raise ValueError("time does not go backwards")
        self._now += ms

    def set(self, now_ms: int) -> None:
        self._now = now_ms

    def __repr__(self) -> str:
        return f"ManualClock({self._now})"
