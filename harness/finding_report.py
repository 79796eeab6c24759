"""The explorer's findings grouped by finding id: the text blocks and the JSON `groups`.

What: `report(result, out, ctx)` prints a run's summary line, a one-line index
of its groups, then one block per group (harness/finding_ids.py `group`): the
FINDINGS id and fix switch (or "unclassified" and its coarse signature), the
violating images and distinct finding keys it holds, one example paragraph
(its first finding's) and a replay command that works for this run.
`groups_json(result, ctx)` is the same as `kevy-verify-explore/1` members
(docs/explore-json.md), from which the `--html` page draws its table.

Why: one block per defect instead of one paragraph per loss combination; the
text, the JSON and the page show the same groups and counts because all three
come from one `group(result)`.

Rules:
1. The replay command is one that works now: `kevy-verify replay ID` (with
   `--corpus DIR` when not the default) when this run wrote the example's
   case; after `--no-corpus`, the same walk (scenario, model, profile, sample,
   seed, mode: deterministic) writing its cases to `SCRATCH_CORPUS`, then
   that replay.
2. The example paragraph is the judgement's own `explain()`, without the
   corpus hint it carries when the case is not in the repository's corpus
   (the replay line says how instead).
"""

from __future__ import annotations

import dataclasses
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from harness.explore import DEFAULT_CORPUS, ExploreResult, Finding
from harness.finding_ids import Group, group

#: Where a replay command for a `--no-corpus` run has the walk write its cases.
SCRATCH_CORPUS = "/tmp/kevy-verify-cases"

__all__ = [
    "SCRATCH_CORPUS",
    "ReportContext",
    "decision_json",
    "group_replay",
    "groups_json",
    "report",
]


@dataclass(frozen=True)
class ReportContext:
    """How the run was asked for: what a replay command must repeat."""

    profile: str
    corpus: str | None = None
    """The corpus directory cases were written to (None: --no-corpus)."""
    cases: tuple[str, ...] = ()
    """The case files this run wrote."""

    def written(self, f: Finding) -> bool:
        return any(Path(c).stem == f.id for c in self.cases)


def group_replay(result: ExploreResult, g: Group, ctx: ReportContext) -> str:
    """A command that reproduces the group's example (rule 1)."""
    f = g.example
    replay = ["kevy-verify", "replay", f.id]
    if ctx.corpus is not None and ctx.written(f):
        if Path(ctx.corpus).resolve() != DEFAULT_CORPUS.resolve():
            replay += ["--corpus", ctx.corpus]
        return shlex.join(replay)
    walk = ["kevy-verify", "explore", result.scenario, "--model", result.model,
            "--profile", result.profile]  # fmt: skip
    if result.sample is not None:
        walk += ["--sample", str(result.sample), "--seed", str(result.seed)]
    if result.mode != "exhaustive":
        walk += ["--mode", result.mode]
    walk += ["--corpus", SCRATCH_CORPUS, "--format", "json"]
    return f"{shlex.join(walk)} > /dev/null && {shlex.join([*replay, '--corpus', SCRATCH_CORPUS])}"


def _example(f: Finding) -> str:
    return dataclasses.replace(f.judgement, case=None).explain()


def _heading(g: Group) -> str:
    if g.signature is not None:
        return f"unclassified: {g.signature} (no table row matches)"
    return f"{g.id} (fix: {g.switch}): {g.title}"


def report(result: ExploreResult, out: TextIO, ctx: ReportContext) -> None:
    """Print the summary, an index of the groups and one block per group."""
    out.write(result.summary() + "\n")
    groups = group(result)
    if not groups:
        return
    index = ", ".join(
        f"{g.id if g.signature is None else 'unclassified'} {g.images}" for g in groups
    )
    out.write(f"violating images by finding id: {index}\n")
    for g in groups:
        f = g.example
        out.write(f"\n{_heading(g)}\n"
                  f"  {g.images} violating image(s), {g.keys} distinct key(s); "
                  f"example {f.id} (x{f.occurrences}):\n"
                  f"  {_example(f)}\n"
                  f"  replay: {group_replay(result, g, ctx)}\n")  # fmt: skip


def decision_json(d: Any) -> dict[str, Any]:
    """One crash-image decision record as JSON (docs/explore-json.md)."""
    out: dict[str, Any] = {"op": d.op, "path": d.path, "fate": d.fate, "text": str(d)}
    if d.dst is not None:
        out["dst"] = d.dst
    if d.op == "data":
        out.update(kept=d.kept, total=d.total, after=d.after)
        if d.event:
            out["event"] = d.event
        if d.tear is not None:
            out["tear"] = d.tear
    if d.op == "metadata":
        out.update(kept=d.kept, total=d.total, barrier=d.barrier,
                   lost_ops=[[op, p, q] for op, p, q in d.lost_ops])  # fmt: skip
    return out


def groups_json(result: ExploreResult, ctx: ReportContext) -> list[dict[str, Any]]:
    """The run's `groups` member: one object per group, in report order."""
    return [
        {"id": g.id, "switch": g.switch, "title": g.title, "signature": g.signature,
         "images": g.images, "keys": g.keys, "example": g.example.id,
         "findings": [f.id for f in g.findings], "replay": group_replay(result, g, ctx)}
        for g in group(result)
    ]  # fmt: skip
