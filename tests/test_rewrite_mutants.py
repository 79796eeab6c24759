"""impl/rewrite.py edges mutmut found unpinned (README "Adequacy").

Which streams rule 3 drops (and which it must keep), step 2's dummy entry at
the smallest non-zero last ID, the profile reaching every entry point, and what
reaches the OS before a later row fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from impl.fs import OsFileSystem
from impl.keyspace import Stream, StreamGroup, ZSet
from impl.profile import KEVY_1_17, Profile, get_profile
from impl.resp import MAGIC, encode_frame
from impl.rewrite import dump_aof, key_group, rewrite_frames
from impl.snapshot import CHUNK_SIZE
from tests.recording_fs import RecordingFS

NOW = 1_000_000


def _text(frames: list[list[bytes]]) -> list[str]:
    return [" ".join(a.decode() for a in f) for f in frames]


def test_an_empty_stream_with_a_group_is_kept() -> None:
    # Rule 3 drops a stream only when it has no entries, last ID 0-0 *and* no groups.
    st = Stream(groups={b"g": StreamGroup()})
    assert _text(key_group(b"s", st, None, NOW)) == ["XGROUP CREATE s g 0-0 MKSTREAM"]
    assert key_group(b"s", Stream(), None, NOW) == []


def test_a_stream_with_entries_is_kept_whatever_its_last_id() -> None:
    # A hostile snapshot can load entries under last ID 0-0; the rewrite must
    # still write every entry rather than drop the key.
    st = Stream(entries={(0, 1): [(b"f", b"v")]})
    frames = _text(key_group(b"s", st, None, NOW))
    assert frames[0] == "XADD s 0-1 f v"


@pytest.mark.parametrize("last", [(0, 1), (1, 0)])
def test_the_dummy_entry_recreates_the_smallest_last_ids(last: tuple[int, int]) -> None:
    st = Stream(last_id=last, entries_added=1, max_deleted_id=last)
    text = f"{last[0]}-{last[1]}"
    assert _text(key_group(b"s", st, None, NOW)) == [f"XADD s MAXLEN 0 {text} x x"]


@pytest.mark.parametrize("profile", [KEVY_1_17, get_profile("hardened")])
def test_every_entry_point_writes_scores_as_the_profile_says(
    tmp_path: Path, profile: Profile
) -> None:
    rows = [(b"z", ZSet({b"m": 0.1}), None)]
    text = "0.1" if profile.fixes("exact_rewrite_scores") else "0.10000000000000001"
    expected = [b"ZADD", b"z", text.encode(), b"m"]
    assert list(rewrite_frames(rows, NOW, profile=profile)) == [expected]
    path = tmp_path / "aof.rewrite"
    dump_aof(OsFileSystem(), str(path), rows, NOW, profile=profile)
    assert path.read_bytes() == MAGIC + encode_frame(expected)


def test_a_full_chunk_reaches_the_os_before_a_later_row_fails(tmp_path: Path) -> None:
    # kevy's BufWriter hands the OS each full 1 MiB as soon as it is full; a row
    # that then fails leaves those bytes in the partial file (§2.6).
    def frame_len(n: int) -> int:
        return len(encode_frame([b"SET", b"k", b"x" * n]))

    n = CHUNK_SIZE - len(MAGIC) - frame_len(0)
    while len(MAGIC) + frame_len(n) > CHUNK_SIZE:
        n -= 1
    assert len(MAGIC) + frame_len(n) == CHUNK_SIZE
    rows = [(b"k", b"x" * n, None), (b"bad", 3, None)]
    rec = RecordingFS(OsFileSystem())
    with pytest.raises(TypeError, match="not a keyspace value: int"):
        dump_aof(rec, str(tmp_path / "aof.rewrite"), rows, NOW)  # type: ignore[arg-type]
    assert [len(c[2]) for c in rec.calls if c[0] == "write"] == [CHUNK_SIZE]
    assert (tmp_path / "aof.rewrite").stat().st_size == CHUNK_SIZE


def test_no_xsetid_when_the_entries_leave_the_scalars_as_they_are() -> None:
    # XADD of each entry leaves last ID = the largest entry, entries_added = the
    # entry count, max_deleted_id 0-0: nothing for XSETID to restore.
    st = Stream(
        entries={(1, 0): [(b"f", b"v")], (2, 0): [(b"f", b"w")]}, last_id=(2, 0), entries_added=2
    )
    assert _text(key_group(b"s", st, None, NOW)) == ["XADD s 1-0 f v", "XADD s 2-0 f w"]
    st.max_deleted_id = (0, 1)
    assert _text(key_group(b"s", st, None, NOW))[-1] == (
        "XSETID s 2-0 ENTRIESADDED 2 MAXDELETEDID 0-1"
    )


def test_a_deadline_before_the_epoch_is_written_as_0() -> None:
    assert _text(key_group(b"k", b"v", -NOW - 5, NOW))[-1] == "PEXPIREAT k 0"


def test_a_tombstone_pel_row_is_skipped_and_the_rows_after_it_are_kept() -> None:
    from impl.keyspace import PelRow

    st = Stream(
        entries={(2, 0): [(b"f", b"v")]},
        last_id=(2, 0),
        entries_added=1,
        groups={
            b"g": StreamGroup(
                (2, 0), {b"c": 0}, {(1, 0): PelRow(b"c", 5, 1), (2, 0): PelRow(b"c", 7, 2)}
            )
        },
    )
    frames = _text(key_group(b"s", st, None, NOW))
    assert [f for f in frames if f.startswith("XCLAIM")] == [
        "XCLAIM s g c 0 2-0 TIME 7 RETRYCOUNT 2 FORCE JUSTID"
    ]
