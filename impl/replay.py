"""The AOF replay driver (`replay_aof`, docs/SPEC.md §1.3) and its report.

Why a module of its own: kevy's replay is three small decisions stacked —
frame the bytes (impl/resp.py), decide what each frame means (impl/commands.py),
and decide what to say about what was skipped or dropped. The first two are
kevy's; the third is ours: kevy skips silently, while a verification tool must
name every skipped verb, inline command, torn tail and corrupt frame with its
byte offset, so `dump --strict` can refuse and `check` can report.

Rules:
1. Replay follows §1.3 exactly: a missing file or an empty one applies
   nothing; frames apply in order; a torn tail or a corrupt frame ends the
   replay and nothing after it is applied; nothing is written back.
2. Dialect `kevy` is kevy 1.17's embedded replay (§5). Dialect `redis` reads a
   log written by a stock Redis 7 server: `SELECT 0` is accepted (another
   database number is refused: its frames are dropped and reported);
   `MULTI`…`EXEC` applies as one unit, `DISCARD` drops the unit, and a unit
   still open when the log ends (cleanly or not) is dropped whole; nothing
   expires while the log replays (Redis logs expiries as explicit `DEL`s).
3. `detect_dialect` picks `redis` iff the first frame's verb is `SELECT`.
4. Every event that loses or skips something is a `ReplayEvent` with an
   offset; `lossy` events are the ones `--strict` refuses.
5. Linear in the input (issue 12): each frame costs O(its own size). At most
   `EVENT_LIST_LIMIT` events of one kind are listed; the rest are counted
   (`count(kind)` is exact) and summed up in one last event of that kind, so
   5 M empty frames do not make 5 M event objects. The first offset of each
   skipped verb is kept in `first_skipped`, so no caller searches the events;
   at most `VERBS_TRACKED` distinct verbs are counted by name, the rest under
   `OTHER_VERBS`, so a log of all-distinct unknown verbs stays bounded too.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field

from impl import commands
from impl.commands import Dialect
from impl.commands import Outcome as ApplyOutcome
from impl.errors import CorruptInput, CorruptLogRefused, shown
from impl.fs import FileSystem, basename
from impl.keyspace import Keyspace, SetValue
from impl.profile import Profile
from impl.resp import (
    MAGIC,
    AofScan,
    CorruptFrame,
    Frame,
    Outcome,
    format_replay_summary,
    scan_aof,
)

__all__ = [
    "EVENT_LIST_LIMIT",
    "ConcatenatedLog",
    "EventKind",
    "ReplayEvent",
    "ReplayReport",
    "detect_dialect",
    "refuse_concatenated",
    "replay_aof",
    "replay_bytes",
]


#: events of one kind listed in a report (rule 5); later ones are only counted
EVENT_LIST_LIMIT = 1000


class EventKind(enum.StrEnum):
    """What replay noticed. Members marked lossy mean something was not applied."""

    #: a verb outside the replay set was skipped (lossy)
    SKIPPED_VERB = "skipped-verb"
    #: a command failed and was discarded, e.g. WRONGTYPE (not lossy: kevy's meaning)
    IGNORED = "ignored"
    #: an inline (non-RESP) command was applied; kevy writers never produce one (lossy)
    INLINE = "inline"
    #: an empty or null-array frame (no effect)
    EMPTY = "empty"
    #: the log ends inside a frame: those bytes are not applied (lossy)
    TORN_TAIL = "torn-tail"
    #: a frame is malformed: it and everything after it are not applied (lossy)
    CORRUPT_FRAME = "corrupt-frame"
    #: redis dialect: a MULTI block never closed by EXEC was dropped (lossy)
    MULTI_DROPPED = "multi-dropped"
    #: redis dialect: frames for a database other than 0 were dropped (lossy)
    OTHER_DB = "other-db"
    #: an SPOP frame chose among more members than it removed: kevy picks them in its
    #: process's hash order, so the file does not determine which (lossy: F24)
    UNDETERMINED = "undetermined"


LOSSY = frozenset(
    {
        EventKind.SKIPPED_VERB,
        EventKind.INLINE,
        EventKind.TORN_TAIL,
        EventKind.CORRUPT_FRAME,
        EventKind.MULTI_DROPPED,
        EventKind.OTHER_DB,
        EventKind.UNDETERMINED,
    }
)


#: distinct skipped verbs counted by name; the rest under OTHER_VERBS (rule 5)
VERBS_TRACKED = 1000
OTHER_VERBS = "<other verbs>"


@dataclass(frozen=True)
class ReplayEvent:
    offset: int
    kind: EventKind
    detail: str

    @property
    def lossy(self) -> bool:
        return self.kind in LOSSY

    def __str__(self) -> str:
        return f"offset {self.offset}: {self.kind.value}: {shown(self.detail)}"


@dataclass
class ReplayReport:
    """What a replay did. `frames` counts what kevy counts: complete frames applied."""

    path: str
    size: int = 0
    has_magic: bool = False
    dialect: Dialect = Dialect.KEVY
    frames: int = 0
    applied: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    events: list[ReplayEvent] = field(default_factory=list)
    outcome: Outcome = Outcome.CLEAN
    stop: int = 0
    error: CorruptFrame | None = None
    missing: bool = False
    scan: AofScan | None = None
    #: per skipped verb, the offset of its first frame (rule 5)
    first_skipped: dict[str, int] = field(default_factory=dict)
    #: events per kind, listed or not (rule 5)
    counts: Counter[EventKind] = field(default_factory=Counter)
    #: per kind, the offset of the first event that was counted but not listed
    _unlisted_at: dict[EventKind, int] = field(default_factory=dict)

    @property
    def dropped_bytes(self) -> int:
        return self.size - self.stop

    def note(self, event: ReplayEvent) -> None:
        """Record `event`: listed while its kind has fewer than EVENT_LIST_LIMIT, else counted."""
        n = self.counts[event.kind]
        self.counts[event.kind] = n + 1
        if n < EVENT_LIST_LIMIT:
            self.events.append(event)
        elif event.kind not in self._unlisted_at:
            self._unlisted_at[event.kind] = event.offset

    def count(self, kind: EventKind) -> int:
        """How many events of `kind` replay noticed, listed or not."""
        return self.counts[kind]

    def _close_lists(self) -> None:
        for kind, offset in self._unlisted_at.items():
            more = self.counts[kind] - EVENT_LIST_LIMIT
            self.events.append(
                ReplayEvent(
                    offset,
                    kind,
                    f"{more} more {kind.value} event(s) not listed, the first at offset {offset}",
                )
            )

    def lossy_events(self) -> list[ReplayEvent]:
        return [e for e in self.events if e.lossy]

    def summary_line(self) -> str | None:
        """kevy's own one-line stderr summary (None for a missing or empty file)."""
        if self.scan is None:
            return None
        return format_replay_summary(basename(self.path), self.scan)


