"""What a refused intent or save record says (impl/cross_shard.py, impl/save_commit.py).

What: each way a `cross-shard.intent` or `save.commit` is refused, with every field
of the typed error an operator reads (message, offset, offending byte, expected and
found bytes, path), and the edges of the record's shard count.

Why: mutmut (README "Adequacy") left these alive: the tests of F45 and F46 checked
that a hostile file is refused and where, not what the refusal says.
"""

from __future__ import annotations

import pytest

from impl import cross_shard, save_commit
from impl.clock import ManualClock
from impl.cross_shard import CorruptIntent, format_intent, parse_intent
from impl.layout import MAX_SHARDS
from impl.profile import HARDENED
from impl.resp import CorruptFrame, parse_frame
from impl.save_commit import CorruptSaveCommit, parse_commit
from impl.store import Store, StoreConfig
from model.crashfs import CrashFS

INTENT = cross_shard.HEADER
RECORD = save_commit.HEADER
PATH = "/data/x"


def _intent_error(data: bytes) -> CorruptIntent:
    with pytest.raises(CorruptIntent) as e:
        parse_intent(data, PATH)
    return e.value


def _record_error(data: bytes) -> CorruptSaveCommit:
    with pytest.raises(CorruptSaveCommit) as e:
        parse_commit(data, PATH)
    return e.value


@pytest.mark.parametrize("data", [b"garbage", b"kevy-verify cross-shard-intent v2\n*1\r\n"])
def test_an_intent_without_its_header_says_so(data: bytes) -> None:
    e = _intent_error(data)
    assert (e.message, e.offset, e.at, e.expected, e.got, e.path) == (
        "not a cross-shard intent",
        0,
        0,
        repr(INTENT),
        data[: len(INTENT)],
        PATH,
    )


def test_a_corrupt_command_names_the_byte_the_parser_stopped_at() -> None:
    body = b"*1\r\n!3\r\nabc\r\n"
    with pytest.raises(CorruptFrame) as cause:
        parse_frame(INTENT + body, len(INTENT))
    e = _intent_error(INTENT + body)
    assert (e.message, e.offset, e.at) == (
        f"corrupt command: {cause.value.message}",
        len(INTENT),
        cause.value.at,
    )
    assert e.at > len(INTENT)


def test_a_foreign_command_is_refused_at_its_end() -> None:
    data = format_intent((b"SET", b"k", b"v"))
    e = _intent_error(data)
    assert (e.message, e.offset, e.at) == (
        "not a command this store writes an intent for",
        len(INTENT),
        len(data),
    )


@pytest.mark.parametrize("data", [b"garbage", b"kevy-verify save-commit v2\n3\n"])
def test_a_record_without_its_header_says_so(data: bytes) -> None:
    e = _record_error(data)
    assert (e.message, e.offset, e.expected, e.got, e.path) == (
        "not a save commit record",
        0,
        repr(RECORD),
        data[: len(RECORD)],
        PATH,
    )


@pytest.mark.parametrize(
    ("count", "message"),
    [
        (b"x" * 20, "not a shard count"),
        (b"100000", "not a shard count"),  # six digits: no count we write
        (b"10000", f"shard count 10000 outside 2..{MAX_SHARDS}"),  # five: read, then bounded
        (b"1", f"shard count 1 outside 2..{MAX_SHARDS}"),
        (b"%d" % (MAX_SHARDS + 1), f"shard count {MAX_SHARDS + 1} outside 2..{MAX_SHARDS}"),
    ],
)
def test_a_bad_count_says_which(count: bytes, message: str) -> None:
    e = _record_error(RECORD + count + b"\n")
    assert (e.message, e.offset) == (message, len(RECORD))
    if message == "not a shard count":
        assert e.got == (count + b"\n")[:8]


def test_the_largest_shard_count_is_a_record() -> None:
    assert parse_commit(RECORD + b"%d\n" % MAX_SHARDS) == MAX_SHARDS


def _hostile_open(name: str, data: bytes) -> Exception:
    fs = CrashFS()
    config = StoreConfig(data_dir="/data", shards=3, aof_enabled=name == cross_shard.INTENT_NAME)
    Store.open(config, fs=fs, clock=ManualClock(0), profile=HARDENED).close()
    f = fs.create_truncate(f"/data/{name}")
    f.write(data)
    f.close()
    with pytest.raises(Exception) as e:
        Store.open(config, fs=fs, clock=ManualClock(0), profile=HARDENED)
    return e.value


def test_an_open_names_the_refused_files_path() -> None:
    e = _hostile_open(cross_shard.INTENT_NAME, b"garbage")
    assert isinstance(e, CorruptIntent) and e.path == "/data/cross-shard.intent"
    e = _hostile_open(save_commit.COMMIT_NAME, b"garbage")
    assert isinstance(e, CorruptSaveCommit) and e.path == "/data/save.commit"
