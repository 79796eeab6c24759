"""F53: a rewrite whose reopen of the renamed log fails keeps appending to the old file.

A rewrite renames `<log>.rewrite` over the log, then opens the log again for append
(docs/SPEC.md §2.6 steps 4-6). If that open fails (EIO, ENOSPC, EMFILE), kevy 1.17
returns the error and keeps its writer - whose file the rename replaced. Every
later frame, acknowledged and even fdatasynced under `always`, goes to an unlinked
inode that no open replays: a clean close and reopen lose them, no crash needed.
`rewrite_reopen_fails_log` fails the log instead: writes are refused until the
store is reopened, which opens the new file. CrashFS could not fail an open
before this session (fault op `open`), so no machine could draw it.
"""

from __future__ import annotations

import errno
import random

import pytest

from harness.lifecycle import Program, execute
from harness.lifecycle_gen import fill_choices
from impl.aof import FsyncPolicy
from impl.clock import ManualClock
from impl.profile import HARDENED, KEVY_1_17, Profile
from impl.store import ShardFailed, Store, StoreConfig
from model.crashfs import CrashFS, NthCallFails

WITHOUT = HARDENED.with_switches("rewrite_reopen_fails_log", on=False)
CONFIG = StoreConfig(data_dir="/data", shards=1, appendfsync=FsyncPolicy.ALWAYS,
                     reaper="manual")


def _keys(store: Store) -> set[str]:
    return {k["key"] for k in store.snapshot()["keys"]}


def _after_a_failed_reopen(profile: Profile) -> tuple[CrashFS, ManualClock, Store]:
    """A store that wrote `a`, then ran a rewrite whose reopen of the log failed."""
    fs, clock = CrashFS(), ManualClock(1_700_000_000_000)
    store = Store.open(CONFIG, fs=fs, clock=clock, profile=profile)
    store.execute([b"SET", b"a", b"1"])
    # The rewrite's second open: the first is its `.rewrite` file, the second the
    # reopen of the log it has just renamed into place.
    fs.faults = NthCallFails(n=2, kind="eio", op="open")
    with pytest.raises(OSError):
        store.rewrite_aof()
    assert fs.faults.fired == ["open aof-0.aof: EIO"]
    return fs, clock, store


@pytest.mark.parametrize("profile", [KEVY_1_17, WITHOUT], ids=lambda p: p.name)
def test_an_acknowledged_write_after_the_failed_reopen_is_lost(profile: Profile) -> None:
    fs, clock, store = _after_a_failed_reopen(profile)
    assert store.execute([b"SET", b"b", b"2"]) == "OK"  # fdatasynced, acknowledged
    store.close()
    again = Store.open(CONFIG, fs=fs, clock=clock, profile=profile)
    assert _keys(again) == {"a"}  # `b` went to the replaced file
    again.close()


def test_the_fix_refuses_writes_until_a_reopen_opens_the_new_log() -> None:
    fs, clock, store = _after_a_failed_reopen(HARDENED)
    with pytest.raises(ShardFailed):
        store.execute([b"SET", b"b", b"2"])
    store.close()
    again = Store.open(CONFIG, fs=fs, clock=clock, profile=HARDENED)
    assert again.execute([b"SET", b"b", b"2"]) == "OK"
    again.close()
    last = Store.open(CONFIG, fs=fs, clock=clock, profile=HARDENED)
    assert _keys(last) == {"a", "b"}
    last.close()


def test_the_lifecycle_machine_judges_it_a_lost_write() -> None:
    program = Program("always", 1, [
        ["w", "SET", "a", "1"],
        ["fault", ["rewrite"], "open:2", "eio"],
        ["w", "SET", "b", "2"],
        ["reopen", 1],
    ])
    failure = execute(fill_choices(program, WITHOUT, random.Random(0)), WITHOUT)
    assert failure is not None and failure.rule == "lost_durable"
    assert execute(program, HARDENED) is None


def test_an_open_fault_is_counted_only_by_a_plan_that_names_open() -> None:
    # Plans counting every call were recorded before opens could fail: their n-th
    # call must stay the call it was.
    fs = CrashFS.from_files({"/d/log": b"x"})
    fs.faults = NthCallFails(n=1, kind="eio")
    f = fs.open_append("/d/log")  # not counted: the sync is the first fallible call
    with pytest.raises(OSError):
        f.fsync()
    fs.faults = NthCallFails(n=1, kind="enospc", op="open")
    with pytest.raises(OSError) as e:
        fs.open_append("/d/log")
    assert e.value.errno == errno.ENOSPC and fs.faults.fired == ["open log: ENOSPC"]
