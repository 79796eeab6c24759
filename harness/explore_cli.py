"""`kevy-verify explore SCENARIO --model M [--profile P] [--corpus DIR] [--sample N [--seed S]]
[--mode exhaustive|representative] [--jobs N] [--format text|json] [--html FILE]`.

What: runs `harness.explore.explore` and prints, per scenario × model, the
crash points, images, violations, time and images/s, then one block per
FINDINGS id (harness/finding_ids.py, harness/finding_report.py: fix switch,
violating images, distinct keys, one example paragraph and a replay command;
violations no table row matches in "unclassified" blocks by signature); every
distinct finding is written as a JSON case under
`DIR/violations/` (default: the repository's `tests/corpus`, never the cwd).
`--sample N` judges at most N
images per crash run, drawn deterministically from `--seed` (default 0).
`--mode representative` judges one image per class of decisions
(`harness/explore_walk.py`); `--jobs N` splits the walk over N processes with
the same output as one. `--format json` prints one `kevy-verify-explore/1`
document (docs/explore-json.md) and `--html FILE` writes the same document as
one self-contained page (harness/report_html.py): both come from `run_json`.

Why: the explorer's results are the project's findings; a case file makes
each one a regression test (`tests/test_corpus.py`).

Rules: progress goes to stderr, results to stdout. Exit 1 if a violation was
found under `hardened` (a fix is broken), else 0 - under `kevy-1.17`
violations are findings, printed but not a failure.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, TextIO

from harness.explore import DEFAULT_CORPUS, ExploreResult, explore, write_case
from harness.explore_walk import MODES
from harness.finding_ids import group
from harness.finding_report import ReportContext, decision_json, groups_json, report
from harness.report_html import write_html, write_page
from harness.report_model import crash_points_json, finding_detail_json
from harness.scenarios import SCENARIOS
from impl.cli import profile_name
from impl.errors import shown
from model.crashfs import MODELS

__all__ = ["cmd_explore", "register"]


def register(sub: Any) -> None:
    """Add `explore` to the `kevy-verify` subparsers."""
    p: argparse.ArgumentParser = sub.add_parser(
        "explore",
        help="walk every crash point x crash image of a scenario",
        description="Run SCENARIO once per persistence point (crashing before and after it) "
        "and recover every crash image the persistence model allows; judge each recovery "
        "against the durability contract (model/contract.py). With --sample N, a crash run "
        "with more than N images judges N distinct images drawn from a random.Random seeded "
        "by --seed and the run (same seed, same images); runs with at most N images are "
        "walked whole, and the summary says how many of how many images were judged. "
        "The text report prints one block per FINDINGS id (the fix switch, violating "
        "images, distinct keys, one example paragraph and a replay command); violations "
        "no table row matches are grouped as unclassified by verdict x operation x "
        "decision kinds.",
    )
    p.add_argument(
        "scenario",
        metavar="SCENARIO",
        choices=[*SCENARIOS, "all"],
        help=f"one of: {', '.join(SCENARIOS)}, or all",
    )
    p.add_argument(
        "--model",
        required=True,
        choices=[*MODELS, "all"],
        help="persistence model of the crash images (or all)",
    )
    p.add_argument("--profile", type=profile_name, default="kevy-1.17",
                   help="kevy-1.17 (default), hardened, or a derived profile "
                        "(kevy-1.17+SWITCH, hardened-SWITCH)")  # fmt: skip
    p.add_argument(
        "--corpus",
        default=str(DEFAULT_CORPUS),
        help="regression corpus directory for violation cases (default: the repository's "
        "tests/corpus, whatever the working directory)",
    )
    p.add_argument("--no-corpus", action="store_true", help="do not write cases")
    p.add_argument(
        "--sample",
        type=positive_int,
        metavar="N",
        help="judge at most N images per crash run, drawn at random (for image "
        "spaces too big to walk); a run with at most N images is walked whole",
    )
    p.add_argument(
        "--seed", type=int, metavar="S", help="seed of --sample's draws (default 0); needs --sample"
    )
    p.add_argument(
        "--mode",
        choices=list(MODES),
        default="exhaustive",
        help="exhaustive (default): every image; representative: per crash run, one "
        "image per class of decisions (a torn append's byte blanked); checked to find "
        "the exhaustive walk's distinct findings on every scenario but the two re-shard "
        "posix spaces (bench/bench_explore.py measures those)",
    )
    p.add_argument(
        "--jobs",
        type=positive_int,
        default=1,
        metavar="N",
        help="split the walk over N processes, by the bytes of each recovery input "
        "(default 1); the output and corpus cases are the same as with one",
    )
    p.add_argument(
        "--format",
        choices=["text", "json"],
        default="text",
        help="text report (default) or one kevy-verify-explore/1 JSON document on stdout "
        "(docs/explore-json.md); progress stays on stderr",
    )
    p.add_argument(
        "--html",
        metavar="FILE",
        help="also write one self-contained HTML page of the run to FILE (no network; "
        "per scenario x model a strip of the persistence points coloured by violations, "
        "the findings, and per finding its minimal history and expected vs recovered "
        "keyspace), drawn from the same document as --format json",
    )
    p.set_defaults(func=cmd_explore, harness=True)


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1 (`--sample`, `--jobs`, `hunt --examples`)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def cmd_explore(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.seed is not None and args.sample is None:
        err.write("kevy-verify explore: --seed needs --sample N\n")
        return 2
    if args.sample is not None and args.mode == "representative":
        err.write("kevy-verify explore: --sample and --mode representative do not combine\n")
        return 2
    if args.html is not None:
        # Refused before the walk, which can take minutes.
        if os.path.isdir(args.html):
            err.write(f"kevy-verify explore: --html {shown(args.html)}: is a directory\n")
            return 2
        if not os.path.isdir(os.path.dirname(args.html) or "."):
            err.write(f"kevy-verify explore: --html {shown(args.html)}: no such directory\n")
            return 2
    seed = 0 if args.seed is None else args.seed
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    models = list(MODELS) if args.model == "all" else [args.model]

    def progress(line: str) -> None:
        err.write("\r" + line + " " * 8)
        err.flush()

    failed = False
    runs: list[dict[str, Any]] = []
    for name in names:
        for model in models:
            result = explore(
                name,
                args.profile,
                model,
                progress=progress,
                sample=args.sample,
                seed=seed,
                mode=args.mode,
                jobs=args.jobs,
            )
            err.write("\n")
            cases: list[str] = []
            if not args.no_corpus:
                cases = [str(write_case(args.corpus, f.case())) for f in result.findings]
            ctx = ReportContext(args.profile, None if args.no_corpus else args.corpus,
                                tuple(cases))  # fmt: skip
            if args.format == "json" or args.html is not None:
                runs.append(run_json(result, cases, ctx))
            if args.format == "text":
                report(result, out, ctx)
                if cases:
                    out.write(f"\n{len(cases)} case(s) written under {args.corpus}/violations "
                              "(one per distinct key)\n")  # fmt: skip
            if result.findings and args.profile == "hardened":
                failed = True
    doc = {"format": EXPLORE_FORMAT, "profile": args.profile, "runs": runs}
    if args.format == "json":
        out.write(json.dumps(doc, indent=1) + "\n")
    if args.html is not None and not write_page("explore", args.html, doc, write_html, err):
        return 2
    return 1 if failed else 0


#: docs/explore-json.md
EXPLORE_FORMAT = "kevy-verify-explore/1"


def run_json(
    result: ExploreResult, cases: list[str], ctx: ReportContext | None = None
) -> dict[str, Any]:
    """One scenario x model run as docs/explore-json.md specifies it."""
    ctx = ctx or ReportContext(result.profile, None, tuple(cases))
    finding_id = {id(f): g.id for g in group(result) for f in g.findings}
    return {
        "scenario": result.scenario, "model": result.model, "mode": result.mode,
        "crash_runs": result.points, "images": result.images, "space": result.space,
        "recoveries": result.recoveries, "violations": result.violations,
        "sample": result.sample, "seed": result.seed,
        "findings": [
            {"id": f.id, "point": f.point, "when": f.when,
             "point_description": f.point_description, "image": f.image,
             "occurrences": f.occurrences, "losses": f.losses,
             "verdict": f.judgement.verdict.value, "message": f.judgement.explain(),
             "finding_id": finding_id[id(f)],
             "decisions": [decision_json(d) for d in f.decisions],
             **finding_detail_json(f)}
            for f in result.findings
        ],
        "groups": groups_json(result, ctx),
        "cases_written": cases,
        "crash_points": crash_points_json(result),
    }  # fmt: skip
