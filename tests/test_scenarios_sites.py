"""The scenarios of harness/scenarios_sites.py: each reaches the sites it was written
for, is clean under `hardened`, and shows under kevy 1.17 only known findings.

The triage table (`KEVY_FINDINGS`) is what FINDINGS.md's "Site scenarios"
section records: for each scenario and model, the fix switches that take
kevy 1.17's violations to none (each one needed: hardened without it
violates). Walks are `representative` (tests/test_explore_walk.py checks it
finds every finding the exhaustive walk finds, big-value aside). The exhaustive
posix walks of big-value and the re-shards under hardened are the nightly's
(`KEVY_VERIFY_PROFILE=nightly`), and so is the triage of kevy 1.17's posix walks
of those three (`NIGHTLY_KEVY`: big-value whole, the re-shards sampled, their
spaces being tens to hundreds of millions of images).
"""

from __future__ import annotations

import os

import pytest

from harness import scenarios, sites
from harness.explore import explore
from impl.profile import get_profile
from model.crashfs import CrashFS

NIGHTLY = os.environ.get("KEVY_VERIFY_PROFILE") == "nightly"

#: scenario -> profile -> the sites a probe run must attribute to it
REACHES: dict[str, dict[str, set[str]]] = {
    "big-value": {
        "kevy-1.17": {
            "aof:_BufferedFile.write_all:write#1",
            "rewrite:dump_aof:write#1",
            "snapshot:write_snapshot_tmp:write#1",
        },
        "hardened": {"aof:_BufferedFile.write_all:write#1", "rewrite:dump_aof:write#1"},
    },
    "append-fails": {
        "hardened": {
            "aof:Aof._failed:truncate#1",
            "aof:Aof._failed:fdatasync#1",
            "aof:_cut_torn_tail:truncate#1",
            "aof:_cut_torn_tail:fdatasync#1",
        },
    },
    "save-fails": {
        "kevy-1.17": {"store:Store.commit_save:unlink#1"},
        "hardened": {
            "store:Store._commit_save_hardened:unlink#1",
            "store:Store._commit_save_hardened:unlink#2",
            "store:_roll_forward:unlink#1",
        },
    },
    "save-install-fails": {"hardened": {"store:_roll_forward:rename#1"}},
    "rewrite-fails": {
        "kevy-1.17": {"store:Store._abort_rewrite_locked:unlink#1"},
        "hardened": {"store:Store._abort_rewrite_locked:unlink#1"},
    },
    "save-no-aof": {"hardened": {"store:Store._commit_save_hardened:rename#1"}},
    "reshard-torn-journal": {
        p: {"reshard:recover_journal:unlink#1", "reshard:commit_reshard:unlink#1"}
        for p in ("kevy-1.17", "hardened")
    },
    "reshard-roll-forward": {
        p: {"reshard:finish_reshard:rename#1"} for p in ("kevy-1.17", "hardened")
    },
    "cross-shard": {
        "hardened": {
            "cross_shard:write_intent:create#1",
            "cross_shard:write_intent:write#1",
            "cross_shard:write_intent:fsync#1",
            "cross_shard:write_intent:fsync_dir#1",
            "cross_shard:remove_intent:unlink#1",
            "cross_shard:remove_intent:fsync_dir#1",
        },
    },
    "save-shards-no-aof": {
        "hardened": {
            "save_commit:write_commit:create#1",
            "save_commit:write_commit:write#1",
            "save_commit:write_commit:fsync#1",
            "save_commit:write_commit:fsync_dir#1",
            "save_commit:remove_commit:unlink#1",
            "save_commit:roll_forward:rename#1",
            "store:Store._save_together:rename#1",
        },
    },
}

#: (scenario, model) -> the switches that fix every kevy 1.17 violation (none: clean)
KEVY_FINDINGS: dict[tuple[str, str], tuple[str, ...]] = {
    ("big-value", "process-crash"): ("save_commit_roll_forward",),
    ("big-value", "ordered"): ("save_commit_roll_forward",),
    ("append-fails", "process-crash"): (),
    ("append-fails", "ordered"): (),
    ("append-fails", "posix"): ("aof_cut_torn_tail", "aof_dir_fsync"),
    ("save-fails", "process-crash"): ("save_commit_roll_forward",),
    ("save-fails", "ordered"): ("save_commit_roll_forward",),
    ("save-fails", "posix"): ("aof_dir_fsync", "save_commit_roll_forward"),
    ("save-install-fails", "process-crash"): ("save_commit_roll_forward",),
    ("save-install-fails", "ordered"): ("save_commit_roll_forward",),
    ("save-install-fails", "posix"): ("aof_dir_fsync", "save_commit_roll_forward"),
    ("rewrite-fails", "process-crash"): (),
    ("rewrite-fails", "ordered"): (),
    ("rewrite-fails", "posix"): ("aof_dir_fsync",),
    ("save-no-aof", "process-crash"): (),
    ("save-no-aof", "ordered"): ("aof_dir_fsync",),
    ("save-no-aof", "posix"): ("aof_dir_fsync",),
    ("reshard-torn-journal", "process-crash"): (),
    ("reshard-torn-journal", "ordered"): (),
    ("reshard-roll-forward", "process-crash"): (),
    ("reshard-roll-forward", "ordered"): (),
    ("cross-shard", "process-crash"): (),
    ("cross-shard", "ordered"): ("cross_shard_intent", "cross_shard_order"),
    ("save-shards-no-aof", "process-crash"): ("close_saves_without_aof",
                                              "save_commit_across_shards"),
    ("save-shards-no-aof", "ordered"): ("close_saves_without_aof", "save_commit_across_shards"),
}


