"""Real process crashes (issue 3 part 6): SIGKILL a writer, reopen, check every ack.

What: a child process (`tests/crash_writer.py`) writes through `Store` with
appendfsync=always on the real file system and prints an acknowledgement
after each call returns. The parent reads N acknowledgements (N drawn from a
seeded RNG), SIGKILLs the child, drains the acknowledgements already in the
pipe, reopens the directory in-process and checks the contract:

* every acknowledged write is there **exactly once** (RPUSH of a unique token,
  INCRBY 1 on one counter, SET of a unique key reveal loss and duplication);
* the one write in flight at the kill may or may not be there (at most once);
* nothing that was never written is there.

The next child continues in the same directory, so later kills land on logs
that were rewritten and snapshots that were saved by earlier runs. Saves and
log rewrites are mixed into the writes.

Why a real process: SIGKILL is the honest `process-crash` model (user-space
buffers lost, completed system calls kept) with real fsync and rename.

Rules: no wall-clock assertion anywhere (the kill moment is "after N acks");
every run is reproducible in its operations from (seed, run); KILLS per
profile is 20 in CI and 200 with KEVY_VERIFY_PROFILE=nightly.

Result for kevy 1.17 (finding F5): a kill between the snapshot rename and
the log-reset rename of a save leaves the new snapshot beside the old,
complete log; the next open replays the log on top of the snapshot and every
write since the previous save is applied twice. The random-kill run for
`kevy-1.17` therefore checks only "no loss, nothing unwritten" and counts
duplications; the window is pinned deterministically in
`test_kill_between_snapshot_rename_and_log_reset` (strict xfail for
kevy-1.17, passes for hardened, whose switch `save_commit_roll_forward` fixes it).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from impl.clock import ManualClock
from impl.fs import OsFileSystem
from impl.profile import get_profile
from impl.store import Store
from tests.crash_writer import Op, config, operations

REPO = Path(__file__).resolve().parent.parent
NIGHTLY = os.environ.get("KEVY_VERIFY_PROFILE") == "nightly"
KILLS = 200 if NIGHTLY else 20
MAX_ACKS = 40
CHILD_TIMEOUT_S = 60

pytestmark = pytest.mark.timeout(600 if NIGHTLY else 120)


@dataclass
class State:
    """What the directory holds: the list's tokens, the counter, the unique SET keys."""

    tokens: list[str] = field(default_factory=list)
    counter: int = 0
    keys: set[str] = field(default_factory=set)

    def after(self, ops: list[Op]) -> State:
        out = State(list(self.tokens), self.counter, set(self.keys))
        for op in ops:
            if op.kind == "rpush":
                out.tokens.append(op.token)
            elif op.kind == "incr":
                out.counter += 1
            elif op.kind == "set":
                out.keys.add(op.token)
        return out


@dataclass
class ChildRun:
    acked: int
    returncode: int
    stderr: str


