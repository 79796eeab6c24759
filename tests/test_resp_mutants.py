"""impl/resp.py behaviour the rest of the suite left unpinned (issue 15).

Written while triaging mutmut's survivors in impl/resp.py; each test states a
property of the parser's public surface, not of a mutant:

* `AofScan.truncation` says what a cut-short frame still needs, for each
  place a frame can be cut (docs/SPEC.md §1.2 steps 3.1, 3.4.1, 3.4.3, 3.4.6, 4);
  `check` and `repair` print it.
* `scan_aof` takes any bytes-like image; `AofScan` and `FrameReader` reprs say
  the state; a `CorruptFrame` keeps the path it was given.
"""

from __future__ import annotations

import pytest

from impl.resp import MAGIC, CorruptFrame, FrameReader, Outcome, scan_aof

CUTS: list[tuple[bytes, int, str]] = [
    (b"*3", 2, "CRLF ending the multibulk count"),
    (b"SET a", 5, "CRLF ending the inline command"),
    (b"*2\r\n$1\r\na\r\n", 11, "'$' starting element 2 of 2"),
    (b"*2\r\n$1\r\na\r\n$3", 13, "CRLF ending the bulk length of element 2 of 2"),
    (b"*2\r\n$1\r\na\r\n$3\r\nab", 17, "3 more byte(s): payload and CRLF of element 2 of 2"),
]


@pytest.mark.parametrize(("data", "size", "missing"), CUTS)
def test_truncation_says_what_each_cut_frame_still_needs(
    data: bytes, size: int, missing: str
) -> None:
    scan = scan_aof(data)
    trunc = scan.truncation
    assert trunc is not None
    assert trunc.expected == missing
    assert str(trunc) == (
        f"truncated frame at offset 0 (byte {size}): input ends inside a frame: "
        f"expected {missing}, got {data!r}"
    )


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview])
def test_scan_aof_takes_any_bytes_like_image(wrap: type) -> None:
    data = MAGIC + b"*1\r\n$4\r\nPING\r\n*1\r\n"
    scan = scan_aof(wrap(data))
    assert isinstance(scan.data, bytes) and scan.data == data
    assert [f.argv for f in scan.frames] == [(b"PING",)]
    assert (scan.outcome, scan.stop, scan.count) == (Outcome.TRUNCATED_TAIL, 23, 1)


def test_aof_scan_repr_says_magic_and_state() -> None:
    assert repr(scan_aof(b"")) == "<AofScan 0 bytes, legacy, not scanned>"
    scan = scan_aof(MAGIC + b"*1\r\n$4\r\nPING\r\n")
    assert repr(scan) == "<AofScan 23 bytes, magic, not scanned>"
    assert scan.count == 1
    assert repr(scan) == "<AofScan 23 bytes, magic, clean stop=23 frames=1>"


def test_frame_reader_repr_and_magic_flag() -> None:
    reader = FrameReader()
    # not an AOF: nothing to detect, so known to have no MAGIC from the start
    assert reader.has_magic is False
    reader.feed(b"*1\r\n")
    assert repr(reader) == "<FrameReader at 0, 4 bytes buffered>"
    reader.next_frame()
    reader.feed(b"x")
    with pytest.raises(CorruptFrame):
        reader.next_frame()
    assert repr(reader) == "<FrameReader at 0, corrupt>"
    assert FrameReader(aof=True).has_magic is None


def test_corrupt_frame_keeps_its_path() -> None:
    err = CorruptFrame("expected bulk string", offset=4, at=4, path="aof-0.aof")
    assert err.path == "aof-0.aof"
    assert str(err) == "aof-0.aof: corrupt frame at offset 4: expected bulk string"


RESPINT = "a RESP integer ([+-] then digits, magnitude <= 2**63-1)"

# input -> the line check prints for its corrupt frame. `got` runs to the end of
# the offending header (its CRLF included) or the two bytes that should be CRLF,
# never into the bytes after them.
CORRUPT: list[tuple[bytes, str]] = [
    (
        b"*x\r\n$1",
        "corrupt frame at offset 0 (byte 1): bad multibulk count: "
        f"expected {RESPINT}, got b'x\\r\\n'",
    ),
    (
        b"*1\r\n$x\r\nab\r\n",
        f"corrupt frame at offset 0 (byte 5): bad bulk length: expected {RESPINT}, got b'x\\r\\n'",
    ),
    (
        b"*1\r\n$-1\r\nab\r\n",
        "corrupt frame at offset 0 (byte 5): negative bulk length in request: "
        "expected a length >= 0, got b'-1\\r\\n'",
    ),
    (
        b"*1\r\n$1\r\naXYZ",
        "corrupt frame at offset 0 (byte 9): bulk string not CRLF-terminated: "
        "expected b'\\r\\n', got b'XY'",
    ),
    (
        # 19 digits: the shape of a plain length, but above 2**63-1 (§0 RESPINT)
        b"*1\r\n$9999999999999999999\r\n",
        "corrupt frame at offset 0 (byte 5): bad bulk length: "
        f"expected {RESPINT}, got b'9999999999999999999\\r\\n'",
    ),
    (
        # an empty length right after '$' of a later element: its CRLF is at p + 1
        b"*2\r\n$1\r\na\r\n$\r\n",
        f"corrupt frame at offset 0 (byte 12): bad bulk length: expected {RESPINT}, got b'\\r\\n'",
    ),
]


@pytest.mark.parametrize(("data", "text"), CORRUPT)
def test_corrupt_frame_diagnostic_is_exact(data: bytes, text: str) -> None:
    scan = scan_aof(data)
    assert scan.outcome is Outcome.CORRUPT_FRAME
    assert str(scan.error) == text
