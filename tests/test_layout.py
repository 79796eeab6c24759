"""Tests for impl/layout.py: routing, shards.meta, file names, docs/SPEC.md §0 helpers.

Routing is checked against the docs/SPEC.md §7.3 vectors, every key in the golden
file written by the real kevy, and a slow transliteration of the SPEC text.
The shards.meta parser is checked by hand cases for each rule, a
format→parse round trip, and agreement between the kevy-faithful
`parse_shards_meta` and the offset-reporting `explain_shards_meta`.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from impl.errors import CorruptInput
from impl.fs import OsFileSystem
from impl.layout import (
    JOURNAL,
    SHARDS_META,
    STANDARD_NAMES,
    U64_MAX,
    FileNames,
    Layout,
    MetaError,
    Routing,
    aof_name,
    crc16_xmodem,
    explain_shards_meta,
    format_shards_meta,
    hash_tag,
    infer_files_n,
    kevyhash,
    key_slot,
    non_canonical_meta,
    parse_shards_meta,
    parse_uint,
    premigration_of,
    reshard_of,
    reshard_tmp_of,
    rewrite_of,
    routing_from_tag,
    rust_trim,
    shard_of,
    snapshot_name,
    str_lines,
    text_line_spans,
    text_lines,
    tmp_of,
)

GOLDEN = Path(__file__).parent / "golden" / "routing" / "routing_kevyhash.json"

# ---------------------------------------------------------------------------
# Routing (docs/SPEC.md §7.3)

# key, kevyhash, shard n=3, shard n=4, slot, slots shard n=3 — the SPEC table.
SPEC_VECTORS = [
    (b"", 0xA47E4914AF8CAFBC, 2, 0, 0, 0),
    (b"a", 0xAC53B2C7027B4092, 1, 2, 15495, 2),
    (b"abc", 0xF2BE3CA2EBAF98E7, 1, 3, 7638, 1),
    (b"hello", 0x19B50FA7660E1E15, 0, 1, 866, 0),
    (b"user:1000", 0xAB687921B088FB48, 2, 0, 1649, 0),
    (b"0123456789abcdef", 0x73AA805E445E5DDC, 1, 0, 10405, 1),
    (b"0123456789abcdefg", 0xC44FF0BD3F0B26BE, 1, 2, 1383, 0),
    (b"the quick brown fox jumps over the lazy dog", 0x0FE3A586922BEA5B, 2, 3, 12325, 2),
    (b"{user1000}.following", 0xBC0C05BE1A20735F, 0, 3, 3443, 0),
]


@pytest.mark.parametrize(("key", "h", "n3", "n4", "slot", "slots3"), SPEC_VECTORS)
def test_spec_vectors(key: bytes, h: int, n3: int, n4: int, slot: int, slots3: int) -> None:
    assert kevyhash(key) == h
    assert shard_of(key, 3) == n3
    assert shard_of(key, 4) == n4
    assert key_slot(key) == slot
    assert shard_of(key, 3, Routing.SLOTS) == slots3


def _golden_keys() -> list[dict[str, object]]:
    return json.loads(GOLDEN.read_text())["keys"]


def test_golden_routing_every_key_and_shard_count() -> None:
    doc = json.loads(GOLDEN.read_text())
    assert doc["scheme"] == "kevyhash"
    keys = doc["keys"]
    assert len(keys) == 200
    checked = 0
    for entry in keys:
        # The golden JSON spells bytes as Latin-1 code points (PROVENANCE.md).
        key = entry["key"].encode("latin-1")
        assert kevyhash(key) == int(entry["kevy_hash_u64"]), entry["key"][:40]
        for n, shard in entry["shard"].items():
            assert shard_of(key, int(n)) == shard, (entry["key"][:40], n)
            checked += 1
    assert checked == 200 * len(doc["shard_counts"])


def _kevyhash_reference(b: bytes) -> int:
    """docs/SPEC.md §7.3 read literally, one step per bullet (slow, independent)."""
    m = 2**64

    def le64(x: bytes) -> int:
        return struct.unpack("<Q", x)[0]

    def le32(x: bytes) -> int:
        return struct.unpack("<I", x)[0]

    def mm(x: int, y: int) -> int:
        p = x * y
        return (p // m) ^ (p % m)

    n = len(b)
    s0, s1 = 0x243F6A8885A308D3, 0x13198A2E03707344
    if n <= 16:
        if n >= 8:
            s0 ^= le64(b[0:8])
            s1 ^= le64(b[n - 8 : n])
        elif n >= 4:
            s0 ^= le32(b[0:4])
            s1 ^= le32(b[n - 4 : n])
        elif n >= 1:
            s0 ^= b[0]
            s1 ^= (b[n - 1] << 8) | b[n // 2]
    else:
        for c in range((n - 1) // 16):
            chunk = b[16 * c : 16 * c + 16]
            t = mm(s0 ^ le64(chunk[0:8]), 0xA4093822299F31D0 ^ le64(chunk[8:16]))
            s0, s1 = s1, t
        s0 ^= le64(b[n - 16 : n - 8])
        s1 ^= le64(b[n - 8 : n])
    h = mm(s0, s1) ^ n
    h ^= h >> 33
    h = h * 0xFF51AFD7ED558CCD % m
    h ^= h >> 33
    h = h * 0xC4CEB9FE1A85EC53 % m
    h ^= h >> 33
    return h


@given(st.binary(max_size=80))
@example(b"\xff" * 16)
@example(b"\xff" * 17)
@example(b"\xff" * 32)
@example(b"\xff" * 33)
def test_kevyhash_matches_literal_spec(key: bytes) -> None:
    assert kevyhash(key) == _kevyhash_reference(key)


def test_kevyhash_accepts_bytes_likes() -> None:
    key = bytes(range(40))
    assert kevyhash(bytearray(key)) == kevyhash(memoryview(key)) == kevyhash(key)


def test_crc16_check_value() -> None:
    assert crc16_xmodem(b"123456789") == 0x31C3
    assert crc16_xmodem(b"") == 0


@pytest.mark.parametrize(
    ("key", "tag"),
    [
        (b"foo{}{bar}", b"foo{}{bar}"),  # SPEC: empty first tag → whole key
        (b"foo{{bar}}zap", b"{bar"),  # SPEC: first '{', first '}' after it
        (b"{user1000}.following", b"user1000"),
        (b"{user1000}.followers", b"user1000"),
        (b"foo{bar}{zap}", b"bar"),
        (b"nobraces", b"nobraces"),
        (b"{", b"{"),
        (b"}{a}", b"a"),
        (b"{a", b"{a"),
        (b"a}b{", b"a}b{"),
        (b"", b""),
    ],
)
def test_hash_tag(key: bytes, tag: bytes) -> None:
    assert hash_tag(key) == tag


def _hash_tag_reference(key: bytes) -> bytes:
    """Redis `keyHashSlot`'s loops, transliterated."""
    for s in range(len(key)):
        if key[s] == ord("{"):
            for e in range(s + 1, len(key)):
                if key[e] == ord("}"):
                    return key if e == s + 1 else key[s + 1 : e]
            return key
    return key


