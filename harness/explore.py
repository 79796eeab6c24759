"""The crash explorer: every crash point × every crash image of a scenario, judged.

What: `explore(scenario, profile, model)` runs the scenario once on a
recording `CrashFS` to number its persistence points, then once per point
and side ("before"/"after"), plus once to the end with the power cut after
the last call. Each run's crash images under the model are recovered with
`scenarios.recover` and judged by `model.contract`. Violations are grouped
into distinct findings; `write_case` stores one as a small JSON regression
case, and `replay_case` judges a stored case again.

With `sample=N` (for image spaces too big to walk) a crash run with more
than N images judges N distinct images drawn by `CrashFS.sample_image` from
`random.Random` seeded with the seed and the run ("<seed>:<when>:<point>");
a run with at most N images is walked whole, so a large enough N is the
exhaustive walk. A sampled finding's case records the draw's choices (and
its trace), from which `replay_case` rebuilds the image.

Why: the protocols are correct only if they are correct at every point
where the machine can die and for every way the disk may have kept what it
was given. The runs are cheap; recovery dominates, so it is cached by the
image's bytes (most images at a point are byte-identical).

Rules:
1. Deterministic: the scenario, the image order and so the image indices are
   the same on every run, and the same seed draws the same sample; only the
   reported throughput reads a timer.
2. A case names its crash point by index *and* description, and its image by
   index (or, sampled, by its recorded choices) *and* trace; replay checks
   both and says so if the code drifted.
3. Recovery never raises into the explorer: an open that fails is the
   verdict RECOVERY_ERROR.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.case_file import read_case
from harness.explore_points import CrashPointTally
from harness.scenarios import (
    Recovery,
    Run,
    Scenario,
    drive,
    get_scenario,
    probe_history,
    recover,
    recover_reading,
)
from impl.fs import basename
from impl.profile import Profile, get_profile
from model.contract import Judgement, Verdict, worst
from model.crashfs import CrashFS, CrashImage, Decision, Model, SimulatedCrash

__all__ = [
    "CaseDrifted",
    "CrashRun",
    "ExploreResult",
    "Finding",
    "case_id",
    "crash_runs",
    "explore",
    "load_case",
    "replay_case",
    "write_case",
]

CASE_FORMAT = "kevy-verify-crash-case/1"
#: the repository's regression corpus, whatever the working directory
DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / "tests" / "corpus"
_DIGITS = re.compile(r"\d+")


class CaseDrifted(AssertionError):
    """A stored case no longer points at the same crash point or image."""


@dataclass
class CrashRun:
    """One run of a scenario with the power cut at one place."""

    point: int | None
    """The persistence point crashed at, or None for "after the last call"."""
    when: str
    label: str
    """E.g. "before point 7: rename aof-0.aof.rewrite → aof-0.aof"."""
    run: Run
    fs: CrashFS
    op: str | None = None
    """The operation of the point crashed at ("rename"), None for the end."""


def _crash_run(sc: Scenario, profile: Profile, point: int | None, when: str) -> CrashRun:
    fs = CrashFS(point, when) if point is not None else CrashFS()  # type: ignore[arg-type]
    try:
        run = drive(sc, profile, fs)
    except SimulatedCrash as e:
        run = e.run  # type: ignore[attr-defined]
    if point is None or not fs.crashed:
        fs.crash()
        points = fs.points()
        last = points[-1].describe() if points else "no point"
        return CrashRun(None, "end", f"at the end of the run (after {last})", run, fs)
    info = fs.crash_info
    assert info is not None and info.point is not None
    return CrashRun(point, when, f"{when} {info.point.describe()}", run, fs, info.point.op)


def crash_runs(sc: Scenario, profile: Profile) -> Iterator[CrashRun]:
    """Before and after every point, then the end of the run."""
    probe = CrashFS()
    drive(sc, profile, probe)
    for p in probe.points():
        for when in ("before", "after"):
            yield _crash_run(sc, profile, p.index, when)
    yield _crash_run(sc, profile, None, "end")


@dataclass
class Finding:
    """One distinct violation: its first occurrence and how often it recurred."""

    scenario: str
    profile: str
    model: str
    point: int | None
    when: str
    point_description: str
    image: int | None
    decisions: tuple[Decision, ...]
    """The crash image's decisions (model/crashfs/decisions.py)."""
    judgement: Judgement
    occurrences: int = 1
    draw: tuple[int, int] | None = None
    """A sampled image: (seed, ordinal of the draw in its crash run); `image` is None."""
    choices: list[int] | None = None
    """A sampled image: the choices `CrashFS.chosen_image` rebuilds it from."""
    point_op: str | None = None
    """The operation of the point crashed at ("rename"), None for the end."""
    paths: frozenset[str] = frozenset()
    """The paths of the files in the crash image (harness/finding_ids.py reads their roles)."""

    @property
    def trace(self) -> list[str]:
        """The decisions as printed (and as stored in a case)."""
        return [str(d) for d in self.decisions]

    @property
    def id(self) -> str:
        return case_id(self.scenario, self.profile, self.model, self.point, self.when, self.image,
                       draw=self.draw)

    @property
    def losses(self) -> int:
        return _losses(self.decisions)

    def case(self) -> dict[str, Any]:
        case: dict[str, Any] = {
            "format": CASE_FORMAT,
            "id": self.id,
            "scenario": self.scenario,
            "profile": self.profile,
            "model": self.model,
            "point": self.point,
            "when": self.when,
            "point_description": self.point_description,
            "image": self.image,
            "trace": self.trace,
            "verdict": self.judgement.verdict.value,
            "message": self.judgement.explain(),
        }
        if self.draw is not None:
            case["sample"] = {"seed": self.draw[0], "draw": self.draw[1]}
            case["choices"] = self.choices
        return case


