"""impl/fs.py: each FileSystem's contract, checked on the real disk.

The protocol code above the seam reaches `OsFileSystem`, `ReadOnlyFileSystem`
and `OverlayFileSystem` only along the paths its scenarios take; mutmut showed
the rest of each contract unchecked (README "Adequacy", mutation score): a
short or zero-byte write, O_APPEND after a truncate, the modes a create gives,
a second lock, the kinds of file `read_bytes` refuses, what a read-only file
system says when it refuses, and what an overlay lists, reads and reports as
changed. Everything runs on a real temporary directory (a FIFO and /dev/null
included); no file system is faked. `write_all` is the one place a
small stand-in file is used: no real disk returns a short write on demand.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from impl.fs import (
    NotARegularFile,
    OsFileSystem,
    OverlayFileSystem,
    Owner,
    ReadOnlyFileSystem,
    ReadOnlyViolation,
    basename,
    dirname,
    join,
    write_all,
)

FS = OsFileSystem()


@pytest.fixture
def umask0() -> Iterator[None]:
    # The modes a create asks for are only visible with no umask in the way.
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


# --- path helpers and write_all ---------------------------------------------


def test_join_dirname_basename_follow_posix_rules() -> None:
    assert join("d", "aof-0.aof") == "d/aof-0.aof"
    assert join("d/", "x") == "d/x"
    assert dirname("d/aof-0.aof") == "d"
    assert dirname("aof-0.aof") == "."
    assert basename("d/aof-0.aof") == "aof-0.aof"


class _ShortWrites:
    """Accepts at most `step` bytes per write, then `stop_after` writes, 0 (or -1)."""

    def __init__(self, step: int, stop_after: int | None = None, last: int = 0) -> None:
        self.path = "f.aof"
        self.step = step
        self.stop_after = stop_after
        self.last = last
        self.got = bytearray()
        self.calls: list[bytes] = []

    def write(self, data: bytes) -> int:
        # A write_all that loops forever (a mutant) fails here, not by filling memory.
        assert len(self.calls) < 100, "write_all did not finish"
        self.calls.append(data)
        if self.stop_after is not None and len(self.calls) > self.stop_after:
            return self.last
        self.got += data[: self.step]
        return min(self.step, len(data))


def test_write_all_loops_over_short_writes_passing_the_rest_each_time() -> None:
    f = _ShortWrites(step=3)
    write_all(f, b"abcdefgh")  # type: ignore[arg-type]
    assert bytes(f.got) == b"abcdefgh"
    assert f.calls == [b"abcdefgh", b"defgh", b"gh"]
    assert all(type(c) is bytes for c in f.calls)
    g = _ShortWrites(step=3)
    write_all(g, b"")  # type: ignore[arg-type]
    assert g.calls == []


@pytest.mark.parametrize("last", [0, -1])
def test_write_all_turns_a_write_of_nothing_into_eio(last: int) -> None:
    f = _ShortWrites(step=2, stop_after=1, last=last)
    with pytest.raises(OSError) as e:
        write_all(f, b"abcd")  # type: ignore[arg-type]
    assert type(e.value) is OSError
    assert (e.value.errno, e.value.strerror, e.value.filename) == (
        errno.EIO,
        "write returned 0 bytes",
        "f.aof",
    )
    assert bytes(f.got) == b"ab"


# --- OsFileSystem: files ---------------------------------------------------


def test_os_file_writes_reports_size_truncates_and_appends_after_a_truncate(
    tmp_path: Path,
) -> None:
    p = str(tmp_path / "a.aof")
    f = FS.create_truncate(p)
    assert f.path == p
    assert repr(f) == f"<OsFile {p!r}>"
    assert f.write(b"abcdef") == 6
    assert f.size() == 6
    f.truncate(2)
    assert f.size() == 2
    # O_APPEND: the next write lands at the new end, not at the old offset.
    assert f.write(b"Z") == 1
    f.fdatasync()
    f.fsync()
    f.close()
    f.close()  # closing twice is harmless
    assert (tmp_path / "a.aof").read_bytes() == b"abZ"


def test_close_releases_the_descriptor_once(tmp_path: Path) -> None:
    before = _open_fds()
    f = FS.open_append(str(tmp_path / "x"))
    assert len(_open_fds() - before) == 1
    f.close()
    assert _open_fds() == before
    f.close()
    assert _open_fds() == before
    with pytest.raises(OSError):
        f.write(b"late")


def test_create_truncate_empties_an_existing_file_and_keeps_appending(
    tmp_path: Path, umask0: None
) -> None:
    p = tmp_path / "s.tmp"
    p.write_bytes(b"old contents")
    f = FS.create_truncate(str(p))
    f.write(b"new")
    f.close()
    assert p.read_bytes() == b"new"
    q = tmp_path / "fresh"
    FS.create_truncate(str(q)).close()
    assert stat.S_IMODE(q.stat().st_mode) == 0o644


def test_open_append_creates_only_when_asked_and_appends(tmp_path: Path, umask0: None) -> None:
    p = tmp_path / "aof-0.aof"
    with pytest.raises(FileNotFoundError):
        FS.open_append(str(p), create=False)
    assert not p.exists()
    f = FS.open_append(str(p))
    f.write(b"one")
    f.close()
    assert stat.S_IMODE(p.stat().st_mode) == 0o644
    g = FS.open_append(str(p), create=False)
    g.write(b"two")
    g.truncate(1)
    g.write(b"3")
    g.close()
    assert p.read_bytes() == b"o3"


def test_create_exclusive_refuses_anything_in_the_way_and_creates_0600(
    tmp_path: Path, umask0: None
) -> None:
    p = tmp_path / "backup"
    f = FS.create_exclusive(str(p))
    f.write(b"abc")
    f.truncate(1)
    f.write(b"d")
    f.close()
    assert p.read_bytes() == b"ad"
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        FS.create_exclusive(str(p))
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(FileExistsError):
        FS.create_exclusive(str(link))
    assert not (tmp_path / "nowhere").exists()


def test_metadata_queries(tmp_path: Path) -> None:
    (tmp_path / "b").write_bytes(b"12345")
    (tmp_path / "a").write_bytes(b"")
    (tmp_path / "sub").mkdir()
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "nowhere")
    d = str(tmp_path)
    assert FS.listdir(d) == ["a", "b", "dangling", "sub"]
    assert FS.file_size(join(d, "b")) == 5
    assert FS.exists(join(d, "b")) and FS.exists(join(d, "sub"))
    assert not FS.exists(str(link)) and FS.lexists(str(link))
    assert not FS.lexists(join(d, "nowhere"))
    assert FS.is_dir(join(d, "sub")) and not FS.is_dir(join(d, "b"))
    FS.makedirs(join(d, "x/y"))
    FS.makedirs(join(d, "x/y"))  # exists already: no error
    assert (tmp_path / "x" / "y").is_dir()


def test_rename_unlink_and_directory_sync(tmp_path: Path) -> None:
    (tmp_path / "a.tmp").write_bytes(b"new")
    (tmp_path / "a").write_bytes(b"old")
    FS.rename(str(tmp_path / "a.tmp"), str(tmp_path / "a"))
    assert (tmp_path / "a").read_bytes() == b"new" and not (tmp_path / "a.tmp").exists()
    FS.unlink(str(tmp_path / "a"))
    assert not (tmp_path / "a").exists()
    with pytest.raises(FileNotFoundError):
        FS.unlink(str(tmp_path / "a"))
    before = _open_fds()
    FS.fsync_dir(str(tmp_path))
    assert _open_fds() == before
    (tmp_path / "f").write_bytes(b"")
    with pytest.raises(NotADirectoryError):
        FS.fsync_dir(str(tmp_path / "f"))
    assert _open_fds() == before


# --- OsFileSystem: what read_bytes refuses ----------------------------------


def test_read_bytes_reads_a_regular_file_whole(tmp_path: Path) -> None:
    data = bytes(range(256)) * 1000
    (tmp_path / "r").write_bytes(data)
    before = _open_fds()
    assert FS.read_bytes(str(tmp_path / "r")) == data
    (tmp_path / "empty").write_bytes(b"")
    assert FS.read_bytes(str(tmp_path / "empty")) == b""
    assert _open_fds() == before


def test_read_bytes_refuses_a_directory_with_eisdir(tmp_path: Path) -> None:
    before = _open_fds()
    with pytest.raises(IsADirectoryError) as e:
        FS.read_bytes(str(tmp_path))
    assert (e.value.errno, e.value.strerror, e.value.filename) == (
        errno.EISDIR,
        "Is a directory",
        str(tmp_path),
    )
    assert _open_fds() == before


def test_read_bytes_refuses_a_fifo_without_blocking_and_a_device(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    before = _open_fds()
    with pytest.raises(NotARegularFile) as e:
        FS.read_bytes(str(fifo))
    assert (e.value.errno, e.value.filename) == (errno.EINVAL, str(fifo))
    assert e.value.strerror == "not a regular file (a FIFO); refusing to read it"
    assert _open_fds() == before
    with pytest.raises(NotARegularFile) as d:
        FS.read_bytes("/dev/null")
    assert d.value.strerror == "not a regular file (a character device); refusing to read it"


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        (stat.S_IFDIR, "a directory"),
        (stat.S_IFIFO, "a FIFO"),
        (stat.S_IFCHR, "a character device"),
        (stat.S_IFBLK, "a block device"),
        (stat.S_IFSOCK, "a socket"),
        (stat.S_IFLNK, "not a regular file"),
    ],
)
def test_not_a_regular_file_names_the_kind(kind: int, text: str) -> None:
    e = NotARegularFile("d/aof-0.aof", kind | 0o644)
    assert isinstance(e, OSError)
    assert (e.errno, e.filename) == (errno.EINVAL, "d/aof-0.aof")
    assert e.strerror == f"not a regular file ({text}); refusing to read it"
    assert str(e) == f"[Errno 22] not a regular file ({text}); refusing to read it: 'd/aof-0.aof'"


# --- OsFileSystem: the directory lock and owners -------------------------------


def test_a_second_lock_fails_at_once_and_leaks_no_descriptor(tmp_path: Path) -> None:
    d = str(tmp_path)
    lock = FS.lock_dir(d)
    assert lock.path == d and repr(lock) == f"<OsDirLock {d!r}>"
    before = _open_fds()
    with pytest.raises(BlockingIOError) as e:
        FS.lock_dir(d)
    assert (e.value.errno, e.value.strerror, e.value.filename) == (
        errno.EWOULDBLOCK,
        "directory is locked by another process",
        d,
    )
    assert _open_fds() == before
    lock.release()
    lock.release()  # idempotent
    assert len(before - _open_fds()) == 1
    again = FS.lock_dir(d)
    again.release()
    (tmp_path / "f").write_bytes(b"")
    with pytest.raises(NotADirectoryError):
        FS.lock_dir(str(tmp_path / "f"))


def test_stat_owner_and_set_owner_copy_mode_and_refuse_a_link(tmp_path: Path) -> None:
    p = tmp_path / "f"
    p.write_bytes(b"x")
    os.chmod(p, 0o640)
    st = p.stat()
    assert FS.stat_owner(str(p)) == Owner(0o640, st.st_uid, st.st_gid)
    q = tmp_path / "g"
    q.write_bytes(b"y")
    os.chmod(q, 0o600)
    FS.set_owner(str(q), Owner(0o751, st.st_uid, st.st_gid))
    assert stat.S_IMODE(q.stat().st_mode) == 0o751
    link = tmp_path / "l"
    link.symlink_to(q)
    before = _open_fds()
    with pytest.raises(OSError) as e:
        FS.set_owner(str(link), Owner(0o777, st.st_uid, st.st_gid))
    assert e.value.errno == errno.ELOOP
    assert stat.S_IMODE(q.stat().st_mode) == 0o751
    assert _open_fds() == before


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another owner needs root")
def test_set_owner_changes_the_owner_when_it_differs(tmp_path: Path) -> None:
    p = tmp_path / "f"
    p.write_bytes(b"x")
    FS.set_owner(str(p), Owner(0o600, 1234, 4321))
    st = p.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1234, 4321, 0o600)


# --- ReadOnlyFileSystem ------------------------------------------------------


def test_read_only_reads_through(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"abc")
    ro = ReadOnlyFileSystem(FS)
    d = str(tmp_path)
    assert ro.read_bytes(join(d, "a")) == b"abc"
    assert ro.exists(join(d, "a")) and not ro.exists(join(d, "b"))
    assert ro.is_dir(d) and not ro.is_dir(join(d, "a"))
    assert ro.file_size(join(d, "a")) == 3
    assert ro.listdir(d) == ["a"]
    ro.makedirs(d)  # already there: nothing to do, nothing refused
    assert ro.fsync_dir(d) is None


def test_read_only_refuses_every_change_naming_the_operation(tmp_path: Path) -> None:
    ro = ReadOnlyFileSystem(FS)
    p = str(tmp_path / "a")
    (tmp_path / "a").write_bytes(b"abc")
    calls = [
        ("mkdir", lambda: ro.makedirs(str(tmp_path / "new")), str(tmp_path / "new")),
        ("open for append", lambda: ro.open_append(p), p),
        ("open for append", lambda: ro.open_append(p, create=False), p),
        ("create", lambda: ro.create_truncate(p), p),
        ("rename", lambda: ro.rename(p, p + ".x"), p),
        ("unlink", lambda: ro.unlink(p), p),
    ]
    for op, call, path in calls:
        with pytest.raises(ReadOnlyViolation) as e:
            call()
        assert e.value.op == op
        assert (e.value.errno, e.value.filename) == (errno.EROFS, path)
        assert e.value.strerror == f"refusing to {op} on a read-only file system"
    assert sorted(os.listdir(tmp_path)) == ["a"]
    assert (tmp_path / "a").read_bytes() == b"abc"


# --- OverlayFileSystem --------------------------------------------------------


def test_overlay_reads_the_base_and_keeps_every_change_in_memory(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"base-a")
    (tmp_path / "b").write_bytes(b"base-b")
    (tmp_path / "sub").mkdir()
    d = str(tmp_path)
    ov = OverlayFileSystem(ReadOnlyFileSystem(FS))
    assert ov.read_bytes(join(d, "a")) == b"base-a"
    assert ov.file_size(join(d, "b")) == 6
    with pytest.raises(FileNotFoundError) as e:
        ov.read_bytes(join(d, "sub"))  # a directory is not a file to read
    assert (e.value.errno, e.value.filename) == (errno.ENOENT, join(d, "sub"))

    f = ov.open_append(join(d, "a"))
    assert f.write(b"+more") == 5
    assert f.size() == 11
    f.fdatasync()
    f.fsync()
    f.close()
    assert ov.read_bytes(join(d, "a")) == b"base-a+more"

    n = ov.create_truncate(join(d, "new"))
    n.write(b"fresh")
    ov.rename(join(d, "b"), join(d, "b2"))
    ov.unlink(join(d, "new"))
    ov.makedirs(join(d, "made"))
    ov.makedirs(d)  # exists in the base: not recorded
    assert ov.fsync_dir(d) is None

    assert ov.exists(join(d, "made")) and ov.is_dir(join(d, "made"))
    assert ov.exists(join(d, "sub")) and ov.is_dir(join(d, "sub"))
    assert not ov.is_dir(join(d, "a"))
    assert not ov.exists(join(d, "b")) and not ov.exists(join(d, "new"))
    assert ov.exists(join(d, "b2")) and ov.exists(join(d, "a"))
    assert not ov.exists(join(d, "never"))
    assert ov.listdir(d) == ["a", "b2", "sub"]
    assert ov.read_bytes(join(d, "b2")) == b"base-b"
    for gone in ("b", "new"):
        with pytest.raises(FileNotFoundError):
            ov.read_bytes(join(d, gone))
    assert ov.changes() == [f"~ {d}/a", f"- {d}/b", f"+ {d}/b2"]
    # Not a byte on disk changed.
    assert sorted(os.listdir(tmp_path)) == ["a", "b", "sub"]
    assert (tmp_path / "a").read_bytes() == b"base-a"


def test_overlay_lists_a_directory_only_it_made_and_relative_names(tmp_path: Path) -> None:
    ov = OverlayFileSystem(FS)
    d = str(tmp_path / "nodir")
    ov.makedirs(d)
    ov.create_truncate(join(d, "x")).close()
    ov.create_truncate(str(tmp_path / "elsewhere")).close()
    assert ov.listdir(d) == ["x"]
    rel = OverlayFileSystem(ReadOnlyFileSystem(FS))
    rel.create_truncate("rel-only-in-memory").close()
    rel.create_truncate("sub/nested-in-memory").close()
    listed = rel.listdir(".")
    assert "rel-only-in-memory" in listed and "nested-in-memory" not in listed


def test_overlay_open_append_without_create_and_missing_files(tmp_path: Path) -> None:
    d = str(tmp_path)
    ov = OverlayFileSystem(FS)
    with pytest.raises(FileNotFoundError) as e:
        ov.open_append(join(d, "missing"), create=False)
    assert (e.value.errno, e.value.filename) == (errno.ENOENT, join(d, "missing"))
    assert not ov.exists(join(d, "missing"))
    created = ov.open_append(join(d, "created"))
    assert created.size() == 0
    assert ov.exists(join(d, "created"))
    (tmp_path / "on-disk").write_bytes(b"abc")
    g = ov.open_append(join(d, "on-disk"), create=False)
    assert g.size() == 3
    for call, path in (
        (lambda: ov.rename(join(d, "missing"), join(d, "y")), join(d, "missing")),
        (lambda: ov.unlink(join(d, "missing")), join(d, "missing")),
    ):
        with pytest.raises(FileNotFoundError) as err:
            call()
        assert (err.value.errno, err.value.filename) == (errno.ENOENT, path)
    assert ov.changes() == [f"+ {d}/created"]


def test_overlay_truncate_cuts_or_pads_with_zeros_and_a_removed_file_is_ebadf(
    tmp_path: Path,
) -> None:
    (tmp_path / "a").write_bytes(b"abcdef")
    p = str(tmp_path / "a")
    ov = OverlayFileSystem(FS)
    f = ov.open_append(p)
    f.truncate(2)
    assert ov.read_bytes(p) == b"ab"
    f.truncate(5)
    assert ov.read_bytes(p) == b"ab\0\0\0"
    f.truncate(5)
    assert f.size() == 5
    # A second handle on the same path shares the bytes, as two descriptors would.
    g = ov.open_append(p)
    g.write(b"Z")
    assert f.size() == 6
    ov.unlink(p)
    for call in (lambda: f.write(b"x"), f.size, lambda: f.truncate(0)):
        with pytest.raises(OSError) as e:
            call()
        assert (e.value.errno, e.value.strerror, e.value.filename) == (
            errno.EBADF,
            "file was removed",
            p,
        )
    # Re-created after removal: a fresh empty file, not the old bytes.
    h = ov.open_append(p)
    assert h.size() == 0
    assert ov.changes() == [f"~ {p}"]


def test_overlay_changes_leave_out_what_ends_as_it_began(tmp_path: Path) -> None:
    (tmp_path / "same").write_bytes(b"abc")
    d = str(tmp_path)
    ov = OverlayFileSystem(FS)
    f = ov.open_append(join(d, "same"))
    f.write(b"d")
    f.truncate(3)  # back to what the base holds
    ov.create_truncate(join(d, "tmp")).close()
    ov.unlink(join(d, "tmp"))  # created and removed: no trace
    assert ov.changes() == []


# --- the details mutmut found next ---------------------------------------------


def test_os_file_fdatasync_issues_fdatasync_and_fsync_issues_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The cheaper fdatasync is what kevy's log sync asks for (docs/SPEC.md §2.3);
    # the calls are recorded on their way to the real syscalls.
    calls: list[str] = []
    real_fdatasync, real_fsync = os.fdatasync, os.fsync
    monkeypatch.setattr(os, "fdatasync", lambda fd: (calls.append("fdatasync"), real_fdatasync(fd)))
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd)))
    f = FS.create_truncate(str(tmp_path / "a"))
    f.write(b"x")
    f.fdatasync()
    f.fsync()
    f.close()
    assert calls == ["fdatasync", "fsync"]


def test_read_bytes_reads_at_most_16_mib_per_call_and_joins_the_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(64) * (1 << 18) + b"xyz"  # 16 MiB + 3 bytes
    (tmp_path / "big").write_bytes(data)
    asked: list[int] = []
    real_read = os.read

    def read(fd: int, n: int) -> bytes:
        asked.append(n)
        return real_read(fd, n)

    monkeypatch.setattr(os, "read", read)
    assert FS.read_bytes(str(tmp_path / "big")) == data
    assert asked == [1 << 24, 3]
    asked.clear()
    (tmp_path / "one").write_bytes(b"1")
    assert FS.read_bytes(str(tmp_path / "one")) == b"1"
    assert asked == [1]


def test_read_bytes_takes_the_size_at_open_from_a_file_that_grows_or_shrinks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = tmp_path / "live.aof"
    p.write_bytes(b"abcdef")
    real_read = os.read
    step: list[str] = []

    def read_while_a_writer_appends(fd: int, n: int) -> bytes:
        # A short read (as a kernel may give), then a writer appends.
        chunk = real_read(fd, min(n, 2))
        if not step:
            step.append("grew")
            with open(p, "ab") as w:
                w.write(b"APPENDED")
        return chunk

    monkeypatch.setattr(os, "read", read_while_a_writer_appends)
    assert FS.read_bytes(str(p)) == b"abcdef"

    p.write_bytes(b"abcdef")
    shrunk: list[str] = []

    def read_while_the_file_is_cut(fd: int, n: int) -> bytes:
        if not shrunk:
            shrunk.append("cut")
            chunk = real_read(fd, 2)
            os.truncate(p, 2)
            return chunk
        return real_read(fd, n)

    monkeypatch.setattr(os, "read", read_while_the_file_is_cut)
    got = FS.read_bytes(str(p))
    assert type(got) is bytes and got == b"ab"


@pytest.fixture
def stdin_closed() -> Iterator[None]:
    # The next descriptor opened is then 0, as in a daemon started without stdin.
    try:
        saved: int | None = os.dup(0)
    except OSError:  # already closed (a runner without stdin)
        saved = None
    else:
        os.close(0)
    try:
        yield
    finally:
        if saved is not None:
            os.dup2(saved, 0)
            os.close(saved)


def test_a_file_or_lock_on_descriptor_0_is_closed_too(tmp_path: Path, stdin_closed: None) -> None:
    f = FS.open_append(str(tmp_path / "a"))
    assert os.readlink("/proc/self/fd/0") == str(tmp_path / "a")
    f.close()
    assert not os.path.exists("/proc/self/fd/0")
    lock = FS.lock_dir(str(tmp_path))
    assert os.readlink("/proc/self/fd/0") == str(tmp_path)
    lock.release()
    assert not os.path.exists("/proc/self/fd/0")
    FS.lock_dir(str(tmp_path)).release()  # the flock went with the descriptor


def test_overlay_errors_read_like_the_real_ones(tmp_path: Path) -> None:
    d = str(tmp_path)
    missing = join(d, "missing")
    with pytest.raises(FileNotFoundError) as real:
        FS.unlink(missing)
    ov = OverlayFileSystem(FS)
    for call in (
        lambda: ov.read_bytes(missing),
        lambda: ov.open_append(missing, create=False),
        lambda: ov.rename(missing, join(d, "y")),
        lambda: ov.unlink(missing),
    ):
        with pytest.raises(FileNotFoundError) as e:
            call()
        assert str(e.value) == str(real.value)


def test_overlay_relative_names_are_listed_only_under_dot(tmp_path: Path) -> None:
    ov = OverlayFileSystem(ReadOnlyFileSystem(FS))
    ov.create_truncate("rel-only-in-memory").close()
    assert "rel-only-in-memory" not in ov.listdir(str(tmp_path))
    assert "rel-only-in-memory" in ov.listdir(".")


def test_create_exclusive_hands_back_a_file_named_by_its_path(tmp_path: Path) -> None:
    f = FS.create_exclusive(str(tmp_path / "b"))
    assert f.path == str(tmp_path / "b")
    f.close()
