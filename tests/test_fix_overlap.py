"""Fix switches that share their effect (harness/fix_overlap.py) and how the hunt
masks them together (harness/hunt.py `_targets`, `_classify`).

F28's fix (a directory sync at open) is made, in most opens, by the fixes of
`reshard_dir_fsync` and `aof_dir_fsync` too: once those are found, F28's class
can show only with them off again, together.
"""

from __future__ import annotations

import glob
import os
from collections import Counter

import pytest

from harness import hunt as hunt_module
from harness.fix_overlap import COVER, covering, overlaps
from harness.hunt import Mask, _classify, _targets, load_case
from harness.lifecycle import Program, execute
from impl.profile import KEVY_1_17, get_profile

CORPUS = os.path.join(os.path.dirname(__file__), "corpus", "hunt")


def _effect(*points: str) -> Counter[tuple[int, str, str, str]]:
    return Counter((0, "+", op, "/data") for op in points)


def test_a_switch_covers_one_whose_effect_it_mostly_shares() -> None:
    effects = {
        "wide": _effect("fsync_dir", "fsync_dir", "rename", "fdatasync", "unlink", "link"),
        "narrow": _effect("fsync_dir", "fsync_dir", "create"),  # 2 of 3 shared
        "apart": _effect("truncate"),
        "inert": Counter(),
    }
    assert COVER <= 2 / 3
    # Not symmetric: the narrow one's two shared points are a third of the wide one's.
    assert covering(effects) == {"wide": frozenset({"narrow"})}
    effects["narrow"] = _effect("fsync_dir", "create", "create")  # a third shared
    assert covering(effects) == {}


def test_in_impl_the_directory_syncs_of_f10_and_f4_cover_f28_s() -> None:
    measured = overlaps("kevy-1.17", 2)
    assert "open_syncs_dir" in measured["reshard_dir_fsync"]
    assert "open_syncs_dir" in measured["aof_dir_fsync"]
    # A fix that rebuilds a protocol shares no points with an unrelated one.
    assert "spop_logs_members" not in {u for hidden in measured.values() for u in hidden}
    assert overlaps("hardened") == {}  # nothing off: nothing to measure


def test_targets_are_the_found_switches_hiding_each_one_not_found() -> None:
    hides = {
        "aof_dir_fsync": frozenset({"open_syncs_dir"}),
        "reshard_dir_fsync": frozenset({"open_syncs_dir", "reshard_meta_fsync"}),
    }
    found = ["aof_dir_fsync", "reshard_dir_fsync"]
    under = KEVY_1_17.with_switches(*found)
    assert _targets(found, under, hides) == [
        Mask(frozenset(found), "open_syncs_dir"),  # both hide it: masked together
        Mask(frozenset({"reshard_dir_fsync"}), "reshard_meta_fsync"),
    ]
    assert _targets(found, under.with_switches("open_syncs_dir"), hides) == [
        Mask(frozenset({"reshard_dir_fsync"}), "reshard_meta_fsync")
    ]
    assert _targets(["aof_dir_fsync"], under, hides) == [
        Mask(frozenset({"aof_dir_fsync"}), "open_syncs_dir")
    ]


def _f28_case() -> tuple[Program, str]:
    path = next(p for p in sorted(glob.glob(os.path.join(CORPUS, "*--open_syncs_dir.json")))
                if p.endswith("--nshards--evict--noaof--open_syncs_dir.json"))
    doc = load_case(path)
    return Program.from_json(doc["program"]), doc["profile"]


def test_a_case_f28_shows_only_with_its_covering_switch_masked() -> None:
    program, profile_name = _f28_case()
    kevy = get_profile(profile_name)
    hidden = kevy.with_switches("reshard_dir_fsync")
    assert execute(program, hidden, lenient=True) is None  # found: F28 is invisible
    failure = execute(program, kevy)
    assert failure is not None
    mask = Mask(frozenset({"reshard_dir_fsync"}), "open_syncs_dir")
    found = _classify(program, failure, kevy, set(), {}, 3, mask)
    assert found is not None and found[1] == "open_syncs_dir"
    assert found[0].masked_by == "reshard_dir_fsync"


def test_a_masked_failure_no_other_switch_explains_is_dropped_before_shrinking(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    program, profile_name = _f28_case()
    kevy = get_profile(profile_name)
    failure = execute(program, kevy)
    assert failure is not None

    def no_shrink(*args: object) -> object:
        raise AssertionError("shrunk a failure only the masked switches explain")

    monkeypatch.setattr(hunt_module, "shrink", no_shrink)
    # Masking F28's own switch to reveal F24's: F28's failure stays, no shrink.
    mask = Mask(frozenset({"open_syncs_dir"}), "spop_logs_members")
    assert _classify(program, failure, kevy, set(), {}, 3, mask) is None
    # Masked to reveal anything: every other switch on hides F28's failure too, so
    # it is shrunk - and dropped, as triage's narrowest fix is the masked one.
    monkeypatch.undo()
    anything = Mask(frozenset({"open_syncs_dir"}))
    assert _classify(program, failure, kevy, set(), {}, 3, anything) is None