@given(st.lists(st.sampled_from([b"{", b"}", b"a", b"\x00"]), max_size=8).map(b"".join))
def test_hash_tag_matches_redis_loops(key: bytes) -> None:
    assert hash_tag(key) == _hash_tag_reference(key)


def test_hash_tagged_keys_share_a_slot() -> None:
    assert key_slot(b"{user1000}.following") == key_slot(b"{user1000}.followers")
    assert key_slot(b"{user1000}.following") == crc16_xmodem(b"user1000") & 0x3FFF


@given(st.binary(max_size=40), st.integers(min_value=1, max_value=1 << 70))
def test_shard_of_in_range(key: bytes, n: int) -> None:
    for routing in Routing:
        assert 0 <= shard_of(key, n, routing) < n


@given(st.binary(max_size=40), st.integers(min_value=1, max_value=200))
def test_slots_shard_owns_its_contiguous_range(key: bytes, n: int) -> None:
    # docs/SPEC.md §7.3: shard i owns slots ceil(i*16384/n) .. ceil((i+1)*16384/n) - 1.
    i = shard_of(key, n, Routing.SLOTS)
    assert math.ceil(i * 16384 / n) <= key_slot(key) < math.ceil((i + 1) * 16384 / n)


@given(st.binary(max_size=40), st.integers(min_value=2, max_value=1 << 66))
def test_kevyhash_shard_is_hash_mod_n(key: bytes, n: int) -> None:
    # The power-of-two mask and the modulo agree, so one formula checks both.
    assert shard_of(key, n) == kevyhash(key) % n


