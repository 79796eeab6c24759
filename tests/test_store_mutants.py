"""impl/store.py: what tests/test_store.py and the machines left unchecked.

mutmut (README "Adequacy", mutation score) found the store's protocols well
covered by the phase-API tests, the crash machines and the explorer, and the
edges around them unchecked: the errors' texts (what an embedding program
shows its user), the configuration checks, the maxmemory accounting and
eviction policies, the reaper's sampling bounds and the recovery decisions at
open. Each test here drives a real `Store` on a real temporary directory (or
in memory) with a `ManualClock` and the manual reaper; none sleeps.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from impl.aof import FsyncPolicy
from impl.clock import ManualClock
from impl.errors import UsageError
from impl.fs import OsFileSystem
from impl.layout import shard_of
from impl.profile import HARDENED, KEVY_1_17, Profile
from impl.store import (
    DataDirLocked,
    PhaseError,
    SaveTimedOut,
    ShardBusy,
    Store,
    StoreConfig,
    StoreError,
    iter_shard_paths,
    reset_path,
)

NOW = 1_795_435_200_000
FS = OsFileSystem()


def cfg(path: Path | None, **kw: object) -> StoreConfig:
    kw.setdefault("reaper", "manual")
    kw.setdefault("appendfsync", FsyncPolicy.ALWAYS)
    return StoreConfig(data_dir=None if path is None else str(path), **kw)  # type: ignore[arg-type]


def open_store(path: Path | None, profile: Profile = KEVY_1_17, **kw: object) -> Store:
    return Store.open(cfg(path, **kw), fs=FS, clock=ManualClock(NOW), profile=profile)


# --- errors and configuration --------------------------------------------------


def test_the_store_errors_say_what_happened_and_what_to_do() -> None:
    busy = ShardBusy(3)
    assert busy.shard == 3
    assert str(busy) == (
        "shard 3: an AOF rewrite is in flight (tee active); finish or abort it, then save again"
    )
    late = SaveTimedOut(2, 2000)
    assert (late.shard, late.retries) == (2, 2000)
    assert isinstance(late, TimeoutError)
    assert str(late) == (
        "shard 2: save gave up after 2000 retries of 5 ms waiting for an AOF rewrite"
    )
    locked = DataDirLocked("/d")
    assert locked.directory == "/d"
    assert str(locked) == (
        "/d: data directory is in use by another process (its advisory lock is held); two "
        "processes on one directory lose each other's acknowledged writes (FINDINGS.md F19). "
        "Close the other one first"
    )
    assert reset_path("d/aof-0.aof") == "d/aof-0.aof.reset"


@pytest.mark.parametrize(
    ("kw", "text"),
    [
        ({"reaper": "auto"}, "reaper must be 'background' or 'manual', got 'auto'"),
        (
            {"maxmemory_policy": "lru"},
            "maxmemory_policy must be one of ('noeviction', 'allkeys-random', "
            "'volatile-ttl', 'allkeys-lru'), got 'lru'",
        ),
        ({"appendfsync": "always"}, "appendfsync must be an FsyncPolicy, got 'always'"),
    ],
)
def test_a_bad_configuration_is_a_usage_error_naming_the_value(
    kw: dict[str, object], text: str
) -> None:
    with pytest.raises(UsageError) as e:
        StoreConfig(**kw)  # type: ignore[arg-type]
    assert str(e.value) == text


def test_defaults_are_kevys() -> None:
    c = StoreConfig()
    assert (c.data_dir, c.shards, c.aof_enabled, c.appendfsync) == (
        None,
        1,
        True,
        FsyncPolicy.EVERYSEC,
    )
    assert (c.snapshot_name, c.aof_name, c.reaper) == ("dump-0.rdb", "aof-0.aof", "background")
    assert (c.reaper_interval_ms, c.reaper_samples, c.reaper_rounds) == (100, 20, 16)
    assert (c.maxmemory, c.maxmemory_policy) == (0, "noeviction")


def test_iter_shard_paths_names_each_shard_and_nothing_in_memory(tmp_path: Path) -> None:
    assert list(iter_shard_paths(StoreConfig())) == []
    d = str(tmp_path)
    assert list(iter_shard_paths(StoreConfig(data_dir=d))) == [
        (f"{d}/dump-0.rdb", f"{d}/aof-0.aof")
    ]
    assert list(iter_shard_paths(StoreConfig(data_dir=d, shards=2))) == [
        (f"{d}/dump-0.rdb", f"{d}/aof-0.aof"),
        (f"{d}/dump-1.rdb", f"{d}/aof-1.aof"),
    ]
    assert list(iter_shard_paths(StoreConfig(data_dir=d, shards=0))) == [
        (f"{d}/dump-0.rdb", f"{d}/aof-0.aof")
    ]


def test_open_needs_a_file_system_for_a_directory_and_repr_names_it(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as e:
        Store.open(cfg(tmp_path), fs=None, clock=ManualClock(NOW))
    assert str(e.value) == "a data_dir needs a FileSystem (fs=OsFileSystem() for the disk)"
    s = open_store(tmp_path, HARDENED, shards=2)
    assert repr(s) == f"<Store {str(tmp_path)!r} shards=2 hardened>"
    s.close()
    m = open_store(None, shards=0)
    assert m.n == 1 and repr(m) == "<Store None shards=1 kevy-1.17>"
    assert m.save() is False and m.rewrite_aof() is None
    with pytest.raises(UsageError) as e:
        m.begin_save(0)
    assert str(e.value) == "this store has no data directory"


def test_a_closed_store_refuses_calls_and_an_empty_command_is_a_usage_error(
    tmp_path: Path,
) -> None:
    s = open_store(tmp_path)
    with pytest.raises(UsageError) as e:
        s.execute([])
    assert str(e.value) == "empty command"
    s.close()
    s.close()  # twice is harmless
    with pytest.raises(StoreError) as c:
        s.set(b"k", b"v")
    assert str(c.value) == "the store is closed"


def test_phase_errors_name_the_step_to_call_first(tmp_path: Path) -> None:
    s = open_store(tmp_path)
    cases = [
        (lambda: s.write_save(0), "shard 0: call begin_save(0) first"),
        (lambda: s.commit_save(0), "shard 0: call write_save(0) first"),
        (lambda: s.write_rewrite(0), "shard 0: call begin_rewrite(0) first"),
        (lambda: s.finish_rewrite(0), "shard 0: call write_rewrite(0) first"),
    ]
    for call, text in cases:
        with pytest.raises(PhaseError) as e:
            call()
        assert str(e.value) == text
    s.begin_save(0)
    with pytest.raises(PhaseError) as e:
        s.begin_save(0)
    assert str(e.value) == "shard 0: a save is already in progress"
    with pytest.raises(PhaseError):
        s.commit_save(0)
    s.abort_save(0)
    s.close()


# --- routing: log, execute, the convenience wrappers ----------------------------------


def _frames(path: Path) -> list[tuple[bytes, ...]]:
    from impl.resp import scan_aof

    return [tuple(f.argv) for f in scan_aof(path.read_bytes()).frames]


def _keys_in(s: Store, shard: int) -> list[bytes]:
    return sorted(s.keyspace(shard).raw())


def _two_shard_keys(s: Store) -> tuple[bytes, bytes]:
    """One key that routes to shard 0 and one to shard 1."""
    by_shard: dict[int, bytes] = {}
    i = 0
    while len(by_shard) < 2:
        key = b"k%d" % i
        by_shard.setdefault(s.shard_for(key), key)
        i += 1
    return by_shard[0], by_shard[1]


def test_log_appends_a_raw_frame_to_the_shard_of_its_key(tmp_path: Path) -> None:
    s = open_store(tmp_path, shards=2)
    k0, k1 = _two_shard_keys(s)
    s.log([b"SET", k1, b"v"])
    s.log([b"PING"])
    s.log([bytearray(b"SET"), k0, b"w"])  # type: ignore[list-item]
    s.close()
    assert _frames(tmp_path / "aof-1.aof") == [(b"SET", k1, b"v")]
    assert _frames(tmp_path / "aof-0.aof") == [(b"PING",), (b"SET", k0, b"w")]
    with pytest.raises(StoreError):
        s.log([b"SET", k0, b"x"])
    m = open_store(None, shards=2)
    m.log([b"SET", k1, b"v"])  # no log: nothing to append, nothing raised
    assert m.keyspace(1).raw() == {}


def test_wrappers_log_the_upper_case_verbs_kevy_writes(tmp_path: Path) -> None:
    s = open_store(tmp_path)
    s.set(b"k", b"1")
    assert s.get(b"k") == b"1"
    s.incr_by(b"k", 2)
    s.rpush(b"l", b"a", b"b")
    s.expire(b"l", 100)
    s.delete(b"k")
    s.flushall()
    s.close()
    assert [f[0] for f in _frames(tmp_path / "aof-0.aof")] == [
        b"SET",
        b"INCRBY",
        b"RPUSH",
        b"PEXPIREAT",
        b"DEL",
        b"FLUSHALL",
    ]


def test_execute_routes_keyless_commands_to_shard_0_and_flushdb_to_every_shard(
    tmp_path: Path,
) -> None:
    # Rule 2: a command without a key goes to shard 0 (DBSIZE counts that shard).
    one = open_store(tmp_path / "one")
    one.set(b"a", b"1")
    assert one.execute([b"DBSIZE"]) == 1
    one.close()
    s = open_store(tmp_path / "two", shards=2)
    k0, k1 = _two_shard_keys(s)
    s.set(k1, b"b")
    assert s.execute(["DBSIZE"]) == 0
    s.set(k0, b"a")
    assert s.execute(["DBSIZE"]) == 1
    s.execute([b"flushdb"])
    assert _keys_in(s, 0) == [] and _keys_in(s, 1) == []
    s.close()
    assert _frames(tmp_path / "two" / "aof-0.aof")[-1] == (b"FLUSHDB",)
    assert _frames(tmp_path / "two" / "aof-1.aof")[-1] == (b"FLUSHDB",)


@pytest.mark.parametrize("verb", [b"DEL", b"del"])
def test_a_multi_key_delete_reaches_every_shard_it_names(tmp_path: Path, verb: bytes) -> None:
    s = open_store(tmp_path, shards=2)
    k0, k1 = _two_shard_keys(s)
    s.set(k0, b"a")
    s.set(k1, b"b")
    assert s.execute([verb, k1, k0]) == 2
    assert _keys_in(s, 0) == [] and _keys_in(s, 1) == []
    assert s.execute([verb, k0]) == 0
    s.close()


# --- eviction ---------------------------------------------------------------------


def test_approx_size_of_each_value_type() -> None:
    from impl.keyspace import ListValue, SetValue, Stream, ZSet
    from impl.store import _approx_size

    assert _approx_size(b"key", b"value") == 48 + 3 + 5
    assert _approx_size(b"k", [b"ab", b"c"]) == 49 + 16 + 2 + 16 + 1
    lv = ListValue()
    lv.extend([b"ab", b"c"])
    assert _approx_size(b"k", lv) == 49 + 16 + 2 + 16 + 1
    sv = SetValue()
    sv.add(b"abc")
    assert _approx_size(b"k", sv) == 49 + 16 + 3
    assert _approx_size(b"k", {b"f": b"vv", b"gg": b"w"}) == 49 + (32 + 1 + 2) + (32 + 2 + 1)
    z = ZSet()
    z.scores[b"m"] = 1.0
    z.scores[b"mm"] = 2.0
    assert _approx_size(b"k", z) == 49 + 25 + 26
    st = Stream()
    st.entries[(1, 0)] = [(b"f", b"vv"), (b"g", b"w")]
    st.entries[(2, 0)] = []
    assert _approx_size(b"k", st) == 49 + (24 + 3 + 2) + 24
    assert _approx_size(b"k", 7) == 49


def _mem_store(
    policy: str, maxmemory: int, profile: Profile = KEVY_1_17, path: Path | None = None
) -> Store:
    s = open_store(path, profile, maxmemory=maxmemory, maxmemory_policy=policy)
    s.record_evictions = True
    return s


def test_no_eviction_without_a_limit_or_with_noeviction() -> None:
    for policy, limit in (("allkeys-lru", 0), ("noeviction", 60)):
        s = _mem_store(policy, limit)
        for k in (b"a", b"b", b"c"):
            s.set(k, b"1")
        assert _keys_in(s, 0) == [b"a", b"b", b"c"] and s.take_evicted() == []


def test_lru_evicts_the_oldest_until_at_or_under_budget() -> None:
    # Each key a=1 counts 48 + 1 + 1 = 50 bytes.
    s = _mem_store("allkeys-lru", 100)
    s.set(b"a", b"1")
    s.set(b"b", b"1")
    assert s.take_evicted() == []  # 100 is not over 100
    s.set(b"c", b"1")
    assert s.take_evicted() == [b"a"] and _keys_in(s, 0) == [b"b", b"c"]
    s.set(b"d", b"x" * 60)  # 110 bytes: b and c go, d alone is still over, so d too
    assert s.take_evicted() == [b"b", b"c", b"d"] and _keys_in(s, 0) == []
    tiny = _mem_store("allkeys-lru", 1)
    tiny.set(b"a", b"1")
    assert tiny.take_evicted() == [b"a"]


def test_the_value_counts_toward_the_budget() -> None:
    s = _mem_store("allkeys-lru", 200)
    s.set(b"a", b"1")
    s.set(b"big", b"x" * 200)
    assert s.take_evicted() == [b"a", b"big"]


def test_volatile_ttl_evicts_the_nearest_deadline_and_never_a_persistent_key() -> None:
    s = _mem_store("volatile-ttl", 160)
    s.set(b"p", b"1")
    s.execute([b"SET", b"late", b"1", b"PX", b"9000"])
    s.execute([b"SET", b"soon", b"1", b"PX", b"1000"])
    s.set(b"q", b"1")  # 50 + 53 + 53 + 50 bytes: over 160 by 46
    assert s.take_evicted() == [b"soon"]
    s.set(b"r", b"1")
    assert s.take_evicted() == [b"late"]
    s.set(b"s", b"1")  # over budget, but no key has a TTL: nothing to evict
    assert s.take_evicted() == [] and _keys_in(s, 0) == [b"p", b"q", b"r", b"s"]


VICTIMS_OF_SEED_0 = [b"k3", b"k4", b"k0", b"k5", b"k8", b"k7", b"k9", b"k6"]


def test_random_eviction_is_seeded_so_a_run_replays() -> None:
    def victims() -> list[bytes]:
        s = _mem_store("allkeys-random", 250)
        for i in range(12):
            s.set(b"k%d" % i, b"1")
        return s.take_evicted()

    first = victims()
    # Store's generator is random.Random(0): these victims, run after run.
    assert first == VICTIMS_OF_SEED_0
    assert first == victims()


def test_evictions_are_recorded_only_when_asked_and_logged_only_when_fixed(
    tmp_path: Path,
) -> None:
    s = open_store(None, maxmemory=60, maxmemory_policy="allkeys-lru")
    assert s.record_evictions is False and s.closed is False and s.dir_lock is None
    s.set(b"a", b"1")
    s.set(b"b", b"1")
    assert s.take_evicted() == [] and _keys_in(s, 0) == [b"b"]
    h = _mem_store("allkeys-lru", 60, HARDENED, tmp_path)
    h.set(b"a", b"1")
    h.set(b"b", b"1")
    h.close()
    assert _frames(tmp_path / "aof-0.aof")[-1] == (b"DEL", b"a")


# --- active expiry (docs/SPEC.md §6.2) -------------------------------------------------


class _Starts:
    """The reaper's pseudo-random start slots, chosen by the test (then slot 0)."""

    def __init__(self, *starts: int) -> None:
        self.starts = list(starts)

    def randrange(self, n: int) -> int:
        return (self.starts.pop(0) if self.starts else 0) % n


