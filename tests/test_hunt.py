"""The hunt (harness/hunt.py) in CI: its corpus replays, a bounded hunt stays inside it.

What: every `tests/corpus/hunt/*.json` case (a minimal lifecycle program the hunt
shrank, with the fix switches triage named) must still fail under its profile
with its recorded signature and pass with its fix on; a bounded hunt (a fixed
number of programs from a fixed seed, no clock) under `kevy-1.17` may only find
classes the corpus already holds, and under `hardened` none at all; the same
seed gives the same findings.

Why: the hunt is how the harness finds defects on its own. These tests keep it
honest in CI without a time budget: a change that makes kevy-1.17 fail in a new
way, or breaks a fix, shows up as a new signature or a hardened finding.
"""

from __future__ import annotations

import glob
import os
import random
from pathlib import Path

import pytest

from harness.hunt import hunt, load_case, replay_case, signature
from harness.lifecycle import Program, execute
from impl.profile import HARDENED, KEVY_1_17, get_profile

CORPUS = os.path.join(os.path.dirname(__file__), "corpus", "hunt")
CASES = sorted(glob.glob(os.path.join(CORPUS, "*.json")))
#: programs per bounded hunt: ~300/s on an idle 2-core machine, plus shrinking
CI_EXAMPLES = 1500


def _id(path: str) -> str:
    return os.path.basename(path)[: -len(".json")]


def test_hunt_corpus_is_not_empty() -> None:
    assert CASES, f"no hunt cases under {CORPUS}: run `kevy-verify hunt --time 60`"


@pytest.mark.parametrize("path", CASES, ids=_id)
def test_hunt_case_still_fails_and_its_fix_fixes_it(path: str) -> None:
    case = load_case(path)
    profile = get_profile(case["profile"])
    failure = replay_case(case, profile)
    assert failure is not None, f"{path} passes under {profile.name}"
    assert signature(Program.from_json(case["program"]), failure) == case["signature"]
    assert failure.message == case["message"]
    assert case["switch"], "every committed hunt class has its fix switch"
    fixed = profile.with_switches(*case["switch"].split(","))
    assert execute(Program.from_json(case["program"]), fixed, lenient=True) is None


def test_bounded_hunt_under_kevy_finds_only_known_classes() -> None:
    result = hunt(KEVY_1_17, 0, examples=CI_EXAMPLES, corpus=CORPUS, write=False)
    new = [f.paragraph() for f in result.findings if f.new]
    assert not new, "the hunt found a class the corpus does not hold:\n" + "\n".join(new)
    assert result.findings, "a bounded hunt of kevy-1.17 found nothing: the hunt is blind"


def test_bounded_hunt_under_hardened_finds_nothing() -> None:
    result = hunt(HARDENED, 1, examples=CI_EXAMPLES)
    assert not result.findings, "\n".join(f.paragraph() for f in result.findings)


def test_hunt_is_deterministic_from_its_seed() -> None:
    a = hunt(KEVY_1_17, 7, examples=40)
    b = hunt(KEVY_1_17, 7, examples=40)
    assert [f.to_json() for f in a.findings] == [f.to_json() for f in b.findings]


def test_two_jobs_find_what_one_job_finds() -> None:
    # Batches over processes, results in draw order, examples after a new switch
    # re-run under it (harness/hunt.py `hunt`): the findings of one job, exactly.
    one = hunt(KEVY_1_17, 7, examples=300)
    two = hunt(KEVY_1_17, 7, examples=300, jobs=2)
    assert len(one.findings) >= 3
    assert [f.to_json() for f in one.findings] == [f.to_json() for f in two.findings]
    assert one.examples == two.examples == 300


def test_hunt_needs_a_bound() -> None:
    with pytest.raises(ValueError):
        hunt(KEVY_1_17, 0)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "not JSON at byte offset 0"),
        (b'{"format": "kevy-verify-crash-case/1"}', "not a kevy-verify-hunt-case/1 case"),
        (b"[1]", "not a kevy-verify-hunt-case/1 case (format 'list')"),
        (b'{"a": "\xff"}', "not UTF-8 at byte offset 7"),
    ],
)
def test_a_stray_file_in_the_corpus_is_named_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, reason: str
) -> None:
    from harness.cli import main

    stray = tmp_path / "notes.json"
    stray.write_bytes(content)
    assert main(["hunt", "--examples", "1", "--corpus", str(tmp_path)]) == 2
    assert f"{stray}: {reason}" in capsys.readouterr().err


