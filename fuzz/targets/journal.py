#!/usr/bin/env python3
"""Fuzz target: the re-shard journal `reshard.journal` (impl/journal.py, docs/SPEC.md §8.4).

What `check(data)` asserts, beyond "no exception":

1. Three outcomes agree between the kevy-faithful `parse_journal` and the
   explaining `explain_journal`: the same `Journal`; None ⇔ `TornJournal`;
   `JournalUnreadable` from both, at the same offsets. Nothing else escapes,
   and every error has `0 <= offset <= at <= len(data)`. `JournalUnreadable`
   is not a `TornJournal` (recovery deletes torn journals only).
2. Round trip: `format_journal(journal)` parses (both ways) to the same journal.
3. Memory: parse + explain peak at most 16 × len + 256 KiB (sampled).

Why: recovery rolls a parsing journal forward and deletes a torn one; a
disagreement between the two readers would make `check` report a different
fate from the one kevy applies.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # run as a script: make the repository importable
    sys.path[0] = str(Path(__file__).resolve().parents[2])

from fuzz.common import FuzzFinding, check_error, instrumented, measured

with instrumented(__name__):
    from impl.journal import (
        Journal,
        JournalUnreadable,
        TornJournal,
        explain_journal,
        format_journal,
        parse_journal,
    )

__all__ = ["TestOneInput", "check"]

MEMORY_FACTOR = 16

_Result = Journal | None | BaseException


def _run(fn: object, data: bytes) -> _Result:
    try:
        return fn(data)  # type: ignore[operator, no-any-return]
    except Exception as err:  # the oracle classifies whatever escapes
        return err


def _both(data: bytes) -> tuple[_Result, _Result]:
    return _run(parse_journal, data), _run(explain_journal, data)


def check(data: bytes) -> None:
    """All oracles of the module docstring on one input."""
    parsed, explained = measured(lambda: _both(data), len(data), MEMORY_FACTOR, "journal")
    if isinstance(parsed, BaseException):
        check_error(parsed, data, (JournalUnreadable,))
        check_error(explained if isinstance(explained, BaseException) else parsed, data,
                    (JournalUnreadable,))
        if not isinstance(explained, JournalUnreadable) or isinstance(parsed, TornJournal) or (
            (parsed.offset, parsed.at) != (explained.offset, explained.at)  # type: ignore[union-attr]
        ):
            raise FuzzFinding(f"parse raised {parsed!r}, explain gave {explained!r}")
        return
    if isinstance(explained, BaseException):
        check_error(explained, data, (TornJournal,))
        if parsed is not None:
            raise FuzzFinding(f"parse gave {parsed} but explain raised {explained}")
        return
    if explained != parsed or parsed is None:
        raise FuzzFinding(f"parse gave {parsed} but explain gave {explained}")
    written = format_journal(parsed)
    if parse_journal(written) != parsed or explain_journal(written) != parsed:
        raise FuzzFinding(f"format({parsed}) = {written!r} does not parse back")


def TestOneInput(data: bytes) -> None:  # atheris's conventional name
    check(data)


if __name__ == "__main__":
    import atheris

    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