def _reaper_store(layout: str, samples: int, rounds: int, *starts: int) -> Store:
    """Keys in insertion order, one per letter: p persistent, e expired, f a far TTL."""
    s = open_store(None, reaper_samples=samples, reaper_rounds=rounds)
    for i, kind in enumerate(layout):
        key = b"%s%02d" % (kind.encode(), i)
        ttl = {"p": [], "e": [b"PX", b"1"], "f": [b"PX", b"1000000000"]}[kind]
        s.execute([b"SET", key, b"v", *ttl])
    s.clock.advance(10)  # type: ignore[attr-defined]
    s._rng = _Starts(*starts)  # type: ignore[assignment]
    return s


def _left(s: Store) -> str:
    return "".join(chr(k[0]) for k in s.keyspace(0).raw())


def test_a_deadline_equal_to_now_is_expired() -> None:
    s = open_store(None)
    s.execute([b"SET", b"k", b"v", b"PX", b"1000"])
    s.clock.advance(1000)  # type: ignore[attr-defined]
    assert s.tick() == 1 and s.keyspace(0).raw() == {}


def test_tick_sums_the_keys_expired_in_every_shard() -> None:
    s = open_store(None, shards=2)
    k0, k1 = _two_shard_keys(s)
    for k in (k0, k1):
        s.execute([b"SET", k, b"v", b"PX", b"1"])
    s.clock.advance(5)  # type: ignore[attr-defined]
    assert s.tick() == 2


