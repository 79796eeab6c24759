"""impl/recovery.py, called directly (issue 15): the CLI tests reach it only
through `dump`/`check` output, which left most of its contract unpinned.

Each test states a rule of the module docstring on a real directory under
tmp_path: what the read-only recovery returns, which lines go to `notes`
(lossy) and which to `info` (what the open would change, kevy's own lines).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from impl.clock import ManualClock
from impl.fs import OsFileSystem
from impl.journal import Journal, JournalUnreadable, format_journal
from impl.keyspace import Keyspace
from impl.layout import Routing, ShardCountError
from impl.profile import HARDENED, KEVY_1_17, Profile
from impl.recovery import recorded_shard_count, recover_directory_readonly
from impl.resp import MAGIC, encode_frame

SET = encode_frame([b"SET", b"k", b"v"])


def _recover(
    directory: str, shards: int | None = None, profile: Profile = KEVY_1_17
) -> tuple[list[Keyspace], list[str], list[str]]:
    notes: list[str] = []
    info: list[str] = []
    ks = recover_directory_readonly(
        OsFileSystem(),
        directory,
        profile=profile,
        clock=ManualClock(1_800_000_000_000),
        notes=notes,
        info=info,
        shards=shards,
    )
    return ks, notes, info


def _change(path: Path, what: str) -> str:
    return f"recovery would change {what} {path} (not written: read-only)"


def test_recorded_shard_count(tmp_path: Path) -> None:
    assert recorded_shard_count(OsFileSystem(), str(tmp_path)) == 1  # nothing recorded
    (tmp_path / "shards.meta").write_bytes(b"3\nkevyhash\n")
    assert recorded_shard_count(OsFileSystem(), str(tmp_path)) == 3


def test_an_empty_directory_would_only_gain_shards_meta(tmp_path: Path) -> None:
    # rule 2: the log is never opened for append, so no aof-0.aof is created
    ks, notes, info = _recover(str(tmp_path))
    assert len(ks) == 1 and len(ks[0]) == 0
    assert notes == []
    assert info == [_change(tmp_path / "shards.meta", "+")]


def test_a_torn_tail_is_a_note_and_the_rest_is_recovered(tmp_path: Path) -> None:
    (tmp_path / "aof-0.aof").write_bytes(MAGIC + SET + SET[:5])
    ks, notes, info = _recover(str(tmp_path))
    entry = ks[0].lookup(b"k")
    assert entry is not None and entry.value == b"v"
    assert notes == [
        f"{tmp_path / 'aof-0.aof'}: offset 36: torn-tail: 5 bytes of an incomplete frame "
        "(needs CRLF ending the bulk length of element 1 of 3)"
    ]
    assert info == [_change(tmp_path / "shards.meta", "+")]


def test_the_recorded_count_and_the_override(tmp_path: Path) -> None:
    (tmp_path / "shards.meta").write_bytes(b"2\nkevyhash\n")
    assert len(_recover(str(tmp_path))[0]) == 2  # rule 1: shards.meta's count
    assert len(_recover(str(tmp_path), shards=3)[0]) == 3  # --shards overrides it


def test_a_committed_journal_is_rolled_forward_in_memory(tmp_path: Path) -> None:
    (tmp_path / "shards.meta").write_bytes(b"1\nkevyhash\n")
    (tmp_path / "aof-0.aof").write_bytes(MAGIC + SET)
    journal = Journal(stamp=5, prev_n=1, n=2, routing=Routing.KEVYHASH)
    (tmp_path / "reshard.journal").write_bytes(format_journal(journal))
    ks, notes, info = _recover(str(tmp_path))
    assert len(ks) == 2 and notes == []
    # kevy's own recovery line arrives without its newline, then the changes
    assert info == [
        f"kevy: completing interrupted re-shard in {tmp_path}: 1 -> 2 shards (kevyhash), stamp 5",
        _change(tmp_path / "aof-0.aof", "-"),
        _change(tmp_path / "aof-0.aof.premigration.5", "+"),
        _change(tmp_path / "reshard.journal", "-"),
        _change(tmp_path / "shards.meta", "~"),
    ]


def test_an_unreadable_journal_names_its_file(tmp_path: Path) -> None:
    (tmp_path / "reshard.journal").write_bytes(b"\xff")
    with pytest.raises(JournalUnreadable) as info:
        _recover(str(tmp_path))
    assert info.value.path == str(tmp_path / "reshard.journal")
    assert str(info.value).startswith(f"{tmp_path / 'reshard.journal'}: unreadable")


def test_an_implausible_recorded_count_is_refused_before_opening(tmp_path: Path) -> None:
    # rule 3 (F40): 5000 shards backed by one directory entry
    (tmp_path / "shards.meta").write_bytes(b"5000\n")
    with pytest.raises(ShardCountError) as info:
        _recover(str(tmp_path))
    assert info.value.path == str(tmp_path / "shards.meta")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shards.meta"]


def test_a_failed_command_is_info_not_a_loss(tmp_path: Path) -> None:
    # kevy's own meaning of the log: a WRONGTYPE reply is not lost data
    sadd = encode_frame([b"SADD", b"k", b"m"])
    (tmp_path / "aof-0.aof").write_bytes(MAGIC + SET + sadd)
    _ks, notes, info = _recover(str(tmp_path))
    assert notes == []
    assert info == [
        f"{tmp_path / 'aof-0.aof'}: offset 36: ignored: SADD: WRONGTYPE Operation against "
        "a key holding the wrong kind of value",
        _change(tmp_path / "shards.meta", "+"),
    ]


def test_recovery_runs_under_the_given_profile(tmp_path: Path) -> None:
    # F1: kevy 1.17 skips stream verbs on replay; hardened replays them.
    (tmp_path / "aof-0.aof").write_bytes(MAGIC + encode_frame([b"XADD", b"s", b"1-1", b"f", b"v"]))
    ks, notes, _ = _recover(str(tmp_path))
    assert ks[0].lookup(b"s") is None
    assert notes == [f"{tmp_path / 'aof-0.aof'}: offset 9: skipped-verb: XADD"]
    ks, notes, _ = _recover(str(tmp_path), profile=HARDENED)
    assert ks[0].lookup(b"s") is not None and notes == []