def case_id(scenario: str, profile: str, model: str, point: int | None, when: str,
            image: int | None, *, draw: tuple[int, int] | None = None) -> str:
    """E.g. `save--kevy-1.17--posix--p11a-i24`; a sampled image `...--p11a-s0d17`
    (seed 0, draw 17 of that crash run)."""
    where = "end" if point is None else f"p{point}{when[0]}"
    if draw is not None:
        img = f"s{draw[0]}d{draw[1]}"
    else:
        img = "all" if image is None else f"i{image}"
    return f"{scenario}--{profile}--{model}--{where}-{img}"


def _losses(decisions: Sequence[Decision]) -> int:
    # As `CrashImage.losses`: decisions that lost or tore something.
    return sum(1 for d in decisions if d.loses)


@dataclass
class ExploreResult:
    scenario: str
    profile: str
    model: str
    points: int = 0
    """Crash runs (before and after each point, plus the end)."""
    images: int = 0
    recoveries: int = 0
    """Distinct images actually recovered (the rest hit the cache)."""
    violations: int = 0
    """Images whose judgement was a violation."""
    findings: list[Finding] = field(default_factory=list)
    elapsed_s: float = 0.0
    sample: int | None = None
    """Images judged at most per crash run (None: every image)."""
    seed: int = 0
    space: int = 0
    """Images in the whole space (= `images` when not sampled)."""
    whole_runs: int = 0
    """Crash runs walked whole (all of them when not sampled)."""
    mode: str = "exhaustive"
    """"representative": one image per class judged, of `space` (harness/explore_walk.py)."""
    crash_points: list[CrashPointTally] = field(default_factory=list)
    """Per crash run, in walk order: images judged and violating (harness/explore_points.py)."""

    @property
    def images_per_s(self) -> float:
        return self.images / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def sampled(self) -> bool:
        """True if some crash run judged only a sample of its images."""
        return self.images < self.space

    @property
    def verdict(self) -> Verdict:
        return worst(f.judgement.verdict for f in self.findings)

    def summary(self) -> str:
        if self.mode == "representative":
            images = f"{self.images} representative images of {self.space}"
        elif self.sample is None:
            images = f"{self.images} images"
        elif not self.sampled:
            images = (f"{self.images} images (no crash run has more than {self.sample}: "
                      f"every one walked whole)")
        else:
            images = (f"sampled {self.images} of {self.space} images (seed {self.seed}, at most "
                      f"{self.sample} per crash run; {self.whole_runs} of {self.points} runs "
                      f"walked whole)")
        return (f"{self.scenario} / {self.profile} / {self.model}: {self.points} crash points, "
                f"{images} ({self.recoveries} distinct recoveries), "
                f"{self.violations} violating images in {len(self.findings)} distinct "
                f"finding(s), {self.elapsed_s:.2f} s, {self.images_per_s:.0f} images/s")