@pytest.mark.parametrize(
    ("layout", "samples", "rounds", "starts", "expired"),
    [
        ("eee", 0, 1, [0], 1),  # samples below 1 count as 1
        ("eee", 1, 0, [0], 0),  # zero rounds: nothing runs
        ("ppppppppe", 1, 1, [0], 0),  # at most 8 x samples entries are visited
        ("epppppppp", 1, 1, [1], 0),  # the walk goes forward from its start
        ("eee", 2, 1, [0], 2),  # up to `samples` TTL keys per round
        ("eeee", 2, 2, [0, 0], 4),  # a round at >= 25 % expired runs another
        ("effffe", 5, 2, [0, 0], 1),  # 1 of 5 expired (< 25 %): no second round
        ("efffe", 4, 2, [0, 0], 2),  # 1 of 4 (= 25 %): a second round
        ("ppppppppe", 1, 16, [0, 0, 1], 1),  # two empty rounds do not end the tick
        ("ppppppppe", 1, 16, [0, 0, 0, 1], 0),  # three do
        ("ppppppppee", 1, 16, [1, 0, 0, 2], 2),  # a round with samples resets the count
    ],
)
def test_active_expiry_samples_rounds_and_stops_as_the_spec_says(
    layout: str, samples: int, rounds: int, starts: list[int], expired: int
) -> None:
    s = _reaper_store(layout, samples, rounds, *starts)
    assert s.tick() == expired
    assert _left(s).count("e") == layout.count("e") - expired


