"""The hunt: seeded lifecycle programs against a profile, shrunk, triaged, suppressed.

What: `hunt(profile, seed, ...)` draws lifecycle programs (`harness.lifecycle`)
from one seeded `random.Random`, runs each on a CrashFS, and for each failure:
shrinks it (drop steps, un-crash steps, fewer shards, a stricter fsync policy:
every candidate must fail with the same signature), classifies it by a stable
`signature` (contract rule x operation x persistence point kind x
configuration), and triages it by ablation: the first registered fix switch
that makes the minimal program pass is the finding's fix. Then it keeps
hunting with that class suppressed - the switch added to the profile under
test when one exists, else the signature ignored.

Why: a harness is worth the defects it finds on its own. A failure that
names its fix switch is a known finding re-found; one that no switch fixes is
new and gets a corpus case (`kevy-verify-hunt-case/1`) that replays exactly.

Rules:
1. Deterministic from the seed: the time budget is the only clock read, and
   only between examples; `examples=` bounds the run without any clock.
2. Every program a finding reports is minimal under the shrinker and
   replays from its case file alone (`kevy-verify hunt --replay CASE`).
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from harness.case_file import read_case
from harness.explore_pool import Batch, TaskPool
from harness.fix_guards import guards
from harness.fix_overlap import overlaps
from harness.lifecycle import Failure, Program, execute, traced
from harness.lifecycle_gen import fill_and_run, generate
from impl.profile import SWITCHES, Profile, get_profile

__all__ = [
    "CASE_FORMAT",
    "Finding",
    "HuntResult",
    "hunt",
    "load_case",
    "replay_case",
    "shrink",
    "signature",
    "triage",
]

CASE_FORMAT = "kevy-verify-hunt-case/1"


def signature(program: Program, failure: Failure) -> str:
    """rule x operation x persistence point kind x configuration (policy, one shard or many)."""
    shards = "1shard" if program.shards == 1 else "nshards"
    dims = "".join(f"/{d}" for d in _dims(program))
    return f"{failure.rule}/{failure.crash_verb}/{failure.point}/{program.policy}/{shards}{dims}"


def _dims(program: Program) -> list[str]:
    """The configuration dimensions of a program's signature, in order."""
    return [
        d
        for d, on in (
            ("evict", program.maxmemory),
            ("names", "aof_name" in program.config),
            ("autorewrite", "auto_rewrite_min_size" in program.config),
            ("noaof", program.config.get("aof_enabled") is False),
            ("bgreaper", program.config.get("reaper") == "background"),
            ("slots", any(_inner(s)[0] == "server" for s in program.steps)),
        )
        if on
    ]


def _inner(step: list[Any]) -> list[Any]:
    return step[1] if step[0] in ("crash", "fault") else step


def _fails_alike(program: Program, profile: Profile, sig: str | None) -> Failure | None:
    if sig is None:
        return None
    try:
        f = execute(program, profile)
    except ValueError:
        return None  # recorded image choices no longer fit: not a reproduction
    if f is not None and signature(program, f) == sig:
        return f
    return None


def _candidates(p: Program) -> Iterator[Program]:
    steps = p.steps
    # Cut everything after the failing step first: nothing later can matter.
    for i in range(len(steps) - 1, -1, -1):
        yield replace(p, steps=steps[:i] + steps[i + 1 :])
    for i, s in enumerate(steps):
        if s[0] in ("crash", "fault"):
            yield replace(p, steps=[*steps[:i], s[1], *steps[i + 1 :]])
    for i, s in enumerate(steps):
        wrapped = s[0] in ("crash", "fault")
        for simpler in _simpler(s[1] if wrapped else s):
            new = [s[0], simpler, *s[2:]] if wrapped else simpler
            yield replace(p, steps=[*steps[:i], new, *steps[i + 1 :]])
    for i, s in enumerate(steps):
        if s[0] == "reopen" and s[1] != p.shards:
            yield replace(p, steps=[*steps[:i], ["reopen", p.shards, *s[2:]], *steps[i + 1 :]])
        if s[0] == "reopen" and len(s) > 2:
            yield replace(p, steps=[*steps[:i], s[:2], *steps[i + 1 :]])
    if p.shards != 1:
        yield replace(p, shards=1)
    # Only toward the strictest policy (no -> everysec -> always), so shrinking ends.
    order = ("always", "everysec", "no")
    for policy in order[: order.index(p.policy)]:
        yield replace(p, policy=policy)