class ReadCache:
    """Recoveries keyed by what they read (`harness.scenarios.recover_reading`).

    Recovery is a deterministic function of the clock, the configuration, the
    directories, the set of file paths and the bytes of the files it uses, so
    an image that agrees with a recovered one on all of those recovers the
    same - whatever its other files hold (a temp file recovery deletes unread,
    a backup it never opens). Entries: (now, config, dirs, paths) -> the paths
    a recovery read -> their bytes -> the Recovery. Sound by construction;
    byte-identical images are the special case where every path agrees.
    It keeps the entries of this crash run and the one before (`advance`):
    equal disks recur at neighbouring crash points.
    """

    def __init__(self) -> None:
        self.current: dict[Any, dict[tuple[str, ...], dict[tuple[bytes, ...], Recovery]]] = {}
        self.previous: dict[Any, dict[tuple[str, ...], dict[tuple[bytes, ...], Recovery]]] = {}

    def advance(self) -> None:
        self.previous, self.current = self.current, {}

    def get(self, base: Any, image: CrashImage) -> tuple[Any, Recovery] | None:
        for table in (self.current, self.previous):
            for read, by_bytes in table.get(base, {}).items():
                key = tuple(image.file_bytes(p) for p in read)
                rec = by_bytes.get(key)
                if rec is not None:
                    if table is self.previous:
                        self.put(base, read, key, rec)
                    return (base, read, key), rec
        return None

    def put(self, base: Any, read: tuple[str, ...], key: tuple[bytes, ...],
            rec: Recovery) -> None:
        self.current.setdefault(base, {}).setdefault(read, {})[key] = rec


class _Judge:
    """Judges images of one crash run, caching recoveries across runs by what they
    read (`ReadCache`), or by whole bytes with a plain dict."""

    def __init__(self, sc: Scenario, profile: Profile,
                 cache: dict[Any, Recovery] | ReadCache) -> None:
        self.sc = sc
        self.profile = profile
        self.cache = cache
        self.recoveries = 0

    def recovery(self, cr: CrashRun, image: CrashImage) -> tuple[Any, Recovery]:
        now = cr.run.clock.now_ms()
        if isinstance(self.cache, ReadCache):
            base = (now, cr.run.config, image.dirs, image.paths)
            hit = self.cache.get(base, image)
            if hit is not None:
                return hit
            rec, touched = recover_reading(self.sc, self.profile, cr.run.config,
                                           image.makers(), image.dirs, now)
            read = tuple(sorted(touched))
            key = tuple(image.file_bytes(p) for p in read)
            self.cache.put(base, read, key, rec)
            self.recoveries += 1
            return (base, read, key), rec
        files = image.files()
        key = (now, cr.run.config, tuple(files.items()))
        rec = self.cache.get(key)
        if rec is None:
            rec = recover(self.sc, self.profile, cr.run.config, files, image.dirs, now)
            self.cache[key] = rec
            self.recoveries += 1
        return key, rec

    def judge(self, cr: CrashRun, image: CrashImage, rec: Recovery, states: list[Any],
              case: str | None = None) -> Judgement:
        history = cr.run.history
        now = cr.run.clock.now_ms()
        where = dict(now_ms=now, crash=cr.label, model=image.model, image=image.index,
                     decisions=image.decisions, case=case)
        j = history.judge(rec.doc, error=rec.error, refusal=rec.refusal, states=states,
                          **where)
        if j.ok and self.sc.probe:
            assert j.prefix is not None
            h2 = probe_history(history, j.prefix, now)
            where["crash"] = (f"{cr.label}, then recovery, one more acknowledged write "
                              f"(SET probe) and a clean reopen")
            j = h2.judge(rec.probed, error=rec.probe_error or "probe failed", **where)
        return j