def test_an_expired_key_is_logged_as_del_only_with_the_fix(tmp_path: Path) -> None:
    for profile, logged in ((KEVY_1_17, False), (HARDENED, True)):
        d = tmp_path / profile.name
        s = open_store(d, profile)
        s.execute([b"SET", b"k", b"v", b"PX", b"1"])
        s.clock.advance(5)  # type: ignore[attr-defined]
        assert s.tick() == 1
        s.close()
        frames = _frames(d / "aof-0.aof")
        assert ((b"DEL", b"k") in frames) is logged
        assert frames[-1][0] == (b"DEL" if logged else b"PEXPIREAT")


# --- phases, rewrite, reaper, close ---------------------------------------------------


def test_each_phase_names_the_step_that_is_missing(tmp_path: Path) -> None:
    s = open_store(tmp_path)
    s.set(b"k", b"v")
    s.begin_save(0)
    with pytest.raises(PhaseError) as e:
        s.commit_save(0)
    assert str(e.value) == "shard 0: call write_save(0) first"
    s.abort_save(0)
    assert not s.aof(0).is_rewriting  # type: ignore[union-attr]
    s.abort_save(0)  # nothing in progress: harmless
    s.begin_save(0)  # the aborted save is over
    s.abort_save(0)
    assert s.begin_rewrite(0)
    with pytest.raises(ShardBusy) as busy:
        s.begin_save(0)
    assert str(busy.value).startswith("shard 0: an AOF rewrite is in flight")
    with pytest.raises(PhaseError) as e:
        s.finish_rewrite(0)
    assert str(e.value) == "shard 0: call write_rewrite(0) first"
    s.abort_rewrite(0)
    assert not (tmp_path / "aof-0.aof.rewrite").exists()
    assert not s.aof(0).is_rewriting  # type: ignore[union-attr]
    assert s.begin_rewrite(0)
    s.write_rewrite(0)
    s.finish_rewrite(0)
    with pytest.raises(PhaseError) as e:
        s.write_rewrite(0)
    assert str(e.value) == "shard 0: call begin_rewrite(0) first"
    s.close()


def test_rewrite_aof_skips_a_busy_shard_and_sums_the_others(tmp_path: Path) -> None:
    s = open_store(tmp_path, shards=2)
    k0, k1 = _two_shard_keys(s)
    s.set(k0, b"a")
    s.set(k1, b"b")
    s.rpush(k1 + b"l", b"x")
    assert s.begin_rewrite(0)  # shard 0 has a tee: rewrite_aof skips it
    result = s.rewrite_aof()
    assert result is not None
    assert result.keys == len(s.keyspace(1).raw())
    assert result.bytes == (tmp_path / "aof-1.aof").stat().st_size
    s.abort_rewrite(0)
    both = s.rewrite_aof()
    assert both is not None and both.keys == 1 + len(s.keyspace(1).raw())
    assert both.bytes == sum((tmp_path / f"aof-{i}.aof").stat().st_size for i in (0, 1))
    s.close()


def test_hardened_rewrite_beside_a_snapshot_reports_the_reset_log(tmp_path: Path) -> None:
    s = open_store(tmp_path, HARDENED)
    s.set(b"k", b"v")
    assert s.save()
    s.set(b"j", b"w")
    result = s.rewrite_aof()
    assert result is not None and result.keys == 2
    assert result.bytes == (tmp_path / "aof-0.aof").stat().st_size
    # The same as a save: aborting it between phases leaves no tee and no phase.
    assert s.begin_rewrite(0)
    s.abort_rewrite(0)
    assert not s.aof(0).is_rewriting  # type: ignore[union-attr]
    assert s.save()
    s.close()


