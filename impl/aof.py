"""The append-only file object (`Aof`): open, append, fsync policies, rewrite, tee.

What: kevy 1.17's `kevy_persist::Aof` (docs/SPEC.md §2). One `Aof` owns one log file
behind an 8192-byte user-space write buffer, applies the fsync policy after
each append, and implements the three ways the file is replaced: the
synchronous `rewrite_from` (§2.6), the concurrent rewrite driven as explicit
steps (`begin_concurrent_rewrite` / `begin_view_rewrite` → caller writes the
base → `finish_concurrent_rewrite`, or `abort_concurrent_rewrite`, §2.7), and
the in-place `truncate` (§2.4).

Why this shape: every crash-consistency question about the log is a question
about *which bytes reached which system call in which order*. So the buffer is
explicit (bytes still in it are lost by a process crash, which the crash
harness relies on), every disk operation goes through the `FileSystem` seam,
and the concurrent protocol is split into steps a test can interleave writes
between, instead of racing threads.

Rules (docs/SPEC.md §2.8 is the syscall contract; the `kevy-1.17` profile does exactly
these calls in this order and nothing else — in particular no directory
fsync anywhere):

1. open (§2.2): `open_append(create=True)`; length `L`; if `L == 0`: write
   MAGIC unbuffered, `fdatasync`. A non-empty file is never repaired: no magic
   for a legacy file, no completion of a partial magic, no cut of a torn tail.
2. Buffer (Rust `BufWriter`, capacity 8192): a frame is one `write_all` into
   it. If it would overflow, the buffer is flushed first; a frame of 8192
   bytes or more then bypasses the buffer. Bytes reach `write()` only then, at
   explicit flush points, and on `close()` (best effort, no fsync).
3. append (§2.3): buffer, tee, `size_bytes += estimate` (saturating), then the
   policy table: Always outside a group → flush + `fdatasync` before
   returning; everything else → dirty.
4. Data syncs are `fdatasync` (append, maybe_sync, end_group, set_fsync);
   truncate, dump_aof, write_aof_base and finish's tmp get a full `fsync`.
5. Renames (`rewrite_from`, `finish_concurrent_rewrite`) are tmp → aof in the
   same directory; the file is then reopened for append *without* create and
   replaces the handle. Dropping the old handle flushes whatever is still in
   its buffer to the old (now unlinked) inode — those bytes are already in
   the tee.
6. Time: `last_sync` comes from the injected clock (`impl.clock`), never the
   wall clock.

Hardened profile: the places where a fix plugs in are marked `HARDENED:`.
The one implemented here is `aof_dir_fsync` (fsync the directory after the
create of a new log and after each rename, so a power loss can neither forget
nor reorder them). Every other behaviour is kevy 1.17's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from impl import resp, rewrite
from impl.clock import Clock
from impl.fs import FileSystem, WritableFile, basename, dirname, join, write_all
from impl.keyspace import Keyspace
from impl.layout import U64_MAX
from impl.profile import KEVY_1_17, Profile
from impl.snapshot import SnapshotItem

#: What a rewrite serialises: a live Keyspace, a FrozenView, or (key, value, remaining) rows.
RewriteSource = Keyspace | Iterable[SnapshotItem]

__all__ = [
    "AUTO_REWRITE_MIN_SIZE",
    "AUTO_REWRITE_PERCENTAGE",
    "BUFFER_SIZE",
    "EVERYSEC_INTERVAL_MS",
    "Aof",
    "FsyncPolicy",
    "RewritePlan",
    "RewriteResult",
    "RewriteSource",
    "rewrite_due",
    "rewrite_tmp_path",
    "write_aof_base",
]

#: Rust `BufWriter::new` capacity: the AOF's user-space buffer (docs/SPEC.md §2.1).
BUFFER_SIZE = 8192
#: EverySec syncs at most once per second (docs/SPEC.md §2.3 maybe_sync).
EVERYSEC_INTERVAL_MS = 1000
#: auto-rewrite defaults (docs/SPEC.md §2.5).
AUTO_REWRITE_PERCENTAGE = 100
AUTO_REWRITE_MIN_SIZE = 64 * 1024 * 1024


class FsyncPolicy(Enum):
    """appendfsync: when appended frames are made durable (docs/SPEC.md §2.3)."""

    #: flush + fdatasync inside every append (outside a group-commit window)
    ALWAYS = "always"
    #: mark dirty; `maybe_sync` syncs at most once per second
    EVERYSEC = "everysec"
    #: mark dirty; never synced by the log itself
    NO = "no"


@dataclass(frozen=True)
class RewritePlan:
    """What `begin_concurrent_rewrite` hands the caller (docs/SPEC.md §2.7)."""

    #: MAGIC + the §4 command stream of the store at begin time
    body: bytes
    #: `<aof name>.rewrite`, where the caller writes `body` before finishing
    tmp: str
    #: number of key groups in `body`
    keys: int


@dataclass(frozen=True)
class RewriteResult:
    """`{keys, bytes}` returned by a finished rewrite (docs/SPEC.md §2.6, §2.7)."""

    keys: int
    bytes: int


def _sat_add(a: int, b: int) -> int:
    return min(a + b, U64_MAX)


def _sat_mul(a: int, b: int) -> int:
    return min(a * b, U64_MAX)


def rewrite_due(size_bytes: int, size_at_last_rewrite: int, pct: int, min_size: int,
                *, rewriting: bool = False) -> bool:
    """docs/SPEC.md §2.5: is an automatic rewrite due? All products saturate at 2**64-1.

    pre: 0 <= size_bytes < 2 ** 64 and 0 <= size_at_last_rewrite < 2 ** 64
    post: not (pct == 0 and __return__)
    """
    if pct == 0 or rewriting or size_bytes < min_size:
        return False
    base = max(size_at_last_rewrite, 1)
    return _sat_mul(size_bytes, 100) >= _sat_mul(base, _sat_add(100, pct))


def rewrite_tmp_path(path: str) -> str:
    """`<aof file name>.rewrite` beside `path`; `aof.rewrite` if no file name (§2.6)."""
    if basename(path) in ("", ".", ".."):
        return join(dirname(path), "aof.rewrite")
    return path + ".rewrite"


def write_aof_base(fs: FileSystem, path: str) -> None:
    """Create/truncate `path`, write MAGIC, full fsync, close (docs/SPEC.md §2.7).

    The empty log base a snapshot save installs (§9.3). The directory is not
    synced.
    """
    f = fs.create_truncate(path)
    try:
        write_all(f, resp.MAGIC)
        f.fsync()
    finally:
        f.close()


class _BufferedFile:
    """Rust `BufWriter<File>` with capacity `BUFFER_SIZE` (module rule 2)."""

    def __init__(self, handle: WritableFile) -> None:
        self.handle = handle
        self.buf = bytearray()

    def write_all(self, data: bytes) -> None:
        if len(self.buf) + len(data) > BUFFER_SIZE:
            self.flush()
        if len(data) >= BUFFER_SIZE:
            write_all(self.handle, data)
        else:
            self.buf += data

    def flush(self) -> None:
        # BufWriter::flush_buf: bytes written are drained even if a later
        # write fails, so a retry never duplicates them.
        while self.buf:
            n = self.handle.write(bytes(self.buf))
            if n <= 0:
                raise OSError(5, "write returned 0 bytes", self.handle.path)
            del self.buf[:n]

    def drop(self) -> None:
        """Rust `Drop`: flush best effort (errors ignored, no fsync), close."""
        with contextlib.suppress(OSError):
            self.flush()
        with contextlib.suppress(OSError):
            self.handle.close()


def _cut_torn_tail(fs: FileSystem, path: str, handle: WritableFile, length: int) -> int:
    """Switch `aof_cut_torn_tail` (F8): cut an incomplete last frame before appending.

    Only a truncated tail is cut (a partial MAGIC is one: it scans as an
    unfinished inline frame at offset 0). A corrupt frame is left alone: cutting
    it would drop complete frames, which is `kevy-verify repair`'s refusal too.
    Returns the new length.
    """
    scan = resp.scan_aof(fs.read_bytes(path))
    if scan.outcome is not resp.Outcome.TRUNCATED_TAIL:
        return length
    handle.truncate(scan.stop)
    handle.fdatasync()
    return scan.stop


class Aof:
    """One append-only log file (docs/SPEC.md §2). Not thread-safe: the store's shard lock
    guards it."""

    def __init__(self, fs: FileSystem, path: str, handle: WritableFile, length: int,
                 policy: FsyncPolicy, clock: Clock, profile: Profile) -> None:
        """Use `Aof.open`; this only assembles an already-opened handle."""
        self.fs = fs
        self.path = path
        self.policy = policy
        self.clock = clock
        self.profile = profile
        self._writer = _BufferedFile(handle)
        self.dirty = False
        self.last_sync_ms = clock.now_ms()
        self.size_bytes = length
        self.size_at_last_rewrite = length
        self.rewrites_total = 0
        self.deferred = False
        self.tee: bytearray | None = None
        self.closed = False
        #: file length covered by the last successful sync (F25's rollback target)
        self.synced_len = length
        #: set when an install's directory sync failed after its rename, or an append or
        #: sync failed (`append_failure_fails_shard`) - hardened only: the log must not be
        #: used again until the store is reopened
        self.failed: BaseException | None = None

    # -- open / close ---------------------------------------------------------
    @classmethod
    def open(cls, fs: FileSystem, path: str, policy: FsyncPolicy = FsyncPolicy.EVERYSEC,
             *, clock: Clock, profile: Profile = KEVY_1_17) -> Aof:
        """docs/SPEC.md §2.2: open with create + append; a new/empty file gets MAGIC + fdatasync."""
        handle = fs.open_append(path, create=True)
        try:
            try:
                length = handle.size()
            except OSError:
                length = 0  # "0 if it cannot be determined"
            if length > 0 and profile.fixes("aof_cut_torn_tail"):
                length = _cut_torn_tail(fs, path, handle, length)
            if length == 0:
                try:
                    write_all(handle, resp.MAGIC)  # unbuffered: straight to the OS
                    handle.fdatasync()
                except OSError:
                    # F49: a failed sync may have dropped the MAGIC's pages, which a
                    # reader still sees: the next open would append to a log whose head
                    # a power cut turns to zeros. The file holds nothing but the MAGIC.
                    if profile.fixes("aof_failed_create_unlinks"):
                        with contextlib.suppress(OSError):
                            fs.unlink(path)
                    raise
                length = len(resp.MAGIC)
                # kevy 1.17 does not fsync the directory: a power loss right
                # after open may lose the new file even though its MAGIC was
                # fdatasynced.
                if profile.fixes("aof_dir_fsync"):
                    fs.fsync_dir(dirname(path))
            # kevy 1.17 leaves a torn trailing frame in place and appends new
            # frames after it, which makes every later frame unreadable (replay
            # stops at the torn one): finding F8, fixed by `aof_cut_torn_tail`.
        except BaseException:
            handle.close()
            raise
        return cls(fs, path, handle, length, policy, clock, profile)

    def close(self) -> None:
        """Drop: flush the buffer to the OS without fsync, close (docs/SPEC.md §2.1, §9.6)."""
        if not self.closed:
            self.closed = True
            self._writer.drop()

    # -- appending ------------------------------------------------------------
    def append(self, argv: list[bytes]) -> None:
        """docs/SPEC.md §2.3: encode into the buffer (and tee), count, apply the policy."""
        if self.failed is not None:
            raise OSError(5, f"the log failed earlier ({self.failed}); reopen", self.path)
        frame = resp.encode_frame(argv)
        try:
            self._writer.write_all(frame)
            if self.tee is not None:
                self.tee += frame
            self.size_bytes = _sat_add(self.size_bytes, resp.estimate(argv))
            if self.policy is FsyncPolicy.ALWAYS and not self.deferred:
                self._writer.flush()
                self._writer.handle.fdatasync()
                self._note_synced()
            else:
                self.dirty = True
        except OSError as err:
            self._failed(err)
            raise

    def _note_synced(self) -> None:
        # Only F25's rollback reads it: kevy 1.17's append path asks no size.
        if self.profile.fixes("append_failure_fails_shard"):
            self.synced_len = self._writer.handle.size()

    def _failed(self, err: OSError) -> None:
        """F25's fix (`append_failure_fails_shard`); kevy 1.17 just reports the error
        and goes on appending, the failed frame still buffered or its pages dropped.

        Put the file back at its last synced length (as Redis truncates a partial
        AOF write back) and sync that, drop what is still buffered, and refuse
        every later append: what the disk holds is then exactly what was synced.
        """
        if not self.profile.fixes("append_failure_fails_shard"):
            return
        self.failed = err
        self._writer.buf.clear()
        with contextlib.suppress(OSError):
            self._writer.handle.truncate(self.synced_len)
            self._writer.handle.fdatasync()

    def flush(self) -> None:
        """Hand buffered bytes to the OS (no sync)."""
        self._writer.flush()

    def pending(self) -> bytes:
        """The bytes still in the user-space buffer (lost by a process crash)."""
        return bytes(self._writer.buf)

    def _sync_now(self) -> None:
        if self.failed is not None:
            raise OSError(5, f"the log failed earlier ({self.failed}); reopen", self.path)
        try:
            self._writer.flush()
            self._writer.handle.fdatasync()
        except OSError as err:
            self._failed(err)
            raise
        self._note_synced()
        self.dirty = False
        self.last_sync_ms = self.clock.now_ms()

    def sync(self) -> None:
        """Durability barrier (store `fsync_aof`): flush + fdatasync, whatever the policy."""
        self._sync_now()

    def maybe_sync(self) -> bool:
        """EverySec only, dirty, ≥ 1 s since the last sync: flush + fdatasync. True if synced."""
        if self.policy is not FsyncPolicy.EVERYSEC or not self.dirty:
            return False
        if self.clock.now_ms() - self.last_sync_ms < EVERYSEC_INTERVAL_MS:
            return False
        self._sync_now()
        return True

    def begin_group(self) -> None:
        """Open a group-commit window (only under Always)."""
        if self.policy is FsyncPolicy.ALWAYS:
            self.deferred = True

    def end_group(self) -> None:
        """Close the window; one flush + fdatasync if anything was appended."""
        if self.deferred:
            self.deferred = False
            if self.dirty:
                self._sync_now()

    def set_fsync(self, policy: FsyncPolicy) -> None:
        """Change the policy; switching to Always syncs pending dirt first."""
        previous = self.policy
        self.policy = policy
        if policy is FsyncPolicy.ALWAYS and previous is not FsyncPolicy.ALWAYS and self.dirty:
            self._sync_now()

    # -- truncate (server SAVE) ------------------------------------------------
    def truncate(self) -> None:
        """docs/SPEC.md §2.4: flush → length 0 → MAGIC at offset 0 (unbuffered) → full fsync."""
        self._writer.flush()
        handle = self._writer.handle
        handle.truncate(0)
        write_all(handle, resp.MAGIC)  # O_APPEND: lands at the new end, offset 0
        handle.fsync()
        self.dirty = False
        self.size_bytes = self.size_at_last_rewrite = self.synced_len = len(resp.MAGIC)

    # -- rewrite ---------------------------------------------------------------
    @property
    def is_rewriting(self) -> bool:
        """True while a concurrent rewrite (a tee) is in flight."""
        return self.tee is not None

    @property
    def tmp_path(self) -> str:
        """`<aof>.rewrite`: where a rewrite or a save builds the replacement."""
        return rewrite_tmp_path(self.path)

    def rewrite_due(self, pct: int, min_size: int) -> bool:
        """docs/SPEC.md §2.5 on this log's counters (False while a tee is present)."""
        return rewrite_due(self.size_bytes, self.size_at_last_rewrite, pct, min_size,
                           rewriting=self.tee is not None)

    def _install(self, tmp: str, keys: int) -> RewriteResult:
        """rename tmp → aof, reopen (no create), replace the handle (§2.6 4–6, §2.7 3–5)."""
        self.fs.rename(tmp, self.path)
        if self.profile.fixes("aof_dir_fsync"):
            try:
                self.fs.fsync_dir(dirname(self.path))
            except Exception as err:
                # HARDENED only (kevy syncs no directory). The rename has
                # happened, so the handle below was never opened and this log
                # still appends to the replaced, unlinked file: nothing written
                # now could ever be replayed. Reopening would not make it safe
                # either: the new name is not durable, and a power loss may
                # bring the old log back without what was appended to the new.
                # Mark the log failed; the store refuses writes until reopened.
                self.failed = err
                raise
        try:
            handle = self.fs.open_append(self.path, create=False)
            try:
                length = handle.size()
            except BaseException:
                handle.close()
                raise
        except OSError as err:
            # kevy 1.17 returns the error and keeps its writer, whose file the rename
            # just replaced: every later frame - acknowledged, even fdatasynced - goes
            # to an unlinked inode no open will replay (F53). The fix fails the log,
            # as for the directory sync above: writes are refused until a reopen
            # opens the new file.
            if self.profile.fixes("rewrite_reopen_fails_log"):
                self.failed = err
            raise
        old, self._writer = self._writer, _BufferedFile(handle)
        # Rust drops the old BufWriter on assignment: its leftover bytes go to
        # the old, now unlinked, inode; they are already in the new file.
        old.drop()
        self.size_bytes = self.size_at_last_rewrite = self.synced_len = length
        self.dirty = False
        self.rewrites_total += 1
        return RewriteResult(keys, length)

    def rewrite_from(self, items: RewriteSource, now_ms: int) -> RewriteResult:
        """docs/SPEC.md §2.6: synchronous rewrite of a frozen view `items` (see snapshot.freeze).

        On a failure inside the dump the `.rewrite` file is left behind.
        """
        self._writer.flush()
        keys, _ = rewrite.dump_aof(self.fs, self.tmp_path, items, now_ms, profile=self.profile)
        return self._install(self.tmp_path, keys)

    def begin_concurrent_rewrite(self, items: RewriteSource, now_ms: int) -> RewritePlan:
        """docs/SPEC.md §2.7: in-memory image of `items`, start an empty tee, return the plan."""
        body, keys = rewrite.rewrite_image(items, now_ms, profile=self.profile)
        self.tee = bytearray()
        return RewritePlan(bytes(body), self.tmp_path, keys)

    def begin_view_rewrite(self) -> str:
        """docs/SPEC.md §2.7: flush the live buffer (no fsync), start an empty tee, return tmp.

        The caller froze its view in the same critical section.
        """
        self._writer.flush()
        self.tee = bytearray()
        return self.tmp_path

    def take_tee(self) -> bytes:
        """Finish step 1: take the tee (empty if none); no further frames are teed."""
        tee, self.tee = self.tee, None
        return bytes(tee) if tee is not None else b""

    def append_tee_to(self, tmp: str, tee: bytes) -> None:
        """Finish step 2: open `tmp` for append (must exist), write `tee`, full fsync, close."""
        f = self.fs.open_append(tmp, create=False)
        try:
            write_all(f, tee)
            f.fsync()
        finally:
            f.close()

    def finish_concurrent_rewrite(self, tmp: str, keys: int) -> RewriteResult:
        """docs/SPEC.md §2.7 finish: tee → tmp, full fsync, rename tmp → aof, reopen, replace.

        The tee is taken first, so after a failure here nothing is teed any
        more; the caller aborts (a no-op then) and deletes `tmp`.
        """
        tee = self.take_tee()
        self.append_tee_to(tmp, tee)
        return self._install(tmp, keys)

    def abort_concurrent_rewrite(self) -> None:
        """Discard the tee; the live log was appended throughout and is complete."""
        self.tee = None

    def write_aof_base(self, path: str) -> None:
        """`write_aof_base(fs, path)` on this log's file system (docs/SPEC.md §2.7)."""
        write_aof_base(self.fs, path)

    def __repr__(self) -> str:
        return (f"<Aof {self.path!r} {self.policy.value} size={self.size_bytes} "
                f"buffered={len(self._writer.buf)} tee={self.tee is not None}>")
