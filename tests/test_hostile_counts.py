"""Shard counts from untrusted places: bounded, refused with file and offset (F40).

A count comes from `shards.meta`, `reshard.journal`, the largest
`dump-<X>.rdb` / `aof-<X>.aof` name, or `--shards`. kevy 1.17 loops over every
shard such a count names when it opens the directory; the tools must neither
hang nor allocate by it in any profile, and `hardened` refuses it
(`bounded_shard_counts`). Each hostile directory runs through `dump` and
`check` in a child process with an address-space limit and a timeout that
fails the test, and must come out byte for byte unchanged.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from impl.clock import ManualClock
from impl.fs import OsFileSystem
from impl.journal import Journal, format_journal
from impl.layout import MAX_SHARDS, Routing, ShardCountError, check_shard_count
from impl.profile import get_profile
from impl.store import Store, StoreConfig
from tests.hostile_support import run_limited, tree_digest
from tests.recording_fs import RecordingFS

HUGE = 10**9


def _journal(prev_n: int, n: int) -> bytes:
    return format_journal(Journal(stamp=7, prev_n=prev_n, n=n, routing=Routing.KEVYHASH))


#: name -> (files to write, the file the error must name, the count's offset in it)
HOSTILE: dict[str, tuple[dict[str, bytes], str, int]] = {
    "meta": ({"shards.meta": b"1000000000\nkevyhash\n"}, "shards.meta", 0),
    "meta-padded": ({"shards.meta": b"  1000000000\n"}, "shards.meta", 2),
    "file-name-aof": ({"aof-1000000000.aof": b""}, "aof-1000000000.aof", 0),
    "file-name-rdb": ({"dump-999999999.rdb": b""}, "dump-999999999.rdb", 0),
}








def _hostile_dir(tmp_path: Path, case: str) -> tuple[Path, str, int]:
    files, culprit, offset = HOSTILE[case]
    d = tmp_path / case
    d.mkdir()
    for name, data in files.items():
        (d / name).write_bytes(data)
    return d, culprit, offset


@pytest.mark.parametrize("profile", ["kevy-1.17", "hardened"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_dump_and_check_refuse_an_unbacked_count(tmp_path: Path, case: str, profile: str) -> None:
    d, culprit, offset = _hostile_dir(tmp_path, case)
    before = tree_digest(d)
    dump = run_limited("dump", "--profile", profile, str(d))
    assert dump.returncode == 2 and dump.stdout == "", dump
    lines = dump.stderr.strip().splitlines()
    assert len(lines) == 1, dump.stderr
    assert f"{d}/{culprit}: corrupt shard count at offset {offset}:" in lines[0], lines[0]
    assert "F40" in lines[0] and "Traceback" not in dump.stderr
    check = run_limited("check", "--profile", profile, str(d))
    assert check.returncode == 1, check
    assert f"{d}/{culprit}: corrupt shard count at offset {offset}:" in check.stdout, check.stdout
    assert tree_digest(d) == before


@pytest.mark.parametrize("field", ["prev_n", "n"])
def test_a_journal_count_is_refused_at_its_offset(tmp_path: Path, field: str) -> None:
    counts = {"prev_n": 2, "n": 2, field: HUGE}
    data = _journal(counts["prev_n"], counts["n"])
    (tmp_path / "reshard.journal").write_bytes(data)
    before = tree_digest(tmp_path)
    dump = run_limited("dump", str(tmp_path))
    offset = data.index(f"\n{field}=".encode()) + len(field) + 2
    assert dump.returncode == 2, dump
    assert f"reshard.journal: corrupt shard count at offset {offset}:" in dump.stderr, dump
    assert tree_digest(tmp_path) == before


def test_shards_flag_is_a_bounded_usage_error(tmp_path: Path) -> None:
    for bad in ("0", str(MAX_SHARDS + 1), str(HUGE), "x"):
        r = run_limited("dump", "--shards", bad, str(tmp_path))
        assert r.returncode == 2 and "not a shard count" in r.stderr, (bad, r.stderr)


def test_a_count_backed_by_that_many_entries_is_plausible(tmp_path: Path) -> None:
    fs = OsFileSystem()
    n = MAX_SHARDS + 5
    check_shard_count(fs, str(tmp_path), MAX_SHARDS, source="x")  # the cap itself: fine
    with pytest.raises(ShardCountError):
        check_shard_count(fs, str(tmp_path), n, source="x")
    for i in range(n):
        (tmp_path / f"aof-{i}.aof").write_bytes(b"")
    check_shard_count(fs, str(tmp_path), n, source="x")  # backed by n entries


def test_kevy_loops_by_the_count_and_hardened_refuses(tmp_path: Path) -> None:
    # F40's history: one 5-byte shards.meta; kevy 1.17's open probes a snapshot
    # and a log path for every shard it names. A count of 5000 keeps the test
    # fast; the probe count grows with the number the file says, not its size.
    (tmp_path / "shards.meta").write_bytes(b"5000\n")
    before = tree_digest(tmp_path)
    rec = RecordingFS(OsFileSystem())
    config = StoreConfig(data_dir=str(tmp_path), reaper="manual", aof_enabled=False)
    with pytest.raises(ShardCountError) as refused:
        Store.open(config, fs=rec, clock=ManualClock(0), profile=get_profile("hardened"))
    assert refused.value.path == f"{tmp_path}/shards.meta" and refused.value.offset == 0
    assert tree_digest(tmp_path) == before  # refused before anything was written
    rec = RecordingFS(OsFileSystem())
    store = Store.open(config, fs=rec, clock=ManualClock(0), profile=get_profile("kevy-1.17"))
    store.close()
    probes = [c for c in rec.calls if c[0] == "exists" and ".rdb" in c[1]]
    assert len(probes) >= 5000, len(probes)


def test_f40_is_registered_and_off_in_kevy() -> None:
    assert get_profile("hardened").fixes("bounded_shard_counts")
    assert not get_profile("kevy-1.17").fixes("bounded_shard_counts")
    assert os.path.exists(Path(__file__).parent.parent / "impl" / "counts.py")


def test_the_hunt_bounds_an_open_by_its_directory() -> None:
    # Lifecycle rule 10: the damage step writes F40's shards.meta; kevy 1.17's open
    # runs past the call budget (and would probe 10^9 paths), hardened refuses the
    # file at the count's offset, which rule 6 admits, and the program ends there.
    from harness.lifecycle import Program, execute

    program = Program(
        "always",
        1,
        [["w", "SET", "a", "1"], ["damage", "meta_count"], ["w", "SET", "b", "1"]],
    )
    failure = execute(program, get_profile("kevy-1.17"))
    assert failure is not None and failure.rule == "unbounded_open", failure
    assert "over the budget" in failure.message
    assert execute(program, get_profile("kevy-1.17+bounded_shard_counts")) is None
    assert execute(program, get_profile("hardened")) is None


def test_a_re_shard_of_sixteen_shards_stays_inside_the_budget() -> None:
    # The budget must not call an honest open unbounded: 16 -> 1 -> 16 shards, twice.
    from harness.lifecycle import Program, execute

    steps: list[list[object]] = [["w", "SET", k, "1"] for k in "abc"]
    steps += [["reopen", 1], ["reopen", 16], ["reopen", 10], ["reopen", 16]]
    assert execute(Program("always", 16, steps), get_profile("kevy-1.17")) is None
