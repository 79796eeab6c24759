"""impl/keyspace.py: the value types and the Keyspace's rules, each at its edge
(README "Adequacy").

What: the module docstring's rules (docs/SPEC.md §6) one by one on the smallest
keyspace that shows them: a deadline equal to now is expired (rule 1), lazy
expiry removes and reports the key, the Redis dialect's keyspace removes
nothing (rule 3), empty collections go (rule 4), a set is not a hash (rule 5),
`first_members` in insertion order or by a keyed hash (rule 6), `expired`
learns every key an access removed (rule 7); and the value types' equality,
order and text (the `repr`s are what a failing test and `check` print).
"""

from __future__ import annotations

import hashlib
from collections import deque

import pytest

from impl.clock import ManualClock
from impl.keyspace import (
    Entry,
    Keyspace,
    ListValue,
    PelRow,
    SetValue,
    Stream,
    StreamGroup,
    WrongTypeError,
    ZSet,
    format_id,
    type_name,
)

NOW = 5_000


def _ks(*, lazy: bool = True, seed: int | None = None) -> Keyspace:
    return Keyspace(ManualClock(NOW), lazy_expire=lazy, hash_seed=seed)


# -- value types -----------------------------------------------------------------------


def test_format_id() -> None:
    assert format_id((12, 3)) == "12-3"


def test_set_value_add_and_discard_say_whether_they_changed_it() -> None:
    s = SetValue()
    assert s.add(b"a") is True
    assert s.add(b"a") is False
    assert s.add(b"b") is True
    assert list(s) == [b"a", b"b"]
    # a member added so is stored as SADD stores it (s[m] = None): equal sets compare equal
    assert s == SetValue.fromkeys([b"a", b"b"])
    assert s.discard(b"x") is False
    assert s.discard(b"a") is True
    assert list(s) == [b"b"]
    assert repr(s) == "SetValue([b'b'])"


def test_list_value_equals_a_list_or_deque_with_the_same_items_in_order() -> None:
    lv = ListValue([b"a", b"b"])
    assert lv == [b"a", b"b"]
    assert lv == deque([b"a", b"b"])
    # `==`, not `!=`: deque's own != does not go through ListValue.__eq__
    assert (lv == [b"b", b"a"]) is False
    assert (lv == [b"a"]) is False
    assert (lv == [b"a", b"b", b"c"]) is False
    assert (lv == (b"a", b"b")) is False  # a tuple is not a list: NotImplemented, then identity
    assert ListValue.__eq__(lv, (b"a", b"b")) is NotImplemented
    assert repr(lv) == "ListValue([b'a', b'b'])"
    with pytest.raises(TypeError):
        hash(lv)


def test_zset_orders_by_score_total_order_then_member() -> None:
    z = ZSet({b"b": 1.0, b"a": 1.0, b"n": -0.0, b"p": 0.0, b"m": -2.5})
    assert len(z) == 5
    assert z.ordered() == [(b"m", -2.5), (b"n", -0.0), (b"p", 0.0), (b"a", 1.0), (b"b", 1.0)]
    assert repr(ZSet({b"x": 2.0, b"a": 1.0})) == "ZSet({b'a': 1.0, b'x': 2.0})"
    assert repr(ZSet()) == "ZSet({})"


def test_zset_equality_compares_scores_by_bits() -> None:
    assert ZSet({b"a": 1.0}) == ZSet({b"a": 1.0})
    assert ZSet({b"a": 0.0}) != ZSet({b"a": -0.0})
    assert ZSet({b"a": float("nan")}) == ZSet({b"a": float("nan")})
    assert ZSet({b"a": 1.0}) != ZSet({b"b": 1.0})
    assert ZSet({b"a": 1.0}).__eq__({b"a": 1.0}) is NotImplemented
    # the constructor copies: the caller's dict is not the set's
    scores = {b"a": 1.0}
    z = ZSet(scores)
    scores[b"b"] = 2.0
    assert len(z) == 1


def test_stream_group_counts_a_consumers_pending_rows() -> None:
    g = StreamGroup()
    assert g.last_delivered == (0, 0) and g.consumers == {} and g.pel == {}
    g.pel[(1, 0)] = PelRow(b"alice", 10, 1)
    g.pel[(2, 0)] = PelRow(b"bob", 10, 1)
    g.pel[(3, 0)] = PelRow(b"alice", 10, 2)
    assert g.pending_count(b"alice") == 2
    assert g.pending_count(b"bob") == 1
    assert g.pending_count(b"carol") == 0


