"""Canonical keyspace JSON, `kevy-keyspace/1` (docs/keyspace-json.md).

Why: one byte-exact printing of a keyspace lets a recovered store be compared
with an expected one by `==` on parsed JSON, and lets files written by kevy be
checked against what kevy itself read from them.

Rules:
1. Byte strings are Latin-1 decoded (byte b → U+00bb): lossless, valid JSON.
2. Only live keys appear, sorted by raw key bytes; hash fields and set members
   sorted by bytes; zset in its own order (IEEE total order of score, then
   member); stream entries by ID, groups/consumers by name, PEL by ID.
3. Scores are JSON numbers (shortest round trip, `-0.0` kept) or the strings
   "inf", "-inf", "nan".
4. Comparison (`same_keyspace`) allows ±1000 ms on `expire_at_ms` only and
   compares scores by bits (so -0.0 differs from 0.0).
"""

from __future__ import annotations

import json
import math
from typing import Any

from impl.keyspace import (
    Keyspace,
    ListValue,
    PelRow,
    SetValue,
    Stream,
    StreamGroup,
    StreamId,
    Value,
    ZSet,
    format_id,
    type_name,
)
from impl.numbers import float_bits

__all__ = [
    "FORMAT",
    "TTL_TOLERANCE_MS",
    "describe_difference",
    "document",
    "dumps",
    "entry_json",
    "keyspace_from_document",
    "same_keyspace",
]

FORMAT = "kevy-keyspace/1"
TTL_TOLERANCE_MS = 1000

Json = dict[str, Any]


def _s(b: bytes) -> str:
    return b.decode("latin-1")


def _b(s: str) -> bytes:
    return s.encode("latin-1")


def _score(x: float) -> float | str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _parse_id(text: str) -> StreamId:
    ms, seq = text.split("-")
    return int(ms), int(seq)


def _stream_json(st: Stream) -> Json:
    return {
        "entries": [
            [format_id(sid), [[_s(f), _s(v)] for f, v in st.entries[sid]]]
            for sid in st.sorted_ids()
        ],
        "last_id": format_id(st.last_id),
        "max_deleted_id": format_id(st.max_deleted_id),
        "entries_added": st.entries_added,
        "groups": [
            {
                "name": _s(name),
                "last_delivered": format_id(g.last_delivered),
                "consumers": [[_s(c), seen] for c, seen in sorted(g.consumers.items())],
                "pel": [
                    [format_id(sid), _s(row.owner), row.delivery_ms, row.delivery_count]
                    for sid, row in sorted(g.pel.items())
                ],
            }
            for name, g in sorted(st.groups.items())
        ],
    }


def value_json(value: Value) -> Any:
    """The canonical JSON `value` field for one keyspace value."""
    if isinstance(value, bytes):
        return _s(value)
    if isinstance(value, SetValue):
        return [_s(m) for m in sorted(value)]
    if isinstance(value, dict):
        return [[_s(f), _s(v)] for f, v in sorted(value.items())]
    if isinstance(value, list | ListValue):
        return [_s(e) for e in value]
    if isinstance(value, ZSet):
        return [[_s(m), _score(s)] for m, s in value.ordered()]
    if isinstance(value, Stream):
        return _stream_json(value)
    raise TypeError(f"not a keyspace value: {type(value).__name__}")


def entry_json(key: bytes, value: Value, deadline_ms: int | None) -> Json:
    return {
        "key": _s(key),
        "type": type_name(value),
        "expire_at_ms": deadline_ms,
        "value": value_json(value),
    }


def document(keyspaces: Keyspace | list[Keyspace], now_ms: int | None = None) -> Json:
    """The canonical document of one keyspace or the union of several shards."""
    shards = keyspaces if isinstance(keyspaces, list) else [keyspaces]
    items: dict[bytes, Json] = {}
    for ks in shards:
        for key, entry in ks.live_items(now_ms):
            items[key] = entry_json(key, entry.value, entry.deadline_ms)
    return {"format": FORMAT, "keys": [items[k] for k in sorted(items)]}


