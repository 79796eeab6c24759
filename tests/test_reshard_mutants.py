"""impl/reshard.py edges mutmut found unpinned (README "Adequacy").

`write_shards_meta`'s open-time atomic write (F31's `meta_atomic_write`), the
default stderr sink of the roll-forward's log line, and the profile reaching
`finish_reshard` from `recover_journal`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from impl.fs import OsFileSystem
from impl.journal import Journal, format_journal
from impl.layout import JOURNAL, SHARDS_META, STANDARD_NAMES, Layout, Routing
from impl.profile import HARDENED, KEVY_1_17
from impl.reshard import recover_journal, write_shards_meta
from tests.recording_fs import RecordingFS

STAMP = 1_700_000_000_000_000_000


def test_an_opens_meta_write_is_atomic_under_meta_atomic_write(tmp_path: Path) -> None:
    fs = RecordingFS(OsFileSystem())
    profile = KEVY_1_17.with_switches("meta_atomic_write")
    write_shards_meta(
        fs, str(tmp_path), Layout(3, Routing.KEVYHASH), profile=profile, reshard=False
    )
    assert fs.mutations() == [
        ("create", "shards.meta.tmp"),
        ("write", "shards.meta.tmp", b"3\nkevyhash\n"),
        ("fsync", "shards.meta.tmp"),
        ("close", "shards.meta.tmp"),
        ("rename", "shards.meta.tmp", SHARDS_META),
        ("fsync_dir", tmp_path.name),
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [SHARDS_META]
    assert (tmp_path / SHARDS_META).read_bytes() == b"3\nkevyhash\n"


@pytest.mark.parametrize(("reshard", "switch"), [(True, True), (False, False)])
def test_other_meta_writes_overwrite_in_place(tmp_path: Path, reshard: bool, switch: bool) -> None:
    # The re-shard's own write has a journal behind it (F12's switch, not F31's);
    # kevy 1.17's open overwrites in place with no fsync.
    fs = RecordingFS(OsFileSystem())
    profile = KEVY_1_17.with_switches("meta_atomic_write") if switch else KEVY_1_17
    write_shards_meta(
        fs, str(tmp_path), Layout(2, Routing.KEVYHASH), profile=profile, reshard=reshard
    )
    assert fs.mutations() == [
        ("create", SHARDS_META),
        ("write", SHARDS_META, b"2\nkevyhash\n"),
        ("close", SHARDS_META),
    ]


def _journal_dir(tmp_path: Path) -> str:
    d = str(tmp_path)
    (tmp_path / JOURNAL).write_bytes(format_journal(Journal(STAMP, 1, 2, Routing.KEVYHASH)))
    return d


def test_the_roll_forward_line_goes_to_stderr_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = _journal_dir(tmp_path)
    recover_journal(OsFileSystem(), d, STANDARD_NAMES)
    assert capsys.readouterr().err == (
        f"kevy: completing interrupted re-shard in {d}: 1 -> 2 shards (kevyhash), stamp {STAMP}\n"
    )
    assert not (tmp_path / JOURNAL).exists()


def test_the_roll_forward_runs_under_the_profile_it_is_given(tmp_path: Path) -> None:
    d = _journal_dir(tmp_path)
    fs = RecordingFS(OsFileSystem())
    recover_journal(fs, d, STANDARD_NAMES, log=[].append, profile=HARDENED)
    assert ("fsync_dir", tmp_path.name) in fs.mutations()
    assert ("fsync", SHARDS_META) in fs.mutations()
    d2 = tmp_path / "kevy"
    d2.mkdir()
    (d2 / JOURNAL).write_bytes(format_journal(Journal(STAMP, 1, 2, Routing.KEVYHASH)))
    fs = RecordingFS(OsFileSystem())
    recover_journal(fs, str(d2), STANDARD_NAMES, log=[].append)
    assert not any(c[0] in ("fsync_dir", "fsync") for c in fs.mutations())


# --------------------------------------------------------------------------
# The open-time re-shard judges time by the `now_ms` it is given and pops SPOP
# members in the shards' own order.

T = 1_800_000_000_000


def _aof(*cmds: str) -> bytes:
    from impl.resp import MAGIC, encode_frame

    return MAGIC + b"".join(encode_frame([w.encode() for w in c.split(" ")]) for c in cmds)


def _one_shard_dir(tmp_path: Path, *, snapshot: list | None = None, aof: bytes = b"") -> str:
    from impl.snapshot import encode_snapshot

    if snapshot is not None:
        (tmp_path / "dump-0.rdb").write_bytes(encode_snapshot(snapshot, T))
    if aof:
        (tmp_path / "aof-0.aof").write_bytes(aof)
    return str(tmp_path)


def _reshard(d: str, n: int, now_ms: int, *, seed: int | None = None, profile=KEVY_1_17):  # type: ignore[no-untyped-def]
    from impl.clock import ManualClock
    from impl.keyspace import Keyspace
    from impl.reshard import reshard_open

    shards = [Keyspace(ManualClock(T), hash_seed=seed) for _ in range(n)]
    reshard_open(
        OsFileSystem(),
        d,
        src_n=1,
        n=n,
        names=STANDARD_NAMES,
        shards=shards,
        now_ms=now_ms,
        profile=profile,
    )
    return {k: e for s in shards for k, e in s.raw().items()}


def test_the_reshard_expires_by_the_time_it_is_given(tmp_path: Path) -> None:
    # The shards' clock says T; the re-shard runs at T + 1000. A key whose
    # deadline falls in between is gone at the re-shard's time.
    d = _one_shard_dir(
        tmp_path, snapshot=[(b"soon", b"v", 500), (b"later", b"v", 5000)], aof=_aof("SET a 1")
    )
    got = _reshard(d, 2, T + 1000)
    assert sorted(got) == [b"a", b"later"]
    assert got[b"later"].deadline_ms == T + 5000


def test_a_wrong_number_of_keyspaces_is_refused(tmp_path: Path) -> None:
    from impl.clock import ManualClock
    from impl.keyspace import Keyspace
    from impl.reshard import reshard_open

    with pytest.raises(ValueError, match=r"^reshard_open needs 2 keyspaces, got 1$"):
        reshard_open(
            OsFileSystem(),
            str(tmp_path),
            src_n=1,
            n=2,
            names=STANDARD_NAMES,
            shards=[Keyspace(ManualClock(T))],
            now_ms=T,
            profile=KEVY_1_17,
        )


@pytest.mark.parametrize("per_shard", [False, True])
def test_spop_in_a_merged_log_pops_in_the_shards_order(tmp_path: Path, per_shard: bool) -> None:
    from impl.clock import ManualClock
    from impl.keyspace import Keyspace, SetValue
    from impl.reshard import MERGE_PER_SHARD_SWITCH

    members = [b"a", b"b", b"c", b"d", b"e", b"f"]
    seed = next(
        s
        for s in range(100)
        if Keyspace(ManualClock(T), hash_seed=s).first_members(SetValue.fromkeys(members), 1)
        != [b"a"]
    )
    popped = Keyspace(ManualClock(T), hash_seed=seed).first_members(SetValue.fromkeys(members), 1)
    d = _one_shard_dir(
        tmp_path, aof=_aof("SADD s " + " ".join(m.decode() for m in members), "SPOP s 1")
    )
    profile = KEVY_1_17.with_switches(MERGE_PER_SHARD_SWITCH) if per_shard else KEVY_1_17
    got = _reshard(d, 2, T, seed=seed, profile=profile)
    assert sorted(got[b"s"].value) == sorted(set(members) - set(popped))


def test_a_v2_snapshot_merges_its_relative_ttls_at_the_time_given(tmp_path: Path) -> None:
    # v2 stores remaining ms: the deadline is the merge's now + remaining (§3.4).
    record = b"\x01\x01" + (5000).to_bytes(8, "little") + b"\x01\x00\x00\x00k\x01\x00\x00\x00v"
    (tmp_path / "dump-0.rdb").write_bytes(b"KEVYSNAP\x02" + record + b"\x00")
    got = _reshard(str(tmp_path), 2, T + 1000)
    assert got[b"k"].deadline_ms == T + 6000


def test_a_per_shard_merge_moves_only_keys_live_at_the_time_given(tmp_path: Path) -> None:
    from impl.clock import ManualClock
    from impl.keyspace import Keyspace
    from impl.reshard import MERGE_PER_SHARD_SWITCH, merge_sources

    d = _one_shard_dir(tmp_path, snapshot=[(b"soon", b"v", 500), (b"later", b"v", 5000)])
    temp = Keyspace(ManualClock(T))
    merge_sources(
        OsFileSystem(),
        d,
        1,
        STANDARD_NAMES,
        temp,
        profile=KEVY_1_17.with_switches(MERGE_PER_SHARD_SWITCH),
        now_ms=T + 1000,
    )
    assert sorted(temp.raw()) == [b"later"]


def test_commit_clears_stale_reshard_files_by_the_target_layouts_names(tmp_path: Path) -> None:
    from impl.clock import ManualClock
    from impl.keyspace import Keyspace
    from impl.layout import FileNames
    from impl.reshard import commit_reshard

    names = FileNames.embedded("data.snap", "data.aof")  # its own names for 1 shard
    fs = RecordingFS(OsFileSystem())
    commit_reshard(
        fs,
        str(tmp_path),
        prev_n=2,
        target=Layout(1, Routing.KEVYHASH),
        stores=[Keyspace(ManualClock(T))],
        names=names,
        stamp=STAMP,
        now_ms=T,
    )
    assert fs.calls[0] == ("unlink", "data.snap.reshard")