def test_shard_of_single_shard_and_zero() -> None:
    assert shard_of(b"anything", 1) == 0
    assert shard_of(b"anything", 1, Routing.SLOTS) == 0
    with pytest.raises(ValueError, match="at least 1"):
        shard_of(b"k", 0)


def test_routing_tags() -> None:
    assert routing_from_tag("kevyhash") is Routing.KEVYHASH
    assert routing_from_tag("slots") is Routing.SLOTS
    for bad in ("Slots", "KEVYHASH", " slots", "slots ", "", "slot"):
        assert routing_from_tag(bad) is None


# ---------------------------------------------------------------------------
# docs/SPEC.md §0: UINT, trimming, text lines


@pytest.mark.parametrize(
    ("text", "bits", "value"),
    [
        ("0", 64, 0),
        ("+0", 64, 0),
        ("007", 64, 7),
        ("+04", 64, 4),
        ("18446744073709551615", 64, U64_MAX),
        ("18446744073709551616", 64, None),
        pytest.param("+" + "0" * 5000 + "1", 64, 1, id="5000-zeros"),  # > int() digit limit
        pytest.param("9" * 5000, 64, None, id="5000-nines"),
        (str(2**128 - 1), 128, 2**128 - 1),
        (str(2**128), 128, None),
        ("", 64, None),
        ("+", 64, None),
        ("++1", 64, None),
        ("-0", 64, None),
        ("-1", 64, None),
        (" 1", 64, None),
        ("1 ", 64, None),
        ("1_000", 64, None),
        ("1\n", 64, None),
        ("\u0663", 64, None),  # ARABIC-INDIC DIGIT THREE: int() would accept it
        ("\uff11", 64, None),  # FULLWIDTH DIGIT ONE
        ("0x10", 64, None),
    ],
)
def test_parse_uint(text: str, bits: int, value: int | None) -> None:
    assert parse_uint(text, bits) == value


@given(st.integers(min_value=0, max_value=2**128 - 1), st.booleans(), st.integers(0, 3))
def test_parse_uint_round_trip(value: int, plus: bool, zeros: int) -> None:
    text = ("+" if plus else "") + "0" * zeros + str(value)
    assert parse_uint(text, 128) == value
    assert parse_uint(text, 64) == (value if value <= U64_MAX else None)


@given(st.text(alphabet=st.sampled_from("0123456789+- _x\u0663\n"), max_size=40))
@example("18446744073709551616")
def test_parse_uint_agrees_with_numbers_module(text: str) -> None:
    # impl/numbers.py holds the bytes-level grammar for RESP arguments; the
    # two spellings of docs/SPEC.md §0 UINT must agree (below int()'s 4300-digit limit).
    from impl.numbers import parse_uint as parse_uint_bytes

    for bits in (64, 128):
        assert parse_uint(text, bits) == parse_uint_bytes(text.encode(), bits)