def test_stream_ids_and_defaults() -> None:
    st = Stream()
    assert (st.last_id, st.max_deleted_id, st.entries_added) == ((0, 0), (0, 0), 0)
    assert len(st) == 0 and st.top_id() == (0, 0)
    st.entries[(5, 1)] = [(b"f", b"v")]
    st.entries[(2, 9)] = [(b"f", b"v")]
    st.entries[(5, 0)] = [(b"f", b"v")]
    assert len(st) == 3
    assert st.sorted_ids() == [(2, 9), (5, 0), (5, 1)]
    assert st.top_id() == (5, 1)


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (b"x", "string"),
        (SetValue(), "set"),
        ({}, "hash"),
        ([], "list"),
        (ListValue(), "list"),
        (ZSet(), "zset"),
        (Stream(), "stream"),
    ],
)
def test_type_name(value: object, name: str) -> None:
    assert type_name(value) == name  # type: ignore[arg-type]


def test_type_name_refuses_what_is_no_value() -> None:
    with pytest.raises(TypeError, match="not a keyspace value: int"):
        type_name(3)  # type: ignore[arg-type]


def test_wrong_type_error_text_is_redis_7s() -> None:
    e = WrongTypeError()
    assert str(e) == "WRONGTYPE Operation against a key holding the wrong kind of value"
    assert e.message == str(e)


def test_entry_has_no_deadline_by_default() -> None:
    assert Entry(b"v").deadline_ms is None


# -- the keyspace ------------------------------------------------------------------------


def test_a_new_keyspace_is_empty_and_reads_its_clock() -> None:
    ks = _ks()
    assert len(ks) == 0 and ks.raw() == {} and ks.expired is None
    assert ks.now() == NOW
    assert ks.lazy_expire is True and ks.hash_seed is None
    assert repr(ks) == "<Keyspace 0 keys>"
    ks.put(b"a", b"1")
    assert repr(ks) == "<Keyspace 1 keys>"
    assert len(ks) == 1


def test_a_deadline_equal_to_now_is_expired() -> None:
    ks = _ks()
    assert ks.is_expired(Entry(b"v")) is False
    assert ks.is_expired(Entry(b"v", NOW)) is True
    assert ks.is_expired(Entry(b"v", NOW + 1)) is False
    assert ks.is_expired(Entry(b"v", NOW + 1), now=NOW + 1) is True
    assert ks.is_expired(Entry(b"v", NOW), now=NOW - 1) is False


def test_lookup_removes_an_expired_key_and_reports_it() -> None:
    ks = _ks()
    ks.put(b"gone", b"v", NOW)
    ks.put(b"live", b"v", NOW + 1)
    ks.put(b"forever", b"v")
    ks.expired = []
    assert ks.lookup(b"gone") is None
    assert b"gone" not in ks.raw()
    assert ks.expired == [b"gone"]
    assert ks.lookup(b"live").value == b"v"
    assert ks.lookup(b"forever").value == b"v"
    assert ks.lookup(b"missing") is None
    assert ks.expired == [b"gone"]


def test_lookup_without_a_collector_just_removes() -> None:
    ks = _ks()
    ks.put(b"gone", b"v", NOW)
    assert ks.lookup(b"gone") is None
    assert ks.raw() == {}


def test_the_redis_dialects_keyspace_keeps_an_expired_key_until_read() -> None:
    ks = _ks(lazy=False)
    ks.put(b"k", b"v", NOW - 1)
    ks.expired = []
    assert ks.lookup(b"k").value == b"v"
    assert b"k" in ks.raw() and ks.expired == []
    assert [k for k, _ in ks.live_items()] == []


def test_get_typed_tells_a_set_from_a_hash() -> None:
    ks = _ks()
    ks.put(b"s", SetValue([(b"m", None)]))
    ks.put(b"h", {b"f": b"v"})
    assert ks.get_typed(b"s", SetValue).value == SetValue([(b"m", None)])
    assert ks.get_typed(b"h", dict).value == {b"f": b"v"}
    with pytest.raises(WrongTypeError):
        ks.get_typed(b"s", dict)
    with pytest.raises(WrongTypeError):
        ks.get_typed(b"h", SetValue)
    with pytest.raises(WrongTypeError):
        ks.get_typed(b"h", bytes)
    assert ks.get_typed(b"nope", bytes) is None


