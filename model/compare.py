"""Canonical comparison of `kevy-keyspace/1` documents (model/contract.py's judge).

What: `_split(doc)` turns a document into (body, deadlines, seen-times) where
floats compare by bits (-0.0 != 0.0) and stream consumers' seen-times are
taken out; `_deadlines_close` and `_all_seen_admissible` compare the parts
the contract treats with a tolerance (model/contract.py rules 1 and 3);
`keyspace_diff` says in a few lines how two documents differ.

Why its own module: the judge needs it, and so do the reports that show an
expected-versus-recovered diff; it has no notion of history or verdict.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from typing import Any

__all__ = ["TTL_TOLERANCE_MS", "Doc", "keyspace_diff"]

#: a kevy-keyspace/1 document
Doc = dict[str, Any]
#: kevy-keyspace/1 allows this much difference on `expire_at_ms` (a deadline
#: stored as remaining time is re-anchored on load).
TTL_TOLERANCE_MS = 1000


_Norm = tuple[Any, ...]


def _freeze(value: Any) -> Any:
    """A hashable form in which floats compare by bits (-0.0 != 0.0)."""
    if isinstance(value, float):
        return ("f", struct.unpack("<Q", struct.pack("<d", value))[0])
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


#: (group, consumer, last_seen_ms) of one stream consumer, in document order
_Seen = tuple[str, str, int]


def _without_seen(value: Any, seen: list[_Seen]) -> Any:
    """A stream value with each consumer's last-seen time blanked; the times are
    appended to `seen` in document order (groups and consumers sorted by name)."""
    groups = []
    for g in value.get("groups", []):
        consumers = []
        for name, at in g.get("consumers", []):
            seen.append((g.get("name"), name, at))
            consumers.append([name, None])
        groups.append({**g, "consumers": consumers})
    return {**value, "groups": groups}


def _entry_parts(entry: dict[str, Any]) -> tuple[Any, list[_Seen]]:
    """(the frozen value without consumer seen-times, those seen-times) of one key."""
    seen: list[_Seen] = []
    value = entry["value"]
    if entry["type"] == "stream" and isinstance(value, dict):
        value = _without_seen(value, seen)
    return _freeze(value), seen


def _split(doc: Doc) -> tuple[_Norm, tuple[int | None, ...], tuple[int, ...]]:
    """(everything but the deadlines and the consumer seen-times, the deadlines, the
    seen-times) - deadlines match with tolerance, seen-times by a bound (rule 3)."""
    keys = doc.get("keys", [])
    body = []
    seen: list[int] = []
    for k in keys:
        value, times = _entry_parts(k)
        body.append((k["key"], k["type"], value))
        seen.extend(at for _, _, at in times)
    return tuple(body), tuple(k.get("expire_at_ms") for k in keys), tuple(seen)


def _seen_admissible(model: int, recovered: int, now_ms: int | None) -> bool:
    """Rule 3: replay may stamp a consumer later than its last stamp, never before
    it and never after the recovery instant. An exact match always passes (a
    store that kept the time is right even if the model ran ahead of `now_ms`);
    without a recovery instant (`now_ms` None) only an exact match does."""
    if recovered == model:
        return True
    return now_ms is not None and model <= recovered <= now_ms


def _all_seen_admissible(model: Sequence[int], recovered: Sequence[int],
                         now_ms: int | None) -> bool:
    return all(_seen_admissible(m, r, now_ms) for m, r in zip(model, recovered, strict=True))


def _deadlines_close(a: Sequence[int | None], b: Sequence[int | None]) -> bool:
    for x, y in zip(a, b, strict=True):
        if (x is None) != (y is None):
            return False
        if x is not None and y is not None and abs(x - y) > TTL_TOLERANCE_MS:
            return False
    return True


def keyspace_diff(expected: Doc, got: Doc, limit: int = 4, *,
                  now_ms: int | None = None) -> list[str]:
    """Short lines saying how `got` differs from `expected` (at most `limit`, then "...").

    With `now_ms` (the recovery instant) consumer seen-times are judged by rule 3's
    bound; without it they must be equal.
    """
    exp = {k["key"]: k for k in expected.get("keys", [])}
    rec = {k["key"]: k for k in got.get("keys", [])}
    lines: list[str] = []
    for key in sorted(exp.keys() | rec.keys()):
        e, g = exp.get(key), rec.get(key)
        if e is None:
            assert g is not None
            lines.append(f"unexpected key {key!r} = {_show(g)}")
            continue
        if g is None:
            lines.append(f"missing key {key!r} (expected {_show(e)})")
            continue
        e_value, e_seen = _entry_parts(e)
        g_value, g_seen = _entry_parts(g)
        if e_value != g_value or e["type"] != g["type"]:
            lines.append(f"key {key!r}: expected {_show(e)}, got {_show(g)}")
        elif not _deadlines_close([e["expire_at_ms"]], [g["expire_at_ms"]]):
            lines.append(
                f"key {key!r}: expected deadline {e['expire_at_ms']}, got {g['expire_at_ms']}"
            )
        else:
            bound = "" if now_ms is None else f" (or later, up to the recovery at {now_ms})"
            lines.extend(
                f"key {key!r}: group {group!r} consumer {name!r} last seen at {r}, "
                f"expected {m}{bound}"
                for (group, name, m), (_, _, r) in zip(e_seen, g_seen, strict=True)
                if not _seen_admissible(m, r, now_ms)
            )
    if len(lines) > limit:
        lines = [*lines[:limit], f"... {len(lines) - limit} more"]
    return lines


def _show(entry: dict[str, Any]) -> str:
    text = json.dumps(entry["value"], ensure_ascii=False)
    if len(text) > 40:
        text = text[:37] + "..."
    ttl = "" if entry.get("expire_at_ms") is None else f" (deadline {entry['expire_at_ms']})"
    return f"{entry['type']} {text}{ttl}"


