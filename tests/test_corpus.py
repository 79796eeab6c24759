"""Replay the crash regression corpus: every case, every run.

What: each JSON file under `tests/corpus/violations/` is a crash the explorer
found in kevy 1.17 (scenario, profile, crash point, model, image index and
trace) with its verdict and golden one-paragraph message; each file under
`tests/corpus/clean/` says a whole scenario must judge OK under `hardened`.

Why: CrossHair's split of examples into bugs_detected/ and correct_code/: one
look shows what the harness finds and what it must stay silent on, and a
change in impl or model that alters either shows up as a diff.

Rules: `KEVY_VERIFY_OVERWRITE=1` rewrites the golden messages (review the
diff). A clean case with `pending_fix` is an expected failure until that fix
is applied in impl/ (strict: once it passes, remove the field).
"""

from __future__ import annotations

import glob
import json
import os

import pytest

from harness.explore import load_case, replay_case

ROOT = os.path.join(os.path.dirname(__file__), "corpus")
OVERWRITE = os.environ.get("KEVY_VERIFY_OVERWRITE") == "1"

VIOLATIONS = sorted(glob.glob(os.path.join(ROOT, "violations", "*.json")))
CLEAN = sorted(glob.glob(os.path.join(ROOT, "clean", "*.json")))


def _id(path: str) -> str:
    return os.path.basename(path)[: -len(".json")]


def test_corpus_is_not_empty() -> None:
    assert VIOLATIONS and CLEAN, f"no cases under {ROOT}: run `kevy-verify explore`"


@pytest.mark.parametrize("path", VIOLATIONS, ids=_id)
def test_violation_still_found(path: str) -> None:
    case = load_case(path)
    # A kevy-1.17 finding, or an ablation (hardened with a fix switched off) for
    # a defect of our own that no kevy 1.17 log can carry (F16). Never hardened
    # itself: a hardened violation is a bug, not an expected verdict.
    assert case["profile"] == "kevy-1.17" or case["profile"].startswith("hardened-"), (
        "violation cases are kevy-1.17 findings or ablations of hardened")
    judgement = replay_case(case)
    message = judgement.explain()
    if OVERWRITE and (message != case["message"] or judgement.verdict.value != case["verdict"]):
        case["message"] = message
        case["verdict"] = judgement.verdict.value
        with open(path, "w", encoding="utf-8") as f:
            json.dump(case, f, indent=2, ensure_ascii=False)
            f.write("\n")
    assert judgement.verdict.value == case["verdict"]
    assert message == case["message"]


@pytest.mark.parametrize("path", CLEAN, ids=_id)
def test_clean_stays_clean(path: str, request: pytest.FixtureRequest) -> None:
    case = load_case(path)
    assert case["profile"] == "hardened", "clean cases check the fixes"
    if case.get("pending_fix"):
        request.applymarker(pytest.mark.xfail(
            strict=True, reason=f"{case['pending_fix']}: fix described in FINDINGS.md, "
            "not yet applied in impl/"))
    judgement = replay_case(case)
    assert judgement.ok, judgement.explain()