def test_a_masked_example_finds_the_class_its_switch_hides() -> None:
    # F17 (a failed snapshot rename leaves the tee running: the next save waits) is
    # fixed by F5's switch too, so once F5 is found it can never fail again. A masked
    # example runs with F5's switch off; triage names F17's own switch, not a masked one.
    # Unmasked, triage names the narrower of the two fixes (the one that changes
    # fewer persistence points): F17's, which adds none, not F5's new commit.
    from harness.hunt import Mask, _classify, _mask, triage

    f17 = Program(
        "always",
        1,
        [["w", "SET", "a", "1"], ["fault", ["save"], 4, "eio"], ["w", "SET", "b", "1"], ["save"]],
    )
    failure = execute(f17, KEVY_1_17)
    assert failure is not None and failure.rule == "exception:SaveWaited"
    assert triage(f17, KEVY_1_17) == "save_failure_stops_tee"
    mask = Mask(frozenset({"save_commit_roll_forward"}))
    found = _classify(f17, failure, KEVY_1_17, set(), {}, 7, mask)
    assert found is not None and found[1] == "save_failure_stops_tee"
    assert found[0].masked_by == "save_commit_roll_forward"
    # A failure only the masked switch explains is that known class: dropped.
    f5 = load_case(next(p for p in CASES if "no_prefix--save--create" in p
                        and p.endswith("save_commit_roll_forward.json")))
    program = Program.from_json(f5["program"])
    under = get_profile(f5["profile"])
    f5_failure = execute(program, under)
    assert f5_failure is not None
    assert _classify(program, f5_failure, under, set(), {}, 7, mask) is None
    # Every MASK_EVERY-th example, the found switches in turn.
    x, y = Mask(frozenset({"x"})), Mask(frozenset({"y"}))
    assert [_mask(n, ["x", "y"]) for n in range(8)] == [None] * 3 + [x] + [None] * 3 + [y]


def test_a_reply_no_serial_run_explains_is_a_failure_not_a_crash() -> None:
    # Two processes on one directory (F19): the second one's SADD never reaches the
    # first one's memory, whose SPOP then pops nothing from a set the client filled.
    # The model cannot apply that pick: the program fails (`outside_model`), and the
    # lock that refuses the second open (F19's switch) is what makes it pass.
    program = Program(
        "no",
        1,
        [
            ["w", "SET", "c", "x"],
            ["twin", [["b", ["w", "SADD", "s", "2", "1"]], ["b", ["save"]]]],
            ["w", "SPOP", "s"],
            ["crash", ["w", "SET", "a", "1"], 1, "after", "process-crash", []],
        ],
    )
    failure = execute(program, KEVY_1_17, lenient=True)
    assert failure is not None and failure.rule == "outside_model", failure
    assert execute(program, KEVY_1_17.with_switches("data_dir_lock"), lenient=True) is None
    assert execute(program, HARDENED, lenient=True) is None


def test_triage_names_the_narrowest_fix_when_several_fix_a_history() -> None:
    # F28's history (a rewrite whose directory sync fails, a reopen, an acknowledged
    # write, a power cut that takes the rename back) is mended by F28's open sync
    # and by F31's atomic meta write, which syncs the directory at every open too.
    from harness.hunt import triage
    from harness.lifecycle_gen import fill_choices

    program = Program(
        "always", 2,
        [["w", "SET", "a", "1"], ["fault", ["rewrite"], "fsync_dir:1", "eio"],
         ["w", "ZADD", "z", "2.5", "2"], ["crash", ["w", "SET", "b", "1"], 1, "before", "posix",
                                          None]],
    )
    under = KEVY_1_17.with_switches("aof_dir_fsync", "append_failure_fails_shard")
    program = fill_choices(program, under, random.Random(0))
    assert execute(program, under) is not None
    for switch in ("open_syncs_dir", "meta_atomic_write"):
        assert execute(program, under.with_switches(switch), lenient=True) is None, switch
    assert triage(program, under) == "open_syncs_dir"
