"""The crash walk at scale: every scenario x model, exhaustive and representative.

For each profile, scenario and model, walks the crash space in each mode and
prints one row: images judged (of the space), distinct recoveries, distinct
findings, wall time, and whether the representative walk found exactly the
distinct findings of the exhaustive one (compared by the explorer's grouping
key, `harness.explore_walk.finding_signature`). Ends with per-mode totals.
Not a test: nothing asserts on time; the machine may be shared, so print
`uptime` before and after and quote it with the figures.

    python bench/bench_explore.py --jobs 2                       # both profiles, both modes
    python bench/bench_explore.py --profile kevy-1.17 --jobs 2
    python bench/bench_explore.py --profile kevy-1.17 --mode exhaustive --jobs 1 \
        --scenario reshard --model posix                           # the 1-job baseline
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.explore_walk import MODES, finding_signature, walk
from harness.scenarios import SCENARIOS
from impl.profile import PROFILES
from model.crashfs import MODELS


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--profile",
        action="append",
        choices=list(PROFILES),
        help="profile(s) to walk (default: kevy-1.17 and hardened)",
    )
    p.add_argument(
        "--mode", action="append", choices=list(MODES), help="mode(s) to walk (default: both)"
    )
    p.add_argument("--scenario", action="append", choices=list(SCENARIOS))
    p.add_argument("--model", action="append", choices=list(MODELS))
    p.add_argument("--jobs", type=int, default=1)
    args = p.parse_args(argv)
    profiles = args.profile or ["kevy-1.17", "hardened"]
    modes = args.mode or list(MODES)
    header = (
        f"{'profile':10} {'scenario':20} {'model':13} {'mode':14} {'images':>9} "
        f"{'space':>9} {'recov':>8} {'find':>4} {'wall_s':>7}  same"
    )
    print(f"jobs={args.jobs}")
    print(header)
    totals = {m: [0, 0, 0.0] for m in modes}
    all_same = True
    for profile in profiles:
        for name in args.scenario or list(SCENARIOS):
            for model in args.model or list(MODELS):
                sigs: dict[str, set[object]] = {}
                for mode in modes:
                    t = time.perf_counter()
                    r = walk(name, profile, model, mode=mode, jobs=args.jobs)
                    wall = time.perf_counter() - t
                    sigs[mode] = {finding_signature(f) for f in r.findings}
                    same = ""
                    if len(sigs) == 2:
                        same = "yes" if sigs["exhaustive"] == sigs["representative"] else "NO"
                        all_same &= same == "yes"
                    totals[mode][0] += r.images
                    totals[mode][1] += len(r.findings)
                    totals[mode][2] += wall
                    print(
                        f"{profile:10} {name:20} {model:13} {mode:14} {r.images:>9} "
                        f"{r.space:>9} {r.recoveries:>8} {len(r.findings):>4} {wall:>7.2f}  "
                        f"{same}",
                        flush=True,
                    )
    for mode, (images, findings, wall) in totals.items():
        print(f"total {mode}: {images} images, {findings} findings, {wall:.1f} s")
    if len(modes) == 2:
        print(
            "representative finds every distinct exhaustive finding:", "yes" if all_same else "NO"
        )
    return 0 if all_same else 1


if __name__ == "__main__":
    raise SystemExit(main())
