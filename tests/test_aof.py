"""Tests for impl/aof.py: the AOF object of docs/SPEC.md §2, syscall by syscall.

Every protocol step is checked twice: by the bytes it leaves on the real disk
(`OsFileSystem` on `tmp_path`), and by the exact sequence of writes, syncs,
renames and closes it performs (`RecordingFS`), compared with docs/SPEC.md §2.8 —
including the syncs kevy 1.17 does *not* do (no directory fsync anywhere).
"""

from __future__ import annotations

import os

import pytest

from impl.aof import (
    AUTO_REWRITE_MIN_SIZE,
    BUFFER_SIZE,
    Aof,
    FsyncPolicy,
    RewriteResult,
    rewrite_due,
    rewrite_tmp_path,
    write_aof_base,
)
from impl.clock import ManualClock
from impl.keyspace import Keyspace
from impl.layout import U64_MAX
from impl.profile import HARDENED, KEVY_1_17
from impl.resp import MAGIC, Outcome, encode_frame, scan_aof
from impl.snapshot import freeze
from tests.recording_fs import RecordingFS

A = "aof-0.aof"
RW = "aof-0.aof.rewrite"
SET_K_V = encode_frame([b"SET", b"k", b"v"])


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_800_000_000_000)


def frames(path: str) -> list[tuple[bytes, ...]]:
    data = open(path, "rb").read()
    scan = scan_aof(data)
    out = [f.argv for f in scan.frames]
    assert scan.outcome == Outcome.CLEAN, scan
    return out


def open_aof(rec: RecordingFS, tmp_path, clock, policy=FsyncPolicy.ALWAYS, profile=KEVY_1_17):
    aof = Aof.open(rec, str(tmp_path / A), policy, clock=clock, profile=profile)
    rec.take()
    return aof


# -- open (§2.2) -------------------------------------------------------------


def test_open_new_file_is_create_magic_fdatasync_and_no_dir_fsync(rec, tmp_path, clock):
    aof = Aof.open(rec, str(tmp_path / A), FsyncPolicy.EVERYSEC, clock=clock)
    assert rec.take() == [("open_append", A, True), ("write", A, MAGIC), ("fdatasync", A)]
    assert (tmp_path / A).read_bytes() == MAGIC
    assert aof.size_bytes == aof.size_at_last_rewrite == 9
    assert not aof.dirty and not aof.is_rewriting
    aof.close()
    assert rec.take() == [("close", A)]  # nothing buffered: no write, and never a sync


def test_open_empty_existing_file_gets_magic(rec, tmp_path, clock):
    (tmp_path / A).write_bytes(b"")
    Aof.open(rec, str(tmp_path / A), clock=clock).close()
    assert (tmp_path / A).read_bytes() == MAGIC
    assert ("fdatasync", A) in rec.mutations()


@pytest.mark.parametrize(
    "content",
    [
        SET_K_V,  # legacy: no magic is added
        b"KEVYAO",  # partial magic: not repaired
        MAGIC + SET_K_V + SET_K_V[:11],  # torn tail: not truncated
    ],
    ids=["legacy", "partial-magic", "torn-tail"],
)
def test_open_leaves_a_non_empty_file_untouched(rec, tmp_path, clock, content):
    (tmp_path / A).write_bytes(content)
    aof = Aof.open(rec, str(tmp_path / A), clock=clock)
    aof.close()
    assert rec.mutations() == [("open_append", A, True), ("close", A)]
    assert (tmp_path / A).read_bytes() == content
    assert aof.size_bytes == aof.size_at_last_rewrite == len(content)


def test_open_hardened_fsyncs_the_directory_of_a_new_log(rec, tmp_path, clock):
    Aof.open(rec, str(tmp_path / A), clock=clock, profile=HARDENED).close()
    assert rec.mutations()[:4] == [
        ("open_append", A, True), ("write", A, MAGIC), ("fdatasync", A),
        ("fsync_dir", tmp_path.name),
    ]


# -- append and the policy table (§2.3) ------------------------------------------


