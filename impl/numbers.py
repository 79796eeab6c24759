"""Number grammars and float renderings of kevy 1.17 (docs/SPEC.md §0, §4.2, §6.3, §6.7).

Why a module of its own: the same few grammars decide what a replayed command
means (INCRBY's argument, ZADD's scores, EXPIRE's seconds), and a parser that
is one character more permissive than kevy's replays a log differently. Python's
`int()` and `float()` accept whitespace, `_` separators and non-ASCII digits,
so every grammar is checked with an anchored ASCII pattern first.

Rules:
1. Every parser takes the exact bytes, requires valid UTF-8 first (as kevy's
   `str::from_utf8` does), trims nothing, and returns `None` on rejection.
2. Widths are kevy's: UINT fits u64 unless told otherwise, SINT fits i64.
3. Float text is decided by `repr()` digits (shortest round trip), expanded
   positionally where the SPEC says so.
"""

from __future__ import annotations

import math
import re
import struct
from decimal import Decimal

__all__ = [
    "I64_MAX",
    "I64_MIN",
    "U64_MAX",
    "displayf",
    "float_bits",
    "format_incrbyfloat",
    "format_score_rewrite",
    "format_score_shortest",
    "parse_float",
    "parse_sint",
    "parse_uint",
    "total_order_key",
]

U64_MAX = 2**64 - 1
I64_MAX = 2**63 - 1
I64_MIN = -(2**63)

_UINT = re.compile(rb"\+?[0-9]+")
_SINT = re.compile(rb"[+-]?[0-9]+")
_FLOAT = re.compile(
    rb"[+-]?(?:(?i:inf|infinity|nan)|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def parse_uint(data: bytes, bits: int = 64) -> int | None:
    """UINT of docs/SPEC.md §0: optional single `+`, ASCII digits, fits `bits` unsigned.

    pre: bits > 0
    post: __return__ is None or 0 <= __return__ < 2**bits
    """
    if _UINT.fullmatch(data) is None:
        return None
    # Rust accepts any number of leading zeros; Python's int() refuses text over
    # 4300 digits, so the zeros go first and an over-long rest is out of range.
    significant = data.lstrip(b"+").lstrip(b"0")
    if len(significant) > len(str((1 << bits) - 1)):
        return None
    value = int(significant) if significant else 0
    return value if value < (1 << bits) else None


def parse_sint(data: bytes) -> int | None:
    """SINT of docs/SPEC.md §0: optional `+`/`-`, ASCII digits, fits i64.

    post: __return__ is None or I64_MIN <= __return__ <= I64_MAX
    """
    if _SINT.fullmatch(data) is None:
        return None
    sign = -1 if data[:1] == b"-" else 1
    significant = data.lstrip(b"+-").lstrip(b"0")
    if len(significant) > 19:  # as parse_uint: int() refuses > 4300 digits
        return None
    value = sign * int(significant) if significant else 0
    return value if I64_MIN <= value <= I64_MAX else None


def parse_float(data: bytes) -> float | None:
    """FLOAT of docs/SPEC.md §0: correctly rounded, overflow to ±inf, `-nan` keeps its sign.

    post: __return__ is None or isinstance(__return__, float)
    post: __return__ is None or _FLOAT.fullmatch(data) is not None
    """
    if _FLOAT.fullmatch(data) is None or not _is_utf8(data):
        return None
    # The pattern admits only ASCII, so float() sees exactly the grammar; it is
    # correctly rounded and maps "-nan" to a NaN with the sign bit set.
    return float(data)


def float_bits(x: float) -> int:
    """The IEEE-754 bit pattern of `x` as an unsigned 64-bit integer.

    post: 0 <= __return__ <= U64_MAX
    """
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def total_order_key(x: float) -> int:
    """Sort key of IEEE-754 total order (docs/SPEC.md §6.7): -NaN < -inf < -0.0 < 0.0 < inf < NaN.

    post: isinstance(__return__, int)
    post: I64_MIN <= __return__ <= I64_MAX
    """
    b = struct.unpack("<q", struct.pack("<d", x))[0]
    return b ^ 0x7FFF_FFFF_FFFF_FFFF if b < 0 else b


def displayf(x: float) -> str:
    """DISPLAYF of docs/SPEC.md §0: shortest round-trip digits, positional, no trailing `.0`.

    post: "e" not in __return__ and not __return__.endswith(".0")
    post: math.isnan(x) or float(__return__) == x
    """
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return format(Decimal(repr(x)).normalize(), "f")


def format_incrbyfloat(x: float) -> str:
    """How INCRBYFLOAT stores its result (docs/SPEC.md §6.3).

    post: math.isnan(x) or float(__return__) == x
    """
    if math.isfinite(x) and x == int(x) and abs(x) < 1e17:
        return str(int(x))
    return displayf(x)


def format_score_rewrite(x: float) -> str:
    """S(x) of docs/SPEC.md §4.2: the score text kevy 1.17's rewrite emits (lossy).

    post: parse_float(__return__.encode()) is not None
    post: not (math.isfinite(x) and x.is_integer()) or parse_float(__return__.encode()) == x
    """
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == int(x) and abs(x) < 1e17:
        return str(int(x))
    return format(x, ".17f")


def format_score_shortest(x: float) -> str:
    """Score text that replays to exactly `x` (hardened rewrite).

    Keeps the sign of zero and of NaN; NaN payload bits other than the sign
    are not representable in FLOAT text and are normalised.

    post: math.isnan(x) or float_bits(parse_float(__return__.encode())) == float_bits(x)
    post: float_bits(parse_float(__return__.encode())) >> 63 == float_bits(x) >> 63
    """
    if math.isnan(x):
        return "-nan" if float_bits(x) >> 63 else "nan"
    # repr() is the shortest text that round-trips, and FLOAT accepts its
    # exponent form, so 5e-324 stays short.
    return repr(x)