def _reached(name: str, profile: str) -> set[str]:
    rec = sites.SiteRecorder(CrashFS())
    scenarios.drive(scenarios.get_scenario(name), get_profile(profile), rec)  # type: ignore[arg-type]
    writes = {s for s in rec.executed if s.split(":")[-1].startswith("write#")}
    return set(rec.point_sites.values()) | writes


@pytest.mark.parametrize(("name", "profile"), [(n, p) for n, by in REACHES.items() for p in by])
def test_each_scenario_reaches_the_sites_it_was_written_for(name: str, profile: str) -> None:
    missing = REACHES[name][profile] - _reached(name, profile)
    assert not missing, f"{name} under {profile} no longer reaches {sorted(missing)}"


#: posix walks cheap under hardened only (kevy 1.17's are the nightly's: ~40 s, millions)
HARDENED_POSIX = [("big-value", "posix"), ("reshard-roll-forward", "posix"),
                  ("cross-shard", "posix"), ("save-shards-no-aof", "posix")]


@pytest.mark.parametrize(("name", "model"), sorted(KEVY_FINDINGS) + HARDENED_POSIX)
def test_hardened_is_clean(name: str, model: str) -> None:
    result = explore(name, "hardened", model, mode="representative")
    assert result.images > 0 and result.violations == 0, [
        f.point_description for f in result.findings
    ]


@pytest.mark.parametrize(("name", "model"), sorted(KEVY_FINDINGS))
def test_kevy_shows_only_the_triaged_findings(name: str, model: str) -> None:
    switches = KEVY_FINDINGS[(name, model)]
    kevy = explore(name, "kevy-1.17", model, mode="representative")
    assert bool(kevy.violations) == bool(switches), kevy.violations
    if not switches:
        return
    fixed = explore(name, "kevy-1.17+" + ",".join(switches), model, mode="representative")
    assert fixed.violations == 0, [f.point_description for f in fixed.findings]
    for sw in switches:  # each switch is needed: hardened without it violates
        assert explore(name, f"hardened-{sw}", model, mode="representative").violations, sw


@pytest.mark.nightly
@pytest.mark.skipif(not NIGHTLY, reason="nightly form: KEVY_VERIFY_PROFILE=nightly")
@pytest.mark.parametrize("name", ["big-value", "reshard-torn-journal", "reshard-roll-forward"])
def test_the_expensive_posix_walks_are_clean_under_hardened(name: str) -> None:
    assert explore(name, "hardened", "posix").violations == 0


#: kevy 1.17's posix walks too big for CI: (scenario, --sample or None) -> switches
NIGHTLY_KEVY: dict[tuple[str, int | None], tuple[str, ...]] = {
    ("big-value", None): ("aof_dir_fsync", "save_commit_roll_forward"),
    ("reshard-torn-journal", 50): ("aof_dir_fsync", "reshard_dir_fsync", "reshard_meta_fsync"),
    ("reshard-roll-forward", 50): ("aof_dir_fsync", "reshard_dir_fsync", "reshard_meta_fsync"),
    ("cross-shard", None): ("aof_dir_fsync", "cross_shard_intent", "cross_shard_order"),
}


@pytest.mark.nightly
@pytest.mark.skipif(not NIGHTLY, reason="nightly form: KEVY_VERIFY_PROFILE=nightly")
@pytest.mark.parametrize(("name", "sample"), sorted(NIGHTLY_KEVY, key=str))
def test_kevy_posix_shows_only_the_triaged_findings(name: str, sample: int | None) -> None:
    switches = NIGHTLY_KEVY[(name, sample)]
    assert explore(name, "kevy-1.17", "posix", sample=sample).violations
    fixed = explore(name, "kevy-1.17+" + ",".join(switches), "posix", sample=sample)
    assert fixed.violations == 0, [f.point_description for f in fixed.findings]
    for sw in switches:
        assert explore(name, f"hardened-{sw}", "posix", sample=sample).violations, sw
