"""The FileSystem seam: the only way `impl/` reaches a disk.

Why: every durability protocol in kevy is a sequence of writes, syncs,
renames and unlinks. Routing all of them through one small interface lets the
same protocol code run on the real disk (`OsFileSystem`), read-only over a
user's files (`ReadOnlyFileSystem`, used by `dump` and `check`), in memory on
top of a read-only disk (`OverlayFileSystem`, used to recover a data directory
without touching it), and on the simulated crash file system in
`model/crashfs/`, which numbers every persistence point.

Rules of the seam:

1. Paths are plain `str`, joined with `join()`; all temp names are formed by
   appending a suffix to a full path, so every rename stays inside one
   directory (docs/SPEC.md §10).
2. A `WritableFile` only ever appends at the current end of the file. kevy
   opens logs with `O_APPEND` and writes temp files sequentially after a
   create/truncate, so no protocol needs `seek`.
3. `write()` may write fewer bytes than given (a short write) and returns the
   count; `write_all()` loops as Rust's `write_all` does and turns a zero-byte
   write into `OSError(EIO)`.
4. Failures are `OSError` with an errno (`FileNotFoundError`, `ENOSPC`,
   `EIO`, ...), exactly what the real calls raise, so a simulated fault and a
   real one travel the same paths.
5. User-space buffering belongs to the caller (the AOF keeps an 8 KiB buffer,
   snapshots a 1 MiB one): bytes not yet passed to `write()` are lost in a
   process crash, which is what `process-crash` models.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import os
import posixpath
import stat
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, runtime_checkable

__all__ = [
    "DirLock",
    "ExclusiveFileSystem",
    "FileSystem",
    "LockingFileSystem",
    "NotARegularFile",
    "OsFileSystem",
    "OverlayFileSystem",
    "Owner",
    "ReadOnlyFileSystem",
    "ReadOnlyViolation",
    "WritableFile",
    "basename",
    "dirname",
    "join",
    "write_all",
]


def join(directory: str, name: str) -> str:
    """Join a directory and a file name (POSIX rules, no disk access)."""
    return posixpath.join(directory, name)


# A store names a few dozen paths, over and over (CrashFS scans its names per
# listdir): the hunt's programs spent a tenth of their time splitting them.
@functools.lru_cache(maxsize=4096)
def dirname(path: str) -> str:
    """The directory holding `path` (`"."` for a bare name)."""
    return posixpath.dirname(path) or "."


@functools.lru_cache(maxsize=4096)
def basename(path: str) -> str:
    """The last component of `path`."""
    return posixpath.basename(path)


@runtime_checkable
class WritableFile(Protocol):
    """An open file that appends at its end.

    Contract: `write` hands bytes to the operating system (they survive a
    process crash but not a power loss); `fdatasync`/`fsync` make everything
    written so far durable (for a new file, its directory entry is durable
    only once the directory itself is synced); `truncate` sets the length.
    """

    path: str

    def write(self, data: bytes) -> int:
        """Append up to `len(data)` bytes; return how many were written."""
        ...

    def fdatasync(self) -> None:
        """Make the file's data durable (metadata needed to read it back too)."""
        ...

    def fsync(self) -> None:
        """Make the file's data and all its metadata durable."""
        ...

    def truncate(self, length: int) -> None:
        """Set the file length to `length` bytes (later writes land after it)."""
        ...

    def size(self) -> int:
        """The current length of the file as a reader sees it."""
        ...

    def close(self) -> None:
        """Close the handle. Closing does not sync."""
        ...


