"""impl/keyspace_json.py: the canonical document, its printing and its comparison
(docs/keyspace-json.md), pinned where mutmut found them loose (README "Adequacy").

`dump` prints this document and the tests compare stores by it, so its exact
text, its ordering rules, its score spelling and the one line
`describe_difference` gives are what users and tests read.
"""

from __future__ import annotations

import json
import math

import pytest

from impl.clock import ManualClock
from impl.keyspace import Keyspace, ListValue, PelRow, SetValue, Stream, StreamGroup, ZSet
from impl.keyspace_json import (
    FORMAT,
    TTL_TOLERANCE_MS,
    describe_difference,
    document,
    dumps,
    entry_json,
    keyspace_from_document,
    same_keyspace,
)

NOW = 1_000_000


def _ks() -> Keyspace:
    return Keyspace(ManualClock(NOW))


def _stream() -> Stream:
    return Stream(
        entries={(7, 0): [(b"f", b"\xff")], (5, 1): [(b"a", b"1"), (b"b", b"2")]},
        last_id=(7, 0),
        max_deleted_id=(4, 9),
        entries_added=12,
        groups={
            b"zz": StreamGroup(last_delivered=(5, 1)),
            b"g": StreamGroup(
                last_delivered=(7, 0),
                consumers={b"bob": 3, b"alice": 9},
                pel={(7, 0): PelRow(b"bob", 50, 2), (5, 1): PelRow(b"alice", 40, 1)},
            ),
        },
    )


def test_every_type_has_its_canonical_value() -> None:
    ks = _ks()
    ks.put(b"s", b"caf\xe9", None)
    ks.put(b"h", {b"b": b"2", b"a": b"1"}, NOW + 5)
    ks.put(b"l", ListValue([b"y", b"x"]), None)
    ks.put(b"p", [b"q"], None)
    ks.put(b"t", SetValue.fromkeys([b"n", b"m"]), None)
    ks.put(b"z", ZSet({b"b": 1.0, b"a": 1.0, b"c": -0.0}), None)
    ks.put(b"x", _stream(), None)
    doc = document(ks)
    assert doc["format"] == FORMAT == "kevy-keyspace/1"
    keys = {k["key"]: k for k in doc["keys"]}
    assert [k["key"] for k in doc["keys"]] == ["h", "l", "p", "s", "t", "x", "z"]
    assert keys["s"] == {"key": "s", "type": "string", "expire_at_ms": None, "value": "café"}
    assert keys["h"] == {
        "key": "h",
        "type": "hash",
        "expire_at_ms": NOW + 5,
        "value": [["a", "1"], ["b", "2"]],
    }
    assert keys["l"]["value"] == ["y", "x"] and keys["l"]["type"] == "list"
    assert keys["p"]["value"] == ["q"]
    assert keys["t"]["value"] == ["m", "n"] and keys["t"]["type"] == "set"
    z = keys["z"]["value"]
    assert z == [["c", -0.0], ["a", 1.0], ["b", 1.0]]
    assert math.copysign(1.0, z[0][1]) == -1.0
    assert keys["x"]["value"] == {
        "entries": [["5-1", [["a", "1"], ["b", "2"]]], ["7-0", [["f", "ÿ"]]]],
        "last_id": "7-0",
        "max_deleted_id": "4-9",
        "entries_added": 12,
        "groups": [
            {
                "name": "g",
                "last_delivered": "7-0",
                "consumers": [["alice", 9], ["bob", 3]],
                "pel": [["5-1", "alice", 40, 1], ["7-0", "bob", 50, 2]],
            },
            {"name": "zz", "last_delivered": "5-1", "consumers": [], "pel": []},
        ],
    }


def test_special_scores_are_strings() -> None:
    value = entry_json(b"z", ZSet({b"a": -math.inf, b"b": math.inf, b"c": math.nan}), None)
    assert value["value"] == [["a", "-inf"], ["b", "inf"], ["c", "nan"]]


def test_a_value_of_no_keyspace_type_is_refused() -> None:
    with pytest.raises(TypeError, match=r"^not a keyspace value: int$"):
        entry_json(b"k", 3, None)  # type: ignore[arg-type]


def test_shards_are_merged_and_expired_keys_left_out() -> None:
    a, b = _ks(), _ks()
    a.put(b"b", b"1", None)
    b.put(b"a", b"2", NOW + 10)
    b.put(b"gone", b"3", NOW - 1)
    doc = document([a, b])
    assert [k["key"] for k in doc["keys"]] == ["a", "b"]
    assert [k["key"] for k in document([a, b], NOW + 10)["keys"]] == ["b"]


def test_dumps_prints_one_key_per_line() -> None:
    ks = _ks()
    ks.put(b"b", b"\xe9", None)
    ks.put(b"a", [b"x"], 5_000_000)
    text = dumps(document(ks))
    assert text == (
        '{"format": "kevy-keyspace/1", "keys": [\n'
        '{"key":"a","type":"list","expire_at_ms":5000000,"value":["x"]},\n'
        '{"key":"b","type":"string","expire_at_ms":null,"value":"é"}\n'
        "]}\n"
    )
    assert json.loads(text) == document(ks)
    assert dumps(document(_ks())) == '{"format": "kevy-keyspace/1", "keys": []}\n'