def _simpler(step: list[Any]) -> Iterator[list[Any]]:
    """Smaller forms of one phased step: fewer writes between its phases, no delay,
    or the whole save/rewrite as one call."""
    if step[0] == "bgsave":
        _, delay, during = step
        for j in range(len(during)):
            yield ["bgsave", delay, during[:j] + during[j + 1 :]]
        if delay:
            yield ["bgsave", 0, during]
        if not during and not delay:
            yield ["save"]
    elif step[0] == "bgrewrite":
        _, during, before_swap = step
        for j in range(len(during)):
            yield ["bgrewrite", during[:j] + during[j + 1 :], before_swap]
        for j in range(len(before_swap)):
            yield ["bgrewrite", during, before_swap[:j] + before_swap[j + 1 :]]
        if not during and not before_swap:
            yield ["rewrite"]


def shrink(program: Program, failure: Failure, profile: Profile) -> tuple[Program, Failure]:
    """A minimal program failing with the same signature (greedy, to a fixpoint)."""
    program = replace(program, steps=program.steps[: failure.step + 1])
    progress = True
    while progress:
        progress = False
        for cand in _candidates(program):
            # A policy or shard-count change changes the signature's configuration
            # part; accept it only if the rest of the class is the same: the class's
            # own fields under the candidate's configuration, computed from the
            # records, not cut out of the signature's text. (The text surgery this
            # replaced never matched a program with a configuration dimension, so
            # those were never shrunk; they are now.)
            csig = signature(cand, failure)
            f = _fails_alike(cand, profile, csig)
            if f is not None:
                program, failure = cand, f
                program.steps = program.steps[: f.step + 1]
                progress = True
                break
    return program, failure


def _passes(program: Program, profile: Profile) -> bool:
    # Lenient: a fix adds persistence points, so the recorded image may not fit.
    return execute(program, profile, lenient=True) is None


def _difference(a: list[tuple[str, str]], b: list[tuple[str, str]]) -> int:
    """The size of the multiset symmetric difference of two runs' points."""
    ca, cb = Counter(a), Counter(b)
    return sum((ca - cb).values()) + sum((cb - ca).values())


