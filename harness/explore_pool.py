"""A process pool that maps a picklable task over N processes, in task order.

What: `pool_map(fn, tasks, jobs)` returns `[fn(t) for t in tasks]`; with
`jobs > 1` the calls run in `jobs` worker processes (the `fork` start method
where the platform has it, so workers start in milliseconds and inherit the
imported modules; `spawn` elsewhere). `fn` must be a module-level function and
each task and result picklable.

Why: the crash walk (`harness.explore`) and other long searches (e.g. `hunt`)
are CPU-bound pure functions of their task; two cores halve the wall time only
if the work is split into tasks whose results merge deterministically. The
order of the returned list is the order of `tasks`, never the order in which
workers finished, so output never depends on scheduling.

Rules: `jobs < 1` is a ValueError; `jobs == 1` (or a single task) runs in
this process, with no pool, so tracebacks and monkeypatches behave as usual.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

__all__ = ["pool_map"]

T = TypeVar("T")
R = TypeVar("R")


def pool_map(fn: Callable[[T], R], tasks: Sequence[T], jobs: int) -> list[R]:
    """`[fn(t) for t in tasks]`, computed by up to `jobs` processes, in task order."""
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    if jobs == 1 or len(tasks) <= 1:
        return [fn(t) for t in tasks]
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=ctx) as pool:
        return list(pool.map(fn, tasks))
