"""The recorded file-system state.

Events, directory entries, inodes, open files and directory locks.

Part of the model/crashfs package; its __init__ holds the models' rules.
"""

from __future__ import annotations

import errno
import functools
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from impl.fs import basename
from model.crashfs.points import Point

if TYPE_CHECKING:
    from model.crashfs.fs import CrashFS


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


class _LazyInode(_Inode):
    """An inode whose bytes are made on first use, which is recorded (`touched`).

    Every access to `base` or `data` - a read, a size, an append, a truncate -
    counts, so a path never touched is one whose bytes could not have changed
    anything the file system's user saw.
    """

    __slots__ = ("_make", "_path", "_touched")

    def __init__(self, ino: int, path: str, make: Callable[[], bytes], touched: set[str]) -> None:
        # Not _Inode.__init__: its `data` assignment would make the bytes now.
        self.ino = ino
        self.events: list[_Event] = []
        self.synced = 0
        self._make: Callable[[], bytes] | None = make
        self._path = path
        self._touched = touched

    def _load(self) -> None:
        if self._make is not None:
            raw, self._make = self._make(), None
            _Inode.base.__set__(self, raw)  # type: ignore[attr-defined]
            _Inode.data.__set__(self, bytearray(raw))  # type: ignore[attr-defined]
            self._touched.add(self._path)

    @property  # type: ignore[override]
    def base(self) -> bytes:
        self._load()
        return _Inode.base.__get__(self)  # type: ignore[attr-defined,no-any-return]

    @base.setter
    def base(self, value: bytes) -> None:
        _Inode.base.__set__(self, value)  # type: ignore[attr-defined]

    @property  # type: ignore[override]
    def data(self) -> bytearray:
        self._load()
        return _Inode.data.__get__(self)  # type: ignore[attr-defined,no-any-return]

    @data.setter
    def data(self, value: bytearray) -> None:
        self._load()
        _Inode.data.__set__(self, value)  # type: ignore[attr-defined]


@functools.lru_cache(maxsize=4096)
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
