"""Every catalogued mutant still applies to the current source (fast; runs in the normal suite).

What: for each `Mutant` of tests/mutants/catalogue.py, its `old` snippet occurs
exactly once in its `impl/` file, the patched text still compiles, and the
tests it lists still exist. One parametrized case per mutant, so a failure
names the mutant.

Why: the catalogue patches source text. A refactor that moves or rewords the
patched lines silently turns a mutant into a no-op; failing here, by name,
makes the author update the entry to the same bug in the new text.

Rules: no subprocess, no copy of the tree, no test run — the whole file must
finish well under 2 s. Running the mutants is `kevy-verify mutants`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.mutants import Mutant, load_catalogue, mutant_problems

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = load_catalogue(ROOT)


def test_catalogue_has_at_least_15_distinct_mutants() -> None:
    assert len(MUTANTS) >= 15
    assert len({m.id for m in MUTANTS}) == len(MUTANTS)
    assert len({(m.file, m.old, m.new) for m in MUTANTS}) == len(MUTANTS)


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_mutant_applies_to_the_current_source(mutant: Mutant) -> None:
    problems = mutant_problems(mutant, ROOT)
    assert not problems, "\n".join(problems)
    source = (ROOT / mutant.file).read_text(encoding="utf-8")
    patched = source.replace(mutant.old, mutant.new, 1)
    # A mutant that does not even compile would be "killed" by an import
    # error in every test, which measures nothing.
    compile(patched, f"{mutant.file} [{mutant.id}]", "exec")


def test_the_catalogue_lists_itself_as_json() -> None:
    import io
    import json

    from harness.cli import register
    from impl import cli as file_tools

    out, err = io.StringIO(), io.StringIO()
    code = file_tools.main(["mutants", "--list", "--format", "json"], out=out, err=err,
                           extend=register)
    doc = json.loads(out.getvalue())
    assert code == 0 and doc["format"] == "kevy-verify-mutants/1"
    assert [m["id"] for m in doc["catalogue"]] == [m.id for m in MUTANTS]
