"""A simulated file system that can crash, and the states a crash may leave.

What: `CrashFS` implements the `impl.fs.FileSystem` protocol in memory. It
keeps what a reader sees now (the page cache) and enough history to say what
is durable, numbers every persistence point, can be told to die at one of
them, and turns the crash into *crash images*: the file trees a machine may
show after it reboots, under a named persistence model.

Why: every kevy durability protocol (temp file, fsync, rename; append and
fsync by policy; rewrite and swap) is correct only if it is correct at every
point where the machine can die and for every way the disk may have kept what
it was given. Running the protocol on this file system, crashing it at point
k and recovering from each image walks all of those cases deterministically.

Method (after SQLite's test6.c): every call goes into ONE ordered, numbered
log across all files. Appends are logged but are not persistence points; the
persistence points are create, truncate, fsync, fdatasync, fsync_dir, rename
and unlink, numbered from 1 in program order ("point 7: rename aof-0.aof.rewrite
→ aof-0.aof"). Files are inodes: a name maps to an inode, rename moves the
mapping, and an open handle keeps writing to its inode after a rename or
unlink (as on POSIX). Per inode we keep its starting bytes, its list of data
events (appends and truncates, each with its log position) and how many of
them the last successful fsync/fdatasync covered (LevelDB's
`pos_at_last_sync`, but with bytes). Per directory the durable names are the
names at its last fsync_dir, plus the creates, renames and unlinks since
(RocksDB's per-directory tracking). A crash image gives each op that no sync
protected one fate the model allows - kept, dropped, or torn at byte k - and
records one trace line per decision. Once the crash point is reached the file
system raises `SimulatedCrash` and records nothing more (LevelDB's
`filesystem_active`). Disk errors (short write, ENOSPC, EIO from fsync) are a
separate, explicit `FaultPlan` and never touch the crash state.

The persistence models, each with its source:

- `process-crash` - kill -9 on a healthy kernel: every completed call survives,
  only user-space buffers are lost (LevelDB fault_injection_test with no reset).
- `ordered` - ext4 data=ordered as abstracted by ALICE ("All File Systems Are
  Not Created Equal", Pillai et al., OSDI 2014): metadata persists as a prefix
  in program order, data written before a persisted metadata op persists first.
- `posix` - only what was fsynced is promised: POSIX fsync(2) plus RocksDB's
  FaultInjectionTestFS (unsynced data dropped or a random prefix kept; files
  created since the last directory sync may vanish) and SQLite test6.c's
  independent per-write fates.

The exact rules (points "durable" = cannot be lost under that model):

Rule 1 (all models). A persistence point that failed through an injected fault
  changed nothing and protects nothing. Directories made by `makedirs` are
  durable at once and are not points: kevy creates its data directory once
  and never removes one. Renames must stay inside one directory (docs/SPEC.md §10);
  a cross-directory rename raises ValueError.
Rule 2 (data of one file, `ordered` and `posix`). A file's unprotected data
  events (appends and truncates after the protected ones) survive as a prefix
  in program order, and the first one that does not survive whole may, if it
  is an append, be torn at any byte (a file has one length; we never model
  holes or garbage - SQLite's "trash" fate is left out). So an unsynced append
  is kept, dropped, or torn at byte k; once one is dropped or torn, later data
  events of the same file are dropped too. Files are independent of each other.
Rule 3 (`process-crash`). One image: the current namespace and every byte
  passed to `write()`. Pages dropped by a failed fsync are still in the page
  cache (we do not model eviction), so they are still there.
Rule 4 (`ordered`). Barriers are successful fsync, fdatasync and fsync_dir:
  each commits the journal, so every metadata op (create, rename, unlink,
  truncate, any file) before the last barrier is durable. The metadata ops
  after the last barrier persist as a prefix: the image picks a cut c, 0 <= c
  <= M, and the first c persist. Data: an append that precedes a persisted
  metadata op (any file) is durable, and so is one that precedes a successful
  fsync/fdatasync of its own file. The remaining appends of a file follow
  Rule 2, except that nothing after an unpersisted truncate of the same file
  can survive (it would land on a length the disk never had).
Rule 5 (`posix`). A create, rename or unlink is durable once its directory is
  fsynced after it; fsync of the file does NOT make a new file's name durable.
  Each other create/rename/unlink independently happened or not, applied in
  program order, with this causality: a rename or unlink whose source name
  does not, in the image being built, point to the inode it named at run time
  (its create was dropped, or an earlier rename was) is moot: no decision, no
  effect. Rename is atomic: it either moved the name or did not, so a rename
  over an existing file leaves the old or the new file under the destination
  and the source name only if it did not happen. Data: a successful fsync or
  fdatasync makes its file's data events (appends and truncates) durable;
  the rest follow Rule 2, so an unsynced truncate may or may not have happened.
Rule 6 (faults). An EIO from fsync/fdatasync with `drop_dirty` marks that
  file's appends not yet covered by a successful fsync/fdatasync of the file
  as lost, as Linux does after a writeback error ("fsyncgate", 2018): readers
  still see them until a crash (so `process-crash` keeps them), a later fsync
  succeeds, and in `ordered`/`posix` images those byte ranges read as zeros
  wherever they survive (the length arrives, the data never does - even if,
  under `ordered`, a metadata op would otherwise have forced it).
Rule 7 (the crash). At `crash_at=k` the call for point k raises
  `SimulatedCrash` before doing anything ("before") or after recording it
  ("after"); from then on every call raises `SimulatedCrash` again, except
  `close()`, which is a no-op so that `finally:` blocks stay quiet. Images
  describe the log as it stood at the crash (or now, if there was none).

Enumeration is bounded: a torn append of n bytes is enumerated at cuts
1, n//2 and n-1 when n > 16 and at every cut 1..n-1 when n <= 16 (0 and n are
the "dropped" and "kept" fates); `draw_image` may choose any byte. The
namespace choices are enumerated exhaustively, lazily, most-kept first.
`count_images` counts the same decision vectors without building them (a
product over groups of names no op connects, each counted by merging equal
name states op by op); two decision vectors may give equal bytes (a dropped
truncate of an empty file looks like a kept one).

`draw_image` makes these Hypothesis choices, each simplest when nothing is
lost: `ordered`, one integer (cuts back from "all metadata kept"); `posix`, one
boolean per pending create/rename/unlink that is not moot (False = kept), in
program order; then per visible file with unprotected data, sorted by path,
an integer (data ops dropped from the end, 0 = none), and if the first
dropped op is an append of 2+ bytes a boolean (torn?) and the torn length.
`sample_image` makes the same choices from a seeded `random.Random` (each
uniform; a torn length only among `tear_cuts`, so the image is an enumerated
one) and records them, so `chosen_image` rebuilds it for a regression case.
"""

