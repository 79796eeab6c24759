"""Hand-worked cases for model/crashfs/: each expected image set and count
below was worked out on paper from the rules in the module docstring."""

from __future__ import annotations

import errno
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from impl.fs import FileSystem, write_all
from model.crashfs import (
    MODELS,
    CrashFS,
    Fault,
    FaultPlan,
    NthCallFails,
    SimulatedCrash,
    tear_cuts,
)

D = "/d"


def contents(fs: CrashFS, model: str) -> list[dict[str, bytes]]:
    """Every image's files, in enumeration order, after checking the count."""
    images = list(fs.images(model))  # type: ignore[arg-type]
    assert fs.count_images(model) == len(images)  # type: ignore[arg-type]
    assert [im.index for im in images] == list(range(len(images)))
    return [im.files() for im in images]


def as_set(images: list[dict[str, bytes]]) -> set[frozenset[tuple[str, bytes]]]:
    return {frozenset(files.items()) for files in images}


def files(**named: bytes) -> frozenset[tuple[str, bytes]]:
    return frozenset((f"{D}/{n.replace('_', '.')}", b) for n, b in named.items())


def new_fs(**named: bytes) -> CrashFS:
    fs = CrashFS.from_files({f"{D}/{n}": b for n, b in named.items()}, dirs=[D])
    return fs


class ScriptedDraw:
    """A stand-in for Hypothesis's `draw` that returns scripted values, or the
    simplest value of each strategy (False, the lower bound) once the script
    runs out."""

    def __init__(self, *values: Any) -> None:
        self.values = list(values)
        self.asked: list[str] = []

    def __call__(self, strategy: Any) -> Any:
        self.asked.append(repr(strategy))
        if self.values:
            return self.values.pop(0)
        text = repr(strategy)
        if text.startswith("booleans"):
            return False
        assert text.startswith("integers(min_value="), text
        return int(text.split("min_value=")[1].split(",")[0])


# ---------------------------------------------------------------------------
# The protocol and the current view.


def test_implements_the_filesystem_protocol() -> None:
    fs = CrashFS()
    assert isinstance(fs, FileSystem)
    fs.makedirs(D)
    f = fs.create_truncate(f"{D}/x")
    assert f.write(b"abc") == 3
    assert f.size() == 3
    assert fs.read_bytes(f"{D}/x") == b"abc"
    assert fs.file_size(f"{D}/x") == 3
    assert fs.listdir(D) == ["x"]
    assert fs.listdir("/") == ["d"]
    assert fs.exists(D) and fs.is_dir(D) and not fs.is_dir(f"{D}/x")
    with pytest.raises(FileNotFoundError):
        fs.read_bytes(f"{D}/nope")
    with pytest.raises(FileNotFoundError):
        fs.open_append(f"{D}/nope", create=False)
    with pytest.raises(FileNotFoundError):
        fs.create_truncate("/missing-dir/x")
    with pytest.raises(FileNotFoundError):
        fs.unlink(f"{D}/nope")
    with pytest.raises(IsADirectoryError):
        fs.read_bytes(D)
    assert fs.points() == [p for p in fs.points()]  # a copy, not the live list


def test_points_are_numbered_and_described() -> None:
    fs = new_fs()
    f = fs.create_truncate(f"{D}/aof-0.aof.rewrite")
    write_all(f, b"x")
    f.fsync()
    fs.rename(f"{D}/aof-0.aof.rewrite", f"{D}/aof-0.aof")
    f.fdatasync()
    f.truncate(0)
    fs.fsync_dir(D)
    fs.unlink(f"{D}/aof-0.aof")
    text = [p.describe() for p in fs.points()]
    assert text == [
        "point 1: create aof-0.aof.rewrite",
        "point 2: fsync aof-0.aof.rewrite",
        "point 3: rename aof-0.aof.rewrite → aof-0.aof",
        "point 4: fdatasync aof-0.aof.rewrite",
        "point 5: truncate aof-0.aof.rewrite",
        "point 6: fsync_dir /d",
        "point 7: unlink aof-0.aof",
    ]
    assert [p.index for p in fs.points()] == list(range(1, 8))
    assert fs.points()[2].paths == (f"{D}/aof-0.aof.rewrite", f"{D}/aof-0.aof")
    # Writes are in the log but are not points.
    assert fs.history()[1] == "write aof-0.aof.rewrite +1 B"


