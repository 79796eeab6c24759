"""Hypothesis state machines that crash the store mid-protocol and check the contract.

What: each machine drives an embedded `Store` on a `CrashFS` through our verbs
(`set`, `incr`, `rpush`, `tick`, `fsync_aof`, the phases of a save and of a
rewrite, `reopen`), records the client's `History`, and has a `crash` rule:
run the next verb with the power cut at its k-th persistence point (before or
after it; k past the verb's last point = a crash right after it), draw one
crash image of the chosen model with `CrashFS.draw_image` (so it shrinks
toward the fewest losses), recover on a fresh CrashFS, judge the recovery
with `model.contract`, and carry on from the recovered state (more writes,
another crash).

Why: the explorer walks fixed scenarios exhaustively; the machines find the
histories nobody wrote down. A failure prints a runnable session
(`state.set(key=b'a', value=b'1')`, `state.crash(verb='save', k=3, ...)`).

The save and rewrite machines also have a `fault` rule: run a save or a
rewrite whose n-th fallible file-system call (a persistence point or a write)
fails with EIO, ENOSPC or a short write (CrashFS's `FaultPlan`), then hold the
store to "an operation that reported failure promised nothing, one that
reported success kept its promise": the next save and the next rewrite must
succeed (after the reopen a `ShardFailed` asks for, if it asked), and a reopen
must bring back every acknowledged write exactly once. A save never waits in
these machines (no rewrite is in flight when one starts), so the injected
sleeper fails at once instead of sleeping 2000 × 5 ms (F17's symptom).

Rules: run against `hardened` (every fix on) expecting no violation; kevy
1.17's known findings live in the corpus (tests/corpus). Machines whose
protocol has a kevy-1.17 finding are checked through the corpus instead.
"""

from __future__ import annotations

from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from harness.scenarios import DATA_DIR, Run, Scenario, recover
from harness.sites import record_site, site_of_crash
from impl.profile import HARDENED
from impl.store import ShardFailed
from model.contract import assert_admissible
from model.crashfs import CrashFS, FaultPlan, NthCallFails, SimulatedCrash

#: the profile under test (tests break it on purpose by setting KEVY_1_17 here)
PROFILE = HARDENED

keys = st.sampled_from([b"a", b"b", b"l"])
values = st.sampled_from([b"1", b"2", b"x"])
models = st.sampled_from(["process-crash", "ordered", "posix"])
points = st.integers(1, 8)
whens = st.sampled_from(["before", "after"])


def _arm(fs: CrashFS, k: int, when: str) -> None:
    fs.arm(k, when)  # type: ignore[arg-type]


fault_calls = st.integers(1, 16)
fault_kinds = st.sampled_from(["eio", "enospc", "short"])


def _no_nap(seconds: float) -> None:
    raise AssertionError(f"a save waited {seconds} s for a rewrite, but none is in flight "
                         "(a failed save or rewrite left its tee running?)")


class _Run(Run):
    """`Run` whose store never sleeps: its save retry calls `_no_nap`."""

    def open(self, shards: int | None = None) -> None:
        super().open(shards)
        self._store().sleeper = _no_nap


