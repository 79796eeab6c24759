"""CrossHair on the contracted pure functions (`_ch`: runs the symbolic engine).

What: `crosshair check --analysis_kind=PEP316` over every function listed in
`CONTRACTED` (their `pre:`/`post:` docstring lines: RESP encoding and the
multibulk size estimator, RESPINT, score formatting and parsing, the number
grammars, shards.meta and journal format/parse, key routing), split over two
processes; a proof that the same settings catch a false postcondition
(tests/crosshair_broken/broken.py); and `crosshair diffbehavior` between
`impl.layout.hash_tag` and the independent `model.routing.hash_tag` (written
from docs/SPEC.md §7.3), plus a proof that diffbehavior catches a wrong variant.

Why: contracts state what the fuzz targets can only sample — e.g. that
`estimate` equals the encoded length for *every* argv, or that a score's
shortest text round-trips its bits — and CrossHair searches for the input
that breaks them.

Rules:
1. All CrossHair processes start together (one module-scoped fixture) and
   each test waits for its own; budgets are CPU seconds per condition, so the
   module takes about a minute on two free cores (`CHECK_CONDITION_SECONDS`
   × 32 conditions ÷ 2, plus the diffbehavior budgets and start-up), and a
   process is failed past `WALL_LIMIT`. `model.routing`'s own contracts are
   not in the list: the diffbehavior check and the shards_meta fuzz target
   compare it with impl directly.
2. Not checked by CrossHair, on purpose: functions whose documented errors
   carry symbolic offsets (`parse_frame`, a `raises: JournalUnreadable`
   contract): CrossHair 0.0.x formats the expected exception's message
   outside its tracer and aborts with CrossHairInternal. Their contracts are
   asserted on concrete inputs by fuzz/targets/resp.py and journal.py instead;
   `parse_journal`'s contract is restricted to ASCII input (`pre:`).
3. A contract that CrossHair cannot decide within its budget passes: the
   check is a bug search, not a proof.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: every function with PEP 316 contracts that CrossHair checks, by module
CONTRACTED = {
    "impl.resp": ["encode_frame", "estimate", "_respint"],
    "impl.numbers": [
        "parse_uint", "parse_sint", "parse_float", "float_bits", "total_order_key", "displayf",
        "format_incrbyfloat", "format_score_rewrite", "format_score_shortest",
    ],
    "impl.layout": [
        "parse_uint", "rust_trim", "text_line_spans", "kevyhash", "crc16_xmodem", "hash_tag",
        "key_slot", "shard_of", "format_shards_meta", "parse_shards_meta",
    ],
    "impl.journal": ["format_journal", "parse_journal"],
}
#: CPU seconds CrossHair may spend per condition / per path when checking
CHECK_CONDITION_SECONDS = 1.5
CHECK_PATH_SECONDS = 1
#: CPU seconds per diffbehavior pair
DIFF_SECONDS = 6
#: wall-clock ceiling for any one CrossHair process (a wedged run fails)
WALL_LIMIT = 170

BROKEN = "tests.crosshair_broken.broken"

pytestmark = pytest.mark.skipif(importlib.util.find_spec("crosshair") is None,
                                reason="crosshair-tool is not installed (pip install -e '.[dev]')")


def _targets() -> list[str]:
    return [f"{module}.{name}" for module, names in CONTRACTED.items() for name in names]


def _crosshair(*args: str) -> list[str]:
    return [sys.executable, "-m", "crosshair", *args]


def _check(*targets: str, condition: float = CHECK_CONDITION_SECONDS) -> list[str]:
    return _crosshair("check", "--analysis_kind=PEP316",
                      f"--per_condition_timeout={condition}",
                      f"--per_path_timeout={CHECK_PATH_SECONDS}", *targets)


def _diff(first: str, second: str) -> list[str]:
    return _crosshair("diffbehavior", f"--per_condition_timeout={DIFF_SECONDS}",
                      "--per_path_timeout=1", first, second)


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[str, subprocess.Popen[str]]]:
    """Start every CrossHair process at once (rule 1); yield them by name."""
    targets = _targets()
    jobs = {
        "check-a": _check(*targets[0::2]),
        "check-b": _check(*targets[1::2]),
        "broken-contract": _check(f"{BROKEN}.estimate_off_by_one", condition=10),
        "diff-hash-tag": _diff("impl.layout.hash_tag", "model.routing.hash_tag"),
        "diff-broken": _diff(f"{BROKEN}.hash_tag_last_brace", "model.routing.hash_tag"),
    }
    procs = {
        name: subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
        for name, cmd in jobs.items()
    }
    yield procs
    for proc in procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _wait(proc: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        out, _ = proc.communicate(timeout=WALL_LIMIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"CrossHair ran past {WALL_LIMIT} s: {out[-2000:]}")
    return proc.returncode, out


@pytest.mark.parametrize("half", ["check-a", "check-b"])
def test_contracts_hold(runs: dict[str, subprocess.Popen[str]], half: str) -> None:
    code, out = _wait(runs[half])
    assert code == 0 and "error" not in out, f"CrossHair found a broken contract:\n{out}"


def test_a_false_postcondition_is_caught(runs: dict[str, subprocess.Popen[str]]) -> None:
    code, out = _wait(runs["broken-contract"])
    assert code != 0
    assert "broken.py" in out and "false when calling estimate_off_by_one" in out, out


def test_impl_hash_tag_behaves_like_the_model(runs: dict[str, subprocess.Popen[str]]) -> None:
    code, out = _wait(runs["diff-hash-tag"])
    assert code == 0 and "No differences found" in out, out


def test_diffbehavior_catches_a_wrong_hash_tag(runs: dict[str, subprocess.Popen[str]]) -> None:
    code, out = _wait(runs["diff-broken"])
    assert code != 0
    assert "hash_tag_last_brace : returns" in out, out