def test_handles_follow_their_inode_across_rename_and_unlink() -> None:
    fs = new_fs()
    f = fs.create_truncate(f"{D}/tmp")
    fs.rename(f"{D}/tmp", f"{D}/a")
    f.write(b"via old handle")
    assert fs.read_bytes(f"{D}/a") == b"via old handle"
    g = fs.open_append(f"{D}/a")
    fs.unlink(f"{D}/a")
    assert g.write(b"into the void") == 13
    assert fs.snapshot_files() == {}
    assert contents(fs, "process-crash") == [{}]
    # The unlink itself may be lost; then "a" shows its inode's bytes.
    assert {f"{D}/a": b"via old handleinto the void"} in contents(fs, "posix")
    fs.fsync_dir(D)
    assert contents(fs, "posix") == contents(fs, "ordered") == [{}]


# ---------------------------------------------------------------------------
# The hand-worked crash cases the issue asks for.


def test_fsynced_new_file_without_dir_fsync_may_vanish_under_posix_only() -> None:
    fs = new_fs()
    f = fs.create_truncate(f"{D}/snap")
    write_all(f, b"data")
    f.fsync()
    # posix: the create is pending (2 fates), the data is synced (1 choice).
    assert as_set(contents(fs, "posix")) == {files(snap=b"data"), files()}
    # ordered: the fsync is a barrier that commits the create: 1 image.
    assert contents(fs, "ordered") == [{f"{D}/snap": b"data"}]
    assert contents(fs, "process-crash") == [{f"{D}/snap": b"data"}]
    # Once the directory is fsynced, posix promises the name too.
    fs.fsync_dir(D)
    assert contents(fs, "posix") == [{f"{D}/snap": b"data"}]


def test_rename_over_existing_file_without_dir_fsync_leaves_either_name_under_posix() -> None:
    fs = new_fs(dump=b"old")
    f = fs.create_truncate(f"{D}/dump.tmp")
    write_all(f, b"new")
    f.fsync()
    fs.rename(f"{D}/dump.tmp", f"{D}/dump")
    # posix: create kept & rename kept | create kept & rename lost | create lost
    # (rename moot). Never both names pointing at "new", never "dump" missing.
    posix = contents(fs, "posix")
    assert posix == [
        {f"{D}/dump": b"new"},
        {f"{D}/dump": b"old", f"{D}/dump.tmp": b"new"},
        {f"{D}/dump": b"old"},
    ]
    # ordered: the rename is the only metadata op after the barrier: cut 1 or 0.
    assert contents(fs, "ordered") == posix[:2]
    assert contents(fs, "process-crash") == posix[:1]


def test_unsynced_append_is_all_none_or_a_prefix() -> None:
    fs = new_fs(log=b"base")
    f = fs.open_append(f"{D}/log")
    write_all(f, b"abcdef")
    expected = {files(log=b"base" + b"abcdef"[:k]) for k in range(7)}
    for model in ("posix", "ordered"):
        images = contents(fs, model)
        assert len(images) == 7  # kept, torn at 5..1, dropped
        assert as_set(images) == expected
        assert images[0] == {f"{D}/log": b"baseabcdef"}  # most kept first
    assert contents(fs, "process-crash") == [{f"{D}/log": b"baseabcdef"}]
    f.fdatasync()
    for model in MODELS:
        assert contents(fs, model) == [{f"{D}/log": b"baseabcdef"}]