def test_always_append_is_one_write_then_fdatasync(rec, tmp_path, clock):
    aof = open_aof(rec, tmp_path, clock)
    aof.append([b"SET", b"k", b"v"])
    assert rec.take() == [("write", A, SET_K_V), ("fdatasync", A)]
    assert aof.size_bytes == 9 + 27 and not aof.dirty
    assert frames(str(tmp_path / A)) == [(b"SET", b"k", b"v")]


def test_everysec_append_stays_in_the_buffer_until_maybe_sync_after_one_second(
        rec, tmp_path, clock):
    aof = open_aof(rec, tmp_path, clock, FsyncPolicy.EVERYSEC)
    aof.append([b"SET", b"k", b"v"])
    assert rec.take() == [] and aof.dirty and aof.pending() == SET_K_V
    assert (tmp_path / A).read_bytes() == MAGIC  # a process crash now loses the frame
    clock.advance(999)
    assert aof.maybe_sync() is False and rec.take() == []
    clock.advance(1)
    assert aof.maybe_sync() is True
    assert rec.take() == [("write", A, SET_K_V), ("fdatasync", A)]
    assert not aof.dirty and aof.last_sync_ms == clock.now_ms()
    clock.advance(5000)
    assert aof.maybe_sync() is False  # not dirty: nothing to do
    assert rec.take() == []


def test_no_policy_never_flushes_in_maybe_sync_and_close_flushes_without_sync(
        rec, tmp_path, clock):
    aof = open_aof(rec, tmp_path, clock, FsyncPolicy.NO)
    aof.append([b"SET", b"k", b"v"])
    clock.advance(10_000)
    assert aof.maybe_sync() is False and rec.take() == []
    aof.close()
    assert rec.take() == [("write", A, SET_K_V), ("close", A)]


def test_buffer_reaches_the_os_only_when_it_would_overflow(rec, tmp_path, clock):
    aof = open_aof(rec, tmp_path, clock, FsyncPolicy.NO)
    value = b"x" * 1000
    frame = encode_frame([b"SET", b"k", value])
    per_buffer = BUFFER_SIZE // len(frame)
    for _ in range(per_buffer):
        aof.append([b"SET", b"k", value])
    assert rec.take() == []  # exactly fits: still buffered
    aof.append([b"SET", b"k", value])  # would overflow: the old bytes go first
    assert rec.take() == [("write", A, frame * per_buffer)]
    assert aof.pending() == frame


def test_a_frame_of_buffer_size_or_more_bypasses_the_buffer(rec, tmp_path, clock):
    aof = open_aof(rec, tmp_path, clock, FsyncPolicy.NO)
    aof.append([b"SET", b"a", b"1"])
    big = [b"SET", b"big", b"y" * BUFFER_SIZE]
    aof.append(big)
    assert rec.take() == [("write", A, encode_frame([b"SET", b"a", b"1"])),
                          ("write", A, encode_frame(big))]
    assert aof.pending() == b""


def test_group_commit_defers_always_syncs_to_end_group(rec, tmp_path, clock):
    aof = open_aof(rec, tmp_path, clock)
    aof.begin_group()
    aof.append([b"SET", b"a", b"1"])
    aof.append([b"SET", b"b", b"2"])
    assert rec.take() == [] and aof.dirty
    aof.end_group()
    assert rec.take() == [
        ("write", A, encode_frame([b"SET", b"a", b"1"]) + encode_frame([b"SET", b"b", b"2"])),
        ("fdatasync", A),
    ]
    aof.end_group()  # no window open: nothing
    assert rec.take() == []


def test_begin_group_is_ignored_outside_always(rec, tmp_path, clock):
    aof = open_aof(rec, tmp_path, clock, FsyncPolicy.EVERYSEC)
    aof.begin_group()
    assert not aof.deferred
    aof.append([b"SET", b"a", b"1"])
    aof.end_group()
    assert rec.take() == []  # EverySec dirt waits for maybe_sync