def _common_prefix(a: list[tuple[str, str]], b: list[tuple[str, str]]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def triage(program: Program, profile: Profile) -> str | None:
    """The fix switches, off in `profile`, that make `program` pass, comma-joined: one
    if one does, else a minimal set found by dropping switches one by one from all
    of them (a history that needs two fixes, e.g. F8 behind F6). None if even every
    switch together leaves it failing: a new defect.

    When several single switches each make it pass, the explanation is the one whose
    run's persistence points differ least from the failing run's (as multisets of
    (op, path); then the one that keeps the failing run's order longest, then the
    one making fewer, then the first by name): a fix that rebuilds a whole
    protocol mends a history a narrow one mends too - F5's roll-forward commit
    also ends F17's stuck tee, and F31's atomic meta write syncs the directory
    F28's fix syncs at the reopen - and taking the wide one would leave the
    narrow defect with no class of its own. The narrow fix changes the run only
    where the defect is."""
    off = [n for n in sorted(SWITCHES) if not profile.fixes(n)]
    failing = traced(program, profile, lenient=True)[1]
    best: tuple[int, int, int, str] | None = None
    for name in off:
        if SWITCHES[name].finding == "compat":
            continue
        failure, points = traced(program, profile.with_switches(name), lenient=True)
        if failure is None:
            key = (_difference(failing, points), -_common_prefix(failing, points),
                   len(points), name)
            best = key if best is None else min(best, key)
    if best is not None:
        return best[3]
    if not off or not _passes(program, profile.with_switches(*off)):
        return None
    needed = list(off)
    for name in off:
        rest = [n for n in needed if n != name]
        if rest and _passes(program, profile.with_switches(*rest)):
            needed = rest
    return ",".join(needed)


@dataclass
class Finding:
    signature: str
    rule: str
    switch: str | None
    finding: str | None
    program: Program
    message: str
    new: bool
    case_path: str | None = None
    example: int = 0
    masked_by: str | None = None
    """Found with this known switch turned off again (a class it had hidden)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "signature": self.signature,
            "rule": self.rule,
            "switch": self.switch,
            "finding": self.finding,
            "new": self.new,
            "example": self.example,
            "masked_by": self.masked_by,
            "minimal_history": self.program.to_json(),
            "case": self.case_path,
            "message": self.message,
        }

    def paragraph(self) -> str:
        """A FINDINGS.md-style paragraph: class, fix, minimal history, replay."""
        what = (
            f"fixed by `{self.switch}` ({self.finding})"
            if self.switch
            else "no fix switch makes it pass: a new defect"
        )
        steps = "; ".join(json.dumps(s) for s in self.program.steps)
        replay = f"kevy-verify hunt --replay {self.case_path}" if self.case_path else "-"
        return (
            f"{self.signature}: {what}. Minimal history (policy {self.program.policy}, "
            f"{self.program.shards} shard(s)): {steps}. {self.message} Replay: {replay}"
        )


@dataclass
class HuntResult:
    profile: str
    seed: int
    examples: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)

    @property
    def new(self) -> int:
        return sum(f.new for f in self.findings)


def known_signatures(corpus: str | None) -> dict[tuple[str, str | None], str]:
    """(signature, fix switch) -> case path of every committed hunt case under `corpus`.

    A class is a signature *and* the switch that fixes it: two defects can
    share a signature (the same rule, verb, point kind and configuration).
    """
    out: dict[tuple[str, str | None], str] = {}
    if corpus and os.path.isdir(corpus):
        for name in sorted(os.listdir(corpus)):
            if name.endswith(".json"):
                path = os.path.join(corpus, name)
                doc = load_case(path)
                out[(doc["signature"], doc["switch"])] = path
    return out


def _case_id(profile: str, sig: str, switch: str | None) -> str:
    fixed = (switch or "unfixed").replace(",", "+")
    return f"{profile}--" + sig.replace("/", "--").replace(":", "-") + f"--{fixed}"


def _profile_name(base: Profile, under: Profile) -> str:
    """A name `get_profile` reads back: the base plus the fixes turned on since."""
    extra = sorted(under.enabled - base.enabled)
    return f"{base.name}+{','.join(extra)}" if extra else base.name


def write_case(corpus: str, base: Profile, under: Profile, f: Finding) -> str:
    """Write `f` as a case; `under` is the profile it failed under (base + the fixes
    of the classes found before it, so the case shows this class alone)."""
    os.makedirs(corpus, exist_ok=True)
    path = os.path.join(corpus, _case_id(base.name, f.signature, f.switch) + ".json")
    doc = {
        "format": CASE_FORMAT,
        "profile": _profile_name(base, under),
        "signature": f.signature,
        "rule": f.rule,
        "switch": f.switch,
        "finding": f.finding,
        "program": f.program.to_json(),
        "message": f.message,
    }
    with open(path, "w", encoding="utf-8") as out:
        json.dump(doc, out, indent=2, ensure_ascii=False)
        out.write("\n")
    return path


def load_case(path: str) -> dict[str, Any]:
    """The hunt case at `path` (CaseError names the file if it is not one)."""
    return read_case(path, CASE_FORMAT)


def replay_case(doc: dict[str, Any], profile: Profile) -> Failure | None:
    """Run a case's program under `profile` (its own, or with its fix on)."""
    return execute(Program.from_json(doc["program"]), profile)


#: what one example gives back: its program, and how it failed (None: it passed)
Outcome = tuple[Program, Failure | None]


class _Drawn(NamedTuple):
    """A submitted batch of examples: their seeds, masks, and the running batch."""

    seeds: list[int]
    masks: list[Mask | None]
    batch: Batch[Outcome]


def _run_example(task: tuple[int, str]) -> Outcome:
    """One example: the program drawn from `seed` under the named profile, and how it
    failed (a module-level function of picklable data, for `TaskPool`)."""
    seed, profile_name = task
    under = get_profile(profile_name)
    rng = random.Random(seed)
    program = generate(rng)
    try:
        return fill_and_run(program, under, rng)
    except Exception as e:
        # A harness bug, not a finding: say which program, so it replays.
        raise RuntimeError(
            f"hunt: example seed {seed} under {profile_name} raised {type(e).__name__}: {e}; "
            f"program {json.dumps(program.to_json())}"
        ) from e


#: once classes are found, every MASK_EVERY-th example runs with one of their switches
#: off again, in turn: a class that switch hides (F17 behind F5) can then show
MASK_EVERY = 4

#: examples each worker runs per batch with `jobs > 1`, at most and at least: a new
#: switch drops the rest of the batch and the one running ahead, so batches start
#: small after each switch and grow while none is found (one per 8 examples since)
BATCH_PER_JOB = 40
MIN_BATCH_PER_JOB = 4


def hunt(
    profile: Profile,
    seed: int,
    *,
    seconds: float | None = None,
    examples: int | None = None,
    corpus: str | None = None,
    write: bool = False,
    progress: Callable[[str], None] | None = None,
    now: Callable[[], float] = time.monotonic,
    jobs: int = 1,
) -> HuntResult:
    """Hunt until `seconds` pass or `examples` programs ran (at least one bound).

    `jobs > 1` runs the examples in batches over that many processes; results are
    taken in draw order, and when one adds a fix switch to the profile under
    test, the examples drawn after it run again under the new profile - so the
    findings are those of one job (rule 1), examples for examples. The next batch
    runs while this one is classified, and is dropped when this one adds a switch.
    """
    if seconds is None and examples is None:
        raise ValueError("hunt needs seconds or examples")
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    start = now()
    result = HuntResult(profile.name, seed)
    master = random.Random(seed)
    known = known_signatures(corpus)
    unfixed: set[str] = set()
    under = profile
    #: the switches of the classes found so far, in the order found (for `_mask`)
    found_switches: list[str] = []
    pending: list[int] = []
    last_switch_at = 0

    def draw(first: int) -> _Drawn:
        """Submit the batch that starts at example `first`: the pending seeds first,
        then fresh ones from the master seed."""
        nonlocal pending
        per_job = min(BATCH_PER_JOB, max(MIN_BATCH_PER_JOB, (first - last_switch_at) // 8))
        size = 1 if jobs == 1 else jobs * per_job
        if examples is not None:
            size = min(size, examples - first)
        seeds = pending[:size]
        pending = pending[size:]
        seeds += [master.getrandbits(64) for _ in range(size - len(seeds))]
        # Found switches that hide one not yet found - by guarding its sites
        # (harness/fix_guards.py: F5's commit hides F17) or by sharing its effect
        # (harness/fix_overlap.py: two directory syncs hide F28's) - are masked
        # together in every other masked example.
        targets = _targets(found_switches, under, _hiders(profile, jobs)) if found_switches else []
        masks = [_mask(first + j, found_switches, targets) for j in range(len(seeds))]
        tasks = [
            (s, _profile_name(profile, under if m is None else m.applied(under)))
            for s, m in zip(seeds, masks, strict=True)
        ]
        return _Drawn(seeds, masks, pool.submit(_run_example, tasks))

    def more(first: int) -> bool:
        return (examples is None or first < examples) and (
            seconds is None or now() - start < seconds
        )

    with TaskPool(jobs) as pool:
        ahead: _Drawn | None = None
        while more(result.examples):
            seeds, masks, batch = ahead or draw(result.examples)
            outcomes = batch.result()
            # The next batch runs while this one's failures are shrunk and triaged; it
            # is drawn as if none of them adds a switch, and dropped if one does.
            nxt = result.examples + len(seeds)
            ahead = draw(nxt) if more(nxt) else None
            for i, (program, failure) in enumerate(outcomes):
                n = result.examples
                result.examples += 1
                if progress and n % 50 == 0:
                    progress(f"hunt: {n} examples, {len(result.findings)} findings")
                mask = masks[i]
                ran = under if mask is None else mask.applied(under)
                found = _classify(program, failure, ran, unfixed, known, n, mask)
                if found is None:
                    continue
                finding, switch = found
                if finding.new and write and corpus:
                    finding.case_path = write_case(corpus, profile, ran, finding)
                else:
                    finding.case_path = known.get((finding.signature, switch))
                result.findings.append(finding)
                if progress:
                    progress(
                        f"hunt: example {n}: {finding.signature} -> "
                        f"{switch or 'no switch (new class)'}"
                    )
                if switch is not None:
                    last_switch_at = n + 1
                    under = under.with_switches(*switch.split(","))
                    found_switches.extend(x for x in switch.split(",") if x not in found_switches)
                    # Drawn after a new switch: run again under the profile with it.
                    later = seeds[i + 1 :]
                    if ahead is not None:
                        ahead.batch.cancel()
                        later += ahead.seeds
                        ahead = None
                    pending = later + pending
                    break
        if ahead is not None:
            ahead.batch.cancel()
    result.seconds = now() - start
    return result


def _classify(
    program: Program,
    failure: Failure | None,
    under: Profile,
    unfixed: set[str],
    known: dict[tuple[str, str | None], str],
    n: int,
    mask: Mask | None = None,
) -> tuple[Finding, str | None] | None:
    """A failure's class (shrunk, triaged), or None if it is none or suppressed.

    With `mask` (known classes' switches, off again in `under` for this example) a
    failure is a class only if triage's narrowest fix is none of the masked
    switches: else it is a masked class itself, and is dropped. Triage weighs the
    masked switches too, so a masked class is not credited to a switch whose fix
    covers it (F28's directory sync also mends F10's history). A masked failure
    that still fails with the switches the mask is to reveal turned on is dropped
    before shrinking, the dear part: masking several switches makes those common.
    """
    # A class with a fix switch is suppressed by that switch (on in `under`
    # from then on), so a failure with its signature is another defect; only
    # classes no switch fixes are suppressed by signature.
    if failure is None or signature(program, failure) in unfixed:
        return None
    if mask is not None and not _passes(program, under.with_switches(*mask.reveals(under))):
        return None
    minimal, mfail = shrink(program, failure, under)
    sig = signature(minimal, mfail)
    if sig in unfixed:
        return None
    switch = triage(minimal, under)
    if mask is not None and (switch is None or set(switch.split(",")) & mask.switches):
        return None
    if switch is None:
        unfixed.add(sig)
    finding = Finding(
        sig,
        mfail.rule,
        switch,
        ",".join(sorted({SWITCHES[n].finding for n in switch.split(",")})) if switch else None,
        minimal,
        mfail.message,
        new=(sig, switch) not in known,
        example=n,
        masked_by=",".join(sorted(mask.switches)) if mask else None,
    )
    return finding, switch


def _hiders(profile: Profile, jobs: int) -> dict[str, frozenset[str]]:
    """`s` -> the switches `s` hides: its guarded ones and the ones it covers."""
    static, measured = guards(), overlaps(_profile_name(profile, profile), jobs)
    return {s: static.get(s, frozenset()) | measured.get(s, frozenset())
            for s in sorted(set(static) | set(measured))}


@dataclass(frozen=True)
class Mask:
    """Found switches an example runs without, and the switch off in the profile it
    is to reveal (None: any other)."""

    switches: frozenset[str]
    target: str | None = None

    def applied(self, under: Profile) -> Profile:
        return under.with_switches(*self.switches, on=False)

    def reveals(self, under: Profile) -> list[str]:
        """The switches a failure of this example must be fixed by to be a class."""
        if self.target is not None:
            return [self.target]
        return [s for s in sorted(SWITCHES) if not under.fixes(s) and s not in self.switches]


def _targets(found: list[str], under: Profile, hides: dict[str, frozenset[str]]) -> list[Mask]:
    """For each switch off in `under` that found switches hide, a mask of those
    found switches, together: its class can show only with all of them off."""
    out: list[Mask] = []
    for u in sorted(SWITCHES):
        if under.fixes(u):
            continue
        hiding = frozenset(s for s in found if u in hides.get(s, frozenset()))
        if hiding:
            out.append(Mask(hiding, u))
    return out


def _mask(n: int, found: list[str], targets: list[Mask] | None = None) -> Mask | None:
    """What example `n` runs without: every MASK_EVERY-th one masks one found switch,
    in turn; with `targets`, every other masked example takes the next target."""
    if not found or n % MASK_EVERY != MASK_EVERY - 1:
        return None
    k = n // MASK_EVERY
    if targets and k % 2 == 0:
        return targets[(k // 2) % len(targets)]
    return Mask(frozenset({found[k % len(found)]}))
