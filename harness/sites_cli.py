"""`kevy-verify sites [--format text|json] [--model M...]`: crash-site coverage.

What: `register(subparsers)` adds the `sites` command; it prints every
persistence call site of impl/ (harness/sites.py), which searches crashed at
it under which persistence models, and the sites no search reaches with the
reason when known. With `--log FILE` it merges a `KEVY_VERIFY_SITES_LOG`
file written by the stateful machines or the hunt.

Rules:
1. Exit codes follow impl/cli.py: 0 the report was printed (gaps are data,
   not an error); 2 usage (unknown model, unreadable log).
2. Read-only: it drives each scenario on an in-memory CrashFS; nothing on
   disk is touched.
"""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from harness import sites
from model.crashfs import MODELS

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the `sites` command to the console script's subparsers."""
    p = sub.add_parser(
        "sites",
        help="crash-site coverage: which impl persistence calls the searches crash at",
        description="Enumerate every call in impl/ that reaches the FileSystem seam with a "
        "persistence effect (create, write, fsync, fdatasync, directory fsync, rename, "
        "unlink, truncate), attribute each crash point of every scenario to the call "
        "that issued it, and report per site the searches and persistence models that "
        "crash at it (the explorer's scenarios, the repair tool's crash runs, and the "
        "machines' or hunt's logs given with --log); list the sites no search reaches, "
        "each with its reason when one is known.",
        epilog="Exit codes: 0 report printed; 2 usage.",
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument(
        "--model",
        nargs="+",
        choices=MODELS,
        default=list(MODELS),
        help="persistence models the explorer is run under (default: all)",
    )
    p.add_argument(
        "--log",
        nargs="+",
        default=[],
        metavar="FILE",
        help="merge KEVY_VERIFY_SITES_LOG files from machine or hunt runs",
    )
    p.set_defaults(func=cmd_sites, harness=True)


def cmd_sites(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    for path in args.log:
        try:
            sites.load_log(path)
        except (OSError, ValueError, KeyError) as e:
            err.write(f"kevy-verify: error: {path}: cannot read site log: {e}\n")
            return 2
    cov = sites.coverage(models=args.model)
    if args.format == "json":
        out.write(json.dumps(cov.to_json(), indent=2) + "\n")
    else:
        out.write(cov.text() + "\n")
    return 0
