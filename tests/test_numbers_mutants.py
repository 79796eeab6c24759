"""impl/numbers.py's float grammar and renderings, tested directly (README "Adequacy").

The suite reached these only through commands, rewrite and snapshot tests,
whose per-mutant cost made a mutmut run of the module impractical; here each
function is pinned on its own, on the values docs/SPEC.md §0, §4.2 and §6.7
name and at its boundaries.
"""

from __future__ import annotations

import math
import struct

import pytest

from impl.numbers import (
    displayf,
    float_bits,
    format_incrbyfloat,
    format_score_rewrite,
    format_score_shortest,
    parse_float,
    total_order_key,
)

NEG_NAN = struct.unpack("<d", struct.pack("<Q", 0xFFF8_0000_0000_0000))[0]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (b"0", 0.0),
        (b"+1.5", 1.5),
        (b"-2", -2.0),
        (b".5", 0.5),
        (b"5.", 5.0),
        (b"1e3", 1000.0),
        (b"1E+3", 1000.0),
        (b"2.5e-1", 0.25),
        (b"inf", math.inf),
        (b"-Infinity", -math.inf),
        (b"+INF", math.inf),
        (b"1e400", math.inf),
        (b"-1e400", -math.inf),
        (b"0.1", 0.1),
        (b"007", 7.0),
    ],
)
def test_float_grammar_accepts(text: bytes, value: float) -> None:
    assert parse_float(text) == value


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b" 1",
        b"1 ",
        b"1_0",
        b"\xd9\xa1",
        b"\xff",
        b"e5",
        b"1e",
        b".",
        b"+",
        b"1.2.3",
        b"0x10",
        b"in",
        b"nanx",
        b"--1",
        b"1e+",
    ],
)
def test_float_grammar_refuses(text: bytes) -> None:
    assert parse_float(text) is None


def test_nan_keeps_its_sign() -> None:
    for text, sign in ((b"nan", 0), (b"NaN", 0), (b"+nan", 0), (b"-nan", 1)):
        x = parse_float(text)
        assert x is not None and math.isnan(x) and float_bits(x) >> 63 == sign


def test_float_bits_is_the_ieee_pattern() -> None:
    assert float_bits(1.0) == 0x3FF0_0000_0000_0000
    assert float_bits(-0.0) == 1 << 63
    assert float_bits(0.0) == 0
    assert float_bits(5e-324) == 1
    assert float_bits(-math.inf) == 0xFFF0_0000_0000_0000


def test_total_order_puts_every_class_in_place() -> None:
    order = [NEG_NAN, -math.inf, -1.0, -5e-324, -0.0, 0.0, 5e-324, 1.0, math.inf, math.nan]
    keys = [total_order_key(x) for x in order]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert (total_order_key(-0.0), total_order_key(0.0)) == (-1, 0)
    assert (total_order_key(-5e-324), total_order_key(5e-324)) == (-2, 1)
    assert total_order_key(1.0) == 0x3FF0_0000_0000_0000


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (math.nan, "NaN"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (1.5, "1.5"),
        (0.1, "0.1"),
        (100.0, "100"),
        (1e20, "100000000000000000000"),
        (1e-7, "0.0000001"),
        (-2.5, "-2.5"),
        (0.0, "0"),
        (-0.0, "-0"),
        (123456789.125, "123456789.125"),
    ],
)
def test_displayf(x: float, text: str) -> None:
    assert displayf(x) == text


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (3.0, "3"),
        (-0.0, "0"),
        (99999999999999984.0, "99999999999999984"),
        (1e17, "100000000000000000"),
        (-1e17, "-100000000000000000"),
        (2.5, "2.5"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (1e300, displayf(1e300)),
    ],
)
def test_format_incrbyfloat(x: float, text: str) -> None:
    assert format_incrbyfloat(x) == text


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (3.0, "3"),
        (-42.0, "-42"),
        (-0.0, "0"),
        (math.nan, "NaN"),
        (NEG_NAN, "NaN"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (1.5, "1.50000000000000000"),
        (0.1, "0.10000000000000001"),
        (99999999999999984.0, "99999999999999984"),
        (1e17, "100000000000000000.00000000000000000"),
        (-1e17, "-100000000000000000.00000000000000000"),
    ],
)
def test_format_score_rewrite(x: float, text: str) -> None:
    assert format_score_rewrite(x) == text


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (math.nan, "nan"),
        (NEG_NAN, "-nan"),
        (-0.0, "-0.0"),
        (0.0, "0.0"),
        (0.1, "0.1"),
        (5e-324, "5e-324"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (1e17, "1e+17"),
    ],
)
def test_format_score_shortest(x: float, text: str) -> None:
    assert format_score_shortest(x) == text
    back = parse_float(text.encode())
    assert back is not None and float_bits(back) >> 63 == float_bits(x) >> 63
