"""The `posix` model's plan: which name operations and data cuts an image may drop.

Part of the model/crashfs package; its __init__ holds the models' rules.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from model.crashfs.decisions import Decision
from model.crashfs.state import _Entry


@dataclass(frozen=True)
class _Cut:
    names: dict[str, int]
    frontier: int
    """Log position of the last persisted metadata op (-1: none)."""
    decision: Decision


@dataclass(frozen=True)
class _Outcome:
    names: dict[str, int]
    """The group's names after its decisions (absent = no file)."""
    trace: list[tuple[int, Decision]]


class _PosixPlan:
    """Durable names plus pending name ops, split into independent groups:
    ops connected through a shared name decide together, others multiply."""

    def __init__(self, durable: dict[str, int], pending: list[_Entry]) -> None:
        self.durable = durable
        self.pending = pending
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.setdefault(x, x) != x:
                x = parent[x]
            return x

        for e in pending:
            if e.dst is not None:
                parent[find(e.path)] = find(e.dst)
            else:
                find(e.path)
        groups: dict[str, list[_Entry]] = {}
        for e in pending:
            groups.setdefault(find(e.path), []).append(e)
        self.groups = list(groups.values())
        self.untouched = {p: i for p, i in durable.items() if p not in parent}

    def _start(self, ops: list[_Entry]) -> dict[str, int]:
        touched = {e.path for e in ops} | {e.dst for e in ops if e.dst is not None}
        return {p: i for p, i in self.durable.items() if p in touched}

    def outcomes(self, ops: list[_Entry]) -> Iterator[_Outcome]:
        """Every decision vector of one group, "kept" before "lost", lazily
        (an explicit stack: a long-running store can leave long groups)."""
        Trace = tuple[tuple[int, Decision], ...]
        stack: list[tuple[int, dict[str, int], Trace]] = [(0, self._start(ops), ())]
        while stack:
            k, names, trace = stack.pop()
            if k == len(ops):
                yield _Outcome(names, list(trace))
                continue
            e = ops[k]
            if not _effective(names, e):
                stack.append((k + 1, names, (*trace, (e.seq, _posix_decision(e, "moot")))))
                continue
            kept = dict(names)
            _apply_name_op(kept, e)
            stack.append((k + 1, names, (*trace, (e.seq, _posix_decision(e, "lost")))))
            stack.append((k + 1, kept, (*trace, (e.seq, _posix_decision(e, "kept")))))

    def weighted_count(self, ops: list[_Entry], weight: Callable[[int], int]) -> int:
        """Sum over the group's outcomes of the product of `weight(inode)` over
        the files it shows - by merging equal name states, op by op, so it
        does not walk every decision vector."""
        paths: dict[frozenset[tuple[str, int]], int] = {frozenset(self._start(ops).items()): 1}
        for e in ops:
            after: dict[frozenset[tuple[str, int]], int] = {}
            for state, n in paths.items():
                names = dict(state)
                if _effective(names, e):
                    after[state] = after.get(state, 0) + n
                    _apply_name_op(names, e)
                key = frozenset(names.items())
                after[key] = after.get(key, 0) + n
            paths = after
        return sum(n * math.prod(weight(i) for _, i in state) for state, n in paths.items())


def _lazy_product(factories: list[Callable[[], Iterator[Any]]]) -> Iterator[tuple[Any, ...]]:
    """itertools.product without materialising its inputs (each factory is
    called again for every combination of the ones before it)."""
    if not factories:
        yield ()
        return
    for head in factories[0]():
        for rest in _lazy_product(factories[1:]):
            yield (head, *rest)


def _effective(names: Mapping[str, int], e: _Entry) -> bool:
    """Whether a name op can have happened in an image whose names are `names`."""
    if e.op == "create":
        return True
    if e.op == "rename" and e.path == e.dst:
        return False
    return names.get(e.path) == e.ino


def _apply_name_op(names: dict[str, int], e: _Entry) -> None:
    if e.op == "create":
        names[e.path] = e.ino
    elif e.op == "unlink":
        if names.get(e.path) == e.ino:
            del names[e.path]
    elif e.op == "rename":
        assert e.dst is not None
        if e.path != e.dst and names.get(e.path) == e.ino:
            del names[e.path]
            names[e.dst] = e.ino


def _posix_decision(e: _Entry, fate: Literal["kept", "lost", "moot"]) -> Decision:
    reason = "moot" if fate == "moot" else "name"
    return Decision(e.op, e.path, fate, dst=e.dst, reason=reason)  # type: ignore[arg-type]