def detect_dialect(data: bytes) -> Dialect:
    """`redis` iff the first frame is a SELECT (Redis 7 starts every log with one)."""
    scan = scan_aof(data)
    for frame in scan.frames:
        verb = frame.argv[0].upper() if frame.argv else b""
        return Dialect.REDIS if verb == b"SELECT" else Dialect.KEVY
    return Dialect.KEVY


def _verb(frame: Frame) -> bytes:
    return frame.argv[0].upper() if frame.argv else b""


def _card(ks: Keyspace, key: bytes) -> int:
    """Members of set `key` (0 if absent or not a set), read without expiring it."""
    entry = ks.raw().get(key)
    return len(entry.value) if entry is not None and isinstance(entry.value, SetValue) else 0


def replay_bytes(
    data: bytes,
    ks: Keyspace,
    *,
    profile: Profile,
    dialect: Dialect | None = None,
    path: str = "<bytes>",
) -> ReplayReport:
    """Replay an AOF image into `ks` (docs/SPEC.md §1.3 steps 2–4); see the module rules."""
    scan = scan_aof(data)
    chosen = detect_dialect(data) if dialect is None else dialect
    report = ReplayReport(
        path=path,
        size=len(data),
        has_magic=scan.has_magic,
        dialect=chosen,
        scan=scan if data else None,
    )
    note = report.note
    skipped = report.skipped
    first_skipped = report.first_skipped
    apply = commands.apply
    redis = chosen is Dialect.REDIS
    saved_lazy = ks.lazy_expire
    # F23: like Redis while loading, `replay_no_expiry` expires nothing mid-log: a
    # deadline that passed before the replay may be extended by a later frame.
    if redis or profile.fixes("replay_no_expiry"):
        ks.lazy_expire = False
    multi: list[Frame] | None = None
    multi_at = 0
    other_db_at: int | None = None
    frames = 0
    applied = 0

    def run(frame: Frame) -> None:
        nonlocal applied
        argv = frame.argv
        spop = not redis and len(argv) > 1 and argv[0].upper() == b"SPOP"
        card = _card(ks, argv[1]) if spop else 0
        result = apply(ks, argv, profile=profile, dialect=chosen)
        outcome = result.outcome
        if outcome is ApplyOutcome.APPLIED:
            applied += 1
            popped = card - _card(ks, argv[1]) if spop else 0
            if 0 < popped < card:
                key = argv[1].decode("latin-1")
                note(
                    ReplayEvent(
                        frame.offset,
                        EventKind.UNDETERMINED,
                        f"SPOP {key}: removed {popped} of {card} members; kevy pops "
                        "in its process's hash order, so which ones is not in the file (F24)",
                    )
                )
        elif outcome is ApplyOutcome.SKIPPED:
            verb = result.verb.decode("latin-1")
            name = verb if verb in skipped or len(skipped) < VERBS_TRACKED else OTHER_VERBS
            skipped[name] += 1
            first_skipped.setdefault(name, frame.offset)
            note(ReplayEvent(frame.offset, EventKind.SKIPPED_VERB, verb))
        elif outcome is ApplyOutcome.IGNORED:
            note(
                ReplayEvent(
                    frame.offset,
                    EventKind.IGNORED,
                    f"{result.verb.decode('latin-1')}: {result.reason}",
                )
            )
        else:
            note(ReplayEvent(frame.offset, EventKind.EMPTY, "empty command"))

    try:
        for frame in scan.frames:
            frames += 1
            if frame.kind == "inline":
                note(
                    ReplayEvent(
                        frame.offset,
                        EventKind.INLINE,
                        " ".join(a.decode("latin-1") for a in frame.argv)[:64],
                    )
                )
            if redis:
                verb = _verb(frame)
                if verb == b"SELECT":
                    db = frame.argv[1] if len(frame.argv) > 1 else b""
                    if db == b"0":
                        other_db_at = None
                    elif other_db_at is None:
                        other_db_at = frame.offset
                        note(
                            ReplayEvent(
                                frame.offset,
                                EventKind.OTHER_DB,
                                f"SELECT {db.decode('latin-1')}: frames for "
                                "this database are not applied",
                            )
                        )
                    continue
                if other_db_at is not None:
                    continue
                if verb == b"MULTI" and multi is None:
                    multi, multi_at = [], frame.offset
                    continue
                if verb == b"EXEC" and multi is not None:
                    for queued in multi:
                        run(queued)
                    multi = None
                    continue
                if verb == b"DISCARD" and multi is not None:
                    multi = None
                    continue
                if multi is not None:
                    multi.append(frame)
                    continue
            run(frame)
    finally:
        ks.lazy_expire = saved_lazy

    report.frames = frames
    report.applied = applied
    report.outcome = scan.outcome
    report.stop = scan.stop
    report.error = scan.error
    if multi is not None:
        note(
            ReplayEvent(
                multi_at,
                EventKind.MULTI_DROPPED,
                f"MULTI with {len(multi)} queued commands and no EXEC",
            )
        )
    if scan.outcome is Outcome.TRUNCATED_TAIL:
        trunc = scan.truncation
        detail = f"{report.dropped_bytes} bytes of an incomplete frame"
        if trunc is not None and trunc.expected:
            detail += f" (needs {trunc.expected})"
        note(ReplayEvent(scan.stop, EventKind.TORN_TAIL, detail))
    elif scan.outcome is Outcome.CORRUPT_FRAME:
        err = scan.error
        note(
            ReplayEvent(
                scan.stop,
                EventKind.CORRUPT_FRAME,
                f"{err} — dropping the trailing {report.dropped_bytes} bytes",
            )
        )
    report._close_lists()
    return report