def test_long_append_enumerates_representative_cuts_and_draw_reaches_any_byte() -> None:
    assert tear_cuts(0) == [] and tear_cuts(1) == [] and tear_cuts(3) == [1, 2]
    assert tear_cuts(16) == list(range(1, 16))
    assert tear_cuts(100) == [1, 50, 99]
    fs = new_fs(log=b"")
    f = fs.open_append(f"{D}/log")
    write_all(f, bytes(range(100)))
    lengths = [len(i[f"{D}/log"]) for i in contents(fs, "posix")]
    assert lengths == [100, 99, 50, 1, 0]
    # posix draw for one file with one pending append: integers(0, 1) events
    # dropped, then booleans() torn?, then integers(1, 99) where.
    image = fs.draw_image(ScriptedDraw(1, True, 37), "posix")
    assert image.files() == {f"{D}/log": bytes(range(37))}
    assert image.index is None
    assert image.trace == [
        "log: 0 of 1 unprotected data op(s) kept, append #1 (100 B) torn at byte 37"
    ]


def test_ordered_metadata_persists_as_a_prefix_and_posix_independently() -> None:
    fs = new_fs()
    for name in "abc":
        fs.create_truncate(f"{D}/{name}")
    ordered = contents(fs, "ordered")
    assert ordered == [
        {f"{D}/a": b"", f"{D}/b": b"", f"{D}/c": b""},
        {f"{D}/a": b"", f"{D}/b": b""},
        {f"{D}/a": b""},
        {},
    ]
    posix = contents(fs, "posix")
    assert len(posix) == 8
    assert {f"{D}/b": b""} in posix  # b without a: only posix allows it


def test_ordered_data_before_a_persisted_metadata_op_persists_whole() -> None:
    fs = new_fs(f=b"")
    write_all(fs.open_append(f"{D}/f"), b"xy")
    fs.create_truncate(f"{D}/g")
    # cut 1: g exists, so "xy" (written before it) is whole: 1 image.
    # cut 0: g lost, "xy" unprotected: kept, torn at 1, dropped: 3 images.
    assert contents(fs, "ordered") == [
        {f"{D}/f": b"xy", f"{D}/g": b""},
        {f"{D}/f": b"xy"},
        {f"{D}/f": b"x"},
        {f"{D}/f": b""},
    ]
    # posix: g's create (2) x f's append (3), independent.
    assert len(contents(fs, "posix")) == 6


def test_unsynced_truncate_may_or_may_not_have_happened() -> None:
    fs = new_fs(f=b"abc")
    write_all(fs.create_truncate(f"{D}/f"), b"xy")
    # Data ops of f: [truncate to 0, append "xy"]; what survives is a prefix.
    # Never b"xyc" (the append landing without its truncate).
    expected = [{f"{D}/f": v} for v in (b"xy", b"x", b"", b"abc")]
    assert contents(fs, "posix") == expected
    # ordered: truncate persisted -> "xy" | "x" | "" ; not persisted -> "abc".
    assert contents(fs, "ordered") == expected


def test_counts_multiply_over_independent_files() -> None:
    fs = new_fs()
    for name in ("a", "b"):
        write_all(fs.create_truncate(f"{D}/{name}"), b"12")
    # posix, per file: create lost (1) + create kept x {kept, torn@1, dropped} (3) = 4.
    assert fs.count_images("posix") == 16
    assert len(contents(fs, "posix")) == 16
    # ordered: cut 2: b's create persisted, so a's "12" (written before it) is
    # whole, b's "12" has 3 choices = 3; cut 1: a alone, its "12" free = 3;
    # cut 0: no files = 1.
    assert fs.count_images("ordered") == 3 + 3 + 1
    assert fs.count_images("process-crash") == 1


def test_rename_then_fsync_through_handle_is_durable_under_the_new_name() -> None:
    fs = new_fs()
    f = fs.create_truncate(f"{D}/tmp")
    fs.fsync_dir(D)
    fs.rename(f"{D}/tmp", f"{D}/a")
    fs.fsync_dir(D)
    write_all(f, b"payload")
    f.fsync()
    for model in MODELS:
        assert contents(fs, model) == [{f"{D}/a": b"payload"}]


