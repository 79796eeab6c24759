"""`kevy-verify replay CASE`: reproduce one regression-corpus case and print its paragraph.

CASE is a corpus file (`tests/corpus/violations/X.json`,
`tests/corpus/hunt/X.json`, ...) or a case's name (`X`), looked up under
`--corpus DIR` (default: the repository's own `tests/corpus`, never the
directory the user stands in). The case's `format` picks the replayer: an
explorer crash case (`kevy-verify-crash-case/1`, harness/explore.py) or a
hunt case (`kevy-verify-hunt-case/1`, harness/hunt.py). Exit 0 when the
replay gives the recorded verdict, 1 when it no longer does, 2 when the case
cannot be found or read.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from harness import explore, hunt_cli
from harness.hunt import CASE_FORMAT as HUNT_CASE_FORMAT

__all__ = ["DEFAULT_CORPUS", "find_case", "register"]

DEFAULT_CORPUS = explore.DEFAULT_CORPUS


def register(sub: Any) -> None:
    p = sub.add_parser(
        "replay",
        help="reproduce one corpus case (a file or its name) and print its paragraph",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("case", metavar="CASE", help="a corpus file, or a case name")
    p.add_argument("--corpus", default=str(DEFAULT_CORPUS), metavar="DIR",
                   help="where a case name is looked up (default: the repository's "
                        "tests/corpus)")  # fmt: skip
    p.set_defaults(func=cmd_replay, harness=True)


def find_case(case: str, corpus: str) -> Path | None:
    """`case` itself if it is a file, else the one `<case>.json` under `corpus`."""
    path = Path(case)
    if path.is_file():
        return path
    name = case if case.endswith(".json") else f"{case}.json"
    hits = sorted(Path(corpus).rglob(name)) if Path(corpus).is_dir() else []
    return hits[0] if len(hits) == 1 else None


def cmd_replay(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    path = find_case(args.case, args.corpus)
    if path is None:
        err.write(f"kevy-verify replay: {args.case}: no such case file, and no single "
                  f"{args.case}.json under {args.corpus}\n")  # fmt: skip
        return 2
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        err.write(f"kevy-verify replay: {path}: {e}\n")
        return 2
    fmt = doc.get("format") if isinstance(doc, dict) else None
    if fmt == HUNT_CASE_FORMAT:
        return hunt_cli.replay_one(str(path), out, err)
    if fmt != explore.CASE_FORMAT:
        err.write(f"kevy-verify replay: {path}: unknown case format {fmt!r}\n")
        return 2
    judgement = explore.replay_case(doc)
    out.write(judgement.explain() + "\n")
    same = judgement.verdict.value == doc.get("verdict")
    recorded = "as recorded" if same else f"recorded {doc.get('verdict')}"
    out.write(f"{path}: {judgement.verdict.value} under {doc['profile']} ({recorded})\n")
    return 0 if same else 1