def test_rust_trim_is_unicode_white_space_not_python_isspace() -> None:
    # Python's str.strip() also strips U+001C..U+001F; Rust's str::trim keeps them.
    for kept in ("\x1c", "\x1d", "\x1e", "\x1f", "\u200b", "\ufeff", "\u180e"):
        assert rust_trim(kept + "4" + kept) == kept + "4" + kept
    for stripped in (
        "\t",
        "\n",
        "\x0b",
        "\x0c",
        "\r",
        " ",
        "\x85",
        "\xa0",
        "\u1680",
        "\u2000",
        "\u200a",
        "\u2028",
        "\u2029",
        "\u202f",
        "\u205f",
        "\u3000",
    ):
        assert rust_trim(stripped + "4" + stripped) == "4"


@pytest.mark.parametrize(
    ("data", "spans"),
    [
        (b"", []),
        (b"\n", [(0, b"")]),
        (b"a", [(0, b"a")]),
        (b"a\n", [(0, b"a")]),
        (b"a\nb", [(0, b"a"), (2, b"b")]),
        (b"a\r\nb\r\n", [(0, b"a"), (3, b"b")]),
        (b"a\r", [(0, b"a\r")]),  # unterminated final line keeps its CR
        (b"a\r\r\n", [(0, b"a\r")]),  # only one CR is dropped
        (b"\r\n", [(0, b"")]),
        (b"a\n\nb\n", [(0, b"a"), (2, b""), (3, b"b")]),
        (b"a\rb\n", [(0, b"a\rb")]),  # a bare CR is not a line ending
        (b"\n\n", [(0, b""), (1, b"")]),
    ],
)
def test_text_lines(data: bytes, spans: list[tuple[int, bytes]]) -> None:
    assert text_line_spans(data) == spans
    assert text_lines(data) == [line for _, line in spans]
    assert list(str_lines(data.decode())) == [line.decode() for _, line in spans]


@given(st.text(alphabet=st.sampled_from("a\r\n\u00e9\u2028"), max_size=20))
def test_byte_and_str_line_splitters_agree(text: str) -> None:
    data = text.encode()
    assert text_lines(data) == [line.encode() for line in str_lines(text)]
    for start, line in text_line_spans(data):
        assert data[start : start + len(line)] == line


# ---------------------------------------------------------------------------
# shards.meta (docs/SPEC.md §7.2)

layouts = st.builds(
    Layout, st.integers(min_value=0, max_value=U64_MAX), st.sampled_from(list(Routing))
)


def test_spec_byte_example() -> None:
    data = bytes.fromhex("34 0A 6B 65 76 79 68 61 73 68 0A")
    assert format_shards_meta(Layout(4, Routing.KEVYHASH)) == data
    assert parse_shards_meta(data) == Layout(4, Routing.KEVYHASH)
    assert format_shards_meta(Layout(8, Routing.SLOTS)) == b"8\nslots\n"


@given(layouts)
def test_meta_round_trip(layout: Layout) -> None:
    data = format_shards_meta(layout)
    assert parse_shards_meta(data) == layout
    assert explain_shards_meta(data) == layout
    assert non_canonical_meta(data) == (
        []
        if layout.n
        else ["a shard count of 0 (kevy opens at least one shard, so never writes 0)"]
    )


