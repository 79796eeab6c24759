"""Findings, crash decisions and refusals travel as records; text is made only to print.

Crash-image decisions are `model.crashfs.Decision` records, verdicts are
`model.contract.Judgement` / `VerdictRecord`, refusals `RefusalRecord` (from
the typed error's attributes), and the explorer's keys, the finding-id table
and the hunt's signatures read their fields. This test is the grep that keeps
it so: in the modules they pass through (`CARRIERS`), no string method that takes text apart
(`split`, `rsplit`, `partition`, `startswith`, `endswith`, `in`) and no `re`
call is applied to a value named like a rendered finding, decision, label,
error or signature (`line`, `trace`, `label`, `error`, `message`, `sig`, ...).
It found the three that were there: the explorer's finding key (`line.endswith`,
`label.split`), the contract's refusal offset (`re.search` on the error) and
the hunt's `point_kind(label)` and shrink (`sig.rsplit`).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Names whose values are text made from a record: taking them apart is parsing it back.
RENDERED = {"line", "lines", "trace", "label", "error", "message", "explain", "sig",
            "signature", "point_description", "crash", "describe"}  # fmt: skip
#: The modules findings, decisions, verdicts and refusals pass through (the fuzz
#: and mutation tools parse other tools' output and source, which is their job).
CARRIERS = ("harness/explore*.py", "harness/finding_*.py", "harness/hunt*.py",
            "harness/lifecycle.py", "harness/report_*.py", "harness/replay_cli.py",
            "harness/scenarios.py", "model/contract.py", "model/compare.py",
            "model/crashfs/*.py")  # fmt: skip
TAKE_APART = {"split", "rsplit", "partition", "rpartition", "startswith", "endswith"}


def _names(node: ast.AST) -> set[str]:
    """The names and attribute names an expression is built from."""
    out = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            out.add(n.id)
        elif isinstance(n, ast.Attribute):
            out.add(n.attr)
    return out


def _offences(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            f = node.func
            if f.attr in TAKE_APART and _names(f.value) & RENDERED:
                found.append((node.lineno, f"{ast.unparse(f.value)}.{f.attr}(...)"))
            if isinstance(f.value, ast.Name) and f.value.id == "re":
                if any(_names(a) & RENDERED for a in node.args[1:]):
                    found.append((node.lineno, ast.unparse(node)))
        if isinstance(node, ast.Compare) and any(isinstance(o, ast.In) for o in node.ops):
            # `"unprotected data" in line`: a substring test on rendered text.
            if isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
                right = node.comparators[0]
                if _names(right) & RENDERED:
                    found.append((node.lineno, ast.unparse(node)))
    return found


def test_no_finding_decision_or_refusal_is_parsed_back_out_of_text() -> None:
    offences = []
    paths = sorted({p for pattern in CARRIERS for p in ROOT.glob(pattern)})
    assert len(paths) > 15
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        offences += [f"{path.relative_to(ROOT)}:{n}: {what}" for n, what in _offences(tree)]
    assert not offences, "\n".join(offences)


def test_the_check_sees_the_patterns_it_replaced() -> None:
    """Each shape this module forbids, as it was written before the records."""
    old = """
for line in j.trace:
    if line.endswith(("kept", "moot")) or " all " in line:
        continue
step = cr.label.split(": ", 1)[-1].split(" ")[0]
ok = re.search(rf"offset {offset}", error) is not None
csig = sig.rsplit("/", 2)[0]
"""
    assert len(_offences(ast.parse(old))) == 6  # the label's split is two calls
