"""impl/errors.py: the one-line messages the CLI prints, pinned exactly.

A `DecodeError`'s `str()` is what `kevy-verify dump`/`check` print for a bad
file ("names the file and byte offset"), and `CorruptLogRefused` is what a
refused open says to the operator, so every part of both texts is pinned here:
mutmut showed the other tests reach them only through a few substrings, and
never reach `shifted`, the cut of a long `got`, or the escapes of `shown`.
"""

from __future__ import annotations

import pytest

from impl.errors import (
    CorruptInput,
    CorruptLogRefused,
    DecodeError,
    Refusal,
    TruncatedInput,
    quote_bytes,
    shown,
)


def test_quote_bytes_cuts_only_beyond_the_limit() -> None:
    assert quote_bytes(b"abcd", limit=4) == "b'abcd'"
    assert quote_bytes(b"abcde", limit=4) == "b'abcd'..."
    assert quote_bytes(bytearray(b"xy")) == "b'xy'"
    assert quote_bytes(b"z" * 32) == repr(b"z" * 32)
    assert quote_bytes(b"z" * 33) == repr(b"z" * 32) + "..."


def test_shown_escapes_each_control_and_format_character_by_its_width() -> None:
    assert shown("plain name.aof") == "plain name.aof"
    # C0, DEL, the last code point below 0x100 that is not printable (soft hyphen,
    # a Cf mark), a BMP format character (RLO), one just above the BMP boundary
    # check (U+10000 is printable), and one outside the BMP (a tag character).
    assert shown("a\nb") == "a\\x0ab"
    assert shown("\x1b[2J") == "\\x1b[2J"
    assert shown("x\x7f") == "x\\x7f"
    assert shown("\xad") == "\\xad"
    assert shown("name\u202egpj.aof") == "name\\u202egpj.aof"
    assert shown("\u2028") == "\\u2028"
    assert shown("\ufeff") == "\\ufeff"
    assert shown("\U000e0001") == "\\U000e0001"
    # Spaces and printable characters around an escape stay as they are.
    assert shown("a b\tc \u00e9\U00010000") == "a b\\x09c \u00e9\U00010000"


def test_shown_escapes_at_the_width_boundaries() -> None:
    # U+0100 is printable; the first non-printable at or above 0x100 needs \\u
    # with four digits, and U+10000 and above need \\U with eight.
    assert shown("\u0378") == "\\u0378"  # unassigned, so not printable
    assert shown("\U000e007f") == "\\U000e007f"
    # The escape width follows the code point, not the string's position.
    assert shown("\x00\u0378\U000e0001") == "\\x00\\u0378\\U000e0001"


def test_decode_error_is_abstract() -> None:
    with pytest.raises(
        TypeError, match=r"^DecodeError is abstract: raise TruncatedInput or CorruptInput$"
    ):
        DecodeError("m", offset=0)


def test_decode_error_keeps_every_field_it_was_given() -> None:
    e = CorruptInput(
        "bad length", offset=10, at=14, expected="b'$'", got=b"*", path="aof-0.aof", line=3
    )
    assert (e.message, e.offset, e.at, e.expected, e.got, e.path, e.line) == (
        "bad length",
        10,
        14,
        "b'$'",
        b"*",
        "aof-0.aof",
        3,
    )
    assert e.args == ("bad length",)
    t = TruncatedInput("short", offset=5)
    assert (t.at, t.expected, t.got, t.path, t.line) == (5, None, None, None, None)


def test_decode_error_str_names_file_offset_byte_expected_and_got() -> None:
    e = CorruptInput(
        "bad prefix", offset=1041, at=1046, expected="b'$'", got=b"*", path="aof-0.aof"
    )
    assert str(e) == (
        "aof-0.aof: corrupt input at offset 1041 (byte 1046): bad prefix: expected b'$', got b'*'"
    )
    t = TruncatedInput("frame cut", offset=7)
    assert str(t) == "truncated input at offset 7: frame cut"
    assert str(t.with_path("x.aof")) == "x.aof: truncated input at offset 7: frame cut"


def test_decode_error_str_with_only_one_of_expected_and_got() -> None:
    got_only = CorruptInput("no magic", offset=0, got=b"X" * 40)
    assert str(got_only) == "corrupt input at offset 0: no magic: got " + repr(b"X" * 32) + "..."
    expected_only = CorruptInput("no magic", offset=0, expected="MAGIC")
    assert str(expected_only) == "corrupt input at offset 0: no magic"


def test_decode_error_str_escapes_a_hostile_path() -> None:
    e = CorruptInput("m", offset=0, path="evil\x1b[2J.aof")
    assert str(e) == "evil\\x1b[2J.aof: corrupt input at offset 0: m"


def test_shifted_moves_both_offsets_by_delta() -> None:
    e = CorruptInput("m", offset=3, at=5)
    assert e.shifted(100) is e
    assert (e.offset, e.at) == (103, 105)
    assert str(e) == "corrupt input at offset 103 (byte 105): m"


def test_corrupt_log_refused_says_what_replay_would_drop_and_how_to_inspect() -> None:
    cause = CorruptInput("bad prefix", offset=100, at=104, expected="b'*'", got=b"Q")
    r = CorruptLogRefused("d/aof-0.aof", 100, 160, cause)
    assert isinstance(r, Refusal)
    assert (r.path, r.offset, r.size, r.cause) == ("d/aof-0.aof", 100, 160, cause)
    assert str(r) == (
        "d/aof-0.aof: refusing to open the log: corrupt frame at offset 100 (byte 104): "
        "bad prefix: expected b'*', got b'Q'; replay would drop the 60 bytes from offset "
        "100 on and every write appended after them; nothing was changed (inspect: "
        "kevy-verify check d/aof-0.aof)"
    )


@pytest.mark.parametrize(
    ("expected", "got"),
    [(None, b"Q"), ("b'*'", None), (None, None)],
    ids=["got", "expected", "neither"],
)
def test_corrupt_log_refused_adds_expected_got_only_when_both_are_known(
    expected: str | None, got: bytes | None
) -> None:
    cause = CorruptInput("bad prefix", offset=0, expected=expected, got=got)
    r = CorruptLogRefused("a.aof", 0, 9, cause)
    assert str(r).startswith(
        "a.aof: refusing to open the log: corrupt frame at offset 0 (byte 0): bad prefix; "
    )