K, S = Routing.KEVYHASH, Routing.SLOTS


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"4\nkevyhash\n", Layout(4, K)),
        (b"4\nslots\n", Layout(4, S)),
        (b"4\r\nslots\r\n", Layout(4, S)),  # CRLF lines
        (b"4\nslots\r", Layout(4, S)),  # trailing CR without LF: kept, then trimmed
        (b"4\nslots", Layout(4, S)),  # no final newline
        (b"4", Layout(4, K)),  # v1: bare count
        (b"4\n", Layout(4, K)),
        (b"4\n\n", Layout(4, K)),  # empty line 2 → kevyhash
        (b"4\n   \t\n", Layout(4, K)),  # line 2 empty after trimming
        (b"+4\n", Layout(4, K)),
        (b"04\nslots\n", Layout(4, S)),
        (b"0\nkevyhash\n", Layout(0, K)),  # n = 0 accepted
        (b"  4 \t\nslots\n", Layout(4, S)),
        ("\u30004\u3000\n\u2028slots\x85\n".encode(), Layout(4, S)),  # Unicode spaces
        (b"4\nslots\ngarbage\n\xc3\xa9\n", Layout(4, S)),  # further lines ignored
        (b"18446744073709551615\nslots\n", Layout(U64_MAX, S)),
        (b"18446744073709551616\nslots\n", None),
        (b"\x1c4\n", None),  # Python's strip() would remove U+001C; Rust's trim does not
        (b"4\x1f\n", None),
        (b"\xef\xbb\xbf4\n", None),  # a BOM is not whitespace
        (b"", None),
        (b"\n", None),
        (b"\nkevyhash\n", None),
        (b"-0\n", None),
        (b"+\n", None),
        (b"4 4\n", None),
        (b"four\n", None),
        (b"4\nKevyHash\n", None),  # unknown tag (tags are case-sensitive)
        (b"4\nfuture-scheme\n", None),
        (b"4\nslots kevyhash\n", None),
        (b"4\n\xff\n", None),  # invalid UTF-8 → none
        (b"4\nslots\n\xff", None),  # even in an ignored line
        (b"\xed\xa0\x80\n", None),  # an encoded surrogate is not UTF-8
    ],
)
def test_meta_parse_rules(data: bytes, expected: Layout | None) -> None:
    assert parse_shards_meta(data) == expected
    if expected is None:
        with pytest.raises(MetaError):
            explain_shards_meta(data)
    else:
        assert explain_shards_meta(data) == expected


def test_meta_errors_name_offset_and_expectation() -> None:
    with pytest.raises(MetaError) as info:
        explain_shards_meta(b"4\nfuture-scheme\n")
    err = info.value
    assert isinstance(err, CorruptInput)
    assert (err.offset, err.line, err.got) == (2, 2, b"future-scheme")
    assert "kevyhash" in (err.expected or "")
    assert str(err).startswith("corrupt shards.meta at offset 2: line 2 is not a routing tag")

    with pytest.raises(MetaError) as info:
        explain_shards_meta(b"4\nslots\nok\n\xe9t\xe9\n")
    assert (info.value.offset, info.value.at) == (11, 11)
    with pytest.raises(MetaError) as info:
        explain_shards_meta(b"4\nsl\xffots\n")
    assert (info.value.offset, info.value.at) == (2, 4)
    assert str(info.value.with_path("d/shards.meta")).startswith(
        "d/shards.meta: corrupt shards.meta at offset 2 (byte 4)"
    )

    with pytest.raises(MetaError, match="does not fit 64 bits") as info:
        explain_shards_meta(b"99999999999999999999\n")
    assert info.value.offset == 0
    with pytest.raises(MetaError, match="empty file"):
        explain_shards_meta(b"")


_META_PIECES = [
    "4",
    "+4",
    "04",
    "0",
    "-1",
    "+",
    "18446744073709551616",
    "slots",
    "kevyhash",
    "Slots",
    " ",
    "\t",
    "\x1c",
    "\u3000",
    "\u200b",
    "\r",
    "\n",
    "\r\n",
    "x",
    "",
]
meta_inputs = st.one_of(
    st.binary(max_size=24),
    st.lists(st.sampled_from(_META_PIECES), max_size=8).map(lambda p: "".join(p).encode()),
    st.tuples(
        st.lists(st.sampled_from(_META_PIECES), max_size=6).map(lambda p: "".join(p).encode()),
        st.sampled_from([b"", b"\xff", b"\xc3", b"\xed\xa0\x80"]),
        st.integers(0, 8),
    ).map(lambda t: t[0][: t[2]] + t[1] + t[0][t[2] :]),
)