def test_posix_trace_names_each_decision() -> None:
    fs = new_fs(dump=b"old")
    f = fs.create_truncate(f"{D}/dump.tmp")
    write_all(f, b"new")
    f.fsync()
    fs.rename(f"{D}/dump.tmp", f"{D}/dump")
    images = list(fs.images("posix"))
    assert images[0].trace == ["create dump.tmp: kept", "rename dump.tmp → dump: kept"]
    assert images[1].trace == [
        "create dump.tmp: kept",
        "rename dump.tmp → dump: lost (directory not fsynced)",
    ]
    assert images[2].trace == [
        "create dump.tmp: lost (directory not fsynced)",
        "rename dump.tmp → dump: source absent in this image, so moot",
    ]
    assert repr(images[1]) == "<CrashImage posix #1: 2 files, 1 losses>"


# ---------------------------------------------------------------------------
# Drawing images.


@pytest.mark.parametrize("model", MODELS)
def test_simplest_draw_is_the_everything_kept_image(model: str) -> None:
    fs = new_fs(dump=b"old", log=b"L")
    write_all(fs.open_append(f"{D}/log"), b"more")
    f = fs.create_truncate(f"{D}/dump.tmp")
    write_all(f, b"new")
    fs.rename(f"{D}/dump.tmp", f"{D}/dump")
    first = next(iter(fs.images(model)))  # type: ignore[arg-type]
    drawn = fs.draw_image(ScriptedDraw(), model)  # type: ignore[arg-type]
    assert drawn.files() == first.files() == fs.snapshot_files()
    assert drawn.losses == 0


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(data=st.data(), model=st.sampled_from(MODELS))
def test_drawn_images_are_enumerated_images_up_to_the_tear_byte(data: Any, model: str) -> None:
    fs = new_fs(dump=b"old", log=b"L")
    write_all(fs.open_append(f"{D}/log"), b"0123456789" * 3)
    f = fs.create_truncate(f"{D}/dump.tmp")
    write_all(f, b"new")
    f.fsync()
    fs.rename(f"{D}/dump.tmp", f"{D}/dump")
    drawn = fs.draw_image(data, model)  # type: ignore[arg-type]

    # Normalise the torn log to its length class: enumeration samples tears.
    def key(files: dict[str, bytes]) -> tuple[Any, ...]:
        log = files.get(f"{D}/log", b"")
        assert (b"L" + b"0123456789" * 3).startswith(log)
        return tuple(sorted((p, b) for p, b in files.items() if p != f"{D}/log"))

    assert key(drawn.files()) in {key(im.files()) for im in fs.images(model)}  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Crashing at a point.


def protocol(fs: FileSystem) -> None:
    """write-tmp, fsync, rename, then append to a log (docs/SPEC.md §3.8, §2.3)."""
    f = fs.create_truncate(f"{D}/dump.tmp")  # point 1
    write_all(f, b"snapshot")
    f.fsync()  # point 2
    f.close()
    fs.rename(f"{D}/dump.tmp", f"{D}/dump")  # point 3
    log = fs.open_append(f"{D}/aof")  # point 4 (create)
    write_all(log, b"frame")
    log.fdatasync()  # point 5


def test_crash_before_and_after_each_point() -> None:
    full = new_fs()
    protocol(full)
    total = len(full.points())
    assert total == 5
    for k in range(1, total + 1):
        for when in ("before", "after"):
            fs = CrashFS.from_files({}, dirs=[D], crash_at=k, when=when)
            with pytest.raises(SimulatedCrash) as info:
                protocol(fs)
            assert fs.crashed
            assert info.value.point == full.points()[k - 1]
            assert len(fs.points()) == (k - 1 if when == "before" else k)
            assert str(info.value) == f"simulated crash {when} {full.points()[k - 1].describe()}"
    fs = CrashFS.from_files({}, dirs=[D], crash_at=3, when="before")
    with pytest.raises(SimulatedCrash):
        protocol(fs)
    assert fs.snapshot_files() == {f"{D}/dump.tmp": b"snapshot"}
    fs = CrashFS.from_files({}, dirs=[D], crash_at=3, when="after")
    with pytest.raises(SimulatedCrash):
        protocol(fs)
    assert fs.snapshot_files() == {f"{D}/dump": b"snapshot"}


