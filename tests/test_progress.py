"""Progress displays of long commands (harness/progress.py), on an injected clock."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from harness.progress import LOG_EVERY_S, Ticker, wait


class _Clock:
    def __init__(self, step: float) -> None:
        self.t = 0.0
        self.step = step

    def __call__(self) -> float:
        self.t += self.step
        return self.t


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_a_whole_line_at_most_every_ten_seconds() -> None:
    out = io.StringIO()
    clock = _Clock(1.0)
    t = Ticker(out, "fuzz rdb", 60.0, now=clock)
    for done in range(30):
        t.update(done, f"{done * 100} inputs")
    t.close(60, "6000 inputs")
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert len(lines) == 30 // int(LOG_EVERY_S) + 1
    assert lines[-1] == "fuzz rdb [####################] 60/60 s, 6000 inputs"


def test_a_terminal_gets_one_line_rewritten() -> None:
    out = _Tty()
    t = Ticker(out, "baseline suite", now=_Clock(1.0))
    for done in range(5):
        t.update(done, "dots")
    t.close(5, "done")
    text = out.getvalue()
    assert text.count("\r") == 6 and text.count("\n") == 1
    assert text.endswith("baseline suite: 5 s, done\n")


def test_wait_returns_the_exit_code_and_times_out_on_its_clock() -> None:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    assert wait(done, 30.0, Ticker(io.StringIO(), "x")) == 0
    stuck = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            wait(stuck, 50.0, Ticker(io.StringIO(), "x", now=_Clock(100.0)))
    finally:
        stuck.kill()
        stuck.wait()