@runtime_checkable
class FileSystem(Protocol):
    """Every disk operation `impl/` performs. See the module docstring."""

    def read_bytes(self, path: str) -> bytes:
        """The whole file; `FileNotFoundError` if it does not exist."""
        ...

    def exists(self, path: str) -> bool:
        """True if `path` names a file or directory."""
        ...

    def is_dir(self, path: str) -> bool:
        """True if `path` names a directory."""
        ...

    def file_size(self, path: str) -> int:
        """Length in bytes; `FileNotFoundError` if missing."""
        ...

    def listdir(self, path: str) -> list[str]:
        """Names in directory `path`, sorted."""
        ...

    def makedirs(self, path: str) -> None:
        """Create `path` and any missing parents (no error if it exists)."""
        ...

    # A Protocol stub: its body never runs. mutmut would otherwise mutate the
    # default and add its trampoline's names to the class, and a runtime
    # isinstance check against the protocol would then fail for every real
    # file system (README "Adequacy", mutation score of impl/fs.py).
    def open_append(self, path: str, *, create: bool = True) -> WritableFile:  # pragma: no mutate
        """Open for appending (`O_APPEND`), creating the file if `create`."""
        ...

    def create_truncate(self, path: str) -> WritableFile:
        """Create the file, or truncate an existing one to zero, for writing."""
        ...

    def rename(self, src: str, dst: str) -> None:
        """Atomically replace `dst` with `src` (same directory)."""
        ...

    def unlink(self, path: str) -> None:
        """Remove a file; `FileNotFoundError` if missing."""
        ...

    def fsync_dir(self, path: str) -> None:
        """Make the directory's entries (creates, renames, unlinks) durable."""
        ...


class Owner(NamedTuple):
    """A file's permission bits and owner, as `repair` copies them to what it writes."""

    mode: int
    uid: int
    gid: int


@runtime_checkable
class ExclusiveFileSystem(FileSystem, Protocol):
    """A FileSystem that can also create a file only if nothing is at its name.

    Why a separate protocol: only `repair` (impl/repair.py) writes next to a
    user's file under names the user chose (`--backup`), so only it needs a
    create that refuses a symlink or an existing file, and a way to keep the
    original's mode and owner. `OsFileSystem` and `model/crashfs/`'s CrashFS
    implement it; read-only and overlay file systems need not.
    """

    def lexists(self, path: str) -> bool:
        """True if anything is at `path`, a dangling symlink included (lstat)."""
        ...

    def create_exclusive(self, path: str) -> WritableFile:
        """`O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0600: `FileExistsError` if anything,
        a symlink included, is already at `path`; never follows a link."""
        ...

    def stat_owner(self, path: str) -> Owner:
        """The permission bits, uid and gid of the file at `path`."""
        ...

    def set_owner(self, path: str, owner: Owner) -> None:
        """Give the regular file at `path` (not followed if a link) `owner`."""
        ...


class DirLock(Protocol):
    """A held directory lock; `release()` gives it up (idempotent)."""

    path: str

    def release(self) -> None:
        """Give the lock up. A crash or exit releases it too."""
        ...


@runtime_checkable
class LockingFileSystem(FileSystem, Protocol):
    """A FileSystem that can take an exclusive advisory lock on a directory.

    Why: kevy 1.17 lets two processes open one data directory, and then one's
    save discards the other's acknowledged writes (FINDINGS.md F19). The fix
    (`data_dir_lock`, impl/store.py) locks the directory for as long as a
    store is open. The lock is advisory and creates no file, so the
    directory's contents, and every crash image, are what they were.
    """

    def lock_dir(self, path: str) -> DirLock:
        """Lock directory `path` exclusively, without waiting: `BlockingIOError`
        (EWOULDBLOCK) at once if another holder has it."""
        ...


def write_all(f: WritableFile, data: bytes) -> None:
    """Write every byte of `data`, looping over short writes (Rust `write_all`)."""
    view = memoryview(data)
    while view:
        n = f.write(bytes(view))
        if n <= 0:
            raise OSError(errno.EIO, "write returned 0 bytes", f.path)
        view = view[n:]


# --------------------------------------------------------------------------
# The real disk.


class _OsFile:
    def __init__(self, path: str, fd: int) -> None:
        self.path = path
        self._fd = fd

    def write(self, data: bytes) -> int:
        return os.write(self._fd, data)

    def fdatasync(self) -> None:
        if hasattr(os, "fdatasync"):
            os.fdatasync(self._fd)
        else:  # pragma: no cover - macOS
            os.fsync(self._fd)

    def fsync(self) -> None:
        os.fsync(self._fd)

    def truncate(self, length: int) -> None:
        os.ftruncate(self._fd, length)

    def size(self) -> int:
        return os.fstat(self._fd).st_size

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __repr__(self) -> str:
        return f"<OsFile {self.path!r}>"


class NotARegularFile(OSError):
    """A path kevy would read as a file is a directory, FIFO, device or socket."""

    def __init__(self, path: str, mode: int) -> None:
        kind = (
            "a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode)
            else "a character device" if stat.S_ISCHR(mode)
            else "a block device" if stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file"
        )  # fmt: skip
        super().__init__(errno.EINVAL, f"not a regular file ({kind}); refusing to read it", path)


