"""Progress for long commands: a bar on a terminal, periodic plain lines in a log.

What: `Ticker(stream, label, total)` reports `update(done, note)`: on a TTY it
rewrites one line (`\\r`) at most every `TTY_EVERY_S`, elsewhere it writes a
whole line at most every `LOG_EVERY_S`, and `close()` ends with a final line.
`wait(proc, timeout, ticker, measure)` waits for a subprocess while ticking.

Why: `fuzz` and the `mutants` baseline each run one child for minutes; a user
(or a CI log) must see that they are alive and how far they got. The clock is
injected (`now`), so tests do not depend on the wall clock.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["LOG_EVERY_S", "TTY_EVERY_S", "Ticker", "wait"]

TTY_EVERY_S = 0.5
LOG_EVERY_S = 10.0


class Ticker:
    """One progress display; see the module docstring."""

    def __init__(self, stream: TextIO, label: str, total: float | None = None, *,
                 unit: str = "s", now: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.label = label
        self.total = total
        self.unit = unit
        self.now = now
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._last = float("-inf")
        self._open = False

    def _text(self, done: float, note: str) -> str:
        if self.total:
            frac = max(0.0, min(1.0, done / self.total))
            bar = "#" * int(frac * 20)
            head = f"{self.label} [{bar:<20}] {done:.0f}/{self.total:.0f} {self.unit}"
        else:
            head = f"{self.label}: {done:.0f} {self.unit}"
        return f"{head}, {note}" if note else head

    def update(self, done: float, note: str = "") -> None:
        t = self.now()
        if t - self._last < (TTY_EVERY_S if self.tty else LOG_EVERY_S):
            return
        self._last = t
        if self.tty:
            self.stream.write("\r" + self._text(done, note).ljust(79))
            self._open = True
        else:
            self.stream.write(self._text(done, note) + "\n")
        self.stream.flush()

    def close(self, done: float, note: str = "") -> None:
        if self._open:
            self.stream.write("\r")
        self.stream.write(self._text(done, note) + "\n")
        self.stream.flush()


def wait(proc: subprocess.Popen[bytes], timeout: float, ticker: Ticker,
         measure: Callable[[], str] = lambda: "") -> int:
    """`proc.wait(timeout)` that ticks while it waits; raises TimeoutExpired like it."""
    start = ticker.now()
    while True:
        left = timeout - (ticker.now() - start)
        if left <= 0:
            raise subprocess.TimeoutExpired(proc.args, timeout)
        try:
            return proc.wait(timeout=min(left, TTY_EVERY_S if ticker.tty else 1.0))
        except subprocess.TimeoutExpired:
            ticker.update(ticker.now() - start, measure())
