"""Drawing lifecycle programs (harness/lifecycle.py) from one seeded `random.Random`.

What: `generate(rng)` draws a configuration and a list of steps, every dimension
from `rng` so the same seed gives the same program; `fill_choices` then runs the
program once and records each crash step's sampled image, so the program replays
exactly (the image space depends on the log written so far).

Why a module of its own: the machine (lifecycle.py) says what a step means and
judges it; this module says what the hunt draws, which is what widens when the
hunt is made to reach further.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from harness.lifecycle import (
    CONFIGS,
    DAMAGE,
    EVICTIONS,
    FAULT_KINDS,
    META_DAMAGE,
    MODELS,
    POLICIES,
    Failure,
    Program,
    Step,
    _Machine,
    _Stop,
)
from harness.scenarios import START_MS
from impl.profile import Profile

__all__ = ["fill_and_run", "fill_choices", "generate"]

# --------------------------------------------------------------------------
# Generation: every dimension drawn from one seeded `random.Random`.

_STRINGS = ("a", "b", "c")
#: every key a program writes, one per value type's verbs (strings a-c, n)
_KEYS = ("a", "b", "c", "l", "s", "h", "z", "x", "n")
_VALUES = ("1", "2", "x")
_SCORES = ("1", "2.5", "1e-20")
_TICKS = (1, 999, 1000, 60_000, 3_600_000, 86_400_000, 3 * 86_400_000)


def _ttl_key(rng: random.Random) -> str:
    """Any key, of any type: a deadline on a list or a stream expires like one on a
    string, and a later RPUSH or XADD recreates the key (F43 was found on APPEND)."""
    return rng.choice(_KEYS)


def _del_keys(rng: random.Random, g: dict[str, Any]) -> list[str]:
    """1-3 keys, mostly from those the program wrote so far: a DEL of keys that
    exist is the one that logs frames (and can be torn between them, F41)."""
    written: list[str] = g["keys"]
    pool = written if len(written) >= 2 and rng.random() < 0.75 else _KEYS
    return rng.sample(pool, rng.randint(1, min(3, len(pool))))


def _written(step: Step, g: dict[str, Any]) -> Step:
    if step[0] == "w" and len(step) > 2 and step[1] not in ("DEL", "FLUSHALL", "FLUSHDB"):
        key = step[3] if step[1] == "XGROUP" else step[2]
        if key not in g["keys"]:
            g["keys"].append(key)
    return step


def _write(rng: random.Random, g: dict[str, Any]) -> Step:
    return _written(_draw_write(rng, g), g)


def _draw_write(rng: random.Random, g: dict[str, Any]) -> Step:
    kind = rng.choice(
        (
            "set",
            "set",
            "setpx",
            "del",
            "del",
            "incr",
            "rpush",
            "sadd",
            "sadd",
            "spop",
            "hset",
            "expire",
            "zadd",
            "xadd",
            "xgroup",
            "xclaim",
            "xack",
            "flushall",
            "more",
            "more",
            "more",
        )
    )
    if kind == "more":
        return _more(rng, g)
    k, v = rng.choice(_STRINGS), rng.choice(_VALUES)
    if kind == "set":
        return ["w", "SET", k, v]
    if kind == "setpx":
        return ["w", "SET", k, v, "PX", str(rng.choice((1500, 100_000)))]
    if kind == "del":
        return ["w", "DEL", *_del_keys(rng, g)]
    if kind == "incr":
        return ["w", "INCRBY", "n", str(rng.randint(1, 3))]
    if kind == "rpush":
        return ["w", "RPUSH", "l", v]
    if kind == "sadd":
        return ["w", "SADD", "s", *rng.sample(_VALUES, rng.randint(1, 3))]
    if kind == "spop":
        return ["w", "SPOP", "s", *([str(rng.randint(0, 2))] if rng.random() < 0.5 else [])]
    if kind == "hset":
        return ["w", "HSET", "h", "f" + v, v]
    if kind == "expire":
        return ["w", "EXPIRE", _ttl_key(rng), str(rng.choice((2, 100)))]
    if kind == "zadd":
        return ["w", "ZADD", "z", rng.choice(_SCORES), v]
    if kind == "xadd":
        g["xid"] += 1
        return ["w", "XADD", "x", f"{g['xid']}-1", "f", v]
    if kind == "xgroup":
        return ["w", "XGROUP", "CREATE", "x", "g", "0", "MKSTREAM"]
    last = f"{max(1, g['xid'])}-1"
    if kind == "xclaim":
        # A pending entry with a delivery time and count: durable stream state.
        # FORCE claims an entry no one read (the machine has no XREADGROUP), which
        # is what gives a pending row a delivery time replay must not re-stamp (F16).
        opts = rng.choice(
            ([], ["RETRYCOUNT", "3"], ["FORCE"], ["RETRYCOUNT", "1", "FORCE", "JUSTID"])
        )
        return ["w", "XCLAIM", "x", "g", "c", "0", last, *opts]
    if kind == "xack":
        return ["w", "XACK", "x", "g", last]
    return ["w", "FLUSHALL"]


def _more(rng: random.Random, g: dict[str, Any]) -> Step:
    """The rest of the live verb set (docs/SPEC.md §5), on the same few keys, so each
    meets existing values, types and deadlines. Not INCRBYFLOAT or XTRIM: their
    kevy-1.17 results differ from Redis's by design in ways hardened keeps
    (model/keyspace/differences.py), which the contract would read as loss."""
    k, v = rng.choice(_STRINGS), rng.choice(_VALUES)
    # Now, or odd instants: a command at exactly a key's deadline is where kevy and
    # Redis disagree by design (model/keyspace/differences.py, the expiry boundary).
    at_ms = START_MS + rng.choice((0, 4_321, 95_000_007))
    return rng.choice(
        (
            ["w", "PERSIST", _ttl_key(rng)],
            ["w", "PEXPIRE", _ttl_key(rng), str(rng.choice((500, 1500, 100_000)))],
            ["w", "PEXPIREAT", _ttl_key(rng), str(at_ms)],
            ["w", "EXPIREAT", _ttl_key(rng), str(at_ms // 1000)],
            ["w", "GETSET", k, v],
            ["w", "GETDEL", k],
            ["w", "APPEND", k, v],
            ["w", "DECR", "n"],
            ["w", "HINCRBY", "h", "fn", str(rng.randint(-2, 2))],
            ["w", "HDEL", "h", "f" + v, "f" + rng.choice(_VALUES)],
            ["w", "LPUSH", "l", v],
            ["w", "LPOP", "l"],
            ["w", "RPOP", "l", str(rng.randint(1, 2))],
            ["w", "LREM", "l", "0", v],
            ["w", "LTRIM", "l", "0", "1"],
            ["w", "LSET", "l", "0", v],
            ["w", "SREM", "s", v],
            ["w", "ZREM", "z", v],
            ["w", "ZINCRBY", "z", rng.choice(("1", "2.5", "-1")), v],
            ["w", "XDEL", "x", f"{max(1, g['xid'])}-1"],
            ["w", "FLUSHDB"],
        )
    )


def _shard_count(rng: random.Random, shards: tuple[int, ...]) -> int:
    """One shard a third of the time (the embedded default, and the only count whose
    files take the configured names), else any count of `shards`."""
    return shards[0] if rng.random() < 1 / 3 else rng.choice(shards)


def _plain(rng: random.Random, g: dict[str, Any], shards: tuple[int, ...]) -> Step:
    r = rng.random()
    if r < 0.60:
        return _write(rng, g)
    if r < 0.68:
        return ["tick", rng.choice(_TICKS)]
    if r < 0.70:
        return ["reap"]
    if r < 0.72:
        return ["cron", rng.choice((1000, 1700, 5000))]  # never onto a 1500 ms TTL
    if r < 0.77:
        return ["fsync"]
    if r < 0.81:
        return ["save"]
    if r < 0.84:
        # Longer than the contract's 1000 ms deadline tolerance, or none (F3).
        return ["bgsave", rng.choice((0, 5000)), _during(rng, g)]
    if r < 0.88:
        return ["rewrite"]
    if r < 0.91:
        return ["bgrewrite", _during(rng, g), _during(rng, g)]
    if r < 0.93:
        kind = rng.choice([*sorted(DAMAGE), *sorted(META_DAMAGE), "flip", "concat"])
        # A flip names its frame as a fraction of the log's frames (known at run time).
        return ["damage", kind, round(rng.random(), 3)] if kind == "flip" else ["damage", kind]
    if r < 0.945:
        inner: list[Step] = []
        for _ in range(rng.randint(1, 3)):
            what = _write(rng, g) if rng.random() < 0.6 else [rng.choice(("save", "rewrite"))]
            inner.append([rng.choice(("a", "b")), what])
        return ["twin", inner]
    if r < 0.955 and g["server"]:
        # Rule 14: the server in cluster mode re-shards the directory by slots, and
        # the store's next open re-shards it back (the other routing variant).
        return ["server", rng.choice(shards)]
    reopen: Step = ["reopen", _shard_count(rng, shards)]
    if rng.random() < 0.4:
        # Rule 12: another reaper mode, or (under `no` only) the AOF toggled.
        if g["toggle"] and rng.random() < 0.5:
            reopen.append({"aof_enabled": rng.choice((True, False))})
        else:
            reopen.append({"reaper": rng.choice(("background", "manual"))})
    return reopen


def _during(rng: random.Random, g: dict[str, Any]) -> list[Step]:
    """0-2 client writes made while a save or rewrite is between its phases."""
    return [_write(rng, g) for _ in range(rng.choice((0, 1, 1, 2)))]


#: steps whose persistence points are few: a write's append and its sync (a few more
#: across shards or with an intent), a sync, a reaper pass
_SHORT_STEPS = frozenset({"w", "fsync", "tick", "reap", "cron"})


#: steps whose fallible calls are many: opens (a re-shard in them), saves, rewrites
_LONG_STEPS = frozenset({"reopen", "server", "save", "bgsave", "rewrite", "bgrewrite"})

#: the calls a point can name by op: a cut lands on a persistence point, a failure
#: on any fallible call (a write too)
_CUT_OPS = ("create", "truncate", "fsync", "fdatasync", "fsync_dir", "rename", "unlink")
#: a failing sync loses data silently (the pages it dropped still read back: F25,
#: F49), so syncs are drawn twice as often as other calls; opening a file fails too
#: (F53: the reopen of a log a rewrite just renamed into place)
_FAIL_OPS = ("write", "open", *_CUT_OPS, "fsync", "fdatasync", "fsync_dir")


def _point(rng: random.Random, inner: Step, ops: tuple[str, ...] = _CUT_OPS) -> int | str:
    """Which persistence point (or fallible call) of `inner` to hit. Half the time
    by op, `"rename:1"` (the step's first rename, wherever it falls: a save's
    commit, F5, or its failure, F17); else by number: mostly an early one, but up
    to 64 - a re-shard of 16 shards lies far into a step. A short step gets a
    number it has: a point past its last one cuts the power after it, or fails no
    call at all, which drew nothing (F41's torn DEL is the second point of its
    write)."""
    if rng.random() < 0.5:
        # A long step (a save, a reopen of many shards) repeats each op per file.
        most = 4 if inner[0] in _SHORT_STEPS else 8
        op = rng.choice(ops)
        if op == "open" and inner[0] not in ("reopen", "server"):
            # A step opens one or two files (a rewrite: its `.rewrite`, then the log
            # it renamed into place, F53); only an open of the store opens many.
            k = rng.randint(1, 2)
        else:
            k = 1 if rng.random() < 0.6 else rng.randint(2, most)
        at = f"{op}:{k}"
        if ops is _FAIL_OPS and inner[0] in ("reopen", "server") and rng.random() < 0.7:
            # Counted from the open on: past the close's syncs, at the logs it creates
            # (F49: a new log's MAGIC whose sync fails).
            at = "open/" + at
        return at
    if inner[0] in _SHORT_STEPS:
        return rng.randint(1, 3) if rng.random() < 0.7 else rng.randint(1, 16)
    return rng.randint(1, 8) if rng.random() < 0.7 else rng.randint(1, 64)


def generate(
    rng: random.Random,
    *,
    max_steps: int = 24,
    shards: tuple[int, ...] = (1, 2, 3, 4, 10, 16),
    crash_rate: float = 0.15,
    fault_rate: float = 0.08,
    evict_rate: float = 0.2,
    config_rate: float = 0.2,
) -> Program:
    """A program drawn from `rng`. Crash steps get their image choices at run time
    (`fill_choices`), since the image space depends on the log so far.

    Every policy runs with every shard count, with or without a log: the contract
    is one log's (a power cut loses a suffix of the acknowledged writes, never a
    hole), which kevy 1.17's independent per-shard files break (F44, F45, F46).
    """
    program = Program(rng.choice(POLICIES), _shard_count(rng, shards))
    if rng.random() < evict_rate:
        # Small enough that a handful of keys overflow it (impl/store.py `_approx_size`).
        program.maxmemory = rng.choice((300, 800))
        program.eviction = rng.choice(EVICTIONS)
    for config in CONFIGS:
        # Each dimension on its own: file names with auto-rewrite and the
        # background reaper is one configuration too.
        # (A store without a log is drawn less: its programs judge only saves.)
        if rng.random() < (config_rate / 2 if "aof_enabled" in config else config_rate):
            program.config.update(config)
    if program.config.get("aof_enabled") is False:
        # No log: nothing is durable at an ack (rule 9), whatever the policy says.
        program.policy = "no"
    # The AOF is toggled only under `no` (rule 12).
    g: dict[str, Any] = {"xid": 0, "toggle": int(program.policy == "no"), "keys": [],
                         "server": "aof_name" not in program.config}
    for _ in range(rng.randint(2, max_steps)):
        step = _plain(rng, g, shards)
        if step[0] in ("damage", "twin"):
            pass  # an outside event / a second process: neither failed nor cut short
        elif rng.random() < (fault_rate * 3 if step[0] in _LONG_STEPS else fault_rate):
            # A long step makes tens of fallible calls where a write makes one or two,
            # so it fails more often (F53 is a rewrite's reopen, F49 an open's sync).
            step = ["fault", step, _point(rng, step, _FAIL_OPS), rng.choice(FAULT_KINDS)]
        elif rng.random() < crash_rate:
            step = _crash(rng, step)
        program.steps.append(step)
    if _left_unjudged(program.steps) or not any(s[0] == "crash" for s in program.steps):
        # A failed call or a killed process leaves state only a power cut shows - a
        # log whose head a failed sync dropped (F49), writes to a file a rename
        # unlinked (F53), pages the dead process never synced (F51) - so a program
        # whose last such step no power cut follows ends in one; and every program
        # ends in a crash somewhere, or it judges only reopens. The closing crash is
        # a power cut: a process crash there would itself leave such state unjudged.
        step = _plain(rng, g, shards)
        while step[0] in ("damage", "twin"):
            step = _plain(rng, g, shards)
        cut = _crash(rng, step)
        cut[4] = rng.choice([m for m in MODELS if m != "process-crash"])
        program.steps.append(cut)
    return program


def _left_unjudged(steps: list[Step]) -> bool:
    """A failed call or a process crash after the last power cut."""
    last_cut = last_left = -1
    for i, s in enumerate(steps):
        if s[0] == "crash" and s[4] != "process-crash":
            last_cut = i
        elif s[0] in ("fault", "crash"):
            last_left = i
    return last_left > last_cut


def _crash(rng: random.Random, inner: Step) -> Step:
    """A power cut at a drawn point of `inner`; its image is chosen by `fill_choices`."""
    when = rng.choice(("before", "after"))
    return ["crash", inner, _point(rng, inner), when, rng.choice(MODELS), None]


def fill_choices(program: Program, profile: Profile, rng: random.Random) -> Program:
    """Fix every crash step's image by sampling it with `rng` on the actual log, so the
    program replays exactly. Steps after the first failure keep None (dropped)."""
    return fill_and_run(program, profile, rng)[0]


def fill_and_run(
    program: Program, profile: Profile, rng: random.Random
) -> tuple[Program, Failure | None]:
    """`fill_choices`, and the first failure of that run: the run that samples the
    images is the run `execute` replays from them (tests/test_lifecycle_machine.py
    holds the two to the same verdict), so the hunt runs each program once."""
    out = Program(program.policy, program.shards, [], program.maxmemory, program.eviction,
                  dict(program.config))
    m = _Machine(program, profile)
    for i, step in enumerate(program.steps):
        if m.ended:
            break
        m.index = i
        if step[0] == "crash" and step[5] is None:
            taken: list[tuple[int, ...]] = []

            def sample(
                choices: Sequence[int] | None, model: Any, _t: list[Any] = taken, _m: _Machine = m
            ) -> Any:
                image = _m.fs.sample_image(rng, model)
                assert image.choices is not None
                _t.append(image.choices)
                return image

            m.fs.chosen_image = sample  # type: ignore[method-assign]
            try:
                m.step(step)
            except _Stop as stop:
                out.steps.append([*step[:5], list(taken[0]) if taken else []])
                return out, stop.failure
            step = [*step[:5], list(taken[0]) if taken else []]
        else:
            try:
                m.step(step)
            except _Stop as stop:
                out.steps.append(step)
                return out, stop.failure
        out.steps.append(step)
    m.close()
    return out, None
