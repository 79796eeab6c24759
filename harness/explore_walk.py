"""The crash walk behind `harness.explore.explore`: sharded, cached, optionally representative.

What: `walk(...)` enumerates the crash runs of a scenario and their images,
recovers each distinct recovery input once and judges it per crash point,
and returns an `ExploreResult`. With `jobs > 1` the walk is split into
`jobs` shards run by `harness.explore_pool.pool_map`; shard k enumerates only
the images whose set of file paths hashes to k (`CrashFS.images(model,
part=(k, jobs))`, which skips the other parts' data products unbuilt), so one
huge crash run is split as evenly as a set of small ones; byte-identical
images have the same paths, so every distinct recovery input is recovered by
exactly one shard. The shards' partial results merge into the result one job
gives: the same counts (images, distinct recoveries, violations) and the same
findings with the same first occurrence, occurrences and case, in the same
order.

Modes:
- "exhaustive" (default): every image of every crash run.
- "representative": per crash run, one image per class of decisions, where
  a class blanks the byte at which an append was torn ("torn at byte N").
  The image kept is the first of its class in enumeration order (the most
  kept tear). This is a heuristic reduction, not a proof: the bench
  (`bench/bench_explore.py`) and `tests/test_explore_walk.py` measure that
  it finds every distinct finding of the exhaustive walk.

Why sound for the exhaustive mode: recovery is a deterministic function of
(now, config, dirs, the set of paths, the bytes of the files it reads)
(`harness.scenarios.recover_reading`), so images that agree on those share one
recovery (`harness.explore.ReadCache`, which spans crash points); the verdict
also depends on the crash point's history, so it is judged again per crash
point (a per-run verdict cache), and the finding key reads each image's own
trace. The cache keeps the recoveries of the current and the previous crash
run: the recoveries counted are those performed, the same for any number of
jobs (an input and everything it can be reused for share their paths, hence
their part).

Rules: deterministic - the shard of an image is a function of its paths
(CRC-32, not Python's per-process salted `hash` of str/bytes), and the merge
orders by (crash run, image index), never by which worker finished first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from harness.explore import (
    ExploreResult,
    Finding,
    ReadCache,
    _finding_key,
    _Judge,
    _losses,
    _sampled_images,
    case_id,
    crash_runs,
)
from harness.explore_points import CrashPointTally
from harness.explore_pool import pool_map
from harness.scenarios import Recovery, Scenario, get_scenario
from impl.profile import Profile, get_profile
from model.crashfs import CrashImage, Decision, Model

__all__ = ["MODES", "Mode", "finding_signature", "representative_class", "walk"]

Mode = Literal["exhaustive", "representative"]
MODES: tuple[Mode, ...] = ("exhaustive", "representative")


def representative_class(decisions: Sequence[Decision]) -> tuple[Decision, ...]:
    """The class of an image in representative mode: its decisions, tear bytes blanked."""
    return tuple(d.blank_tear() for d in decisions)


@dataclass
class _Hit:
    """One finding key as seen by one shard: its earliest crash run and best image."""

    run: int
    first: int
    """Order (image index or draw ordinal) of the first occurrence in `run`."""
    rank: tuple[int, int]
    """(losses if drawn else 0, order) of `finding`: the lowest wins (as one job does)."""
    finding: Finding
    count: int = 1


@dataclass
class _Partial:
    points: int = 0
    images: int = 0
    recoveries: int = 0
    violations: int = 0
    space: int = 0
    enumerated: int = 0
    """Representative mode: images this shard enumerated (its part of the space)."""
    whole_runs: int = 0
    hits: dict[tuple[Any, ...], _Hit] = field(default_factory=dict)
    per_run: list[CrashPointTally] = field(default_factory=list)
    """This shard's images and violations per crash run, in walk order (sent back
    from a worker process: plain data, not the crash run)."""


def _walk_shard(
    sc: Scenario,
    profile: Profile,
    model: Model,
    *,
    sample: int | None,
    seed: int,
    mode: Mode,
    shard: int,
    jobs: int,
    cache: dict[Any, Recovery] | ReadCache,
    progress: Callable[[str], None] | None,
) -> _Partial:
    part = _Partial()
    judge = _Judge(sc, profile, cache)
    runs = list(crash_runs(sc, profile))
    for n, cr in enumerate(runs):
        part.points += 1
        if isinstance(cache, ReadCache):
            cache.advance()
        now = cr.run.clock.now_ms()
        states = cr.run.history.states(now)
        verdicts: dict[Any, Any] = {}
        images: Iterator[tuple[int | None, CrashImage]]
        drawn = False
        if sample is not None:
            total = cr.fs.count_images(model)
            part.space += total
            drawn = total > sample
        # Whole runs are enumerated by part (`CrashFS.images(part=...)`): each shard
        # builds only its own images. A drawn sample is the same in every shard and
        # is split by the same rule, image by image.
        split = jobs > 1 and drawn
        if drawn:
            assert sample is not None
            images = _sampled_images(cr, model, sample, seed)
        else:
            part.whole_runs += 1
            own = None if jobs == 1 else (shard, jobs)
            images = ((None, image) for image in cr.fs.images(model, part=own))
        classes: set[tuple[Decision, ...]] = set()
        run_images, run_violations = part.images, part.violations
        for k, image in images:
            if mode == "representative":
                part.enumerated += 1
                cls = representative_class(image.decisions)
                if cls in classes:
                    continue
                classes.add(cls)
            if split and not image.in_part((shard, jobs)):
                continue
            part.images += 1
            key, rec = judge.recovery(cr, image)
            j = verdicts.get(key)
            if j is None:
                j = verdicts[key] = judge.judge(cr, image, rec, states)
            if j.ok:
                continue
            part.violations += 1
            order = image.index if k is None else k
            assert order is not None
            rank = (_losses(image.decisions) if drawn else 0, order)
            fkey = _finding_key(cr, j, image.decisions)
            old = part.hits.get(fkey)
            if old is not None:
                old.count += 1
                if old.run != n or rank >= old.rank:
                    continue
            draw = None if k is None else (seed, k)
            cid = case_id(sc.name, profile.name, model, cr.point, cr.when, image.index, draw=draw)
            j = judge.judge(cr, image, rec, states, case=cid)
            finding = Finding(
                sc.name,
                profile.name,
                model,
                cr.point,
                cr.when,
                cr.label,
                image.index,
                image.decisions,
                j,
                1,
                draw,
                None if image.choices is None else list(image.choices),
                cr.op,
                image.paths,
            )
            if old is None:
                part.hits[fkey] = _Hit(n, order, rank, finding)
            else:
                old.rank, old.finding = rank, finding
        run_tally = (part.images - run_images, part.violations - run_violations)
        part.per_run.append(CrashPointTally(cr.point, cr.when, cr.label, *run_tally))
        if progress is not None:
            progress(
                f"{sc.name} / {profile.name} / {model}: crash run {n + 1}/{len(runs)}, "
                f"{part.images} images, {part.violations} violating"
            )
    part.recoveries = judge.recoveries
    return part


def _shard_task(task: tuple[str, str, Model, int | None, int, Mode, int, int]) -> _Partial:
    name, profile, model, sample, seed, mode, shard, jobs = task
    return _walk_shard(
        get_scenario(name),
        get_profile(profile),
        model,
        sample=sample,
        seed=seed,
        mode=mode,
        shard=shard,
        jobs=jobs,
        cache=ReadCache(),
        progress=None,
    )


def _merge(parts: list[_Partial], result: ExploreResult) -> None:
    # Counts that every shard computes alike (runs, space) come from shard 0.
    result.points = parts[0].points
    result.whole_runs = parts[0].whole_runs
    result.space = parts[0].space + sum(p.enumerated for p in parts)
    for p in parts:
        result.images += p.images
        result.recoveries += p.recoveries
        result.violations += p.violations
    # Every shard walks the same crash runs in the same order; each judges its own images.
    result.crash_points = [
        replace(t, images=sum(p.per_run[n].images for p in parts),
                violations=sum(p.per_run[n].violations for p in parts))
        for n, t in enumerate(parts[0].per_run)
    ]  # fmt: skip
    best: dict[tuple[Any, ...], _Hit] = {}
    total: dict[tuple[Any, ...], int] = {}
    for p in parts:
        for fkey, hit in p.hits.items():
            total[fkey] = total.get(fkey, 0) + hit.count
            cur = best.get(fkey)
            if cur is None or hit.run < cur.run:
                best[fkey] = _Hit(hit.run, hit.first, hit.rank, hit.finding)
            elif hit.run == cur.run:
                cur.first = min(cur.first, hit.first)
                if hit.rank < cur.rank:
                    cur.rank, cur.finding = hit.rank, hit.finding
    # One job lists findings in order of first occurrence.
    ordered = sorted(best.items(), key=lambda kv: (kv[1].run, kv[1].first))
    for fkey, hit in ordered:
        hit.finding.occurrences = total[fkey]
        result.findings.append(hit.finding)


def walk(
    sc: Scenario | str,
    profile: Profile | str,
    model: Model,
    *,
    progress: Callable[[str], None] | None = None,
    cache: dict[Any, Recovery] | ReadCache | None = None,
    sample: int | None = None,
    seed: int = 0,
    mode: Mode = "exhaustive",
    jobs: int = 1,
) -> ExploreResult:
    """See `harness.explore.explore`; `jobs` shards the walk over processes."""
    if isinstance(sc, str):
        sc = get_scenario(sc)
    if isinstance(profile, str):
        profile = get_profile(profile)
    if sample is not None and sample < 1:
        raise ValueError(f"sample must be at least 1 image per crash run, got {sample}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "representative" and sample is not None:
        raise ValueError("representative mode walks every class; it does not combine with sample")
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    result = ExploreResult(sc.name, profile.name, model, sample=sample, seed=seed)
    result.mode = mode
    start = time.perf_counter()  # throughput report only
    if jobs == 1:
        parts = [
            _walk_shard(
                sc,
                profile,
                model,
                sample=sample,
                seed=seed,
                mode=mode,
                shard=0,
                jobs=1,
                cache=ReadCache() if cache is None else cache,
                progress=progress,
            )
        ]
    else:
        tasks = [(sc.name, profile.name, model, sample, seed, mode, k, jobs) for k in range(jobs)]
        parts = pool_map(_shard_task, tasks, jobs)
    _merge(parts, result)
    result.elapsed_s = time.perf_counter() - start
    if sample is None and mode == "exhaustive":
        result.space = result.images
    return result


@dataclass(frozen=True)
class _Where:
    # The parts of a CrashRun that `_finding_key` reads.
    point: int | None
    when: str
    label: str
    op: str | None


def finding_signature(f: Finding) -> tuple[Any, ...]:
    """What makes `f` distinct (the explorer's grouping key): equal across modes
    and jobs for the same finding, whichever image first showed it."""
    return _finding_key(_Where(f.point, f.when, f.point_description, f.point_op), f.judgement)  # type: ignore[arg-type]
