"""The docs/SPEC.md §0 integer grammars on inputs Python's int() alone would mishandle."""

from __future__ import annotations

from impl.layout import parse_uint as parse_uint_text
from impl.numbers import displayf, parse_float, parse_sint, parse_uint


def test_uint_accepts_any_number_of_leading_zeros() -> None:
    # int() refuses > 4300 digits; Rust's from_str does not care about zeros.
    assert parse_uint(b"0" * 5000 + b"7") == 7
    assert parse_uint(b"+" + b"0" * 5000) == 0
    assert parse_uint(b"1" * 5000) is None
    assert parse_uint(b"18446744073709551616") is None
    assert parse_uint(b"18446744073709551615") == 2**64 - 1


def test_sint_accepts_leading_zeros_and_keeps_its_range() -> None:
    assert parse_sint(b"-" + b"0" * 5000 + b"9") == -9
    assert parse_sint(b"-9223372036854775808") == -(2**63)
    assert parse_sint(b"9223372036854775808") is None
    assert parse_sint(b"-0") == 0


def test_text_uint_is_the_byte_grammar() -> None:
    assert parse_uint_text("\u0663") is None  # a non-ASCII digit int() would take
    assert parse_uint_text("+007") == 7
    assert parse_uint_text("-0") is None
    assert parse_uint_text("0" * 5000 + "1", 128) == 1


def test_sint_keeps_the_sign_and_magnitude_at_both_ends() -> None:
    # The common case and both i64 bounds (docs/SPEC.md §0): unsigned and '+'
    # text is the value itself, and I64_MAX is in range, one more is not.
    assert parse_sint(b"42") == 42
    assert parse_sint(b"+42") == 42
    assert parse_sint(b"9223372036854775807") == 2**63 - 1
    assert parse_sint(b"-9223372036854775809") is None


def test_displayf_spells_infinities_in_lower_case() -> None:
    # DISPLAYF (docs/SPEC.md §0): kevy prints inf / -inf, which FLOAT reads back.
    assert displayf(float("inf")) == "inf"
    assert displayf(float("-inf")) == "-inf"
    assert parse_float(displayf(float("inf")).encode()) == float("inf")
