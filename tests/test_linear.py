"""CI-sized linearity properties (issue 12), counted, never timed.

The timing table is bench/bench_linear.py. Here: replay keeps a bounded
number of event objects whatever the input (5 M empty frames used to make
5 M of them, 1.45 GB), while `count()` stays exact; `check` reports each
skipped verb's first offset from the report's index, not by searching the
events once per verb (which was O(verbs x events)); and lists are deques, so
LPUSH and LPOP touch O(1) elements, not the whole list.
"""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

from impl.cli import main
from impl.clock import ManualClock
from impl.keyspace import Keyspace, ListValue
from impl.profile import KEVY_1_17
from impl.replay import (
    EVENT_LIST_LIMIT,
    OTHER_VERBS,
    VERBS_TRACKED,
    EventKind,
    replay_bytes,
)

MAGIC = b"KEVYAOF1\n"


def _frame(*argv: bytes) -> bytes:
    return b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv)


def _peak_of_replay(data: bytes) -> tuple[int, object]:
    tracemalloc.start()
    try:
        report = replay_bytes(data, Keyspace(ManualClock(0)), profile=KEVY_1_17)
        return tracemalloc.get_traced_memory()[1], report
    finally:
        tracemalloc.stop()


def test_empty_frames_make_a_bounded_number_of_events() -> None:
    small, big = 20_000, 80_000
    peaks = {}
    for n in (small, big):
        peak, report = _peak_of_replay(MAGIC + b"*0\r\n" * n)
        assert report.count(EventKind.EMPTY) == n  # type: ignore[attr-defined]
        listed = [e for e in report.events if e.kind is EventKind.EMPTY]  # type: ignore[attr-defined]
        assert len(listed) == EVENT_LIST_LIMIT + 1
        assert listed[-1].detail.startswith(f"{n - EVENT_LIST_LIMIT} more empty event(s)")
        assert listed[-1].offset == len(MAGIC) + 4 * EVENT_LIST_LIMIT
        peaks[n] = peak
    # 4x the frames may not cost 4x the memory: what grows is the input, not the events.
    assert peaks[big] < peaks[small] + 4 * (big - small), peaks


def test_check_names_each_skipped_verbs_first_offset(tmp_path: Path) -> None:
    frames = [_frame(b"FOO%d" % (i % 1500), b"k") for i in range(3000)]
    aof = tmp_path / "aof-0.aof"
    aof.write_bytes(MAGIC + b"".join(frames))
    out, err = io.StringIO(), io.StringIO()
    assert main(["check", str(aof), "--now-ms", "0"], out=out, err=err) == 1
    lines = [ln for ln in out.getvalue().splitlines() if "skipped verb" in ln]
    assert len(lines) == VERBS_TRACKED + 1  # 1000 named, the other 500 under one line
    assert f"  skipped verb {OTHER_VERBS}: 1000 frame(s)" in lines[0]
    offset = len(MAGIC) + sum(len(f) for f in frames[:7])
    assert f"  skipped verb FOO7: 2 frame(s), first at offset {offset}" in lines


def test_lists_are_deques_so_both_ends_are_constant_time() -> None:
    log = MAGIC + b"".join(
        _frame(b"LPUSH", b"l", b"%d" % i) + _frame(b"RPUSH", b"q", b"%d" % i) for i in range(2000)
    )
    log += b"".join(_frame(b"LPOP", b"q") for _ in range(1000))
    ks = Keyspace(ManualClock(0))
    replay_bytes(log, ks, profile=KEVY_1_17)
    lst, queue = ks.raw()[b"l"].value, ks.raw()[b"q"].value
    assert type(lst) is ListValue and type(queue) is ListValue
    assert list(lst) == [b"%d" % i for i in reversed(range(2000))]
    assert list(queue) == [b"%d" % i for i in range(1000, 2000)]
    # A list stored as a plain list (by a test, an older caller) is converted once.
    ks.put(b"p", [b"a", b"b"])
    replay_bytes(MAGIC + _frame(b"LPUSH", b"p", b"z"), ks, profile=KEVY_1_17)
    assert type(ks.raw()[b"p"].value) is ListValue and ks.raw()[b"p"].value == [b"z", b"a", b"b"]


def test_distinct_unknown_verbs_are_counted_by_name_up_to_a_bound() -> None:
    from impl.clock import ManualClock as _Clock
    from impl.keyspace import Keyspace as _Keyspace
    from impl.profile import get_profile as _profile
    from impl.replay import OTHER_VERBS, VERBS_TRACKED
    from impl.replay import replay_bytes as _replay
    from impl.resp import encode_frame as _frame

    n = VERBS_TRACKED + 50
    log = b"KEVYAOF1\n" + b"".join(_frame([b"NOSUCH%d" % i, b"k"]) for i in range(n))
    report = _replay(log, _Keyspace(_Clock(0)), profile=_profile("kevy-1.17"))
    assert len(report.skipped) == VERBS_TRACKED + 1 and report.skipped[OTHER_VERBS] == 50
    assert sum(report.skipped.values()) == n
