"""`kevy-verify explore SCENARIO --model M [--profile P] [--corpus DIR] [--sample N [--seed S]]`.

What: runs `harness.explore.explore` and prints, per scenario × model, the
crash points, images, violations, time and images/s, then one paragraph per
distinct finding; every finding is written as a JSON case under
`DIR/violations/` (default `tests/corpus`). `--sample N` judges at most N
images per crash run, drawn deterministically from `--seed` (default 0).

Why: the explorer's results are the project's findings; a case file makes
each one a regression test (`tests/test_corpus.py`).

Rules: progress goes to stderr, results to stdout. Exit 1 if a violation was
found under `hardened` (a fix is broken), else 0 - under `kevy-1.17`
violations are findings, printed but not a failure.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from harness.explore import explore, report, write_case
from harness.scenarios import SCENARIOS
from impl.profile import PROFILES
from model.crashfs import MODELS

__all__ = ["cmd_explore", "register"]


def register(sub: Any) -> None:
    """Add `explore` to the `kevy-verify` subparsers."""
    p: argparse.ArgumentParser = sub.add_parser(
        "explore", help="walk every crash point x crash image of a scenario",
        description="Run SCENARIO once per persistence point (crashing before and after it) "
        "and recover every crash image the persistence model allows; judge each recovery "
        "against the durability contract (model/contract.py). With --sample N, a crash run "
        "with more than N images judges N distinct images drawn from a random.Random seeded "
        "by --seed and the run (same seed, same images); runs with at most N images are "
        "walked whole, and the summary says how many of how many images were judged.")
    p.add_argument("scenario", metavar="SCENARIO", choices=[*SCENARIOS, "all"],
                   help=f"one of: {', '.join(SCENARIOS)}, or all")
    p.add_argument("--model", required=True, choices=[*MODELS, "all"],
                   help="persistence model of the crash images (or all)")
    p.add_argument("--profile", choices=list(PROFILES), default="kevy-1.17")
    p.add_argument("--corpus", default="tests/corpus",
                   help="regression corpus directory for violation cases (default tests/corpus)")
    p.add_argument("--no-corpus", action="store_true", help="do not write cases")
    p.add_argument("--sample", type=_positive, metavar="N",
                   help="judge at most N images per crash run, drawn at random (for image "
                   "spaces too big to walk); a run with at most N images is walked whole")
    p.add_argument("--seed", type=int, metavar="S",
                   help="seed of --sample's draws (default 0); needs --sample")
    p.set_defaults(func=cmd_explore, harness=True)


def _positive(text: str) -> int:
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
    seed = 0 if args.seed is None else args.seed
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    models = list(MODELS) if args.model == "all" else [args.model]

    def progress(line: str) -> None:
        err.write("\r" + line + " " * 8)
        err.flush()

    failed = False
    for name in names:
        for model in models:
            result = explore(name, args.profile, model, progress=progress,
                             sample=args.sample, seed=seed)
            err.write("\n")
            report(result, out)
            if not args.no_corpus:
                for f in result.findings:
                    path = write_case(args.corpus, f.case())
                    out.write(f"  case written: {path}\n")
            if result.findings and args.profile == "hardened":
                failed = True
    return 1 if failed else 0
