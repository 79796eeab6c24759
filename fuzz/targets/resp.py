#!/usr/bin/env python3
"""Fuzz target: RESP frames and AOF scanning (impl/resp.py, docs/SPEC.md §1.1–§1.3, §4.5).

What `check(data)` asserts, beyond "no exception":

1. Scanning: `scan_aof(data)` walks frames back to back from 0 or 9 (MAGIC);
   each frame starts where the previous ended; `parse_frame` on its own
   classifies the stop offset as the walk did (clean ⇔ stop is the end and
   NEED_DATA there; corrupt ⇔ the same `CorruptFrame` at the stop).
   Only `CorruptFrame` escapes `parse_frame`; every error and the truncation
   report carry `0 <= offset <= at <= len(data)`.
2. Round trip: a canonical frame re-encodes (`encode_frame`) to exactly the
   bytes consumed and `estimate(argv)` equals its size; a non-canonical
   multibulk frame is strictly longer than its canonical encoding.
3. Memory: a full scan's peak allocation is at most 16 × len + 256 KiB
   (sampled), so no length field is trusted before its bytes exist.
4. Differential: `hiredis.Reader` agrees frame by frame, via `compare()` of
   tests/test_resp_hiredis.py (its docstring lists the nine deliberate
   differences: inline commands, header spelling, negative counts, `$-1`,
   nested replies, unchecked bulk terminator, hiredis allocating counts, CR
   handling, no offsets in hiredis errors). Run on the bytes after MAGIC.

Each input is parsed once, by the scan; the differential reuses its frames
(re-parsing every frame with `parse_frame` would only repeat the scan's own
call). The incremental `FrameReader` has its own target, `resp_reader`.

Why: the AOF parser decides which bytes of a crashed log become data; a
disagreement here silently replays a different keyspace.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # run as a script: make the repository importable
    sys.path[0] = str(Path(__file__).resolve().parents[2])

from fuzz.common import FuzzFinding, check_error, instrumented, measured

with instrumented(__name__):
    from impl.resp import (
        MAGIC,
        NEED_DATA,
        AofScan,
        CorruptFrame,
        Frame,
        NeedData,
        Outcome,
        TruncatedFrame,
        encode_frame,
        estimate,
        parse_frame,
        scan_aof,
    )

import pytest  # compare() reports through pytest.fail

from tests.test_resp_hiredis import compare

__all__ = ["TestOneInput", "check"]

#: peak bytes allowed per input byte while scanning (rule 4)
MEMORY_FACTOR = 16


def _scan(data: bytes) -> tuple[AofScan, list[Frame]]:
    scan = scan_aof(data)
    # Walking the frames records the outcome on the same object, so reading
    # outcome/stop/count afterwards costs no second pass.
    return scan, list(scan.frames)


def _check_frames(data: bytes, frames: list[Frame], start: int) -> int:
    pos = start
    for frame in frames:
        if frame.offset != pos or not pos < frame.end <= len(data):
            raise FuzzFinding(f"frame {frame!r} does not continue at {pos}")
        consumed = data[frame.offset : frame.end]
        if frame.kind == "multibulk":
            canonical = encode_frame(frame.argv)
            size = estimate(frame.argv)
            if size != len(canonical):
                raise FuzzFinding(f"estimate {size} != {len(canonical)}")
            if frame.canonical and canonical != consumed:
                raise FuzzFinding(f"canonical frame {consumed!r} re-encodes to {canonical!r}")
            if not frame.canonical and len(consumed) <= len(canonical):
                raise FuzzFinding(f"non-canonical {consumed!r} not longer than {canonical!r}")
        pos = frame.end
    return pos


def _check_scan(data: bytes) -> tuple[AofScan, list[Frame]]:
    scan, frames = measured(lambda: _scan(data), len(data), MEMORY_FACTOR, "scan_aof")
    outcome, stop, error = scan.outcome, scan.stop, scan.error
    start = len(MAGIC) if data.startswith(MAGIC) else 0
    if scan.start != start:
        raise FuzzFinding(f"frames start at {scan.start}, expected {start}")
    end = _check_frames(data, frames, start)
    if end != stop or scan.count != len(frames):
        raise FuzzFinding(f"scan stopped at {stop} with {scan.count} frames; walk ended at {end}")
    # `parse_frame` on its own must classify the stop exactly as the walk did.
    try:
        tail = parse_frame(data, stop)
    except Exception as err:  # the oracle classifies whatever escapes
        check_error(err, data, (CorruptFrame,))
        assert isinstance(err, CorruptFrame)
        if outcome is not Outcome.CORRUPT_FRAME or error is None:
            raise FuzzFinding(f"parse_frame raised at {stop} but the scan says {outcome}") from err
        if (err.offset, err.at, err.kind) != (error.offset, error.at, error.kind) or (
            err.offset != stop
        ):
            raise FuzzFinding(f"scan error {error!r} differs from {err!r} at {stop}") from err
        check_error(error, data, (CorruptFrame,))
        return scan, frames
    if tail is NEED_DATA:
        expected = Outcome.CLEAN if stop == len(data) else Outcome.TRUNCATED_TAIL
        if outcome is not expected:
            raise FuzzFinding(f"tail at {stop} needs data but outcome is {outcome}")
        truncation = scan.truncation
        if expected is Outcome.TRUNCATED_TAIL:
            if truncation is None:
                raise FuzzFinding("truncated tail without a truncation report")
            check_error(truncation, data, (TruncatedFrame,))
            if truncation.offset != stop or truncation.at != len(data):
                raise FuzzFinding(f"truncation {truncation!r} not [{stop}, {len(data)}]")
        return scan, frames
    raise FuzzFinding(f"scan stopped at {stop} ({outcome}) but a frame parses there: {tail!r}")


def _check_hiredis(data: bytes, scan: AofScan, frames: list[Frame]) -> None:
    skip = scan.start
    stream = data[skip:]
    by_offset = {f.offset - skip: f for f in frames}
    stop, error = scan.stop - skip, scan.error

    def parse(buf: bytes, pos: int) -> Frame | NeedData:
        # kevy's reading at `pos` of the MAGIC-less stream, from the scan
        # checked above, with offsets made relative to the stream.
        frame = by_offset.get(pos)
        if frame is not None:
            return Frame(frame.argv, pos, frame.end - skip, frame.kind) if skip else frame
        if pos != stop:  # pragma: no cover - compare() only walks frame starts
            raise FuzzFinding(f"hiredis comparison asked for offset {pos}, not a frame start")
        if error is not None:
            raise CorruptFrame(error.kind, offset=error.offset - skip, at=error.at - skip,
                               expected=error.expected, got=error.got)
        return NEED_DATA

    try:
        compare(stream, parse)
    except pytest.fail.Exception as failed:  # a BaseException: turn it into a finding
        raise FuzzFinding(f"hiredis differential: {failed}") from None


def check(data: bytes) -> None:
    """All oracles of the module docstring on one input."""
    scan, frames = _check_scan(data)
    _check_hiredis(data, scan, frames)


def TestOneInput(data: bytes) -> None:  # atheris's conventional name
    check(data)


if __name__ == "__main__":
    import atheris

    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
