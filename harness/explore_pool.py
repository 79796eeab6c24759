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

`TaskPool(jobs)` keeps its processes across calls: `submit(fn, tasks)` starts
a batch and returns at once, `Batch.result()` waits for it. A caller that has
work of its own per batch (the hunt shrinks and triages what a batch found)
submits the next batch first, so the workers run while it works, and `cancel()`s
the next batch if its own work made it stale.

Rules: `jobs < 1` is a ValueError; `jobs == 1` (or a single task) runs in
this process, with no pool, so tracebacks and monkeypatches behave as usual
(a `TaskPool` of one job runs a batch when its result is asked for).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.context import BaseContext
from types import TracebackType
from typing import Generic, TypeVar

__all__ = ["Batch", "TaskPool", "pool_map"]

T = TypeVar("T")
R = TypeVar("R")


def pool_map(fn: Callable[[T], R], tasks: Sequence[T], jobs: int) -> list[R]:
    """`[fn(t) for t in tasks]`, computed by up to `jobs` processes, in task order."""
    # TaskPool refuses jobs < 1; min() keeps that, and one task runs in-process.
    with TaskPool(min(jobs, max(1, len(tasks)))) as pool:
        return pool.submit(fn, tasks).result()


def _context() -> BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


class Batch(Generic[R]):
    """A submitted batch: `result()` is `[fn(t) for t in tasks]`, in task order."""

    def __init__(self, futures: list[Future[R]] | None, local: Callable[[], list[R]]) -> None:
        self._futures = futures
        self._local = local

    def result(self) -> list[R]:
        if self._futures is None:
            return self._local()
        return [f.result() for f in self._futures]

    def cancel(self) -> None:
        """Drop the batch: tasks not started never run; running ones finish unread."""
        for f in self._futures or ():
            f.cancel()


class TaskPool:
    """`jobs` worker processes kept for every batch submitted until `close()`."""

    def __init__(self, jobs: int) -> None:
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs}")
        self.jobs = jobs
        self._pool = (
            ProcessPoolExecutor(max_workers=jobs, mp_context=_context()) if jobs > 1 else None
        )

    def submit(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Batch[R]:
        if self._pool is None:
            return Batch(None, lambda: [fn(t) for t in tasks])
        return Batch([self._pool.submit(fn, t) for t in tasks], list)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> TaskPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
