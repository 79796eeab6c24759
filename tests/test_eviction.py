"""Evictions across a restart (FINDINGS.md F26) and how the contract sees them.

What: with `maxmemory`, kevy evicts keys after a write (docs/SPEC.md §9.2) and
logs nothing for it, so replaying the log at the next open brings every evicted
key back. Redis propagates an eviction as a DEL (evict.c `propagateDeletion`),
and so does hardened (`evictions_logged`). The harness observes evictions
through `Store.take_evicted` and records them with the write that caused them
(`History.evicted`), so the model deletes them too.

Why: a resurrected key is data a client saw deleted (and, for a cache, stale
data served as fresh); the hunt found it once its programs ran with maxmemory.
"""

from __future__ import annotations

import pytest

from harness.scenarios import DATA_DIR
from impl.aof import FsyncPolicy
from impl.clock import ManualClock
from impl.profile import HARDENED, KEVY_1_17, Profile
from impl.store import Store, StoreConfig
from model.contract import History
from model.crashfs import CrashFS


def _config(policy: str) -> StoreConfig:
    return StoreConfig(data_dir=DATA_DIR, shards=1, appendfsync=FsyncPolicy.ALWAYS,
                       reaper="manual", maxmemory=300, maxmemory_policy=policy)


def _fill_then_reopen(profile: Profile, policy: str) -> tuple[list[bytes], set[bytes], set[bytes]]:
    """Write keys until some are evicted; returns (evicted, keys live before the
    close, keys after a reopen)."""
    fs = CrashFS()
    clock = ManualClock(1_700_000_000_000)
    store = Store.open(_config(policy), fs=fs, clock=clock, profile=profile)
    store.record_evictions = True
    evicted: list[bytes] = []
    for i in range(12):
        store.execute([b"SET", b"k%d" % i, b"v" * 40, b"PX", b"%d" % (100_000 + i)])
        evicted += store.take_evicted()
    live = {k["key"].encode() for k in store.snapshot()["keys"]}
    store.close()
    again = Store.open(_config(policy), fs=fs, clock=clock, profile=profile)
    back = {k["key"].encode() for k in again.snapshot()["keys"]}
    again.close()
    return evicted, live, back


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-random", "volatile-ttl"])
def test_kevy_brings_evicted_keys_back_at_the_next_open(policy: str) -> None:
    evicted, live, back = _fill_then_reopen(KEVY_1_17, policy)
    assert evicted and not live & set(evicted)
    assert set(evicted) <= back, "kevy logs no eviction: replay restores them"


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-random", "volatile-ttl"])
def test_evictions_logged_keeps_them_gone(policy: str) -> None:
    evicted, live, back = _fill_then_reopen(HARDENED, policy)
    assert evicted and back == live
    only = KEVY_1_17.with_switches("evictions_logged")
    evicted, live, back = _fill_then_reopen(only, policy)
    assert back == live


def test_the_history_deletes_what_a_write_evicted() -> None:
    h = History("always")
    h.begin([b"SET", b"a", b"1"], 0)
    h.ack()
    h.begin([b"SET", b"b", b"2"], 0)
    h.evicted([b"a"])
    h.ack()
    assert "evicted a" in h.ops[-1].describe()
    assert [k["key"] for k in h.states(0)[-1]["keys"]] == ["b"]
    h.rebase(2)
    assert h.ops[-1].evicted == (b"a",)


def _keys(store: Store) -> set[bytes]:
    return {k["key"].encode() for k in store.snapshot()["keys"]}


@pytest.mark.parametrize("profile", [KEVY_1_17, HARDENED], ids=lambda p: p.name)
def test_a_write_evicts_on_several_shards_under_every_profile(profile: Profile) -> None:
    # mutmut: hardened's cross-shard order (F44) runs a write on its own path, under
    # the order lock; that path must evict too, or memory grows past maxmemory.
    config = StoreConfig(data_dir=DATA_DIR, shards=2, appendfsync=FsyncPolicy.ALWAYS,
                         reaper="manual", maxmemory=300, maxmemory_policy="allkeys-random")
    store = Store.open(config, fs=CrashFS(), clock=ManualClock(1_700_000_000_000),
                       profile=profile)
    store.record_evictions = True
    for i in range(12):
        store.execute([b"SET", b"k%d" % i, b"v" * 40])
    assert store.take_evicted()
    assert len(_keys(store)) < 12
    store.close()


def test_the_first_write_after_an_open_over_the_limit_evicts_a_cross_shard_del_too(
) -> None:
    # Open never evicts (a replay: F48); the next write does, whichever it is - a DEL
    # of keys on two shards included, which runs shard by shard (`_run_parts`).
    fs, clock = CrashFS(), ManualClock(1_700_000_000_000)
    roomy = StoreConfig(data_dir=DATA_DIR, shards=2, appendfsync=FsyncPolicy.ALWAYS,
                        reaper="manual")
    store = Store.open(roomy, fs=fs, clock=clock, profile=HARDENED)
    for i in range(12):
        store.execute([b"SET", b"k%d" % i, b"v" * 40])
    store.close()
    tight = StoreConfig(data_dir=DATA_DIR, shards=2, appendfsync=FsyncPolicy.ALWAYS,
                        reaper="manual", maxmemory=300, maxmemory_policy="allkeys-random")
    again = Store.open(tight, fs=fs, clock=clock, profile=HARDENED)
    assert len(_keys(again)) == 12  # the open evicted nothing
    missing = [b"m%d" % i for i in range(8)]
    assert len({again.shard_for(k) for k in missing}) == 2
    again.record_evictions = True
    assert again.execute([b"DEL", *missing]) == 0
    assert again.take_evicted() and len(_keys(again)) < 12
    again.close()