class _OsDirLock:
    def __init__(self, path: str, fd: int) -> None:
        self.path = path
        self._fd = fd

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the descriptor drops its flock
            self._fd = -1

    def __repr__(self) -> str:
        return f"<OsDirLock {self.path!r}>"


class OsFileSystem:
    """The real file system, through `os` calls that map one-to-one to syscalls."""

    def read_bytes(self, path: str) -> bytes:
        # A regular file only, read up to the size it had when opened: a FIFO
        # would block, /dev/zero never ends, and a log a live writer is
        # growing is read as of one instant. O_NONBLOCK keeps the open of a
        # FIFO without a writer from blocking before fstat can refuse it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
            if not stat.S_ISREG(st.st_mode):
                raise NotARegularFile(path, st.st_mode)
            chunks, left = [], st.st_size
            while left > 0:
                chunk = os.read(fd, min(left, 1 << 24))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def is_dir(self, path: str) -> bool:
        return os.path.isdir(path)

    def file_size(self, path: str) -> int:
        return os.stat(path).st_size

    def listdir(self, path: str) -> list[str]:
        return sorted(os.listdir(path))

    def makedirs(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)

    def open_append(self, path: str, *, create: bool = True) -> WritableFile:
        flags = os.O_WRONLY | os.O_APPEND | (os.O_CREAT if create else 0)
        return _OsFile(path, os.open(path, flags, 0o644))

    def create_truncate(self, path: str) -> WritableFile:
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND
        return _OsFile(path, os.open(path, flags, 0o644))

    def rename(self, src: str, dst: str) -> None:
        os.rename(src, dst)

    def unlink(self, path: str) -> None:
        os.unlink(path)

    def fsync_dir(self, path: str) -> None:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def lexists(self, path: str) -> bool:
        return os.path.lexists(path)

    def lock_dir(self, path: str) -> DirLock:
        # flock(2) on the directory itself: owned by this open description, so
        # two stores in one process exclude each other too (an fcntl lock would
        # not), and no lock file is added to the data directory.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            raise BlockingIOError(e.errno, "directory is locked by another process", path) from None
        return _OsDirLock(path, fd)

    def create_exclusive(self, path: str) -> WritableFile:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_APPEND
        return _OsFile(path, os.open(path, flags, 0o600))

    def stat_owner(self, path: str) -> Owner:
        st = os.stat(path)
        return Owner(stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)

    def set_owner(self, path: str, owner: Owner) -> None:
        # Through a no-follow descriptor: a link swapped in at `path` is refused
        # (ELOOP), never given the original's owner. chown first: it may clear
        # set-id bits that the chmod then restores.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            st = os.fstat(fd)
            if (st.st_uid, st.st_gid) != (owner.uid, owner.gid):
                os.fchown(fd, owner.uid, owner.gid)
            os.fchmod(fd, owner.mode)
        finally:
            os.close(fd)


# --------------------------------------------------------------------------
# Read-only access, and in-memory changes over a read-only base.


class ReadOnlyViolation(OSError):
    """An operation tried to modify a file system opened read-only."""

    def __init__(self, op: str, path: str) -> None:
        super().__init__(errno.EROFS, f"refusing to {op} on a read-only file system", path)
        self.op = op


class ReadOnlyFileSystem:
    """Wraps a FileSystem and refuses every mutation with `ReadOnlyViolation`.

    `dump` and `check` read through this, so "never modifies what it reads"
    is enforced by construction rather than by care.
    """

    def __init__(self, base: FileSystem) -> None:
        self._base = base

    def read_bytes(self, path: str) -> bytes:
        return self._base.read_bytes(path)

    def exists(self, path: str) -> bool:
        return self._base.exists(path)

    def is_dir(self, path: str) -> bool:
        return self._base.is_dir(path)

    def file_size(self, path: str) -> int:
        return self._base.file_size(path)

    def listdir(self, path: str) -> list[str]:
        return self._base.listdir(path)

    def makedirs(self, path: str) -> None:
        if not self._base.is_dir(path):
            raise ReadOnlyViolation("mkdir", path)

    def open_append(self, path: str, *, create: bool = True) -> WritableFile:
        raise ReadOnlyViolation("open for append", path)

    def create_truncate(self, path: str) -> WritableFile:
        raise ReadOnlyViolation("create", path)

    def rename(self, src: str, dst: str) -> None:
        raise ReadOnlyViolation("rename", src)

    def unlink(self, path: str) -> None:
        raise ReadOnlyViolation("unlink", path)

    def fsync_dir(self, path: str) -> None:
        return None


