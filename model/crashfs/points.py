"""Persistence points and the crash and fault vocabulary.

`Point`, `SimulatedCrash`, `Fault`, `FaultPlan`, `tear_cuts`, the model names.

Part of the model/crashfs package; its __init__ holds the models' rules.
"""

from __future__ import annotations

import dataclasses
import errno
import fnmatch
from dataclasses import dataclass, field
from typing import Literal, get_args

from impl.fs import basename

Model = Literal["process-crash", "ordered", "posix"]
MODELS: tuple[Model, ...] = get_args(Model)

When = Literal["before", "after"]
PointOp = Literal["create", "truncate", "fsync", "fdatasync", "fsync_dir", "rename", "unlink"]
FaultOp = Literal[
    "write", "create", "truncate", "fsync", "fdatasync", "fsync_dir", "rename", "unlink",
    "open",
]
FaultKind = Literal["short", "enospc", "eio"]

_NAME_OPS = frozenset({"create", "rename", "unlink"})
_META_OPS = frozenset({"create", "rename", "unlink", "truncate"})
_BARRIER_OPS = frozenset({"fsync", "fdatasync", "fsync_dir"})
_TEAR_ALL_BELOW = 16


def tear_cuts(length: int) -> list[int]:
    """The torn lengths enumerated for an append of `length` bytes.

    post: all(0 < k < length for k in __return__)
    """
    if length <= _TEAR_ALL_BELOW:
        return list(range(1, length))
    return sorted({1, length // 2, length - 1})


class SimulatedCrash(BaseException):
    """The simulated machine lost power.

    A BaseException, not an OSError, so `except OSError` in impl code cannot
    swallow it. `point` is the point the crash happened at (None for `crash()`
    called directly), `when` is "before" or "after" it.
    """

    def __init__(self, point: Point | None, when: str) -> None:
        self.point = point
        self.when = when
        where = f"{when} {point.describe()}" if point is not None else "at the end of the run"
        super().__init__(f"simulated crash {where}")


class WorkBudgetExceeded(BaseException):
    """A caller made more file-system calls than its budget (`CrashFS.call_budget`).

    The harness's stand-in for "this open never ends": a loader that probes a path
    for every shard a hostile file names (F40) would run for hours. A
    BaseException for the same reason as `SimulatedCrash`: impl code must not
    swallow it.
    """

    def __init__(self, calls: int, budget: int, last: str) -> None:
        self.calls = calls
        self.budget = budget
        super().__init__(f"{calls} file-system calls, over the budget of {budget} (last: {last})")


@dataclass(frozen=True)
class Point:
    """One persistence point: a numbered entry of the log."""

    index: int
    """1-based number among persistence points, in program order."""
    op: PointOp
    path: str
    """The file (or, for fsync_dir, the directory); for rename the source."""
    dst: str | None = None
    """The rename destination, else None."""
    failed: str | None = None
    """Why the call failed through an injected fault (it then changed nothing)."""

    @property
    def paths(self) -> tuple[str, ...]:
        return (self.path,) if self.dst is None else (self.path, self.dst)

    def describe(self) -> str:
        """E.g. "point 7: rename aof-0.aof.rewrite → aof-0.aof"."""
        text = f"point {self.index}: {_describe_op(self.op, self.path, self.dst)}"
        return text if self.failed is None else f"{text} (failed: {self.failed})"


def _describe_op(op: str, path: str, dst: str | None = None) -> str:
    # Renames stay in one directory, so file names read better than full paths;
    # a directory sync names the directory in full.
    if op == "fsync_dir":
        return f"fsync_dir {path}"
    if dst is not None:
        return f"{op} {basename(path)} → {basename(dst)}"
    return f"{op} {basename(path)}"


# --------------------------------------------------------------------------
# Faults (kept apart from crash state).


@dataclass(frozen=True)
class Fault:
    """One injected failure: the next `times` calls of `op` on a path matching
    `path` (an fnmatch glob over the full path) fail with `kind`.

    kinds: "short" (write only: write `nbytes` bytes, return that count),
    "enospc" (OSError ENOSPC, nothing happens), "eio" (OSError EIO, nothing
    happens; for fsync/fdatasync with `drop_dirty`, the file's unsynced
    appends are lost as in Rule 6).
    """

    op: FaultOp
    path: str = "*"
    kind: FaultKind = "eio"
    nbytes: int = 0
    drop_dirty: bool = True
    times: int = 1

    def __post_init__(self) -> None:
        if self.op not in get_args(FaultOp):
            raise ValueError(f"Fault op {self.op!r} is not one of {get_args(FaultOp)}")
        if self.kind not in get_args(FaultKind):
            raise ValueError(f"Fault kind {self.kind!r} is not one of {get_args(FaultKind)}")
        if self.kind == "short" and self.op != "write":
            raise ValueError(f"Fault kind 'short' applies to write only, not {self.op!r}")
        if self.nbytes < 0 or self.times < 1:
            raise ValueError(f"Fault needs nbytes >= 0 and times >= 1, got {self}")


@dataclass
class FaultPlan:
    """Faults waiting to fire, consumed in order of the list (first match wins)."""

    faults: list[Fault] = field(default_factory=list)
    fired: list[str] = field(default_factory=list)
    """One line per fault that fired, e.g. "fsync aof-0.aof: EIO (dirty pages dropped)"."""

    def _take(self, op: str, path: str) -> Fault | None:
        for i, f in enumerate(self.faults):
            if f.op == op and fnmatch.fnmatchcase(path, f.path):
                if f.times == 1:
                    del self.faults[i]
                else:
                    self.faults[i] = dataclasses.replace(f, times=f.times - 1)
                return f
        return None


def _fault_error(fault: Fault, path: str) -> OSError:
    code = errno.ENOSPC if fault.kind == "enospc" else errno.EIO
    return OSError(code, f"injected {fault.kind.upper()} on {fault.op}", path)


def _check_model(model: str) -> Model:
    if model not in MODELS:
        raise ValueError(f"unknown persistence model {model!r}; choose one of {MODELS}")
    return model  # type: ignore[return-value]


def _apply_trunc(buf: bytearray, length: int) -> None:
    if length < len(buf):
        del buf[length:]
    else:
        buf.extend(bytes(length - len(buf)))


@dataclass
class NthCallFails(FaultPlan):
    """A FaultPlan that fails the n-th fallible call it is asked about, whatever it is.

    `fail_next` names an op and a path, but a hardened save syncs the same
    directory four times; counting calls reaches each step of a protocol.
    Kinds: "eio" and "enospc" fail the call; "short" makes a write keep one
    byte (`write_all` finishes the rest); "partial" makes a write keep one byte
    and the next write fail ENOSPC, so a frame is left half written. A kind
    that needs a write fails any other op with EIO.
    """

    n: int = 1
    kind: str = "eio"
    drop_dirty: bool = True
    """A failing fsync/fdatasync loses the file's unsynced pages (Rule 6)."""
    op: str | None = None
    """Count only calls of this op (`rename`: the n-th rename fails), else every one."""
    calls: int = 0
    _then_full: bool = False

    def _take(self, op: str, path: str) -> Fault | None:
        if self._then_full and op == "write":
            self._then_full = False
            return Fault("write", path, "enospc")
        if self.op is not None and op != self.op:
            return None
        if op == "open" and self.op is None:
            # Opening a file became fallible after plans counting every call were
            # recorded in corpus cases: only a plan that names "open" counts opens.
            return None
        self.calls += 1
        if self.calls != self.n:
            return None
        if self.kind in ("short", "partial") and op == "write":
            self._then_full = self.kind == "partial"
            return Fault("write", path, "short", nbytes=1)
        kind = self.kind if self.kind in ("eio", "enospc") else "eio"
        return Fault(op, path, kind, drop_dirty=self.drop_dirty)  # type: ignore[arg-type]
