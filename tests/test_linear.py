"""Readers stay linear in the log and bounded in memory (bench/bench_linear.py measures).

Structural checks a regression would break, with no clock: lists are deques
(a push or pop at the head is O(1), so a queue of RPUSH/LPOP or a log of
LPUSH replays in linear time); a replay lists at most EVENTS_PER_KIND events
of each kind and counts the rest, and at most VERBS_TRACKED distinct skipped
verbs by name, so millions of empty frames or unknown verbs cannot grow the
report past the input.
"""

from __future__ import annotations

import io
from collections import deque
from pathlib import Path

from impl.cli import main
from impl.clock import ManualClock
from impl.keyspace import Keyspace
from impl.profile import get_profile
from impl.replay import EVENTS_PER_KIND, OTHER_VERBS, VERBS_TRACKED, EventKind, replay_bytes
from impl.resp import encode_frame

KEVY = get_profile("kevy-1.17")


def test_a_list_is_a_deque_after_every_way_in() -> None:
    log = b"".join(encode_frame(a) for a in (
        [b"LPUSH", b"a", b"x"], [b"RPUSH", b"b", b"y"], [b"RPUSH", b"q", b"1", b"2", b"3"],
        [b"LPOP", b"q"], [b"LTRIM", b"q", b"0", b"0"], [b"LREM", b"b", b"0", b"z"],
    ))  # fmt: skip
    ks = Keyspace(ManualClock(0))
    replay_bytes(log, ks, profile=KEVY)
    values = {k: e.value for k, e in ks.raw().items()}
    assert set(values) == {b"a", b"b", b"q"}
    assert all(isinstance(v, deque) for v in values.values()), values
    assert list(values[b"q"]) == [b"2"]


def test_empty_frames_are_counted_not_listed(tmp_path: Path) -> None:
    n = EVENTS_PER_KIND + 900
    report = replay_bytes(b"*0\r\n" * n, Keyspace(ManualClock(0)), profile=KEVY)
    assert report.suppressed[EventKind.EMPTY] == 900
    empties = [e for e in report.events if e.kind is EventKind.EMPTY]
    assert len(empties) == EVENTS_PER_KIND + 1  # the first ones and one summary
    assert "900 more" in empties[-1].detail and empties[-1].offset == 4 * (EVENTS_PER_KIND - 1)


def test_many_unknown_verbs_stay_bounded_and_check_still_reports_them(tmp_path: Path) -> None:
    n = VERBS_TRACKED + 50
    log = b"KEVYAOF1\n" + b"".join(encode_frame([b"NOSUCH%d" % i, b"k"]) for i in range(n))
    report = replay_bytes(log, Keyspace(ManualClock(0)), profile=KEVY)
    assert len(report.skipped) == VERBS_TRACKED + 1 and report.skipped[OTHER_VERBS] == 50
    assert sum(report.skipped.values()) == n
    assert len(report.events) == EVENTS_PER_KIND + 1
    (tmp_path / "aof-0.aof").write_bytes(log)
    out, err = io.StringIO(), io.StringIO()
    assert main(["check", str(tmp_path / "aof-0.aof")], out=out, err=err) == 1
    assert f"skipped verb {OTHER_VERBS}: 50 frame(s)" in out.getvalue()
    assert main(["dump", "--strict", str(tmp_path / "aof-0.aof")], out=io.StringIO(),
                err=err) == 1  # fmt: skip