def test_a_failed_rewrite_write_aborts_and_raises_the_os_error(tmp_path: Path) -> None:
    s = open_store(tmp_path)
    s.set(b"k", b"v")
    assert s.begin_rewrite(0)
    (tmp_path / "aof-0.aof.rewrite").mkdir()
    with pytest.raises(OSError):
        s.write_rewrite(0)
    assert not s.aof(0).is_rewriting  # type: ignore[union-attr]
    (tmp_path / "aof-0.aof.rewrite").rmdir()
    assert s.rewrite_aof() is not None
    s.close()


def test_open_gives_each_shard_its_own_hash_seed_and_reports_nothing_in_memory() -> None:
    s = Store.open(cfg(None, shards=3), fs=None, clock=ManualClock(NOW), hash_seed=10)
    assert [s.keyspace(i).hash_seed for i in range(3)] == [10, 11, 12]
    assert s.recovery_reports == [] and s.failed_shards() == []


def test_snapshot_leaves_out_what_has_expired_by_the_store_clock() -> None:
    s = open_store(None)
    s.execute([b"SET", b"gone", b"v", b"PX", b"10"])
    s.set(b"kept", b"v")
    s.clock.advance(10)  # type: ignore[attr-defined]
    assert [k["key"] for k in s.snapshot()["keys"]] == ["kept"]


def test_a_subcommand_verb_without_its_key_is_an_error_reply_not_a_crash() -> None:
    s = open_store(None, shards=4)
    for argv in ([b"XGROUP", b"CREATE"], [b"XGROUP"], [b"DBSIZE"]):
        reply = s.execute(argv)
        assert reply == 0 if argv == [b"DBSIZE"] else "wrong number of arguments" in repr(reply)


class _Observed(Store):
    """A Store whose background reaper signals each pass it runs."""

    ran: threading.Event

    def reaper_pass(self) -> int:
        self.ran.set()
        return super().reaper_pass()


def test_the_background_reaper_thread_runs_passes_until_close() -> None:
    _Observed.ran = threading.Event()
    s = _Observed.open(
        StoreConfig(reaper="background", reaper_interval_ms=1), fs=None, clock=ManualClock(NOW)
    )
    thread = s._reaper
    assert thread is not None and thread.name == "kevy-reaper" and thread.daemon
    # An event, not a sleep: it is set by the first pass, a millisecond in.
    assert _Observed.ran.wait(timeout=30)
    s.close()
    assert not thread.is_alive() and s.closed is True


def test_close_saves_without_a_log_only_with_the_fix(tmp_path: Path) -> None:
    for profile, kept in ((KEVY_1_17, {}), (HARDENED, {b"k": b"v"})):
        d = tmp_path / profile.name
        s = open_store(d, profile, aof_enabled=False)
        s.set(b"k", b"v")
        s.close()
        again = open_store(d, profile, aof_enabled=False)
        assert {k: e.value for k, e in again.keyspace(0).raw().items()} == kept
        again.close()


def test_the_default_sleeper_is_a_real_sleep() -> None:
    s = open_store(None)
    assert s.sleeper(0) is None


def test_a_manual_tick_syncs_an_everysec_log_only_with_the_fix(tmp_path: Path) -> None:
    from tests.recording_fs import RecordingFS

    for profile, synced in ((KEVY_1_17, False), (HARDENED, True)):
        rec = RecordingFS(OsFileSystem())
        d = tmp_path / profile.name
        s = Store.open(
            cfg(d, appendfsync=FsyncPolicy.EVERYSEC),
            fs=rec,
            clock=ManualClock(NOW),
            profile=profile,
        )
        s.set(b"k", b"v")
        rec.take()
        s.clock.advance(2000)  # type: ignore[attr-defined]
        s.tick()
        assert any(c[0] in ("fdatasync", "fsync") for c in rec.take()) is synced
        s.close()


# --- what the second run left: phases after failures, fixes that only a profile shows ------


def test_a_save_after_a_save_and_after_a_failed_write(tmp_path: Path) -> None:
    s = open_store(tmp_path)
    s.set(b"k", b"v")
    assert s.save() and s.save()
    s.begin_save(0)
    (tmp_path / "dump-0.rdb.tmp").mkdir()
    with pytest.raises(OSError):
        s.write_save(0)
    (tmp_path / "dump-0.rdb.tmp").rmdir()
    assert s.save()
    s.abort_rewrite(0)  # nothing in progress: nothing to abort, nothing raised
    s.close()


def test_save_timed_out_names_the_shard(tmp_path: Path) -> None:
    s = Store.open(cfg(tmp_path), fs=FS, clock=ManualClock(NOW), sleeper=lambda _s: None)
    assert s.begin_rewrite(0)
    with pytest.raises(SaveTimedOut) as e:
        s.save()
    assert str(e.value) == (
        "shard 0: save gave up after 2000 retries of 5 ms waiting for an AOF rewrite"
    )
    s.abort_rewrite(0)
    s.close()


def test_a_hardened_rewrite_run_as_a_save_ends_its_phase_even_when_it_fails(
    tmp_path: Path,
) -> None:
    s = open_store(tmp_path, HARDENED)
    s.set(b"k", b"v")
    assert s.save()
    assert s.begin_rewrite(0)
    s.write_rewrite(0)
    s.finish_rewrite(0)
    with pytest.raises(PhaseError):
        s.write_rewrite(0)
    assert s.begin_rewrite(0)
    (tmp_path / "dump-0.rdb.tmp").mkdir()
    with pytest.raises(OSError):
        s.write_rewrite(0)
    (tmp_path / "dump-0.rdb.tmp").rmdir()
    with pytest.raises(PhaseError) as e:
        s.write_rewrite(0)
    assert str(e.value) == "shard 0: call begin_rewrite(0) first"
    assert s.rewrite_aof() is not None
    s.close()


