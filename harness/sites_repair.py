"""The `repair` tool's crash search, as `harness/sites.py` counts it.

What: `RUNS` are the repairs of one torn log that tests/test_repair_crash.py
crashes before and after every numbered point of, under every model
(`test_every_point_of_every_run_keeps_the_log_or_its_clean_prefix`): the
plain repair, and one whose last rename fails so its cleanup unlinks the temp
file. `probe(run, fs)` performs one run on `fs`; `sites.coverage` drives each
through a `SiteRecorder` to credit the sites the test crashes at to the search
`SEARCH`.

Why here and not in the test: the coverage report and the test must agree on
what is crashed; sharing the definition makes the claim true by construction
(a run added here is crashed by the test at once).
"""

from __future__ import annotations

from dataclasses import dataclass

from impl.fs import ExclusiveFileSystem
from impl.repair import plan_repair, repair_aof
from impl.resp import MAGIC, encode_frame
from model.crashfs import CrashFS, Fault

__all__ = ["BACKUP", "CLEAN", "LOG", "RUNS", "SEARCH", "TORN", "RepairRun", "fresh", "probe"]

SEARCH = "repair-crash"
LOG, BACKUP = "/d/aof-0.aof", "/b/aof-0.aof.bak"
#: a log with two complete frames, then a frame cut inside its bulk data
CLEAN = MAGIC + encode_frame([b"SET", b"a", b"1"]) + encode_frame([b"INCRBY", b"n", b"5"])
TORN = CLEAN + encode_frame([b"SET", b"b", b"torn"])[:-4]


@dataclass(frozen=True)
class RepairRun:
    name: str
    faults: tuple[Fault, ...] = ()


RUNS: tuple[RepairRun, ...] = (
    RepairRun("plain"),
    # The log's rename fails: the backup is already in place and the log's temp
    # file is unlinked (repair_aof's cleanup, its only unlink).
    RepairRun("log-rename-fails", (Fault("rename", "/d/*", "eio"),)),
)


def fresh(run: RepairRun, **kw: object) -> CrashFS:
    """The torn log in /d and an empty /b, with `run`'s faults armed."""
    return CrashFS.from_files({LOG: TORN}, dirs=["/b"], faults=list(run.faults), **kw)  # type: ignore[arg-type]


def probe(fs: ExclusiveFileSystem) -> None:
    """Plan and carry out the repair of LOG on `fs`; an injected fault's OSError
    is the run's expected end and is swallowed (a crash propagates)."""
    plan = plan_repair(fs, LOG, BACKUP)
    assert plan is not None and plan.stop == len(CLEAN)
    try:
        repair_aof(fs, plan)
    except OSError:
        pass
