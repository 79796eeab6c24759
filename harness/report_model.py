"""The report model's detail members: per-point tallies and each finding's evidence.

What: `crash_points_json(result)` and `finding_detail_json(finding)` give the
members of the `kevy-verify-explore/1` document (docs/explore-json.md) that
go beyond the counts and the paragraph: the crash runs with their images and
violations, and per finding its minimal history (the writes, acked or not,
and where each was promised durable), the crash image's decisions, and the
expected and recovered keyspaces (`kevy-keyspace/1`, docs/keyspace-json.md)
with the contract's diff between them.

Why: one report model, three renderings. The text report, `--format json`
and `--html FILE` (harness/report_html.py) are all drawn from what
`harness/explore_cli.py:run_json` builds from one `ExploreResult`; nothing is
re-run to render a page, so its numbers are the JSON's by construction.

Rules: every member is plain JSON (byte strings as Latin-1 text, as in
`kevy-keyspace/1`); nothing here is escaped for a terminal or a page - each
renderer escapes what it shows.
"""

from __future__ import annotations

from typing import Any

from harness.explore import ExploreResult, Finding
from model.contract import keyspace_diff

__all__ = ["DIFF_LIMIT", "crash_points_json", "finding_detail_json"]

#: Diff lines kept per finding (the text paragraph keeps 4): enough for every
#: scenario's keyspace, bounded so a huge keyspace cannot blow up a report.
DIFF_LIMIT = 200


def crash_points_json(result: ExploreResult) -> list[dict[str, Any]]:
    """One object per crash run, in walk order (`crash_points` of a run)."""
    return [
        {"point": t.point, "when": t.when, "description": t.label,
         "images": t.images, "violations": t.violations}
        for t in result.crash_points
    ]  # fmt: skip


def finding_detail_json(f: Finding) -> dict[str, Any]:
    """A finding's evidence: `history`, `trace`, `now_ms`, `expected`, `recovered`,
    `error` and `diff` (docs/explore-json.md)."""
    j = f.judgement
    history = [
        {"op": op.index, "argv": [a.decode("latin-1") for a in op.argv], "acked": op.acked,
         "durable_at": op.durable_at, "now_ms": op.now_ms}
        for op in j.history.ops
    ]  # fmt: skip
    diff = [] if j.recovered is None else keyspace_diff(
        j.expected, j.recovered, DIFF_LIMIT, now_ms=j.now_ms
    )  # fmt: skip
    return {
        "history": history,
        "trace": list(f.trace),
        "now_ms": j.now_ms,
        "expected": j.expected,
        "recovered": j.recovered,
        "error": j.error,
        "diff": diff,
    }
