"""Which fix switch's sites lie on a path another switch takes away: `guards()`.

What: a static reading of impl/*.py. A site `profile.fixes("u")` is *guarded* by
switch `s` when it runs only while `s` is off: it sits in the `else` of an
`if ...fixes("s"):`, in the body of an `if not ...fixes("s"):`, or after an
`if ...fixes("s"):` whose body always returns or raises, in the same block.
`guards()` maps each `s` to the switches whose every site it guards.

Why: the hunt turns a class's fix switch on once it is found, so the next
defect can show (harness/hunt.py). A fix that replaces a whole code path also
removes the defects inside that path: with `save_commit_roll_forward` on (F5),
kevy's commit path, where a failed rename leaves the tee running (F17), no
longer runs, so F17 can show only in an example that runs with F5's switch off
again (a masked example). Picking that switch among thirty found ones by turn
left F17 to chance; every other masked example masks, together, the found switches
that guard (here) or cover (harness/fix_overlap.py) a switch not yet found.

Limits: one function at a time (a site in a function only the guarded path
calls is not seen as guarded), and only tests that are a `fixes()` call or its
negation (`if a and fixes("s")` is not read). Both err toward no guard, which
leaves the hunt's masking as it was.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable
from pathlib import Path

__all__ = ["guards", "guards_in"]

_IMPL = Path(__file__).resolve().parent.parent / "impl"


def _switch(node: ast.AST) -> str | None:
    """`s` if `node` is a call `<anything>.fixes("s")`."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "fixes"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    return None


def _sites(nodes: Iterable[ast.AST]) -> list[ast.Call]:
    return [x for n in nodes for x in ast.walk(n) if _switch(x) is not None]  # type: ignore[misc]


def _ends(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], ast.Return | ast.Raise)


def _walk_block(stmts: list[ast.stmt], off: dict[str, set[int]]) -> None:
    """Record in `off[s]` the ids of the `fixes()` sites that run only with `s` off."""
    for i, st in enumerate(stmts):
        if isinstance(st, ast.If):
            on = _switch(st.test)
            negated = isinstance(st.test, ast.UnaryOp) and isinstance(st.test.op, ast.Not)
            neg = _switch(st.test.operand) if negated else None  # type: ignore[attr-defined]
            if on is not None:
                region = [*st.orelse, *(stmts[i + 1 :] if _ends(st.body) else [])]
                off.setdefault(on, set()).update(id(c) for c in _sites(region))
            if neg is not None:
                region = [*st.body, *(stmts[i + 1 :] if _ends(st.orelse) else [])]
                off.setdefault(neg, set()).update(id(c) for c in _sites(region))
        for field in ("body", "orelse", "finalbody"):
            sub = getattr(st, field, None)
            if isinstance(sub, list) and sub and isinstance(sub[0], ast.stmt):
                _walk_block(sub, off)
        for handler in getattr(st, "handlers", []):
            _walk_block(handler.body, off)


#: a mutant mutmut writes beside each function's original (`x_f__mutmut_3`)
_MUTANT = re.compile(r"__mutmut_\d+$")


class _Originals(ast.NodeTransformer):
    """Drops mutmut's mutant functions: under `kevy-verify mutants --tool mutmut`
    impl/ is mutmut's copy, and a mutant's moved site is not the code's guard."""

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST | None:
        return None if _MUTANT.search(node.name) else self.generic_visit(node)


def guards_in(sources: Iterable[str]) -> dict[str, frozenset[str]]:
    """`s` -> the switches whose every site in `sources` runs only with `s` off."""
    off: dict[str, set[int]] = {}
    site_of: dict[int, str] = {}
    # kept alive: ids stay unique
    trees = [_Originals().visit(ast.parse(source)) for source in sources]
    for tree in trees:
        for call in _sites([tree]):
            site_of[id(call)] = _switch(call)  # type: ignore[assignment]
        _walk_block(tree.body, off)
    sites: dict[str, set[int]] = {}
    for node_id, u in site_of.items():
        sites.setdefault(u, set()).add(node_id)
    result: dict[str, frozenset[str]] = {}
    for s, ids in off.items():
        hidden = frozenset(u for u, all_ids in sites.items() if u != s and all_ids <= ids)
        if hidden:
            result[s] = hidden
    return result


@functools.cache
def guards() -> dict[str, frozenset[str]]:
    """`guards_in` over impl/*.py (read once per process)."""
    return guards_in(p.read_text(encoding="utf-8") for p in sorted(_IMPL.glob("*.py")))
