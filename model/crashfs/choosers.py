"""How a crash image's decisions are chosen.

Hypothesis draws, seeded samples, recorded replays.

Part of the model/crashfs package; its __init__ holds the models' rules.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

from model.crashfs.points import tear_cuts

# --------------------------------------------------------------------------
# Choosers: where the choices of a drawn image come from.


class _Chooser:
    """The three kinds of choice a drawn image makes (module docstring)."""

    def integer(self, lo: int, hi: int) -> int:
        raise NotImplementedError

    def boolean(self) -> bool:
        raise NotImplementedError

    def tear(self, length: int) -> int:
        """Bytes kept of a torn append of `length` >= 2 bytes (1 … length-1)."""
        raise NotImplementedError


class _HypothesisChooser(_Chooser):
    # The strategies and their order are what Hypothesis shrinks and stores in
    # its example database: changing them would invalidate saved failures.
    def __init__(self, draw: Callable[[Any], Any]) -> None:
        self._draw = draw

    def integer(self, lo: int, hi: int) -> int:
        from hypothesis import strategies as st

        return int(self._draw(st.integers(lo, hi)))

    def boolean(self) -> bool:
        from hypothesis import strategies as st

        return bool(self._draw(st.booleans()))

    def tear(self, length: int) -> int:
        return self.integer(1, length - 1)


class _SeededChooser(_Chooser):
    """Uniform choices from a `random.Random`, recorded (booleans as 0/1)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self.taken: list[int] = []

    def integer(self, lo: int, hi: int) -> int:
        value = self._rng.randint(lo, hi)
        self.taken.append(value)
        return value

    def boolean(self) -> bool:
        return bool(self.integer(0, 1))

    def tear(self, length: int) -> int:
        # Only the enumerated cuts, so the image is one `images()` yields.
        value = self._rng.choice(tear_cuts(length))
        self.taken.append(value)
        return value


class _ReplayChooser(_Chooser):
    """Replays recorded choices, checking each against its range."""

    def __init__(self, choices: Iterable[int]) -> None:
        self._left = list(choices)
        self._left.reverse()
        self.taken: list[int] = []

    def _next(self, lo: int, hi: int) -> int:
        if not self._left:
            raise ValueError("the recorded choices ran out before the image was complete")
        value = self._left.pop()
        if not (isinstance(value, int) and lo <= value <= hi):
            raise ValueError(f"recorded choice {value!r} is outside {lo}…{hi}")
        self.taken.append(value)
        return value

    def integer(self, lo: int, hi: int) -> int:
        return self._next(lo, hi)

    def boolean(self) -> bool:
        return bool(self._next(0, 1))

    def tear(self, length: int) -> int:
        return self._next(1, length - 1)

    def finish(self) -> None:
        if self._left:
            raise ValueError(f"{len(self._left)} recorded choice(s) left over")