from __future__ import annotations

import dataclasses
import errno
import fnmatch
import functools
import itertools
import math
import posixpath
import random
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from impl.fs import DirLock, Owner, WritableFile, basename, dirname

__all__ = [
    "MODELS",
    "CrashFS",
    "CrashImage",
    "Fault",
    "FaultPlan",
    "Model",
    "Point",
    "SimulatedCrash",
    "tear_cuts",
]

Model = Literal["process-crash", "ordered", "posix"]
MODELS: tuple[Model, ...] = get_args(Model)

When = Literal["before", "after"]
PointOp = Literal["create", "truncate", "fsync", "fdatasync", "fsync_dir", "rename", "unlink"]
FaultOp = Literal[
    "write", "create", "truncate", "fsync", "fdatasync", "fsync_dir", "rename", "unlink"
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


# --------------------------------------------------------------------------
# The recorded history.


@dataclass(frozen=True, slots=True)
class _Event:
    """A data event on one inode."""

    seq: int
    kind: Literal["append", "trunc"]
    data: bytes = b""
    length: int = 0
    zeroed: bool = False
    """An append whose dirty pages a failed fsync dropped (Rule 6)."""

    def describe(self, number: int) -> str:
        if self.kind == "trunc":
            return f"truncate to {self.length}"
        return f"append #{number} ({len(self.data)} B)"


@dataclass(frozen=True, slots=True)
class _Entry:
    """One log entry: an append (point None) or a persistence point."""

    seq: int
    op: str
    path: str
    ino: int
    dst: str | None = None
    nbytes: int = 0
    point: Point | None = None

    @property
    def failed(self) -> bool:
        return self.point is not None and self.point.failed is not None

    def describe(self) -> str:
        if self.point is not None:
            return self.point.describe()
        return f"write {basename(self.path)} +{self.nbytes} B"


class _Inode:
    __slots__ = ("base", "data", "events", "ino", "synced")

    def __init__(self, ino: int, base: bytes = b"") -> None:
        self.ino = ino
        self.base = base
        self.data = bytearray(base)
        self.events: list[_Event] = []
        self.synced = 0  # leading events covered by the last successful file sync


def _norm(path: str) -> str:
    return posixpath.normpath(path)


def _enoent(path: str) -> FileNotFoundError:
    return FileNotFoundError(errno.ENOENT, "No such file or directory", path)


# --------------------------------------------------------------------------
# The file system.


class _CrashFile:
    """A handle: appends to its inode, wherever (or whether) it is named."""

    def __init__(self, fs: CrashFS, path: str, ino: int) -> None:
        self.path = path
        self._fs = fs
        self._ino = ino
        self._closed = False

    def _check(self) -> None:
        self._fs._check_alive()
        if self._closed:
            raise OSError(errno.EBADF, "file is closed", self.path)

    def write(self, data: bytes) -> int:
        self._check()
        return self._fs._write(self.path, self._ino, bytes(data))

    def fdatasync(self) -> None:
        self._check()
        self._fs._sync(self.path, self._ino, "fdatasync")

    def fsync(self) -> None:
        self._check()
        self._fs._sync(self.path, self._ino, "fsync")

    def truncate(self, length: int) -> None:
        self._check()
        if length < 0:
            raise OSError(errno.EINVAL, "negative length", self.path)
        self._fs._truncate(self.path, self._ino, length)

    def size(self) -> int:
        self._check()
        return len(self._fs._inodes[self._ino].data)

    def close(self) -> None:
        # Closing does not sync, and a `finally: f.close()` running while a
        # SimulatedCrash propagates must not raise a second time.
        self._closed = True

    def __repr__(self) -> str:
        return f"<CrashFile {self.path!r} ino={self._ino}>"


class _CrashDirLock:
    def __init__(self, fs: CrashFS, path: str) -> None:
        self.path = path
        self._fs: CrashFS | None = fs

    def release(self) -> None:
        if self._fs is not None:
            self._fs._locks.discard(self.path)
            self._fs = None


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

    # ---- crash images ----------------------------------------------------

    def images(self, model: Model) -> Iterator[CrashImage]:
        """Every crash image of the current log under `model`, most-kept first."""
        return _Analysis(self).images(_check_model(model))

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


def _check_model(model: str) -> Model:
    if model not in MODELS:
        raise ValueError(f"unknown persistence model {model!r}; choose one of {MODELS}")
    return model  # type: ignore[return-value]


def _apply_trunc(buf: bytearray, length: int) -> None:
    if length < len(buf):
        del buf[length:]
    else:
        buf.extend(bytes(length - len(buf)))


# --------------------------------------------------------------------------
# Choosers: where the choices of a drawn image come from.


class _Chooser:
    """The three kinds of choice a drawn image makes (module docstring)."""

    def integer(self, lo: int, hi: int) -> int:
        raise NotImplementedError

    def boolean(self) -> bool:
        raise NotImplementedError

    def tear(self, length: int) -> int:
        """Bytes kept of a torn append of `length` >= 2 bytes (1 … length-1)."""
        raise NotImplementedError


class _HypothesisChooser(_Chooser):
    # The strategies and their order are what Hypothesis shrinks and stores in
    # its example database: changing them would invalidate saved failures.
    def __init__(self, draw: Callable[[Any], Any]) -> None:
        self._draw = draw

    def integer(self, lo: int, hi: int) -> int:
        from hypothesis import strategies as st

        return int(self._draw(st.integers(lo, hi)))

    def boolean(self) -> bool:
        from hypothesis import strategies as st

        return bool(self._draw(st.booleans()))

    def tear(self, length: int) -> int:
        return self.integer(1, length - 1)


class _SeededChooser(_Chooser):
    """Uniform choices from a `random.Random`, recorded (booleans as 0/1)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self.taken: list[int] = []

    def integer(self, lo: int, hi: int) -> int:
        value = self._rng.randint(lo, hi)
        self.taken.append(value)
        return value

    def boolean(self) -> bool:
        return bool(self.integer(0, 1))

    def tear(self, length: int) -> int:
        # Only the enumerated cuts, so the image is one `images()` yields.
        value = self._rng.choice(tear_cuts(length))
        self.taken.append(value)
        return value


class _ReplayChooser(_Chooser):
    """Replays recorded choices, checking each against its range."""

    def __init__(self, choices: Iterable[int]) -> None:
        self._left = list(choices)
        self._left.reverse()
        self.taken: list[int] = []

    def _next(self, lo: int, hi: int) -> int:
        if not self._left:
            raise ValueError("the recorded choices ran out before the image was complete")
        value = self._left.pop()
        if not (isinstance(value, int) and lo <= value <= hi):
            raise ValueError(f"recorded choice {value!r} is outside {lo}…{hi}")
        self.taken.append(value)
        return value

    def integer(self, lo: int, hi: int) -> int:
        return self._next(lo, hi)

    def boolean(self) -> bool:
        return bool(self._next(0, 1))

    def tear(self, length: int) -> int:
        return self._next(1, length - 1)

    def finish(self) -> None:
        if self._left:
            raise ValueError(f"{len(self._left)} recorded choice(s) left over")


# --------------------------------------------------------------------------
# Crash images.


class CrashImage:
    """One state the disk may be in after the crash, under `model`.

    `trace` has one line per decision; `files()` gives the bytes; `to_fs()` a
    fresh CrashFS holding them as durable state, for recovery to run on.
    """

    def __init__(
        self,
        model: Model,
        index: int | None,
        trace: list[str],
        names: Mapping[str, int],
        data: Mapping[int, tuple[int, int]] | None,
        analysis: _Analysis,
    ) -> None:
        self.model = model
        self.index = index
        """Position in `images(model)` order, or None for a drawn image."""
        self.trace = trace
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

    @property
    def dirs(self) -> frozenset[str]:
        return self._an.dirs

    def to_fs(self) -> CrashFS:
        """A fresh CrashFS whose durable and current state is this image."""
        return CrashFS.from_files(self.files(), dirs=self._an.dirs)

    @property
    def losses(self) -> int:
        """Decisions in the trace that lost or tore something."""
        return sum(1 for line in self.trace if not line.endswith(("kept", "moot")))

    def __repr__(self) -> str:
        where = "drawn" if self.index is None else f"#{self.index}"
        return f"<CrashImage {self.model} {where}: {len(self._names)} files, {self.losses} losses>"


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

    def describe_choice(self, path: str, ino: int, span: _Span, choice: _DataChoice) -> str:
        n, tear = choice
        events = self.events[ino]
        total = span.hi - span.lo
        name = basename(path)
        after = len(events) - span.hi
        tail = f"; {after} op(s) after an unpersisted truncate lost" if after else ""
        if n == span.hi:
            return f"{name}: all {total} unprotected data op(s) kept{tail}"
        number = sum(1 for e in events[: n + 1] if e.kind == "append")
        what = events[n].describe(number)
        if tear:
            fate = f"{what} torn at byte {tear}"
        else:
            fate = f"dropped from {what} on"
        return f"{name}: {n - span.lo} of {total} unprotected data op(s) kept, {fate}{tail}"

    # ---- dispatch ----------------------------------------------------------

    def images(self, model: Model) -> Iterator[CrashImage]:
        if model == "process-crash":
            yield self._process_image()
        elif model == "ordered":
            yield from self._ordered_images()
        else:
            yield from self._posix_images()

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
        trace = ["process crash: every completed call kept"]
        return CrashImage("process-crash", 0, trace, self.cur_names, None, self)

    def _data_product(
        self, names: Mapping[str, int], span: Callable[[int], _Span]
    ) -> Iterator[tuple[dict[int, _DataChoice], list[str]]]:
        """Every combination of data choices for the files visible in `names`."""
        paths = sorted(names)
        spans = [span(names[p]) for p in paths]
        options = [self.choices(names[p], s) for p, s in zip(paths, spans, strict=True)]
        for combo in itertools.product(*options):
            data: dict[int, _DataChoice] = {}
            lines: list[str] = []
            for p, s, c in zip(paths, spans, combo, strict=True):
                ino = names[p]
                data[ino] = c
                if s.hi > s.lo or s.hi < len(self.events[ino]):
                    lines.append(self.describe_choice(p, ino, s, c))
            yield data, lines

    def _data_draw(
        self, names: Mapping[str, int], span: Callable[[int], _Span], chooser: _Chooser
    ) -> tuple[dict[int, _DataChoice], list[str]]:
        data: dict[int, _DataChoice] = {}
        lines: list[str] = []
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
            lost = ", ".join(_describe_op(e.op, e.path, e.dst) for e in after[c:])
            if lost:
                line = f"metadata after {barrier_desc}: first {c} of {total} op(s) persisted"
                line += f"; lost: {lost}"
            else:
                line = f"metadata after {barrier_desc}: all {total} op(s) kept"
            cuts.append(_Cut(dict(names), frontier, line))
        cuts.reverse()
        return cuts

    def _ordered_images(self) -> Iterator[CrashImage]:
        index = 0
        for cut in self._ordered_cuts():
            for data, lines in self._data_product(
                cut.names, lambda i, f=cut.frontier: self.span_ordered(i, f)
            ):
                yield CrashImage("ordered", index, [cut.line, *lines], cut.names, data, self)
                index += 1

    def _ordered_draw(self, chooser: _Chooser) -> CrashImage:
        cuts = self._ordered_cuts()
        cut = cuts[chooser.integer(0, len(cuts) - 1)]
        data, lines = self._data_draw(
            cut.names, lambda i: self.span_ordered(i, cut.frontier), chooser)
        return CrashImage("ordered", None, [cut.line, *lines], cut.names, data, self)

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

    def _posix_images(self) -> Iterator[CrashImage]:
        plan = self._posix_plan()
        index = 0
        for combo in _lazy_product([functools.partial(plan.outcomes, ops) for ops in plan.groups]):
            names = dict(plan.untouched)
            trace: list[tuple[int, str]] = []
            for outcome in combo:
                names.update(outcome.names)
                trace.extend(outcome.trace)
            lines = [line for _, line in sorted(trace)]
            for data, data_lines in self._data_product(names, self.span_posix):
                yield CrashImage("posix", index, [*lines, *data_lines], names, data, self)
                index += 1

    def _posix_draw(self, chooser: _Chooser) -> CrashImage:
        plan = self._posix_plan()
        names = dict(plan.durable)
        lines: list[str] = []
        for e in plan.pending:
            if not _effective(names, e):
                lines.append(_posix_line(e, "moot"))
            elif chooser.boolean():
                lines.append(_posix_line(e, "lost"))
            else:
                _apply_name_op(names, e)
                lines.append(_posix_line(e, "kept"))
        data, data_lines = self._data_draw(names, self.span_posix, chooser)
        return CrashImage("posix", None, [*lines, *data_lines], names, data, self)


@dataclass(frozen=True)
class _Cut:
    names: dict[str, int]
    frontier: int
    """Log position of the last persisted metadata op (-1: none)."""
    line: str


@dataclass(frozen=True)
class _Outcome:
    names: dict[str, int]
    """The group's names after its decisions (absent = no file)."""
    trace: list[tuple[int, str]]


class _PosixPlan:
    """Durable names plus pending name ops, split into independent groups:
    ops connected through a shared name decide together, others multiply."""

    def __init__(self, durable: dict[str, int], pending: list[_Entry]) -> None:
        self.durable = durable
        self.pending = pending
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.setdefault(x, x) != x:
                x = parent[x]
            return x

        for e in pending:
            if e.dst is not None:
                parent[find(e.path)] = find(e.dst)
            else:
                find(e.path)
        groups: dict[str, list[_Entry]] = {}
        for e in pending:
            groups.setdefault(find(e.path), []).append(e)
        self.groups = list(groups.values())
        self.untouched = {p: i for p, i in durable.items() if p not in parent}

    def _start(self, ops: list[_Entry]) -> dict[str, int]:
        touched = {e.path for e in ops} | {e.dst for e in ops if e.dst is not None}
        return {p: i for p, i in self.durable.items() if p in touched}

    def outcomes(self, ops: list[_Entry]) -> Iterator[_Outcome]:
        """Every decision vector of one group, "kept" before "lost", lazily
        (an explicit stack: a long-running store can leave long groups)."""
        Trace = tuple[tuple[int, str], ...]
        stack: list[tuple[int, dict[str, int], Trace]] = [(0, self._start(ops), ())]
        while stack:
            k, names, trace = stack.pop()
            if k == len(ops):
                yield _Outcome(names, list(trace))
                continue
            e = ops[k]
            if not _effective(names, e):
                stack.append((k + 1, names, (*trace, (e.seq, _posix_line(e, "moot")))))
                continue
            kept = dict(names)
            _apply_name_op(kept, e)
            stack.append((k + 1, names, (*trace, (e.seq, _posix_line(e, "lost")))))
            stack.append((k + 1, kept, (*trace, (e.seq, _posix_line(e, "kept")))))

    def weighted_count(self, ops: list[_Entry], weight: Callable[[int], int]) -> int:
        """Sum over the group's outcomes of the product of `weight(inode)` over
        the files it shows - by merging equal name states, op by op, so it
        does not walk every decision vector."""
        paths: dict[frozenset[tuple[str, int]], int] = {frozenset(self._start(ops).items()): 1}
        for e in ops:
            after: dict[frozenset[tuple[str, int]], int] = {}
            for state, n in paths.items():
                names = dict(state)
                if _effective(names, e):
                    after[state] = after.get(state, 0) + n
                    _apply_name_op(names, e)
                key = frozenset(names.items())
                after[key] = after.get(key, 0) + n
            paths = after
        return sum(n * math.prod(weight(i) for _, i in state) for state, n in paths.items())


def _lazy_product(factories: list[Callable[[], Iterator[Any]]]) -> Iterator[tuple[Any, ...]]:
    """itertools.product without materialising its inputs (each factory is
    called again for every combination of the ones before it)."""
    if not factories:
        yield ()
        return
    for head in factories[0]():
        for rest in _lazy_product(factories[1:]):
            yield (head, *rest)


def _effective(names: Mapping[str, int], e: _Entry) -> bool:
    """Whether a name op can have happened in an image whose names are `names`."""
    if e.op == "create":
        return True
    if e.op == "rename" and e.path == e.dst:
        return False
    return names.get(e.path) == e.ino


def _apply_name_op(names: dict[str, int], e: _Entry) -> None:
    if e.op == "create":
        names[e.path] = e.ino
    elif e.op == "unlink":
        if names.get(e.path) == e.ino:
            del names[e.path]
    elif e.op == "rename":
        assert e.dst is not None
        if e.path != e.dst and names.get(e.path) == e.ino:
            del names[e.path]
            names[e.dst] = e.ino


def _posix_line(e: _Entry, fate: str) -> str:
    text = _describe_op(e.op, e.path, e.dst)
    if fate == "lost":
        return f"{text}: lost (directory not fsynced)"
    if fate == "moot":
        return f"{text}: source absent in this image, so moot"
    return f"{text}: kept"
