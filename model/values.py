"""Value types and number grammars of the keyspace model: how Redis 7.2 reads
and writes the values its write verbs touch.

What: the five collection value types plus strings (bytes), and the exact
parsers and printers Redis 7.2 applies to numbers on the wire:

* `parse_ll` — `string2ll` (util.c): the strict i64 grammar of INCRBY, LSET,
  EXPIRE, ... (no `+`, no leading zeros, no `-0`, at most 20 bytes).
* `parse_stream_ull` — `string2ull` (util.c): `string2ll`, falling back to C
  `strtoull` (which does accept ` +007`), used for stream ID parts.
* `parse_double` / `parse_long_double` — `string2d` / `string2ld` (util.c):
  C `strtod` / `strtold` on the whole argument (hex floats and `infinity`
  accepted; leading space, trailing garbage, NaN, overflow and underflow to
  zero rejected).
* `format_double` — `d2string` (util.c, 7.2): `nan`/`inf`/`-inf`/`-0`, integers
  in [-2^62, 2^62] via `ll2string`, everything else via `fpconv_dtoa`, a
  Grisu2 port (deps/fpconv) reproduced here step for step.
* `format_long_double_human` — `ld2string(LD_STR_HUMAN)` (util.c): `%.17Lf`
  with trailing zeros removed, as INCRBYFLOAT stores and replies.

Why: the model is an independent oracle (ARCHITECTURE.md: `model/` imports
nothing from `impl/`). Each routine is written from the Redis 7.2 source
semantics named beside it, not from kevy's SPEC, so where kevy parses or prints
differently (docs/SPEC.md §0 SINT/FLOAT/DISPLAYF) the difference shows up as a finding.

Rules:
1. Exact arithmetic only. Long doubles are emulated with `fractions.Fraction`
   rounded to the x86-64 80-bit format (64-bit significand, exponent range
   -16382..16383); doubles with the same routine at 53 bits. The model
   therefore describes Redis on x86-64 Linux/glibc; on aarch64 `long double`
   is IEEE quad and INCRBYFLOAT results can differ in the last digits.
2. Parsers return None for "rejected"; the caller picks the Redis error text.
3. Nothing here knows about keys, TTLs or replies.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from fractions import Fraction
from typing import NamedTuple

__all__ = [
    "I64_MAX",
    "I64_MIN",
    "MAX_ID",
    "U64_MAX",
    "ZERO_ID",
    "Group",
    "Pending",
    "Stream",
    "StreamID",
    "format_double",
    "format_long_double_human",
    "fpconv_dtoa",
    "long_double_add",
    "parse_double",
    "parse_ll",
    "parse_long_double",
    "parse_stream_id",
    "parse_stream_ull",
]

I64_MAX = (1 << 63) - 1
I64_MIN = -(1 << 63)
U64_MAX = (1 << 64) - 1
_M64 = U64_MAX


# --------------------------------------------------------------------------
# Value types. Strings are plain `bytes`; hashes `dict[bytes, bytes]` (insertion
# order kept, as a small Redis hash keeps it); lists `list[bytes]`; sets
# `set[bytes]`; sorted sets `dict[bytes, float]` (member -> score, ordered on
# demand). Streams need a record of their own.
# --------------------------------------------------------------------------


class StreamID(NamedTuple):
    """A stream entry ID `ms-seq`; tuple order is the stream order."""

    ms: int
    seq: int

    def __str__(self) -> str:
        return f"{self.ms}-{self.seq}"

    def to_bytes(self) -> bytes:
        return str(self).encode("ascii")


ZERO_ID = StreamID(0, 0)
MAX_ID = StreamID(U64_MAX, U64_MAX)


@dataclass(frozen=True)
class Pending:
    """One PEL row: who holds the entry, when it was last delivered, how often."""

    owner: bytes
    delivery_ms: int
    delivery_count: int


@dataclass
class Group:
    """A consumer group: its cursor, its consumers (name -> seen-time ms), its PEL."""

    last_delivered: StreamID
    consumers: dict[bytes, int] = field(default_factory=dict)
    pel: dict[StreamID, Pending] = field(default_factory=dict)


@dataclass
class Stream:
    """A stream (Redis 7 `stream` struct, the parts a client can observe).

    `entries` is kept in ID order: IDs only ever grow on XADD and XSETID can
    never move `last_id` below the top entry, so insertion order is ID order.
    An empty stream is still a key (streams, unlike other collections, do not
    disappear when emptied).
    """

    entries: dict[StreamID, tuple[tuple[bytes, bytes], ...]] = field(default_factory=dict)
    last_id: StreamID = ZERO_ID
    max_deleted_id: StreamID = ZERO_ID
    entries_added: int = 0
    groups: dict[bytes, Group] = field(default_factory=dict)


# --------------------------------------------------------------------------
# Integers.
# --------------------------------------------------------------------------

_LONG_STR_SIZE = 21  # util.h: a valid string2ll input is shorter than this


def parse_ll(data: bytes) -> int | None:
    """Redis `string2ll`: `0` or `-?[1-9][0-9]*` fitting i64, else None.

    Stricter than kevy's SINT (docs/SPEC.md §0): `+5`, `007` and `-0` are rejected.
    """
    if not data or len(data) >= _LONG_STR_SIZE:
        return None
    if data == b"0":
        return 0
    if re.fullmatch(rb"-?[1-9][0-9]*", data) is None:
        return None
    value = int(data)
    return value if I64_MIN <= value <= I64_MAX else None


_C_SPACE = b" \t\n\v\f\r"


def parse_stream_ull(text: bytes) -> int | None:
    """Redis `string2ull` on a C string: `string2ll` (non-negative), else `strtoull`.

    The `strtoull` fallback skips leading C whitespace, takes an optional sign
    and decimal digits, and must consume everything; `-n` wraps modulo 2^64
    (C semantics), out-of-range sets ERANGE and is rejected.
    """
    strict = parse_ll(text)
    if strict is not None:
        return strict if strict >= 0 else None
    if not text:
        return None
    match = re.fullmatch(rb"[ \t\n\v\f\r]*([+-]?)([0-9]+)", text)
    if match is None:
        return None
    magnitude = int(match.group(2))
    if magnitude > U64_MAX:
        return None
    return (-magnitude) % (1 << 64) if match.group(1) == b"-" else magnitude


def parse_stream_id(
    arg: bytes, *, missing_seq: int, strict: bool, allow_auto_seq: bool
) -> tuple[StreamID, bool] | None:
    """Redis `streamGenericParseIDOrReply`: returns (id, seq_given) or None.

    `-`/`+` mean 0-0 / max (rejected when `strict`); `<ms>` means ms-missing_seq;
    `<ms>-*` (only when `allow_auto_seq`, i.e. XADD) returns seq_given=False.
    The argument is a C string: anything after a NUL byte is invisible.
    """
    if len(arg) > 127:
        return None
    text = arg.split(b"\0", 1)[0]
    if strict and text in (b"-", b"+"):
        return None
    if text == b"-":
        return ZERO_ID, True
    if text == b"+":
        return MAX_ID, True
    ms_part, dash, seq_part = text.partition(b"-")
    ms = parse_stream_ull(ms_part)
    if ms is None:
        return None
    if not dash:
        return StreamID(ms, missing_seq), True
    if allow_auto_seq and seq_part == b"*":
        return StreamID(ms, 0), False
    seq = parse_stream_ull(seq_part)
    if seq is None:
        return None
    return StreamID(ms, seq), True


# --------------------------------------------------------------------------
# Binary floating point, exactly. A finite value is a Fraction; infinities are
# the floats ±inf. `_BinaryFormat` describes a radix-2 format by its precision
# and exponent range; rounding is to nearest, ties to even (the C default).
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _BinaryFormat:
    precision: int  # significand bits, hidden bit included
    emin: int  # exponent of the smallest normal number, 2**emin
    emax: int  # exponent of the largest finite binade, 2**emax

    def round(self, x: Fraction) -> Fraction | float:
        """Round an exact rational to this format: a Fraction, or ±inf on overflow."""
        if x == 0:
            return Fraction(0)
        sign = -1 if x < 0 else 1
        a = abs(x)
        exp = a.numerator.bit_length() - a.denominator.bit_length()
        if Fraction(2) ** exp > a:
            exp -= 1  # now 2**exp <= a < 2**(exp+1)
        quantum_exp = max(exp, self.emin) - (self.precision - 1)
        scaled = a / Fraction(2) ** quantum_exp
        n = round(scaled)  # Fraction.__round__ rounds half to even
        result = n * Fraction(2) ** quantum_exp
        if result >= Fraction(2) ** (self.emax + 1):
            return sign * float("inf")
        return sign * result


_DOUBLE = _BinaryFormat(precision=53, emin=-1022, emax=1023)
_LONG_DOUBLE = _BinaryFormat(precision=64, emin=-16382, emax=16383)  # x86-64 80-bit

_DEC_FLOAT = re.compile(rb"([+-]?)([0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE]([+-]?[0-9]+))?")
_HEX_FLOAT = re.compile(
    rb"([+-]?)0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP]([+-]?[0-9]+))?"
)
_INF = re.compile(rb"([+-]?)(?i:inf|infinity)")


def _strto_exact(text: bytes) -> Fraction | float | None:
    """What C `strtod`/`strtold` read from a *whole* string, before rounding.

    Returns an exact Fraction, ±inf for an infinity literal, or None when the
    string is not entirely one number (NaN literals are None too: Redis rejects
    them). Huge exponents are answered by magnitude alone, without building
    enormous integers: anything beyond 10**±6000 over- or underflows every
    format used here.
    """
    if (m := _INF.fullmatch(text)) is not None:
        return -float("inf") if m.group(1) == b"-" else float("inf")
    if (m := _DEC_FLOAT.fullmatch(text)) is not None:
        sign, body, exp_text = m.group(1), m.group(2), m.group(3)
        int_part, _, frac_part = body.partition(b".")
        digits = (int_part + frac_part).lstrip(b"0")
        exp10 = (int(exp_text) if exp_text else 0) - len(frac_part)
        if not digits:
            return Fraction(0)
        magnitude = exp10 + len(digits)  # value is in [10**(magnitude-1), 10**magnitude)
        if magnitude > 6000:
            return -float("inf") if sign == b"-" else float("inf")
        if magnitude < -6000:
            return _TINY * (-1 if sign == b"-" else 1)
        value = Fraction(int(digits)) * Fraction(10) ** exp10
        return -value if sign == b"-" else value
    if (m := _HEX_FLOAT.fullmatch(text)) is not None:
        sign, body, exp_text = m.group(1), m.group(2), m.group(3)
        int_part, _, frac_part = body.partition(b".")
        digits = (int_part + frac_part).lstrip(b"0")
        exp2 = (int(exp_text) if exp_text else 0) - 4 * len(frac_part)
        if not digits:
            return Fraction(0)
        magnitude = exp2 + 4 * len(digits)
        if magnitude > 20000:
            return -float("inf") if sign == b"-" else float("inf")
        if magnitude < -20000:
            return _TINY * (-1 if sign == b"-" else 1)
        value = Fraction(int(digits, 16)) * Fraction(2) ** exp2
        return -value if sign == b"-" else value
    return None


# A nonzero value far below every format's smallest subnormal: it rounds to
# zero, which strtod reports as ERANGE underflow.
_TINY = Fraction(1, 10**6000)


def _parse_c_float(data: bytes, fmt: _BinaryFormat, max_len: int) -> Fraction | float | None:
    """Redis `string2d` / `string2ld`: strtod/strtold over the whole argument.

    Rejected (None): empty or too long input; a leading C space; anything the
    C parser does not consume, a NUL byte included (strtod/strtold stop there,
    short of the argument's length, and util.c requires `eptr - s == slen`);
    NaN; overflow to ±HUGE_VAL and underflow to zero (ERANGE). An
    `inf`/`infinity` literal is accepted as ±inf.
    """
    if not data or len(data) >= max_len or b"\0" in data:
        return None
    if data[:1] in (b" ", b"\t", b"\n", b"\v", b"\f", b"\r"):
        return None
    exact = _strto_exact(data)
    if exact is None:
        return None
    if isinstance(exact, float):  # an infinity literal: no ERANGE
        return exact
    if exact == 0:
        return Fraction(0)  # a literal zero (sign lost; see `parse_double`)
    rounded = fmt.round(exact)
    if isinstance(rounded, float) or rounded == 0:
        return None  # ERANGE: overflow to HUGE_VAL or underflow to zero
    return rounded


def parse_double(data: bytes) -> float | None:
    """Redis 7 `string2d` (ZADD / ZINCRBY scores): a double, or None if rejected."""
    value = _parse_c_float(data, _DOUBLE, max_len=1 << 62)
    if value is None:
        return None
    if isinstance(value, float):
        return value
    if value == 0:
        # strtod keeps the sign of a zero literal: "-0" and "-0.0e5" are -0.0.
        return -0.0 if data[:1] == b"-" else 0.0
    return float(value)  # exact: `value` is already a double


_MAX_LONG_DOUBLE_CHARS = 5 * 1024  # util.h


def parse_long_double(data: bytes) -> Fraction | float | None:
    """Redis `string2ld` (INCRBYFLOAT): exact long double value, ±inf, or None."""
    value = _parse_c_float(data, _LONG_DOUBLE, max_len=_MAX_LONG_DOUBLE_CHARS)
    if isinstance(value, Fraction) and value == 0:
        return Fraction(0)  # -0 and 0 add the same way below; the sign never prints
    return value


def long_double_add(a: Fraction | float, b: Fraction | float) -> Fraction | None:
    """`a + b` in x86-64 long double; None when the sum is NaN or infinite."""
    if isinstance(a, float) or isinstance(b, float):
        return None  # any infinite operand gives inf or NaN
    total = _LONG_DOUBLE.round(a + b)
    return None if isinstance(total, float) else total


def format_long_double_human(value: Fraction) -> bytes:
    """Redis `ld2string(..., LD_STR_HUMAN)`: `%.17Lf`, trailing zeros and `.` cut.

    `-0` becomes `0` (also for tiny negatives that print as `-0.000...`).
    glibc prints the exact binary value rounded to 17 decimals, ties to even.
    """
    scaled = value * 10**17
    n = round(scaled)  # half to even
    negative = value < 0
    digits = str(abs(n)).rjust(18, "0")
    text = f"{'-' if negative else ''}{digits[:-17]}.{digits[-17:]}".rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    return text.encode("ascii")


# --------------------------------------------------------------------------
# d2string and fpconv_dtoa (Redis 7.2 util.c, deps/fpconv/fpconv_dtoa.c).
# Grisu2 is not always the shortest round-trip representation, so it is ported
# operation for operation rather than replaced by Python's repr.
# --------------------------------------------------------------------------

_FRACMASK = 0x000FFFFFFFFFFFFF
_EXPMASK = 0x7FF0000000000000
_HIDDENBIT = 0x0010000000000000
_SIGNMASK = 0x8000000000000000
_EXPBIAS = 1023 + 52
_NPOWERS = 87
_STEPPOWERS = 8
_FIRSTPOWER = -348
_EXPMAX = -32
_EXPMIN = -60
_TENS = [10**i for i in range(19, -1, -1)]  # 10^19 ... 10^0, as fpconv's `tens`


def _cached_power(k: int) -> tuple[int, int]:
    """10**k as a normalized 64-bit significand and binary exponent, rounded to nearest.

    fpconv ships these as a table (fpconv_powers.h); they are recomputed here
    from their definition, and a test pins a few against the table's values.
    """
    x = Fraction(10) ** k
    exp = x.numerator.bit_length() - x.denominator.bit_length()
    if Fraction(2) ** exp > x:
        exp -= 1
    frac = round(x / Fraction(2) ** (exp - 63))
    exp -= 63
    if frac == 1 << 64:
        frac, exp = frac >> 1, exp + 1
    return frac, exp


_POWERS_TEN = [_cached_power(_FIRSTPOWER + i * _STEPPOWERS) for i in range(_NPOWERS)]


def _double_bits(d: float) -> int:
    return int.from_bytes(struct.pack("<d", d), "little")


def _multiply(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    """fpconv `multiply`: the high 64 bits of a 128-bit product, rounded up at bit 63."""
    lomask = 0xFFFFFFFF
    ah_bl = (a[0] >> 32) * (b[0] & lomask)
    al_bh = (a[0] & lomask) * (b[0] >> 32)
    al_bl = (a[0] & lomask) * (b[0] & lomask)
    ah_bh = (a[0] >> 32) * (b[0] >> 32)
    tmp = (ah_bl & lomask) + (al_bh & lomask) + (al_bl >> 32)
    tmp += 1 << 31
    frac = (ah_bh + (ah_bl >> 32) + (al_bh >> 32) + (tmp >> 32)) & _M64
    return frac, a[1] + b[1] + 64


def _find_cachedpow10(exp: int) -> tuple[tuple[int, int], int]:
    one_log_ten = 0.30102999566398114
    approx = int(-(exp + _NPOWERS) * one_log_ten)  # C converts double -> int by truncation
    idx = int((approx - _FIRSTPOWER) / _STEPPOWERS)  # C integer division truncates
    while True:
        current = exp + _POWERS_TEN[idx][1] + 64
        if current < _EXPMIN:
            idx += 1
            continue
        if current > _EXPMAX:
            idx -= 1
            continue
        return _POWERS_TEN[idx], _FIRSTPOWER + idx * _STEPPOWERS


def _round_digit(digits: list[int], delta: int, rem: int, kappa: int, frac: int) -> None:
    while (
        rem < frac
        and ((delta - rem) & _M64) >= kappa
        and (rem + kappa < frac or ((frac - rem) & _M64) > ((rem + kappa - frac) & _M64))
    ):
        digits[-1] -= 1
        rem = (rem + kappa) & _M64


def _grisu2(d: float) -> tuple[list[int], int]:
    """Digits and decimal exponent K such that |d| ~= int(digits) * 10**K."""
    bits = _double_bits(d)
    frac, exp = bits & _FRACMASK, (bits & _EXPMASK) >> 52
    if exp:
        frac, exp = frac + _HIDDENBIT, exp - _EXPBIAS
    else:
        exp = -_EXPBIAS + 1

    # get_normalized_boundaries (on the unnormalized value)
    up_frac, up_exp = (frac << 1) + 1, exp - 1
    while (up_frac & (_HIDDENBIT << 1)) == 0:
        up_frac, up_exp = up_frac << 1, up_exp - 1
    up_frac, up_exp = (up_frac << 10) & _M64, up_exp - 10
    l_shift = 2 if frac == _HIDDENBIT else 1
    lo_frac, lo_exp = (frac << l_shift) - 1, exp - l_shift
    lo_frac, lo_exp = (lo_frac << (lo_exp - up_exp)) & _M64, up_exp

    # normalize
    while (frac & _HIDDENBIT) == 0:
        frac, exp = frac << 1, exp - 1
    frac, exp = (frac << 11) & _M64, exp - 11

    cp, k = _find_cachedpow10(up_exp)
    w = _multiply((frac, exp), cp)
    upper = _multiply((up_frac, up_exp), cp)
    lower = _multiply((lo_frac, lo_exp), cp)
    lower = ((lower[0] + 1) & _M64, lower[1])
    upper = ((upper[0] - 1) & _M64, upper[1])
    big_k = -k

    # generate_digits
    wfrac = (upper[0] - w[0]) & _M64
    delta = (upper[0] - lower[0]) & _M64
    shift = -upper[1]
    one_frac = 1 << shift
    part1 = upper[0] >> shift
    part2 = upper[0] & (one_frac - 1)
    digits: list[int] = []
    kappa = 10
    div_index = 10  # fpconv: divp = tens + 10, i.e. 10^9
    while kappa > 0:
        div = _TENS[div_index]
        digit = part1 // div
        if digit or digits:
            digits.append(digit)
        part1 -= digit * div
        kappa -= 1
        tmp = ((part1 << shift) + part2) & _M64
        if tmp <= delta:
            big_k += kappa
            _round_digit(digits, delta, tmp, (div << shift) & _M64, wfrac)
            return digits, big_k
        div_index += 1
    unit_index = 18  # fpconv: unit = tens + 18, i.e. 10
    while True:
        part2 = (part2 * 10) & _M64
        delta = (delta * 10) & _M64
        kappa -= 1
        digit = part2 >> shift
        if digit or digits:
            digits.append(digit)
        part2 &= one_frac - 1
        if part2 < delta:
            big_k += kappa
            _round_digit(digits, delta, part2, one_frac, (wfrac * _TENS[unit_index]) & _M64)
            return digits, big_k
        unit_index -= 1


def _emit_digits(digits: list[int], big_k: int, neg: bool) -> str:
    """fpconv `emit_digits`: plain integer, plain decimal, or d.ddde±x notation."""
    text = "".join(str(x) for x in digits)
    ndigits = len(digits)
    exp = abs(big_k + ndigits - 1)
    if big_k >= 0 and exp < ndigits + 7:
        return text + "0" * big_k
    if big_k < 0 and (big_k > -7 or exp < 4):
        offset = ndigits - abs(big_k)
        if offset <= 0:
            return "0." + "0" * (-offset) + text
        return text[:offset] + "." + text[offset:]
    ndigits = min(ndigits, 18 - neg)
    out = text[0]
    if ndigits > 1:
        out += "." + text[1:ndigits]
    out += "e" + ("-" if big_k + ndigits - 1 < 0 else "+")
    cent = 0
    if exp > 99:
        cent = exp // 100
        out += str(cent)
        exp -= cent * 100
    if exp > 9:
        dec = exp // 10
        out += str(dec)
        exp -= dec * 10
    elif cent:
        out += "0"
    return out + str(exp % 10)


def fpconv_dtoa(d: float) -> str:
    """Redis' `fpconv_dtoa` (Grisu2) for a double, byte for byte."""
    bits = _double_bits(d)
    neg = bool(bits & _SIGNMASK)
    prefix = "-" if neg else ""
    if d == 0.0:
        return prefix + "0"
    if (bits & _EXPMASK) == _EXPMASK:
        return prefix + ("nan" if bits & _FRACMASK else "inf")
    digits, big_k = _grisu2(d)
    return prefix + _emit_digits(digits, big_k, neg)


_LLONG_MAX_HALF_AS_DOUBLE = float(I64_MAX // 2)  # (double)(LLONG_MAX/2) == 2**62


def format_double(d: float) -> bytes:
    """Redis 7.2 `d2string`: how ZSCORE, ZINCRBY, ZADD INCR and ZRANGE print a score."""
    if d != d:
        return b"nan"
    if d in (float("inf"), float("-inf")):
        return b"inf" if d > 0 else b"-inf"
    if d == 0:
        return b"-0" if _double_bits(d) & _SIGNMASK else b"0"
    if -_LLONG_MAX_HALF_AS_DOUBLE <= d <= _LLONG_MAX_HALF_AS_DOUBLE and d == int(d):
        return str(int(d)).encode("ascii")  # double2ll + ll2string
    return fpconv_dtoa(d).encode("ascii")