def test_a_dead_file_system_records_nothing_and_except_oserror_cannot_swallow_it() -> None:
    fs = CrashFS.from_files({}, dirs=[D], crash_at=2)
    f = fs.create_truncate(f"{D}/x")
    write_all(f, b"abc")
    caught = False
    try:
        try:
            f.fsync()
        except OSError:  # what impl code does; must not see the crash
            caught = True
    except SimulatedCrash:
        pass
    assert not caught and fs.crashed
    f.close()  # a `finally: close()` during the crash must not raise again
    for call in (lambda: f.write(b"x"), lambda: fs.unlink(f"{D}/x"), lambda: fs.listdir(D)):
        with pytest.raises(SimulatedCrash):
            call()
    assert fs.history() == ["point 1: create x", "write x +3 B"]
    assert contents(fs, "posix") == [
        {f"{D}/x": b"abc"},
        *[{f"{D}/x": b"abc"[:k]} for k in (2, 1, 0)],
        {},
    ]


def test_crash_now_at_the_end_of_a_run() -> None:
    fs = new_fs()
    protocol(fs)
    assert not fs.crashed
    fs.crash()
    assert fs.crashed and fs.crash_info is not None and fs.crash_info.point is None
    with pytest.raises(SimulatedCrash):
        fs.exists(D)
    # posix: create dump.tmp kept+rename kept/lost, or lost; aof create kept/lost.
    assert fs.count_images("posix") == 3 * 2
    assert fs.count_images("ordered") == 1


# ---------------------------------------------------------------------------
# Images as file systems.


def test_image_to_fs_is_a_fresh_durable_file_system() -> None:
    fs = new_fs(keep=b"k")
    fs.makedirs(f"{D}/sub")
    write_all(fs.create_truncate(f"{D}/new"), b"n")
    lost = list(fs.images("posix"))[-1]
    assert lost.files() == {f"{D}/keep": b"k"}
    again = lost.to_fs()
    assert again.snapshot_files() == {f"{D}/keep": b"k"}
    assert again.is_dir(f"{D}/sub")
    assert again.points() == []
    for model in MODELS:
        assert contents(again, model) == [{f"{D}/keep": b"k"}]
    # Images do not change when the original keeps running.
    before = [im.files() for im in fs.images("posix")]
    images = list(fs.images("posix"))
    write_all(fs.open_append(f"{D}/keep"), b"more")
    assert [im.files() for im in images] == before


def test_from_files_and_snapshot_round_trip() -> None:
    start = {"/x/a": b"1", "/x/y/b": b"22"}
    fs = CrashFS.from_files(start)
    assert fs.snapshot_files() == start
    assert fs.listdir("/x") == ["a", "y"]
    assert fs.points() == []
    assert contents(fs, "posix") == [start]


# ---------------------------------------------------------------------------
# Disk faults.


def test_short_write_and_enospc() -> None:
    fs = new_fs()
    fs.fail_next("write", "*.aof", "short", nbytes=2)
    f = fs.create_truncate(f"{D}/a.aof")
    assert f.write(b"hello") == 2
    write_all(f, b"llo")  # write_all loops over short writes
    assert fs.read_bytes(f"{D}/a.aof") == b"hello"[:2] + b"llo"
    fs.fail_next("write", kind="short", nbytes=0)
    with pytest.raises(OSError) as info:
        write_all(f, b"zz")
    assert info.value.errno == errno.EIO  # write_all's zero-write rule
    fs.fail_next("write", kind="enospc")
    with pytest.raises(OSError) as info:
        f.write(b"zz")
    assert info.value.errno == errno.ENOSPC
    assert fs.read_bytes(f"{D}/a.aof") == b"hello"
    assert fs.faults.fired == [
        "write a.aof: short, 2 B",
        "write a.aof: short, 0 B",
        "write a.aof: ENOSPC",
    ]
    # Faults match by glob: a write to another file is untouched.
    fs.fail_next("write", "*.rdb", "eio")
    assert fs.create_truncate(f"{D}/x").write(b"ok") == 2


