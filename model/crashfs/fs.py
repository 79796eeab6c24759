"""`CrashFS`: the recording FileSystem.

It numbers persistence points, crashes at one and injects faults.

Part of the model/crashfs package; its __init__ holds the models' rules.
"""

from __future__ import annotations

import errno
import random
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Literal, get_args

from impl.fs import DirLock, Owner, WritableFile, basename, dirname
from model.crashfs.choosers import _HypothesisChooser, _ReplayChooser, _SeededChooser
from model.crashfs.images import CrashImage, _Analysis
from model.crashfs.points import (
    Fault,
    FaultKind,
    FaultOp,
    FaultPlan,
    Model,
    Point,
    PointOp,
    SimulatedCrash,
    When,
    WorkBudgetExceeded,
    _apply_trunc,
    _check_model,
    _describe_op,
    _fault_error,
)
from model.crashfs.state import (
    _CrashDirLock,
    _CrashFile,
    _enoent,
    _Entry,
    _Event,
    _Inode,
    _LazyInode,
    _norm,
)


class CrashFS:
    """The simulated file system. See the module docstring for the rules.

    `crash_at=k` makes the file system die at persistence point k (1-based),
    `when="before"` (point k does not happen) or `"after"` (it happens, then
    the power goes); `crash_at=None` runs to the end, recording, so a harness
    can count `points()` and replay with each k (a k past the last point
    never fires: check `crashed`). `crash()` cuts the power now.
    """

    def __init__(
        self,
        crash_at: int | None = None,
        when: When = "before",
        *,
        faults: FaultPlan | Iterable[Fault] | None = None,
    ) -> None:
        if crash_at is not None and crash_at < 1:
            raise ValueError(f"crash_at counts points from 1, got {crash_at}")
        if when not in ("before", "after"):
            raise ValueError(f"when must be 'before' or 'after', got {when!r}")
        self._crash_at = crash_at
        self._when: When = when
        #: `arm(k, op=...)`: the crash waits for the k-th point of this op
        self._crash_op: PointOp | None = None
        self._crash_left = 0
        self._crashed: SimulatedCrash | None = None
        if isinstance(faults, FaultPlan):
            self.faults = faults
        else:
            self.faults = FaultPlan(list(faults or ()))
        self._dirs: set[str] = {"/", "."}
        self._names: dict[str, int] = {}
        self._init_names: dict[str, int] = {}
        self._inodes: dict[int, _Inode] = {}
        self._log: list[_Entry] = []
        self._points: list[Point] = []
        self._owners: dict[int, Owner] = {}
        self._locks: set[str] = set()
        #: file-system calls so far, and the most a caller may make (None: no limit);
        #: over it every call raises WorkBudgetExceeded
        self.calls = 0
        self.call_budget: int | None = None

    def arm(self, k: int, when: When = "before", op: PointOp | None = None) -> None:
        """Crash at the k-th persistence point from now (k >= 1), `before` or `after` it;
        with `op`, at the k-th point of that op from now (the first rename of a save,
        wherever it falls).

        The public way to arm a crash mid-run (the stateful machines and the
        hunt do): point numbers continue across a run, so this is point
        `len(points()) + k`. Arming again replaces the previous arm.
        """
        if k < 1:
            raise ValueError(f"arm counts points from 1 (the next one), got {k}")
        if when not in ("before", "after"):
            raise ValueError(f"when must be 'before' or 'after', got {when!r}")
        if op is not None and op not in get_args(PointOp):
            raise ValueError(f"op must be one of {get_args(PointOp)}, got {op!r}")
        self._crash_at = None if op is not None else len(self._points) + k
        self._crash_op, self._crash_left = op, k
        self._when = when

    @classmethod
    def from_files(
        cls,
        files: Mapping[str, bytes],
        *,
        dirs: Iterable[str] = (),
        crash_at: int | None = None,
        when: When = "before",
        faults: FaultPlan | Iterable[Fault] | None = None,
    ) -> CrashFS:
        """A file system whose durable and current state are `files` (parent
        directories, and `dirs`, are created)."""
        fs = cls(crash_at, when, faults=faults)
        for d in dirs:
            fs._add_dirs(_norm(d))
        for path, data in sorted(files.items()):
            path = _norm(path)
            fs._add_dirs(dirname(path))
            node = fs._new_inode(bytes(data))
            fs._names[path] = node.ino
            fs._init_names[path] = node.ino
        return fs

    @classmethod
    def from_lazy_files(
        cls, files: Mapping[str, Callable[[], bytes]], *, dirs: Iterable[str] = ()
    ) -> tuple[CrashFS, set[str]]:
        """Like `from_files`, but each file's bytes are made by its callable on first
        use; returns the file system and the set of paths whose bytes were used so
        far (it grows as they are: reads, sizes, appends, truncates)."""
        fs = cls()
        touched: set[str] = set()
        for d in dirs:
            fs._add_dirs(_norm(d))
        for path, make in sorted(files.items()):
            path = _norm(path)
            fs._add_dirs(dirname(path))
            node = _LazyInode(len(fs._inodes), path, make, touched)
            fs._inodes[node.ino] = node
            fs._names[path] = node.ino
            fs._init_names[path] = node.ino
        return fs, touched

    # ---- inspection ------------------------------------------------------

    def points(self) -> list[Point]:
        """Every persistence point so far, in order (`points()[i].index == i + 1`)."""
        return list(self._points)

    def history(self) -> list[str]:
        """The whole log, appends included, one line per entry."""
        return [e.describe() for e in self._log]

    @property
    def crashed(self) -> bool:
        return self._crashed is not None

    @property
    def crash_info(self) -> SimulatedCrash | None:
        """The crash that stopped this file system, if any."""
        return self._crashed

    def snapshot_files(self) -> dict[str, bytes]:
        """What a reader sees now: every file's bytes by path (works after a crash)."""
        return {p: bytes(self._inodes[i].data) for p, i in sorted(self._names.items())}

    def crash(self) -> None:
        """Cut the power now (if not already cut); later calls raise SimulatedCrash."""
        if self._crashed is None:
            self._crashed = SimulatedCrash(None, "at end")

    def resume(self) -> None:
        """Go on after a `process-crash`: the process died, the kernel did not (Rule 3).

        Everything the dead process wrote stays exactly as durable as it was - an
        unsynced append or an unsynced rename is still unsynced, and a later power
        cut may still take it - and the log goes on. Its locks go with it (flock
        is released when the holder dies), as do faults it had armed and the call
        budget its open had. `process-crash`'s image is this state; a fresh
        `CrashImage.to_fs()` would instead make all of it durable at once.
        """
        if self._crashed is None:
            raise ValueError("resume() after a crash only: nothing crashed")
        self._crashed = None
        self._crash_at, self._crash_op, self._crash_left = None, None, 0
        self._locks.clear()
        self.faults = FaultPlan([])
        self.call_budget = None

    # ---- crash images ----------------------------------------------------

    def images(self, model: Model, part: tuple[int, int] | None = None) -> Iterator[CrashImage]:
        """Every crash image of the current log under `model`, most-kept first.

        `part=(k, n)`: only the images whose file names (which path holds which
        inode) fall in part k of n - byte-identical images always share their
        names, so each distinct recovery input lands in one part - each with its
        index in the whole enumeration. The parts of 0..n-1 together are `images`.
        """
        if part is not None and not 0 <= part[0] < part[1]:
            raise ValueError(f"part {part} is not (k, n) with 0 <= k < n")
        return _Analysis(self).images(_check_model(model), part)

    def count_images(self, model: Model) -> int:
        """`len(list(self.images(model)))`, computed without building them."""
        return _Analysis(self).count(_check_model(model))

    def draw_image(self, data_or_draw: Any, model: Model = "posix") -> CrashImage:
        """One crash image chosen by Hypothesis (`st.data()` or a composite's
        `draw`). Every choice is a boolean or a bounded integer whose simplest
        value keeps everything, so failures shrink toward the fewest losses."""
        draw: Callable[[Any], Any] = getattr(data_or_draw, "draw", data_or_draw)
        return _Analysis(self).draw(_check_model(model), _HypothesisChooser(draw))

    def sample_image(self, rng: random.Random, model: Model = "posix") -> CrashImage:
        """One crash image chosen by `rng`, without Hypothesis (sampled exploration).

        The choices are the ones `draw_image` makes, each uniform over its
        range, except that a torn append is cut only where `images()` cuts it
        (`tear_cuts`), so a sampled image is one of the enumerated images and
        its trace names it. The image's `choices` record every value taken;
        `chosen_image(image.choices, model)` rebuilds it without the rng.
        """
        chooser = _SeededChooser(rng)
        image = _Analysis(self).draw(_check_model(model), chooser)
        image.choices = tuple(chooser.taken)
        return image

    def chosen_image(self, choices: Iterable[int], model: Model = "posix") -> CrashImage:
        """The image `sample_image` built with these recorded `choices`.

        Raises ValueError if they no longer fit this log (a value out of
        range, too few or too many): the run drifted since they were recorded.
        """
        chooser = _ReplayChooser(choices)
        image = _Analysis(self).draw(_check_model(model), chooser)
        chooser.finish()
        image.choices = tuple(chooser.taken)
        return image

    def fail_next(
        self,
        op: FaultOp,
        path: str = "*",
        kind: FaultKind = "eio",
        *,
        nbytes: int = 0,
        drop_dirty: bool = True,
        times: int = 1,
    ) -> None:
        """Queue a `Fault` (see its docstring)."""
        self.faults.faults.append(Fault(op, path, kind, nbytes, drop_dirty, times))

    # ---- FileSystem protocol: reads ---------------------------------------

    def read_bytes(self, path: str) -> bytes:
        self._check_alive()
        return bytes(self._inodes[self._lookup(_norm(path))].data)

    def exists(self, path: str) -> bool:
        self._check_alive()
        path = _norm(path)
        return path in self._names or path in self._dirs

    def is_dir(self, path: str) -> bool:
        self._check_alive()
        return _norm(path) in self._dirs

    def file_size(self, path: str) -> int:
        self._check_alive()
        return len(self._inodes[self._lookup(_norm(path))].data)

    def listdir(self, path: str) -> list[str]:
        self._check_alive()
        path = _norm(path)
        if path not in self._dirs:
            if path in self._names:
                raise NotADirectoryError(errno.ENOTDIR, "Not a directory", path)
            raise _enoent(path)
        out = {basename(p) for p in self._names if dirname(p) == path}
        out.update(basename(d) for d in self._dirs if d != path and dirname(d) == path)
        return sorted(out)

    # ---- FileSystem protocol: changes -------------------------------------

    def makedirs(self, path: str) -> None:
        self._check_alive()
        self._add_dirs(_norm(path))

    def open_append(self, path: str, *, create: bool = True) -> WritableFile:
        self._check_alive()
        path = _norm(path)
        fault = self.faults._take("open", path)
        if fault is not None:
            # open(2) failing (EIO, ENOSPC, and in life EMFILE): nothing happens, no
            # persistence point - but the caller must cope, e.g. after a rename.
            error = _fault_error(fault, path)
            code = errno.errorcode[error.errno or errno.EIO]
            self.faults.fired.append(f"open {basename(path)}: {code}")
            raise error
        if path in self._names:
            return _CrashFile(self, path, self._names[path])
        if path in self._dirs:
            raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
        if not create:
            raise _enoent(path)
        return _CrashFile(self, path, self._create(path))

    def create_truncate(self, path: str) -> WritableFile:
        self._check_alive()
        path = _norm(path)
        if path in self._names:
            ino = self._names[path]
            self._truncate(path, ino, 0)
            return _CrashFile(self, path, ino)
        if path in self._dirs:
            raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
        return _CrashFile(self, path, self._create(path))

    def rename(self, src: str, dst: str) -> None:
        self._check_alive()
        src, dst = _norm(src), _norm(dst)
        ino = self._lookup(src)
        if dst in self._dirs:
            raise IsADirectoryError(errno.EISDIR, "Is a directory", dst)
        if dirname(src) != dirname(dst):
            raise ValueError(
                "CrashFS models renames inside one directory only (docs/SPEC.md §10): "
                f"{src} → {dst}"
            )
        point = self._begin("rename", src, dst, ino=ino)
        if src != dst:
            del self._names[src]
            self._names[dst] = ino
        self._finish(_Entry(len(self._log), "rename", src, ino, dst=dst, point=point))

    def unlink(self, path: str) -> None:
        self._check_alive()
        path = _norm(path)
        ino = self._lookup(path)
        point = self._begin("unlink", path, ino=ino)
        del self._names[path]
        self._finish(_Entry(len(self._log), "unlink", path, ino, point=point))

    def fsync_dir(self, path: str) -> None:
        self._check_alive()
        path = _norm(path)
        if path not in self._dirs:
            raise _enoent(path)
        point = self._begin("fsync_dir", path)
        self._finish(_Entry(len(self._log), "fsync_dir", path, -1, point=point))

    # ---- impl.fs.ExclusiveFileSystem (used by impl/repair.py) ---------------
    # CrashFS has no symlinks, so `lexists` is `exists`. Ownership is kept per
    # inode in memory and is not a persistence point: no crash rule depends on it.

    def lexists(self, path: str) -> bool:
        return self.exists(path)

    def create_exclusive(self, path: str) -> WritableFile:
        self._check_alive()
        path = _norm(path)
        if path in self._names or path in self._dirs:
            raise FileExistsError(errno.EEXIST, "File exists", path)
        ino = self._create(path)
        self._owners[ino] = Owner(0o600, 0, 0)
        return _CrashFile(self, path, ino)

    def stat_owner(self, path: str) -> Owner:
        self._check_alive()
        return self._owners.get(self._lookup(_norm(path)), Owner(0o644, 0, 0))

    def set_owner(self, path: str, owner: Owner) -> None:
        self._check_alive()
        self._owners[self._lookup(_norm(path))] = owner

    # ---- impl.fs.LockingFileSystem (FINDINGS.md F19) ------------------------
    # One CrashFS is one machine: two stores on it are two processes, and a
    # held lock excludes the second. Locks are no persistence point and leave
    # nothing on disk; a crash image is a fresh CrashFS, with no lock held.

    def lock_dir(self, path: str) -> DirLock:
        self._check_alive()
        path = _norm(path)
        if path not in self._dirs:
            raise _enoent(path)
        if path in self._locks:
            raise BlockingIOError(errno.EWOULDBLOCK, "directory is locked", path)
        self._locks.add(path)
        return _CrashDirLock(self, path)

    # ---- internals ---------------------------------------------------------

    def _check_alive(self) -> None:
        if self._crashed is not None:
            raise SimulatedCrash(self._crashed.point, self._crashed.when)
        self.calls += 1
        if self.call_budget is not None and self.calls > self.call_budget:
            raise WorkBudgetExceeded(self.calls, self.call_budget, sys._getframe(1).f_code.co_name)

    def _lookup(self, path: str) -> int:
        if path in self._dirs:
            raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
        if path not in self._names:
            raise _enoent(path)
        return self._names[path]

    def _add_dirs(self, path: str) -> None:
        while path not in self._dirs:
            if path in self._names:
                raise NotADirectoryError(errno.ENOTDIR, "Not a directory", path)
            self._dirs.add(path)
            path = dirname(path)

    def _new_inode(self, base: bytes = b"") -> _Inode:
        node = _Inode(len(self._inodes), base)
        self._inodes[node.ino] = node
        return node

    def _begin(self, op: PointOp, path: str, dst: str | None = None, *, ino: int = -1) -> Point:
        """Number the next point; crash before it, or fail it by a fault.

        Returns the point to perform. An injected fault records the point as
        failed and raises its OSError (or SimulatedCrash, if the crash is
        due right after this point).
        """
        index = len(self._points) + 1
        point = Point(index, op, path, dst)
        if self._crash_op == op:
            self._crash_left -= 1
            if self._crash_left == 0:
                self._crash_op, self._crash_at = None, index
        if self._crash_at == index and self._when == "before":
            self._die(point)
        fault = self.faults._take(op, path)
        if fault is None:
            return point
        error = _fault_error(fault, path)
        reason = errno.errorcode[error.errno or errno.EIO]
        if op in ("fsync", "fdatasync") and fault.kind == "eio" and fault.drop_dirty:
            self._drop_dirty(ino)
            reason += ", dirty pages dropped"
        failed = Point(index, op, path, dst, failed=reason)
        self.faults.fired.append(_describe_op(op, path, dst) + f": {reason}")
        self._finish(_Entry(len(self._log), op, path, ino, dst=dst, point=failed))
        raise error

    def _finish(self, entry: _Entry) -> None:
        assert entry.point is not None
        self._log.append(entry)
        self._points.append(entry.point)
        if self._crash_at == entry.point.index and self._when == "after":
            self._die(entry.point)

    def _die(self, point: Point) -> None:
        self._crashed = SimulatedCrash(point, self._when)
        raise SimulatedCrash(point, self._when)

    def _create(self, path: str) -> int:
        if dirname(path) not in self._dirs:
            raise _enoent(path)
        point = self._begin("create", path)
        node = self._new_inode()
        self._names[path] = node.ino
        self._finish(_Entry(len(self._log), "create", path, node.ino, point=point))
        return node.ino

    def _write(self, path: str, ino: int, data: bytes) -> int:
        fault = self.faults._take("write", path)
        if fault is not None:
            if fault.kind != "short":
                self.faults.fired.append(f"write {basename(path)}: {fault.kind.upper()}")
                raise _fault_error(fault, path)
            data = data[: fault.nbytes]
            self.faults.fired.append(f"write {basename(path)}: short, {len(data)} B")
        if not data:
            return 0
        node = self._inodes[ino]
        seq = len(self._log)
        node.events.append(_Event(seq, "append", data))
        node.data += data
        self._log.append(_Entry(seq, "write", path, ino, nbytes=len(data)))
        return len(data)

    def _sync(self, path: str, ino: int, op: Literal["fsync", "fdatasync"]) -> None:
        point = self._begin(op, path, ino=ino)
        node = self._inodes[ino]
        node.synced = len(node.events)
        self._finish(_Entry(len(self._log), op, path, ino, point=point))

    def _drop_dirty(self, ino: int) -> None:
        node = self._inodes[ino]
        node.events[node.synced :] = [
            _Event(e.seq, e.kind, e.data, e.length, zeroed=e.kind == "append")
            for e in node.events[node.synced :]
        ]

    def _truncate(self, path: str, ino: int, length: int) -> None:
        point = self._begin("truncate", path, ino=ino)
        node = self._inodes[ino]
        seq = len(self._log)
        node.events.append(_Event(seq, "trunc", length=length))
        _apply_trunc(node.data, length)
        self._finish(_Entry(seq, "truncate", path, ino, nbytes=length, point=point))
