"""`kevy-verify explore SCENARIO --model M [--profile P] [--corpus DIR]`.

What: runs `harness.explore.explore` and prints, per scenario × model, the
crash points, images, violations, time and images/s, then one paragraph per
distinct finding; every finding is written as a JSON case under
`DIR/violations/` (default `tests/corpus`).

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
        "against the durability contract (model/contract.py).")
    p.add_argument("scenario", metavar="SCENARIO", choices=[*SCENARIOS, "all"],
                   help=f"one of: {', '.join(SCENARIOS)}, or all")
    p.add_argument("--model", required=True, choices=[*MODELS, "all"],
                   help="persistence model of the crash images (or all)")
    p.add_argument("--profile", choices=list(PROFILES), default="kevy-1.17")
    p.add_argument("--corpus", default="tests/corpus",
                   help="regression corpus directory for violation cases (default tests/corpus)")
    p.add_argument("--no-corpus", action="store_true", help="do not write cases")
    p.set_defaults(func=cmd_explore, harness=True)


def cmd_explore(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    models = list(MODELS) if args.model == "all" else [args.model]

    def progress(line: str) -> None:
        err.write("\r" + line + " " * 8)
        err.flush()

    failed = False
    for name in names:
        for model in models:
            result = explore(name, args.profile, model, progress=progress)
            err.write("\n")
            report(result, out)
            if not args.no_corpus:
                for f in result.findings:
                    path = write_case(args.corpus, f.case())
                    out.write(f"  case written: {path}\n")
            if result.findings and args.profile == "hardened":
                failed = True
    return 1 if failed else 0
