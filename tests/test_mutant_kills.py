"""Tests written because a catalogued mutant survived the suite (tests/mutants/catalogue.py).

What: one test per suite hole `kevy-verify mutants` found, each asserting the
behaviour the surviving mutant breaks, through public APIs and the recording
file system (tests/recording_fs.py).

Why: a mutant that survives is a durability bug the suite would let through.

Rules: name the mutant each test kills; no sleeps, no subprocesses; the
injected `ManualClock` is the only time source.

Holes filled:
* `short-write-drops-buffer` — the AOF buffer's flush must keep the unwritten
  rest of its buffer after a short `write()` (Rust `BufWriter::flush_buf`),
  or frames vanish from the log although `fdatasync` returned.
"""

from __future__ import annotations

from pathlib import Path

from impl.aof import Aof, FsyncPolicy
from impl.clock import ManualClock
from impl.fs import OsFileSystem, WritableFile
from impl.resp import MAGIC, Outcome, encode_frame, scan_aof
from tests.recording_fs import RecordingFS

A = "aof-0.aof"


class _ShortWrites:
    """A file whose `write` takes at most `limit` bytes per call (a legal short write)."""

    def __init__(self, inner: WritableFile, limit: int) -> None:
        self._inner = inner
        self._limit = limit
        self.path = inner.path

    def write(self, data: bytes) -> int:
        return self._inner.write(bytes(data[: self._limit]))

    def fdatasync(self) -> None:
        self._inner.fdatasync()

    def fsync(self) -> None:
        self._inner.fsync()

    def truncate(self, length: int) -> None:
        self._inner.truncate(length)

    def size(self) -> int:
        return self._inner.size()

    def close(self) -> None:
        self._inner.close()


class _ShortWriteDisk(OsFileSystem):
    """The real disk, except that appendable files take at most `limit` bytes per write()."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def open_append(self, path: str, *, create: bool = True) -> WritableFile:
        return _ShortWrites(super().open_append(path, create=create), self.limit)


def test_short_writes_lose_no_buffered_frame(tmp_path: Path) -> None:
    """Kills `short-write-drops-buffer`: every acknowledged frame is in the file, in order."""
    fs = RecordingFS(_ShortWriteDisk(limit=7))
    path = str(tmp_path / A)
    argvs = [[b"SET", b"k%d" % i, b"v" * (i + 1)] for i in range(20)]
    aof = Aof.open(fs, path, FsyncPolicy.EVERYSEC, clock=ManualClock())
    for argv in argvs:
        aof.append(argv)
    aof.sync()  # flush (through many short writes) + fdatasync: a durability barrier
    synced = fs.mutations()
    aof.close()

    data = (tmp_path / A).read_bytes()
    assert data == MAGIC + b"".join(encode_frame(a) for a in argvs)
    scan = scan_aof(data)
    assert scan.outcome is Outcome.CLEAN
    assert [list(f.argv) for f in scan.frames] == argvs
    # Every byte reached write() before the barrier's fdatasync, none after it.
    assert synced[-1] == ("fdatasync", A)
    written = b"".join(c[2] for c in synced if c[0] == "write" and c[1] == A)
    assert written == data
