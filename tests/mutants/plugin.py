"""A pytest plugin the mutant runner loads into each mutant's test run (`-p tests.mutants.plugin`).

What: on the first failing test report (setup, call or teardown) or failing
collection report, append one line `<time.monotonic()>\\t<nodeid>` to the file
named by the environment variable `KEVY_MUTANT_REPORT`. Without that variable
the plugin does nothing, so loading it by accident is harmless.

Why: the runner wants the time from the start of a run to the first failure,
not to the end of pytest's teardown and summary. `time.monotonic()` is the
system-wide CLOCK_MONOTONIC on Linux, so the child's stamp and the runner's
start stamp are on the same clock. A file (not stdout) because pytest's fd
capture owns stdout and stderr while tests run.

Rules: standard library only (it is imported before the test session starts);
write once, at the first failure; never raise into pytest.
"""

from __future__ import annotations

import os
import time
from typing import Any

ENV = "KEVY_MUTANT_REPORT"

_reported = False


def _record(nodeid: str) -> None:
    global _reported
    path = os.environ.get(ENV)
    if _reported or not path:
        return
    _reported = True
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{time.monotonic():.6f}\t{nodeid}\n")
    except OSError:
        pass  # the runner falls back to pytest's own summary


def pytest_runtest_logreport(report: Any) -> None:
    if report.failed:
        _record(report.nodeid)


def pytest_collectreport(report: Any) -> None:
    if report.failed:
        _record(report.nodeid or "<collection>")
