"""`CrashImage`, and the analysis that enumerates what each model lets survive.

Part of the model/crashfs package; its __init__ holds the models' rules.
"""

from __future__ import annotations

import functools
import itertools
import math
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from impl.fs import dirname
from model.crashfs.choosers import _Chooser
from model.crashfs.decisions import Decision
from model.crashfs.points import (
    _BARRIER_OPS,
    _META_OPS,
    _NAME_OPS,
    Model,
    _apply_trunc,
    _describe_op,
    tear_cuts,
)
from model.crashfs.posix import (
    _apply_name_op,
    _Cut,
    _effective,
    _lazy_product,
    _posix_decision,
    _PosixPlan,
)
from model.crashfs.state import _Entry

if TYPE_CHECKING:
    from model.crashfs.fs import CrashFS


# --------------------------------------------------------------------------
# Crash images.


class CrashImage:
    """One state the disk may be in after the crash, under `model`.

    `decisions` has one record per decision (model/crashfs/decisions.py) and
    `trace` the same as printed lines; `files()` gives the bytes; `to_fs()` a
    fresh CrashFS holding them as durable state, for recovery to run on.
    """

    def __init__(
        self,
        model: Model,
        index: int | None,
        decisions: tuple[Decision, ...],
        names: Mapping[str, int],
        data: Mapping[int, tuple[int, int]] | None,
        analysis: _Analysis,
    ) -> None:
        self.model = model
        self.index = index
        """Position in `images(model)` order, or None for a drawn image."""
        self.decisions = decisions
        self.choices: tuple[int, ...] | None = None
        """For an image built by `sample_image`/`chosen_image`: the choices taken."""
        self._names = names
        self._data = data
        self._an = analysis
        self._files: dict[str, bytes] | None = None

    def files(self) -> dict[str, bytes]:
        """Every file in the image, by path, sorted."""
        if self._files is None:
            an = self._an
            if self._data is None:
                self._files = {p: an.current[i] for p, i in sorted(self._names.items())}
            else:
                self._files = {
                    p: an.content(i, *self._data[i]) for p, i in sorted(self._names.items())
                }
        return dict(self._files)

    def file_bytes(self, path: str) -> bytes:
        """The bytes of one file of the image (made once per content, shared)."""
        ino = self._names[path]
        if self._data is None:
            return self._an.current[ino]
        return self._an.content(ino, *self._data[ino])

    def makers(self) -> dict[str, Callable[[], bytes]]:
        """Per path, a callable that makes its bytes: `CrashFS.from_lazy_files` input."""
        return {p: functools.partial(self.file_bytes, p) for p in sorted(self._names)}

    @property
    def paths(self) -> frozenset[str]:
        """The paths of the image's files."""
        return frozenset(self._names)

    @property
    def dirs(self) -> frozenset[str]:
        return self._an.dirs

    def in_part(self, part: tuple[int, int]) -> bool:
        """Whether this image is in part k of n of `CrashFS.images(model, part=...)`."""
        return _in_part(self._names, part)

    def to_fs(self) -> CrashFS:
        """A fresh CrashFS whose durable and current state is this image."""
        from model.crashfs.fs import CrashFS  # fs imports this module: resolved at call time

        return CrashFS.from_files(self.files(), dirs=self._an.dirs)

    @property
    def trace(self) -> list[str]:
        """The decisions as printed, one line each (made on demand)."""
        return [str(d) for d in self.decisions]

    @property
    def losses(self) -> int:
        """Decisions that lost or tore something."""
        return sum(1 for d in self.decisions if d.loses)

    def __repr__(self) -> str:
        where = "drawn" if self.index is None else f"#{self.index}"
        return f"<CrashImage {self.model} {where}: {len(self._names)} files, {self.losses} losses>"


