#!/usr/bin/env python3
"""Fuzz target: `shards.meta` (impl/layout.py, docs/SPEC.md §7.2) and key routing (§7.3).

What `check(data)` asserts, beyond "no exception":

1. `parse_shards_meta` returns a `Layout` or None and raises nothing;
   `explain_shards_meta` returns the *same* layout exactly when parse does,
   and otherwise raises only `MetaError` with `0 <= offset <= at <= len(data)`.
2. Round trip: `format_shards_meta(layout)` parses (both ways) to the same
   layout, and is the canonical spelling: formatting is idempotent.
3. Memory: parse + explain peak at most 16 × len + 256 KiB (sampled).
4. Routing, with the input used as a key: `impl.layout.kevyhash`,
   `key_slot`, `hash_tag` and `shard_of` (both routings, ten shard counts
   from 1 to 2**63) equal `model/routing.py`, an independent transcription
   of §7.3.

Why: at every open `shards.meta` decides whether a directory is re-sharded,
and routing decides which file a key lives in; both fail silently.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # run as a script: make the repository importable
    sys.path[0] = str(Path(__file__).resolve().parents[2])

from fuzz.common import FuzzFinding, check_error, instrumented, measured

with instrumented(__name__):
    from impl.layout import (
        Layout,
        MetaError,
        Routing,
        explain_shards_meta,
        format_shards_meta,
        hash_tag,
        kevyhash,
        key_slot,
        parse_shards_meta,
        shard_of,
    )
    from model import routing as model_routing

__all__ = ["TestOneInput", "check"]

MEMORY_FACTOR = 16
#: shard counts routed in rule 4: one, powers of two and not, and large ones
#: (the model is plain Python, so every extra n costs a full hash)
SHARD_COUNTS = (1, 2, 3, 4, 7, 16, 1000, 16385, 2**40 + 3, 2**63)


def _both(data: bytes) -> tuple[Layout | None, Layout | BaseException]:
    parsed = parse_shards_meta(data)
    try:
        return parsed, explain_shards_meta(data)
    except Exception as err:  # the oracle classifies whatever escapes
        return parsed, err


def _check_meta(data: bytes) -> None:
    parsed, explained = measured(lambda: _both(data), len(data), MEMORY_FACTOR, "shards.meta")
    if isinstance(explained, BaseException):
        check_error(explained, data, (MetaError,))
        if parsed is not None:
            raise FuzzFinding(f"parse gave {parsed} but explain raised {explained}")
        return
    if explained != parsed:
        raise FuzzFinding(f"parse gave {parsed} but explain gave {explained}")
    assert parsed is not None
    written = format_shards_meta(parsed)
    if parse_shards_meta(written) != parsed or explain_shards_meta(written) != parsed:
        raise FuzzFinding(f"format({parsed}) = {written!r} does not parse back")
    if format_shards_meta(parse_shards_meta(written) or parsed) != written:
        raise FuzzFinding(f"format is not idempotent on {written!r}")


def _check_routing(key: bytes) -> None:
    pairs = [
        (kevyhash(key), model_routing.kevyhash(key), "kevyhash"),
        (key_slot(key), model_routing.key_slot(key), "key_slot"),
        (hash_tag(key), model_routing.hash_tag(key), "hash_tag"),
    ]
    for n in SHARD_COUNTS:
        for routing in Routing:
            pairs.append((shard_of(key, n, routing), model_routing.shard_of(key, n, routing.value),
                          f"shard_of(n={n}, {routing.value})"))
    for got, want, what in pairs:
        if got != want:
            raise FuzzFinding(f"{what}({key[:32]!r}): impl {got!r}, model {want!r}")


def check(data: bytes) -> None:
    """All oracles of the module docstring on one input."""
    _check_meta(data)
    _check_routing(data)


def TestOneInput(data: bytes) -> None:  # atheris's conventional name
    check(data)


if __name__ == "__main__":
    import atheris

    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