def test_fsync_eio_drops_dirty_pages_and_a_later_fsync_lies() -> None:
    fs = new_fs(log=b"")
    f = fs.open_append(f"{D}/log")
    write_all(f, b"abc")
    fs.fail_next("fsync", "*/log", "eio", drop_dirty=True)
    with pytest.raises(OSError) as info:
        f.fsync()
    assert info.value.errno == errno.EIO
    assert fs.points()[-1].describe() == "point 1: fsync log (failed: EIO, dirty pages dropped)"
    assert fs.read_bytes(f"{D}/log") == b"abc"  # still cached
    f.fsync()  # succeeds...
    assert contents(fs, "posix") == [{f"{D}/log": b"\0\0\0"}]  # ...but the data never arrived
    assert contents(fs, "ordered") == [{f"{D}/log": b"\0\0\0"}]
    assert contents(fs, "process-crash") == [{f"{D}/log": b"abc"}]
    write_all(f, b"d")
    f.fsync()
    assert contents(fs, "posix") == [{f"{D}/log": b"\0\0\0d"}]


def test_fsync_eio_without_drop_keeps_pages_dirty() -> None:
    fs = new_fs(log=b"")
    f = fs.open_append(f"{D}/log")
    write_all(f, b"abc")
    fs.fail_next("fdatasync", kind="eio", drop_dirty=False)
    with pytest.raises(OSError):
        f.fdatasync()
    assert len(contents(fs, "posix")) == 4  # still unsynced: kept, torn 2, 1, dropped
    f.fdatasync()
    assert contents(fs, "posix") == [{f"{D}/log": b"abc"}]


def test_failed_metadata_ops_change_nothing() -> None:
    fs = new_fs(a=b"1")
    fs.fail_next("rename", kind="eio")
    with pytest.raises(OSError):
        fs.rename(f"{D}/a", f"{D}/b")
    fs.fail_next("create", kind="enospc")
    with pytest.raises(OSError) as info:
        fs.create_truncate(f"{D}/c")
    assert info.value.errno == errno.ENOSPC
    assert fs.snapshot_files() == {f"{D}/a": b"1"}
    assert [p.failed for p in fs.points()] == ["EIO", "ENOSPC"]
    for model in MODELS:
        assert contents(fs, model) == [{f"{D}/a": b"1"}]


def test_fault_misuse_fails_at_definition() -> None:
    with pytest.raises(ValueError, match="short"):
        Fault("fsync", kind="short")
    with pytest.raises(ValueError, match="op"):
        Fault("read", kind="eio")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="model"):
        CrashFS().count_images("ext4")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="crash_at"):
        CrashFS(crash_at=0)
    fs = new_fs()
    fs.makedirs("/e")
    fs.create_truncate(f"{D}/a")
    with pytest.raises(ValueError, match="one directory"):
        fs.rename(f"{D}/a", "/e/a")


def test_repeated_fault_fires_times() -> None:
    fs = new_fs()
    fs.fail_next("write", kind="short", nbytes=1, times=2)
    f = fs.create_truncate(f"{D}/x")
    assert [f.write(b"ab"), f.write(b"cd"), f.write(b"ef")] == [1, 1, 2]


