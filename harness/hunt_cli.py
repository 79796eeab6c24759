"""`kevy-verify hunt --time S | --examples N  --profile P --seed N [--format json] [--html FILE]`.

What: runs `harness.hunt.hunt` (seeded lifecycle programs, shrunk, triaged by
fix switch, suppressed by class) and prints one paragraph per distinct
finding, then `hunt: N distinct findings (K new) in S s`; `--format json`
prints one JSON document instead (signature, rule, switch or null, minimal
history, case path; `format` is `kevy-verify-hunt/1`), and `--html FILE` writes
that document as one self-contained page (harness/report_hunt_html.py).
`--replay CASE` runs one hunt case and prints its verdict.

Why: the hunt is the harness finding defects on its own; a run at night is
`kevy-verify hunt --time 3600 --profile kevy-1.17 --seed $RANDOM`.

Rules: progress on stderr (kevy's own recovery lines included), results on
stdout. Exit 1 if `hardened` had any finding (a fix is broken or missing) or
a replayed case no longer fails as recorded; findings under `kevy-1.17` are
the point of the run, exit 0.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from typing import Any, TextIO

from harness.case_file import CaseError
from harness.explore import DEFAULT_CORPUS
from harness.explore_cli import positive_int
from harness.hunt import hunt, load_case, replay_case, signature
from harness.lifecycle import Program
from harness.report_html import write_page
from harness.report_hunt_html import write_hunt_html
from impl.cli import profile_name
from impl.errors import shown
from impl.profile import get_profile

__all__ = ["HUNT_FORMAT", "cmd_hunt", "register"]

#: The `--format json` document (README "The hunt").
HUNT_FORMAT = "kevy-verify-hunt/1"


def _nonneg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return value


def register(sub: Any) -> None:
    """Add `hunt` to the `kevy-verify` subparsers."""
    p: argparse.ArgumentParser = sub.add_parser(
        "hunt",
        help="generative crash search: seeded lifecycle programs, shrunk and triaged",
        description="Draw lifecycle programs (harness/lifecycle_gen.py) from --seed: fsync "
        "policy with 1/2/3/4/10/16 shards, and each on its own file names, auto-rewrite, AOF "
        "off, the background reaper as the store's own step; maxmemory with each eviction "
        "policy; writes of every value type (multi-key DEL, FLUSHALL, SPOP, TTLs on keys of "
        "every type, streams with groups, XCLAIM, XACK); time jumps from 1 ms to days; saves "
        "and rewrites whole or in phases with writes between; reopens with another shard "
        "count (re-shard), reaper mode or AOF setting; the server in cluster mode re-sharding "
        "the directory by slots (the other routing) before the store reopens it; a second "
        "process on the same directory; failed calls (EIO, ENOSPC, short or half writes) on "
        "any step, the n-th call or the n-th of one kind (rename:1, open:2); outside damage "
        "(appended garbage, a frame flipped inside the log, another log appended, a "
        "shards.meta count no directory backs); power cuts at any persistence point (or the "
        "n-th of one kind) under the process-crash/ordered/posix models, and one after the "
        "last failed call or process crash if no power cut follows it. Each program runs "
        "against --profile and is judged by the contract rules of harness/lifecycle.py; "
        "every failure is shrunk, classified by signature (rule/verb/point "
        "kind/policy/shards/config), triaged by the narrowest fix switch that makes it pass "
        "(the hunt then goes on with that switch on; every 4th program runs with found "
        "switches off again: one in turn, or every one that hides a switch not yet found, "
        "read from impl/ or measured by shared effect), and written as a "
        "corpus case if its class is new. Progress on stderr; the last line is "
        "'hunt: N distinct findings (K new) in S s'. Exit 1 under hardened if anything is "
        "found. "
        "Same seed and --examples: same output. With KEVY_VERIFY_SITES_LOG=FILE set, each "
        "power cut's impl call site is appended to FILE for `kevy-verify sites --log FILE`.",
    )
    p.add_argument(
        "--profile",
        type=profile_name,
        default="kevy-1.17",
        help="kevy-1.17 (default), hardened, or a derived name (hardened-SWITCH)",
    )
    p.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    p.add_argument("--time", type=_nonneg, metavar="S", help="time budget in seconds")
    p.add_argument(
        "--examples",
        type=positive_int,
        metavar="N",
        help="run exactly N programs (no clock: replays exactly)",
    )
    p.add_argument(
        "--jobs",
        type=positive_int,
        default=1,
        metavar="N",
        help="run the examples on N processes, kept for the whole hunt; the next batch "
        "runs while this one is shrunk (same findings as one job)",
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument(
        "--html",
        metavar="FILE",
        help="also write the run's JSON document as one self-contained HTML page to FILE "
        "(the findings table, per finding its paragraph, minimal history and replay)",
    )
    p.add_argument(
        "--corpus",
        default=str(DEFAULT_CORPUS / "hunt"),
        help="hunt case directory: known signatures, new cases (default: the repository's "
        "tests/corpus/hunt, whatever the working directory)",
    )
    p.add_argument("--no-corpus", action="store_true", help="do not write new cases")
    p.add_argument("--replay", metavar="CASE", help="run one hunt case and print its verdict")
    p.set_defaults(func=cmd_hunt, harness=True)


def cmd_hunt(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.replay:
        return replay_one(args.replay, out, err)
    if args.time is None and args.examples is None:
        err.write("kevy-verify hunt: give --time S or --examples N\n")
        return 2
    if args.html is not None and (
        os.path.isdir(args.html) or not os.path.isdir(os.path.dirname(args.html) or ".")
    ):
        err.write(f"kevy-verify hunt: --html {shown(args.html)}: not a writable file path\n")
        return 2
    profile = get_profile(args.profile)

    def progress(line: str) -> None:
        err.write(line + "\n")
        err.flush()

    # kevy's recovery lines (re-shard roll-forwards) are progress, not results.
    try:
        with contextlib.redirect_stdout(err), contextlib.redirect_stderr(err):
            result = hunt(
                profile,
                args.seed,
                seconds=args.time,
                examples=args.examples,
                corpus=args.corpus,
                write=not args.no_corpus,
                progress=progress,
                jobs=args.jobs,
            )
    except CaseError as e:
        err.write(f"kevy-verify hunt: the corpus holds a file that is not a hunt case: {e}\n")
        return 2
    summary = (
        f"hunt: {len(result.findings)} distinct findings ({result.new} new) in "
        f"{result.seconds:.0f} s"
    )
    doc = {
        "format": HUNT_FORMAT,
        "profile": result.profile,
        "seed": result.seed,
        "examples": result.examples,
        "seconds": round(result.seconds, 3),
        "findings": [f.to_json() for f in result.findings],
        "summary": summary,
    }
    if args.html is not None and not write_page("hunt", args.html, doc, write_hunt_html, err):
        return 2
    if args.format == "json":
        _p(out, json.dumps(doc, indent=2))
    else:
        for f in result.findings:
            _p(out, f.paragraph())
            _p(out, "")
        _p(
            out,
            f"({result.examples} examples, "
            f"{result.examples / max(result.seconds, 1e-9):.1f} examples/s)",
        )
        _p(out, summary)
    return 1 if profile.name == "hardened" and result.findings else 0


def replay_one(path: str, out: TextIO, err: TextIO) -> int:
    """Replay one hunt case file; 0 if it fails as recorded (also `kevy-verify replay`)."""
    try:
        case = load_case(path)
    except (OSError, ValueError) as e:
        err.write(f"kevy-verify hunt: {e}\n")
        return 2
    profile = get_profile(case["profile"])
    with contextlib.redirect_stdout(err), contextlib.redirect_stderr(err):
        failure = replay_case(case, profile)
    if failure is None:
        _p(out, f"{path}: passes under {profile.name}; recorded {case['signature']}")
        return 1
    sig = signature(Program.from_json(case["program"]), failure)
    _p(out, failure.message)
    _p(
        out,
        f"{path}: {sig} under {profile.name} "
        f"({'as recorded' if sig == case['signature'] else 'recorded ' + case['signature']})",
    )
    return 0 if sig == case["signature"] else 1


def _p(out: TextIO, *parts: object) -> None:
    out.write(" ".join(str(p) for p in parts) + "\n")
