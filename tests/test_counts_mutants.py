"""impl/counts.py in process: what a directory records about its shard count (F40).

tests/test_hostile_counts.py drives `dump` and `check` in a child process (an
address-space limit and a timeout guard the parent), so mutmut saw none of this
module run there (README "Adequacy"). These tests call `read_recorded_counts`,
`RecordedCounts.shard_count` and `check_recorded_counts` directly.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from impl.counts import RecordedCounts, check_recorded_counts, read_recorded_counts
from impl.fs import OsFileSystem
from impl.journal import Journal, format_journal
from impl.layout import Layout, Routing, ShardCountError

HUGE = 10**9
FS = OsFileSystem()


def _journal(prev_n: int, n: int) -> bytes:
    return format_journal(Journal(stamp=7, prev_n=prev_n, n=n, routing=Routing.KEVYHASH))


def test_an_empty_directory_records_nothing_and_opens_one_shard(tmp_path: Path) -> None:
    r = read_recorded_counts(FS, str(tmp_path))
    assert r == RecordedCounts(str(tmp_path), None, None, None, None, None, None, None)
    assert r.shard_count == 1
    check_recorded_counts(FS, str(tmp_path))


def test_every_source_is_read_and_the_journal_wins(tmp_path: Path) -> None:
    journal = _journal(2, 3)
    (tmp_path / "reshard.journal").write_bytes(journal)
    (tmp_path / "shards.meta").write_bytes(b"5\nkevyhash\n")
    (tmp_path / "aof-7.aof").write_bytes(b"")
    r = read_recorded_counts(FS, str(tmp_path))
    assert r.directory == str(tmp_path)
    assert r.journal == Journal(stamp=7, prev_n=2, n=3, routing=Routing.KEVYHASH)
    assert r.journal_data == journal and r.journal_error is None
    assert r.layout == Layout(5, Routing.KEVYHASH)
    assert r.meta_data == b"5\nkevyhash\n" and r.meta_error is None
    assert r.largest == (8, "aof-7.aof")
    assert r.shard_count == 3
    (tmp_path / "reshard.journal").unlink()
    assert read_recorded_counts(FS, str(tmp_path)).shard_count == 5  # then shards.meta
    (tmp_path / "shards.meta").unlink()
    assert read_recorded_counts(FS, str(tmp_path)).shard_count == 8  # then the file names


def test_a_zero_count_still_opens_one_shard(tmp_path: Path) -> None:
    (tmp_path / "shards.meta").write_bytes(b"0\n")
    r = read_recorded_counts(FS, str(tmp_path))
    assert r.layout is not None and r.layout.n == 0
    assert r.shard_count == 1


def test_an_unparsable_journal_or_meta_records_bytes_but_no_count(tmp_path: Path) -> None:
    (tmp_path / "reshard.journal").write_bytes(b"not a journal\n")
    (tmp_path / "shards.meta").write_bytes(b"garbage\n")
    (tmp_path / "dump-1.rdb").write_bytes(b"")
    r = read_recorded_counts(FS, str(tmp_path))
    assert r.journal is None and r.journal_data == b"not a journal\n"
    assert r.layout is None and r.meta_data == b"garbage\n"
    assert r.shard_count == 2
    check_recorded_counts(FS, str(tmp_path))  # nothing parsed, nothing to refuse


@pytest.mark.parametrize("name", ["reshard.journal", "shards.meta"])
def test_an_unreadable_file_is_an_error_the_count_raises(tmp_path: Path, name: str) -> None:
    (tmp_path / name).mkdir()  # a directory where the file belongs: reading it fails
    r = read_recorded_counts(FS, str(tmp_path))
    err = r.journal_error if name == "reshard.journal" else r.meta_error
    assert isinstance(err, OSError)
    assert (r.journal_data, r.meta_data) == (None, None)
    with pytest.raises(OSError) as info:
        _ = r.shard_count
    assert info.value is err
    check_recorded_counts(FS, str(tmp_path))  # no bytes, no count to check


@pytest.mark.parametrize("field", ["prev_n", "n"])
def test_a_journal_count_is_refused_at_its_offset(tmp_path: Path, field: str) -> None:
    counts = {"prev_n": 2, "n": 2, field: HUGE}
    data = _journal(counts["prev_n"], counts["n"])
    (tmp_path / "reshard.journal").write_bytes(data)
    with pytest.raises(ShardCountError) as info:
        check_recorded_counts(FS, str(tmp_path))
    assert info.value.path == f"{tmp_path}/reshard.journal"
    assert info.value.offset == data.index(f"\n{field}=".encode()) + len(field) + 2
    assert f"{HUGE} shards, but the directory holds 1 entries" in info.value.message


def test_a_meta_count_is_refused_where_it_starts(tmp_path: Path) -> None:
    (tmp_path / "shards.meta").write_bytes(b"  1000000000\n")
    with pytest.raises(ShardCountError) as info:
        check_recorded_counts(FS, str(tmp_path))
    assert (info.value.path, info.value.offset) == (f"{tmp_path}/shards.meta", 2)


def test_a_file_name_count_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "dump-1.rdb").write_bytes(b"")
    (tmp_path / "aof-999999999.aof").write_bytes(b"")
    with pytest.raises(ShardCountError) as info:
        check_recorded_counts(FS, str(tmp_path))
    assert (info.value.path, info.value.offset) == (f"{tmp_path}/aof-999999999.aof", 0)
    assert info.value.message.startswith(f"{HUGE} shards, but the directory holds 2 entries")


def test_check_uses_the_counts_it_is_given(tmp_path: Path) -> None:
    # Store.open reads the directory once and passes what it read.
    (tmp_path / "shards.meta").write_bytes(b"1000000000\n")
    recorded = read_recorded_counts(FS, str(tmp_path))
    (tmp_path / "shards.meta").write_bytes(b"2\n")
    with pytest.raises(ShardCountError):
        check_recorded_counts(FS, str(tmp_path), recorded)
    check_recorded_counts(FS, str(tmp_path))


def test_a_repeated_journal_count_is_refused_at_its_last_assignment(tmp_path: Path) -> None:
    # parse_journal keeps the last value of a repeated field, so the offset
    # must point there, not at an earlier, harmless one.
    data = _journal(2, 2) + f"n={HUGE}\n".encode()
    (tmp_path / "reshard.journal").write_bytes(data)
    recorded = read_recorded_counts(FS, str(tmp_path))
    assert recorded.journal is not None and recorded.journal.n == HUGE
    with pytest.raises(ShardCountError) as info:
        check_recorded_counts(FS, str(tmp_path), recorded)
    assert info.value.offset == data.rindex(b"\nn=") + 3
    assert data[info.value.offset :].startswith(str(HUGE).encode())


def test_a_journal_that_is_not_utf8_records_bytes_but_no_journal(tmp_path: Path) -> None:
    (tmp_path / "reshard.journal").write_bytes(b"\xff\xfe")
    r = read_recorded_counts(FS, str(tmp_path))
    assert r.journal is None and r.journal_data == b"\xff\xfe" and r.journal_error is None
    assert r.shard_count == 1
