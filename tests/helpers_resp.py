"""Shared Hypothesis strategies and reference helpers for the RESP tests."""

from __future__ import annotations

from hypothesis import strategies as st

from impl.resp import MAGIC, encode_frame

#: bytes that matter to the parser, so generated values hit its edges often
TRICKY_VALUES = [b"", b"\r\n", b"\r", b"\n", b"*1\r\n", b"$-1\r\n", b"\x0b", b"0", b"-"]

args = st.one_of(st.binary(max_size=40), st.sampled_from(TRICKY_VALUES))
argvs = st.lists(args, max_size=8)

#: tokens that assemble into near-RESP garbage: signs, digits, CR/LF, type bytes
GARBAGE_TOKENS = [
    b"*", b"$", b"\r\n", b"\r", b"\n", b"0", b"1", b"3", b"-", b"+", b" ", b"\x0b",
    b":", b"a", b"99999999999999999999", b"9223372036854775807", b"*1\r\n$1\r\nx\r\n",
]  # fmt: skip
garbage = st.one_of(
    st.binary(max_size=64),
    st.lists(st.sampled_from(GARBAGE_TOKENS), max_size=24).map(b"".join),
)


def encode_stream(frames: list[list[bytes]]) -> bytes:
    """Canonical frames back to back, no MAGIC."""
    return b"".join(encode_frame(argv) for argv in frames)


def encode_aof(frames: list[list[bytes]]) -> bytes:
    """A valid AOF file as kevy 1.2+ writes it: MAGIC then canonical frames."""
    return MAGIC + encode_stream(frames)


def frame_ends(frames: list[list[bytes]], start: int) -> list[int]:
    """Absolute end offsets of each encoded frame, the first one beginning at `start`."""
    ends = []
    pos = start
    for argv in frames:
        pos += len(encode_frame(argv))
        ends.append(pos)
    return ends


@st.composite
def mutated_streams(draw: st.DrawFn) -> bytes:
    """A valid frame stream with a few byte-level edits (flip, insert, delete, cut)."""
    data = bytearray(encode_stream(draw(st.lists(argvs, min_size=1, max_size=4))))
    for _ in range(draw(st.integers(1, 3))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "insert", "delete", "cut"]))
        byte = draw(st.one_of(st.sampled_from(b"*$+-:0123456789\r\n _,#"), st.integers(0, 255)))
        if op == "flip":
            data[at] = byte
        elif op == "insert":
            data.insert(at, byte)
        elif op == "delete":
            del data[at]
        else:
            del data[at:]
    return bytes(data)
