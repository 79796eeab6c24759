"""Oracle helpers shared by every fuzz target.

What: the checks each target's `check(data)` applies besides "it did not
crash": a raised error must be one of the parser's documented types and carry
a byte offset inside the input; peak memory must stay within a small multiple
of the input length whatever the length fields claim; and the helpers that
make a target module both importable by pytest and runnable by atheris.

Why: a parser that raises `IndexError` on a torn file, reports an offset past
the end, or allocates from an untrusted u32 count is a bug even when it
"works". These properties are the ones docs/SPEC.md §0 (typed errors, no allocation
from untrusted lengths) and STYLE ("fuzz targets assert the offset is in
range") promise.

Rules:
1. This module imports nothing from `impl/` at import time, so a target can
   import it *before* `atheris.instrument_imports()` and still have every impl
   module instrumented.
2. An oracle violation raises `FuzzFinding` (an AssertionError), never a
   parser error type, so a target cannot mistake its own check for the
   parser's documented error.
3. Memory is measured with tracemalloc on one input in `MEMORY_EVERY` (it
   slows every allocation several-fold); pytest's corpus replay sets it to 1.
"""

from __future__ import annotations

import contextlib
import os
import tracemalloc
import zlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TypeVar

__all__ = [
    "MEMORY_CONSTANT",
    "ROOT",
    "TARGETS",
    "FuzzFinding",
    "check_error",
    "cut_points",
    "instrumented",
    "measured",
    "set_memory_every",
]

#: the repository root (fuzz/ lives directly under it)
ROOT = Path(__file__).resolve().parents[1]
#: every target, in the order nightly runs them
TARGETS = ("resp", "resp_reader", "aof", "snapshot", "shards_meta", "journal", "dirs")
#: bytes any parse may use regardless of input size (interpreter noise, small
#: tables, one traceback); measured ~20 KiB on the seed corpus
MEMORY_CONSTANT = 256 * 1024

T = TypeVar("T")

_memory_every = max(1, int(os.environ.get("KEVY_FUZZ_MEMORY_EVERY", "16")))
_calls = 0


class FuzzFinding(AssertionError):
    """An oracle of a fuzz target does not hold for the input."""


def set_memory_every(n: int) -> None:
    """Measure peak memory on one call in `n` (1 = every call)."""
    global _memory_every
    _memory_every = max(1, n)


def check_error(err: BaseException, data: bytes, allowed: tuple[type[BaseException], ...]) -> None:
    """`err` must be a documented type with `0 <= offset <= at <= len(data)`."""
    __tracebackhide__ = True
    if not isinstance(err, allowed):
        names = ", ".join(t.__name__ for t in allowed)
        raise FuzzFinding(f"undocumented {type(err).__name__} escaped (allowed: {names})") from err
    offset = getattr(err, "offset", None)
    at = getattr(err, "at", None)
    if not (isinstance(offset, int) and isinstance(at, int) and 0 <= offset <= at <= len(data)):
        raise FuzzFinding(
            f"{type(err).__name__} has offset={offset!r} at={at!r} outside 0..{len(data)}: {err}"
        ) from err
    str(err)  # the one-line message must render for any input


def measured(fn: Callable[[], T], size: int, factor: int, what: str) -> T:
    """Run `fn`; on sampled calls assert its peak allocation <= factor*size + constant.

    Already-running tracemalloc (a nested measurement) is reused, not restarted.
    """
    global _calls
    _calls += 1
    if _calls % _memory_every:
        return fn()
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        result = fn()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        if started:
            tracemalloc.stop()
    limit = factor * size + MEMORY_CONSTANT
    if peak > limit:
        raise FuzzFinding(
            f"{what}: peak allocation {peak} bytes for {size} input bytes "
            f"(limit {factor} x {size} + {MEMORY_CONSTANT} = {limit})"
        )
    return result


def cut_points(data: bytes, most: int = 8) -> list[int]:
    """Up to `most` distinct offsets in 1..len(data)-1, ascending, chosen by the
    input's CRC, where an incremental-feeding check splits the input.

    The same input always splits the same way. A few cuts per input (not one
    every few bytes) keeps the incremental check as cheap as one more parse;
    across the millions of inputs a fuzz run sees, every boundary inside every
    kind of frame still gets cut.
    """
    if len(data) < 2:
        return []
    state = zlib.crc32(data) or 1
    cuts = set()
    for _ in range(most):
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        cuts.add(1 + (state >> 8) % (len(data) - 1))
    return sorted(cuts)


def instrumented(name: str) -> AbstractContextManager[object]:
    """`atheris.instrument_imports()` when the target runs as `__main__`, else a no-op.

    pytest imports targets as ordinary modules; instrumenting impl there
    would only slow the test run.
    """
    if name != "__main__":
        return contextlib.nullcontext()
    import atheris

    # Only impl: coverage of the model (an oracle) would steer the fuzzer
    # toward inputs that exercise the checker instead of the parser.
    return atheris.instrument_imports(include=["impl"])