def _deadline_after_a_delayed_write(tmp_path: Path, profile: Profile, how: str) -> int | None:
    d = tmp_path / f"{profile.name}-{how}"
    s = open_store(d, profile)
    if how == "rewrite" and profile is HARDENED:
        s.set(b"other", b"v")  # no snapshot yet: a hardened rewrite stays a rewrite
    s.execute([b"SET", b"k", b"v", b"PX", b"10000"])
    begin, write, finish = {
        "save": (s.begin_save, s.write_save, s.commit_save),
        "rewrite": (s.begin_rewrite, s.write_rewrite, s.finish_rewrite),
    }[how]
    begin(0)
    s.clock.advance(5000)  # type: ignore[attr-defined]
    write(0)
    finish(0)
    s.close()
    again = Store.open(cfg(d), fs=FS, clock=ManualClock(NOW + 5000), profile=profile)
    deadline = again.keyspace(0).raw()[b"k"].deadline_ms
    again.close()
    return deadline


@pytest.mark.parametrize("how", ["save", "rewrite"])
def test_the_hardened_frozen_view_keeps_the_exact_deadline(tmp_path: Path, how: str) -> None:
    assert _deadline_after_a_delayed_write(tmp_path, HARDENED, how) == NOW + 10000


def test_the_hardened_rewrite_writes_exact_scores(tmp_path: Path) -> None:
    for profile, text in ((KEVY_1_17, b"0.10000000000000001"), (HARDENED, b"0.1")):
        d = tmp_path / profile.name
        s = open_store(d, profile)
        s.execute([b"ZADD", b"z", b"0.1", b"m"])
        assert s.rewrite_aof() is not None
        s.close()
        assert (b"ZADD", b"z", text, b"m") in _frames(d / "aof-0.aof")


def test_a_rewrite_whose_file_vanished_fails_without_failing_the_shard(tmp_path: Path) -> None:
    s = open_store(tmp_path)
    s.set(b"k", b"v")
    assert s.begin_rewrite(0)
    s.write_rewrite(0)
    (tmp_path / "aof-0.aof.rewrite").unlink()
    with pytest.raises(OSError):
        s.finish_rewrite(0)
    assert s.failed_shards() == []
    s.set(b"j", b"w")
    s.close()


def test_a_hardened_save_without_a_log_creates_none(tmp_path: Path) -> None:
    s = open_store(tmp_path, HARDENED, aof_enabled=False)
    s.set(b"k", b"v")
    assert s.save()
    s.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dump-0.rdb", "shards.meta"]


def test_the_stale_log_reset_on_kevys_commit_order_syncs_its_directory(tmp_path: Path) -> None:
    # hardened minus the roll-forward: F42's reset runs on kevy's commit order, with
    # the directory syncs of aof_dir_fsync.
    from impl.profile import get_profile

    profile = get_profile("hardened-save_commit_roll_forward")
    s = open_store(tmp_path, profile)
    s.set(b"k", b"v")
    s.close()
    s = open_store(tmp_path, profile, aof_enabled=False)
    s.set(b"j", b"w")
    assert s.save()
    s.close()
    assert (tmp_path / "aof-0.aof").read_bytes() == b"KEVYAOF1\n"


class _FailingDirSync(OsFileSystem):
    """Once `watch` is set, fsync_dir fails (EIO) after a snapshot is renamed into place."""

    def __init__(self) -> None:
        self.watch = self.armed = False

    def rename(self, src: str, dst: str) -> None:
        super().rename(src, dst)
        self.armed = self.armed or (self.watch and dst.endswith(".rdb"))

    def fsync_dir(self, path: str) -> None:
        if self.armed:
            raise OSError(5, "Input/output error", path)
        super().fsync_dir(path)


def test_a_shard_failed_after_its_commit_closes_its_log_and_close_closes_the_rest(
    tmp_path: Path,
) -> None:
    from impl.store import ShardFailed

    fs = _FailingDirSync()
    s = Store.open(cfg(tmp_path, shards=2), fs=fs, clock=ManualClock(NOW), profile=HARDENED)
    s.set(b"k", b"v")
    fs.watch = True
    s.begin_save(0)
    s.write_save(0)
    with pytest.raises(OSError):
        s.commit_save(0)
    assert s.failed_shards() == [0] and s.aof(0) is None and s.aof(1) is not None
    with pytest.raises(ShardFailed):
        s.execute(
            [b"SET", next(b"x%d" % i for i in range(99) if s.shard_for(b"x%d" % i) == 0), b"1"]
        )
    fs.watch = fs.armed = False
    s.close()
    assert s.aof(1) is None


def test_auto_rewrite_reaches_every_due_shard_and_reports_a_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s = open_store(tmp_path, shards=2, auto_rewrite_min_size=1, auto_rewrite_percentage=1)
    k0, k1 = _two_shard_keys(s)
    (tmp_path / "aof-0.aof.rewrite").mkdir()  # shard 0's rewrite fails
    for i in range(20):
        s.set(k1, b"%d" % i)
    s.set(k0, b"x")
    s.tick()
    assert _frames(tmp_path / "aof-1.aof") == [(b"SET", k1, b"19")]
    err = capsys.readouterr().err
    assert err.startswith("kevy: auto AOF rewrite of shard 0 failed: ")
    s.close()