def test_count_matches_enumeration_on_a_long_rewrite_chain() -> None:
    fs = new_fs()
    log = fs.open_append(f"{D}/aof")
    write_all(log, b"MAGIC")
    log.fdatasync()
    for r in range(3):
        write_all(log, b"frame%d" % r)
        tmp = fs.create_truncate(f"{D}/aof.rewrite")
        write_all(tmp, b"REWRITE%d" % r)
        tmp.fsync()
        fs.rename(f"{D}/aof.rewrite", f"{D}/aof")
        log = fs.open_append(f"{D}/aof")
    for model in MODELS:
        images = list(fs.images(model))
        assert fs.count_images(model) == len(images)
        assert images[0].files() == fs.snapshot_files()
    assert fs.count_images("posix") > fs.count_images("ordered") > 1


def test_arm_crashes_at_the_kth_point_from_now() -> None:
    fs = CrashFS()
    fs.makedirs(D)
    f = fs.create_truncate(f"{D}/a")
    f.fsync()  # some points already happened
    done = len(fs.points())
    fs.arm(2, "before")
    f.write(b"x")
    f.fsync()  # point done + 1
    try:
        f.fsync()  # point done + 2: the crash, before it happens
    except SimulatedCrash as crash:
        assert crash.point.index == done + 2 and crash.when == "before"
    else:
        raise AssertionError("armed crash did not fire")
    for bad in (0, -1):
        try:
            CrashFS().arm(bad)
        except ValueError:
            continue
        raise AssertionError(f"arm({bad}) accepted")


def test_arm_by_op_crashes_at_the_kth_point_of_that_op() -> None:
    fs = CrashFS()
    fs.makedirs(D)
    fs.arm(2, "after", op="rename")
    for name in ("a", "b", "c"):
        f = fs.create_truncate(f"{D}/{name}.tmp")
        f.fsync()
        f.close()
        try:
            fs.rename(f"{D}/{name}.tmp", f"{D}/{name}")
        except SimulatedCrash as crash:
            assert crash.point.op == "rename" and crash.when == "after"
            assert crash.point.path == f"{D}/b.tmp"
            break
    else:
        raise AssertionError("the second rename did not crash")
    files = fs.snapshot_files()  # after the crash: the rename happened, "c" never began
    assert f"{D}/b" in files and f"{D}/c.tmp" not in files
    with pytest.raises(ValueError):
        CrashFS().arm(1, op="write")  # a write is no persistence point


def test_a_fault_by_op_fails_the_nth_call_of_that_op_only() -> None:
    fs = CrashFS()
    fs.makedirs(D)
    fs.faults = NthCallFails(n=2, kind="eio", op="fsync")
    f = fs.create_truncate(f"{D}/a")
    write_all(f, b"x")
    f.fsync()  # the first fsync
    write_all(f, b"y")  # writes are not counted
    with pytest.raises(OSError) as err:
        f.fsync()
    assert err.value.errno == errno.EIO
    assert len(fs.faults.fired) == 1 and fs.faults.fired[0].startswith("fsync")
    f.fsync()  # the third fsync succeeds


def test_resume_after_a_process_crash_keeps_what_was_unsynced_unsynced() -> None:
    # Rule 3: a killed process leaves the kernel running. What it wrote and never
    # synced is read back by the next process - and a later power cut may still
    # take it, which a fresh `to_fs()` of the process-crash image would not allow.
    fs = new_fs(log=b"base")
    fs.lock_dir(D)  # held by the process about to die, never released
    f = fs.open_append(f"{D}/log")
    write_all(f, b"abc")
    fs.faults = FaultPlan([Fault("fsync", "*/log", "eio")])
    fs.crash()
    with pytest.raises(ValueError):
        new_fs().resume()  # nothing crashed
    fs.resume()
    assert not fs.crashed
    assert fs.snapshot_files() == {f"{D}/log": b"baseabc"}
    assert len(contents(fs, "posix")) == 4  # "abc" kept, torn at 2 or 1, or dropped
    fs.lock_dir(D).release()  # the dead process's lock died with it
    g = fs.open_append(f"{D}/log")
    g.fsync()  # its fault went with it too; the sync covers the dead one's bytes
    for model in MODELS:
        assert contents(fs, model) == [{f"{D}/log": b"baseabc"}]