class CrashMachine(RuleBasedStateMachine):
    """Shared verbs; subclasses choose the policy and which verbs may crash."""

    policy = "always"
    verbs: tuple[str, ...] = ("set",)
    #: verbs the `fault` rule runs with a failing file-system call (none: no such rule)
    fault_verbs: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self.scenario = Scenario("machine", "a stateful machine", self.policy,  # type: ignore[arg-type]
                                 lambda run: None)
        self.fs = CrashFS()
        self.run = _Run(self.scenario, PROFILE, self.fs)
        self.run.open()
        self.saving: int | None = None
        self.save_written = False
        self.rewriting = 0  # 0 none, 1 begun, 2 written
        self.crashes = 0

    # ---- verbs -----------------------------------------------------------

    def _do(self, verb: str, key: bytes = b"a", value: bytes = b"1") -> None:
        r = self.run
        if verb == "set":
            r.write(b"SET", key, value)
        elif verb == "incr":
            r.write(b"INCRBY", b"n", b"2")
        elif verb == "rpush":
            r.write(b"RPUSH", b"l", value)
        elif verb == "tick":
            r.tick(1000)
        elif verb == "fsync_aof":
            r.fsync_aof()
        elif verb == "save":
            r.save()
        elif verb == "rewrite":
            r.begin_rewrite()
            r.write_rewrite()
            r.finish_rewrite()
        elif verb == "reopen":
            r.reopen()
        else:  # pragma: no cover - a typo in a subclass's verbs
            raise AssertionError(f"unknown verb {verb!r}")

    @rule(key=keys, value=values)
    def set(self, key: bytes, value: bytes) -> None:
        self._do("set", key, value)

    @rule(value=values)
    def rpush(self, value: bytes) -> None:
        self._do("rpush", value=value)

    @rule()
    def incr(self) -> None:
        self._do("incr")

    @rule()
    def tick(self) -> None:
        self._do("tick")

    @rule()
    def fsync_aof(self) -> None:
        self._do("fsync_aof")

    @precondition(lambda self: self.crashes < 2 and self.saving is None and not self.rewriting)
    @rule(data=st.data(), k=points, when=whens, model=models)
    def crash(self, data: Any, k: int, when: str, model: str) -> None:
        """Run a verb (drawn from `verbs`) with the power cut at its k-th point (or
        right after it), recover from a drawn image, check, carry on."""
        verb = data.draw(st.sampled_from(self.verbs), label="verb")
        _arm(self.fs, k, when)
        try:
            self._do(verb)
        except SimulatedCrash as e:
            label = f"{self.fs.crash_info.when} {self.fs.crash_info.point.describe()}"
            record_site("machines", model, site_of_crash(e))  # crash-site coverage
        else:
            self.fs.crash()
            label = f"right after {verb}"
        image = self.fs.draw_image(data, model)  # type: ignore[arg-type]
        now = self.run.clock.now_ms()
        rec = recover(self.scenario, PROFILE, self.run.config, image.files(), image.dirs, now)
        j = assert_admissible(self.run.history, rec.doc, error=rec.error, refusal=rec.refusal,
                              now_ms=now, crash=label, model=model, decisions=image.decisions)
        assert j.prefix is not None
        self.crashes += 1
        # Carry on from the recovered disk: a fresh CrashFS holding the image.
        history = self.run.history
        history.rebase(j.prefix)
        self.fs = image.to_fs()
        clock = self.run.clock
        self.run = _Run(self.scenario, PROFILE, self.fs, clock)
        self.run.history = history
        self.run.open()

    @precondition(lambda self: bool(self.fault_verbs) and self.saving is None
                  and not self.rewriting)
    @rule(data=st.data(), n=fault_calls, kind=fault_kinds, key=keys, value=values)
    def fault(self, data: Any, n: int, kind: str, key: bytes, value: bytes) -> None:
        """Run a save or rewrite whose n-th fallible call fails, write, and check what
        the disk holds now; then a save and a rewrite must succeed (no reopen
        unless the store asked for one) and a reopen gives back what was acked."""
        verb = data.draw(st.sampled_from(self.fault_verbs), label="verb")
        plan = NthCallFails(n=n, kind=kind)
        self.fs.faults = plan
        try:
            self._do(verb)
        except OSError:
            pass  # reported failure: the verb recorded no promise (Run's rule 2)
        finally:
            self.fs.faults = FaultPlan()
        what = f"{verb} with {'; '.join(plan.fired) or 'no fault fired'}"
        # A write after the failure must land where the next open reads it (or be
        # refused): judged on a copy of the disk as it is, before a later save
        # could paper over a write that went to the wrong file.
        refused = False
        try:
            self._do("set", key, value)
        except ShardFailed:
            refused = True  # nothing applied; the in-flight op is settled below
        j = self._judge_disk(f"no crash: {what}, then SET {key!r}, then an open of the disk")
        assert j.prefix is not None
        self.run.history.rebase(j.prefix)
        if refused:
            self._do("reopen")  # the documented way out of a half-failed commit
        self._do("save")  # `_no_nap`: it must not wait on a tee the failure left behind
        self._do("rpush", value=value)
        self._do("rewrite")
        self._do("incr")
        self._do("reopen")
        store = self.run.store
        assert store is not None
        now = self.run.clock.now_ms()
        assert_admissible(self.run.history, store.snapshot(), now_ms=now,
                          crash=f"no crash: {what}, then writes, a save, a rewrite and a "
                          "reopen", model="process-crash")

    def _judge_disk(self, label: str) -> Any:
        """Open a copy of the disk as it is now (appendfsync always: nothing buffered)."""
        now = self.run.clock.now_ms()
        rec = recover(self.scenario, PROFILE, self.run.config, self.fs.snapshot_files(),
                      {DATA_DIR}, now)
        return assert_admissible(self.run.history, rec.doc, error=rec.error,
                                 refusal=rec.refusal, now_ms=now, crash=label,
                                 model="process-crash")

    def teardown(self) -> None:
        # A step that crashed the file system and then ran out of Hypothesis data
        # (before recovery swapped in a fresh one) leaves a dead machine: there
        # is nothing to close cleanly, and the crash itself is not a failure.
        if self.run.store is not None and not self.fs.crashed:
            self.run.store.close()