def test_a_reaper_pass_counts_the_logs_it_synced(tmp_path: Path) -> None:
    s = open_store(tmp_path, shards=2, appendfsync=FsyncPolicy.EVERYSEC)
    k0, k1 = _two_shard_keys(s)
    s.set(k0, b"a")
    s.set(k1, b"b")
    s.clock.advance(2000)  # type: ignore[attr-defined]
    assert s.reaper_pass() == 2
    s.close()
    assert s.reaper_pass() == 0


class _SyncFails(OsFileSystem):
    """A disk whose fdatasync and fsync fail (EIO) while `failing` is set."""

    failing = False

    def _wrap(self, f: object) -> object:
        fs = self

        class _File:
            def __getattr__(self, name: str) -> object:
                return getattr(f, name)

            def fdatasync(self) -> None:
                if fs.failing:
                    raise OSError(5, "Input/output error", f.path)  # type: ignore[attr-defined]
                f.fdatasync()  # type: ignore[attr-defined]

            fsync = fdatasync

        return _File()

    def open_append(self, path: str, *, create: bool = True):  # type: ignore[no-untyped-def]
        return self._wrap(super().open_append(path, create=create))

    def create_truncate(self, path: str):  # type: ignore[no-untyped-def]
        return self._wrap(super().create_truncate(path))


def test_a_failing_background_sync_is_ignored_by_tick_pass_and_kevys_close(
    tmp_path: Path,
) -> None:
    for profile in (KEVY_1_17, HARDENED):
        fs = _SyncFails()
        s = Store.open(
            cfg(tmp_path / profile.name, appendfsync=FsyncPolicy.EVERYSEC),
            fs=fs,
            clock=ManualClock(NOW),
            profile=profile,
        )
        s.set(b"k", b"v")
        fs.failing = True
        s.clock.advance(2000)  # type: ignore[attr-defined]
        s.tick()  # hardened syncs here (F29): the failure is not the tick's to raise
        if profile is KEVY_1_17:
            s.set(b"j", b"w")  # kevy goes on writing (F25: hardened refuses the shard)
        s.clock.advance(2000)  # type: ignore[attr-defined]
        assert s.reaper_pass() == 0
        if profile is KEVY_1_17:
            s.close()  # kevy's close ignores a failed maybe_sync
            assert s.closed


def test_a_hardened_close_raises_the_first_sync_failure_after_closing_every_log(
    tmp_path: Path,
) -> None:
    fs = _SyncFails()
    s = Store.open(
        cfg(tmp_path, shards=2, appendfsync=FsyncPolicy.NO),
        fs=fs,
        clock=ManualClock(NOW),
        profile=HARDENED,
    )
    k0, k1 = _two_shard_keys(s)
    s.set(k0, b"a")
    s.set(k1, b"b")
    fs.failing = True
    with pytest.raises(OSError) as e:
        s.close()
    assert e.value.errno == 5 and e.value.filename == str(tmp_path / "aof-0.aof")
    assert s.closed and s.aof(0) is None and s.aof(1) is None


def test_unlink_is_no_live_command_and_gets_the_unknown_command_reply() -> None:
    # kevy's live command table has no UNLINK (docs/SPEC.md §5 lists it among the
    # verbs replay skips): the reply is the error, on one shard or several, for one
    # key or keys on several shards (the multi-key DEL split once took it in and
    # raised TypeError on the error reply).
    assert (shard_of(b"a", 2), shard_of(b"b", 2)) == (0, 1)
    for shards, argv in ((1, [b"UNLINK", b"a", b"b"]), (2, [b"UNLINK", b"a"]),
                         (2, [b"UNLINK", b"a", b"b"])):
        s = open_store(None, shards=shards)
        s.set(b"a", b"1")
        reply = s.execute(argv)
        assert "ERR unknown command 'UNLINK'" in repr(reply)
        assert s.execute([b"EXISTS", b"a"]) == 1


# --- open: the layout decisions (docs/SPEC.md §9.1) --------------------------------------


def _two_shard_dir_without_meta(d: Path) -> dict[bytes, bytes]:
    s = open_store(d, shards=2)
    values = {b"k%d" % i: b"v%d" % i for i in range(12)}
    for k, v in values.items():
        s.set(k, v)
    s.close()
    (d / "shards.meta").unlink()  # the files alone now say 2 shards
    return values


@pytest.mark.parametrize("n", [1, 3])
def test_open_without_meta_reshards_from_the_count_the_files_say(tmp_path: Path, n: int) -> None:
    values = _two_shard_dir_without_meta(tmp_path)
    s = open_store(tmp_path, shards=n)
    assert {k: s.get(k) for k in values} == values
    s.close()
    assert (tmp_path / "shards.meta").read_bytes() == b"%d\nkevyhash\n" % n


def test_custom_names_are_used_by_one_shard_and_two_write_meta(tmp_path: Path) -> None:
    names = {"snapshot_name": "x.rdb", "aof_name": "x.aof"}
    d = str(tmp_path / "one")
    assert list(iter_shard_paths(StoreConfig(data_dir=d, **names))) == [
        (f"{d}/x.rdb", f"{d}/x.aof")
    ]
    s = open_store(tmp_path / "one", **names)
    s.set(b"k", b"v")
    assert s.save()
    s.close()
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == ["x.aof", "x.rdb"]
    two = open_store(tmp_path / "two", shards=2, **names)
    two.close()
    assert (tmp_path / "two" / "shards.meta").read_bytes() == b"2\nkevyhash\n"


