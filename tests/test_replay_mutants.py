"""impl/replay.py: what a replay reports, event by event (README "Adequacy").

The replay driver's verdicts reach users as `check` lines and `dump --strict`
refusals: each event's kind, offset and text, whether it is lossy, the report's
totals, and the Redis dialect's SELECT / MULTI handling. These tests pin each
of them on small logs, in process, so a mutmut run of the module can see them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from impl.clock import ManualClock
from impl.commands import Dialect
from impl.fs import OsFileSystem
from impl.keyspace import Keyspace
from impl.profile import KEVY_1_17, get_profile
from impl.replay import (
    EVENT_LIST_LIMIT,
    EventKind,
    ReplayEvent,
    ReplayReport,
    detect_dialect,
    replay_aof,
    replay_bytes,
)
from impl.resp import MAGIC, CorruptFrame, Outcome, encode_frame, format_replay_summary

NOW = 1_000_000


def _argv(cmd: str | list[bytes]) -> list[bytes]:
    return cmd if isinstance(cmd, list) else [w.encode() for w in cmd.split(" ")]


def _frames(*cmds: str | list[bytes]) -> list[bytes]:
    return [encode_frame(_argv(c)) for c in cmds]


def _log(*cmds: str | list[bytes], magic: bool = True) -> bytes:
    return (MAGIC if magic else b"") + b"".join(_frames(*cmds))


def _offsets(*cmds: str | list[bytes], start: int = len(MAGIC)) -> list[int]:
    out, at = [], start
    for frame in _frames(*cmds):
        out.append(at)
        at += len(frame)
    return out


def _ks(lazy: bool = True) -> Keyspace:
    return Keyspace(ManualClock(NOW), lazy_expire=lazy)


def _replay(data: bytes, ks: Keyspace | None = None, **kw: object) -> tuple[Keyspace, ReplayReport]:
    ks = _ks() if ks is None else ks
    kw.setdefault("profile", KEVY_1_17)
    return ks, replay_bytes(data, ks, **kw)  # type: ignore[arg-type]


def _events(report: ReplayReport) -> list[tuple[int, EventKind, str]]:
    return [(e.offset, e.kind, e.detail) for e in report.events]


# --------------------------------------------------------------------------
# Events and the report.


def test_an_event_prints_offset_kind_and_escaped_detail() -> None:
    e = ReplayEvent(17, EventKind.SKIPPED_VERB, "FOO\x1b[2J")
    assert str(e) == "offset 17: skipped-verb: FOO\\x1b[2J"


@pytest.mark.parametrize("kind", list(EventKind))
def test_lossy_is_exactly_what_was_not_applied(kind: EventKind) -> None:
    not_lossy = {EventKind.IGNORED, EventKind.EMPTY}
    assert ReplayEvent(0, kind, "").lossy is (kind not in not_lossy)


def test_a_clean_log_reports_its_size_frames_and_summary() -> None:
    data = _log("SET a 1", "SET b 2")
    ks, report = _replay(data, path="/d/aof-0.aof")
    assert (report.path, report.size, report.has_magic) == ("/d/aof-0.aof", len(data), True)
    assert (report.dialect, report.frames, report.applied) == (Dialect.KEVY, 2, 2)
    assert (report.outcome, report.stop, report.error) == (Outcome.CLEAN, len(data), None)
    assert report.dropped_bytes == 0 and report.events == [] and not report.missing
    assert report.scan is not None
    assert report.summary_line() == format_replay_summary("aof-0.aof", report.scan)
    assert report.summary_line() is not None
    assert ks.raw()[b"b"].value == b"2"


def test_an_empty_log_has_no_scan_and_no_summary() -> None:
    _, report = _replay(b"")
    assert report.scan is None and report.summary_line() is None
    assert (report.size, report.frames, report.has_magic) == (0, 0, False)


def test_a_log_without_magic_is_replayed_and_says_so() -> None:
    _, report = _replay(_log("SET a 1", magic=False))
    assert report.has_magic is False and report.applied == 1


def test_events_past_the_limit_are_counted_and_summed_up_once() -> None:
    report = ReplayReport(path="p")
    for i in range(EVENT_LIST_LIMIT + 3):
        report.note(ReplayEvent(i, EventKind.EMPTY, "empty command"))
    report.note(ReplayEvent(5000, EventKind.IGNORED, "x"))
    assert report.count(EventKind.EMPTY) == EVENT_LIST_LIMIT + 3
    assert report.count(EventKind.IGNORED) == 1
    assert len(report.events) == EVENT_LIST_LIMIT + 1
    report._close_lists()
    last = report.events[-1]
    assert (last.offset, last.kind) == (EVENT_LIST_LIMIT, EventKind.EMPTY)
    assert last.detail == (
        f"3 more empty event(s) not listed, the first at offset {EVENT_LIST_LIMIT}"
    )
    assert report.lossy_events() == []


def test_skipped_ignored_empty_and_inline_frames_are_each_an_event() -> None:
    cmds = ["SET a 1", "FOOBAR x", "RPUSH a v", [], "FOOBAR y", "INCR"]
    data = _log(*cmds) + b"SET inline value\r\n"
    at = _offsets(*cmds)
    _, report = _replay(data)
    assert report.frames == 7 and report.applied == 2
    assert report.skipped == {"FOOBAR": 2}
    assert report.first_skipped == {"FOOBAR": at[1]}
    assert _events(report)[:5] == [
        (at[1], EventKind.SKIPPED_VERB, "FOOBAR"),
        (
            at[2],
            EventKind.IGNORED,
            "RPUSH: WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        (at[3], EventKind.EMPTY, "empty command"),
        (at[4], EventKind.SKIPPED_VERB, "FOOBAR"),
        (at[5], EventKind.IGNORED, "INCR: missing arguments"),
    ]
    inline = report.events[5]
    assert (inline.offset, inline.kind, inline.detail) == (
        len(data) - len(b"SET inline value\r\n"),
        EventKind.INLINE,
        "SET inline value",
    )
    assert [e.kind for e in report.lossy_events()] == [
        EventKind.SKIPPED_VERB,
        EventKind.SKIPPED_VERB,
        EventKind.INLINE,
    ]


def test_an_inline_detail_is_cut_at_64_characters() -> None:
    data = MAGIC + b"SET k " + b"v" * 100 + b"\r\n"
    _, report = _replay(data)
    assert report.events[0].detail == ("SET k " + "v" * 100)[:64]


def test_a_torn_tail_names_the_bytes_and_what_they_needed() -> None:
    whole = _log("SET a 1")
    data = whole + b"*2\r\n$3\r\nGET\r\n$5\r\nab"
    _, report = _replay(data)
    assert report.outcome is Outcome.TRUNCATED_TAIL
    assert report.stop == len(whole) and report.dropped_bytes == len(data) - len(whole)
    (event,) = report.events
    assert (event.offset, event.kind) == (len(whole), EventKind.TORN_TAIL)
    assert event.detail.startswith(f"{len(data) - len(whole)} bytes of an incomplete frame")
    assert report.scan is not None and report.scan.truncation is not None
    expected = report.scan.truncation.expected
    assert expected and event.detail.endswith(f" (needs {expected})")


def test_a_corrupt_frame_ends_the_replay_and_says_what_was_dropped() -> None:
    whole = _log("SET a 1")
    data = whole + b"*1\r\n%3\r\nGET\r\n" + _frames("SET b 2")[0]
    ks, report = _replay(data)
    assert report.outcome is Outcome.CORRUPT_FRAME and isinstance(report.error, CorruptFrame)
    (event,) = report.events
    assert (event.offset, event.kind) == (len(whole), EventKind.CORRUPT_FRAME)
    assert event.detail == (
        f"{report.error} — dropping the trailing {len(data) - len(whole)} bytes"
    )
    assert b"b" not in ks.raw()


# --------------------------------------------------------------------------
# SPOP (F24) and the expiry switch.


def test_an_spop_of_some_members_is_undetermined() -> None:
    cmds = ["SADD s a b c", "SPOP s 1", "SPOP s 2"]
    at = _offsets(*cmds)
    _, report = _replay(_log(*cmds))
    assert _events(report) == [
        (
            at[1],
            EventKind.UNDETERMINED,
            "SPOP s: removed 1 of 3 members; kevy pops in its process's hash order, "
            "so which ones is not in the file (F24)",
        ),
    ]  # the second SPOP removed both members left: fully determined
    assert report.events[0].lossy


def test_an_spop_of_a_missing_key_or_in_redis_is_no_event() -> None:
    _, report = _replay(_log("SPOP nothing 1"))
    assert report.events == []
    _, report = _replay(_log("SELECT 0", "SADD s a b c", "SPOP s 1"))
    assert report.dialect is Dialect.REDIS and report.events == []


def test_lazy_expiry_is_off_during_a_redis_or_no_expiry_replay_and_restored() -> None:
    # A key whose deadline passed before the replay: kevy's replay expires it on
    # access, so the later PEXPIRE finds nothing; Redis and F23's fix keep it.
    data = _log("SET k v", "PEXPIREAT k 10", "PEXPIRE k 100000")
    for profile, kept in ((KEVY_1_17, False), (get_profile("hardened"), True)):
        ks = _ks(lazy=True)
        _replay(data, ks, profile=profile, dialect=Dialect.KEVY)
        assert (
            b"k" in ks.raw()
            and ks.raw()[b"k"].deadline_ms is not None
            and ks.raw()[b"k"].deadline_ms > NOW
        ) is kept
        assert ks.lazy_expire is True
    ks = _ks(lazy=True)
    _replay(MAGIC + b"".join(_frames("SELECT 0")) + data[len(MAGIC) :], ks)
    assert ks.lazy_expire is True


# --------------------------------------------------------------------------
# Dialects.


@pytest.mark.parametrize(
    ("data", "dialect"),
    [
        (_log("SELECT 0", "SET a 1"), Dialect.REDIS),
        (_log("select 0"), Dialect.REDIS),
        (_log("SET a 1", "SELECT 0"), Dialect.KEVY),
        (_log([], "SELECT 0"), Dialect.KEVY),
        (MAGIC, Dialect.KEVY),
        (b"", Dialect.KEVY),
    ],
    ids=["select-first", "lower-case", "select-later", "empty-first", "magic-only", "empty"],
)
def test_redis_is_detected_by_a_leading_select(data: bytes, dialect: Dialect) -> None:
    assert detect_dialect(data) is dialect
    _, report = _replay(data)
    assert report.dialect is dialect


def test_an_explicit_dialect_is_not_second_guessed() -> None:
    _, report = _replay(_log("SELECT 0", "SET a 1"), dialect=Dialect.KEVY)
    assert report.dialect is Dialect.KEVY


def test_redis_frames_for_another_database_are_dropped_until_select_0() -> None:
    cmds = [
        "SELECT 0",
        "SET a 1",
        "SELECT 1",
        "SET b 2",
        "SELECT 2",
        "SET c 3",
        "SELECT 0",
        "SET d 4",
        "SELECT",
        "SET e 5",
    ]
    at = _offsets(*cmds)
    ks, report = _replay(_log(*cmds))
    assert sorted(ks.raw()) == [b"a", b"d"]
    assert _events(report) == [
        (at[2], EventKind.OTHER_DB, "SELECT 1: frames for this database are not applied"),
        (at[8], EventKind.OTHER_DB, "SELECT : frames for this database are not applied"),
    ]
    assert report.applied == 2 and report.frames == len(cmds)


def test_redis_multi_exec_applies_discard_drops_and_an_open_multi_is_lost() -> None:
    cmds = [
        "SELECT 0",
        "MULTI",
        "SET a 1",
        "SET b 2",
        "EXEC",
        "MULTI",
        "SET c 3",
        "DISCARD",
        "SET d 4",
        "MULTI",
        "SET e 5",
        "MULTI",
        "SET f 6",
    ]
    at = _offsets(*cmds)
    ks, report = _replay(_log(*cmds))
    assert sorted(ks.raw()) == [b"a", b"b", b"d"]
    # The second MULTI inside an open block is queued like any other frame.
    assert _events(report)[-1] == (
        at[9],
        EventKind.MULTI_DROPPED,
        "MULTI with 3 queued commands and no EXEC",
    )
    assert report.applied == 3


def test_redis_exec_or_discard_without_multi_are_ordinary_frames() -> None:
    _, report = _replay(_log("SELECT 0", "EXEC", "DISCARD", "SET a 1"))
    assert report.skipped == {"EXEC": 1, "DISCARD": 1}


def test_kevy_dialect_has_no_transactions_or_databases() -> None:
    ks, report = _replay(_log("SET a 1", "MULTI", "SET b 2", "SELECT 1", "SET c 3"))
    assert sorted(ks.raw()) == [b"a", b"b", b"c"]
    assert report.skipped == {"MULTI": 1, "SELECT": 1}


# --------------------------------------------------------------------------
# Files.


def test_a_missing_log_applies_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "aof-0.aof")
    report = replay_aof(OsFileSystem(), path, _ks(), profile=KEVY_1_17)
    assert report == ReplayReport(path=path, missing=True)


def test_a_log_file_replays_in_kevys_dialect_unless_asked_to_detect(tmp_path: Path) -> None:
    path = tmp_path / "appendonly.aof"
    path.write_bytes(_log("SELECT 0", "SET a 1") + b"*1\r\n%3\r\n")
    report = replay_aof(OsFileSystem(), str(path), _ks(), profile=KEVY_1_17)
    assert report.dialect is Dialect.KEVY and report.path == str(path)
    assert report.error is not None and report.error.path == str(path)
    report = replay_aof(OsFileSystem(), str(path), _ks(), profile=KEVY_1_17, dialect=None)
    assert report.dialect is Dialect.REDIS


# --------------------------------------------------------------------------
# Edges mutmut found unpinned.


def test_bytes_replay_has_a_placeholder_path() -> None:
    _, report = _replay(_log("SET a 1"))
    assert report.path == "<bytes>"


def test_an_empty_frame_in_a_redis_log_is_an_empty_event() -> None:
    cmds = ["SELECT 0", [], "SET a 1"]
    ks, report = _replay(_log(*cmds))
    assert _events(report) == [(_offsets(*cmds)[1], EventKind.EMPTY, "empty command")]
    assert b"a" in ks.raw()


def test_a_forced_redis_replay_without_select_applies_database_0() -> None:
    ks, report = _replay(_log("SET a 1", "SET b 2"), dialect=Dialect.REDIS)
    assert sorted(ks.raw()) == [b"a", b"b"] and report.events == []


def test_a_redis_log_replays_with_redis_semantics() -> None:
    # Redis honours SET's PXAT; kevy 1.17's replay ignores SET options (§5).
    data = _log("SELECT 0", f"SET k v PXAT {NOW + 500}")
    ks, _ = _replay(data)
    assert ks.raw()[b"k"].deadline_ms == NOW + 500
    ks, _ = _replay(data, dialect=Dialect.KEVY)
    assert ks.raw()[b"k"].deadline_ms is None


@pytest.mark.parametrize(
    ("cmd", "undetermined"),
    [("SPOP s", True), ("SPOP s 0", False), ("SPOP", False), ("SPOP s 3", False)],
)
def test_which_spop_frames_are_undetermined(cmd: str, undetermined: bool) -> None:
    _, report = _replay(_log("SADD s a b c", cmd))
    kinds = [e.kind for e in report.events]
    assert (EventKind.UNDETERMINED in kinds) is undetermined
    if cmd == "SPOP":
        assert _events(report) == [
            (_offsets("SADD s a b c", cmd)[1], EventKind.IGNORED, "SPOP: missing arguments")
        ]
