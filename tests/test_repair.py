"""`repair` on the real disk: mode and owner kept, links refused, a live writer detected.

The crash and fault cases run on model/crashfs/ in tests/test_repair_crash.py;
these are the properties only a real file system has (permission bits, owners,
symlinks) and the live-writer race, driven deterministically by a FileSystem
that appends a frame at a chosen step.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from pathlib import Path

import pytest

from impl.cli import main
from impl.fs import OsFileSystem, WritableFile
from impl.repair import TEMP_SUFFIX

GOLDEN = Path(__file__).parent / "golden"
TORN = (GOLDEN / "aof/aof_trunc_mid_bulk_data.aof").read_bytes()
CLEAN = TORN[:2327]
FRAME = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"


def run(*argv: str, fs: OsFileSystem | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err, fs=fs)
    return code, out.getvalue(), err.getvalue()


def test_backup_and_log_keep_the_originals_mode_and_owner(tmp_path: Path) -> None:
    aof = tmp_path / "aof-0.aof"
    aof.write_bytes(TORN)
    aof.chmod(0o640)
    before = aof.stat()
    code, _out, err = run("repair", str(aof), "--backup", str(tmp_path / "bak"))
    assert code == 0, err
    for p in (aof, tmp_path / "bak"):
        st = p.stat()
        assert stat.S_IMODE(st.st_mode) == 0o640, p
        assert (st.st_uid, st.st_gid) == (before.st_uid, before.st_gid)
    assert aof.read_bytes() == CLEAN and (tmp_path / "bak").read_bytes() == TORN
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aof-0.aof", "bak"]


def test_a_0600_log_never_gets_a_world_readable_copy(tmp_path: Path) -> None:
    aof = tmp_path / "aof-0.aof"
    aof.write_bytes(TORN)
    aof.chmod(0o600)
    seen: list[int] = []

    class Watch(OsFileSystem):
        def create_exclusive(self, path: str) -> WritableFile:
            f = super().create_exclusive(path)
            seen.append(stat.S_IMODE(os.stat(path).st_mode))
            return f

    code, _out, err = run("repair", str(aof), fs=Watch())
    assert code == 0, err
    assert seen == [0o600, 0o600]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in tmp_path.iterdir())


@pytest.mark.parametrize("dangling", [False, True])
def test_a_backup_path_that_is_a_symlink_is_refused_not_followed(
    tmp_path: Path, dangling: bool
) -> None:
    aof = tmp_path / "aof-0.aof"
    aof.write_bytes(TORN)
    target = tmp_path / "victim"
    if not dangling:
        target.write_bytes(b"precious")
    (tmp_path / "bak").symlink_to(target)
    code, _out, err = run("repair", str(aof), "--backup", str(tmp_path / "bak"))
    assert code == 2 and f"{tmp_path / 'bak'}: backup already exists" in err, err
    assert aof.read_bytes() == TORN
    assert target.exists() != dangling
    if not dangling:
        assert target.read_bytes() == b"precious"


def test_a_symlink_planted_at_a_temp_name_is_refused_not_followed(tmp_path: Path) -> None:
    aof = tmp_path / "aof-0.aof"
    aof.write_bytes(TORN)
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    tmp = tmp_path / ("aof-0.aof" + TEMP_SUFFIX)
    tmp.symlink_to(victim)
    code, _out, err = run("repair", str(aof), "--backup", str(tmp_path / "bak"))
    assert code == 2 and f"{tmp}: already exists" in err, err
    assert victim.read_bytes() == b"precious" and aof.read_bytes() == TORN
    # The backup temp it had made is gone, and so is any trace of the run.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aof-0.aof", tmp.name, "victim"]


@pytest.mark.parametrize("step", ["after-read", "before-log-swap"])
def test_a_frame_appended_during_repair_is_kept_by_refusing(tmp_path: Path, step: str) -> None:
    """A live writer appends between the read and the swap: repair refuses and
    the log, new frame included, is left exactly as the writer left it."""
    aof = tmp_path / "aof-0.aof"
    aof.write_bytes(TORN)

    class LiveWriter(OsFileSystem):
        renames = 0

        def _append(self) -> None:
            with open(aof, "ab") as f:
                f.write(FRAME)

        def create_exclusive(self, path: str) -> WritableFile:
            if step == "after-read" and path.endswith("aof-0.aof" + TEMP_SUFFIX):
                self._append()
            return super().create_exclusive(path)

        def rename(self, src: str, dst: str) -> None:
            super().rename(src, dst)
            if step == "before-log-swap" and dst.endswith("bak"):
                self._append()

    code, _out, err = run("repair", str(aof), "--backup", str(tmp_path / "bak"), fs=LiveWriter())
    assert (
        code == 1
        and f"grew from {len(TORN)} to {len(TORN) + len(FRAME)} bytes" in err
        and "live writer" in err
    ), err
    assert aof.read_bytes() == TORN + FRAME
    names = sorted(p.name for p in tmp_path.iterdir())
    assert not any(n.endswith(TEMP_SUFFIX) for n in names), names


def test_enospc_on_the_real_disk_path_is_reported_with_the_file(tmp_path: Path) -> None:
    aof = tmp_path / "aof-0.aof"
    aof.write_bytes(TORN)

    class Full(OsFileSystem):
        """The disk fills up while the repaired log is being written."""

        def create_exclusive(self, path: str) -> WritableFile:
            f = super().create_exclusive(path)
            if path.endswith("aof-0.aof" + TEMP_SUFFIX):

                def write(data: bytes) -> int:
                    raise OSError(errno.ENOSPC, "No space left on device", path)

                f.write = write  # type: ignore[method-assign]
            return f

    code, _out, err = run("repair", str(aof), "--backup", str(tmp_path / "bak"), fs=Full())
    assert code == 2 and "aof-0.aof.repair-tmp: No space left on device" in err, err
    assert aof.read_bytes() == TORN
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aof-0.aof"]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file another owner")
def test_a_log_owned_by_another_user_keeps_its_owner(tmp_path: Path) -> None:
    aof = tmp_path / "aof-0.aof"
    aof.write_bytes(TORN)
    os.chown(aof, 65534, 65534)
    aof.chmod(0o600)
    code, _out, err = run("repair", str(aof), "--backup", str(tmp_path / "bak"))
    assert code == 0, err
    for p in (aof, tmp_path / "bak"):
        st = p.stat()
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (65534, 65534, 0o600), p
