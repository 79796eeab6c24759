#!/usr/bin/env python3
"""Fuzz target: AOF replay into a keyspace (impl/replay.py + impl/commands*.py, docs/SPEC.md
§1.3, §5).

What `check(data)` asserts, beyond "no exception", under both profiles
(`kevy-1.17` and `hardened`) with kevy's dialect, and once with dialect
detection (a leading `SELECT` picks the Redis dialect):

1. `replay_bytes` raises nothing: commands never raise for bad input (§5:
   store errors are discarded), and framing errors are reported, not raised.
2. The report agrees with the scan (`scan_aof`): same outcome, same stop
   offset, same frame count; a corrupt outcome carries the scan's
   `CorruptFrame` with `0 <= offset <= at <= len(data)`; every event's offset
   is inside the input; `dropped_bytes` is what lies after the stop.
3. Replay is deterministic: a second replay of the same bytes into a fresh
   keyspace gives the same canonical document (kevy's dialect).
4. The keyspace replay builds is one a snapshot can hold: it saves and loads
   back to the same document (ties replay's values to §3's writer).
5. Memory: a replay's peak allocation is at most 64 × len + 256 KiB
   (sampled). No §5 verb allocates from an argument's value (there is no
   SETRANGE), so state grows with the bytes replayed; the factor covers
   Python's per-object cost of many tiny members.

Why: replay is how every crash ends; a replay that raises, or that counts
frames differently from the scanner, recovers a different keyspace from the
one kevy would.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # run as a script: make the repository importable
    sys.path[0] = str(Path(__file__).resolve().parents[2])

from fuzz.common import FuzzFinding, check_error, instrumented, measured

with instrumented(__name__):
    from impl.clock import ManualClock
    from impl.commands import Dialect
    from impl.keyspace import Keyspace
    from impl.keyspace_json import Json, describe_difference, document
    from impl.profile import HARDENED, KEVY_1_17, Profile
    from impl.replay import ReplayReport, replay_bytes
    from impl.resp import CorruptFrame, Outcome, scan_aof
    from impl.snapshot import encode_snapshot, live_view, read_snapshot

__all__ = ["NOW_MS", "TestOneInput", "check"]

#: the replay clock: fixed so relative TTLs are deterministic
NOW_MS = 1_700_000_000_000
MEMORY_FACTOR = 64
#: (profile, dialect) pairs replayed; None = detect from the first frame
RUNS: tuple[tuple[Profile, Dialect | None], ...] = (
    (KEVY_1_17, Dialect.KEVY),
    (HARDENED, Dialect.KEVY),
    (KEVY_1_17, None),
)


def _replay(data: bytes, profile: Profile, dialect: Dialect | None) -> tuple[ReplayReport, Json]:
    ks = Keyspace(ManualClock(NOW_MS))
    report = replay_bytes(data, ks, profile=profile, dialect=dialect)
    return report, document(ks, NOW_MS)


def _check_report(data: bytes, report: ReplayReport, what: str) -> None:
    scan = scan_aof(data)
    if (report.outcome, report.stop, report.frames) != (scan.outcome, scan.stop, scan.count):
        raise FuzzFinding(
            f"{what}: report ({report.outcome}, stop {report.stop}, {report.frames} frames) "
            f"!= scan ({scan.outcome}, stop {scan.stop}, {scan.count} frames)"
        )
    if report.dropped_bytes != len(data) - scan.stop:
        raise FuzzFinding(f"{what}: dropped {report.dropped_bytes} bytes, "
                          f"expected {len(data) - scan.stop}")
    if scan.outcome is Outcome.CORRUPT_FRAME:
        if report.error is None:
            raise FuzzFinding(f"{what}: corrupt outcome without an error")
        check_error(report.error, data, (CorruptFrame,))
    elif report.error is not None:
        raise FuzzFinding(f"{what}: {report.outcome} outcome with error {report.error}")
    for event in report.events:
        if not 0 <= event.offset <= len(data):
            raise FuzzFinding(f"{what}: event {event} at offset {event.offset} outside the input")
        str(event)


def _check_again(doc: Json, data: bytes, profile: Profile) -> None:
    """Rules 3 and 4 on one more replay: same document, and it survives a snapshot."""
    ks = Keyspace(ManualClock(NOW_MS))
    replay_bytes(data, ks, profile=profile, dialect=Dialect.KEVY)
    if document(ks, NOW_MS) != doc:
        raise FuzzFinding(f"{profile.name}: two replays of the same bytes differ")
    loaded = Keyspace(ManualClock(NOW_MS))
    read_snapshot(encode_snapshot(live_view(ks, NOW_MS), NOW_MS), loaded, now_ms=NOW_MS)
    difference = describe_difference(doc, document(loaded, NOW_MS), tolerance_ms=0)
    if difference is not None:
        raise FuzzFinding(f"{profile.name}: replayed keyspace does not survive a snapshot: "
                          f"{difference}")


def check(data: bytes) -> None:
    """All oracles of the module docstring on one input."""
    for profile, dialect in RUNS:
        what = f"{profile.name}/{dialect.value if dialect else 'detected'}"
        try:
            report, doc = measured(lambda p=profile, d=dialect: _replay(data, p, d),
                                   len(data), MEMORY_FACTOR, f"replay {what}")
        except FuzzFinding:
            raise
        except Exception as err:
            raise FuzzFinding(f"{what}: replay raised {type(err).__name__}: {err}") from err
        _check_report(data, report, what)
        if dialect is Dialect.KEVY:
            _check_again(doc, data, profile)


def TestOneInput(data: bytes) -> None:  # atheris's conventional name
    check(data)


if __name__ == "__main__":
    import atheris

    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