class AofMachine(CrashMachine):
    verbs = ("set", "rpush", "incr", "tick", "fsync_aof")


class AofEverysecMachine(AofMachine):
    policy = "everysec"


class AofNoMachine(AofMachine):
    policy = "no"


class SaveMachine(CrashMachine):
    """Snapshot save with log reset, phases interleaved with writes."""

    verbs = ("set", "save")
    fault_verbs = ("save",)

    @precondition(lambda self: self.saving is None and not self.rewriting)
    @rule()
    def begin_save(self) -> None:
        self.saving = self.run.begin_save()

    @precondition(lambda self: self.saving is not None and not self.save_written)
    @rule()
    def write_save(self) -> None:
        self.run.write_save()
        self.save_written = True

    @precondition(lambda self: self.save_written)
    @rule()
    def commit_save(self) -> None:
        assert self.saving is not None
        self.run.commit_save(self.saving)
        self.saving, self.save_written = None, False


class RewriteMachine(CrashMachine):
    """Concurrent rewrite with writes between its phases."""

    verbs = ("set", "rpush", "rewrite")
    fault_verbs = ("rewrite",)

    @precondition(lambda self: self.rewriting == 0 and self.saving is None)
    @rule()
    def begin_rewrite(self) -> None:
        self.run.begin_rewrite()
        self.rewriting = 1

    @precondition(lambda self: self.rewriting == 1)
    @rule()
    def write_rewrite(self) -> None:
        self.run.write_rewrite()
        self.rewriting = 2

    @precondition(lambda self: self.rewriting == 2)
    @rule()
    def finish_rewrite(self) -> None:
        self.run.finish_rewrite()
        self.rewriting = 0


class LifecycleMachine(SaveMachine, RewriteMachine):
    """Writes, saves, rewrites, close and reopen, crashes anywhere."""

    verbs = ("set", "rpush", "incr", "save", "rewrite", "reopen", "fsync_aof")
    fault_verbs = ("save", "rewrite")

    @precondition(lambda self: self.saving is None and not self.rewriting)
    @rule()
    def reopen(self) -> None:
        self._do("reopen")


CI = settings(stateful_step_count=20)

TestAofAlways = AofMachine.TestCase
TestAofAlways.settings = CI
TestAofEverysec = AofEverysecMachine.TestCase
TestAofEverysec.settings = CI
TestAofNo = AofNoMachine.TestCase
TestAofNo.settings = CI
TestSave = SaveMachine.TestCase
TestSave.settings = CI
TestRewrite = RewriteMachine.TestCase
TestRewrite.settings = CI
TestLifecycle = LifecycleMachine.TestCase
TestLifecycle.settings = CI

__all__ = ["DATA_DIR"]