def _finding_key(
    cr: CrashRun, j: Judgement, decisions: Sequence[Decision] | None = None
) -> tuple[Any, ...]:
    # Distinct = a different verdict reached through a different kind of loss.
    # If the image lost a name (an unsynced create/rename/unlink, or an ordered
    # cut's metadata), that set of names is the cause; else the files whose
    # unsynced data was cut; else (no loss at all: the protocol itself is wrong)
    # the kind of step crashed at. Numbers in names are blanked, so one missing
    # directory sync is one finding, not one per later write; the first
    # occurrence (earliest point, most-kept image) is kept as the minimal history.
    # `decisions`: the image's own - a verdict is shared by every image that
    # recovers alike, the cause is not. Read from the records' fields, never
    # from the printed lines.
    names, data = set(), set()
    for d in j.decisions if decisions is None else decisions:
        if d.fate in ("kept", "moot"):
            continue
        if d.op == "data":
            data.add(basename(d.path))  # per file, as its sync is per file
        else:
            names.add(decision_role(d))
    if names:
        return (j.verdict, "names", tuple(sorted(names)))
    if data:
        return (j.verdict, "data", tuple(sorted(data)))
    step = "end" if cr.point is None else cr.op
    return (j.verdict, "none", cr.when, step)


def path_role(path: str) -> str:
    """A file's role: its base name with every run of digits blanked
    (`aof-2.aof` -> `aof-N.aof`, `aof-0.aof.premigration.1700000000000` ->
    `aof-N.aof.premigration.N`), so one protocol step is one role whatever the
    shard or stamp."""
    return _DIGITS.sub("N", basename(path))


def decision_role(d: Decision) -> tuple[str, ...]:
    """A lost decision with its paths as roles: `("create", "aof-N.aof")`,
    `("rename", "dump-N.rdb.reshard.tmp", "dump-N.rdb.reshard")`; an ordered cut
    is `("metadata", <each lost op>...)`."""
    if d.op == "metadata":
        return ("metadata", *(" ".join((op, path_role(p), *(() if q is None else (path_role(q),))))
                              for op, p, q in d.lost_ops))
    return (d.op, path_role(d.path), *(() if d.dst is None else (path_role(d.dst),)))


def _run_rng(seed: int, cr: CrashRun) -> random.Random:
    """The rng a sampled crash run draws from: one per run, so a run's sample does
    not depend on how many images the runs before it drew (a str seed is hashed
    with SHA-512, the same on every machine and process)."""
    return random.Random(f"{seed}:{cr.when}:{cr.point}")


def _sampled_images(cr: CrashRun, model: Model, sample: int, seed: int
                    ) -> Iterator[tuple[int, CrashImage]]:
    """Up to `sample` distinct images of `cr` drawn by its rng, with their draw ordinal.

    Draws repeat (few decisions, or one far likelier image), so stop after a
    bounded number of attempts rather than loop on a space barely above `sample`.
    """
    rng = _run_rng(seed, cr)
    seen: set[tuple[Decision, ...]] = set()
    for k in range(10 * sample + 100):
        if len(seen) >= sample:
            return
        image = cr.fs.sample_image(rng, model)
        if image.decisions not in seen:
            seen.add(image.decisions)
            yield k, image


