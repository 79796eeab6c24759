"""crashfs under its own stateful machine.

The machine runs the same file operations on `impl.fs.OsFileSystem` (a
directory under pytest's tmp_path) and on `CrashFS`, and keeps a third,
deliberately simpler record - the oracle - of what each persistence model
permits. After every step:

- the current view of CrashFS equals the real directory, and so does the one
  `process-crash` image;
- every enumerated `posix` and `ordered` image is allowed by the oracle, the
  most-kept image is the current view, and `count_images` equals the number
  enumerated.

The oracle does not replay decisions. Per file (inode) it keeps the list of
contents after each data op; the contents a crash may leave are the states
from the protected one on plus every byte prefix in between (a prefix-closed
set). Per name it keeps the bindings since the last directory fsync (posix: an
image shows one of them), and after every metadata op a snapshot of all
bindings (ordered: an image shows one snapshot from the last barrier on, and
the data written before that snapshot whole).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from impl.fs import OsFileSystem, WritableFile
from model.crashfs import CrashFS, CrashImage

NAMES = ("a", "b", "c")
D = "/d"
ENUMERATION_CAP = 1500

names = st.sampled_from(NAMES)
payloads = st.binary(min_size=1, max_size=20)
handle_numbers = st.integers(0, 7)


@dataclass
class OracleFile:
    states: list[bytes] = field(default_factory=lambda: [b""])
    """Contents after 0, 1, 2, ... data ops."""
    appends: list[bool] = field(default_factory=list)
    """Whether data op j was an append (else a truncate)."""
    synced: int = 0
    """Data ops covered by the last successful fsync/fdatasync."""

    def allows(self, content: bytes, protected: int) -> bool:
        """Whether `content` is a state at or after `protected` data ops, or a
        byte prefix of an append in between."""
        for j in range(protected, len(self.states)):
            if self.states[j] == content:
                return True
            if j < len(self.appends) and self.appends[j]:
                before, after = self.states[j], self.states[j + 1]
                if len(before) < len(content) < len(after) and after.startswith(content):
                    return True
        return False


@dataclass
class Snapshot:
    names: dict[str, int]
    done: dict[int, int]
    """Data ops done per file when this metadata op happened."""


class CrashFSMachine(RuleBasedStateMachine):
    def __init__(self, root: Path | None = None) -> None:
        super().__init__()
        # A printed failing program runs as `CrashFSMachine()`: then the
        # directory is a fresh temp one that teardown removes.
        self.own_dir = root is None
        self.real_dir = tempfile.mkdtemp(dir=root)
        self.real = OsFileSystem()
        self.sim = CrashFS()
        self.sim.makedirs(D)
        self.handles: list[tuple[WritableFile, WritableFile, int]] = []
        # The oracle.
        self.files: dict[int, OracleFile] = {}
        self.names: dict[str, int] = {}
        self.bindings: dict[str, list[int | None]] = {n: [None] for n in NAMES}
        self.snapshots: list[Snapshot] = [Snapshot({}, {})]
        self.barrier = 0

    # ---- helpers ----------------------------------------------------------

    def rp(self, name: str) -> str:
        return os.path.join(self.real_dir, name)

    def sp(self, name: str) -> str:
        return f"{D}/{name}"

    def bind(self, name: str, oid: int | None) -> None:
        if oid is None:
            self.names.pop(name, None)
        else:
            self.names[name] = oid
        self.bindings[name].append(oid)

    def metadata_done(self) -> None:
        done = {oid: len(f.states) - 1 for oid, f in self.files.items()}
        self.snapshots.append(Snapshot(dict(self.names), done))

    def barrier_done(self) -> None:
        self.barrier = len(self.snapshots) - 1

    def data_op(self, oid: int, content: bytes, append: bool) -> None:
        f = self.files[oid]
        f.states.append(content)
        f.appends.append(append)

    def handle(self, number: int) -> tuple[WritableFile, WritableFile, int]:
        return self.handles[number % len(self.handles)]

    def open_pair(self, name: str, truncate: bool) -> None:
        exists = name in self.names
        if truncate:
            real = self.real.create_truncate(self.rp(name))
            sim = self.sim.create_truncate(self.sp(name))
        else:
            real = self.real.open_append(self.rp(name))
            sim = self.sim.open_append(self.sp(name))
        if not exists:
            oid = len(self.files)
            self.files[oid] = OracleFile()
            self.bind(name, oid)
            self.metadata_done()
        elif truncate:
            oid = self.names[name]
            self.data_op(oid, b"", append=False)
            self.metadata_done()
        self.handles.append((real, sim, self.names[name]))

    # ---- rules ------------------------------------------------------------

    @rule(name=names)
    def create_truncate(self, name: str) -> None:
        self.open_pair(name, truncate=True)

    @rule(name=names)
    def open_append(self, name: str) -> None:
        self.open_pair(name, truncate=False)

    @precondition(lambda self: self.handles)
    @rule(h=handle_numbers, data=payloads)
    def write(self, h: int, data: bytes) -> None:
        real, sim, oid = self.handle(h)
        assert real.write(data) == sim.write(data) == len(data)
        self.data_op(oid, self.files[oid].states[-1] + data, append=True)

    @precondition(lambda self: self.handles)
    @rule(h=handle_numbers, data=payloads, keep=st.integers(0, 19))
    def short_write(self, h: int, data: bytes, keep: int) -> None:
        real, sim, oid = self.handle(h)
        keep = min(keep, len(data))
        self.sim.fail_next("write", sim.path, "short", nbytes=keep)
        assert sim.write(data) == keep
        if keep:
            assert real.write(data[:keep]) == keep
            self.data_op(oid, self.files[oid].states[-1] + data[:keep], append=True)

    @precondition(lambda self: self.handles)
    @rule(h=handle_numbers, data_only=st.booleans())
    def fsync(self, h: int, data_only: bool) -> None:
        real, sim, oid = self.handle(h)
        if data_only:
            real.fdatasync()
            sim.fdatasync()
        else:
            real.fsync()
            sim.fsync()
        self.files[oid].synced = len(self.files[oid].states) - 1
        self.barrier_done()

    @precondition(lambda self: self.handles)
    @rule(h=handle_numbers, length=st.integers(0, 12))
    def truncate(self, h: int, length: int) -> None:
        real, sim, oid = self.handle(h)
        real.truncate(length)
        sim.truncate(length)
        old = self.files[oid].states[-1]
        self.data_op(oid, old[:length] + bytes(max(0, length - len(old))), append=False)
        self.metadata_done()

    @precondition(lambda self: self.handles)
    @rule(h=handle_numbers)
    def close(self, h: int) -> None:
        real, sim, _ = self.handles.pop(h % len(self.handles))
        real.close()
        sim.close()

    @precondition(lambda self: self.names)
    @rule(src=names, dst=names)
    def rename(self, src: str, dst: str) -> None:
        if src not in self.names:
            return
        self.real.rename(self.rp(src), self.rp(dst))
        self.sim.rename(self.sp(src), self.sp(dst))
        oid = self.names[src]
        if src != dst:
            self.bind(src, None)
            self.bind(dst, oid)
        self.metadata_done()

    @precondition(lambda self: self.names)
    @rule(name=names)
    def unlink(self, name: str) -> None:
        if name not in self.names:
            return
        self.real.unlink(self.rp(name))
        self.sim.unlink(self.sp(name))
        self.bind(name, None)
        self.metadata_done()

    @rule()
    def fsync_dir(self) -> None:
        self.real.fsync_dir(self.real_dir)
        self.sim.fsync_dir(D)
        self.bindings = {n: [self.names.get(n)] for n in NAMES}
        self.barrier_done()

    @rule(data=st.data(), model=st.sampled_from(["posix", "ordered"]))
    def draw_an_image(self, data: Any, model: str) -> None:
        image = self.sim.draw_image(data, model)  # type: ignore[arg-type]
        self.check_image(image)

    # ---- invariants -------------------------------------------------------

    def real_files(self) -> dict[str, bytes]:
        return {n: self.real.read_bytes(self.rp(n)) for n in self.real.listdir(self.real_dir)}

    def by_name(self, files: dict[str, bytes]) -> dict[str, bytes]:
        assert all(p.startswith(f"{D}/") for p in files), files
        return {p[len(D) + 1 :]: b for p, b in files.items()}

    @invariant()
    def process_crash_image_is_the_real_directory(self) -> None:
        real = self.real_files()
        assert self.by_name(self.sim.snapshot_files()) == real
        [image] = list(self.sim.images("process-crash"))
        assert self.by_name(image.files()) == real
        assert {n: self.files[o].states[-1] for n, o in self.names.items()} == real

    @invariant()
    def every_image_is_allowed(self) -> None:
        for model in ("posix", "ordered"):
            count = self.sim.count_images(model)  # type: ignore[arg-type]
            images = list(islice(self.sim.images(model), ENUMERATION_CAP))  # type: ignore[arg-type]
            if count <= ENUMERATION_CAP:
                assert len(images) == count, (model, len(images), count)
            assert self.by_name(images[0].files()) == self.real_files()
            for image in images:
                self.check_image(image)

    def check_image(self, image: CrashImage) -> None:
        files = self.by_name(image.files())
        if image.model == "posix":
            ok, why = self.posix_allows(files)
        else:
            ok, why = self.ordered_allows(files)
        assert ok, f"{image!r} not allowed: {why}\nfiles={files}\ntrace=" + "\n".join(image.trace)

    def posix_allows(self, files: dict[str, bytes]) -> tuple[bool, str]:
        for name in NAMES:
            history = self.bindings[name]
            if name not in files:
                if None not in history:
                    return False, f"{name} missing but durably bound to {history[0]}"
                continue
            if not any(
                oid is not None and self.files[oid].allows(files[name], self.files[oid].synced)
                for oid in history
            ):
                return False, f"{name}={files[name]!r} matches none of {history}"
        return set(files) <= set(NAMES), "unknown names"

    def ordered_allows(self, files: dict[str, bytes]) -> tuple[bool, str]:
        for snap in self.snapshots[self.barrier :]:
            if set(snap.names) != set(files):
                continue
            if all(
                self.files[oid].allows(
                    files[name], max(snap.done.get(oid, 0), self.files[oid].synced)
                )
                for name, oid in snap.names.items()
            ):
                return True, ""
        return False, "no metadata prefix since the last barrier explains it"

    def teardown(self) -> None:
        for real, sim, _ in self.handles:
            real.close()
            sim.close()
        if self.own_dir:
            shutil.rmtree(self.real_dir)


def test_crashfs_machine(tmp_path: Path) -> None:
    run_state_machine_as_test(
        lambda: CrashFSMachine(tmp_path),
        settings=settings(
            max_examples=80,
            stateful_step_count=25,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
