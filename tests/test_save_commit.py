"""A save of several shards without a log (FINDINGS.md F46).

What: with the AOF disabled kevy 1.17 renames each shard's new snapshot into place
in turn; a power cut between two renames recovers one shard from the new save and
another from the old one, a state after no prefix of the client's writes. With
`save_commit_across_shards` the save writes every `.tmp`, makes a commit record
durable (impl/save_commit.py), then renames; an open finishes a committed save.

Why: found by the hunt once programs without a log could have several shards
(they had been kept to one until the contract could say so); these pin it on its
smallest history, judged over the crash's images, and the record's own protocol:
its format, torn and hostile records, and a failure after the commit point.
"""

from __future__ import annotations

import pytest

from harness.lifecycle import Program, execute
from impl import save_commit
from impl.clock import ManualClock
from impl.layout import MAX_SHARDS, shard_of
from impl.profile import HARDENED, KEVY_1_17, Profile
from impl.save_commit import CorruptSaveCommit, format_commit, parse_commit
from impl.store import ShardFailed, Store, StoreConfig
from model.crashfs import CrashFS, Fault, FaultPlan

DIR = "/data"
NO_AOF = {"aof_enabled": False}


def _half_save(k: int, model: str) -> Program:
    # `s` on shard 1, `n` on shard 0 (asserted below): a power cut between the two
    # snapshot renames keeps one shard's new snapshot.
    return Program(
        "no",
        2,
        [
            ["w", "SADD", "s", "1"],
            ["w", "INCRBY", "n", "1"],
            ["crash", ["save"], k, "before", model, []],
        ],
        config=dict(NO_AOF),
    )


def test_the_keys_used_here_live_on_different_shards() -> None:
    assert (shard_of(b"s", 2), shard_of(b"n", 2)) == (1, 0)


def test_kevy_recovers_shards_from_two_different_saves() -> None:
    failures = [
        execute(_half_save(k, "process-crash"), KEVY_1_17, lenient=True) for k in range(1, 12)
    ]
    hit = [f for f in failures if f is not None]
    assert hit and all(f.rule == "no_prefix" for f in hit), hit
    assert hit[0].judgement is not None and hit[0].judgement.recovered is not None
    assert [k["key"] for k in hit[0].judgement.recovered["keys"]] == ["n"]


@pytest.mark.parametrize("model", ["process-crash", "ordered", "posix"])
@pytest.mark.parametrize("k", range(1, 16))
@pytest.mark.parametrize(
    "profile", [KEVY_1_17.with_switches("save_commit_across_shards"), HARDENED]
)
def test_a_committed_save_is_all_or_nothing(profile: Profile, k: int, model: str) -> None:
    assert execute(_half_save(k, model), profile, lenient=True) is None


def test_every_strict_prefix_of_a_record_is_torn_and_the_whole_names_its_count() -> None:
    data = format_commit(16)
    assert parse_commit(data) == 16
    for cut in range(len(data)):
        assert parse_commit(data[:cut]) is None, cut


def test_a_record_a_failed_sync_left_as_zeros_is_torn_and_the_store_opens() -> None:
    # F52 (ours): the record's fsync fails (EIO), the save raises before any rename,
    # and the record stays; a power cut keeps its length, not its pages (CrashFS
    # rule 6). The next open refused the directory as a corrupt record, for good.
    data = format_commit(3)
    for n in (1, len(data) - 1, len(data)):
        assert parse_commit(b"\0" * n) is None
    for data in (b"\0" * 5 + b"x", b"X\0", b"XX"):  # bytes we never wrote: not a sync's
        with pytest.raises(CorruptSaveCommit):
            parse_commit(data)
    history = Program("no", 3, [
        ["w", "SET", "a", "1"],
        ["fault", ["save"], "fsync:4", "eio"],
        ["crash", ["w", "SET", "b", "1"], 3, "before", "ordered", [0, 0]],
    ], config=dict(NO_AOF))
    assert execute(history, HARDENED) is None


