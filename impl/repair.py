"""`kevy-verify repair`: cut the torn tail off a kevy AOF, keeping a backup."""

from __future__ import annotations

import argparse
from typing import TextIO

from impl.clock import Clock
from impl.errors import Refusal, UsageError
from impl.fs import FileSystem, write_all
from impl.resp import Outcome, scan_aof

__all__ = ["RepairRefused", "cmd_repair"]

EXIT_OK = 0


class RepairRefused(Refusal):
    """`repair` declined to proceed (a corrupt log, ...)."""


def cmd_repair(args: argparse.Namespace, fs: FileSystem, clock: Clock, out: TextIO,
               err: TextIO, *, role: str) -> int:
    """Repair `args.path`, whose role (`aof`, `snapshot`, ...) the caller classified."""
    path = args.path
    if role != "aof":
        raise UsageError(f"{path}: repair works on an AOF file only")
    data = fs.read_bytes(path)
    scan = scan_aof(data)
    if scan.outcome is Outcome.CLEAN:
        out.write(f"{path}: clean ({scan.count} frames); nothing to repair\n")
        return EXIT_OK
    if scan.outcome is Outcome.CORRUPT_FRAME:
        raise RepairRefused(f"{scan.error.with_path(path)}; refusing to cut a corrupt log "
                            f"({scan.dropped} bytes from offset {scan.stop} would be lost)")
    backup = args.backup or f"{path}.bak-{clock.now_ms()}"
    if fs.exists(backup):
        raise UsageError(f"{backup}: backup already exists; choose another with --backup")
    if args.dry_run:
        out.write(f"{path}: would cut {scan.dropped} bytes of a torn frame at offset "
                  f"{scan.stop}, keeping {scan.count} frames (backup {backup})\n")
        return EXIT_OK
    # The backup must be durable before the original loses a byte.
    b = fs.create_truncate(backup)
    try:
        write_all(b, data)
        b.fsync()
    finally:
        b.close()
    f = fs.open_append(path, create=False)
    try:
        f.truncate(scan.stop)
        f.fsync()
    finally:
        f.close()
    fs.fsync_dir(args.path.rsplit("/", 1)[0] if "/" in args.path else ".")
    out.write(f"{path}: cut {scan.dropped} bytes of a torn frame at offset {scan.stop}; "
              f"{scan.count} frames kept; original saved as {backup}\n")
    return EXIT_OK
