"""The other routing variant (issue 10): a directory the kevy server in cluster mode
re-sharded by CRC16 slots, opened again by the embedded store (harness/lifecycle.py
rule 14, the lifecycle step `["server", n]`).

The embedded store routes by kevyhash only (docs/SPEC.md §7.3); a `shards.meta`
tagged `slots` is never "the same layout" (§9.1 step 6), so its open re-shards the
directory back. Every key must survive both re-shards, and a power cut in either.
"""

from __future__ import annotations

import random

import pytest

from harness.lifecycle import Program, execute
from harness.lifecycle_gen import fill_choices
from impl import reshard
from impl.aof import FsyncPolicy
from impl.clock import ManualClock
from impl.keyspace import Keyspace
from impl.layout import STANDARD_NAMES, Layout, Routing, parse_shards_meta, shard_of
from impl.profile import HARDENED, KEVY_1_17, Profile
from impl.snapshot import load_snapshot
from impl.store import Store, StoreConfig
from model.crashfs import CrashFS

DIR = "/data"
KEYS = [b"a", b"b", b"c", b"{user1000}.following", b"hello", b"user:1000"]


def _store(fs: CrashFS, shards: int, profile: Profile) -> Store:
    config = StoreConfig(data_dir=DIR, shards=shards, appendfsync=FsyncPolicy.ALWAYS,
                         reaper="manual")
    return Store.open(config, fs=fs, clock=ManualClock(1_700_000_000_000), profile=profile,
                      log=lambda line: None)


@pytest.mark.parametrize("profile", [KEVY_1_17, HARDENED], ids=lambda p: p.name)
@pytest.mark.parametrize(("before", "server"), [(1, 3), (2, 2), (4, 3), (3, 16)])
def test_a_slots_directory_holds_each_key_in_its_slot_s_shard_and_reopens_whole(
    profile: Profile, before: int, server: int
) -> None:
    fs = CrashFS()
    store = _store(fs, before, profile)
    for key in KEYS:
        store.execute([b"SET", key, key])
    store.close()
    clock = ManualClock(1_700_000_000_000)
    spaces = [Keyspace(clock) for _ in range(server)]
    reshard.reshard_open(fs, DIR, src_n=before, n=server, names=STANDARD_NAMES,
                         shards=spaces, now_ms=clock.now_ms(), profile=profile,
                         routing=Routing.SLOTS)
    assert parse_shards_meta(fs.read_bytes(f"{DIR}/shards.meta")) == Layout(server,
                                                                          Routing.SLOTS)
    for i in range(server):
        ks = Keyspace(clock)
        load_snapshot(fs, f"{DIR}/dump-{i}.rdb", ks, clock.now_ms())
        held = {k for k, _ in ks.live_items(clock.now_ms())}
        assert held == {k for k in KEYS if shard_of(k, server, Routing.SLOTS) == i}, i
    store = _store(fs, before, profile)
    assert {k["key"] for k in store.snapshot()["keys"]} == {k.decode() for k in KEYS}
    for key in KEYS:  # each where the store's routing looks for it
        assert store.execute([b"GET", key]) == key
    store.close()
    assert parse_shards_meta(fs.read_bytes(f"{DIR}/shards.meta")).routing is Routing.KEVYHASH


def test_the_slots_and_kevyhash_layouts_of_these_keys_differ() -> None:
    # Otherwise the test above could not tell a slots re-shard from a kevyhash one.
    assert [shard_of(k, 3, Routing.SLOTS) for k in KEYS] != [shard_of(k, 3) for k in KEYS]


def _program(policy: str, shards: int, server: int, k: int, model: str) -> Program:
    return Program(policy, shards, [
        ["w", "SET", "a", "1"], ["w", "RPUSH", "l", "x"], ["w", "SET", "b", "2", "PX", "100000"],
        ["server", server],
        ["w", "SADD", "s", "1"],
        ["crash", ["server", server], k, "before", model, None],
        ["w", "SET", "c", "3"],
    ])


@pytest.mark.parametrize("model", ["process-crash", "ordered", "posix"])
@pytest.mark.parametrize("k", [1, 3, 7, 12, 40])
def test_hardened_keeps_every_write_through_both_re_shards_and_a_power_cut(
    model: str, k: int
) -> None:
    for shards, server in ((1, 2), (3, 4)):
        program = fill_choices(_program("always", shards, server, k, model), HARDENED,
                               random.Random(k))
        assert execute(program, HARDENED) is None


def test_kevy_loses_acknowledged_writes_in_the_server_s_re_shard() -> None:
    # kevy 1.17 syncs no directory in a re-shard (F10-F13) nor after creating a log
    # (F4, F6, F7): a power cut in either re-shard takes renames back. Triage names
    # the re-shard's own switch where the cut lands in the server's re-shard.
    from harness.hunt import triage

    named = set()
    for k in range(1, 30):
        program = fill_choices(_program("always", 1, 2, k, "posix"), KEVY_1_17,
                               random.Random(k))
        failure = execute(program, KEVY_1_17)
        if failure is not None:
            assert failure.crash_verb == "server"
            assert execute(program, HARDENED, lenient=True) is None
            named.add(triage(program, KEVY_1_17))
    assert "reshard_dir_fsync" in named


def test_the_machine_fails_a_store_that_serves_a_slots_layout_as_its_own() -> None:
    # Same shard count, other routing: the open must re-shard, or `b` sits in a
    # shard no read of `b` looks in (rule 14, `Store.misrouted`).
    program = Program("always", 2, [["w", "SET", "a", "1"], ["w", "SET", "b", "1"],
                                    ["w", "SET", "hello", "1"], ["server", 2]])
    assert shard_of(b"b", 2, Routing.SLOTS) != shard_of(b"b", 2)
    assert execute(program, HARDENED) is None
    fs = CrashFS()
    store = _store(fs, 2, HARDENED)
    store.execute([b"SET", b"b", b"1"])
    assert store.misrouted() == []
    wrong = 1 - store.shard_for(b"b")
    store._shards[wrong].ks.put(b"b", b"1", None)  # what a mistaken "same" open leaves
    assert store.misrouted() == [(b"b", wrong, 1 - wrong)]
    store.close()