@given(meta_inputs)
@example(b"\x1c4\n")
@example(b"4\r")
def test_explain_meta_agrees_with_parse(data: bytes) -> None:
    parsed = parse_shards_meta(data)
    try:
        explained = explain_shards_meta(data)
    except MetaError as err:
        assert parsed is None
        assert 0 <= err.offset <= err.at <= len(data)
        assert data.rfind(b"\n", 0, err.offset) == err.offset - 1 or err.offset == 0
    else:
        assert explained == parsed


@given(meta_inputs)
def test_non_canonical_notes_are_empty_exactly_for_kevys_bytes(data: bytes) -> None:
    layout = parse_shards_meta(data)
    if layout is None:
        with pytest.raises(MetaError):
            non_canonical_meta(data)
        return
    notes = non_canonical_meta(data)
    canonical = data == format_shards_meta(layout) and layout.n >= 1
    assert (notes == []) == canonical, notes


@pytest.mark.parametrize(
    ("data", "note"),
    [
        (b"4", "v1 format"),
        (b"4\n", "v1 format"),
        (b"4\n\n", "empty routing line"),
        (b"4\nslots\nmore\n", "1 extra line"),
        (b"4\nslots\n\n\n", "2 extra lines"),
        (b"04\nslots\n", "leading zeros"),
        (b"+4\nslots\n", "'+' sign"),
        (b" 4\nslots\n", "whitespace around the shard count"),
        (b"4\nslots \n", "whitespace around the routing tag"),
        (b"4\nslots\r", "whitespace around the routing tag"),
        (b"4\r\nslots\r\n", "CRLF"),
        (b"4\nslots", "no newline"),
        (b"0\nslots\n", "shard count of 0"),
    ],
)
def test_non_canonical_notes(data: bytes, note: str) -> None:
    assert any(note in n for n in non_canonical_meta(data)), non_canonical_meta(data)


def test_torn_meta_can_misparse() -> None:
    # kevy overwrites shards.meta in place without fsync (docs/SPEC.md §7.2), and a
    # prefix of a valid file can be another valid file: recorded, not fixed.
    assert parse_shards_meta(b"16\nkevyhash\n"[:1]) == Layout(1, K)
    assert parse_shards_meta(b"4\nslots\n"[:2]) == Layout(4, K)


def test_layout_validates() -> None:
    with pytest.raises(ValueError):
        Layout(-1, K)
    with pytest.raises(ValueError):
        Layout(U64_MAX + 1, K)
    with pytest.raises(TypeError):
        Layout(1, "kevyhash")  # type: ignore[arg-type]
    assert Layout(3) == Layout(3, Routing.KEVYHASH)


# ---------------------------------------------------------------------------
# File names (docs/SPEC.md §7.1, §8.1, §10)


def test_standard_names() -> None:
    assert SHARDS_META == "shards.meta"
    assert JOURNAL == "reshard.journal"
    assert snapshot_name(0, 1) == "dump-0.rdb"
    assert aof_name(0, 1) == "aof-0.aof"
    assert snapshot_name(3, 4) == "dump-3.rdb"
    assert aof_name(3, 4) == "aof-3.aof"
    assert STANDARD_NAMES.snapshot_path("/d", 2, 3) == "/d/dump-2.rdb"
    assert STANDARD_NAMES.aof_path("/d", 0, 1) == "/d/aof-0.aof"
    assert STANDARD_NAMES.default_names


