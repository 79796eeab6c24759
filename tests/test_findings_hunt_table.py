"""FINDINGS.md "The hunt's re-findings" says what tests/corpus/hunt holds.

What: one row per fix switch (or switch combination) a committed hunt case names,
with the number of cases and a `kevy-verify replay NAME` of one of them; every
case's switch has its row, every row's count is the corpus's, every replay names
a case that exists and was triaged to that row's switch.

Why: the table is how a reader finds the one-command replay of a finding the hunt
re-found; it went stale once already (counts from an older corpus, a replay of a
case since dropped), which no test noticed.
"""

from __future__ import annotations

import collections
import glob
import json
import os
import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
FINDINGS = (ROOT / "FINDINGS.md").read_text(encoding="utf-8")
SECTION = FINDINGS.split("## The hunt's re-findings", 1)[1].split("\n## ", 1)[0]
ROWS = re.findall(r"^\| ([^|]+) \| `([^`]+)` \| (\d+) \| `kevy-verify replay ([^`]+)` \|$",
                  SECTION, flags=re.M)
CASES = {
    os.path.basename(p)[: -len(".json")]: json.loads(Path(p).read_text(encoding="utf-8"))
    for p in glob.glob(str(ROOT / "tests" / "corpus" / "hunt" / "*.json"))
}


def _key(switch: str) -> str:
    """A case's `switch` field: one switch, or a combination joined by `,`."""
    return ",".join(sorted(re.split(r"[,+]", switch)))


def test_the_table_has_a_row_per_switch_with_the_corpus_count() -> None:
    counts = collections.Counter(_key(c["switch"]) for c in CASES.values())
    table = {_key(switch): int(n) for _, switch, n, _ in ROWS}
    assert table == dict(counts)


def test_every_replay_names_a_case_of_its_row() -> None:
    for _, switch, _, name in ROWS:
        assert name in CASES, f"no case {name}"
        assert _key(CASES[name]["switch"]) == _key(switch), name
