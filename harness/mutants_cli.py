"""`kevy-verify mutants [--only ID...] [--jobs N] [--timeout S]`: run the mutant catalogue;
`kevy-verify mutants --tool mutmut [MODULE...]`: run mutmut 3 (harness/mutants_mutmut.py).

What: `register(subparsers)` adds the `mutants` command to the console script
(harness/cli.py composes it); the command runs `harness.mutants.run_catalogue`
over `tests/mutants/catalogue.py` and prints a table: per mutant killed or
survived, the first failing test and the seconds to it, then the median and
worst time to kill.

Why a command and not a test: one run costs minutes (a full suite per
surviving mutant), far too slow for the CI suite. The fast half — every
mutant still applies to the current source — is a normal test
(tests/test_mutants_catalogue.py).

Rules:
1. Exit codes follow impl/cli.py: 0 every selected mutant was killed; 1 one
   survived, timed out, errored or no longer applies; 2 usage (unknown id,
   bad --jobs/--timeout, a baseline that cannot run).
2. Progress lines go to stderr as mutants finish; the table goes to stdout.
3. `--list` prints the catalogue (id and description) and runs nothing.
4. `--format json` prints one `kevy-verify-mutants/1` document on stdout instead of
   the table (docs/mutants-json.md); progress stays on stderr, exit codes as above.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from harness import mutants
from harness import mutants_mutmut as mutmut

__all__ = ["register"]

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2


def register(sub: Any) -> None:
    """Add the `mutants` command to the console script's subparsers."""
    p = sub.add_parser(
        "mutants",
        help="apply each catalogued durability bug to a copy of the tree and run the suite",
        description="For each mutant of tests/mutants/catalogue.py: copy the repository to a "
        "temporary directory, apply the patch, run `python -m pytest -x` (the mutant's own "
        "tests first), and report killed or survived, the first failing test and the time "
        "to it. The working tree is never modified.",
        epilog="Exit codes: 0 all killed; 1 a mutant survived, timed out or errored; 2 usage.",
    )
    p.add_argument(
        "--only",
        nargs="+",
        metavar="ID",
        default=None,
        help="run only these mutant ids; with --tool mutmut, mutmut's mutant names or "
        "fnmatch globs (e.g. 'impl.store.x*_save_together*'): the rest of MODULE counts "
        "as not run",
    )
    p.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="json: one kevy-verify-mutants/1 document (docs/mutants-json.md)",
    )
    p.add_argument(
        "--jobs", type=int, default=2, metavar="N", help="mutants run in parallel (default 2)"
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        metavar="S",
        help="seconds before one mutant's run is stopped (default 600)",
    )
    p.add_argument(
        "--no-baseline",
        action="store_true",
        help="skip the unmutated baseline run that finds tests already failing "
        "(they would otherwise 'kill' every mutant)",
    )
    p.add_argument(
        "--deselect",
        nargs="+",
        metavar="NODEID",
        default=[],
        help="also deselect these tests in every mutant run (e.g. the baseline "
        "failures of an earlier run, with --no-baseline)",
    )
    p.add_argument(
        "--root",
        type=Path,
        default=mutants.REPO_ROOT,
        metavar="DIR",
        help="repository to copy (default: the one this harness belongs to)",
    )
    p.add_argument("--list", action="store_true", help="list the catalogue and exit")
    _add_mutmut_args(p)
    p.set_defaults(func=cmd_mutants, harness=True)


def _add_mutmut_args(p: Any) -> None:
    p.add_argument(
        "--tool",
        choices=("catalogue", "mutmut"),
        default="catalogue",
        help="catalogue (default): the curated durability mutants; mutmut: "
        "mutmut 3 over MODULE... (harness/mutants_mutmut.py)",
    )
    p.add_argument(
        "modules",
        nargs="*",
        metavar="MODULE",
        help="with --tool mutmut: modules to mutate, e.g. impl/numbers.py "
        "(default: every module of impl/)",
    )
    p.add_argument(
        "--tests",
        nargs="+",
        metavar="PATH",
        default=None,
        help="with --tool mutmut: the tests whose coverage selects per mutant (default: tests/)",
    )
    p.add_argument(
        "--max-children",
        type=int,
        default=1,
        metavar="N",
        help="with --tool mutmut: mutmut workers (default 1: the machine is shared)",
    )


