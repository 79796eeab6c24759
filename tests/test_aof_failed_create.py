"""F49: a new log whose MAGIC fails to sync is reused by the next open.

kevy 1.17's `Aof::open` (docs/SPEC.md §2.2) writes MAGIC into a new log and
fdatasyncs it; if that sync fails the open fails, and the file stays behind with a
MAGIC that reads back fine but that the failed sync may have dropped (CrashFS rule 6:
a failed fsync loses the file's unsynced pages, as Linux after fsyncgate). The next
open finds a non-empty log and appends to it; a power cut then leaves zeros where
the MAGIC was, and replay loses the first frame after them - an acknowledged,
synced write. Found by `kevy-verify hunt` once it could fail a call inside a reopen.
"""

from __future__ import annotations

import errno
import random

import pytest

from harness.lifecycle import Program, execute
from harness.lifecycle_gen import fill_choices
from impl.aof import Aof, FsyncPolicy
from impl.clock import ManualClock
from impl.profile import HARDENED, KEVY_1_17, Profile
from model.crashfs import CrashFS, Fault, FaultPlan

LOG = "/data/aof-0.aof"


def _history() -> Program:
    # Two shards, reopened as one: the open creates aof-0.aof anew, and its MAGIC's
    # fdatasync (the reopen's first) fails. The operator starts the store again.
    return fill_choices(Program("always", 2, [
        ["w", "SET", "a", "1"],
        ["fault", ["reopen", 1], "fdatasync:1", "eio"],
        ["w", "SET", "b", "2"],
        ["crash", ["w", "SET", "c", "3"], 1, "before", "ordered", None],
    ]), KEVY_1_17, random.Random(1))


def test_kevy_loses_the_first_synced_write_after_a_failed_log_creation() -> None:
    failure = execute(_history(), KEVY_1_17)
    assert failure is not None and failure.rule == "no_prefix"
    assert "missing key 'b'" in failure.message


@pytest.mark.parametrize("profile", [KEVY_1_17.with_switches("aof_failed_create_unlinks"),
                                     HARDENED], ids=lambda p: p.name)
def test_removing_the_log_whose_magic_failed_to_sync_keeps_it(profile: Profile) -> None:
    assert execute(_history(), profile, lenient=True) is None


@pytest.mark.parametrize("profile", [KEVY_1_17, HARDENED], ids=lambda p: p.name)
def test_the_failed_open_leaves_the_log_only_without_the_fix(profile: Profile) -> None:
    fs = CrashFS()
    fs.makedirs("/data")
    fs.faults = FaultPlan([Fault("fdatasync", LOG)])
    with pytest.raises(OSError):
        Aof.open(fs, LOG, FsyncPolicy.ALWAYS, clock=ManualClock(0), profile=profile)
    fs.faults = FaultPlan()
    assert fs.exists(LOG) is (profile is KEVY_1_17)
    # Either way the next open works and appends after a MAGIC it wrote or found.
    aof = Aof.open(fs, LOG, FsyncPolicy.ALWAYS, clock=ManualClock(0), profile=profile)
    aof.append([b"SET", b"k", b"v"])
    aof.close()
    assert fs.read_bytes(LOG).startswith(b"KEVYAOF1\n")


def test_an_open_phase_point_counts_past_the_close() -> None:
    # Under hardened the close syncs every log first (F22's fix), so the reopen's
    # first fdatasync is the close's; "open/fdatasync:1" is the new log's MAGIC.
    without = HARDENED.with_switches("aof_failed_create_unlinks", on=False)

    def program(at: str) -> Program:
        return fill_choices(Program("always", 2, [
            ["w", "SET", "a", "1"],
            ["fault", ["reopen", 1], at, "eio"],
            ["w", "SET", "b", "2"],
            ["crash", ["w", "SET", "c", "3"], 1, "before", "ordered", None],
        ]), without, random.Random(1))

    failure = execute(program("open/fdatasync:1"), without)
    assert failure is not None and "missing key 'b'" in failure.message
    assert execute(program("fdatasync:1"), without) is None  # the close's sync failed
    assert execute(program("open/fdatasync:1"), HARDENED, lenient=True) is None


def test_a_failed_unlink_of_the_failed_log_does_not_hide_the_sync_s_error() -> None:
    # mutmut: the unlink is best effort; its own error must not replace the one the
    # caller needs (the sync's EIO), and the file it could not remove stays.
    fs = CrashFS()
    fs.makedirs("/data")
    fs.faults = FaultPlan([Fault("fdatasync", LOG, "eio"), Fault("unlink", LOG, "enospc")])
    with pytest.raises(OSError) as e:
        Aof.open(fs, LOG, FsyncPolicy.ALWAYS, clock=ManualClock(0), profile=HARDENED)
    assert e.value.errno == errno.EIO
    assert fs.exists(LOG)
