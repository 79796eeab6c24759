"""impl/rewrite.py against docs/SPEC.md §4: the verified examples, S(x), group shapes, dump_aof."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given

from impl.fs import OsFileSystem
from impl.keyspace import ListValue, PelRow, SetValue, Stream, StreamGroup, ZSet
from impl.numbers import U64_MAX, format_score_rewrite
from impl.profile import HARDENED, KEVY_1_17
from impl.resp import MAGIC, encode_frame, iter_frames
from impl.rewrite import dump_aof, key_group, rewrite_frames, rewrite_image
from impl.snapshot import CHUNK_SIZE, freeze
from tests.strategies import NEG_NAN, build_keyspace, keyspace_rows

NOW = 1_795_392_000_000


def _text(frames: list[list[bytes]]) -> list[str]:
    return [b" ".join(argv).decode("latin-1") for argv in frames]


# --------------------------------------------------------------------------
# The SPEC's verified examples.

SPEC_ZSET = ZSet({b"q": -math.inf, b"n": -0.0, b"o": 0.0, b"r": 1e-20, b"m": 1.5,
                  b"p": math.nan})
SPEC_ST = Stream(last_id=(5, 1), max_deleted_id=(5, 1), entries_added=1,
                 groups={b"g": StreamGroup(last_delivered=(5, 1))})
# s2: entries 7-1 and 8-1 added, 8-1 deleted; group g created at 0-0, then
# consumer c1 read 7-1 at t=1234 (so g's last_delivered is 7-1).
SPEC_S2 = Stream(entries={(7, 1): [(b"a", b"1")]}, last_id=(8, 1), max_deleted_id=(8, 1),
                 entries_added=2,
                 groups={b"g": StreamGroup((7, 1), {b"c1": 1234},
                                           {(7, 1): PelRow(b"c1", 1234, 1)})})


def test_spec_zset_example() -> None:
    assert _text(list(rewrite_frames([(b"z", SPEC_ZSET, None)], NOW))) == [
        "ZADD z -inf q 0 n 0 o 0.00000000000000000 r 1.50000000000000000 m NaN p"]


def test_spec_stream_examples() -> None:
    frames = list(rewrite_frames([(b"st", SPEC_ST, None), (b"s2", SPEC_S2, None)], NOW))
    assert _text(frames) == [
        "XADD st MAXLEN 0 5-1 x x",
        "XGROUP CREATE st g 5-1 MKSTREAM",
        "XADD s2 7-1 a 1",
        "XSETID s2 8-1 ENTRIESADDED 2 MAXDELETEDID 8-1",
        "XGROUP CREATE s2 g 7-1 MKSTREAM",
        "XGROUP CREATECONSUMER s2 g c1",
        "XCLAIM s2 g c1 0 7-1 TIME 1234 RETRYCOUNT 1 FORCE JUSTID",
    ]


def test_spec_examples_as_image_bytes() -> None:
    image, keys = rewrite_image([(b"z", SPEC_ZSET, None), (b"st", SPEC_ST, None)], NOW)
    assert keys == 2
    assert image == MAGIC + b"".join(encode_frame(a) for a in [
        [b"ZADD", b"z", b"-inf", b"q", b"0", b"n", b"0", b"o", b"0.00000000000000000", b"r",
         b"1.50000000000000000", b"m", b"NaN", b"p"],
        [b"XADD", b"st", b"MAXLEN", b"0", b"5-1", b"x", b"x"],
        [b"XGROUP", b"CREATE", b"st", b"g", b"5-1", b"MKSTREAM"],
    ])


# --------------------------------------------------------------------------
# S(x), §4.2.

S_TABLE = [
    (3.0, "3"), (-42.0, "-42"), (-0.0, "0"), (0.0, "0"), (math.nan, "NaN"),
    (NEG_NAN, "NaN"), (math.inf, "inf"), (-math.inf, "-inf"), (1.5, "1.50000000000000000"),
    (0.1, "0.10000000000000001"), (1e17, "100000000000000000.00000000000000000"),
    (1e-20, "0.00000000000000000"), (5e-324, "0.00000000000000000"),
    (99999999999999984.0, "99999999999999984"), (-2.5, "-2.50000000000000000"),
]


@pytest.mark.parametrize(("x", "text"), S_TABLE, ids=[t for _, t in S_TABLE])
def test_score_format_table(x: float, text: str) -> None:
    assert format_score_rewrite(x) == text
    frame = key_group(b"z", ZSet({b"m": x}), None, NOW)[0]
    assert frame == [b"ZADD", b"z", text.encode(), b"m"]


def test_exact_scores_switch_writes_shortest_text() -> None:
    z = ZSet({b"a": -0.0, b"b": 1e-20, b"c": 5e-324, b"d": NEG_NAN, b"e": math.nan})
    frame = key_group(b"z", z, None, NOW, profile=HARDENED)[0]
    assert frame == [b"ZADD", b"z", b"-nan", b"d", b"-0.0", b"a", b"5e-324", b"c",
                     b"1e-20", b"b", b"nan", b"e"]


# --------------------------------------------------------------------------
# One group per key, in the documented shape.


def test_each_type_and_empty_collections() -> None:
    rows = [
        (b"s", b"v", None),
        (b"h", {b"f1": b"v1", b"f2": b"v2"}, None),
        (b"l", [b"a", b"b", b"a"], 1000),
        (b"set", SetValue.fromkeys([b"y", b"x"]), None),
        (b"eh", {}, None), (b"el", [], None), (b"es", SetValue(), None), (b"ez", ZSet(), None),
    ]
    assert _text(list(rewrite_frames(rows, NOW))) == [
        "SET s v", "HSET h f1 v1 f2 v2", "RPUSH l a b a", f"PEXPIREAT l {NOW + 1000}",
        "SADD set y x", "HSET eh", "RPUSH el", "SADD es", "ZADD ez",
    ]


def test_ttl_saturates_at_u64() -> None:
    assert key_group(b"k", b"v", U64_MAX, NOW)[-1] == [b"PEXPIREAT", b"k", b"%d" % U64_MAX]


def test_never_used_stream_yields_nothing_and_is_not_counted() -> None:
    rows = [(b"e", Stream(), 5000), (b"k", b"v", None)]
    image, keys = rewrite_image(rows, NOW)
    assert keys == 1 and image == MAGIC + encode_frame([b"SET", b"k", b"v"])


def test_stream_tombstone_pel_rows_are_omitted_and_groups_on_empty_stream() -> None:
    st_ = Stream(entries={(3, 0): [(b"f", b"v")]}, last_id=(4, 0), max_deleted_id=(4, 0),
                 entries_added=2,
                 groups={b"g": StreamGroup((4, 0), {b"a": 9, b"b": 1},
                                           {(3, 0): PelRow(b"b", 7, 2),
                                            (4, 0): PelRow(b"a", 8, 1)})})
    assert _text(key_group(b"x", st_, 10, NOW)) == [
        "XADD x 3-0 f v",
        "XSETID x 4-0 ENTRIESADDED 2 MAXDELETEDID 4-0",
        "XGROUP CREATE x g 4-0 MKSTREAM",
        "XGROUP CREATECONSUMER x g a",
        "XGROUP CREATECONSUMER x g b",
        "XCLAIM x g b 0 3-0 TIME 7 RETRYCOUNT 2 FORCE JUSTID",
        f"PEXPIREAT x {NOW + 10}",
    ]


_FIRST_VERB = {"string": b"SET", "hash": b"HSET", "list": b"RPUSH", "set": b"SADD",
               "zset": b"ZADD"}
_STREAM_VERBS = {b"XADD", b"XSETID", b"XGROUP", b"XCLAIM"}


def _target(argv: tuple[bytes, ...]) -> bytes:
    return argv[2] if argv[0] == b"XGROUP" else argv[1]


@given(keyspace_rows(NOW, max_keys=10))
def test_random_keyspace_rewrite_has_one_documented_group_per_key(rows: list) -> None:
    ks = build_keyspace(rows, NOW)
    image, keys = rewrite_image(ks, NOW)
    assert image.startswith(MAGIC)
    frames = [f.argv for f in iter_frames(image, len(MAGIC))]
    assert sum(f.size for f in iter_frames(image, len(MAGIC))) == len(image) - len(MAGIC)
    assert all(f.canonical for f in iter_frames(image, len(MAGIC)))
    # Split into runs of frames targeting the same key: one run per key, in order.
    runs: list[tuple[bytes, list[tuple[bytes, ...]]]] = []
    for argv in frames:
        if runs and runs[-1][0] == _target(argv):
            runs[-1][1].append(argv)
        else:
            runs.append((_target(argv), [argv]))
    expected = [(k, v, d) for k, v, d in rows
                if not (isinstance(v, Stream) and not v.entries and v.last_id == (0, 0)
                        and not v.groups)]
    assert keys == len(expected) == len(runs)
    for (key, value, deadline), (target, group) in zip(expected, runs, strict=True):
        assert target == key
        body = group[:-1] if deadline is not None else group
        if deadline is not None:
            assert group[-1] == (b"PEXPIREAT", key, b"%d" % deadline)
        if isinstance(value, Stream):
            assert body and all(a[0] in _STREAM_VERBS for a in body)
            assert sum(a[0] == b"XADD" for a in body) == max(len(value.entries), 1) or (
                not value.entries and value.last_id == (0, 0))
        else:
            kind = ("string" if isinstance(value, bytes) else "set"
                    if isinstance(value, SetValue) else "hash" if isinstance(value, dict)
                    else "list" if isinstance(value, list | ListValue) else "zset")
            assert len(body) == 1 and body[0][0] == _FIRST_VERB[kind]
            if kind == "zset":
                assert body[0][3::2] == tuple(m for m, _ in value.ordered())
            elif kind == "list":
                assert list(body[0][2:]) == value


# --------------------------------------------------------------------------
# dump_aof through the real file system.


def test_dump_aof_writes_the_image_in_1mib_chunks(tmp_path: Path) -> None:
    ks = build_keyspace([(b"big", b"x" * (CHUNK_SIZE + 5), None), (b"z", SPEC_ZSET, NOW + 9),
                         (b"st", SPEC_S2, None)], NOW)
    path = str(tmp_path / "aof-0.aof.rewrite")
    writes: list[int] = []

    class Fs(OsFileSystem):
        def create_truncate(self, p: str):  # type: ignore[no-untyped-def]
            f = super().create_truncate(p)
            inner_write = f.write

            def write(data: bytes) -> int:
                writes.append(len(data))
                return inner_write(data)

            f.write = write  # type: ignore[method-assign]
            return f

    keys, size = dump_aof(Fs(), path, ks, NOW)
    image, image_keys = rewrite_image(ks, NOW)
    assert (keys, size) == (image_keys, len(image)) == (3, Path(path).stat().st_size)
    assert Path(path).read_bytes() == image
    assert writes == [CHUNK_SIZE, len(image) - CHUNK_SIZE]


def test_rewrite_of_a_frozen_view_uses_freeze_time_remaining() -> None:
    ks = build_keyspace([(b"k", b"v", NOW + 1000)], NOW)
    view = freeze(ks, NOW)
    assert list(rewrite_frames(view, NOW + 200))[-1] == [b"PEXPIREAT", b"k",
                                                        b"%d" % (NOW + 1200)]
    exact = freeze(ks, NOW, profile=HARDENED)
    assert list(rewrite_frames(exact, NOW + 200))[-1] == [b"PEXPIREAT", b"k",
                                                         b"%d" % (NOW + 1000)]
    assert list(rewrite_frames(ks, NOW, profile=KEVY_1_17))[-1][2] == b"%d" % (NOW + 1000)


# --------------------------------------------------------------------------
# rewrite → replay (impl.commands.apply, docs/SPEC.md §5).
#
# What a rewrite cannot carry, even with every fix on (docs/SPEC.md §4.3):
#   * a consumer's last_seen_ms (CREATECONSUMER stamps the replay clock);
#   * PEL tombstones (rows whose entry is gone are omitted);
#   * a stream that never had an entry and has no group (no frames at all);
#   * NaN payload bits other than the sign (FLOAT text has no payload).
# Under the full `hardened` profile two Redis-semantics switches narrow what
# replays: `redis_reject_nan_scores` makes ZADD refuse a whole frame holding a
# NaN score, and `redis_expire_semantics` takes PEXPIREAT's time as a signed
# i64 (and `redis_strict_numbers` XSETID's ENTRIESADDED too). So the hardened
# property draws NaN-free zsets, deadlines and entries_added <= 2^63-1;
# the two rewrite fixes alone (F1, F2) carry NaN's sign and u64 deadlines.
# Replay parses XCLAIM's TIME as a signed i64 (impl/streams.py), so every
# replay property draws delivery times (and last_seen) <= 2^63-1.

from impl.clock import ManualClock  # noqa: E402

I64_MAX = 2**63 - 1
from impl.commands import apply  # noqa: E402
from impl.keyspace import Keyspace  # noqa: E402
from impl.keyspace_json import describe_difference, document  # noqa: E402
from impl.numbers import float_bits, format_score_shortest, parse_float  # noqa: E402

REWRITE_FIXES = KEVY_1_17.with_switches("replay_stream_verbs", "exact_rewrite_scores")


def _replay(image: bytes, profile) -> Keyspace:  # type: ignore[no-untyped-def]
    ks = Keyspace(ManualClock(NOW))
    for frame in iter_frames(image, len(MAGIC)):
        apply(ks, frame.argv, profile=profile)
    return ks


def _never_used(value: object) -> bool:
    return isinstance(value, Stream) and not value.entries and value.last_id == (0, 0) and (
        not value.groups)


def _carried(doc: dict, *, expected: bool) -> dict:
    """`doc` with what the rewrite cannot carry taken out (see above)."""
    keys = []
    for k in doc["keys"]:
        k = dict(k)
        if k["type"] == "stream":
            v = dict(k["value"])
            live = {e[0] for e in v["entries"]}
            v["groups"] = [
                {**g, "consumers": [[c, 0] for c, _ in g["consumers"]],
                 "pel": [row for row in g["pel"] if row[0] in live or not expected]}
                for g in v["groups"]
            ]
            k["value"] = v
        keys.append(k)
    return {**doc, "keys": keys}


def _bits(ks: Keyspace) -> dict[bytes, list[tuple[bytes, int]]]:
    return {k: sorted((m, float_bits(s)) for m, s in e.value.scores.items())
            for k, e in ks.raw().items() if isinstance(e.value, ZSet)}


def _check_identity(rows: list, profile) -> None:  # type: ignore[no-untyped-def]
    src = build_keyspace([r for r in rows if not _never_used(r[1])], NOW)
    image, keys = rewrite_image(src, NOW, profile=profile)
    out = _replay(image, profile)
    want, got = _carried(document(src), expected=True), _carried(document(out), expected=False)
    assert describe_difference(want, got, 0) is None, describe_difference(want, got, 0)
    assert keys == len(src)
    # Scores: bit for bit, except that a NaN keeps only its sign.
    expect_bits = {k: [(m, float_bits(parse_float(format_score_shortest(s).encode())))
                       for m, s in e.value.scores.items()]
                   for k, e in src.raw().items() if isinstance(e.value, ZSet)}
    assert {k: sorted(v) for k, v in _bits(out).items()} == {
        k: sorted(v) for k, v in expect_bits.items()}


@given(keyspace_rows(NOW, allow_empty=False, max_keys=8, max_time=I64_MAX))
def test_rewrite_then_replay_is_identity_with_the_rewrite_fixes(rows: list) -> None:
    _check_identity(rows, REWRITE_FIXES)


def _hardened_reachable(rows: list) -> bool:
    return not any((isinstance(v, ZSet) and any(math.isnan(s) for s in v.scores.values()))
                   or (isinstance(v, Stream) and v.entries_added > I64_MAX)
                   or (d is not None and d > I64_MAX) for _, v, d in rows)


@given(keyspace_rows(NOW, allow_empty=False, max_keys=8, max_time=I64_MAX)
       .filter(_hardened_reachable))
def test_rewrite_then_replay_is_identity_under_hardened(rows: list) -> None:
    _check_identity(rows, HARDENED)


def test_rewrite_then_replay_under_kevy_1_17_loses_exactly_streams_and_scores() -> None:
    z = ZSet({b"a": -0.0, b"b": 1e-20, b"c": 5e-324, b"d": NEG_NAN, b"e": 1.5, b"f": 0.1,
              b"g": -1e-300, b"h": 2.0})
    rows = [(b"z", z, None), (b"s", b"v", 10), (b"st", SPEC_S2, None), (b"st2", SPEC_ST, 5)]
    out = _replay(rewrite_image(rows, NOW, profile=KEVY_1_17)[0], KEVY_1_17)
    assert sorted(out.raw()) == [b"s", b"z"]  # every stream verb is skipped (F1)
    assert out.raw()[b"s"].deadline_ms == NOW + 10
    got = {m: float_bits(s) for m, s in out.raw()[b"z"].value.scores.items()}
    assert got == {
        b"a": float_bits(0.0),  # -0.0 -> "0" -> +0.0
        b"b": float_bits(0.0),  # 1e-20 -> "0.00000000000000000"
        b"c": float_bits(0.0),  # 5e-324 -> "0.00000000000000000"
        b"d": 0x7FF8_0000_0000_0000,  # -NaN -> "NaN": the sign is lost
        b"e": float_bits(1.5),
        b"f": float_bits(0.1),  # "0.10000000000000001" parses back to 0.1
        b"g": float_bits(-0.0),  # -1e-300 -> "-0.00000000000000000" -> -0.0
        b"h": float_bits(2.0),
    }


@given(keyspace_rows(NOW, allow_empty=False, max_keys=8, max_time=I64_MAX))
def test_rewrite_then_replay_under_kevy_1_17_differs_only_there(rows: list) -> None:
    src = build_keyspace(rows, NOW)
    out = _replay(rewrite_image(src, NOW, profile=KEVY_1_17)[0], KEVY_1_17)
    expected = build_keyspace(
        [(k, ZSet({m: parse_float(format_score_rewrite(s).encode())
                   for m, s in v.scores.items()}) if isinstance(v, ZSet) else v, d)
         for k, v, d in rows if not isinstance(v, Stream)], NOW)
    assert describe_difference(document(expected), document(out), 0) is None
    assert _bits(out) == _bits(expected)