def test_hardened_open_writes_meta_atomically(tmp_path: Path) -> None:
    from tests.recording_fs import RecordingFS

    rec = RecordingFS(OsFileSystem())
    s = Store.open(cfg(tmp_path), fs=rec, clock=ManualClock(NOW), profile=HARDENED)
    s.close()
    assert ("rename", "shards.meta.tmp", "shards.meta") in rec.mutations()


def test_auto_rewrite_skips_a_shard_not_due_and_goes_on(tmp_path: Path) -> None:
    s = open_store(tmp_path, shards=2, auto_rewrite_min_size=200, auto_rewrite_percentage=1)
    _k0, k1 = _two_shard_keys(s)
    for i in range(20):
        s.set(k1, b"%d" % i)
    s.tick()
    assert _frames(tmp_path / "aof-1.aof") == [(b"SET", k1, b"19")]
    s.close()


def test_abort_save_leaves_a_rewrite_in_flight_alone(tmp_path: Path) -> None:
    s = open_store(tmp_path)
    s.set(b"k", b"v")
    assert s.begin_rewrite(0)
    s.abort_save(0)
    assert s.aof(0).is_rewriting  # type: ignore[union-attr]
    s.write_rewrite(0)
    s.finish_rewrite(0)
    s.close()


def test_a_hardened_save_whose_reset_log_cannot_be_made_raises_that_error(tmp_path: Path) -> None:
    s = open_store(tmp_path, HARDENED)
    s.set(b"k", b"v")
    (tmp_path / "aof-0.aof.reset").mkdir()
    with pytest.raises(IsADirectoryError):
        s.save()
    (tmp_path / "aof-0.aof.reset").rmdir()
    assert s.save()
    s.close()


def test_a_custom_named_single_shard_reopened_with_two_keeps_its_keys(tmp_path: Path) -> None:
    # No shards.meta and no standard file names: the one source is x.rdb + x.aof.
    names = {"snapshot_name": "x.rdb", "aof_name": "x.aof"}
    s = open_store(tmp_path, **names)
    s.set(b"saved", b"1")
    assert s.save()
    s.set(b"logged", b"2")
    s.close()
    assert not (tmp_path / "shards.meta").exists()
    two = open_store(tmp_path, shards=2, **names)
    assert (two.get(b"saved"), two.get(b"logged")) == (b"1", b"2")
    two.close()


@pytest.mark.parametrize("names", [{}, {"snapshot_name": "x.rdb", "aof_name": "x.aof"}])
def test_reopening_the_same_layout_rewrites_a_non_canonical_meta(
    tmp_path: Path, names: dict[str, str]
) -> None:
    # With two shards the names are the standard ones whatever the config says,
    # so shards.meta is written (canonically) even under custom names.
    open_store(tmp_path, shards=2, **names).close()
    (tmp_path / "shards.meta").write_bytes(b"2\r\nkevyhash\r\n")
    open_store(tmp_path, shards=2, **names).close()
    assert (tmp_path / "shards.meta").read_bytes() == b"2\nkevyhash\n"


def test_log_routes_a_two_word_frame_by_its_key(tmp_path: Path) -> None:
    s = open_store(tmp_path, shards=2)
    _k0, k1 = _two_shard_keys(s)
    s.log([b"DEL", k1])
    s.close()
    assert _frames(tmp_path / "aof-1.aof") == [(b"DEL", k1)]


class _OpenFails(OsFileSystem):
    """Counts syncs of aof-0.aof; opening aof-1.aof for append fails while armed."""

    def __init__(self) -> None:
        self.armed = False
        self.syncs = 0

    def open_append(self, path: str, *, create: bool = True):  # type: ignore[no-untyped-def]
        if self.armed and path.endswith("aof-1.aof"):
            raise OSError(5, "Input/output error", path)
        f = super().open_append(path, create=create)
        if not path.endswith("aof-0.aof"):
            return f
        fs = self

        class _Counted:
            def __getattr__(self, name: str) -> object:
                return getattr(f, name)

            def fdatasync(self) -> None:
                fs.syncs += 1
                f.fdatasync()

            def fsync(self) -> None:
                fs.syncs += 1
                f.fsync()

        return _Counted()


def test_an_open_that_fails_on_a_later_log_closes_the_earlier_ones_unsynced(
    tmp_path: Path,
) -> None:
    fs = _OpenFails()
    cfg2 = cfg(tmp_path, shards=2, appendfsync=FsyncPolicy.NO)
    Store.open(cfg2, fs=fs, clock=ManualClock(NOW), profile=HARDENED).close()
    fs.armed, fs.syncs = True, 0
    with pytest.raises(OSError):
        Store.open(cfg2, fs=fs, clock=ManualClock(NOW), profile=HARDENED)
    assert fs.syncs == 0


class _RenameAndUnlinkFail(OsFileSystem):
    """The snapshot rename fails, and so does the cleanup's unlink of `.reset`."""

    def rename(self, src: str, dst: str) -> None:
        if dst.endswith(".rdb"):
            raise OSError(5, "Input/output error", dst)
        super().rename(src, dst)

    def unlink(self, path: str) -> None:
        if path.endswith(".reset"):
            raise OSError(5, "Input/output error", path)
        super().unlink(path)


def test_a_failed_hardened_commit_raises_the_rename_error_not_its_cleanups(
    tmp_path: Path,
) -> None:
    s = Store.open(
        cfg(tmp_path), fs=_RenameAndUnlinkFail(), clock=ManualClock(NOW), profile=HARDENED
    )
    s.set(b"k", b"v")
    with pytest.raises(OSError) as e:
        s.save()
    assert e.value.filename == str(tmp_path / "dump-0.rdb")
