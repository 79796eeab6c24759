"""impl/resp.py: docs/SPEC.md §1 framing, §1.3 replay outcomes, §4.5 estimator.

Every valid case runs three ways (h11's `tr`): whole, grown one byte at a time,
and followed by trailing bytes that must stay unconsumed. Error cases run the
same three ways and must raise exactly kevy's `Malformed` kind at the right
byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from impl.errors import CorruptInput, DecodeError, TruncatedInput
from impl.resp import (
    BAD_BULK_LENGTH,
    BAD_MULTIBULK_COUNT,
    BULK_NOT_CRLF_TERMINATED,
    EXPECTED_BULK_STRING,
    MAGIC,
    NEED_DATA,
    NEGATIVE_BULK_LENGTH,
    CorruptFrame,
    Frame,
    FrameReader,
    Outcome,
    TruncatedFrame,
    encode_frame,
    estimate,
    format_replay_summary,
    iter_frames,
    parse_frame,
    scan_aof,
)
from tests.helpers_resp import argvs, encode_aof, encode_stream, frame_ends, garbage

GOLDEN = Path(__file__).parent / "golden" / "aof"
TRAILING = [b"*", b"\r\n", b"*1\r\n$4\r\nPING\r\n", b"garbage without crlf", b"$-1\r\n"]


# --------------------------------------------------------------------------
# tr(): the three ways of reading one input.


def tr(data: bytes, argv: list[bytes], kind: str = "multibulk", canonical: bool = False) -> None:
    """`data` is exactly one valid frame holding `argv`."""
    expected = Frame(tuple(argv), 0, len(data), kind)  # type: ignore[arg-type]

    frame = parse_frame(data)
    assert frame == expected
    assert frame.canonical is canonical
    assert all(type(a) is bytes for a in frame.argv)

    reader = FrameReader()
    for i in range(len(data) - 1):
        assert parse_frame(data[: i + 1]) is NEED_DATA, f"prefix of {i + 1} bytes"
        reader.feed(data[i : i + 1])
        assert reader.next_frame() is NEED_DATA, f"reader after {i + 1} bytes"
    reader.feed(data[-1:])
    assert reader.next_frame() == expected
    assert reader.buffered == 0

    for trailing in TRAILING:
        assert parse_frame(data + trailing) == expected
        reader = FrameReader()
        reader.feed(data + trailing)
        assert reader.next_frame() == expected
        assert reader.buffered == len(trailing)
        # the same frame at a non-zero start reports absolute offsets
        shifted = parse_frame(b"xx" + data + trailing, 2)
        assert shifted == Frame(expected.argv, 2, 2 + len(data), expected.kind)


def tr_error(data: bytes, kind: str, at: int) -> None:
    """`data` is one corrupt frame whose error shows only with its last byte."""
    for source in (data, data + b"\r\n*1\r\n$1\r\nx\r\n"):
        with pytest.raises(CorruptFrame) as info:
            parse_frame(source)
        err = info.value
        assert (err.kind, err.offset, err.at) == (kind, 0, at)
        assert err.got is not None and 0 < len(err.got) <= 32
        assert err.expected

    with pytest.raises(CorruptFrame) as info:
        parse_frame(b"pad" + data, 3)
    assert (info.value.offset, info.value.at) == (3, 3 + at)

    reader = FrameReader()
    for i in range(len(data) - 1):
        assert parse_frame(data[: i + 1]) is NEED_DATA, f"prefix of {i + 1} bytes"
        reader.feed(data[i : i + 1])
        assert reader.next_frame() is NEED_DATA
    reader.feed(data[-1:])
    with pytest.raises(CorruptFrame) as first:
        reader.next_frame()
    assert (first.value.kind, first.value.at) == (kind, at)
    with pytest.raises(CorruptFrame) as again:  # the reader stays failed
        reader.next_frame()
    assert again.value is first.value


# --------------------------------------------------------------------------
# Valid frames.

LONG_ZEROS = b"0" * 4400  # more digits than int() accepts by default (4300)

VALID = [
    # (bytes, argv, kind, canonical)
    (b"*1\r\n$4\r\nPING\r\n", [b"PING"], "multibulk", True),
    (b"*0\r\n", [], "multibulk", True),
    (b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", [b"SET", b"k", b"v"], "multibulk", True),
    (b"*2\r\n$4\r\na\r\nb\r\n$0\r\n\r\n", [b"a\r\nb", b""], "multibulk", True),
    (b"*1\r\n$3\r\na\rb\r\n", [b"a\rb"], "multibulk", True),
    (b"*1\r\n$12\r\n" + bytes(range(12)) + b"\r\n", [bytes(range(12))], "multibulk", True),
    # §1.2: headers accept `+`, `-0` and leading zeros; none of these is canonical
    (b"*+1\r\n$+4\r\nPING\r\n", [b"PING"], "multibulk", False),
    (b"*1\r\n$-0\r\n\r\n", [b""], "multibulk", False),
    (b"*01\r\n$004\r\nPING\r\n", [b"PING"], "multibulk", False),
    (b"*-0\r\n", [], "multibulk", False),
    (b"*1\r\n$" + LONG_ZEROS + b"3\r\nabc\r\n", [b"abc"], "multibulk", False),
    # §1.2 step 3.3: any negative count is a null array with an empty argv
    (b"*-1\r\n", [], "null", False),
    (b"*-5\r\n", [], "null", False),
    (b"*-9223372036854775807\r\n", [], "null", False),
    (b"*-" + LONG_ZEROS + b"1\r\n", [], "null", False),
    # §1.2 step 4: anything not starting with `*` is an inline command
    (b"PING\r\n", [b"PING"], "inline", False),
    (b"\r\n", [], "inline", False),
    (b"  SET  k\tv \r\n", [b"SET", b"k", b"v"], "inline", False),
    # 0x0B is not a separator; a lone CR and a lone LF are separators inside the line
    (b"a\x0bb c\x0cd\re\nf\r\n", [b"a\x0bb", b"c", b"d", b"e", b"f"], "inline", False),
    (b"$3\r\n", [b"$3"], "inline", False),
    (b"+OK\r\n", [b"+OK"], "inline", False),
    (b"KEVYAOF1\nX\r\n", [b"KEVYAOF1", b"X"], "inline", False),
    (b"\x00\xff \x80\r\n", [b"\x00\xff", b"\x80"], "inline", False),
]


@pytest.mark.parametrize(("data", "argv", "kind", "canonical"), VALID)
def test_valid_frame(data: bytes, argv: list[bytes], kind: str, canonical: bool) -> None:
    tr(data, argv, kind, canonical)


ERRORS = [
    # (bytes, kind, at)
    (b"*\r\n", BAD_MULTIBULK_COUNT, 1),
    (b"*abc\r\n", BAD_MULTIBULK_COUNT, 1),
    (b"*+\r\n", BAD_MULTIBULK_COUNT, 1),
    (b"*-\r\n", BAD_MULTIBULK_COUNT, 1),
    (b"*+-1\r\n", BAD_MULTIBULK_COUNT, 1),
    (b"*1 \r\n", BAD_MULTIBULK_COUNT, 1),  # no trimming (int() would trim)
    (b"* 1\r\n", BAD_MULTIBULK_COUNT, 1),
    (b"*1_0\r\n", BAD_MULTIBULK_COUNT, 1),  # int() would accept the underscore
    ("*\u0661\r\n".encode(), BAD_MULTIBULK_COUNT, 1),  # ARABIC-INDIC DIGIT ONE
    (b"*1\r2\r\n", BAD_MULTIBULK_COUNT, 1),  # a lone CR is not a line end
    (b"*9223372036854775808\r\n", BAD_MULTIBULK_COUNT, 1),
    (b"*-9223372036854775808\r\n", BAD_MULTIBULK_COUNT, 1),  # magnitude must fit i64
    (b"*1\r\n+", EXPECTED_BULK_STRING, 4),
    (b"*2\r\n$1\r\na\r\n*", EXPECTED_BULK_STRING, 11),
    (b"*1\r\n:", EXPECTED_BULK_STRING, 4),
    (b"*1\r\n\r", EXPECTED_BULK_STRING, 4),
    (b"*1\r\n$\r\n", BAD_BULK_LENGTH, 5),
    (b"*1\r\n$x\r\n", BAD_BULK_LENGTH, 5),
    (b"*1\r\n$4 \r\n", BAD_BULK_LENGTH, 5),
    (b"*1\r\n$99999999999999999999\r\n", BAD_BULK_LENGTH, 5),
    (b"*1\r\n$-9223372036854775808\r\n", BAD_BULK_LENGTH, 5),
    (b"*1\r\n$-1\r\n", NEGATIVE_BULK_LENGTH, 5),
    (b"*1\r\n$-01\r\n", NEGATIVE_BULK_LENGTH, 5),
    (b"*1\r\n$1\r\nabc", BULK_NOT_CRLF_TERMINATED, 9),
    (b"*1\r\n$1\r\na\r\r", BULK_NOT_CRLF_TERMINATED, 9),
    (b"*1\r\n$1\r\na\n\r", BULK_NOT_CRLF_TERMINATED, 9),
    (b"*2\r\n$1\r\na\r\n$0\r\nxy", BULK_NOT_CRLF_TERMINATED, 15),
]


@pytest.mark.parametrize(("data", "kind", "at"), ERRORS)
def test_corrupt_frame(data: bytes, kind: str, at: int) -> None:
    tr_error(data, kind, at)


def test_error_reads_as_one_line() -> None:
    with pytest.raises(CorruptFrame) as info:
        parse_frame(b"*2\r\n$1\r\na\r\n*1\r\n", 0)
    err = info.value
    assert isinstance(err, CorruptInput) and isinstance(err, DecodeError)
    assert err.unit == "frame"
    assert str(err) == (
        "corrupt frame at offset 0 (byte 11): expected bulk string: expected b'$', got b'*'"
    )
    assert str(err.with_path("aof-0.aof")).startswith("aof-0.aof: corrupt frame at offset 0")


def test_got_is_capped_at_32_bytes() -> None:
    with pytest.raises(CorruptFrame) as info:
        parse_frame(b"*1\r\n$" + b"x" * 100 + b"\r\n")
    assert info.value.got == b"x" * 32


def test_need_data_repr() -> None:
    assert repr(NEED_DATA) == "NEED_DATA"
    assert parse_frame(b"") is NEED_DATA
    assert parse_frame(b"*1\r\n", 4) is NEED_DATA
    assert parse_frame(b"*1\r\n", 99) is NEED_DATA
    with pytest.raises(ValueError, match="start"):
        parse_frame(b"*0\r\n", -1)


@pytest.mark.parametrize(
    "data",
    [
        # length fields are compared against what is present, never allocated
        b"*1\r\n$9223372036854775807\r\n" + b"x" * 100,
        b"*9223372036854775807\r\n" + b"$1\r\na\r\n" * 10,
        b"*2\r\n$1\r\na\r\n$9223372036854775806\r\n",
        # §1.3: no CRLF after a header means "wait", whatever the header holds
        b"*abc",
        b"*1\r\n$12x",
        b"garbage without crlf",
        b"*1\r\n$3\r\nabc\r",
    ],
)
def test_need_data_not_error(data: bytes) -> None:
    assert parse_frame(data) is NEED_DATA
    reader = FrameReader()
    reader.feed(data)
    assert reader.next_frame() is NEED_DATA
    assert reader.eof() is Outcome.TRUNCATED_TAIL


def test_bytearray_and_memoryview_give_bytes() -> None:
    data = b"*2\r\n$1\r\na\r\n$2\r\nbc\r\n"
    for buf in (bytearray(data), memoryview(data)):
        frame = parse_frame(buf)
        assert frame == parse_frame(data)
        assert all(type(a) is bytes for a in frame.argv)  # type: ignore[union-attr]


# --------------------------------------------------------------------------
# Encoding and the estimator (§1.1, §4.5).


def test_worked_example_set_k_v() -> None:
    wire = bytes.fromhex(
        "2A 33 0D 0A 24 33 0D 0A 53 45 54 0D 0A 24 31 0D 0A 6B 0D 0A 24 31 0D 0A 76 0D 0A"
    )
    assert encode_frame([b"SET", b"k", b"v"]) == wire
    assert estimate([b"SET", b"k", b"v"]) == 27 == len(wire)


def test_estimate_digit_boundaries() -> None:
    assert estimate([]) == 4  # "*0\r\n": digits(0) = 1
    assert estimate([b""]) == 4 + 6
    for n in (9, 10, 99, 100, 1000):
        argv = [b"x" * n]
        assert estimate(argv) == len(encode_frame(argv))
    many = [b""] * 10
    assert estimate(many) == len(encode_frame(many))


@given(argvs)
@example([])
@example([b""])
@example([b"\r\n", b"*1\r\n$1\r\nx\r\n"])
def test_encode_then_parse_is_identity(argv: list[bytes]) -> None:
    data = encode_frame(argv)
    assert estimate(argv) == len(data)
    frame = parse_frame(data)
    assert frame == Frame(tuple(argv), 0, len(data), "multibulk")
    assert frame.canonical  # type: ignore[union-attr]


# --------------------------------------------------------------------------
# Whole files: docs/SPEC.md §1.3 verified examples.

SET_K_V = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"

SPEC_TABLE = [
    # (content, frames, outcome, dropped bytes or (stop, kind))
    (
        MAGIC + b"*1\r\n$99999999999\r\nabc\r\n*1\r\n$4\r\nPING\r\n",
        [],
        Outcome.TRUNCATED_TAIL,
        37,
    ),
    (
        b"*1\r\n$99999999999999999999\r\nabc\r\n",
        [],
        Outcome.CORRUPT_FRAME,
        (0, BAD_BULK_LENGTH),
    ),
    (b"*1\r\n$-1\r\nabc\r\n", [], Outcome.CORRUPT_FRAME, (0, NEGATIVE_BULK_LENGTH)),
    (b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n", [[], [], [b"PING"]], Outcome.CLEAN, 0),
    (
        b"*1\r\n$4\r\nPING\r\n" + b"garbage without crlf",
        [[b"PING"]],
        Outcome.TRUNCATED_TAIL,
        20,
    ),
    (
        b"*3\r\n$3\r\nSET\r\n$1\r\nk" + SET_K_V,
        [],
        Outcome.CORRUPT_FRAME,
        (0, BULK_NOT_CRLF_TERMINATED),
    ),
    (
        b"KEVYAOF" + SET_K_V,
        [[b"KEVYAOF*3"], [b"$3"], [b"SET"], [b"$1"], [b"k"], [b"$1"], [b"v"]],
        Outcome.CLEAN,
        0,
    ),
    (
        b"*+1\r\n$+4\r\nPING\r\n*1\r\n$-0\r\n\r\n*01\r\n$004\r\nPING\r\n",
        [[b"PING"], [b""], [b"PING"]],
        Outcome.CLEAN,
        0,
    ),
]


@pytest.mark.parametrize(("content", "frames", "outcome", "detail"), SPEC_TABLE)
def test_spec_verified_examples(
    content: bytes, frames: list[list[bytes]], outcome: Outcome, detail: object
) -> None:
    scan = scan_aof(content)
    assert [list(f.argv) for f in scan.frames] == frames
    assert scan.outcome is outcome
    assert scan.count == len(frames)
    if outcome is Outcome.CORRUPT_FRAME:
        stop, kind = detail  # type: ignore[misc]
        assert scan.stop == stop
        assert scan.error is not None and scan.error.kind == kind
        assert scan.truncation is None
    else:
        assert scan.dropped == detail
        assert scan.error is None
        assert (scan.truncation is not None) == (outcome is Outcome.TRUNCATED_TAIL)


def test_partial_magic_is_legacy() -> None:
    scan = scan_aof(b"KEVYAOF" + SET_K_V)
    assert scan.legacy and not scan.has_magic and scan.start == 0
    assert all(f.kind == "inline" for f in scan.frames)


@pytest.mark.parametrize("n", range(len(MAGIC)))
def test_short_files_are_legacy(n: int) -> None:
    scan = scan_aof(MAGIC[:n])
    assert scan.legacy
    if n == 0:
        assert scan.outcome is Outcome.CLEAN
        assert format_replay_summary("aof-0.aof", scan) is None
    else:
        # a MAGIC prefix holds no CRLF, so as inline text it is a partial frame
        assert (scan.outcome, scan.stop, scan.count) == (Outcome.TRUNCATED_TAIL, 0, 0)


def test_magic_only_and_magic_elsewhere() -> None:
    scan = scan_aof(MAGIC)
    assert (scan.has_magic, scan.outcome, scan.count, scan.stop) == (True, "clean", 0, 9)
    assert format_replay_summary("a.aof", scan) == (
        "kevy: AOF a.aof replayed 0 commands from 9 bytes in <elapsed> ms (clean)"
    )
    # MAGIC is recognised only at offset 0: later it is inline text
    later = scan_aof(b"*0\r\n" + MAGIC + b"\r\n")
    assert [f.argv for f in later.frames] == [(), (b"KEVYAOF1",)]
    assert later.outcome is Outcome.CLEAN


def test_summary_before_iteration_and_repeated_iteration_agree() -> None:
    data = MAGIC + encode_stream([[b"SET", b"a", b"1"]] * 3) + b"*1\r\n$1\r\nab"
    first = scan_aof(data)
    assert (first.outcome, first.count, first.stop) == (Outcome.TRUNCATED_TAIL, 3, len(data) - 10)
    second = scan_aof(data)
    assert list(second.frames) == list(second.frames) == list(first.frames)
    assert (second.outcome, second.count, second.stop) == (first.outcome, 3, first.stop)
    assert "truncated_tail" in repr(second)


def test_truncation_reports_what_is_missing() -> None:
    scan = scan_aof(MAGIC + b"*2\r\n$3\r\nSET\r\n$10\r\nab")
    trunc = scan.truncation
    assert isinstance(trunc, TruncatedFrame) and isinstance(trunc, TruncatedInput)
    assert (trunc.offset, trunc.at) == (9, scan.size)
    assert trunc.expected == "10 more byte(s): payload and CRLF of element 2 of 2"
    assert str(trunc).startswith("truncated frame at offset 9 (byte 29)")


def test_corrupt_summary_preview_of_short_tail() -> None:
    data = b"*1\r\n$0\r\n\r\n*1\r\n$-1\r\n"
    scan = scan_aof(data)
    assert format_replay_summary("x.aof", scan, elapsed="3") == (
        "kevy WARN: AOF x.aof replayed 1 commands in 3 ms then hit a corrupt frame at byte 10; "
        "dropping the trailing 9 bytes. Preview: hex=[2a 31 0d 0a 24 2d 31 0d 0a] "
        'ascii=[*1..$-1..]. Parser error: Malformed("negative bulk length in request"). '
        "Common cause: non-kevy bytes got written into this file path (e.g. deploy pipeline "
        "redirecting stderr to the AOF)."
    )


def test_corrupt_summary_preview_edges() -> None:
    # 0x20 and 0x7E print, 0x7F and 0x1F do not; at most 16 bytes are shown
    data = b"*1\r\n\x7f \x1f~" + b"z" * 20
    line = format_replay_summary("x.aof", scan_aof(data))
    assert line is not None
    assert "hex=[2a 31 0d 0a 7f 20 1f 7e 7a 7a 7a 7a 7a 7a 7a 7a] " in line
    assert "ascii=[*1... .~zzzzzzzz]" in line
    assert 'Malformed("expected bulk string")' in line


def test_iter_frames_raises_after_good_frames() -> None:
    data = encode_stream([[b"A"], [b"B"]]) + b"*1\r\n+x\r\n"
    seen = []
    with pytest.raises(CorruptFrame) as info:
        for frame in iter_frames(data):
            seen.append(frame.argv)
    assert seen == [(b"A",), (b"B",)]
    assert info.value.offset == len(encode_stream([[b"A"], [b"B"]]))
    # a truncated tail ends the iteration quietly
    assert list(iter_frames(data[:-4])) == list(iter_frames(data[:-8]))


# --------------------------------------------------------------------------
# Golden files written by the real kevy.

GOLDEN_NAMES = sorted(p.name[: -len(".replay.json")] for p in GOLDEN.glob("*.replay.json"))


def test_golden_files_present() -> None:
    assert len(GOLDEN_NAMES) == 4


@pytest.mark.parametrize("name", GOLDEN_NAMES)
def test_golden_replay(name: str) -> None:
    expected = json.loads((GOLDEN / f"{name}.replay.json").read_text())
    data = (GOLDEN / f"{name}.aof").read_bytes()
    scan = scan_aof(data)
    frames = list(scan.frames)
    assert [[a.decode("latin-1") for a in f.argv] for f in frames] == expected["frames"]
    assert scan.outcome == expected["stop"]
    assert scan.size == expected["size"]
    assert format_replay_summary(expected["file"], scan) == expected["stderr_summary"]
    # kevy's writer only ever produces canonical multibulk frames
    assert all(f.canonical for f in frames)
    assert scan.has_magic == (name != "aof_legacy_nomagic")
    # the streaming reader, fed odd-sized chunks, sees the same frames
    reader = FrameReader(aof=True)
    streamed: list[Frame] = []
    try:
        for at in range(0, len(data), 7):
            reader.feed(data[at : at + 7])
            streamed.extend(reader.frames())
    except CorruptFrame as err:
        assert scan.error is not None and err.kind == scan.error.kind
    assert streamed == frames
    assert reader.eof() == scan.outcome


# --------------------------------------------------------------------------
# Properties.


@given(st.lists(argvs, max_size=6), st.data())
def test_every_prefix_is_frames_then_truncated_tail(
    frames: list[list[bytes]], data: st.DataObject
) -> None:
    aof = encode_aof(frames)
    cut = data.draw(st.integers(0, len(aof)), label="cut")
    scan = scan_aof(aof[:cut])
    assert scan.outcome is not Outcome.CORRUPT_FRAME
    if cut < len(MAGIC):
        # a partial MAGIC is legacy inline text with no CRLF: all of it is the tail
        assert scan.legacy and scan.count == 0
        assert scan.outcome is (Outcome.CLEAN if cut == 0 else Outcome.TRUNCATED_TAIL)
        return
    ends = frame_ends(frames, len(MAGIC))
    complete = [e for e in ends if e <= cut]
    got = list(scan.frames)
    assert [f.end for f in got] == complete
    assert [list(f.argv) for f in got] == frames[: len(complete)]
    assert scan.stop == (complete[-1] if complete else len(MAGIC))
    assert scan.outcome is (Outcome.CLEAN if scan.stop == cut else Outcome.TRUNCATED_TAIL)


def _one_shot(data: bytes) -> tuple[list[Frame], object]:
    frames: list[Frame] = []
    pos = 0
    while True:
        try:
            frame = parse_frame(data, pos)
        except CorruptFrame as err:
            return frames, ("corrupt", err.kind, err.offset, err.at)
        if frame is NEED_DATA:
            return frames, ("need", pos)
        frames.append(frame)
        pos = frame.end
        if pos == len(data):
            return frames, ("need", pos)


@given(garbage)
@example(b"*1\r\n$9223372036854775807\r\n")
@example(b"*" + b"9" * 30 + b"\r\n")
@example(b"\r\n\r\n*-1\r\n*0\r\n")
def test_random_bytes_only_raise_corrupt_frame_in_range(data: bytes) -> None:
    scan = scan_aof(data)
    frames = list(scan.frames)  # any other exception fails the test
    pos = scan.start
    for frame in frames:
        assert frame.offset == pos < frame.end <= len(data)
        pos = frame.end
    assert scan.stop == (len(data) if scan.outcome is Outcome.CLEAN else pos)
    if scan.outcome is Outcome.CORRUPT_FRAME:
        err = scan.error
        assert err is not None
        assert err.offset == scan.stop <= err.at < len(data)
        assert err.got and len(err.got) <= 32


@given(garbage, st.lists(st.integers(1, 9), min_size=1), st.booleans())
def test_reader_in_any_chunks_matches_one_shot(
    data: bytes, chunks: list[int], fresh_reader_per_call: bool
) -> None:
    frames, end = _one_shot(data)
    reader = FrameReader()
    streamed: list[Frame] = []
    at = i = 0
    outcome: object = None
    while outcome is None:
        step = chunks[i % len(chunks)]
        i += 1
        reader.feed(data[at : at + step])
        at += step
        try:
            streamed.extend(reader.frames())
        except CorruptFrame as err:
            outcome = ("corrupt", err.kind, err.offset, err.at)
        if at >= len(data) and outcome is None:
            outcome = ("need", reader.offset)
    assert streamed == frames
    assert outcome == end


def test_reader_resumes_searches_instead_of_rescanning() -> None:
    # White-box: the saved search position must advance with the data, or a
    # long line fed byte by byte would be rescanned from its start each time.
    reader = FrameReader()
    for _ in range(5000):
        reader.feed(b"x")
        assert reader.next_frame() is NEED_DATA
    assert reader._partial is not None and reader._partial.search >= 4999
    reader.feed(b"\r\n*1\r\n$")
    assert reader.next_frame() == Frame((b"x" * 5000,), 0, 5002, "inline")
    for _ in range(3000):  # a long (leading-zero) length header
        reader.feed(b"0")
        assert reader.next_frame() is NEED_DATA
    assert reader._partial is not None and reader._partial.search >= 5002 + 5 + 2999
    reader.feed(b"100000\r\n")
    assert reader.next_frame() is NEED_DATA
    payload_end = reader._partial.e  # header parsed once, payload awaited by length
    for _ in range(1000):
        reader.feed(b"x")
        assert reader.next_frame() is NEED_DATA
        assert reader._partial.e == payload_end


class _CountingBuffer(bytearray):
    """A bytearray that totals how many bytes its `find` calls cover."""

    scanned = 0

    def find(self, sub: bytes, start: int = 0, *rest: int) -> int:  # type: ignore[override]
        found = super().find(sub, start, *rest)
        type(self).scanned += (found if found >= 0 else len(self)) - start
        return found


@pytest.mark.parametrize(
    ("head", "body"),
    [(b"", b"x"), (b"*", b"1"), (b"*1\r\n$", b"0")],
    ids=["inline line", "multibulk count", "bulk length"],
)
def test_reader_work_is_linear_when_fed_byte_by_byte(head: bytes, body: bytes) -> None:
    # Behavioural twin of the test above: count the bytes CRLF searches cover
    # while a 5000-byte line arrives one byte at a time. Resuming gives ~n;
    # restarting each search at the frame start would give ~n*n/2.
    reader = FrameReader()
    reader._buf = _CountingBuffer()
    _CountingBuffer.scanned = 0
    reader.feed(head)
    for _ in range(5000):
        reader.feed(body)
        assert reader.next_frame() is NEED_DATA
    assert _CountingBuffer.scanned < 3 * 5000


def test_reader_offsets_stay_absolute_across_compaction() -> None:
    frames = [[b"SET", b"k%d" % i, b"v" * 300] for i in range(600)]  # > 64 KiB
    data = encode_aof(frames)
    reader = FrameReader(aof=True)
    got: list[Frame] = []
    for at in range(0, len(data), 1000):
        reader.feed(data[at : at + 1000])
        got.extend(reader.frames())
    assert reader._base > 0  # compaction happened
    assert got == list(scan_aof(data).frames)
    assert reader.eof() is Outcome.CLEAN and reader.has_magic


def test_reader_magic_detection() -> None:
    reader = FrameReader(aof=True)
    for byte in MAGIC:
        assert reader.next_frame() is NEED_DATA
        reader.feed(bytes([byte]))
    assert reader.next_frame() is NEED_DATA and reader.has_magic is True
    assert reader.offset == 9

    legacy = FrameReader(aof=True)
    legacy.feed(b"KEVYAOF" + SET_K_V)
    assert [f.argv for f in legacy.frames()] == [f.argv for f in iter_frames(b"KEVYAOF" + SET_K_V)]
    assert legacy.has_magic is False and legacy.eof() is Outcome.CLEAN

    short = FrameReader(aof=True)
    short.feed(b"KEVY")
    assert short.next_frame() is NEED_DATA and short.has_magic is None
    assert short.eof() is Outcome.TRUNCATED_TAIL and short.has_magic is False
