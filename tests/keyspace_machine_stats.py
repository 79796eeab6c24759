"""Triage for `KeyspaceMachine`: run it without stopping and list every disagreement.

What: runs the machine of tests/test_keyspace_machine.py in collect mode (a
disagreement is recorded and both sides restart from empty, instead of failing
the run), then prints each distinct disagreement once (grouped by its first
line with numbers masked) with a count and one full example.

Why: a failing machine stops at its first bug; this shows all of them at once,
which is what a triage or a FINDINGS.md update needs.

Usage (from the repo root):
    python -m tests.keyspace_machine_stats [--profile hardened|kevy-1.17]
        [--examples N] [--steps N]
Deterministic (derandomized); no wall clock.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter

from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from impl.profile import get_profile
from tests.test_keyspace_machine import KeyspaceMachine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="hardened")
    parser.add_argument("--examples", type=int, default=150)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()

    found: list[str] = []
    verbs: Counter[str] = Counter()

    class Collecting(KeyspaceMachine):
        profile = get_profile(args.profile)
        collector = found

        def run(self, *parts: bytes | tuple[bytes, ...], label: str | None = None,
                check: bool = True) -> object:
            argv = [w for p in parts for w in (p if isinstance(p, tuple) else (p,))]
            name = b" ".join(argv[:2] if argv[0].upper() == b"XGROUP" else argv[:1])
            verbs[label or name.decode().upper()] += 1
            return super().run(*parts, label=label, check=check)

    run_state_machine_as_test(
        Collecting,
        settings=settings(
            max_examples=args.examples,
            stateful_step_count=args.steps,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        ),
    )
    print("per-verb counts:", ", ".join(f"{v} {n}" for v, n in sorted(verbs.items())))
    shapes: Counter[str] = Counter()
    example: dict[str, str] = {}
    for message in found:
        shape = re.sub(rb"\d+".decode(), "N", message.splitlines()[0])
        shapes[shape] += 1
        example.setdefault(shape, message)
    print(f"{len(found)} disagreements, {len(shapes)} distinct shapes ({args.profile})")
    for shape, n in shapes.most_common():
        print(f"\n[{n}x] {shape}\n{example[shape]}")


if __name__ == "__main__":
    main()
