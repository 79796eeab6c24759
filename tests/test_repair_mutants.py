"""impl/repair.py's refusals and reports, line by line (README "Adequacy").

Every message `repair` prints is the user's only guide when it declines; these
pin each one whole, with the fields the errors carry, in process.
"""

from __future__ import annotations

import argparse
import io
import os
from pathlib import Path

import pytest

from impl.clock import ManualClock
from impl.errors import UsageError
from impl.fs import OsFileSystem
from impl.repair import (
    TEMP_SUFFIX,
    LiveWriterRefused,
    RepairRefused,
    cmd_repair,
    plan_repair,
    repair_aof,
)
from impl.resp import MAGIC, encode_frame
from tests.recording_fs import RecordingFS

FRAME = encode_frame([b"SET", b"k", b"v"])
TAIL = b"*2\r\n$3\r\nGET"
TORN = MAGIC + FRAME + FRAME + TAIL


def _args(path: Path, *, backup: str | None = None, dry_run: bool = False) -> argparse.Namespace:
    return argparse.Namespace(path=str(path), backup=backup, dry_run=dry_run)


def _run(fs, path: Path, **kw: object) -> str:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    assert (
        cmd_repair(
            _args(path, **kw),
            fs,
            ManualClock(1234),
            out,
            io.StringIO(),  # type: ignore[arg-type]
            role="aof",
        )
        == 0
    )
    return out.getvalue()


def test_a_live_writer_refusal_names_the_sizes() -> None:
    err = LiveWriterRefused("/d/aof-0.aof", 10, 12)
    assert (err.path, err.read, err.now) == ("/d/aof-0.aof", 10, 12)
    assert str(err) == (
        "/d/aof-0.aof: grew from 10 to 12 bytes during repair (a live writer?); refusing to "
        "swap it: the log is as the writer left it. Stop the server and run repair again"
    )


def test_a_corrupt_log_is_refused_with_what_would_be_lost(tmp_path: Path) -> None:
    path = tmp_path / "aof-0.aof"
    path.write_bytes(MAGIC + FRAME + b"*1\r\n%3\r\nGET\r\n")
    with pytest.raises(RepairRefused) as info:
        plan_repair(OsFileSystem(), str(path), str(path) + ".bak")
    text = str(info.value)
    assert text.startswith(f"{path}: corrupt frame at offset {len(MAGIC) + len(FRAME)}")
    assert text.endswith(
        f"; refusing to cut a corrupt log (13 bytes from offset {len(MAGIC) + len(FRAME)} "
        "would be lost)"
    )


def test_a_plan_counts_the_frames_it_keeps(tmp_path: Path) -> None:
    path = tmp_path / "aof-0.aof"
    path.write_bytes(TORN)
    plan = plan_repair(OsFileSystem(), str(path), "b")
    assert plan is not None
    assert (plan.stop, plan.count, plan.dropped) == (len(MAGIC) + 2 * len(FRAME), 2, len(TAIL))


def test_an_existing_backup_or_temp_file_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "aof-0.aof"
    path.write_bytes(TORN)
    backup = tmp_path / "b"
    backup.write_bytes(b"")
    plan = plan_repair(OsFileSystem(), str(path), str(backup))
    assert plan is not None
    with pytest.raises(UsageError) as info:
        repair_aof(OsFileSystem(), plan)
    assert str(info.value) == (
        f"{backup}: backup already exists (or is a symlink); choose another with --backup"
    )
    backup.unlink()
    (tmp_path / ("b" + TEMP_SUFFIX)).write_bytes(b"")
    with pytest.raises(UsageError) as info:
        repair_aof(OsFileSystem(), plan)
    assert str(info.value) == (
        f"{backup}{TEMP_SUFFIX}: already exists (left by an interrupted repair, or planted); "
        "remove it and run repair again"
    )


class _NoChown(OsFileSystem):
    def set_owner(self, path: str, owner: object) -> None:  # type: ignore[override]
        raise PermissionError(1, "Operation not permitted", path)


def test_a_temp_file_that_cannot_take_the_owner_says_so(tmp_path: Path) -> None:
    path = tmp_path / "aof-0.aof"
    path.write_bytes(TORN)
    plan = plan_repair(OsFileSystem(), str(path), str(tmp_path / "b"))
    assert plan is not None
    with pytest.raises(UsageError) as info:
        repair_aof(_NoChown(), plan)
    st = os.stat(path)
    assert str(info.value) == (
        f"{tmp_path}/b{TEMP_SUFFIX}: cannot give it the log's owner (uid {st.st_uid}, "
        f"gid {st.st_gid}): Operation not permitted; run repair as the log's owner"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aof-0.aof"]


def test_cmd_repair_reports_each_outcome(tmp_path: Path) -> None:
    path = tmp_path / "aof-0.aof"
    path.write_bytes(MAGIC + FRAME)
    assert _run(OsFileSystem(), path) == f"{path}: clean (1 frames); nothing to repair\n"
    path.write_bytes(TORN)
    assert _run(OsFileSystem(), path, dry_run=True) == (
        f"{path}: would cut {len(TAIL)} bytes of a torn frame at offset {len(TORN) - len(TAIL)}, "
        f"keeping 2 frames (backup {path}.bak-1234)\n"
    )
    with pytest.raises(UsageError, match=r"^.*/aof-0\.aof: repair works on an AOF file only$"):
        cmd_repair(
            _args(path),
            OsFileSystem(),
            ManualClock(0),
            io.StringIO(),
            io.StringIO(),
            role="snapshot",
        )


def test_a_dry_run_refuses_a_taken_backup_name_dangling_symlinks_included(tmp_path: Path) -> None:
    path = tmp_path / "aof-0.aof"
    path.write_bytes(TORN)
    link = tmp_path / "b"
    os.symlink(tmp_path / "nowhere", link)  # lexists, not exists
    with pytest.raises(UsageError) as info:
        _run(OsFileSystem(), path, backup=str(link), dry_run=True)
    assert str(info.value) == f"{link}: backup already exists; choose another with --backup"
    # A file system without lexists asks exists().
    taken = tmp_path / "c"
    taken.write_bytes(b"")
    with pytest.raises(UsageError, match="backup already exists"):
        _run(RecordingFS(OsFileSystem()), path, backup=str(taken), dry_run=True)
    assert "would cut" in _run(RecordingFS(OsFileSystem()), path, backup=str(link), dry_run=True)


def test_a_file_system_without_exclusive_create_cannot_repair(tmp_path: Path) -> None:
    path = tmp_path / "aof-0.aof"
    path.write_bytes(TORN)
    with pytest.raises(UsageError) as info:
        _run(RecordingFS(OsFileSystem()), path)
    assert str(info.value) == f"{path}: this file system cannot create files exclusively"
