"""impl/layout.py behaviour the rest of the suite left unpinned (issue 15).

Written while triaging mutmut's survivors in impl/layout.py; each test states
a property of the reader or of a helper, not of a mutant:

* `check` prints `str(error)` of `explain_shards_meta` and the notes of
  `non_canonical_meta`; each kind is pinned to its whole text and fields.
* `largest_file_index` names the file behind the inferred shard count
  (kevy's wrapping `X + 1`, the first name wins a tie) and `check_shard_count`
  reports an unlistable directory as holding 0 entries.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from impl.fs import OsFileSystem
from impl.layout import (
    MAX_SHARDS,
    Layout,
    MetaError,
    ShardCountError,
    check_shard_count,
    explain_shards_meta,
    largest_file_index,
    non_canonical_meta,
    premigration_of,
)

UINT = "expected a shard count: optional '+' then ASCII digits, below 2**64"


def _count(why: str, got: bytes) -> str:
    return (
        f"corrupt shards.meta at offset 0: line 1 is not a shard count ({why}): {UINT}, got {got!r}"
    )


# input -> (the line check prints, the error's line field)
META_DIAGNOSTICS: list[tuple[bytes, str, int | None]] = [
    (
        b"",
        f"corrupt shards.meta at offset 0: empty file: no shard count: {UINT}, got b''",
        1,
    ),
    (b" \n", _count("no digits", b" "), 1),
    (b"+\n", _count("no digits", b"+"), 1),
    (b"-5\n", _count("a sign other than a single '+'", b"-5"), 1),
    (
        b"99999999999999999999\n",
        _count("the value does not fit 64 bits", b"99999999999999999999"),
        1,
    ),
    # the '+' is a sign, so the digits after it are what does not fit
    (
        b"+99999999999999999999\n",
        _count("the value does not fit 64 bits", b"+99999999999999999999"),
        1,
    ),
    (b"a5\n", _count("a character that is not an ASCII digit", b"a5"), 1),
    (b"+x1\n", _count("a character that is not an ASCII digit", b"+x1"), 1),
    (
        b"4\nhash\n",
        "corrupt shards.meta at offset 2: line 2 is not a routing tag (kevy ignores a file "
        "with an unknown tag rather than misroute keys): expected 'kevyhash', 'slots', or "
        "nothing (v1 bare count), got b'hash'",
        2,
    ),
    (
        # the line holding the bad byte starts after the leading newline
        b"\n\xff",
        "corrupt shards.meta at offset 1: not valid UTF-8, so kevy reads no layout from "
        "the file: expected UTF-8 text, got b'\\xff'",
        None,
    ),
    (
        # got is the bad byte alone, not the valid text after it
        b"4\n\xffA",
        "corrupt shards.meta at offset 2: not valid UTF-8, so kevy reads no layout from "
        "the file: expected UTF-8 text, got b'\\xff'",
        None,
    ),
]


@pytest.mark.parametrize(("data", "text", "line"), META_DIAGNOSTICS)
def test_meta_diagnostic_is_exact(data: bytes, text: str, line: int | None) -> None:
    with pytest.raises(MetaError) as info:
        explain_shards_meta(data)
    assert str(info.value) == text
    assert info.value.line == line


NOTES: list[tuple[bytes, list[str]]] = [
    (b"4\nkevyhash\n", []),
    # CRLF after line 1 only, with text after it
    (b"4\r\nkevyhash\n", ["CRLF line endings (kevy writes LF)"]),
    # a CRLF on an ignored third line is not a note about the two used lines
    (b"4\nkevyhash\nx\r\n", ["1 extra line after the routing tag (ignored)"]),
    # the last line lacks a newline, but it is an ignored third line
    (b"4\nkevyhash\nextra", ["1 extra line after the routing tag (ignored)"]),
    (b"4\nkevyhash\nx\ny\n", ["2 extra lines after the routing tag (ignored)"]),
    (b"+05\nslots\n", ["'+' sign on the shard count", "leading zeros in the shard count"]),
    (
        b" 007 \n \n",
        [
            "whitespace around the shard count",
            "leading zeros in the shard count",
            "empty routing line (read as kevyhash, the v1 default)",
            "whitespace around the routing tag",
        ],
    ),
    (
        b"0",
        [
            "no newline after the last line",
            "a shard count of 0 (kevy opens at least one shard, so never writes 0)",
            "v1 format: a bare shard count with no routing line (read as kevyhash)",
        ],
    ),
]


@pytest.mark.parametrize(("data", "notes"), NOTES)
def test_non_canonical_notes_are_exact(data: bytes, notes: list[str]) -> None:
    assert non_canonical_meta(data) == notes


def test_layout_and_backup_name_errors_name_the_value() -> None:
    with pytest.raises(TypeError, match=r"^routing must be a Routing, got 'slots'$"):
        Layout(4, "slots")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^shard count must fit a u64, got -1$"):
        Layout(-1)
    with pytest.raises(ValueError, match=rf"^stamp must fit a u128, got {2**128}$"):
        premigration_of("dump-0.rdb", 2**128)


def test_stamp_zero_names_a_backup() -> None:
    # 0 is a u128 (docs/SPEC.md §8.4): a clock at the epoch still names a backup.
    assert premigration_of("aof-0.aof", 0) == "aof-0.aof.premigration.0"


def _touch(directory: Path, *names: str) -> None:
    for name in names:
        (directory / name).write_bytes(b"")


def test_largest_file_index_names_the_file_behind_the_count(tmp_path: Path) -> None:
    fs = OsFileSystem()
    assert largest_file_index(fs, str(tmp_path / "missing")) is None
    assert largest_file_index(fs, str(tmp_path)) is None
    _touch(tmp_path, "shards.meta", "aof-1.aof")
    assert largest_file_index(fs, str(tmp_path)) == (2, "aof-1.aof")
    _touch(tmp_path, "dump-2.rdb")  # one above the best so far
    assert largest_file_index(fs, str(tmp_path)) == (3, "dump-2.rdb")
    _touch(tmp_path, "dump-07.rdb", "dump-3.rdb")
    assert largest_file_index(fs, str(tmp_path)) == (8, "dump-07.rdb")


def test_largest_file_index_first_name_wins_a_tie(tmp_path: Path) -> None:
    # OsFileSystem lists names sorted; aof-5.aof comes before dump-5.rdb.
    _touch(tmp_path, "dump-5.rdb", "aof-5.aof")
    assert largest_file_index(OsFileSystem(), str(tmp_path)) == (6, "aof-5.aof")


def test_largest_file_index_wraps_like_kevy(tmp_path: Path) -> None:
    # X = 2**64 - 1: kevy's wrapping X + 1 is 0, which never beats a real count.
    _touch(tmp_path, "aof-18446744073709551615.aof")
    assert largest_file_index(OsFileSystem(), str(tmp_path)) == (0, "aof-18446744073709551615.aof")
    _touch(tmp_path, "dump-2.rdb")
    assert largest_file_index(OsFileSystem(), str(tmp_path)) == (3, "dump-2.rdb")


def test_shard_count_error_for_an_unlistable_directory(tmp_path: Path) -> None:
    n = MAX_SHARDS + 1
    with pytest.raises(ShardCountError) as info:
        check_shard_count(OsFileSystem(), str(tmp_path / "missing"), n, source="shards.meta")
    err = info.value
    assert (err.offset, err.path) == (0, "shards.meta")
    assert err.message == (
        f"{n} shards, but the directory holds 0 entries and no count above {MAX_SHARDS} "
        "is taken without that many files; kevy 1.17 would loop over every one of them "
        "on open (FINDINGS F40)"
    )