def dumps(doc: Json) -> str:
    """Print a document: one key per line, compact, UTF-8 safe."""
    lines = [json.dumps(k, ensure_ascii=False, separators=(",", ":")) for k in doc["keys"]]
    body = ",\n".join(lines)
    return f'{{"format": "{doc["format"]}", "keys": [\n{body}\n]}}\n' if lines else (
        f'{{"format": "{doc["format"]}", "keys": []}}\n'
    )


# --------------------------------------------------------------------------
# Reading documents back (fixtures, corpus cases) and comparing them.


def _value_from_json(kind: str, v: Any) -> Value:
    if kind == "string":
        return _b(v)
    if kind == "hash":
        return {_b(f): _b(x) for f, x in v}
    if kind == "list":
        return [_b(e) for e in v]
    if kind == "set":
        s = SetValue()
        for m in v:
            s.add(_b(m))
        return s
    if kind == "zset":
        return ZSet({_b(m): float(s) for m, s in v})
    if kind == "stream":
        st = Stream(
            entries={_parse_id(i): [(_b(f), _b(x)) for f, x in fv] for i, fv in v["entries"]},
            last_id=_parse_id(v["last_id"]),
            max_deleted_id=_parse_id(v["max_deleted_id"]),
            entries_added=int(v["entries_added"]),
        )
        for g in v["groups"]:
            st.groups[_b(g["name"])] = StreamGroup(
                last_delivered=_parse_id(g["last_delivered"]),
                consumers={_b(c): int(t) for c, t in g["consumers"]},
                pel={_parse_id(i): PelRow(_b(o), int(t), int(n)) for i, o, t, n in g["pel"]},
            )
        return st
    raise ValueError(f"unknown type {kind!r}")


def keyspace_from_document(doc: Json, ks: Keyspace) -> Keyspace:
    """Fill `ks` with the keys of `doc` (for fixtures and corpus cases)."""
    for k in doc["keys"]:
        ks.put(_b(k["key"]), _value_from_json(k["type"], k["value"]), k["expire_at_ms"])
    return ks


def _norm_score(s: float | str) -> Any:
    if isinstance(s, str):
        return s
    return ("bits", float_bits(float(s)))


def _norm_value(kind: str, v: Any) -> Any:
    if kind == "zset":
        return [[m, _norm_score(s)] for m, s in v]
    return v


def describe_difference(
    expected: Json, actual: Json, tolerance_ms: int = TTL_TOLERANCE_MS
) -> str | None:
    """None if the documents hold the same keyspace; otherwise one readable line."""
    exp = {k["key"]: k for k in expected["keys"]}
    act = {k["key"]: k for k in actual["keys"]}
    missing = sorted(exp.keys() - act.keys())
    extra = sorted(act.keys() - exp.keys())
    if missing:
        return f"missing keys {missing[:5]!r}" + (f" (+{len(missing) - 5})" if len(missing) > 5
                                                  else "")
    if extra:
        return f"unexpected keys {extra[:5]!r}" + (f" (+{len(extra) - 5})" if len(extra) > 5
                                                   else "")
    for key in sorted(exp):
        e, a = exp[key], act[key]
        if e["type"] != a["type"]:
            return f"key {key!r}: type {a['type']} instead of {e['type']}"
        te, ta = e["expire_at_ms"], a["expire_at_ms"]
        if (te is None) != (ta is None) or (te is not None and abs(te - ta) > tolerance_ms):
            return f"key {key!r}: expire_at_ms {ta} instead of {te}"
        if _norm_value(e["type"], e["value"]) != _norm_value(a["type"], a["value"]):
            ev = json.dumps(e["value"], ensure_ascii=False)[:120]
            av = json.dumps(a["value"], ensure_ascii=False)[:120]
            return f"key {key!r}: value {av} instead of {ev}"
    return None


def same_keyspace(expected: Json, actual: Json, tolerance_ms: int = TTL_TOLERANCE_MS) -> bool:
    """True if both documents hold the same keyspace (see module rule 4)."""
    return describe_difference(expected, actual, tolerance_ms) is None