def _in_part(names: Mapping[str, int], part: tuple[int, int]) -> bool:
    """Whether an image whose files are at these paths belongs to part k of n.

    By the set of paths alone (not which inode holds each): two images with
    byte-identical files have the same paths, so each distinct recovery input
    is in exactly one part. CRC-32, the same in every process (not Python's
    salted `hash`).
    """
    return zlib.crc32("\0".join(sorted(names)).encode()) % part[1] == part[0]


# What one file's data may become: (events applied whole, bytes of the next one).
_DataChoice = tuple[int, int]


@dataclass(frozen=True)
class _Span:
    """The unprotected data events of one inode: events[lo:hi] may be lost."""

    lo: int
    hi: int


class _Analysis:
    """A frozen view of the log from which images are built (no byte copies
    beyond one snapshot of each file's current content)."""

    def __init__(self, fs: CrashFS) -> None:
        self.log = list(fs._log)
        self.events = {i: list(n.events) for i, n in fs._inodes.items()}
        self.base = {i: n.base for i, n in fs._inodes.items()}
        self.synced = {i: n.synced for i, n in fs._inodes.items()}
        self.current = {i: bytes(n.data) for i, n in fs._inodes.items()}
        self.init_names = dict(fs._init_names)
        self.cur_names = dict(fs._names)
        self.dirs = frozenset(fs._dirs)
        self._cache: dict[tuple[int, int, int], bytes] = {}

    # ---- bytes -------------------------------------------------------------

    def content(self, ino: int, n: int, tear: int) -> bytes:
        key = (ino, n, tear)
        if key not in self._cache:
            buf = bytearray(self.base[ino])
            events = self.events[ino]
            for e in events[:n]:
                if e.kind == "trunc":
                    _apply_trunc(buf, e.length)
                else:
                    buf += bytes(len(e.data)) if e.zeroed else e.data
            if tear:
                e = events[n]
                buf += bytes(tear) if e.zeroed else e.data[:tear]
            self._cache[key] = bytes(buf)
        return self._cache[key]

    # ---- per-file data choices (Rule 2) -------------------------------------

    def span_posix(self, ino: int) -> _Span:
        return _Span(self.synced[ino], len(self.events[ino]))

    def span_ordered(self, ino: int, frontier: int) -> _Span:
        events = self.events[ino]
        lo = self.synced[ino]
        hi = len(events)
        for k, e in enumerate(events):
            if e.seq <= frontier:
                lo = max(lo, k + 1)
            elif e.kind == "trunc":
                hi = k
                break
        return _Span(lo, max(lo, hi))

    def choices(self, ino: int, span: _Span) -> list[_DataChoice]:
        """Enumerated choices, most kept first."""
        events = self.events[ino]
        out: list[_DataChoice] = [(span.hi, 0)]
        for n in range(span.hi - 1, span.lo - 1, -1):
            e = events[n]
            if e.kind == "append":
                out.extend((n, k) for k in reversed(tear_cuts(len(e.data))))
            out.append((n, 0))
        return out

    def count_choices(self, ino: int, span: _Span) -> int:
        events = self.events[ino]
        torn = sum(
            len(tear_cuts(len(events[n].data)))
            for n in range(span.lo, span.hi)
            if events[n].kind == "append"
        )
        return span.hi - span.lo + 1 + torn

    def draw_choice(self, ino: int, span: _Span, chooser: _Chooser) -> _DataChoice:
        if span.hi == span.lo:
            return (span.hi, 0)
        n = span.hi - chooser.integer(0, span.hi - span.lo)
        e = self.events[ino][n] if n < span.hi else None
        if e is not None and e.kind == "append" and len(e.data) > 1 and chooser.boolean():
            return (n, chooser.tear(len(e.data)))
        return (n, 0)

    def describe_choice(self, path: str, ino: int, span: _Span, choice: _DataChoice) -> Decision:
        n, tear = choice
        events = self.events[ino]
        total = span.hi - span.lo
        after = len(events) - span.hi
        if n == span.hi:
            return Decision("data", path, "kept", reason="data", total=total, after=after)
        number = sum(1 for e in events[: n + 1] if e.kind == "append")
        return Decision(
            "data",
            path,
            "torn" if tear else "dropped",
            reason="data",
            kept=n - span.lo,
            total=total,
            event=events[n].describe(number),
            tear=tear or None,
            after=after,
        )

    # ---- dispatch ----------------------------------------------------------

    def images(self, model: Model, part: tuple[int, int] | None = None) -> Iterator[CrashImage]:
        if model == "process-crash":
            if part is None or _in_part(self.cur_names, part):
                yield self._process_image()
        elif model == "ordered":
            yield from self._ordered_images(part)
        else:
            yield from self._posix_images(part)

    def _product_size(self, names: Mapping[str, int], span: Callable[[int], _Span]) -> int:
        """`len(list(self._data_product(names, span)))`, without building it."""
        return math.prod(self.count_choices(i, span(i)) for i in names.values())

    def count(self, model: Model) -> int:
        if model == "process-crash":
            return 1
        if model == "ordered":
            return sum(
                math.prod(
                    self.count_choices(i, self.span_ordered(i, cut.frontier))
                    for i in cut.names.values()
                )
                for cut in self._ordered_cuts()
            )
        plan = self._posix_plan()
        total = math.prod(
            self.count_choices(i, self.span_posix(i)) for i in plan.untouched.values()
        )
        for ops in plan.groups:
            total *= plan.weighted_count(ops, lambda i: self.count_choices(i, self.span_posix(i)))
        return total

    def draw(self, model: Model, chooser: _Chooser) -> CrashImage:
        if model == "process-crash":
            image = self._process_image()
            image.index = None
            return image
        if model == "ordered":
            return self._ordered_draw(chooser)
        return self._posix_draw(chooser)

    def _process_image(self) -> CrashImage:
        trace = (Decision("process", "", "kept"),)
        return CrashImage("process-crash", 0, trace, self.cur_names, None, self)

    def _data_product(
        self, names: Mapping[str, int], span: Callable[[int], _Span]
    ) -> Iterator[tuple[dict[int, _DataChoice], list[Decision]]]:
        """Every combination of data choices for the files visible in `names`."""
        paths = sorted(names)
        spans = [span(names[p]) for p in paths]
        options = [self.choices(names[p], s) for p, s in zip(paths, spans, strict=True)]
        for combo in itertools.product(*options):
            data: dict[int, _DataChoice] = {}
            lines: list[Decision] = []
            for p, s, c in zip(paths, spans, combo, strict=True):
                ino = names[p]
                data[ino] = c
                if s.hi > s.lo or s.hi < len(self.events[ino]):
                    lines.append(self.describe_choice(p, ino, s, c))
            yield data, lines

    def _data_draw(
        self, names: Mapping[str, int], span: Callable[[int], _Span], chooser: _Chooser
    ) -> tuple[dict[int, _DataChoice], list[Decision]]:
        data: dict[int, _DataChoice] = {}
        lines: list[Decision] = []
        for p in sorted(names):
            ino = names[p]
            s = span(ino)
            data[ino] = self.draw_choice(ino, s, chooser)
            if s.hi > s.lo or s.hi < len(self.events[ino]):
                lines.append(self.describe_choice(p, ino, s, data[ino]))
        return data, lines

    # ---- ordered (Rule 4) ----------------------------------------------------

    def _ordered_cuts(self) -> list[_Cut]:
        """One entry per cut c = M … 0 (most kept first)."""
        barrier = -1
        barrier_desc = "the start"
        for e in self.log:
            if e.op in _BARRIER_OPS and not e.failed:
                barrier = e.seq
                assert e.point is not None
                barrier_desc = f"point {e.point.index} ({_describe_op(e.op, e.path)})"
        names = dict(self.init_names)
        frontier = -1
        after: list[_Entry] = []
        for e in self.log:
            if e.op not in _META_OPS or e.failed:
                continue
            if e.seq < barrier:
                _apply_name_op(names, e)
                frontier = e.seq
            else:
                after.append(e)
        cuts: list[_Cut] = []
        total = len(after)
        for c in range(total + 1):
            if c:
                _apply_name_op(names, after[c - 1])
                frontier = after[c - 1].seq
            lost = tuple((e.op, e.path, e.dst) for e in after[c:])
            decision = Decision(
                "metadata",
                after[0].path if after else "",
                "lost" if lost else "kept",
                reason="metadata",
                kept=c,
                total=total,
                barrier=barrier_desc,
                lost_ops=lost,
            )
            cuts.append(_Cut(dict(names), frontier, decision))
        cuts.reverse()
        return cuts

    def _ordered_images(self, part: tuple[int, int] | None = None) -> Iterator[CrashImage]:
        index = 0
        for cut in self._ordered_cuts():
            if part is not None and not _in_part(cut.names, part):
                span = functools.partial(self.span_ordered, frontier=cut.frontier)
                index += self._product_size(cut.names, span)
                continue
            for data, lines in self._data_product(
                cut.names, lambda i, f=cut.frontier: self.span_ordered(i, f)
            ):
                yield CrashImage("ordered", index, (cut.decision, *lines), cut.names, data, self)
                index += 1

    def _ordered_draw(self, chooser: _Chooser) -> CrashImage:
        cuts = self._ordered_cuts()
        cut = cuts[chooser.integer(0, len(cuts) - 1)]
        data, lines = self._data_draw(
            cut.names, lambda i: self.span_ordered(i, cut.frontier), chooser
        )
        return CrashImage("ordered", None, (cut.decision, *lines), cut.names, data, self)

    # ---- posix (Rule 5) --------------------------------------------------------

    def _posix_plan(self) -> _PosixPlan:
        last_sync: dict[str, int] = {}
        for e in self.log:
            if e.op == "fsync_dir" and not e.failed:
                last_sync[e.path] = e.seq
        durable = dict(self.init_names)
        pending: list[_Entry] = []
        for e in self.log:
            if e.op not in _NAME_OPS or e.failed:
                continue
            # Renames stay in one directory, so a directory's durable ops are a
            # prefix of its ops and replaying them first keeps program order.
            if e.seq < last_sync.get(dirname(e.path), -1):
                _apply_name_op(durable, e)
            else:
                pending.append(e)
        return _PosixPlan(durable, pending)

    def _posix_images(self, part: tuple[int, int] | None = None) -> Iterator[CrashImage]:
        plan = self._posix_plan()
        index = 0
        for combo in _lazy_product([functools.partial(plan.outcomes, ops) for ops in plan.groups]):
            names = dict(plan.untouched)
            for outcome in combo:
                names.update(outcome.names)
            if part is not None and not _in_part(names, part):
                index += self._product_size(names, self.span_posix)
                continue
            trace: list[tuple[int, Decision]] = []
            for outcome in combo:
                trace.extend(outcome.trace)
            trace.sort(key=lambda t: t[0])
            lines = [d for _, d in trace]
            for data, data_lines in self._data_product(names, self.span_posix):
                yield CrashImage("posix", index, (*lines, *data_lines), names, data, self)
                index += 1

    def _posix_draw(self, chooser: _Chooser) -> CrashImage:
        plan = self._posix_plan()
        names = dict(plan.durable)
        lines: list[Decision] = []
        for e in plan.pending:
            if not _effective(names, e):
                lines.append(_posix_decision(e, "moot"))
            elif chooser.boolean():
                lines.append(_posix_decision(e, "lost"))
            else:
                _apply_name_op(names, e)
                lines.append(_posix_decision(e, "kept"))
        data, data_lines = self._data_draw(names, self.span_posix, chooser)
        return CrashImage("posix", None, (*lines, *data_lines), names, data, self)