def explore(
    sc: Scenario | str,
    profile: Profile | str,
    model: Model,
    *,
    progress: Callable[[str], None] | None = None,
    cache: dict[Any, Recovery] | None = None,
    sample: int | None = None,
    seed: int = 0,
    mode: str = "exhaustive",
    jobs: int = 1,
) -> ExploreResult:
    """Walk every crash point × every crash image of `sc` under `model`.

    With `sample`, a crash run with more than `sample` images judges only
    `sample` distinct images drawn with `seed` (module docstring). `mode`
    "representative" judges one image per class of decisions, and `jobs`
    splits the walk over processes with the same result
    (`harness.explore_walk`).
    """
    # Imported here: the walk builds on this module's judge and findings.
    from harness.explore_walk import walk

    return walk(sc, profile, model, progress=progress, cache=cache, sample=sample, seed=seed,
                mode=mode, jobs=jobs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# The regression corpus.


def write_case(directory: str, case: dict[str, Any]) -> str:
    """Write `case` as `<directory>/<violations|clean>/<id>.json`; return the path."""
    kind = "clean" if case["verdict"] == Verdict.OK.value else "violations"
    folder = os.path.join(directory, kind)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, case["id"] + ".json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(case, f, indent=2, ensure_ascii=False)
        f.write("\n")
    return path


def load_case(path: str) -> dict[str, Any]:
    """The crash case at `path` (CaseError names the file if it is not one)."""
    return read_case(path, CASE_FORMAT)


def clean_case(scenario: str, profile: str, model: str, *, sample: int | None = None,
               seed: int = 0) -> dict[str, Any]:
    """A case that says: every crash point and image of this scenario must judge OK.

    With `sample`: every crash point, and per crash run the images
    `explore(..., sample=sample, seed=seed)` judges (id `...--every-s<seed>n<sample>`).
    """
    cid = case_id(scenario, profile, model, None, "all", None).replace("--end-", "--every-")
    case: dict[str, Any] = {
        "format": CASE_FORMAT,
        "id": cid,
        "scenario": scenario,
        "profile": profile,
        "model": model,
        "point": "all",
        "when": "all",
        "point_description": "every crash point, before and after, and the end",
        "image": None,
        "trace": [],
        "verdict": Verdict.OK.value,
        "message": "",
    }
    if sample is not None:
        case["id"] = cid.removesuffix("-all") + f"-s{seed}n{sample}"
        case["point_description"] += f"; at most {sample} images per crash run, seed {seed}"
        case["sample"] = {"seed": seed, "images_per_run": sample}
    return case


def replay_case(case: dict[str, Any]) -> Judgement:
    """Judge a stored case again; for several images, the worst judgement."""
    sc = get_scenario(case["scenario"])
    profile = get_profile(case["profile"])
    model: Model = case["model"]
    if case["point"] == "all":
        sampled = case.get("sample")
        result = explore(sc, profile, model,
                         sample=None if sampled is None else sampled["images_per_run"],
                         seed=0 if sampled is None else sampled["seed"])
        if not result.findings:
            cr = _crash_run(sc, profile, None, "end")
            judge = _Judge(sc, profile, {})
            image = next(cr.fs.images(model))
            _, rec = judge.recovery(cr, image)
            return judge.judge(cr, image, rec, cr.run.history.states(cr.run.clock.now_ms()))
        return max((f.judgement for f in result.findings),
                   key=lambda j: (j.verdict.is_violation, j.verdict.value))
    cr = _crash_run(sc, profile, case["point"], case["when"])
    if cr.label != case["point_description"]:
        raise CaseDrifted(f"case {case['id']}: the crash is now {cr.label!r}, the case was "
                          f"recorded {case['point_description']!r}; the scenario or the store "
                          "changed its persistence points - regenerate with "
                          "KEVY_VERIFY_OVERWRITE=1")
    judge = _Judge(sc, profile, {})
    states = cr.run.history.states(cr.run.clock.now_ms())
    if case.get("choices") is not None:
        image = _replay_drawn(case, cr, model)
        _, rec = judge.recovery(cr, image)
        return judge.judge(cr, image, rec, states, case=case["id"])
    images = cr.fs.images(model)
    if case["image"] is None:
        judgements = []
        for image in images:
            _, rec = judge.recovery(cr, image)
            judgements.append(judge.judge(cr, image, rec, states, case=case["id"]))
        return max(judgements, key=lambda j: (j.verdict.is_violation, j.verdict.value))
    image = next(itertools.islice(images, case["image"], None), None)
    if image is None or image.trace != case["trace"]:
        found = [im for im in cr.fs.images(model) if im.trace == case["trace"]]
        if not found:
            raise CaseDrifted(f"case {case['id']}: no image of {cr.label} under {model} has "
                              f"the recorded trace {case['trace']}; regenerate with "
                              "KEVY_VERIFY_OVERWRITE=1")
        image = found[0]
    _, rec = judge.recovery(cr, image)
    return judge.judge(cr, image, rec, states, case=case["id"])


def _replay_drawn(case: dict[str, Any], cr: CrashRun, model: Model) -> CrashImage:
    """A sampled case's image: rebuilt from its choices, else found by its trace."""
    try:
        image: CrashImage | None = cr.fs.chosen_image(case["choices"], model)
    except ValueError:
        image = None
    if image is not None and image.trace == case["trace"]:
        return image
    # Sampled tears are enumerated cuts, so the image is among `images()`.
    for candidate in cr.fs.images(model):
        if candidate.trace == case["trace"]:
            candidate.index = None  # the golden message names a drawn image
            return candidate
    raise CaseDrifted(f"case {case['id']}: neither its recorded choices nor its trace "
                      f"{case['trace']} give an image of {cr.label} under {model}; "
                      "regenerate with KEVY_VERIFY_OVERWRITE=1")

