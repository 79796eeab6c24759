"""Per-crash-run tallies of an explore walk: the persistence-point strip of a report.

What: `CrashPointTally` is one crash run of a scenario (before or after one
persistence point, or the end of the run) with the images judged there and
how many of them violated the contract. `ExploreResult.crash_points` lists
them in walk order; `--format json` prints them as `crash_points`
(docs/explore-json.md) and `--html` draws them as a coloured strip
(harness/report_html.py).

Why a separate record: the run-level counts say *that* a scenario loses data,
the strip says *where* (which fsync or rename the loss hangs on) without
opening every finding.

Rules: the tallies add up to the run's totals - `sum(images) == images` and
`sum(violations) == violations` - for any number of jobs (shards' tallies are
summed per crash run, and every image is judged by exactly one shard).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CrashPointTally"]


@dataclass(frozen=True)
class CrashPointTally:
    """The images judged and the violating ones in one crash run."""

    point: int | None
    """The persistence point crashed at, or None for the end of the run."""
    when: str
    """"before", "after" or "end"."""
    label: str
    """E.g. "before point 5: fdatasync aof-0.aof"."""
    images: int
    violations: int
