"""The error tree of kevy-verify.

One root, `KevyVerifyError`. Leaves are named for what a recovery must do
with the bad bytes (the h11 habit of splitting errors by who is at fault):

* `TruncatedInput` — the input stops before a unit is complete. Every byte
  present is consistent with a valid unit: a crash mid-append. Recoverable by
  cutting the tail.
* `CorruptInput` — bytes are present and wrong. Refuse: cutting would
  silently drop data that may follow.

`Refusal` is the other kind of leaf: nothing failed to decode in the usual
sense, but going on would put data at risk, so the caller declines
(`CorruptLogRefused`: a store will not append behind a corrupt frame). The
CLI exits 1 for a refusal, 2 for any other error.

Every `DecodeError` carries where it happened: `offset` (start of the unit
being decoded, e.g. the frame or record), `at` (the offending byte, or the end
of input for a truncation), `expected` and `got`, and `path` once known. Its
one-line `str()` is what the CLI prints, e.g.::

    aof-0.aof: corrupt frame at offset 1041 (byte 1046): expected b'$', got b'*'
"""

from __future__ import annotations

from typing import Self

__all__ = [
    "CorruptInput",
    "CorruptLogRefused",
    "DecodeError",
    "KevyVerifyError",
    "Refusal",
    "TruncatedInput",
    "UsageError",
    "quote_bytes",
    "shown",
]

_QUOTE_LIMIT = 32


def quote_bytes(data: bytes, limit: int = _QUOTE_LIMIT) -> str:
    """`repr` of at most `limit` bytes, with an ellipsis when cut."""
    if len(data) <= limit:
        return repr(bytes(data))
    return repr(bytes(data[:limit])) + "..."


def shown(text: str) -> str:
    """`text` safe to print on a terminal: every control or invisible format
    character (C0 incl. CR/LF/ESC, DEL, C1, line/paragraph separators, bidi
    and other Cf marks) as a `\\xNN` / `\\uNNNN` escape.

    The one escaping function for anything shown that came from a file or a
    file name: it keeps a hostile name or argument from moving the cursor,
    recolouring the terminal or forging an output line.
    """
    if text.isprintable():
        return text
    out = []
    for ch in text:
        code = ord(ch)
        if ch.isprintable() or ch == " ":
            out.append(ch)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)


class KevyVerifyError(Exception):
    """Root of every error kevy-verify raises on purpose."""


class UsageError(KevyVerifyError):
    """The caller asked for something that cannot be done (bad option, bad path)."""


class DecodeError(KevyVerifyError):
    """Bytes in a kevy file could not be decoded. Abstract: raise a leaf."""

    #: what kind of unit was being decoded ("frame", "record", "journal", ...)
    unit: str = "input"

    def __init__(
        self,
        message: str,
        *,
        offset: int,
        at: int | None = None,
        expected: str | None = None,
        got: bytes | None = None,
        path: str | None = None,
        line: int | None = None,
    ) -> None:
        if type(self) is DecodeError:
            raise TypeError("DecodeError is abstract: raise TruncatedInput or CorruptInput")
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.at = offset if at is None else at
        self.expected = expected
        self.got = got
        self.path = path
        #: 1-based line at fault in a line-oriented file (shards.meta, the
        #: journal), None for binary formats or a fault at the end of input
        self.line = line

    def with_path(self, path: str) -> Self:
        """Return self with `path` filled in (the parser does not know the file)."""
        self.path = path
        return self

    def shifted(self, delta: int) -> Self:
        """Return self with offsets moved by `delta` (parser ran on a slice)."""
        self.offset += delta
        self.at += delta
        return self

    def __str__(self) -> str:
        where = f"offset {self.offset}" if self.at == self.offset else (
            f"offset {self.offset} (byte {self.at})"
        )
        text = f"{self.describe()} at {where}: {self.message}"
        if self.expected is not None and self.got is not None:
            text += f": expected {self.expected}, got {quote_bytes(self.got)}"
        elif self.got is not None:
            text += f": got {quote_bytes(self.got)}"
        return shown(f"{self.path}: {text}" if self.path else text)

    def describe(self) -> str:
        return f"bad {self.unit}"


class TruncatedInput(DecodeError):
    """The input ends inside a unit that was valid so far (crash mid-write)."""

    def describe(self) -> str:
        return f"truncated {self.unit}"


class CorruptInput(DecodeError):
    """The bytes of a unit are present and violate the format."""

    def describe(self) -> str:
        return f"corrupt {self.unit}"


class Refusal(KevyVerifyError):
    """Declined on purpose: going on would lose or hide data. Nothing was changed."""


class CorruptLogRefused(Refusal):
    """Opening a log whose frame at `offset` is corrupt (not merely truncated) is refused.

    Raised under switch `aof_refuse_corrupt`. kevy 1.17 replays up to the
    corrupt frame and then appends behind it, where replay never reaches:
    every later write is lost at the next open. Cutting the frame instead
    would silently drop the complete frames that may follow it, so the only
    safe move is to stop and leave the file to the operator, as Redis does
    (it refuses to start and points at redis-check-aof).

    `path` is the log, `offset` the start of the corrupt frame, `size` the
    file's length (bytes from `offset` on are the ones replay drops), and
    `cause` the parser's `CorruptInput` with the offending byte.
    """

    def __init__(self, path: str, offset: int, size: int, cause: CorruptInput) -> None:
        self.path = path
        self.offset = offset
        self.size = size
        self.cause = cause
        detail = cause.message
        if cause.expected is not None and cause.got is not None:
            detail += f": expected {cause.expected}, got {quote_bytes(cause.got)}"
        super().__init__(
            f"{path}: refusing to open the log: corrupt frame at offset {offset} "
            f"(byte {cause.at}): {detail}; replay would drop the {size - offset} bytes "
            f"from offset {offset} on and every write appended after them; nothing was "
            f"changed (inspect: kevy-verify check {path})"
        )
