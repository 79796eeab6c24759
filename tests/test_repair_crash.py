"""`repair` at every crash point and under every injected fault (model/crashfs/).

Oracle (issue 12): whatever the machine shows after it reboots, the log's
final name holds either the original bytes or exactly the clean prefix, and
the backup's final name holds nothing or every original byte: never a
partial file under a final name. A fault (ENOSPC, EIO, a short write) makes
repair fail with the file named, the log untouched and no temp file left.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import sites_repair
from impl.repair import TEMP_SUFFIX, plan_repair, repair_aof
from model.crashfs import MODELS, CrashFS, Fault, SimulatedCrash

GOLDEN = Path(__file__).parent / "golden"
TORN = (GOLDEN / "aof/aof_trunc_mid_bulk_data.aof").read_bytes()
CLEAN = TORN[:2327]
LOG, BACKUP = "/d/aof-0.aof", "/b/aof-0.aof.bak"


def _fresh(**kw: object) -> CrashFS:
    return CrashFS.from_files({LOG: TORN}, dirs=["/b"], **kw)  # type: ignore[arg-type]


def _run(fs: CrashFS) -> None:
    plan = plan_repair(fs, LOG, BACKUP)
    assert plan is not None and plan.stop == len(CLEAN)
    repair_aof(fs, plan)


def _points() -> int:
    fs = _fresh()
    _run(fs)
    assert fs.snapshot_files() == {LOG: CLEAN, BACKUP: TORN}
    return len(fs.points())


def test_protocol_points_are_the_documented_ones() -> None:
    fs = _fresh()
    _run(fs)
    ops = [(p.op, p.path.rsplit("/", 1)[-1]) for p in fs.points()]
    assert ops == [
        ("create", "aof-0.aof.bak" + TEMP_SUFFIX),
        ("fsync", "aof-0.aof.bak" + TEMP_SUFFIX),
        ("create", "aof-0.aof" + TEMP_SUFFIX),
        ("fsync", "aof-0.aof" + TEMP_SUFFIX),
        ("rename", "aof-0.aof.bak" + TEMP_SUFFIX),
        ("fsync_dir", "b"),
        ("rename", "aof-0.aof" + TEMP_SUFFIX),
        ("fsync_dir", "d"),
    ]


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("k", range(1, 9))
def test_no_partial_file_under_a_final_name_at_any_crash_point(k: int, when: str) -> None:
    assert _points() == 8
    fs = _fresh(crash_at=k, when=when)
    with pytest.raises(SimulatedCrash):
        _run(fs)
    images = 0
    for model in MODELS:
        for image in fs.images(model):
            images += 1
            files = image.files()
            where = f"{model} image {image.index}: {image.trace}"
            assert files[LOG] in (TORN, CLEAN), where
            assert files.get(BACKUP, TORN) == TORN, where
            # The log is cut only once its backup is durable.
            if files[LOG] == CLEAN and model != "process-crash":
                assert files.get(BACKUP) == TORN, where
            assert set(files) <= {LOG, BACKUP, LOG + TEMP_SUFFIX, BACKUP + TEMP_SUFFIX}
    assert images > 0


FAULTS = [
    Fault(op, glob, "eio" if op in ("fsync", "rename", "fsync_dir") else "enospc")
    for op in ("create", "write", "fsync", "rename")
    for glob in ("/b/*", "/d/*")
] + [Fault("fsync_dir", "/b"), Fault("fsync_dir", "/d")]


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f"{f.op}-{f.path}-{f.kind}")
def test_a_fault_at_any_step_names_the_file_and_leaves_no_temp(fault: Fault) -> None:
    fs = _fresh(faults=[fault])
    with pytest.raises(OSError) as info:
        _run(fs)
    assert fs.faults.fired, "the fault never fired: the step list changed"
    assert info.value.filename, info.value
    files = fs.snapshot_files()
    assert not any(p.endswith(TEMP_SUFFIX) for p in files), files
    assert files.get(BACKUP, TORN) == TORN
    # Only a failed sync of the log's directory, the very last step, comes
    # after the swap; every earlier failure leaves the log as it was.
    assert files[LOG] == (CLEAN if fault == Fault("fsync_dir", "/d") else TORN)


def test_short_writes_are_completed() -> None:
    fs = _fresh(faults=[Fault("write", "*" + TEMP_SUFFIX, "short", nbytes=7, times=3)])
    _run(fs)
    assert fs.snapshot_files() == {LOG: CLEAN, BACKUP: TORN}


def _run_points(run: sites_repair.RepairRun) -> list[int]:
    fs = sites_repair.fresh(run)
    sites_repair.probe(fs)
    assert not run.faults or fs.faults.fired, f"{run.name}: its fault never fired"
    return [p.index for p in fs.points()]


@pytest.mark.parametrize("run", sites_repair.RUNS, ids=lambda r: r.name)
def test_every_point_of_every_run_keeps_the_log_or_its_clean_prefix(
    run: sites_repair.RepairRun,
) -> None:
    """The search `kevy-verify sites` credits as "repair-crash" (harness/sites_repair.py):
    each run of RUNS crashed before and after every point, every image judged by
    the module's oracle."""
    torn, clean = sites_repair.TORN, sites_repair.CLEAN
    log, backup = sites_repair.LOG, sites_repair.BACKUP
    points = _run_points(run)
    assert points
    for k in points:
        for when in ("before", "after"):
            fs = sites_repair.fresh(run, crash_at=k, when=when)
            with pytest.raises(SimulatedCrash):
                sites_repair.probe(fs)
            for model in MODELS:
                for image in fs.images(model):
                    files = image.files()
                    where = f"{run.name} {when} point {k}, {model} image {image.index}"
                    assert files[log] in (torn, clean), where
                    assert files.get(backup, torn) == torn, where
                    if files[log] == clean and model != "process-crash":
                        assert files.get(backup) == torn, where
