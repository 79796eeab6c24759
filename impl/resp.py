"""RESP framing as kevy 1.17 writes and reads it in AOF files (docs/SPEC.md §1, §4.5).

What: the canonical frame encoder, kevy's frame parser (multibulk *and* the
inline fallback), an AOF scanner that classifies how a file ends, kevy's
one-line replay summary, and an incremental reader for streams.

Why: replay, `dump`, `check` and `repair` must accept, reject and stop at
exactly the bytes kevy does. The parser below is docs/SPEC.md §1.2 step for step; where
Python would be more lenient (`int()` takes spaces, `_` and Unicode digits;
`bytes.split()` treats 0x0B as a separator) the code says so.

Reader contract (h11 style) — every parsing entry point has three outcomes:

1. **A frame.** `parse_frame(buf, start)` returns a `Frame` whose `offset` is
   `start` and whose `end` is one past its last byte; the caller continues at
   `end`.
2. **`NEED_DATA`.** Every byte present is consistent with a frame that is not
   finished yet. Nothing is consumed; call again with more bytes. A length
   field is never trusted before its bytes exist: `$9223372036854775807` gives
   `NEED_DATA`, not an allocation.
3. **`CorruptFrame` is raised.** Bytes are present and violate §1.2. Its
   `kind` is kevy's `Malformed` string, `offset` the frame start, `at` the
   offending byte.

Rules:

* Offsets are absolute: in the buffer given, or in the whole stream for
  `FrameReader`.
* Work is O(n) overall: each CRLF search resumes where the previous one gave
  up, and the element loop touches only header bytes (payloads are sliced).
* The outcome of a whole file is decided by the first frame that does not
  parse (§1.3): `NEED_DATA` → truncated tail (recoverable by cutting),
  `CorruptFrame` → corrupt frame (refuse; data may follow).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from impl.errors import CorruptInput, TruncatedInput

__all__ = [
    "BAD_BULK_LENGTH",
    "BAD_MULTIBULK_COUNT",
    "BULK_NOT_CRLF_TERMINATED",
    "EXPECTED_BULK_STRING",
    "MAGIC",
    "NEED_DATA",
    "NEGATIVE_BULK_LENGTH",
    "AofScan",
    "CorruptFrame",
    "Frame",
    "FrameKind",
    "FrameReader",
    "NeedData",
    "Outcome",
    "TruncatedFrame",
    "encode_frame",
    "estimate",
    "format_replay_summary",
    "iter_frames",
    "parse_frame",
    "scan_aof",
]

# --------------------------------------------------------------------------
# Constants.

#: §1.1: the 9-byte header of every AOF written by kevy 1.2+; recognised only
#: at offset 0 and only in full (a shorter or different start means "legacy").
MAGIC: Final = b"KEVYAOF1\n"

#: §0 RESPINT: the magnitude is an i64, so this is the largest accepted.
I64_MAX: Final = 9223372036854775807

#: §1.2 `Malformed(...)` kinds, spelled exactly as kevy prints them.
BAD_MULTIBULK_COUNT: Final = "bad multibulk count"  # §1.2 step 3.2
EXPECTED_BULK_STRING: Final = "expected bulk string"  # §1.2 step 3.4.2
BAD_BULK_LENGTH: Final = "bad bulk length"  # §1.2 step 3.4.4
NEGATIVE_BULK_LENGTH: Final = "negative bulk length in request"  # §1.2 step 3.4.5
BULK_NOT_CRLF_TERMINATED: Final = "bulk string not CRLF-terminated"  # §1.2 step 3.4.7

_CRLF: Final = b"\r\n"
_STAR: Final = 0x2A
_DOLLAR: Final = 0x24
_CR: Final = 0x0D
_LF: Final = 0x0A
#: §1.2 step 4.2: inline separators are {20, 09, 0A, 0C, 0D}. `bytes.split()`
#: would also split on 0x0B, so map the five to a space and split on that.
_INLINE_SEPARATORS: Final = bytes.maketrans(b"\t\n\x0c\r", b"    ")
#: `got` in errors quotes at most this many bytes (STYLE: one readable line).
_GOT_LIMIT: Final = 32
#: §1.3 step 5: the corrupt-frame warning previews this many bytes.
_PREVIEW_LIMIT: Final = 16
#: A decimal of fewer digits than this cannot exceed I64_MAX (19 digits can),
#: so the fast path may call int() on it directly.
_SAFE_DIGITS: Final = 19

_RESPINT_EXPECTED: Final = "a RESP integer ([+-] then digits, magnitude <= 2**63-1)"


# --------------------------------------------------------------------------
# Results.


class NeedData(enum.Enum):
    """Type of the `NEED_DATA` sentinel (an enum so type checkers narrow it)."""

    NEED_DATA = "NEED_DATA"

    def __repr__(self) -> str:
        return "NEED_DATA"


#: Returned when the bytes so far are a valid but unfinished frame (§1.2).
NEED_DATA: Final = NeedData.NEED_DATA

FrameKind = Literal["multibulk", "inline", "null"]


@dataclass(frozen=True, slots=True)
class Frame:
    """One parsed frame. `argv` is what replay applies (possibly empty)."""

    argv: tuple[bytes, ...]
    #: absolute offset of the frame's first byte
    offset: int
    #: absolute offset one past its last byte (the next frame starts here)
    end: int
    #: "multibulk" (`*N` with N >= 0), "null" (`*` with a negative count, §1.2
    #: step 3.3: empty argv) or "inline" (§1.2 step 4)
    kind: FrameKind

    @property
    def size(self) -> int:
        """Bytes the frame occupies."""
        return self.end - self.offset

    @property
    def canonical(self) -> bool:
        """True iff the bytes are exactly `encode_frame(argv)` (all kevy writes).

        Computed from lengths alone: a parsed multibulk frame differs from the
        canonical one only in how its headers spell their numbers, and any
        accepted spelling other than `DEC(x)` (a sign, a leading zero, `-0`)
        is strictly longer. So equal length means equal bytes.
        """
        return self.kind == "multibulk" and self.end - self.offset == estimate(self.argv)


class CorruptFrame(CorruptInput):
    """A frame's bytes are present and violate §1.2 (refuse; do not cut)."""

    unit = "frame"

    def __init__(
        self,
        kind: str,
        *,
        offset: int,
        at: int,
        expected: str | None = None,
        got: bytes | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(kind, offset=offset, at=at, expected=expected, got=got, path=path)
        #: kevy's `Malformed(...)` string, one of the five §1.2 kinds
        self.kind = kind


class TruncatedFrame(TruncatedInput):
    """The input ends inside a frame that is valid so far (cut the tail)."""

    unit = "frame"


class Outcome(enum.StrEnum):
    """How a replay of an AOF ends (§1.3 step 3). Compares equal to its value."""

    #: every byte was consumed by complete frames
    CLEAN = "clean"
    #: the last frame needs more bytes: a crash mid-append, cut it to recover
    TRUNCATED_TAIL = "truncated_tail"
    #: a frame's bytes are present and wrong: kevy drops the rest, `check` refuses
    CORRUPT_FRAME = "corrupt_frame"


# --------------------------------------------------------------------------
# Encoding (§1.1, §4.5).


def encode_frame(argv: Sequence[bytes]) -> bytes:
    """The canonical multibulk frame for `argv` (§1.1), as kevy writes it.

    post: parse_frame(__return__).argv == tuple(argv)
    post: len(__return__) == estimate(argv)
    """
    parts = [b"*%d\r\n" % len(argv)]
    for arg in argv:
        parts.append(b"$%d\r\n" % len(arg))
        parts.append(arg)
        parts.append(_CRLF)
    return b"".join(parts)


def _digits(x: int) -> int:
    return len(str(x))


def estimate(argv: Sequence[bytes]) -> int:
    """§4.5: `3 + digits(argc) + Σ (5 + digits(len_i) + len_i)` = encoded length.

    post: __return__ == len(encode_frame(argv))
    """
    total = 3 + _digits(len(argv))
    for arg in argv:
        n = len(arg)
        total += 5 + _digits(n) + n
    return total


# --------------------------------------------------------------------------
# The parser (§1.2).


def _respint(text: bytes | bytearray) -> int | None:
    """§0 RESPINT on raw header bytes, or None if the text is not one.

    int() alone would accept ' 1', '1_0' and non-ASCII digits, and refuses
    more than 4300 digits, which leading zeros may legally reach.

    post: __return__ is None or -I64_MAX <= __return__ <= I64_MAX
    post: __return__ is None or text.lstrip(b"+-").isdigit()
    """
    negative = False
    if text[:1] in (b"+", b"-"):
        negative = text[0] == 0x2D
        text = text[1:]
    if not text or not text.isdigit():  # bytes.isdigit() is ASCII-only
        return None
    significant = text.lstrip(b"0")
    if len(significant) > _SAFE_DIGITS:
        return None
    value = int(significant) if significant else 0
    if value > I64_MAX:
        return None
    return -value if negative else value


class _Partial:
    """Where an unfinished frame stopped, so the next attempt resumes there.

    `count is None` means the first line (inline line or `*` header) has no
    CRLF yet; otherwise `argv` holds the finished elements, `p` is where the
    current element starts, and `e >= 0` means its header is parsed and its
    payload is `[d, e)`. `search` is where the next CRLF search starts: every
    byte before it was already ruled out, which keeps byte-at-a-time feeding
    linear.
    """

    __slots__ = ("argv", "count", "d", "e", "p", "search", "start")

    def __init__(
        self,
        start: int,
        search: int,
        count: int | None = None,
        argv: list[bytes] | None = None,
        p: int = 0,
        d: int = 0,
        e: int = -1,
    ) -> None:
        self.start = start
        self.search = search
        self.count = count
        self.argv = argv
        self.p = p
        self.d = d
        self.e = e

    def missing(self, buf: bytes | bytearray) -> str:
        """What the frame still needs, for a truncated-tail report."""
        if self.count is None:
            if self.start >= len(buf):
                return "a frame"
            if buf[self.start] == _STAR:
                return "CRLF ending the multibulk count"
            return "CRLF ending the inline command"
        argv = self.argv or []
        where = f"element {len(argv) + 1} of {self.count}"
        if self.e >= 0:
            short = self.e + 2 - len(buf)
            return f"{short} more byte(s): payload and CRLF of {where}"
        if self.p >= len(buf):
            return f"'$' starting {where}"
        return f"CRLF ending the bulk length of {where}"


def _corrupt(
    kind: str, buf: bytes | bytearray, start: int, at: int, stop: int, expected: str, base: int
) -> CorruptFrame:
    # `got` runs to `stop`: for a header that includes its CRLF, so an empty
    # header still quotes something (b'\r\n').
    got = bytes(buf[at : min(stop, at + _GOT_LIMIT)])
    return CorruptFrame(kind, offset=base + start, at=base + at, expected=expected, got=got)


def _parse(buf: bytes | bytearray, start: int, base: int, st: _Partial | None) -> Frame | _Partial:
    """One step of §1.2 at `buf[start:]`, resuming from `st` if given.

    Returns the Frame (offsets shifted by `base`), or a `_Partial` meaning
    NEED-MORE, or raises CorruptFrame. This is the only parser: `parse_frame`,
    the AOF scan and `FrameReader` all call it.
    """
    n = len(buf)
    if st is None or st.count is None:
        search = start if st is None else st.search
        if start >= n:  # step 1
            return _Partial(start, start)
        if buf[start] != _STAR:  # step 2 → inline (step 4)
            j = buf.find(_CRLF, search)
            if j < 0:
                return _Partial(start, max(search, n - 1))
            line = bytes(buf[start:j]).translate(_INLINE_SEPARATORS)
            argv = tuple(tok for tok in line.split(b" ") if tok)
            return Frame(argv, base + start, base + j + 2, "inline")
        search = max(search, start + 1)  # step 3.1: find CRLF from index 1
        j = buf.find(_CRLF, search)
        if j < 0:
            return _Partial(start, max(search, n - 1))
        text = buf[start + 1 : j]
        count = int(text) if text.isdigit() and len(text) < _SAFE_DIGITS else _respint(text)
        if count is None:  # step 3.2
            raise _corrupt(
                BAD_MULTIBULK_COUNT, buf, start, start + 1, j + 2, _RESPINT_EXPECTED, base
            )
        if count < 0:  # step 3.3: a null array of any negative count
            return Frame((), base + start, base + j + 2, "null")
        elements: list[bytes] = []
        p = j + 2
        search = p + 1
        d = 0
        e = -1
    else:
        count = st.count
        elements = st.argv if st.argv is not None else []
        p, d, e, search = st.p, st.d, st.e, st.search
    # Step 3.4. `count` may be absurd; the loop still ends, because each
    # element needs at least 6 bytes before the next one is looked at.
    i = len(elements)
    while i < count:
        if e < 0:
            if p >= n:  # 3.4.1
                return _Partial(start, search, count, elements, p)
            if buf[p] != _DOLLAR:  # 3.4.2
                raise _corrupt(EXPECTED_BULK_STRING, buf, start, p, p + 1, "b'$'", base)
            j = buf.find(_CRLF, search)  # 3.4.3 (search starts at p+1)
            if j < 0:
                return _Partial(start, max(search, n - 1), count, elements, p)
            text = buf[p + 1 : j]
            if text.isdigit() and len(text) < _SAFE_DIGITS:  # the canonical shape
                length = int(text)
            else:
                value = _respint(text)
                if value is None:  # 3.4.4
                    raise _corrupt(
                        BAD_BULK_LENGTH, buf, start, p + 1, j + 2, _RESPINT_EXPECTED, base
                    )
                if value < 0:  # 3.4.5 (`$-0` is 0 and passes)
                    raise _corrupt(
                        NEGATIVE_BULK_LENGTH, buf, start, p + 1, j + 2, "a length >= 0", base
                    )
                length = value
            d = j + 2
            e = d + length
        if n < e + 2:  # 3.4.6: compare first, slice only once the bytes exist
            return _Partial(start, search, count, elements, p, d, e)
        if buf[e] != _CR or buf[e + 1] != _LF:  # 3.4.7
            raise _corrupt(BULK_NOT_CRLF_TERMINATED, buf, start, e, e + 2, r"b'\r\n'", base)
        elements.append(buf[d:e])  # 3.4.8
        p = e + 2
        search = p + 1
        e = -1
        i += 1
    argv_out = tuple(elements) if type(buf) is bytes else tuple(map(bytes, elements))
    return Frame(argv_out, base + start, base + p, "multibulk")


def parse_frame(buf: bytes | bytearray | memoryview, start: int = 0) -> Frame | NeedData:
    """Parse one frame at `buf[start:]` (docs/SPEC.md §1.2); see the module contract.

    Returns a Frame with absolute offsets, or `NEED_DATA`; raises
    `CorruptFrame`. A memoryview is copied first (O(len) per call), so loops
    over a large buffer should pass bytes or use `scan_aof`/`FrameReader`.
    """
    if start < 0:
        raise ValueError(f"start must be >= 0, got {start}")
    if isinstance(buf, memoryview):
        buf = buf.tobytes()
    result = _parse(buf, start, 0, None)
    return NEED_DATA if isinstance(result, _Partial) else result


def iter_frames(data: bytes | bytearray, start: int = 0) -> Iterator[Frame]:
    """Yield the complete frames from `start`; stop silently at a truncated
    tail; raise CorruptFrame (after yielding the good frames before it)."""
    pos = start
    n = len(data)
    while pos < n:
        result = _parse(data, pos, 0, None)
        if isinstance(result, _Partial):
            return
        yield result
        pos = result.end


# --------------------------------------------------------------------------
# Whole AOF files (§1.1, §1.3).


class AofScan:
    """One AOF file's frames and how kevy's replay would end (§1.3).

    Lazy and single-pass: iterating `frames` parses as it goes and, when it
    runs to the end, records `outcome`, `stop`, `count` and `error`. Reading
    any of those first runs a pass that keeps no frames. Every pass parses the
    same bytes the same way, so the answers never depend on the order.
    """

    __slots__ = ("_count", "_error", "_outcome", "_partial", "_stop", "data", "has_magic", "start")

    def __init__(self, data: bytes) -> None:
        self.data: bytes = data
        #: the file starts with the exact 9 MAGIC bytes
        self.has_magic: bool = data[: len(MAGIC)] == MAGIC
        #: where frames start: 9 with MAGIC, else 0 (legacy, §1.1)
        self.start: int = len(MAGIC) if self.has_magic else 0
        self._outcome: Outcome | None = None
        self._stop = 0
        self._count = 0
        self._error: CorruptFrame | None = None
        self._partial: _Partial | None = None

    @property
    def size(self) -> int:
        """Length of the file in bytes."""
        return len(self.data)

    @property
    def legacy(self) -> bool:
        """No MAGIC at offset 0 (pre-1.2 layout, or shorter than 9 bytes)."""
        return not self.has_magic

    @property
    def frames(self) -> Iterator[Frame]:
        """A fresh iterator over the complete frames, in file order."""
        return self._walk()

    def _walk(self) -> Iterator[Frame]:
        data = self.data
        n = len(data)
        pos = self.start
        count = 0
        while pos < n:
            try:
                result = _parse(data, pos, 0, None)
            except CorruptFrame as err:
                self._finish(Outcome.CORRUPT_FRAME, pos, count, err, None)
                return
            if isinstance(result, _Partial):
                self._finish(Outcome.TRUNCATED_TAIL, pos, count, None, result)
                return
            yield result
            pos = result.end
            count += 1
        self._finish(Outcome.CLEAN, n, count, None, None)

    def _finish(
        self,
        outcome: Outcome,
        stop: int,
        count: int,
        error: CorruptFrame | None,
        partial: _Partial | None,
    ) -> None:
        self._outcome, self._stop, self._count = outcome, stop, count
        self._error, self._partial = error, partial

    def _summarised(self) -> AofScan:
        if self._outcome is None:
            for _ in self._walk():
                pass
        return self

    @property
    def outcome(self) -> Outcome:
        """How replay ends: clean, truncated tail or corrupt frame."""
        outcome = self._summarised()._outcome
        assert outcome is not None
        return outcome

    @property
    def stop(self) -> int:
        """Offset where parsing stopped: `size` when clean, else the bad frame."""
        return self._summarised()._stop

    @property
    def count(self) -> int:
        """Number of complete frames before `stop` (commands replay applies)."""
        return self._summarised()._count

    @property
    def dropped(self) -> int:
        """Bytes after `stop` that replay does not apply."""
        return self.size - self.stop

    @property
    def error(self) -> CorruptFrame | None:
        """The CorruptFrame when the outcome is corrupt_frame, else None."""
        return self._summarised()._error

    @property
    def truncation(self) -> TruncatedFrame | None:
        """For a truncated tail, what was cut short and what was missing."""
        partial = self._summarised()._partial
        if partial is None:
            return None
        got = self.data[self._stop : self._stop + _GOT_LIMIT]
        return TruncatedFrame(
            "input ends inside a frame",
            offset=self._stop,
            at=self.size,
            expected=partial.missing(self.data),
            got=got,
        )

    def __repr__(self) -> str:
        state = (
            f"{self.outcome.value} stop={self.stop} frames={self.count}"
            if self._outcome is not None
            else "not scanned"
        )
        magic = "magic" if self.has_magic else "legacy"
        return f"<AofScan {self.size} bytes, {magic}, {state}>"


def scan_aof(data: bytes | bytearray | memoryview) -> AofScan:
    """Scan a whole AOF file image (§1.1 shape, §1.3 outcome). Lazy; see AofScan."""
    return AofScan(bytes(data) if not isinstance(data, bytes) else data)


def _preview(chunk: bytes) -> str:
    hexed = " ".join(f"{b:02x}" for b in chunk)
    text = "".join(chr(b) if 0x20 <= b <= 0x7E else "." for b in chunk)
    return f"hex=[{hexed}] ascii=[{text}]"


def format_replay_summary(name: str, scan: AofScan, elapsed: str = "<elapsed>") -> str | None:
    """kevy's one-line stderr summary of a replay (§1.3 step 5); None if empty.

    `name` is the path as kevy was given it; `elapsed` the milliseconds text
    (the golden files replace it by `<elapsed>`).
    """
    if scan.size == 0:
        return None
    outcome = scan.outcome
    head = f"AOF {name} replayed {scan.count} commands"
    if outcome is Outcome.CLEAN:
        return f"kevy: {head} from {scan.size} bytes in {elapsed} ms (clean)"
    if outcome is Outcome.TRUNCATED_TAIL:
        return (
            f"kevy: {head} from {scan.size} bytes in {elapsed} ms; trailing {scan.dropped} "
            "bytes were a partial frame (crash mid-append, recoverable)"
        )
    error = scan.error
    assert error is not None
    preview = _preview(scan.data[scan.stop : scan.stop + _PREVIEW_LIMIT])
    return (
        f"kevy WARN: {head} in {elapsed} ms then hit a corrupt frame at byte {scan.stop}; "
        f"dropping the trailing {scan.dropped} bytes. Preview: {preview}. "
        f'Parser error: Malformed("{error.kind}"). Common cause: non-kevy bytes got written '
        "into this file path (e.g. deploy pipeline redirecting stderr to the AOF)."
    )


# --------------------------------------------------------------------------
# Incremental reading.


class FrameReader:
    """Feed bytes in any chunks; take frames out as they complete.

    `next_frame()` follows the module contract. Offsets are stream offsets
    (bytes fed since creation). The reader keeps the unfinished frame's
    progress, so feeding one huge frame a byte at a time is linear, and it
    never reserves memory from a length field: only fed bytes are held.
    After a CorruptFrame every later call raises the same error.

    With `aof=True` the stream is an AOF file: a leading MAGIC is skipped
    once all 9 bytes are in (until then, or until a byte differs, it waits).
    """

    #: drop consumed bytes from the front once this many have accumulated
    _COMPACT_AT: Final = 1 << 16

    def __init__(self, *, aof: bool = False) -> None:
        self._buf = bytearray()
        self._pos = 0  # start of the next frame in _buf
        self._base = 0  # stream offset of _buf[0]
        self._partial: _Partial | None = None
        self._error: CorruptFrame | None = None
        #: True/False once known; None while an AOF's first bytes may be MAGIC
        self.has_magic: bool | None = None if aof else False

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append bytes to the stream."""
        self._buf += data

    @property
    def offset(self) -> int:
        """Stream offset where the next frame starts."""
        return self._base + self._pos

    @property
    def buffered(self) -> int:
        """Bytes fed but not yet returned inside a frame."""
        return len(self._buf) - self._pos

    def _detect_magic(self) -> bool:
        head = bytes(self._buf[: len(MAGIC)])
        if head == MAGIC:
            self.has_magic = True
            self._pos = len(MAGIC)
        elif MAGIC.startswith(head):
            return False
        else:
            self.has_magic = False
        return True

    def next_frame(self) -> Frame | NeedData:
        """The next complete frame, or NEED_DATA; raises CorruptFrame."""
        if self._error is not None:
            raise self._error
        if self.has_magic is None and not self._detect_magic():
            return NEED_DATA
        if self._partial is None and self._pos >= self._COMPACT_AT:
            del self._buf[: self._pos]
            self._base += self._pos
            self._pos = 0
        try:
            result = _parse(self._buf, self._pos, self._base, self._partial)
        except CorruptFrame as err:
            self._error = err
            raise
        if isinstance(result, _Partial):
            self._partial = result
            return NEED_DATA
        self._partial = None
        self._pos = result.end - self._base
        return result

    def frames(self) -> Iterator[Frame]:
        """Yield every frame complete so far (raises CorruptFrame like next_frame)."""
        while True:
            frame = self.next_frame()
            if isinstance(frame, NeedData):
                return
            yield frame

    def eof(self) -> Outcome:
        """The stream ended: classify what is left (§1.3).

        Call after draining `frames()`. A partial MAGIC at end of stream makes
        the file legacy; its bytes hold no CRLF, so they are a truncated tail.
        """
        if self._error is not None:
            return Outcome.CORRUPT_FRAME
        if self.has_magic is None:
            self.has_magic = False
        return Outcome.TRUNCATED_TAIL if self.buffered else Outcome.CLEAN

    def __repr__(self) -> str:
        state = "corrupt" if self._error is not None else f"{self.buffered} bytes buffered"
        return f"<FrameReader at {self.offset}, {state}>"
