"""Differential test: impl/resp.py's frame parser against `hiredis.Reader`.

hiredis is Redis's C reply parser. On canonical multibulk frames — all kevy
ever writes — the two must agree frame by frame: same arrays, same bytes, and
the same answer to "is this prefix complete?". Elsewhere they differ on
purpose, because hiredis reads *replies* and kevy reads *requests*. Each
difference below is handled by `compare()`, which walks kevy's frames and,
before asking hiredis for the next reply, decides from kevy's result what
hiredis must do: return the identical array, report "incomplete" (`gets()` is
False), raise `hiredis.ProtocolError`, or — for the few documented cases where
hiredis accepts what kevy rejects — stop comparing. It returns the category it
ended on, and `test_mutations_reach_every_category` checks that generated
inputs really land in the asserting categories, so the comparison is not
vacuous.

Deliberate differences (each pinned by `test_documented_difference`):

1. **Inline commands.** A frame not starting with `*` is an inline command to
   kevy (§1.2 step 4); to hiredis it is a reply of another type (`+OK`,
   `$3`, ...) or a protocol error. Comparison stops at the first such frame.
2. **Header spelling.** kevy's RESPINT accepts `+`, leading zeros and `-0`
   (`*+1`, `$004`, `$-0`); hiredis's `string2ll` accepts only the canonical
   decimal. So a non-canonical kevy frame must make hiredis raise — asserted,
   not skipped.
3. **Negative counts.** kevy reads every negative count as a null array
   (empty argv); hiredis maps `*-1` to None and rejects `*-2` and below
   ("Multi-bulk length out of range"). Both halves are asserted.
4. **`$-1`.** hiredis reads a nil bulk (None inside the array); kevy raises
   `negative bulk length in request`. Comparison stops. `$-2` and below: both
   reject (asserted).
5. **Non-bulk elements.** hiredis accepts nested replies
   (`+ - : * _ , # = % ~ > ( |`) inside an array; kevy raises `expected bulk
   string`. Comparison stops at those bytes; for any other byte hiredis must
   raise ("got X as reply type byte") — asserted.
6. **Bulk terminator.** hiredis skips the two bytes after a payload without
   looking at them; kevy requires CRLF (`bulk string not CRLF-terminated`).
   Comparison stops.
7. **Counts allocate in hiredis.** hiredis sizes the reply array from the
   count before any element arrives (`*4294967295` is a MemoryError, 2**32 and
   above "out of range"); kevy never allocates from a length and answers
   NEED_DATA. hiredis is not asked about a frame whose count exceeds
   `HIREDIS_COUNT_LIMIT`.
8. **CR handling is the same.** Both find a line end as the first CRLF,
   skipping a lone CR (hiredis's `seekNewline`), and both reject a header with
   a CR inside; no transformation is needed and generated inputs exercise it.
9. **Errors carry no location in hiredis.** `ProtocolError` has a message
   only, and the reader stays failed afterwards, so the comparison is on
   *which frame* fails; kevy's kinds and offsets are tested in test_resp.py.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import hiredis
import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

from impl.resp import (
    BAD_BULK_LENGTH,
    BAD_MULTIBULK_COUNT,
    BULK_NOT_CRLF_TERMINATED,
    EXPECTED_BULK_STRING,
    NEED_DATA,
    NEGATIVE_BULK_LENGTH,
    CorruptFrame,
    Frame,
    NeedData,
    encode_frame,
    parse_frame,
)
from tests.helpers_resp import argvs, encode_stream, mutated_streams

#: hiredis allocates an array of this many slots up front; keep it small
HIREDIS_COUNT_LIMIT = 1 << 16
#: type bytes hiredis accepts as an array element (difference 5); measured
#: with hiredis 3.x by feeding b"*1\r\n" + each byte
HIREDIS_ELEMENT_TYPES = frozenset(b"#$%(*+,-:=>_|~")

# Categories compare() can end on. The first five assert something about
# hiredis; the rest are the documented places where comparing stops.
ALL_CONSUMED = "all consumed"  # hiredis returned every frame, then incomplete
BOTH_INCOMPLETE = "both incomplete"  # kevy NEED_DATA and hiredis gets() False
HIREDIS_REJECTS_SPELLING = "hiredis rejects non-canonical header"  # difference 2/3
BOTH_REJECT = "both reject"  # kevy CorruptFrame, hiredis ProtocolError
HIREDIS_REJECTS_TYPE = "hiredis rejects element type"  # difference 5, unknown byte
STOP_INLINE = "stop: inline command"  # difference 1
STOP_NIL_BULK = "stop: $-1 is nil to hiredis"  # difference 4
STOP_NESTED = "stop: hiredis accepts nested reply"  # difference 5
STOP_TERMINATOR = "stop: hiredis ignores the bulk terminator"  # difference 6
STOP_BIG_COUNT = "stop: hiredis would allocate the count"  # difference 7
ASSERTING = {ALL_CONSUMED, BOTH_INCOMPLETE, HIREDIS_REJECTS_SPELLING, BOTH_REJECT}


def _is_dec(text: bytes) -> bool:
    """Canonical decimal of a non-negative integer (what string2ll accepts, >= 0)."""
    return text.isdigit() and (text == b"0" or not text.startswith(b"0"))


def _count_header(data: bytes, pos: int) -> bytes | None:
    end = data.find(b"\r\n", pos + 1)
    return None if end < 0 else data[pos + 1 : end]


def _tail_headers_canonical(tail: bytes) -> bool:
    """For a tail kevy called NEED_DATA: are all its complete headers DEC?

    kevy has already accepted every complete header here, so each one parses;
    the only question is whether hiredis's stricter spelling rule accepts it.
    """
    end = tail.find(b"\r\n", 1)
    if end < 0:
        return True
    if not _is_dec(tail[1:end]):
        return False
    p = end + 2
    for _ in range(int(tail[1:end])):
        if p >= len(tail):
            return True
        end = tail.find(b"\r\n", p + 1)
        if end < 0:
            return True
        if not _is_dec(tail[p + 1 : end]):
            return False
        p = end + 2 + int(tail[p + 1 : end]) + 2
    return True  # pragma: no cover - a complete frame is not NEED_DATA


def _expect_protocol_error(reader: hiredis.Reader, data: bytes, pos: int) -> None:
    __tracebackhide__ = True
    try:
        reply = reader.gets()
    except hiredis.ProtocolError:
        return
    pytest.fail(f"hiredis accepted {data[pos:]!r} as {reply!r}; kevy's reading says it must not")


def compare(data: bytes, parse: Callable[[bytes, int], Frame | NeedData] = parse_frame
            ) -> tuple[str, int]:
    """Check hiredis against kevy on `data`; return (category, frames compared).

    `parse` is kevy's reading of the frame at an offset (`parse_frame` by
    default); the fuzz target passes the frames its scan already produced so
    each input is parsed once, not once per oracle.
    """
    reader = hiredis.Reader()
    reader.feed(data)
    pos = compared = 0
    while True:
        if pos == len(data):
            assert reader.gets() is False
            return ALL_CONSUMED, compared
        if data[pos] != ord("*"):
            return STOP_INLINE, compared
        header = _count_header(data, pos)
        if header is not None and _is_dec(header) and int(header) > HIREDIS_COUNT_LIMIT:
            return STOP_BIG_COUNT, compared
        try:
            result = parse(data, pos)
        except CorruptFrame as err:
            return _compare_error(reader, data, pos, err), compared
        if result is NEED_DATA:
            if _tail_headers_canonical(data[pos:]):
                assert reader.gets() is False, f"hiredis completed {data[pos:]!r}"
                return BOTH_INCOMPLETE, compared
            _expect_protocol_error(reader, data, pos)
            return HIREDIS_REJECTS_SPELLING, compared
        assert isinstance(result, Frame)
        if result.canonical:
            assert reader.gets() == list(result.argv), f"frame at {pos}"
        elif result.kind == "null" and data[pos : result.end] == b"*-1\r\n":
            assert reader.gets() is None
        else:
            _expect_protocol_error(reader, data, pos)
            return HIREDIS_REJECTS_SPELLING, compared
        compared += 1
        pos = result.end


def _compare_error(reader: hiredis.Reader, data: bytes, pos: int, err: CorruptFrame) -> str:
    if err.kind == BULK_NOT_CRLF_TERMINATED:
        return STOP_TERMINATOR
    if err.kind == NEGATIVE_BULK_LENGTH and err.got is not None and err.got.startswith(b"-1\r\n"):
        return STOP_NIL_BULK
    if err.kind == EXPECTED_BULK_STRING:
        if data[err.at] in HIREDIS_ELEMENT_TYPES:
            return STOP_NESTED
        _expect_protocol_error(reader, data, pos)
        return HIREDIS_REJECTS_TYPE
    assert err.kind in (BAD_MULTIBULK_COUNT, BAD_BULK_LENGTH, NEGATIVE_BULK_LENGTH)
    _expect_protocol_error(reader, data, pos)
    return BOTH_REJECT


# --------------------------------------------------------------------------


@given(st.lists(argvs, max_size=5))
def test_valid_streams_agree_frame_by_frame(frames: list[list[bytes]]) -> None:
    data = encode_stream(frames)
    assert compare(data) == (ALL_CONSUMED, len(frames))


@given(st.lists(argvs, min_size=1, max_size=4), st.data())
def test_prefixes_agree_on_completeness(frames: list[list[bytes]], data: st.DataObject) -> None:
    stream = encode_stream(frames)
    cut = data.draw(st.integers(0, len(stream)), label="cut")
    category, compared = compare(stream[:cut])
    assert category in (ALL_CONSUMED, BOTH_INCOMPLETE)
    complete = sum(1 for end in _ends(frames) if end <= cut)
    assert compared == complete


def _ends(frames: list[list[bytes]]) -> list[int]:
    ends, pos = [], 0
    for argv in frames:
        pos += len(encode_frame(argv))
        ends.append(pos)
    return ends


@given(mutated_streams())
@example(b"*1\r\n$1\r\nkXY")
@example(b"*2\r\n$1\r\na\r\n$-1\r\n")
@example(b"*1\r\n$04\r\nab")
@example(b"*-2\r\n")
@example(b"*1\r\n$1\r1\r\nk\r\n")
def test_mutated_streams(data: bytes) -> None:
    category, _ = compare(data)
    event(category)


def _mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        if not buf:
            break
        at = rng.randrange(len(buf))
        byte = rng.choice(b"*$+-:0123456789\r\n _,#") if rng.random() < 0.7 else rng.randrange(256)
        op = rng.randrange(4)
        if op == 0:
            buf[at] = byte
        elif op == 1:
            buf.insert(at, byte)
        elif op == 2:
            del buf[at]
        else:
            del buf[at:]
    return bytes(buf)


def test_mutations_reach_every_category() -> None:
    # Guards against a vacuous differential: seeded mutations of valid streams
    # must land in every asserting category, and most inputs must compare at
    # least one frame or assert an error/incomplete verdict on hiredis. (About
    # a quarter stop at once: a mutated length usually misplaces a bulk
    # terminator, which hiredis does not check; with this seed 76% assert.)
    rng = random.Random(20261123)
    seen: dict[str, int] = {}
    asserted = 0
    for _ in range(3000):
        frames = [
            [rng.randbytes(rng.choice([0, 1, 3, 12])) for _ in range(rng.randint(0, 4))]
            for _ in range(rng.randint(1, 3))
        ]
        category, compared = compare(_mutate(rng, encode_stream(frames)))
        seen[category] = seen.get(category, 0) + 1
        asserted += category in ASSERTING or category == HIREDIS_REJECTS_TYPE or compared > 0
    for category in [*ASSERTING, HIREDIS_REJECTS_TYPE, STOP_TERMINATOR, STOP_NESTED]:
        assert seen.get(category, 0) > 0, f"no mutation reached {category!r}: {seen}"
    assert asserted > 0.7 * 3000, seen


@pytest.mark.parametrize(
    ("data", "hiredis_replies", "category"),
    [
        # 1: inline commands are replies to hiredis
        (b"PING\r\n", "error", STOP_INLINE),
        (b"+OK\r\n", [b"OK"], STOP_INLINE),
        # 2: spellings kevy accepts and hiredis does not
        (b"*+1\r\n$4\r\nPING\r\n", "error", HIREDIS_REJECTS_SPELLING),
        (b"*01\r\n$4\r\nPING\r\n", "error", HIREDIS_REJECTS_SPELLING),
        (b"*1\r\n$004\r\nPING\r\n", "error", HIREDIS_REJECTS_SPELLING),
        (b"*1\r\n$-0\r\n\r\n", "error", HIREDIS_REJECTS_SPELLING),
        (b"*-0\r\n", "error", HIREDIS_REJECTS_SPELLING),
        (b"*1\r\n$04\r\nPI", "error", HIREDIS_REJECTS_SPELLING),  # even in a partial tail
        # 3: negative counts
        (b"*-1\r\n", [None], ALL_CONSUMED),
        (b"*-2\r\n", "error", HIREDIS_REJECTS_SPELLING),
        # 4: nil bulk
        (b"*1\r\n$-1\r\n", [[None]], STOP_NIL_BULK),
        (b"*1\r\n$-2\r\n", "error", BOTH_REJECT),
        # 5: nested replies as elements
        (b"*1\r\n:1\r\n", [[1]], STOP_NESTED),
        (b"*1\r\n*0\r\n", [[[]]], STOP_NESTED),
        (b"*1\r\nX\r\n", "error", HIREDIS_REJECTS_TYPE),
        # 6: the bulk terminator is not checked by hiredis
        (b"*1\r\n$1\r\nkXY", [[b"k"]], STOP_TERMINATOR),
        # 7: hiredis decides on a count before its elements exist
        (b"*4294967296\r\n", "error", STOP_BIG_COUNT),
        # 8: lone CR: both skip it when looking for the line end, both reject it
        (b"*1\r\n$1\r1\r\nk\r\n", "error", BOTH_REJECT),
        (b"*1\r\n$3\r\na\rb\r\n", [[b"a\rb"]], ALL_CONSUMED),
        (b"*abc", [], BOTH_INCOMPLETE),
        (b"*1\r\n$9223372036854775807\r\nabc", [], BOTH_INCOMPLETE),
    ],
)
def test_documented_difference(data: bytes, hiredis_replies: object, category: str) -> None:
    reader = hiredis.Reader()
    reader.feed(data)
    replies: list[object] = []
    try:
        while (reply := reader.gets()) is not False:
            replies.append(reply)
    except hiredis.ProtocolError:
        replies = "error"  # type: ignore[assignment]
    assert replies == hiredis_replies
    assert compare(data)[0] == category