def test_set_fsync_to_always_syncs_pending_dirt(rec, tmp_path, clock):
    aof = open_aof(rec, tmp_path, clock, FsyncPolicy.NO)
    aof.append([b"SET", b"k", b"v"])
    aof.set_fsync(FsyncPolicy.EVERYSEC)
    assert rec.take() == []
    aof.set_fsync(FsyncPolicy.ALWAYS)
    assert rec.take() == [("write", A, SET_K_V), ("fdatasync", A)]
    aof.set_fsync(FsyncPolicy.ALWAYS)  # already Always: nothing
    assert rec.take() == []


def test_size_bytes_counts_the_estimate_and_saturates(rec, tmp_path, clock):
    aof = open_aof(rec, tmp_path, clock, FsyncPolicy.NO)
    aof.size_bytes = U64_MAX - 5
    aof.append([b"SET", b"k", b"v"])
    assert aof.size_bytes == U64_MAX


# -- truncate (§2.4) ---------------------------------------------------------------


def test_truncate_keeps_the_magic_and_fsyncs(rec, tmp_path, clock):
    aof = open_aof(rec, tmp_path, clock, FsyncPolicy.EVERYSEC)
    aof.append([b"SET", b"k", b"v"])
    aof.truncate()
    assert rec.take() == [("write", A, SET_K_V), ("truncate", A, 0), ("write", A, MAGIC),
                          ("fsync", A)]
    assert (tmp_path / A).read_bytes() == MAGIC
    assert aof.size_bytes == aof.size_at_last_rewrite == 9 and not aof.dirty
    aof.append([b"SET", b"a", b"1"])
    aof.close()
    assert frames(str(tmp_path / A)) == [(b"SET", b"a", b"1")]


# -- the auto-rewrite trigger (§2.5) ---------------------------------------------------


