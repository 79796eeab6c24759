"""A FileSystem wrapper that logs every call, for asserting exact syscall sequences.

What: `RecordingFS(base)` forwards each operation to `base` (normally
`OsFileSystem` on pytest's `tmp_path`) and appends one tuple per call to
`calls`, naming files by their base name so expectations read like docs/SPEC.md §2.8:
``("create", "aof-0.aof.rewrite")``, ``("write", "aof-0.aof", b"KEVYAOF1\\n")``,
``("fsync", ...)``, ``("rename", "a.tmp", "a")``.

Why: the kevy-1.17 profile must perform exactly kevy's writes, syncs and
renames in kevy's order, including the syncs kevy does *not* do. Comparing the
recorded list with the SPEC's table catches an extra fsync as surely as a
missing one.

Rules: `mutations()` drops the read-only calls (exists, read, size, listdir,
...) that do not change or persist anything, so tests state only the protocol.
"""

from __future__ import annotations

from impl.fs import FileSystem, WritableFile, basename

__all__ = ["READ_ONLY", "RecordingFS"]

#: calls that neither change nor persist anything
READ_ONLY = frozenset({"read", "exists", "is_dir", "file_size", "listdir", "size", "makedirs"})

Call = tuple


class _RecordingFile:
    def __init__(self, fs: RecordingFS, inner: WritableFile) -> None:
        self._fs = fs
        self._inner = inner
        self.path = inner.path
        self.name = basename(inner.path)

    def write(self, data: bytes) -> int:
        n = self._inner.write(data)
        self._fs.calls.append(("write", self.name, bytes(data[:n])))
        return n

    def fdatasync(self) -> None:
        self._fs.calls.append(("fdatasync", self.name))
        self._inner.fdatasync()

    def fsync(self) -> None:
        self._fs.calls.append(("fsync", self.name))
        self._inner.fsync()

    def truncate(self, length: int) -> None:
        self._fs.calls.append(("truncate", self.name, length))
        self._inner.truncate(length)

    def size(self) -> int:
        self._fs.calls.append(("size", self.name))
        return self._inner.size()

    def close(self) -> None:
        self._fs.calls.append(("close", self.name))
        self._inner.close()


class RecordingFS:
    """Forwards to `base`; records every call in `calls` (see module docstring)."""

    def __init__(self, base: FileSystem) -> None:
        self.base = base
        self.calls: list[Call] = []

    def mutations(self) -> list[Call]:
        """The recorded calls minus the read-only ones."""
        return [c for c in self.calls if c[0] not in READ_ONLY]

    def take(self) -> list[Call]:
        """`mutations()`, then forget everything recorded so far."""
        out = self.mutations()
        self.calls.clear()
        return out

    def read_bytes(self, path: str) -> bytes:
        self.calls.append(("read", basename(path)))
        return self.base.read_bytes(path)

    def exists(self, path: str) -> bool:
        self.calls.append(("exists", basename(path)))
        return self.base.exists(path)

    def is_dir(self, path: str) -> bool:
        self.calls.append(("is_dir", basename(path)))
        return self.base.is_dir(path)

    def file_size(self, path: str) -> int:
        self.calls.append(("file_size", basename(path)))
        return self.base.file_size(path)

    def listdir(self, path: str) -> list[str]:
        self.calls.append(("listdir", basename(path)))
        return self.base.listdir(path)

    def makedirs(self, path: str) -> None:
        self.calls.append(("makedirs", basename(path)))
        self.base.makedirs(path)

    def open_append(self, path: str, *, create: bool = True) -> WritableFile:
        self.calls.append(("open_append", basename(path), create))
        return _RecordingFile(self, self.base.open_append(path, create=create))

    def create_truncate(self, path: str) -> WritableFile:
        self.calls.append(("create", basename(path)))
        return _RecordingFile(self, self.base.create_truncate(path))

    def rename(self, src: str, dst: str) -> None:
        self.calls.append(("rename", basename(src), basename(dst)))
        self.base.rename(src, dst)

    def unlink(self, path: str) -> None:
        self.calls.append(("unlink", basename(path)))
        self.base.unlink(path)

    def fsync_dir(self, path: str) -> None:
        self.calls.append(("fsync_dir", basename(path)))
        self.base.fsync_dir(path)