def replay_aof(
    fs: FileSystem,
    path: str,
    ks: Keyspace,
    *,
    profile: Profile,
    dialect: Dialect | None = Dialect.KEVY,
) -> ReplayReport:
    """Replay the AOF at `path` into `ks` (docs/SPEC.md §1.3). A missing file applies nothing.

    kevy itself always replays its own dialect; pass `dialect=None` to detect
    a Redis log from its leading SELECT (what `dump` does).

    Other read errors propagate as OSError, as kevy returns them.
    """
    try:
        data = fs.read_bytes(path)
    except FileNotFoundError:
        return ReplayReport(path=path, missing=True)
    report = replay_bytes(data, ks, profile=profile, dialect=dialect, path=path)
    if report.error is not None:
        report.error.with_path(path)
    return report


class ConcatenatedLog(CorruptInput):
    """A log holds a second log's header (MAGIC) past its start: two logs joined end
    to end (F47). Every byte parses, so no frame is corrupt, but what follows the
    header is another log's history."""

    unit = "frame"


def refuse_concatenated(report: ReplayReport) -> None:
    """Switch `aof_refuse_concatenated` (F47): refuse a log with a second MAGIC line.

    kevy writes MAGIC only at offset 0 (docs/SPEC.md §1.1) and only multibulk
    frames after it, so a MAGIC later in the file - which replay reads as an
    inline command `KEVYAOF1 ...` and skips, then reads the other log's frames,
    misaligned as inline commands or whole - can only be the start of another log
    appended to this one (`cat aof-1.aof >> aof-0.aof`, a botched restore).
    Replaying that log's frames here applies them a second time or in the wrong
    shard (a FLUSHALL of another shard wipes this one). Nothing can tell which
    part is the right one, so the open stops, naming the file and the offset where
    the second log begins. A second parse of the file, at open only.
    """
    if report.scan is None:
        return
    # The header's LF ends no inline line (they end at CRLF), so the first frame
    # of the appended log joins it: `KEVYAOF1 *1` - the name comes first.
    name = MAGIC.rstrip(b"\n")
    for frame in report.scan.frames:
        if frame.kind == "inline" and frame.argv[:1] == (name,):
            cause = ConcatenatedLog(
                "a second log's header: two logs concatenated",
                offset=frame.offset,
                expected="a RESP frame",
                got=MAGIC,
                path=report.path,
            )
            raise CorruptLogRefused(report.path, frame.offset, report.size, cause)