_DELETED = object()


@dataclass
class _OverlayState:
    files: dict[str, bytearray | object] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=set)


class _OverlayFile:
    def __init__(self, fs: OverlayFileSystem, path: str) -> None:
        self.path = path
        self._fs = fs

    def _buf(self) -> bytearray:
        data = self._fs._state.files.get(self.path)
        if not isinstance(data, bytearray):
            raise OSError(errno.EBADF, "file was removed", self.path)
        return data

    def write(self, data: bytes) -> int:
        self._buf().extend(data)
        return len(data)

    def fdatasync(self) -> None:
        return None

    def fsync(self) -> None:
        return None

    def truncate(self, length: int) -> None:
        buf = self._buf()
        if length < len(buf):
            del buf[length:]
        else:
            buf.extend(b"\0" * (length - len(buf)))

    def size(self) -> int:
        return len(self._buf())

    def close(self) -> None:
        return None


class OverlayFileSystem:
    """Reads fall through to a base FileSystem; every change stays in memory.

    Used to run kevy's open-time recovery (journal roll-forward, re-shard,
    `shards.meta` rewrite) on a user's data directory and show the result
    without changing a byte on disk. `changes()` lists what recovery would
    have written.
    """

    def __init__(self, base: FileSystem) -> None:
        self._base = base
        self._state = _OverlayState()

    def _lookup(self, path: str) -> bytes | None:
        data = self._state.files.get(path)
        if data is _DELETED:
            return None
        if isinstance(data, bytearray):
            return bytes(data)
        if self._base.exists(path) and not self._base.is_dir(path):
            return self._base.read_bytes(path)
        return None

    def read_bytes(self, path: str) -> bytes:
        data = self._lookup(path)
        if data is None:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        return data

    def exists(self, path: str) -> bool:
        if path in self._state.dirs:
            return True
        if path in self._state.files:
            return self._state.files[path] is not _DELETED
        return self._base.exists(path)

    def is_dir(self, path: str) -> bool:
        return path in self._state.dirs or self._base.is_dir(path)

    def file_size(self, path: str) -> int:
        return len(self.read_bytes(path))

    def listdir(self, path: str) -> list[str]:
        names = set(self._base.listdir(path)) if self._base.is_dir(path) else set()
        for p, data in self._state.files.items():
            if dirname(p) == path or (path == "." and "/" not in p):
                if data is _DELETED:
                    names.discard(basename(p))
                else:
                    names.add(basename(p))
        return sorted(names)

    def makedirs(self, path: str) -> None:
        if not self._base.is_dir(path):
            self._state.dirs.add(path)

    def _materialise(self, path: str) -> None:
        if not isinstance(self._state.files.get(path), bytearray):
            existing = self._lookup(path)
            self._state.files[path] = bytearray(existing or b"")

    def open_append(self, path: str, *, create: bool = True) -> WritableFile:
        if not create and self._lookup(path) is None:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        self._materialise(path)
        return _OverlayFile(self, path)

    def create_truncate(self, path: str) -> WritableFile:
        self._state.files[path] = bytearray()
        return _OverlayFile(self, path)

    def rename(self, src: str, dst: str) -> None:
        data = self._lookup(src)
        if data is None:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", src)
        self._state.files[dst] = bytearray(data)
        self._state.files[src] = _DELETED

    def unlink(self, path: str) -> None:
        if self._lookup(path) is None:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        self._state.files[path] = _DELETED

    def fsync_dir(self, path: str) -> None:
        return None

    def changes(self) -> list[str]:
        """Paths recovery created, changed or removed, sorted, each marked +/~/-."""
        out = []
        for path, data in sorted(self._state.files.items()):
            in_base = self._base.exists(path)
            if data is _DELETED:
                if in_base:
                    out.append(f"- {path}")
            elif not in_base:
                out.append(f"+ {path}")
            elif bytes(data) != self._base.read_bytes(path):  # type: ignore[arg-type]
                out.append(f"~ {path}")
        return out
