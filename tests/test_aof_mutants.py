"""impl/aof.py behaviour the rest of the suite left unpinned (issue 15).

Written while triaging mutmut's survivors in impl/aof.py; each test states a
property of the AOF object (docs/SPEC.md §2), checked on the real disk and by
the syscalls it records, not a property of a mutant.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from impl.aof import BUFFER_SIZE, Aof, FsyncPolicy, rewrite_tmp_path
from impl.clock import ManualClock
from impl.fs import OsFileSystem
from impl.keyspace import Keyspace, ZSet
from impl.profile import HARDENED, KEVY_1_17
from impl.resp import MAGIC, encode_frame, scan_aof
from impl.snapshot import freeze
from model.crashfs import CrashFS
from tests.recording_fs import RecordingFS

A = "aof-0.aof"
SET = encode_frame([b"SET", b"k", b"v"])


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_800_000_000_000)


def _open(rec: RecordingFS, tmp_path: Path, clock: ManualClock, **kw: object) -> Aof:
    aof = Aof.open(rec, str(tmp_path / A), clock=clock, **kw)  # type: ignore[arg-type]
    rec.take()
    return aof


# -- F8's fix (aof_cut_torn_tail): what open cuts --------------------------------


def test_hardened_open_cuts_a_torn_tail_only(rec, tmp_path, clock) -> None:
    path = tmp_path / A
    path.write_bytes(MAGIC + SET + SET[:5])  # a crash mid-append
    _open(rec, tmp_path, clock, profile=HARDENED).close()
    assert path.read_bytes() == MAGIC + SET


def test_hardened_open_leaves_a_corrupt_frame_alone(rec, tmp_path, clock) -> None:
    # Cutting at a corrupt frame would drop the complete frames after it.
    data = MAGIC + SET + b"*1\r\nX" + SET
    (tmp_path / A).write_bytes(data)
    aof = _open(rec, tmp_path, clock, profile=HARDENED)
    assert aof.size_bytes == len(data)
    aof.close()
    assert (tmp_path / A).read_bytes() == data


def test_hardened_open_replaces_a_one_byte_partial_magic(rec, tmp_path, clock) -> None:
    # A 1-byte file is a torn MAGIC: cut to 0, then a fresh MAGIC is written.
    (tmp_path / A).write_bytes(MAGIC[:1])
    aof = _open(rec, tmp_path, clock, profile=HARDENED)
    assert aof.size_bytes == len(MAGIC)
    aof.close()
    assert (tmp_path / A).read_bytes() == MAGIC


# -- state of a log --------------------------------------------------------------


def test_a_fresh_log_is_not_failed_and_closes_once(rec, tmp_path, clock) -> None:
    aof = _open(rec, tmp_path, clock)
    # the store fails a shard for good when a rewrite error leaves aof.failed set
    assert aof.failed is None
    aof.close()
    aof.close()
    assert rec.take() == [("close", A)]
    assert aof.closed is True


def test_an_append_after_a_group_syncs_at_once(rec, tmp_path, clock) -> None:
    aof = _open(rec, tmp_path, clock, policy=FsyncPolicy.ALWAYS)
    aof.begin_group()
    aof.append([b"SET", b"k", b"v"])
    aof.end_group()
    assert rec.take() == [("write", A, SET), ("fdatasync", A)]
    aof.append([b"SET", b"k", b"v"])  # the window is closed: Always syncs each append
    assert rec.take() == [("write", A, SET), ("fdatasync", A)]


def test_set_fsync_always_takes_effect_and_keeps_an_open_group(rec, tmp_path, clock) -> None:
    aof = _open(rec, tmp_path, clock, policy=FsyncPolicy.EVERYSEC)
    aof.set_fsync(FsyncPolicy.ALWAYS)
    assert aof.policy is FsyncPolicy.ALWAYS
    aof.append([b"SET", b"k", b"v"])
    assert rec.take() == [("write", A, SET), ("fdatasync", A)]
    # Always -> Always inside a group: nothing to catch up, the group stays deferred
    aof.begin_group()
    aof.append([b"SET", b"k", b"v"])
    aof.set_fsync(FsyncPolicy.ALWAYS)
    assert rec.take() == []
    aof.end_group()
    assert rec.take() == [("write", A, SET), ("fdatasync", A)]


def test_rewrites_are_counted(rec, tmp_path, clock) -> None:
    aof = _open(rec, tmp_path, clock)
    ks = Keyspace(clock)
    ks.put(b"k", b"v")
    for _ in range(2):
        aof.rewrite_from(freeze(ks, clock.now_ms()), clock.now_ms())
    assert aof.rewrites_total == 2


def test_take_tee_without_a_rewrite_is_empty(rec, tmp_path, clock) -> None:
    aof = _open(rec, tmp_path, clock, profile=KEVY_1_17)
    assert aof.take_tee() == b""


@pytest.mark.parametrize(
    ("path", "tmp"),
    [("/d/.", "/d/aof.rewrite"), ("/d/..", "/d/aof.rewrite"), ("/d/x.aof", "/d/x.aof.rewrite")],
)
def test_rewrite_tmp_path_of_a_dot_name(path: str, tmp: str) -> None:
    # '.' and '..' name no file, so the temp file is aof.rewrite beside them (§2.6)
    assert rewrite_tmp_path(path) == tmp


# -- the BufWriter boundaries (what a process crash loses) -------------------------


def _argv_of_size(size: int) -> list[bytes]:
    # SET k <value> whose frame is exactly `size` bytes
    for n in range(size, -1, -1):
        argv = [b"SET", b"k", b"v" * n]
        if len(encode_frame(argv)) == size:
            return argv
    raise AssertionError(size)


def test_buffer_filled_to_capacity_stays_pending(rec, tmp_path, clock) -> None:
    # Rust BufWriter flushes first only when the new bytes would *exceed* capacity.
    aof = _open(rec, tmp_path, clock, policy=FsyncPolicy.NO)
    aof.append([b"SET", b"k", b"v"])
    argv = _argv_of_size(BUFFER_SIZE - len(SET))
    aof.append(argv)
    assert rec.take() == []  # exactly full: all of it still in user space
    assert aof.pending() == SET + encode_frame(argv)


def test_a_frame_of_capacity_bytes_goes_straight_to_the_file(rec, tmp_path, clock) -> None:
    # ... and writes a chunk of capacity bytes or more past the (empty) buffer.
    aof = _open(rec, tmp_path, clock, policy=FsyncPolicy.NO)
    argv = _argv_of_size(BUFFER_SIZE)
    aof.append(argv)
    assert rec.take() == [("write", A, encode_frame(argv))]
    assert aof.pending() == b""


def test_repr_names_the_log_state(tmp_path, clock) -> None:
    aof = Aof.open(OsFileSystem(), str(tmp_path / A), FsyncPolicy.NO, clock=clock)
    aof.append([b"SET", b"k", b"v"])
    name = str(tmp_path / A)
    assert repr(aof) == f"<Aof {name!r} no size={9 + len(SET)} buffered={len(SET)} tee=False>"
    aof.close()


def _ks_with_ttl_and_zset(clock: ManualClock) -> Keyspace:
    ks = Keyspace(clock)
    ks.put(b"t", b"v", deadline_ms=clock.now_ms() + 5000)
    ks.put(b"z", ZSet({b"m": 0.1}))
    return ks


def _rewritten(data: bytes) -> list[tuple[bytes, ...]]:
    scan = scan_aof(data)
    return sorted(f.argv for f in scan.frames)


# The rewrite is taken at now_ms (deadlines are written absolute from it) and
# under the log's profile (hardened writes scores that replay exactly, F2).
WANT = [
    (b"PEXPIREAT", b"t", b"%d" % (1_800_000_000_000 + 5000)),
    (b"SET", b"t", b"v"),
    (b"ZADD", b"z", b"0.1", b"m"),
]


def test_rewrite_from_uses_now_and_the_profile(rec, tmp_path, clock) -> None:
    aof = _open(rec, tmp_path, clock, profile=HARDENED)
    ks = _ks_with_ttl_and_zset(clock)
    aof.rewrite_from(freeze(ks, clock.now_ms()), clock.now_ms())
    aof.close()
    assert _rewritten((tmp_path / A).read_bytes()) == WANT


def test_concurrent_rewrite_image_uses_now_and_the_profile(rec, tmp_path, clock) -> None:
    aof = _open(rec, tmp_path, clock, profile=HARDENED)
    plan = aof.begin_concurrent_rewrite(_ks_with_ttl_and_zset(clock), clock.now_ms())
    aof.abort_concurrent_rewrite()
    aof.close()
    assert _rewritten(plan.body) == WANT


# -- the write loop under short and failed writes (CrashFS faults) -------------------

D = "/data"


def _crash_aof(clock: ManualClock) -> tuple[CrashFS, Aof]:
    fs = CrashFS.from_files({}, dirs=[D])
    return fs, Aof.open(fs, f"{D}/{A}", FsyncPolicy.NO, clock=clock)


def test_a_write_of_zero_bytes_is_an_eio_naming_the_file(clock) -> None:
    fs, aof = _crash_aof(clock)
    aof.append([b"SET", b"k", b"v"])
    fs.fail_next("write", kind="short", nbytes=0)
    with pytest.raises(OSError) as info:
        aof.flush()
    assert (info.value.errno, info.value.strerror) == (5, "write returned 0 bytes")
    assert info.value.filename == f"{D}/{A}"
    assert aof.pending() == SET  # nothing was written, nothing is lost from the buffer


def test_a_short_write_is_continued_without_duplicating_bytes(clock) -> None:
    fs, aof = _crash_aof(clock)
    aof.append([b"SET", b"k", b"v"])
    fs.fail_next("write", kind="short", nbytes=1)
    aof.flush()
    assert aof.pending() == b""
    assert fs.read_bytes(f"{D}/{A}") == MAGIC + SET


def test_close_ignores_a_failed_final_flush(clock) -> None:
    # Rust's Drop of a BufWriter: flush best effort, errors ignored, then close.
    fs, aof = _crash_aof(clock)
    aof.append([b"SET", b"k", b"v"])
    fs.fail_next("write", kind="eio")
    aof.close()
    assert aof.closed is True
    assert fs.read_bytes(f"{D}/{A}") == MAGIC


# --------------------------------------------------------------------------
# Faults CrashFS does not inject: a handle whose size() or close() fails.


class _FailingFile:
    """A real file whose named methods raise EIO (the rest pass through)."""

    def __init__(self, inner, failing: set[str]) -> None:  # type: ignore[no-untyped-def]
        self._inner = inner
        self._failing = failing
        self.path = inner.path
        self.closed = False

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        if name in self._failing:

            def fail(*_: object) -> None:
                raise OSError(5, f"{name} failed (injected)", self.path)

            return fail
        return getattr(self._inner, name)

    def close(self) -> None:
        self.closed = True
        if "close" in self._failing:
            self._inner.close()  # release the descriptor, then report the failure
            raise OSError(5, "close failed (injected)", self.path)
        self._inner.close()


class _FailingFS(RecordingFS):
    def __init__(self, failing: set[str]) -> None:
        super().__init__(OsFileSystem())
        self.failing = failing
        self.opened: list[_FailingFile] = []

    def open_append(self, path: str, *, create: bool = True):  # type: ignore[no-untyped-def]
        f = _FailingFile(self.base.open_append(path, create=create), self.failing)
        self.opened.append(f)
        return f


def test_a_size_that_cannot_be_read_counts_as_an_empty_log(tmp_path: Path, clock) -> None:
    # docs/SPEC.md §2.2: "0 if it cannot be determined": kevy then writes MAGIC
    # as for a new file, after whatever the file already held.
    path = tmp_path / A
    path.write_bytes(MAGIC + SET)
    aof = Aof.open(_FailingFS({"size"}), str(path), clock=clock)
    assert aof.size_bytes == len(MAGIC)
    aof.close()
    assert path.read_bytes() == MAGIC + SET + MAGIC


@pytest.mark.parametrize("failing", [{"write"}, {"close"}, {"write", "close"}])
def test_close_ignores_a_failing_flush_or_close(tmp_path: Path, clock, failing) -> None:
    # Rust's Drop: flush best effort, close, errors ignored (docs/SPEC.md §2.1).
    path = tmp_path / A
    path.write_bytes(MAGIC)
    fs = _FailingFS(set())
    aof = Aof.open(fs, str(path), FsyncPolicy.NO, clock=clock)
    aof.append([b"SET", b"k", b"v"])
    fs.failing.update(failing)
    aof.close()
    assert fs.opened[0].closed
    assert path.read_bytes() == (MAGIC if "write" in failing else MAGIC + SET)


# --------------------------------------------------------------------------
# F25's fix at the log itself (`append_failure_fails_shard`): a failed append or
# sync fails the log, rolls the file back to its last synced length, and every
# later call is refused with an error that names the first failure.


@pytest.mark.parametrize("synced_first", [False, True])
def test_a_failed_append_rolls_back_to_the_synced_length_and_fails_the_log(
    clock: ManualClock, synced_first: bool
) -> None:
    from model.crashfs import Fault

    fs = CrashFS()
    path = "/data/aof-0.aof"
    fs.makedirs("/data")
    aof = Aof.open(fs, path, FsyncPolicy.ALWAYS, clock=clock, profile=HARDENED)
    if synced_first:
        aof.append([b"SET", b"k", b"v"])  # ALWAYS: written and synced
    synced = fs.read_bytes(path)
    assert synced == (MAGIC + SET if synced_first else MAGIC)
    fs.faults.faults.append(Fault("write", path, "short", nbytes=5))  # 5 bytes land...
    fs.fail_next("write", path, "enospc")  # ...then the rest fails
    with pytest.raises(OSError) as first:
        aof.append([b"SET", b"k", b"w"])
    assert fs.read_bytes(path) == synced  # the half-written frame is cut off
    assert aof.failed is first.value
    for call in (lambda: aof.append([b"SET", b"x", b"y"]), aof.sync):
        with pytest.raises(OSError) as later:
            call()
        assert later.value.errno == 5
        assert later.value.strerror == f"the log failed earlier ({first.value}); reopen"
        assert later.value.filename == path
    assert fs.read_bytes(path) == synced
    aof.close()


def test_a_failed_sync_fails_the_log_with_that_error(clock: ManualClock) -> None:
    fs = CrashFS()
    path = "/data/aof-0.aof"
    fs.makedirs("/data")
    aof = Aof.open(fs, path, FsyncPolicy.NO, clock=clock, profile=HARDENED)
    aof.append([b"SET", b"k", b"v"])
    fs.fail_next("fdatasync", path, "eio")
    with pytest.raises(OSError) as first:
        aof.sync()
    assert aof.failed is first.value
    assert fs.read_bytes(path) == MAGIC  # back to what was synced: the header
    aof.close()


def test_a_rollback_that_fails_too_still_fails_the_log_with_the_first_error(
    clock: ManualClock,
) -> None:
    fs = CrashFS()
    path = "/data/aof-0.aof"
    fs.makedirs("/data")
    aof = Aof.open(fs, path, FsyncPolicy.ALWAYS, clock=clock, profile=HARDENED)
    fs.fail_next("write", path, "enospc")
    fs.fail_next("truncate", path, "eio")  # the rollback's own truncate fails
    with pytest.raises(OSError) as first:
        aof.append([b"SET", b"k", b"v"])
    assert aof.failed is first.value
    with pytest.raises(OSError, match="the log failed earlier"):
        aof.append([b"SET", b"k", b"w"])
    aof.close()
