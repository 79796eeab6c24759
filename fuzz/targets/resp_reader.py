#!/usr/bin/env python3
"""Fuzz target: the incremental RESP parser, `FrameReader` (impl/resp.py, docs/SPEC.md §1.2, §1.3).

What `check(data)` asserts, beyond "no exception":

1. Incremental = whole: `FrameReader(aof=True)` fed the input split at up to
   8 deterministic offsets (`cut_points`, seeded by the input) yields the
   same frames (argv, offsets, kind), the same outcome (clean, truncated
   tail, corrupt frame) and the same error kind and offsets as the
   whole-buffer `scan_aof`. Only `CorruptFrame` escapes `frames()`, with
   `0 <= offset <= at <= len(data)`.
2. Memory: feeding and parsing peak at most 16 × len + 256 KiB (sampled):
   the reader buffers what it was given and nothing a count claims.

Why a target of its own: the reader resumes a half-parsed frame from saved
state (`_Partial`) after every feed, a path the whole-buffer scan never
takes; a resumption bug would make a live stream and a replayed file of the
same bytes disagree. Split from `resp` (scan, round trip, hiredis) so each
input of each target is parsed twice, not three times.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

if __name__ == "__main__":  # run as a script: make the repository importable
    sys.path[0] = str(Path(__file__).resolve().parents[2])

from fuzz.common import FuzzFinding, check_error, cut_points, instrumented, measured

with instrumented(__name__):
    from impl.resp import CorruptFrame, Frame, FrameReader, Outcome, scan_aof

__all__ = ["TestOneInput", "check"]

#: peak bytes allowed per input byte while feeding (rule 2)
MEMORY_FACTOR = 16


def _feed(data: bytes) -> tuple[list[Frame], Outcome, CorruptFrame | None]:
    reader = FrameReader(aof=True)
    got: list[Frame] = []
    error: CorruptFrame | None = None
    bounds = [0, *cut_points(data), len(data)]
    for lo, hi in itertools.pairwise(bounds):
        reader.feed(data[lo:hi])
        try:
            got.extend(reader.frames())
        except CorruptFrame as err:
            error = err
            break
    return got, reader.eof(), error


def check(data: bytes) -> None:
    """All oracles of the module docstring on one input."""
    got, outcome, error = measured(lambda: _feed(data), len(data), MEMORY_FACTOR,
                                   "FrameReader")
    scan = scan_aof(data)
    want = list(scan.frames)
    if got != want:
        raise FuzzFinding(f"FrameReader frames {got[:3]!r}... differ from scan {want[:3]!r}...")
    if outcome is not scan.outcome:
        raise FuzzFinding(f"FrameReader outcome {outcome} != scan outcome {scan.outcome}")
    if (error is None) != (scan.error is None):
        raise FuzzFinding(f"FrameReader error {error!r}, scan error {scan.error!r}")
    if error is not None:
        check_error(error, data, (CorruptFrame,))
        ref = scan.error
        assert ref is not None
        if (error.offset, error.at, error.kind) != (ref.offset, ref.at, ref.kind):
            raise FuzzFinding(f"FrameReader error {error} != scan error {ref}")


def TestOneInput(data: bytes) -> None:  # atheris's conventional name
    check(data)


if __name__ == "__main__":
    import atheris

    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