def test_embedded_names_apply_only_to_one_shard() -> None:
    names = FileNames.embedded(snapshot="data.rdb", aof="log.aof")
    assert not names.default_names
    assert names.snapshot_path("dir", 0, 1) == "dir/data.rdb"
    assert names.aof_path("dir", 0, 1) == "dir/log.aof"
    assert names.snapshot_path("dir", 1, 2) == "dir/dump-1.rdb"
    assert names.aof_path("dir", 0, 2) == "dir/aof-0.aof"
    assert snapshot_name(0, 1, "data.rdb") == "data.rdb"
    assert aof_name(5, 6, "log.aof") == "aof-5.aof"
    # With default names the embedded layout is the standard one.
    assert FileNames.embedded() == STANDARD_NAMES


def test_suffix_helpers() -> None:
    assert tmp_of("d/dump-0.rdb") == "d/dump-0.rdb.tmp"
    assert reshard_of("d/dump-0.rdb") == "d/dump-0.rdb.reshard"
    assert reshard_tmp_of("d/dump-0.rdb") == "d/dump-0.rdb.reshard.tmp"
    assert tmp_of(reshard_of("x")) == reshard_tmp_of("x")
    assert rewrite_of("d/aof-1.aof") == "d/aof-1.aof.rewrite"
    stamp = 1_763_860_000_123_456_789
    assert premigration_of("d/aof-1.aof", stamp) == f"d/aof-1.aof.premigration.{stamp}"
    assert premigration_of("x", 2**128 - 1).endswith(str(2**128 - 1))
    with pytest.raises(ValueError):
        premigration_of("x", 2**128)


# ---------------------------------------------------------------------------
# infer_files_n (docs/SPEC.md §7.1)


def _touch(directory: Path, *names: str) -> None:
    for name in names:
        (directory / name).write_bytes(b"")


def test_infer_files_n_empty_and_missing(tmp_path: Path) -> None:
    fs = OsFileSystem()
    assert infer_files_n(fs, str(tmp_path)) == 0
    assert infer_files_n(fs, str(tmp_path / "absent")) == 0
    _touch(tmp_path, "not-a-dir")
    assert infer_files_n(fs, str(tmp_path / "not-a-dir")) == 0


@pytest.mark.parametrize(
    ("names", "n"),
    [
        (["dump-0.rdb"], 1),
        (["aof-2.aof"], 3),
        (["dump-0.rdb", "aof-0.aof", "dump-1.rdb", "aof-7.aof"], 8),
        (["dump-01.rdb"], 2),  # leading zero: X = 1
        (["aof-+1.aof"], 2),  # '+' sign: X = 1
        (["dump-000.rdb"], 1),
        (["dump-.rdb", "aof-.aof", "dump--1.rdb", "dump-+.rdb", "dump- 1.rdb"], 0),
        (["dump-1.rdb.tmp", "dump-5.rdb.reshard", "aof-3.aof.rewrite"], 0),
        (["aof-4.aof.premigration.1763860000", "dump-9.rdb.premigration.1"], 0),
        (["aof-1.rdb", "dump-1.aof", "DUMP-1.rdb", "dump-1.RDB", "xdump-1.rdb"], 0),
        (["dump-\u0663.rdb"], 0),  # non-ASCII digit
        (["dump-18446744073709551616.rdb"], 0),  # does not fit usize
        # usize::MAX + 1 wraps to 0 in kevy's release build: no effect.
        (["dump-18446744073709551615.rdb", "aof-2.aof"], 3),
        (["dump-18446744073709551614.rdb"], U64_MAX),
        (["shards.meta", "reshard.journal", "dump-0.rdb"], 1),
    ],
)
def test_infer_files_n(tmp_path: Path, names: list[str], n: int) -> None:
    _touch(tmp_path, *names)
    assert infer_files_n(OsFileSystem(), str(tmp_path)) == n


def test_infer_files_n_counts_directories_too(tmp_path: Path) -> None:
    # kevy walks read_dir entries without looking at their type.
    (tmp_path / "dump-4.rdb").mkdir()
    assert infer_files_n(OsFileSystem(), str(tmp_path)) == 5
