"""impl/store.py: what tests/test_store.py and the machines left unchecked.

mutmut (README "Adequacy", mutation score) found the store's protocols well
covered by the phase-API tests, the crash machines and the explorer, and the
edges around them unchecked: the errors' texts (what an embedding program
shows its user), the configuration checks, the maxmemory accounting and
eviction policies, the reaper's sampling bounds and the recovery decisions at
open. Each test here drives a real `Store` on a real temporary directory (or
in memory) with a `ManualClock` and the manual reaper; none sleeps.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from impl.aof import FsyncPolicy
from impl.clock import ManualClock
from impl.errors import UsageError
from impl.fs import OsFileSystem
from impl.profile import HARDENED, KEVY_1_17, Profile
from impl.store import (
    DataDirLocked,
    PhaseError,
    SaveTimedOut,
    ShardBusy,
    Store,
    StoreConfig,
    StoreError,
    iter_shard_paths,
    reset_path,
)

NOW = 1_795_435_200_000
FS = OsFileSystem()


def cfg(path: Path | None, **kw: object) -> StoreConfig:
    kw.setdefault("reaper", "manual")
    kw.setdefault("appendfsync", FsyncPolicy.ALWAYS)
    return StoreConfig(data_dir=None if path is None else str(path), **kw)  # type: ignore[arg-type]


def open_store(path: Path | None, profile: Profile = KEVY_1_17, **kw: object) -> Store:
    return Store.open(cfg(path, **kw), fs=FS, clock=ManualClock(NOW), profile=profile)


# --- errors and configuration --------------------------------------------------


def test_the_store_errors_say_what_happened_and_what_to_do() -> None:
    busy = ShardBusy(3)
    assert busy.shard == 3
    assert str(busy) == (
        "shard 3: an AOF rewrite is in flight (tee active); finish or abort it, then save again"
    )
    late = SaveTimedOut(2, 2000)
    assert (late.shard, late.retries) == (2, 2000)
    assert isinstance(late, TimeoutError)
    assert str(late) == (
        "shard 2: save gave up after 2000 retries of 5 ms waiting for an AOF rewrite"
    )
    locked = DataDirLocked("/d")
    assert locked.directory == "/d"
    assert str(locked) == (
        "/d: data directory is in use by another process (its advisory lock is held); two "
        "processes on one directory lose each other's acknowledged writes (FINDINGS.md F19). "
        "Close the other one first"
    )
    assert reset_path("d/aof-0.aof") == "d/aof-0.aof.reset"


@pytest.mark.parametrize(
    ("kw", "text"),
    [
        ({"reaper": "auto"}, "reaper must be 'background' or 'manual', got 'auto'"),
        (
            {"maxmemory_policy": "lru"},
            "maxmemory_policy must be one of ('noeviction', 'allkeys-random', "
            "'volatile-ttl', 'allkeys-lru'), got 'lru'",
        ),
        ({"appendfsync": "always"}, "appendfsync must be an FsyncPolicy, got 'always'"),
    ],
)
def test_a_bad_configuration_is_a_usage_error_naming_the_value(
    kw: dict[str, object], text: str
) -> None:
    with pytest.raises(UsageError) as e:
        StoreConfig(**kw)  # type: ignore[arg-type]
    assert str(e.value) == text


def test_defaults_are_kevys() -> None:
    c = StoreConfig()
    assert (c.data_dir, c.shards, c.aof_enabled, c.appendfsync) == (
        None,
        1,
        True,
        FsyncPolicy.EVERYSEC,
    )
    assert (c.snapshot_name, c.aof_name, c.reaper) == ("dump-0.rdb", "aof-0.aof", "background")
    assert (c.reaper_interval_ms, c.reaper_samples, c.reaper_rounds) == (100, 20, 16)
    assert (c.maxmemory, c.maxmemory_policy) == (0, "noeviction")


def test_iter_shard_paths_names_each_shard_and_nothing_in_memory(tmp_path: Path) -> None:
    assert list(iter_shard_paths(StoreConfig())) == []
    d = str(tmp_path)
    assert list(iter_shard_paths(StoreConfig(data_dir=d))) == [
        (f"{d}/dump-0.rdb", f"{d}/aof-0.aof")
    ]
    assert list(iter_shard_paths(StoreConfig(data_dir=d, shards=2))) == [
        (f"{d}/dump-0.rdb", f"{d}/aof-0.aof"),
        (f"{d}/dump-1.rdb", f"{d}/aof-1.aof"),
    ]
    assert list(iter_shard_paths(StoreConfig(data_dir=d, shards=0))) == [
        (f"{d}/dump-0.rdb", f"{d}/aof-0.aof")
    ]


def test_open_needs_a_file_system_for_a_directory_and_repr_names_it(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as e:
        Store.open(cfg(tmp_path), fs=None, clock=ManualClock(NOW))
    assert str(e.value) == "a data_dir needs a FileSystem (fs=OsFileSystem() for the disk)"
    s = open_store(tmp_path, HARDENED, shards=2)
    assert repr(s) == f"<Store {str(tmp_path)!r} shards=2 hardened>"
    s.close()
    m = open_store(None, shards=0)
    assert m.n == 1 and repr(m) == "<Store None shards=1 kevy-1.17>"
    assert m.save() is False and m.rewrite_aof() is None
    with pytest.raises(UsageError) as e:
        m.begin_save(0)
    assert str(e.value) == "this store has no data directory"


def test_a_closed_store_refuses_calls_and_an_empty_command_is_a_usage_error(
    tmp_path: Path,
) -> None:
    s = open_store(tmp_path)
    with pytest.raises(UsageError) as e:
        s.execute([])
    assert str(e.value) == "empty command"
    s.close()
    s.close()  # twice is harmless
    with pytest.raises(StoreError) as c:
        s.set(b"k", b"v")
    assert str(c.value) == "the store is closed"


def test_phase_errors_name_the_step_to_call_first(tmp_path: Path) -> None:
    s = open_store(tmp_path)
    cases = [
        (lambda: s.write_save(0), "shard 0: call begin_save(0) first"),
        (lambda: s.commit_save(0), "shard 0: call write_save(0) first"),
        (lambda: s.write_rewrite(0), "shard 0: call begin_rewrite(0) first"),
        (lambda: s.finish_rewrite(0), "shard 0: call write_rewrite(0) first"),
    ]
    for call, text in cases:
        with pytest.raises(PhaseError) as e:
            call()
        assert str(e.value) == text
    s.begin_save(0)
    with pytest.raises(PhaseError) as e:
        s.begin_save(0)
    assert str(e.value) == "shard 0: a save is already in progress"
    with pytest.raises(PhaseError):
        s.commit_save(0)
    s.abort_save(0)
    s.close()
