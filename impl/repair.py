"""`kevy-verify repair`: cut the torn tail off a kevy AOF, keeping a backup.

The protocol, and why each step (issue 12; the crash and fault cases are
walked in tests/test_repair_crash.py on model/crashfs/):

1. Read the log once and scan it. Only a torn *tail* is cut; mid-file
   corruption is refused, since cutting it would drop complete frames.
2. Nothing may already be at the backup's name: `lexists`, so a dangling
   symlink counts, and the check is repeated by an exclusive create below.
3. Write the backup (every byte read) and the repaired log (the clean prefix)
   to temp files made with `O_CREAT|O_EXCL|O_NOFOLLOW`: a symlink or a file
   planted at a temp name is refused, never followed or overwritten. Each
   gets the original's mode and owner *before* its data is written (a 0600
   log never has a world-readable copy, even for a moment), then is fsynced.
4. Before each rename, the log's size is compared with what was read. If a
   live writer appended a frame meanwhile, repair REFUSES (exit 1): the temp
   files are removed and the log, with the new frame, is left as it is. It
   does not retry: a writer that is still running holds the old inode open,
   so any swap would send its later frames to an unlinked file.
5. rename(backup temp -> backup), fsync its directory; only then
   rename(log temp -> log), fsync its directory. At every crash point each
   final name holds either nothing / the original, or the complete new file;
   a crash can leave only a `*.repair-tmp` file, which the next run names.

A failed step (ENOSPC, EIO, ...) removes the temp files it made and leaves the
log untouched; the error names the file. The remaining window is between the
last size check and the rename of the log (a few syscalls): `repair` is for a
stopped server, and `hardened`'s data-directory lock (F19, impl/store.py) is
what keeps two writers apart.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TextIO

from impl.clock import Clock
from impl.errors import Refusal, UsageError, shown
from impl.fs import ExclusiveFileSystem, FileSystem, Owner, WritableFile, dirname, write_all
from impl.resp import Outcome, scan_aof

__all__ = [
    "TEMP_SUFFIX",
    "LiveWriterRefused",
    "RepairPlan",
    "RepairRefused",
    "cmd_repair",
    "plan_repair",
    "repair_aof",
]

EXIT_OK = 0
#: appended to a final name to form its temp file (same directory: docs/SPEC.md §10)
TEMP_SUFFIX = ".repair-tmp"


class RepairRefused(Refusal):
    """`repair` declined to proceed (a corrupt log, a live writer)."""


class LiveWriterRefused(RepairRefused):
    """The log grew between the read and the swap: a writer is still running."""

    def __init__(self, path: str, read: int, now: int) -> None:
        super().__init__(
            f"{shown(path)}: grew from {read} to {now} bytes during repair (a live writer?); "
            "refusing to swap it: the log is as the writer left it. "
            "Stop the server and run repair again"
        )
        self.path = path
        self.read = read
        self.now = now


@dataclass(frozen=True)
class RepairPlan:
    """What `repair` would do to `path`: keep `data[:stop]`, save `data` as `backup`."""

    path: str
    backup: str
    data: bytes
    stop: int
    count: int

    @property
    def dropped(self) -> int:
        return len(self.data) - self.stop


def plan_repair(fs: FileSystem, path: str, backup: str) -> RepairPlan | None:
    """Scan `path`; None if it is clean, RepairRefused if it is corrupt mid-file."""
    data = fs.read_bytes(path)
    scan = scan_aof(data)
    if scan.outcome is Outcome.CLEAN:
        return None
    if scan.outcome is Outcome.CORRUPT_FRAME:
        raise RepairRefused(
            f"{scan.error.with_path(path)}; refusing to cut a corrupt log "
            f"({scan.dropped} bytes from offset {scan.stop} would be lost)"
        )
    return RepairPlan(path, backup, data, scan.stop, scan.count)


def repair_aof(fs: ExclusiveFileSystem, plan: RepairPlan) -> None:
    """Carry out `plan` crash-safely (the module docstring's steps 2-5)."""
    path, backup = plan.path, plan.backup
    if fs.lexists(backup):
        raise UsageError(
            f"{shown(backup)}: backup already exists (or is a symlink); "
            "choose another with --backup"
        )
    owner = fs.stat_owner(path)
    made: list[str] = []
    try:
        backup_tmp = _write_temp(fs, backup + TEMP_SUFFIX, plan.data, owner, made)
        log_tmp = _write_temp(fs, path + TEMP_SUFFIX, plan.data[: plan.stop], owner, made)
        _unchanged(fs, plan)
        fs.rename(backup_tmp, backup)
        made.remove(backup_tmp)
        # The backup must be durable before the log loses a byte.
        fs.fsync_dir(dirname(backup))
        _unchanged(fs, plan)
        fs.rename(log_tmp, path)
        made.remove(log_tmp)
        fs.fsync_dir(dirname(path))
    except Exception:
        for tmp in made:  # best effort: the error being raised is the one to report
            try:
                fs.unlink(tmp)
            except OSError:
                pass
        raise


def _write_temp(
    fs: ExclusiveFileSystem, tmp: str, data: bytes, owner: Owner, made: list[str]
) -> str:
    try:
        f: WritableFile = fs.create_exclusive(tmp)
    except FileExistsError:
        raise UsageError(
            f"{tmp}: already exists (left by an interrupted repair, or planted); "
            "remove it and run repair again"
        ) from None
    made.append(tmp)
    try:
        try:
            fs.set_owner(tmp, owner)
        except PermissionError as e:
            raise UsageError(
                f"{tmp}: cannot give it the log's owner (uid {owner.uid}, gid {owner.gid}): "
                f"{e.strerror}; run repair as the log's owner"
            ) from None
        write_all(f, data)
        f.fsync()
    finally:
        f.close()
    return tmp


def _unchanged(fs: FileSystem, plan: RepairPlan) -> None:
    now = fs.file_size(plan.path)
    if now != len(plan.data):
        raise LiveWriterRefused(plan.path, len(plan.data), now)


def cmd_repair(
    args: argparse.Namespace, fs: FileSystem, clock: Clock, out: TextIO, err: TextIO, *, role: str
) -> int:
    """Repair `args.path`, whose role (`aof`, `snapshot`, ...) the caller classified."""
    path = args.path
    if role != "aof":
        raise UsageError(f"{shown(path)}: repair works on an AOF file only")
    backup = args.backup or f"{shown(path)}.bak-{clock.now_ms()}"
    plan = plan_repair(fs, path, backup)
    if plan is None:
        count = scan_aof(fs.read_bytes(path)).count
        out.write(f"{shown(path)}: clean ({count} frames); nothing to repair\n")
        return EXIT_OK
    if args.dry_run:
        taken = fs.lexists(backup) if isinstance(fs, ExclusiveFileSystem) else fs.exists(backup)
        if taken:
            raise UsageError(
                f"{shown(backup)}: backup already exists; choose another with --backup"
            )
        out.write(
            f"{shown(path)}: would cut {plan.dropped} bytes of a torn frame at offset "
            f"{plan.stop}, keeping {plan.count} frames (backup {shown(backup)})\n"
        )
        return EXIT_OK
    if not isinstance(fs, ExclusiveFileSystem):
        raise UsageError(f"{shown(path)}: this file system cannot create files exclusively")
    repair_aof(fs, plan)
    out.write(
        f"{shown(path)}: cut {plan.dropped} bytes of a torn frame at offset {plan.stop}; "
        f"{plan.count} frames kept; original saved as {shown(backup)}\n"
    )
    return EXIT_OK
