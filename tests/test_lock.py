"""FINDINGS.md F19: two processes on one data directory, and `hardened`'s lock.

kevy 1.17 takes no lock: a second process opens the directory, replays it and
shares the log; its save then writes a snapshot of *its* keyspace and resets
the log, so every write the first process acknowledged since the second
opened is gone at the next open. `data_dir_lock` makes the second open fail
with `DataDirLocked`, naming the directory.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from impl.aof import FsyncPolicy
from impl.clock import ManualClock
from impl.errors import CorruptLogRefused
from impl.fs import FileSystem, OsFileSystem
from impl.profile import HARDENED, KEVY_1_17, Profile
from impl.store import DataDirLocked, Store, StoreConfig
from model.crashfs import CrashFS

NOW = 1_795_392_000_000


def _open(fs: FileSystem, directory: str, profile: Profile) -> Store:
    config = StoreConfig(data_dir=directory, reaper="manual", appendfsync=FsyncPolicy.ALWAYS)
    return Store.open(config, fs=fs, clock=ManualClock(NOW), profile=profile)


def _values(fs: FileSystem, directory: str) -> dict[str, object]:
    store = _open(fs, directory, KEVY_1_17)
    try:
        return {k["key"]: k["value"] for k in store.snapshot()["keys"]}
    finally:
        store.close()


def _history(fs: FileSystem, directory: str, profile: Profile) -> None:
    """F19's minimal history: A opens, B opens, A writes c (acknowledged, fsynced), B saves."""
    a = _open(fs, directory, profile)
    a.set(b"a", b"1")
    b = _open(fs, directory, profile)  # hardened: DataDirLocked here
    a.set(b"c", b"3")
    b.save()
    a.close()
    b.close()


@pytest.mark.parametrize("disk", ["os", "crashfs"])
def test_kevy_loses_the_other_process_acknowledged_write(tmp_path: Path, disk: str) -> None:
    fs: FileSystem = OsFileSystem() if disk == "os" else CrashFS()
    directory = str(tmp_path / "data") if disk == "os" else "/data"
    _history(fs, directory, KEVY_1_17)
    # c was acknowledged under appendfsync=always, and never deleted.
    assert _values(fs, directory) == {"a": "1"}


@pytest.mark.parametrize("disk", ["os", "crashfs"])
def test_hardened_refuses_the_second_open_naming_the_directory(tmp_path: Path, disk: str) -> None:
    fs: FileSystem = OsFileSystem() if disk == "os" else CrashFS()
    directory = str(tmp_path / "data") if disk == "os" else "/data"
    with pytest.raises(DataDirLocked) as info:
        _history(fs, directory, HARDENED)
    assert info.value.directory == directory
    assert str(info.value).startswith(f"{directory}: data directory is in use")


def test_the_lock_is_released_by_close_and_leaves_no_file(tmp_path: Path) -> None:
    fs = OsFileSystem()
    names = {}
    for profile in (KEVY_1_17, HARDENED):
        directory = tmp_path / profile.name
        a = _open(fs, str(directory), profile)
        a.set(b"k", b"v")
        names[profile.name] = sorted(p.name for p in directory.iterdir())
        a.close()
    b = _open(fs, str(tmp_path / "hardened"), HARDENED)
    assert b.get(b"k") == b"v"
    b.close()
    assert names["hardened"] == names["kevy-1.17"]


def test_a_failed_open_releases_the_lock(tmp_path: Path) -> None:
    golden = Path(__file__).parent / "golden/aof/aof_corrupt_missing_crlf.aof"
    (tmp_path / "aof-0.aof").write_bytes(golden.read_bytes())
    with pytest.raises(CorruptLogRefused):  # hardened's aof_refuse_corrupt (F14)
        _open(OsFileSystem(), str(tmp_path), HARDENED)
    (tmp_path / "aof-0.aof").write_bytes(b"KEVYAOF1\n")
    _open(OsFileSystem(), str(tmp_path), HARDENED).close()


CHILD = """
import sys
from impl.aof import FsyncPolicy
from impl.clock import ManualClock
from impl.errors import CorruptLogRefused
from impl.fs import OsFileSystem
from impl.profile import HARDENED
from impl.store import Store, StoreConfig
config = StoreConfig(data_dir=sys.argv[1], reaper="manual", appendfsync=FsyncPolicy.ALWAYS)
store = Store.open(config, fs=OsFileSystem(), clock=ManualClock(0), profile=HARDENED)
print("locked", flush=True)
sys.stdin.readline()
store.close()
"""


def test_the_lock_excludes_another_process(tmp_path: Path) -> None:
    root = str(Path(__file__).parent.parent)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": root, "PATH": "/usr/bin:/bin"},
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "locked\n"
        with pytest.raises(DataDirLocked):
            _open(OsFileSystem(), str(tmp_path), HARDENED)
        # kevy 1.17 takes no lock, so it is not stopped (that is F19).
        _open(OsFileSystem(), str(tmp_path), KEVY_1_17).close()
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=60)
    assert child.returncode == 0
    _open(OsFileSystem(), str(tmp_path), HARDENED).close()
