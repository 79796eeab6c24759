"""Two logs concatenated (FINDINGS.md F47).

What: `cat aof-1.aof >> aof-0.aof` (or a log appended to itself by a botched
restore) leaves a file every byte of which parses: the second log's MAGIC reads as
an inline command `KEVYAOF1 ...`, skipped, and its frames follow, replayed into the
first log's shard. kevy 1.17 applies them: another shard's FLUSHALL wipes this one,
the log's own INCRBY counts twice. With `aof_refuse_concatenated` the open refuses,
naming the file and the offset where the second log starts - what the contract's
rule 6 admits for outside damage.

Why: "two logs concatenated" was the one outside damage the hunt did not draw,
since nothing tells a concatenation from a real log - but MAGIC does, where the
second log has one (every kevy 1.2+ log).
"""

from __future__ import annotations

import pytest

from harness.lifecycle import Program, execute
from impl.clock import ManualClock
from impl.errors import CorruptLogRefused
from impl.keyspace import Keyspace
from impl.profile import HARDENED, KEVY_1_17, Profile
from impl.replay import ConcatenatedLog, refuse_concatenated, replay_bytes
from impl.resp import MAGIC, encode_frame

FIX = KEVY_1_17.with_switches("aof_refuse_concatenated")


def _other_shards_flushall() -> Program:
    # Shard 1's log holds the FLUSHALL; appended to shard 0's, it wipes `n`.
    return Program(
        "always",
        2,
        [
            ["w", "FLUSHALL"],
            ["w", "INCRBY", "n", "1"],
            ["damage", "concat"],
        ],
    )


def _own_log_twice() -> Program:
    # The appended copy's first frame joins its MAGIC line (an inline command,
    # skipped, and its pieces after it); from its second frame on it replays whole.
    return Program(
        "always",
        1,
        [["w", "INCRBY", "n", "1"], ["w", "INCRBY", "n", "1"], ["damage", "concat"]],
    )


def test_kevy_replays_another_shards_flushall_over_this_one() -> None:
    failure = execute(_other_shards_flushall(), KEVY_1_17)
    assert failure is not None and failure.rule == "lost_durable", failure
    assert failure.judgement is not None and failure.judgement.recovered is not None
    assert failure.judgement.recovered["keys"] == []


def test_kevy_replays_a_log_appended_to_itself_twice() -> None:
    failure = execute(_own_log_twice(), KEVY_1_17)
    assert failure is not None and failure.rule == "no_prefix", failure
    assert failure.judgement is not None and failure.judgement.recovered is not None
    assert [k["value"] for k in failure.judgement.recovered["keys"]] == ["3"]


@pytest.mark.parametrize("profile", [FIX, HARDENED])
@pytest.mark.parametrize("program", [_other_shards_flushall, _own_log_twice])
def test_a_concatenated_log_is_refused_where_the_second_begins(
    profile: Profile, program: object
) -> None:
    assert execute(program(), profile) is None  # type: ignore[operator]


def _report(data: bytes) -> object:
    return replay_bytes(data, Keyspace(ManualClock(0)), profile=KEVY_1_17, path="/data/aof-0.aof")


def test_the_refusal_names_the_file_and_the_second_headers_offset() -> None:
    first = MAGIC + encode_frame([b"INCRBY", b"n", b"1"])
    second = MAGIC + encode_frame([b"FLUSHALL"])
    with pytest.raises(CorruptLogRefused) as e:
        refuse_concatenated(_report(first + second))  # type: ignore[arg-type]
    assert (e.value.path, e.value.offset, e.value.size) == (
        "/data/aof-0.aof",
        len(first),
        len(first + second),
    )
    cause = e.value.cause
    assert isinstance(cause, ConcatenatedLog)
    assert (cause.message, cause.offset, cause.expected, cause.got, cause.path) == (
        "a second log's header: two logs concatenated",
        len(first),
        "a RESP frame",
        MAGIC,
        "/data/aof-0.aof",
    )


@pytest.mark.parametrize(
    "data",
    [
        MAGIC + encode_frame([b"SET", b"KEVYAOF1", b"KEVYAOF1\n"]),  # the name as data
        MAGIC + encode_frame([b"SET", b"k", b"v"]),
        MAGIC + b"SET k v\r\n",  # an inline command of another kind: not this switch's
        MAGIC + encode_frame([b"KEVYAOF1", b"*1"]),  # the name as a multibulk verb
        b"",
        MAGIC,
    ],
)
def test_a_log_with_one_header_is_not_refused(data: bytes) -> None:
    refuse_concatenated(_report(data))  # type: ignore[arg-type]
