"""Nightly job: every fuzz target in turn, the exhaustive crash explorer, then
the Hypothesis suite under the nightly profile.

What: runs `harness.fuzz_cli.run_target` for each target (one at a time,
niced, so a shared machine stays usable); then `harness.explore.explore` on
every scenario under every persistence model for the `hardened` profile
(and, with `--explore both`, for `kevy-1.17`, whose violations are findings,
recorded but not a failure); then `pytest` with `KEVY_VERIFY_PROFILE=nightly`.
It writes `fuzz/nightly-out/summary.json` and `summary.txt`: per target the
seconds run, inputs executed, exec/s, libFuzzer's exit code and the crash
files found; per scenario × model × profile the crash points, images,
violations and images/s; then pytest's exit code.

Why: ten minutes per target per night finds what a per-commit run cannot,
and a summary file lets CI or a person see at a glance what ran and what
broke without reading libFuzzer logs.

Rules: exit 0 only if no target crashed, `hardened` had no violation and
pytest passed; a crash file stays
in `fuzz/crashes/<target>/` until it is fixed and moved to
`fuzz/regressions/<target>/`. Run:
`python fuzz/nightly.py [--time S] [--targets resp,snapshot] [--explore hardened|both|none]
[--no-pytest] [--mutmut [MODULE...]]`. The summary also carries crash-site
coverage (harness/sites.py, with the sites the nightly machines crashed at)
and, with `--mutmut`, mutmut's per-module table; pytest writes JUnit XML to
`fuzz/nightly-out/pytest-junit.xml`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

if __name__ == "__main__":  # run as a script: make the repository importable
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from harness.explore import explore
from harness.fuzz_cli import FUZZ_DIR, TARGETS, run_target
from harness.scenarios import SCENARIOS
from model.crashfs import MODELS

__all__ = ["main"]

OUT = FUZZ_DIR / "nightly-out"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time", type=int, default=int(os.environ.get("KEVY_FUZZ_TIME", "600")),
                        metavar="S", help="seconds per target (default 600, or $KEVY_FUZZ_TIME)")
    parser.add_argument("--targets", default=",".join(TARGETS),
                        help=f"comma-separated subset of {','.join(TARGETS)}")
    parser.add_argument("--explore", choices=("hardened", "both", "none"), default="hardened",
                        help="exhaustive crash exploration of every scenario x model for these "
                        "profiles (default hardened; kevy-1.17's reshard/posix walk alone takes "
                        "minutes)")
    parser.add_argument("--no-pytest", action="store_true", help="skip the Hypothesis suite")
    parser.add_argument("--mutmut", nargs="*", metavar="MODULE", default=None,
                        help="also run mutmut 3 on these modules (none given: all of impl/); "
                        "hours on two cores")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    summary: dict[str, object] = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                  "seconds_per_target": args.time, "targets": {}}
    targets: dict[str, object] = {}
    failed = False
    for target in args.targets.split(","):
        result = run_target(target, seconds=args.time)
        targets[target] = {
            "seconds": round(result.seconds, 1),
            "executions": result.executions,
            "exec_per_second": round(result.exec_per_second, 1),
            "libfuzzer_exit": result.returncode,
            "crashes": [str(p.relative_to(FUZZ_DIR.parent)) for p in result.crashes],
            "log": str(result.log),
        }
        failed |= bool(result.crashes) or result.returncode != 0
        print(f"{target}: {targets[target]}", flush=True)
    summary["targets"] = targets
    explored = _explore(args.explore)
    summary["explore"] = explored
    failed |= any(row["profile"] == "hardened" and row["violations"] for row in explored)
    if not args.no_pytest:
        # The machines record the impl sites they crash at (harness/sites.py).
        (OUT / "sites.jsonl").unlink(missing_ok=True)
        env = {**os.environ, "KEVY_VERIFY_PROFILE": "nightly",
               "KEVY_VERIFY_SITES_LOG": str(OUT / "sites.jsonl")}
        with (OUT / "pytest.log").open("wb") as sink:
            code = subprocess.run([sys.executable, "-m", "pytest", "-q",
                                   f"--junitxml={OUT / 'pytest-junit.xml'}"],
                                  cwd=FUZZ_DIR.parent,
                                  env=env, stdout=sink, stderr=subprocess.STDOUT,
                                  check=False).returncode
        summary["pytest_nightly_exit"] = code
        failed |= code != 0
    lines_adequacy = _adequacy(summary, args.mutmut)
    summary["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    (OUT / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    lines = [f"nightly fuzz {summary['started']} .. {summary['finished']}"]
    for target, row in targets.items():
        assert isinstance(row, dict)
        lines.append(f"{target:12} {row['seconds']:>7} s {row['executions']:>10} inputs "
                     f"{row['exec_per_second']:>8} exec/s  crashes: {len(row['crashes'])}")
    for row in explored:
        lines.append(f"explore {row['scenario']:20} {row['profile']:9} {row['model']:13} "
                     f"{row['points']:>4} points {row['images']:>9} images "
                     f"{row['violations']:>8} violating {row['images_per_s']:>7} images/s")
    if "pytest_nightly_exit" in summary:
        lines.append(f"pytest (KEVY_VERIFY_PROFILE=nightly) exit {summary['pytest_nightly_exit']}")
    lines.extend(lines_adequacy)
    (OUT / "summary.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 1 if failed else 0


def _adequacy(summary: dict[str, object], mutmut_modules: list[str] | None) -> list[str]:
    """Crash-site coverage (explorer + the machines' log) and, if asked, mutmut's
    per-module score: into `summary`; the summary.txt lines are returned."""
    from harness import mutants_mutmut, sites

    log = OUT / "sites.jsonl"
    if log.exists():
        sites.load_log(str(log))
    cov = sites.coverage()
    summary["sites"] = cov.to_json()
    lines = [f"crash sites: {len(cov.sites) - len(cov.gaps())}/{len(cov.sites)} reached under "
             f"every model ({cov.percent():.1f}%); gaps: {', '.join(cov.gaps()) or 'none'}"]
    if mutmut_modules is not None:
        root = FUZZ_DIR.parent
        modules = mutmut_modules or sorted(
            f"impl/{p.name}" for p in (root / "impl").glob("*.py") if p.name != "__init__.py")
        results = mutants_mutmut.run_mutmut(root, modules, progress=print)
        tallies = mutants_mutmut.tally(results, mutants_mutmut.load_equivalents(root))
        summary["mutmut"] = {
            t.module: {**t.counts, "equivalent": t.equivalent, "score": t.score,
                       "survivors": t.survivors}
            for t in tallies.values()
        }
        lines.append("mutmut:\n" + mutants_mutmut.format_table(tallies.values()))
    return lines


def _explore(which: str) -> list[dict[str, object]]:
    profiles = {"hardened": ["hardened"], "both": ["hardened", "kevy-1.17"], "none": []}[which]
    rows: list[dict[str, object]] = []
    for profile in profiles:
        for name in SCENARIOS:
            for model in MODELS:
                result = explore(name, profile, model)
                rows.append({
                    "scenario": name, "profile": profile, "model": model,
                    "points": result.points, "images": result.images,
                    "violations": result.violations, "findings": len(result.findings),
                    "seconds": round(result.elapsed_s, 1),
                    "images_per_s": round(result.images_per_s),
                })
                print(f"explore: {result.summary()}", flush=True)
    return rows


if __name__ == "__main__":
    sys.exit(main())