@pytest.mark.parametrize(
    ("data", "offset"),
    [
        (b"kevy-verify save-commit v2\n3\n", 0),
        (b"garbage", 0),
        (save_commit.HEADER + b"x\n", len(save_commit.HEADER)),
        (save_commit.HEADER + b"03\n", len(save_commit.HEADER)),  # not how we write it
        (save_commit.HEADER + b"1\n", len(save_commit.HEADER)),  # one shard: never ours
        (save_commit.HEADER + b"%d\n" % (MAX_SHARDS + 1), len(save_commit.HEADER)),
        (save_commit.HEADER + b"3\n\n", len(save_commit.HEADER)),
        (save_commit.HEADER + b"99999999999\n", len(save_commit.HEADER)),  # F40's kind
    ],
)
def test_a_record_no_crash_leaves_is_refused_with_its_offset(data: bytes, offset: int) -> None:
    with pytest.raises(CorruptSaveCommit) as e:
        parse_commit(data, "/data/save.commit")
    assert e.value.offset == offset and e.value.path == "/data/save.commit"


def _open(
    fs: CrashFS, shards: int = 3, profile: Profile = HARDENED, log: list[str] | None = None
) -> Store:
    config = StoreConfig(data_dir=DIR, shards=shards, aof_enabled=False)
    return Store.open(
        config,
        fs=fs,
        clock=ManualClock(1_700_000_000_000),
        profile=profile,
        log=(log.append if log is not None else lambda line: None),
    )


def _keys(store: Store) -> dict[str, str]:
    return {k["key"]: k["value"] for k in store.snapshot()["keys"]}


def test_a_failed_rename_after_the_commit_fails_every_shard_and_the_reopen_finishes() -> None:
    fs = CrashFS()
    store = _open(fs)
    for key in (b"a", b"b", b"c"):
        store.execute([b"SET", key, b"1"])
    store.save()
    for key in (b"a", b"b", b"c"):
        store.execute([b"SET", key, b"2"])
    fs.faults = FaultPlan([Fault("rename", "*/dump-1.rdb.tmp")])
    with pytest.raises(OSError):
        store.save()
    fs.faults = FaultPlan()
    with pytest.raises(ShardFailed):
        store.execute([b"SET", b"a", b"3"])
    assert fs.exists(f"{DIR}/{save_commit.COMMIT_NAME}")
    # The process dies (no close: a clean one would save again) and its lock goes.
    assert store.dir_lock is not None
    store.dir_lock.release()
    store = _open(fs)
    assert _keys(store) == {"a": "2", "b": "2", "c": "2"}
    assert not fs.exists(f"{DIR}/{save_commit.COMMIT_NAME}")
    store.close()


def test_a_failure_before_the_commit_leaves_the_old_save_and_a_torn_record_is_removed() -> None:
    fs = CrashFS()
    store = _open(fs)
    for key in (b"a", b"b", b"c"):
        store.execute([b"SET", key, b"1"])
    store.save()
    store.execute([b"SET", b"a", b"2"])
    rec = "*/" + save_commit.COMMIT_NAME
    fs.faults = FaultPlan([Fault("write", rec, "short", nbytes=5), Fault("write", rec)])
    with pytest.raises(OSError):
        store.save()
    fs.faults = FaultPlan()
    store.execute([b"SET", b"b", b"2"])  # the store goes on: nothing was committed
    assert store.dir_lock is not None
    store.dir_lock.release()
    lines: list[str] = []
    store = _open(fs, log=lines)
    assert _keys(store) == {"a": "1", "b": "1", "c": "1"}
    assert not fs.exists(f"{DIR}/{save_commit.COMMIT_NAME}")
    assert "torn save commit" in lines[0]
    store.close()


def test_an_open_refuses_a_hostile_record_and_leaves_it() -> None:
    fs = CrashFS()
    _open(fs).close()
    path = f"{DIR}/{save_commit.COMMIT_NAME}"
    f = fs.create_truncate(path)
    f.write(save_commit.HEADER + b"1000000000\n")
    f.close()
    with pytest.raises(CorruptSaveCommit):
        _open(fs)
    assert fs.exists(path)