@pytest.mark.parametrize(
    ("size", "last", "pct", "min_size", "due"),
    [
        (200, 100, 100, 0, True),  # exactly doubled
        (199, 100, 100, 0, False),
        (150, 100, 50, 0, True),
        (149, 100, 50, 0, False),
        (200, 100, 0, 0, False),  # pct 0 disables
        (200, 100, 100, 201, False),  # below the minimum size
        (200, 100, 100, 200, True),  # min is inclusive
        (2, 0, 100, 0, True),  # last = 0 counts as 1
        (1, 0, 100, 0, False),
        # saturation: size*100 saturates at 2**64-1 and still wins against a
        # saturated right-hand side (>=, not >)
        (U64_MAX, U64_MAX, 100, 0, True),
        (U64_MAX // 50, U64_MAX // 100, U64_MAX, 0, True),  # 100+pct saturates too
        (U64_MAX // 100, U64_MAX // 100, 1, 0, False),
    ],
)
def test_rewrite_due_arithmetic(size, last, pct, min_size, due):
    assert rewrite_due(size, last, pct, min_size) is due


def test_rewrite_due_defaults_and_tee(rec, tmp_path, clock):
    aof = open_aof(rec, tmp_path, clock)
    aof.size_bytes = AUTO_REWRITE_MIN_SIZE
    aof.size_at_last_rewrite = AUTO_REWRITE_MIN_SIZE // 2
    assert aof.rewrite_due(100, AUTO_REWRITE_MIN_SIZE)
    aof.begin_view_rewrite()
    assert not aof.rewrite_due(100, AUTO_REWRITE_MIN_SIZE)  # a tee blocks it


def test_rewrite_tmp_path():
    assert rewrite_tmp_path("/d/aof-0.aof") == "/d/aof-0.aof.rewrite"
    assert rewrite_tmp_path("/d/") == "/d/aof.rewrite"


# -- synchronous rewrite (§2.6) ------------------------------------------------------------


def _ks(clock, **kv: bytes) -> Keyspace:
    ks = Keyspace(clock)
    for k, v in kv.items():
        ks.put(k.encode(), v)
    return ks


def test_rewrite_from_protocol(rec, tmp_path, clock):
    aof = open_aof(rec, tmp_path, clock, FsyncPolicy.EVERYSEC)
    aof.append([b"SET", b"a", b"0"])
    aof.append([b"SET", b"a", b"1"])
    ks = _ks(clock, a=b"1")
    result = aof.rewrite_from(freeze(ks, clock.now_ms()), clock.now_ms())
    image = MAGIC + encode_frame([b"SET", b"a", b"1"])
    assert result == RewriteResult(keys=1, bytes=len(image))
    assert rec.take() == [
        ("write", A, encode_frame([b"SET", b"a", b"0"]) + encode_frame([b"SET", b"a", b"1"])),
        ("create", RW), ("write", RW, image), ("fsync", RW), ("close", RW),
        ("rename", RW, A),
        ("open_append", A, False),
        ("close", A),  # the old handle, flushed before: nothing left to write
    ]
    assert (tmp_path / A).read_bytes() == image
    assert aof.size_bytes == aof.size_at_last_rewrite == len(image)
    assert aof.rewrites_total == 1 and not aof.dirty
    aof.append([b"SET", b"b", b"2"])
    aof.close()
    assert frames(str(tmp_path / A)) == [(b"SET", b"a", b"1"), (b"SET", b"b", b"2")]


# -- concurrent rewrite (§2.7) ----------------------------------------------------------------


def test_view_rewrite_keeps_every_write_made_between_begin_and_finish_exactly_once(
        rec, tmp_path, clock):
    aof = open_aof(rec, tmp_path, clock)
    aof.append([b"SET", b"a", b"1"])
    ks = _ks(clock, a=b"1")
    view = freeze(ks, clock.now_ms())
    tmp = aof.begin_view_rewrite()
    assert tmp == str(tmp_path / RW) and aof.is_rewriting
    aof.append([b"RPUSH", b"l", b"x"])  # between begin and the dump
    from impl.rewrite import dump_aof
    keys, _ = dump_aof(rec, tmp, view, clock.now_ms())
    aof.append([b"RPUSH", b"l", b"y"])  # between the dump and finish
    rec.take()
    result = aof.finish_concurrent_rewrite(tmp, keys)
    tee = encode_frame([b"RPUSH", b"l", b"x"]) + encode_frame([b"RPUSH", b"l", b"y"])
    assert rec.take() == [
        ("open_append", RW, False), ("write", RW, tee), ("fsync", RW), ("close", RW),
        ("rename", RW, A), ("open_append", A, False), ("close", A),
    ]
    assert frames(str(tmp_path / A)) == [
        (b"SET", b"a", b"1"), (b"RPUSH", b"l", b"x"), (b"RPUSH", b"l", b"y")]
    assert result.bytes == (tmp_path / A).stat().st_size and not aof.is_rewriting


def test_concurrent_rewrite_plan_and_the_old_handles_buffer_goes_to_the_old_inode(
        rec, tmp_path, clock):
    aof = open_aof(rec, tmp_path, clock, FsyncPolicy.EVERYSEC)
    old_inode = tmp_path / "old-inode"
    os.link(tmp_path / A, old_inode)  # keep the old file reachable after the rename
    plan = aof.begin_concurrent_rewrite(_ks(clock, a=b"1"), clock.now_ms())
    assert plan.body == MAGIC + encode_frame([b"SET", b"a", b"1"]) and plan.keys == 1
    assert plan.tmp == str(tmp_path / RW)
    aof.append([b"SET", b"b", b"2"])  # buffered in the old handle and teed
    (tmp_path / RW).write_bytes(plan.body)  # the caller's job, off-lock
    rec.take()
    aof.finish_concurrent_rewrite(plan.tmp, plan.keys)
    frame = encode_frame([b"SET", b"b", b"2"])
    assert rec.take() == [
        ("open_append", RW, False), ("write", RW, frame), ("fsync", RW), ("close", RW),
        ("rename", RW, A), ("open_append", A, False),
        ("write", A, frame), ("close", A),  # old handle dropped: its buffer → old inode
    ]
    assert old_inode.read_bytes() == MAGIC + frame
    assert frames(str(tmp_path / A)) == [(b"SET", b"a", b"1"), (b"SET", b"b", b"2")]


def test_finish_needs_the_tmp_file_to_exist_and_takes_the_tee_first(rec, tmp_path, clock):
    aof = open_aof(rec, tmp_path, clock)
    aof.begin_view_rewrite()
    aof.append([b"SET", b"k", b"v"])
    with pytest.raises(FileNotFoundError):
        aof.finish_concurrent_rewrite(aof.tmp_path, 0)
    assert not aof.is_rewriting  # the tee is gone; the live log has everything
    assert frames(str(tmp_path / A)) == [(b"SET", b"k", b"v")]


def test_aborted_concurrent_rewrite_leaves_the_old_log_intact_and_in_use(rec, tmp_path, clock):
    aof = open_aof(rec, tmp_path, clock)
    aof.append([b"SET", b"a", b"1"])
    plan = aof.begin_concurrent_rewrite(_ks(clock, a=b"1"), clock.now_ms())
    aof.append([b"SET", b"b", b"2"])
    (tmp_path / RW).write_bytes(plan.body[:5])  # the caller died half way through
    aof.abort_concurrent_rewrite()
    os.unlink(plan.tmp)  # the caller deletes tmp
    aof.append([b"SET", b"c", b"3"])
    assert not aof.is_rewriting and aof.rewrites_total == 0
    assert frames(str(tmp_path / A)) == [
        (b"SET", b"a", b"1"), (b"SET", b"b", b"2"), (b"SET", b"c", b"3")]


def test_write_aof_base_is_create_magic_full_fsync(rec, tmp_path):
    write_aof_base(rec, str(tmp_path / RW))
    assert rec.take() == [("create", RW), ("write", RW, MAGIC), ("fsync", RW), ("close", RW)]
    assert (tmp_path / RW).read_bytes() == MAGIC


def test_hardened_rewrite_fsyncs_the_directory_after_the_rename(rec, tmp_path, clock):
    aof = open_aof(rec, tmp_path, clock, profile=HARDENED)
    aof.rewrite_from(_ks(clock), clock.now_ms())
    calls = rec.take()
    i = calls.index(("rename", RW, A))
    assert calls[i + 1] == ("fsync_dir", tmp_path.name)


def test_kevy_never_fsyncs_a_directory(rec, tmp_path, clock):
    aof = Aof.open(rec, str(tmp_path / A), FsyncPolicy.ALWAYS, clock=clock)
    aof.append([b"SET", b"k", b"v"])
    aof.rewrite_from(_ks(clock, k=b"v"), clock.now_ms())
    tmp = aof.begin_view_rewrite()
    write_aof_base(rec, tmp)
    aof.finish_concurrent_rewrite(tmp, 0)
    aof.truncate()
    aof.close()
    assert not [c for c in rec.calls if c[0] == "fsync_dir"]


# -- torn tails (§2.2 rule 3) ---------------------------------------------------------------


def test_torn_tail_then_reopen_then_append_is_reproduced_faithfully(rec, tmp_path, clock):
    """kevy 1.17 appends new frames after a torn tail it does not cut.

    Finding (for the findings list, deliberately NOT fixed in kevy-1.17): the
    torn frame's declared length swallows the start of the next frame, so
    replay stops there with a corrupt frame, and *every* frame appended after
    the reopen — acknowledged, even fsynced under Always — is unreadable.
    """
    torn = SET_K_V[:-3]  # crash mid-append: `*3 $3 SET $1 k $1 ` + partial value
    (tmp_path / A).write_bytes(MAGIC + SET_K_V + torn)
    aof = open_aof(rec, tmp_path, clock)
    aof.append([b"SET", b"after", b"1"])
    aof.close()
    data = (tmp_path / A).read_bytes()
    assert data == MAGIC + SET_K_V + torn + encode_frame([b"SET", b"after", b"1"])
    scan = scan_aof(data)
    assert [f.argv for f in scan.frames] == [(b"SET", b"k", b"v")]
    assert scan.outcome == Outcome.CORRUPT_FRAME  # the fsynced SET after is lost
    assert scan.stop == len(MAGIC + SET_K_V)
