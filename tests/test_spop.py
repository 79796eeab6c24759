"""SPOP across processes (FINDINGS.md F24) and the model's observed pick.

What: kevy's SPOP removes "the first members in the set's internal iteration
order" (docs/SPEC.md §5) and logs `SPOP k n`. Its sets are hash sets whose
order is a property of the process (docs/spop-order.md), so a recovering
process replays the frame against another order and pops other members than
the client was told. `Keyspace.hash_seed` stands for a process's hash keys;
these tests open one process, pop, and recover in another.

Why: the defect needs two processes to show, so no single-keyspace machine
sees it; the hunt finds it from its generator (tests/corpus/hunt), and these
pin its mechanics, its fix (`spop_logs_members`: log `SREM k m...`, what
Redis propagates) and what `check` says about a log that carries SPOP frames.
"""

from __future__ import annotations

import pytest

from harness.scenarios import DATA_DIR
from impl.aof import FsyncPolicy
from impl.cli import main
from impl.clock import ManualClock
from impl.keyspace import Keyspace, SetValue
from impl.profile import HARDENED, KEVY_1_17, Profile
from impl.resp import encode_frame, scan_aof
from impl.store import Store, StoreConfig
from model.contract import History
from model.crashfs import CrashFS
from model.keyspace import ModelKeyspace, NotModelled

MEMBERS = [b"m%d" % i for i in range(12)]


def _set(ks: Keyspace) -> SetValue:
    return SetValue(dict.fromkeys(MEMBERS))


def test_a_seed_is_a_process_order_and_no_seed_is_insertion_order() -> None:
    clock = ManualClock(0)
    plain = Keyspace(clock)
    assert plain.first_members(_set(plain), 3) == MEMBERS[:3]
    orders = {
        tuple(Keyspace(clock, hash_seed=s).first_members(_set(plain), 12)) for s in range(1, 6)
    }
    assert all(sorted(o) == sorted(MEMBERS) for o in orders)
    assert len(orders) > 1, "every seed gave the same order: the seed is not used"
    one = Keyspace(clock, hash_seed=7)
    assert one.first_members(_set(one), 4) == one.first_members(_set(one), 12)[:4]


def _pop_then_recover(profile: Profile) -> tuple[list[bytes], set[bytes], list[list[bytes]]]:
    """Process 1: SADD 12 members, SPOP s 3 (acknowledged under `always`), close.
    Process 2 opens the directory. Returns (popped, recovered members, log frames)."""
    fs = CrashFS()
    config = StoreConfig(
        data_dir=DATA_DIR, shards=1, appendfsync=FsyncPolicy.ALWAYS, reaper="manual"
    )
    clock = ManualClock(1_700_000_000_000)
    live = Store.open(config, fs=fs, clock=clock, profile=profile, hash_seed=1)
    live.execute([b"SADD", b"s", *MEMBERS])
    popped = live.execute([b"SPOP", b"s", b"3"])
    live.close()
    frames = [list(f.argv) for f in scan_aof(fs.read_bytes(f"{DATA_DIR}/aof-0.aof")).frames]
    again = Store.open(config, fs=fs, clock=clock, profile=profile, hash_seed=2)
    entry = again.keyspace(0).raw().get(b"s")
    assert entry is not None
    recovered = set(entry.value)
    again.close()
    return popped, recovered, frames


def test_kevy_replays_spop_in_another_process_order_and_resurrects_popped_members() -> None:
    popped, recovered, frames = _pop_then_recover(KEVY_1_17)
    assert frames[-1] == [b"SPOP", b"s", b"3"]
    assert len(popped) == 3 and len(recovered) == 9
    assert recovered != set(MEMBERS) - set(popped), "seeds 1 and 2 happen to agree"
    assert set(popped) & recovered, "a popped member should be back"


def test_spop_logs_members_makes_the_replay_exact() -> None:
    popped, recovered, frames = _pop_then_recover(HARDENED)
    assert frames[-1] == [b"SREM", b"s", *popped]
    assert recovered == set(MEMBERS) - set(popped)
    only = KEVY_1_17.with_switches("spop_logs_members")
    popped, recovered, _ = _pop_then_recover(only)
    assert recovered == set(MEMBERS) - set(popped)


def test_the_model_applies_the_observed_pick_and_refuses_an_impossible_one() -> None:
    m = ModelKeyspace()
    m.execute([b"SADD", b"s", b"a", b"b", b"c"], 0)
    with pytest.raises(NotModelled):
        m.execute([b"SPOP", b"s"], 0)
    for bad in ([b"z"], [b"a", b"b"], []):
        with pytest.raises(NotModelled):
            m.execute([b"SPOP", b"s"], 0, chosen=bad)
    with pytest.raises(NotModelled):
        m.execute([b"SPOP", b"s", b"2"], 0, chosen=[b"a", b"a"])
    assert m.execute([b"SPOP", b"s", b"2"], 0, chosen=[b"c", b"a"]) == [b"c", b"a"]
    assert m.execute([b"SMEMBERS", b"s"], 0) == [b"b"]
    assert m.execute([b"SPOP", b"s", b"0"], 0) == []
    assert m.execute([b"SPOP", b"s", b"9"], 0, chosen=[b"b"]) == [b"b"]
    assert m.execute([b"EXISTS", b"s"], 0) == 0
    # Nothing to pick: answered without a pick, in Redis's order of checks.
    assert m.execute([b"SPOP", b"s"], 0) is None
    assert m.execute([b"SPOP", b"s", b"2"], 0) == []
    assert "out of range" in str(m.execute([b"SPOP", b"s", b"-1"], 0))
    assert "syntax" in str(m.execute([b"SPOP", b"s", b"1", b"2"], 0))


def test_history_judges_by_the_pick_the_store_made() -> None:
    h = History("always")
    h.begin([b"SADD", b"s", b"a", b"b"], 0)
    h.ack()
    h.begin([b"SPOP", b"s"], 0)
    h.chose([b"b"])
    h.ack()
    assert "popped b" in h.ops[-1].describe()
    states = h.states(0)
    assert states[-1]["keys"][0]["value"] == ["a"]
    h.rebase(2)
    assert h.ops[-1].chosen == (b"b",), "rebase dropped the pick"


def test_check_counts_an_spop_that_chose_and_names_its_offset(tmp_path, capsys) -> None:
    frames = [
        [b"SADD", b"s", b"a", b"b", b"c"],
        [b"SPOP", b"s", b"1"],
        [b"SADD", b"u", b"z"],
        [b"SPOP", b"u"],
    ]
    path = tmp_path / "aof-0.aof"
    head = b"KEVYAOF1\n" + encode_frame(frames[0])
    path.write_bytes(head + b"".join(encode_frame(f) for f in frames[1:]))
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    # Only the frame that chose among more members than it took is undetermined.
    assert f"offset {len(head)}: undetermined: SPOP s: removed 1 of 3" in out
    assert out.count("undetermined") == 1
    assert main(["dump", str(path), "--strict"]) == 1
