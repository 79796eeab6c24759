"""The `kevy-verify` console script: impl's file tools plus the harness commands."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from impl import cli as file_tools

__all__ = ["main"]


def register(sub: Any) -> None:
    """Add the harness commands (explore, mutants, fuzz, sites, hunt, replay) to the parser."""
    for module_name in (
        "harness.explore_cli",
        "harness.mutants_cli",
        "harness.fuzz_cli",
        "harness.sites_cli",
        "harness.hunt_cli",
        "harness.replay_cli",
    ):
        try:
            module = __import__(module_name, fromlist=["register"])
        except ModuleNotFoundError as e:
            if e.name != module_name:
                raise
            continue
        module.register(sub)


def main(argv: Sequence[str] | None = None) -> int:
    return file_tools.main(argv, extend=register)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
