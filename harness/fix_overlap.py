"""Which fix switches change the same persistence points: `overlaps(profile)`.

What: a measured companion to `harness.fix_guards`. A switch's *effect* is what
turning it on changes in the runs of a fixed sample of lifecycle programs: the
persistence points (op, path) a run makes that it did not make before, and
those it no longer makes, per program (a multiset). Switch `s` *covers* switch
`u` when at least `COVER` of `u`'s effect is also `s`'s effect.

Why: a fix that mends one defect can mend another by side effect, with no
`fixes()` test between them that `fix_guards` could read. F28's fix syncs the
data directory at open; so, in every open that re-shards or creates a log, do
the fixes of `reshard_dir_fsync` and `aof_dir_fsync`. Once the hunt has turned
those on, F28's defect is unobservable: 0 failures in 8,000 programs under
`hardened` with only F28's switch off, 64 with the three covering fixes off as
well. Masking one found switch at a time cannot bring it back (the other two
still sync); the hunt masks every found switch that covers a switch not yet
found, together (harness/hunt.py `_targets`).

Limits: a sample, not a proof - an effect the sample never shows is not
counted, and covering is about the points a fix makes, not about what a crash
then keeps. Both err toward masking more, which costs examples, not findings.
"""

from __future__ import annotations

import functools
import random
from collections import Counter

from harness.explore_pool import pool_map
from harness.lifecycle import Program, traced
from harness.lifecycle_gen import fill_and_run, generate
from impl.profile import SWITCHES, get_profile

__all__ = ["COVER", "SAMPLE", "covering", "effect", "overlaps"]

#: programs each effect is measured on (drawn from a fixed seed: a property of the code)
SAMPLE = 40
#: the share of `u`'s effect `s` must share to cover it
COVER = 0.5
_SEED = 0

Effect = Counter[tuple[int, str, str, str]]


@functools.cache
def _sample(profile_name: str) -> tuple[tuple[Program, ...], tuple[Counter[tuple[str, str]], ...]]:
    """The sample programs, filled under the profile, and the points each makes."""
    base = get_profile(profile_name)
    master = random.Random(_SEED)
    programs = []
    for _ in range(SAMPLE):
        rng = random.Random(master.getrandbits(64))
        program, _failure = fill_and_run(generate(rng), base, rng)
        programs.append(program)
    points = tuple(Counter(traced(p, base, lenient=True)[1]) for p in programs)
    return tuple(programs), points


def effect(task: tuple[str, str]) -> Effect:
    """What switch `task[0]` changes in the sample's runs under profile `task[1]`:
    (program, "+" or "-", op, path) -> how many more or fewer times."""
    switch, profile_name = task
    programs, before = _sample(profile_name)
    under = get_profile(profile_name).with_switches(switch)
    out: Effect = Counter()
    for i, program in enumerate(programs):
        after = Counter(traced(program, under, lenient=True)[1])
        for (op, path), k in (after - before[i]).items():
            out[(i, "+", op, path)] += k
        for (op, path), k in (before[i] - after).items():
            out[(i, "-", op, path)] += k
    return out


def covering(effects: dict[str, Effect]) -> dict[str, frozenset[str]]:
    """`s` -> the switches `u` (u != s, with an effect) whose effect `s`'s covers."""
    out: dict[str, frozenset[str]] = {}
    for s, es in effects.items():
        hidden = frozenset(
            u
            for u, eu in effects.items()
            if u != s and eu.total() and (eu & es).total() >= COVER * eu.total()
        )
        if hidden:
            out[s] = hidden
    return out


@functools.cache
def overlaps(profile_name: str, jobs: int = 1) -> dict[str, frozenset[str]]:
    """`covering` over every fix switch off in the named profile (measured once per
    process: SAMPLE runs under the profile and SAMPLE per switch)."""
    base = get_profile(profile_name)
    off = sorted(n for n in SWITCHES if not base.fixes(n) and SWITCHES[n].finding != "compat")
    if not off:
        return {}
    _sample(profile_name)  # in this process first, so forked workers inherit it
    measured = pool_map(effect, [(n, profile_name) for n in off], jobs)
    return covering(dict(zip(off, measured, strict=True)))