def cmd_mutmut(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """`--tool mutmut`: per-module killed / survived / timeout / no tests and the score."""
    root: Path = args.root.resolve()
    modules = args.modules or sorted(
        f"impl/{p.name}" for p in (root / "impl").glob("*.py") if p.name != "__init__.py"
    )
    if args.max_children < 1:
        err.write("kevy-verify: error: --max-children must be >= 1\n")
        return EXIT_USAGE
    missing = [
        m
        for m in modules
        if not (root / (mutmut.module_name(m).replace(".", "/") + ".py")).is_file()
    ]
    if missing:
        err.write(f"kevy-verify: error: no such module: {', '.join(missing)}\n")
        return EXIT_USAGE

    def progress(line: str) -> None:
        err.write(line + "\n")
        err.flush()

    try:
        results = mutmut.run_mutmut(
            root, modules, tests=args.tests, max_children=args.max_children, progress=progress,
            only=args.only,
        )
    except mutmut.MutmutFailed as e:
        err.write(f"kevy-verify: error: {e}\n")
        return EXIT_PROBLEMS
    tallies = mutmut.tally(results, mutmut.load_equivalents(root))
    survivors = [n for t in tallies.values() for n in t.survivors]
    code = EXIT_OK if results and not survivors else EXIT_PROBLEMS
    if args.format == "json":
        modules_doc = [
            {"module": t.module, **{k.replace(" ", "_"): n for k, n in t.counts.items()},
             "equivalent": t.equivalent, "score": t.score, "survivors": list(t.survivors)}
            for t in tallies.values()
        ]
        _json(out, {"format": FORMAT, "tool": "mutmut", "exit": code, "modules": modules_doc})
        return code
    out.write(mutmut.format_table(tallies.values()) + "\n")
    for name in survivors:
        out.write(f"survived (untriaged): {name}\n")
    return code


#: the `--format json` document's version (docs/mutants-json.md)
FORMAT = "kevy-verify-mutants/1"


def _json(out: TextIO, doc: dict[str, Any]) -> None:
    out.write(json.dumps(doc, sort_keys=True) + "\n")


def cmd_mutants(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.tool == "mutmut":
        return cmd_mutmut(args, out, err)
    if args.modules:
        err.write("kevy-verify: error: MODULE arguments need --tool mutmut\n")
        return EXIT_USAGE
    root: Path = args.root.resolve()
    catalogue = mutants.load_catalogue(root)
    if args.list and args.format == "json":
        _json(out, {"format": FORMAT, "tool": "catalogue", "exit": EXIT_OK,
                    "catalogue": [{"id": m.id, "description": m.description, "file": m.file}
                                  for m in catalogue]})
        return EXIT_OK
    if args.list:
        width = max(len(m.id) for m in catalogue)
        for m in catalogue:
            out.write(f"{m.id:<{width}}  {m.description}\n")
        return EXIT_OK
    if args.jobs < 1 or args.timeout <= 0:
        err.write("kevy-verify: error: --jobs must be >= 1 and --timeout > 0\n")
        return EXIT_USAGE
    selected = catalogue
    if args.only:
        by_id = {m.id: m for m in catalogue}
        unknown = [i for i in args.only if i not in by_id]
        if unknown:
            err.write(
                f"kevy-verify: error: unknown mutant id(s): {', '.join(unknown)} "
                f"(known: {', '.join(by_id)})\n"
            )
            return EXIT_USAGE
        selected = [by_id[i] for i in dict.fromkeys(args.only)]

    deselect: list[str] = list(args.deselect)
    if not args.no_baseline:
        err.write("baseline: running the unmutated suite to find tests that already fail...\n")
        err.flush()
        failing, problem = mutants.run_baseline(root, timeout=max(args.timeout, 900.0),
                                                progress=err)
        if problem:
            err.write(f"kevy-verify: error: baseline: {problem}\n")
            return EXIT_USAGE
        deselect.extend(n for n in failing if n not in deselect)
        for nodeid in failing:
            err.write(f"baseline: already failing, deselected: {nodeid}\n")

    def progress(line: str) -> None:
        err.write(line + "\n")
        err.flush()

    results = mutants.run_catalogue(
        selected, root, jobs=args.jobs, timeout=args.timeout, deselect=deselect, progress=progress
    )
    code = EXIT_OK if all(r.killed for r in results) else EXIT_PROBLEMS
    if args.format == "json":
        _json(out, {
            "format": FORMAT, "tool": "catalogue", "exit": code, "deselected": deselect,
            "killed": sum(1 for r in results if r.killed), "total": len(results),
            "mutants": [
                {"id": r.id, "status": r.status, "first_failure": r.first_failure,
                 "seconds": round(r.seconds, 3), "detail": r.detail}
                for r in results
            ],
        })
        return code
    out.write(mutants.format_table(results) + "\n")
    if deselect:
        out.write(
            f"({len(deselect)} test(s) already failing on the unmutated tree were deselected)\n"
        )
    for r in results:
        if r.status in ("survived", "timeout", "error", "invalid"):
            out.write(f"\n--- {r.id}: {r.status}\n{r.detail}\n")
    return EXIT_OK if all(r.killed for r in results) else EXIT_PROBLEMS