def test_a_document_reads_back_to_the_same_keyspace() -> None:
    ks = _ks()
    ks.put(b"s", b"\x00\xff", NOW + 7)
    ks.put(b"h", {b"f": b"v"}, None)
    ks.put(b"l", [b"a", b"b"], None)
    ks.put(b"t", SetValue.fromkeys([b"m", b"n"]), None)
    ks.put(b"z", ZSet({b"a": math.inf, b"b": -0.0, b"c": 2.5}), None)
    ks.put(b"x", _stream(), None)
    doc = document(ks)
    back = keyspace_from_document(doc, _ks())
    assert document(back) == doc
    assert back.raw()[b"s"].deadline_ms == NOW + 7
    st = back.raw()[b"x"].value
    assert isinstance(st, Stream) and st.groups[b"g"].pel[(5, 1)] == PelRow(b"alice", 40, 1)
    assert st.entries_added == 12 and st.max_deleted_id == (4, 9)
    assert isinstance(back.raw()[b"t"].value, SetValue)
    with pytest.raises(ValueError, match="unknown type 'blob'"):
        keyspace_from_document(
            {"keys": [{"key": "k", "type": "blob", "value": 1, "expire_at_ms": None}]}, _ks()
        )


def _doc(*keys: dict) -> dict:
    return {"format": FORMAT, "keys": list(keys)}


def _k(key: str, value: object = "v", kind: str = "string", ttl: int | None = None) -> dict:
    return {"key": key, "type": kind, "expire_at_ms": ttl, "value": value}


def test_missing_and_unexpected_keys_list_five_and_count_the_rest() -> None:
    many = _doc(*(_k(f"k{i}") for i in range(7)))
    assert describe_difference(many, _doc()) == ("missing keys ['k0', 'k1', 'k2', 'k3', 'k4'] (+2)")
    assert describe_difference(_doc(), many) == (
        "unexpected keys ['k0', 'k1', 'k2', 'k3', 'k4'] (+2)"
    )
    five = _doc(*(_k(f"k{i}") for i in range(5)))
    assert describe_difference(five, _doc()) == "missing keys ['k0', 'k1', 'k2', 'k3', 'k4']"
    assert describe_difference(_doc(), five) == ("unexpected keys ['k0', 'k1', 'k2', 'k3', 'k4']")
    assert describe_difference(_doc(_k("a")), _doc(_k("b"))) == "missing keys ['a']"


def test_a_type_difference_names_both_types() -> None:
    assert describe_difference(_doc(_k("a")), _doc(_k("a", ["v"], "list"))) == (
        "key 'a': type list instead of string"
    )


def test_deadlines_compare_within_the_tolerance() -> None:
    exp = _doc(_k("a", ttl=10_000))
    assert TTL_TOLERANCE_MS == 1000
    assert describe_difference(exp, _doc(_k("a", ttl=11_000))) is None
    assert describe_difference(exp, _doc(_k("a", ttl=9_000))) is None
    assert describe_difference(exp, _doc(_k("a", ttl=11_001))) == (
        "key 'a': expire_at_ms 11001 instead of 10000"
    )
    assert describe_difference(exp, _doc(_k("a", ttl=10_005)), tolerance_ms=4) == (
        "key 'a': expire_at_ms 10005 instead of 10000"
    )
    assert describe_difference(exp, _doc(_k("a"))) == "key 'a': expire_at_ms None instead of 10000"
    assert describe_difference(_doc(_k("a")), exp) == "key 'a': expire_at_ms 10000 instead of None"
    assert same_keyspace(exp, _doc(_k("a", ttl=10_400)))
    assert not same_keyspace(exp, _doc(_k("a", ttl=10_400)), tolerance_ms=300)


def test_values_differ_by_score_bits_and_the_line_shows_both_cut_at_120() -> None:
    zero = _doc(_k("z", [["m", 0.0]], "zset"))
    neg = _doc(_k("z", [["m", -0.0]], "zset"))
    assert describe_difference(zero, neg) == (
        'key \'z\': value [["m", -0.0]] instead of [["m", 0.0]]'
    )
    assert same_keyspace(
        _doc(_k("z", [["m", "nan"]], "zset")), _doc(_k("z", [["m", "nan"]], "zset"))
    )
    long_a, long_b = "é" * 200, "é" * 199 + "x"
    line = describe_difference(_doc(_k("s", long_a)), _doc(_k("s", long_b)))
    assert (
        line
        == f"key 's': value {json.dumps(long_b, ensure_ascii=False)[:120]} instead of "
        + (json.dumps(long_a, ensure_ascii=False)[:120])
    )
    assert describe_difference(_doc(_k("a", ["x"], "list")), _doc(_k("a", ["x"], "list"))) is None


def test_six_missing_or_unexpected_keys_count_the_sixth() -> None:
    six = _doc(*(_k(f"k{i}") for i in range(6)))
    assert describe_difference(six, _doc()) == "missing keys ['k0', 'k1', 'k2', 'k3', 'k4'] (+1)"
    assert describe_difference(_doc(), six) == (
        "unexpected keys ['k0', 'k1', 'k2', 'k3', 'k4'] (+1)"
    )


def test_value_json_refuses_what_is_not_a_keyspace_value() -> None:
    from impl.keyspace_json import value_json

    with pytest.raises(TypeError, match=r"^not a keyspace value: int$"):
        value_json(3)  # type: ignore[arg-type]