def run_child(directory: Path, profile: str, seed: int, run: int, *, kill_after_acks: int | None,
              extra: list[str] | None = None) -> ChildRun:
    """Start a writer; SIGKILL it after `kill_after_acks` acks (None: let it run/kill itself)."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    env = dict(os.environ, PYTHONPATH=path)
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.crash_writer", str(directory), profile, str(seed),
             str(run), *(extra or [])],
            stdout=subprocess.PIPE, stderr=err, cwd=REPO, env=env, text=True,
        )
        assert proc.stdout is not None
        acked = 0
        for line in proc.stdout:
            assert int(line) == acked, f"ack {line!r} out of order (expected {acked})"
            acked += 1
            if kill_after_acks is not None and acked >= kill_after_acks:
                proc.send_signal(signal.SIGKILL)
                break
        for line in proc.stdout:  # acks the child printed before the kill landed
            assert int(line) == acked
            acked += 1
        returncode = proc.wait(timeout=CHILD_TIMEOUT_S)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    return ChildRun(acked, returncode, stderr)


def recovered(directory: Path, profile: str) -> tuple[State, set[str]]:
    """Open the directory as the next run would; return its State and any stray keys."""
    store = Store.open(config(str(directory)), fs=OsFileSystem(), clock=ManualClock(),
                       profile=get_profile(profile))
    try:
        doc = store.snapshot()
    finally:
        store.close()
    state, stray = State(), set()
    for entry in doc["keys"]:
        key, value = entry["key"], entry["value"]
        if key == "log" and entry["type"] == "list":
            state.tokens = list(value)
        elif key == "ctr" and entry["type"] == "string":
            state.counter = int(value)
        elif key.startswith("k") and entry["type"] == "string" and value == "v":
            state.keys.add(key[1:])
        else:
            stray.add(key)
    return state, stray


def describe(state: State) -> str:
    return f"list={state.tokens[-6:]} (len {len(state.tokens)}), ctr={state.counter}, " \
           f"keys={len(state.keys)}"


def check_exactly_once(before: State, ops: list[Op], acked: int, actual: State,
                       stray: set[str]) -> str | None:
    """None if `actual` = before + acked ops (+ maybe the in-flight one); else why not."""
    allowed = [before.after(ops[:acked])]
    if acked < len(ops):
        allowed.append(before.after(ops[: acked + 1]))
    if stray:
        return f"keys nobody wrote: {sorted(stray)[:5]}"
    if actual in allowed:
        return None
    return (f"after {acked} acked ops expected {describe(allowed[0])}"
            f"{' or with the in-flight op' if len(allowed) > 1 else ''}; "
            f"recovered {describe(actual)}")


def check_no_loss(before: State, ops: list[Op], acked: int, actual: State,
                  stray: set[str]) -> tuple[str | None, bool]:
    """The weaker contract: nothing acked lost, nothing unwritten. Also: was anything doubled?"""
    acked_state = before.after(ops[:acked])
    maybe = before.after(ops[: acked + 1])
    issued = Counter(maybe.tokens)
    got = Counter(actual.tokens)
    if stray:
        return f"keys nobody wrote: {sorted(stray)[:5]}", False
    lost = [t for t in acked_state.tokens if got[t] == 0]
    lost_keys = sorted(acked_state.keys - actual.keys)
    if lost or lost_keys or actual.counter < acked_state.counter:
        return (f"acknowledged writes lost: tokens {lost[:5]}, keys {lost_keys[:5]}, "
                f"ctr {actual.counter} < {acked_state.counter}"), False
    unwritten = [t for t in got if t not in issued] + sorted(actual.keys - maybe.keys)
    if unwritten:
        return f"never written: {unwritten[:5]}", False
    doubled = any(got[t] > 1 for t in got) or actual.counter > maybe.counter
    return None, doubled


@pytest.mark.parametrize("profile", ["hardened", "kevy-1.17"])
def test_random_sigkills_keep_every_acknowledged_write(tmp_path, profile):
    rng = random.Random(f"process-crash:{profile}")
    seed = rng.randrange(1 << 32)
    state = State()
    duplications: list[int] = []
    for run in range(KILLS):
        stop = rng.randint(1, MAX_ACKS)
        child = run_child(tmp_path, profile, seed, run, kill_after_acks=stop)
        assert child.returncode == -signal.SIGKILL, (
            f"run {run}: the writer exited with {child.returncode} before the kill:\n"
            f"{child.stderr}")
        ops = list(operations(seed, run))
        actual, stray = recovered(tmp_path, profile)
        where = f"{profile} seed={seed} run={run} kill after {stop} acks ({child.acked} acked)"
        if profile == "hardened":
            problem = check_exactly_once(state, ops, child.acked, actual, stray)
            assert problem is None, f"{where}: {problem}"
        else:
            problem, doubled = check_no_loss(state, ops, child.acked, actual, stray)
            assert problem is None, f"{where}: {problem}"
            if doubled:
                duplications.append(run)
                # F5 doubles every pre-save write; continuing from that state
                # would double the doubled list at the next hit, and 200 kills
                # grew it past memory. Start the next child on an empty directory.
                shutil.rmtree(tmp_path)
                tmp_path.mkdir()
                state = State()
                continue
        state = actual  # the next child continues from what is on disk
    if duplications:
        # Finding F5 (see the module docstring); the deterministic
        # reproduction is the strict xfail below.
        print(f"\n{profile}: {len(duplications)}/{KILLS} kills doubled writes "
              f"(runs {duplications[:10]}, seed {seed})")


#: A seed whose first save comes after some RPUSH/INCRBY writes.
PINNED_SEED = 7


@pytest.mark.parametrize(
    "profile",
    [
        "hardened",
        pytest.param("kevy-1.17", marks=pytest.mark.xfail(
            strict=True,
            reason="finding F5: a crash between rename(dump-0.rdb.tmp -> dump-0.rdb) and "
                   "the log-reset rename makes the next open replay the old, complete log on "
                   "top of the new snapshot, applying every write since the previous save "
                   "twice")),
    ],
)
def test_kill_between_snapshot_rename_and_log_reset(tmp_path, profile):
    """Deterministic SIGKILL inside the save commit (seed pinned, kill point named).

    History (seed 7, run 0): the writer does RPUSH/INCRBY/SET writes, each
    acknowledged; then `save()` freezes, writes dump-0.rdb.tmp, renames it onto
    dump-0.rdb — and the process is SIGKILLed right there, before
    write_aof_base(aof-0.aof.rewrite) and the rename onto aof-0.aof.
    Consequence under kevy 1.17: the reopened store holds every pre-save
    RPUSH token twice and the counter doubled — acknowledged writes are
    duplicated, never lost.
    """
    ops = list(operations(PINNED_SEED, 0))
    first_save = next(i for i, op in enumerate(ops) if op.kind == "save")
    assert any(op.kind in ("rpush", "incr") for op in ops[:first_save]), "re-pin the seed"
    child = run_child(tmp_path, profile, PINNED_SEED, 0, kill_after_acks=None,
                      extra=["--kill-after-rename", "dump-0.rdb"])
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert child.acked == first_save  # killed inside the first save
    actual, stray = recovered(tmp_path, profile)
    problem = check_exactly_once(State(), ops, child.acked, actual, stray)
    assert problem is None, f"{profile} seed={PINNED_SEED}: {problem}"