def test_get_typed_treats_an_expired_key_of_another_type_as_absent() -> None:
    ks = _ks()
    ks.put(b"h", {b"f": b"v"}, NOW)
    assert ks.get_typed(b"h", bytes) is None


def test_put_replaces_the_entry_and_its_deadline() -> None:
    ks = _ks()
    ks.put(b"k", b"1", NOW + 10)
    e = ks.put(b"k", b"2")
    assert ks.raw()[b"k"] is e
    assert (e.value, e.deadline_ms) == (b"2", None)
    assert ks.put(b"k", b"3", 7).deadline_ms == 7


def test_delete_counts_only_a_live_key_and_reports_an_expired_one() -> None:
    ks = _ks()
    ks.put(b"live", b"v")
    ks.put(b"gone", b"v", NOW)
    ks.expired = []
    assert ks.delete(b"missing") is False
    assert ks.delete(b"gone") is False
    assert ks.expired == [b"gone"]
    assert ks.delete(b"live") is True
    assert ks.raw() == {} and ks.expired == [b"gone"]
    ks.expired = None
    ks.put(b"gone", b"v", NOW)
    assert ks.delete(b"gone") is False
    assert ks.raw() == {}


@pytest.mark.parametrize(
    ("value", "dropped"),
    [
        ({}, True),
        (ListValue(), True),
        (SetValue(), True),
        (ZSet(), True),
        ({b"f": b"v"}, False),
        (ListValue([b"a"]), False),
        (b"", False),  # an empty string is a value
        (Stream(), False),  # an empty stream stays (XADD ... MAXLEN 0)
    ],
)
def test_drop_if_empty_removes_only_empty_collections(value: object, dropped: bool) -> None:
    ks = _ks()
    ks.put(b"k", value)  # type: ignore[arg-type]
    ks.drop_if_empty(b"k")
    ks.drop_if_empty(b"missing")
    assert (b"k" not in ks.raw()) is dropped


def test_flush_empties_it() -> None:
    ks = _ks()
    ks.put(b"a", b"1")
    ks.put(b"b", b"2", NOW + 5)
    ks.flush()
    assert ks.raw() == {} and len(ks) == 0


def test_live_items_and_reap_agree_on_the_boundary() -> None:
    ks = _ks()
    ks.put(b"a", b"1", NOW)
    ks.put(b"b", b"2", NOW + 1)
    ks.put(b"c", b"3")
    ks.put(b"d", b"4", NOW - 9)
    assert [k for k, _ in ks.live_items()] == [b"b", b"c"]
    assert [k for k, _ in ks.live_items(now=NOW + 1)] == [b"c"]
    assert [k for k, _ in ks.live_items(now=NOW - 9)] == [b"a", b"b", b"c"]
    assert len(ks) == 4  # live_items removes nothing
    assert ks.reap(now=NOW - 10) == 0
    assert ks.reap() == 2
    assert sorted(ks.raw()) == [b"b", b"c"]
    assert ks.reap(now=NOW + 1) == 1
    assert sorted(ks.raw()) == [b"c"]


def test_first_members_in_insertion_order_without_a_seed() -> None:
    ks = _ks()
    members = SetValue.fromkeys([b"c", b"a", b"b"])
    assert ks.first_members(SetValue(members), 2) == [b"c", b"a"]
    assert ks.first_members(SetValue(members), 0) == []
    assert ks.first_members(SetValue(members), 5) == [b"c", b"a", b"b"]


@pytest.mark.parametrize("seed", [7, 2**64 + 7, -1])
def test_first_members_with_a_seed_are_ordered_by_a_keyed_hash(seed: int) -> None:
    members = SetValue.fromkeys(b"m%d" % i for i in range(20))
    key = (seed % 2**64).to_bytes(8, "little")

    def rank(m: bytes) -> bytes:
        return hashlib.blake2b(m, digest_size=8, key=key).digest()

    want = sorted(members, key=rank)[:3]
    got = _ks(seed=seed).first_members(members, 3)
    assert got == want
    assert got != list(members)[:3]  # not insertion order (true for these seeds)
