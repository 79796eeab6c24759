"""The durability contract (model/contract.py) on hand-written histories."""

from __future__ import annotations

import pytest

from model.contract import (
    ContractViolation,
    History,
    RefusalRecord,
    Verdict,
    assert_admissible,
    keyspace_diff,
    worst,
)
from model.keyspace import ModelKeyspace

T = 1_700_000_000_000


def doc_after(*ops: tuple[bytes, ...], now: int = T) -> dict:
    m = ModelKeyspace()
    for argv in ops:
        m.execute(list(argv), T)
    return m.to_keyspace_json(now)


def history(policy: str = "always", n: int = 3, *, ack_last: bool = True) -> History:
    h = History(policy)  # type: ignore[arg-type]
    for i in range(n):
        h.begin((b"SET", b"k%d" % i, b"v"), T)
        if i < n - 1 or ack_last:
            h.ack(f"point {i + 1}")
    return h


def judge(h: History, doc: dict | None, **kw: object):
    return h.judge(doc, now_ms=T, crash="before point 9: fsync x", model="posix", **kw)


SETS = [(b"SET", b"k%d" % i, b"v") for i in range(3)]


def test_always_promises_every_acked_write() -> None:
    h = history("always")
    assert h.bounds() == (3, 3)
    assert judge(h, doc_after(*SETS)).verdict is Verdict.OK
    j = judge(h, doc_after(*SETS[:2]))
    assert j.verdict is Verdict.LOST_DURABLE and j.prefix == 2
    assert j.promised_op is not None and j.promised_op.index == 3


def test_in_flight_write_may_or_may_not_survive() -> None:
    h = history("always", ack_last=False)
    assert h.bounds() == (2, 3)
    assert judge(h, doc_after(*SETS[:2])).ok
    assert judge(h, doc_after(*SETS)).ok


def test_everysec_and_no_promise_only_at_syncs_and_barriers() -> None:
    h = history("everysec")
    assert h.bounds() == (0, 3)
    h.synced("point 5: fdatasync")
    assert h.bounds() == (3, 3)
    h = history("no")
    h.synced("ignored under no")
    assert h.bounds() == (0, 3)
    h.barrier("save completed", upto=2)
    assert h.bounds() == (2, 3)
    assert h.ops[1].durable_at == "save completed" and h.ops[2].durable_at is None


def test_a_state_that_is_no_prefix_is_no_prefix() -> None:
    h = history("no")
    doubled = doc_after((b"RPUSH", b"l", b"a"), (b"RPUSH", b"l", b"a"))
    h2 = History("no")
    h2.begin((b"RPUSH", b"l", b"a"), T)
    h2.ack()
    assert judge(h2, doubled).verdict is Verdict.NO_PREFIX
    assert judge(h, None, error="boom").verdict is Verdict.RECOVERY_ERROR


def test_time_is_judged_at_the_recovery_instant() -> None:
    h = History("always")
    h.begin((b"SET", b"a", b"1"), T)
    h.ack()
    h.begin((b"PEXPIRE", b"a", b"100"), T)
    h.ack()
    later = T + 5000
    gone = {"format": "kevy-keyspace/1", "keys": []}
    assert h.judge(gone, now_ms=later, crash="end", model="posix").ok
    assert not h.judge(gone, now_ms=T, crash="end", model="posix").ok


def test_deadlines_compare_within_tolerance_and_scores_by_bits() -> None:
    h = History("always")
    h.begin((b"SET", b"a", b"1"), T)
    h.ack()
    h.begin((b"PEXPIRE", b"a", b"10000"), T)
    h.ack()
    doc = doc_after((b"SET", b"a", b"1"), (b"PEXPIRE", b"a", b"10000"))
    doc["keys"][0]["expire_at_ms"] += 999
    assert judge(h, doc).ok
    doc["keys"][0]["expire_at_ms"] += 2
    assert not judge(h, doc).ok
    z = History("always")
    z.begin((b"ZADD", b"z", b"0", b"m"), T)
    z.ack()
    neg = {"format": "kevy-keyspace/1",
           "keys": [{"key": "z", "type": "zset", "expire_at_ms": None, "value": [["m", -0.0]]}]}
    assert not judge(z, neg).ok


def test_the_prefix_a_run_goes_on_from_has_the_recovered_deadlines() -> None:
    # SET a 1 PX 1500, then PEXPIRE a 2000, neither promised (`no`): a recovery that
    # lost the PEXPIRE holds deadline T+1500, which is within the tolerance of both
    # prefixes. The judged prefix is the one the store now holds, or a run that
    # goes on (rebase) would expect `a` to live 500 ms longer than it does.
    h = History("no")
    h.begin((b"SET", b"a", b"1", b"PX", b"1500"), T)
    h.ack()
    h.begin((b"PEXPIRE", b"a", b"2000"), T)
    h.ack()
    lost_pexpire = doc_after((b"SET", b"a", b"1", b"PX", b"1500"))
    j = judge(h, lost_pexpire)
    assert j.ok and j.prefix == 1
    both = doc_after((b"SET", b"a", b"1", b"PX", b"1500"), (b"PEXPIRE", b"a", b"2000"))
    assert judge(h, both).prefix == 2


def test_rebase_keeps_what_came_back_and_the_promise() -> None:
    h = history("no")
    h.barrier("fsync_aof", upto=1)
    h.rebase(2)
    assert len(h.ops) == 2 and h.promised == 1 and h.in_flight is None


def test_violation_explains_itself_in_one_paragraph() -> None:
    h = history("always")
    with pytest.raises(ContractViolation) as info:
        assert_admissible(h, doc_after(*SETS[:1]), now_ms=T,
                          crash="before point 7: rename aof-0.aof.rewrite → aof-0.aof",
                          model="posix", image=3, trace=["create aof-0.aof: lost"],
                          case="demo")
    text = str(info.value)
    assert "\n" not in text
    for part in ("LOST_DURABLE", "SET k1 v (op 2)", "point 2", "state after op 1 of 3",
                 "point 7: rename aof-0.aof.rewrite → aof-0.aof", "image 3 (posix)",
                 "create aof-0.aof: lost", "missing key 'k1'", "-k demo"):
        assert part in text, part
    assert info.value.verdict is Verdict.LOST_DURABLE


def test_precedence() -> None:
    assert worst([]) is Verdict.OK
    assert worst([Verdict.REFUSED, Verdict.OK]) is Verdict.REFUSED
    assert worst([Verdict.LOST_DURABLE, Verdict.REFUSED]) is Verdict.LOST_DURABLE
    assert worst([Verdict.LOST_DURABLE, Verdict.OK]) is Verdict.LOST_DURABLE
    assert worst([Verdict.NO_PREFIX, Verdict.LOST_DURABLE]) is Verdict.NO_PREFIX
    assert worst([Verdict.RECOVERY_ERROR, Verdict.NO_PREFIX]) is Verdict.RECOVERY_ERROR


def test_misuse_is_refused() -> None:
    with pytest.raises(ValueError, match="fsync policy"):
        History("sometimes")  # type: ignore[arg-type]
    h = History("always")
    h.begin((b"SET", b"a", b"1"), T)
    with pytest.raises(ValueError, match="still in flight"):
        h.begin((b"SET", b"b", b"1"), T)


# -- outside damage (rule 6) ------------------------------------------------------

LOG = "/data/aof-0.aof"
REFUSAL = (f"CorruptLogRefused: {LOG}: refusing to open the log: corrupt frame at offset 36 "
           "(byte 40): expected bulk string")


def test_damage_excuses_exactly_the_destroyed_writes() -> None:
    h = history("always")
    h.damage(1, LOG, 36)
    assert h.bounds() == (1, 3)
    assert judge(h, doc_after(*SETS[:1])).ok  # replay stopped at the damaged frame
    assert judge(h, doc_after(*SETS)).ok  # the damage had not reached the disk
    assert judge(h, doc_after()).verdict is Verdict.LOST_DURABLE  # op 1 was not damaged


REFUSED_AT = RefusalRecord(LOG, 36, "CorruptLogRefused")


def test_a_refusal_naming_the_damage_is_admissible_until_the_next_write() -> None:
    h = history("always")
    refused = dict(error=REFUSAL, refusal=REFUSED_AT)
    assert judge(h, None, **refused).verdict is Verdict.RECOVERY_ERROR  # no damage yet
    h.damage(1, LOG, 36)
    j = judge(h, None, **refused)
    assert j.verdict is Verdict.REFUSED and j.ok and not j.verdict.is_violation
    assert "REFUSED (admissible)" in j.explain() and "offset 36" in j.explain()
    assert j.refusal == REFUSED_AT
    # Anything else that fails to open is still a failure: the record decides, never
    # the message (a message naming the damage without a record is not a refusal).
    for other in (None, RefusalRecord(LOG, 360, "CorruptLogRefused"),
                  RefusalRecord("/data/aof-1.aof", 36, "CorruptLogRefused"),
                  RefusalRecord("/data", 36, "CorruptLogRefused")):
        assert judge(h, None, error=REFUSAL, refusal=other).verdict is Verdict.RECOVERY_ERROR
    # The store opened the damaged log and took a write: refusing now withholds it.
    h.rebase(1)
    h.begin((b"SET", b"after", b"v"), T)
    h.ack("point 12")
    assert judge(h, None, **refused).verdict is Verdict.RECOVERY_ERROR


def test_writes_acknowledged_after_the_damage_are_promised() -> None:
    h = history("always")
    h.damage(1, LOG, 36)
    h.rebase(1)
    h.begin((b"SADD", b"s", b"m"), T)
    h.ack("point 12")
    after = (b"SADD", b"s", b"m")
    assert judge(h, doc_after(SETS[0], after)).ok
    j = judge(h, doc_after(SETS[0]))
    assert j.verdict is Verdict.LOST_DURABLE and j.prefix == 1


def test_damage_misuse_is_refused() -> None:
    h = history("always", ack_last=False)
    with pytest.raises(ValueError, match="still in flight"):
        h.damage(1, LOG, 36)
    with pytest.raises(ValueError, match="keep 4 outside"):
        history("always").damage(4, LOG, 36)


# -- stream consumers' last-seen times (rule 3) -----------------------------------

LATER = T + 5_000  # the recovery instant of the stream tests
CLAIM = (b"XCLAIM", b"x", b"g", b"c", b"0", b"1-1", b"RETRYCOUNT", b"1", b"FORCE", b"JUSTID")
STREAM = [(b"XADD", b"x", b"1-1", b"f", b"v"), (b"XGROUP", b"CREATE", b"x", b"g", b"0"), CLAIM]


def stream_history(*later: tuple[int, tuple[bytes, ...]]) -> History:
    """STREAM at T, then each (time, argv) of `later`, all acknowledged under always."""
    h = History("always")
    for at, argv in [*((T, a) for a in STREAM), *later]:
        h.begin(argv, at)
        h.ack()
    return h


def recovered_stream(*, seen: int, delivery: int = T, count: int = 1) -> dict:
    """STREAM's state as a recovery might print it: consumer c last seen at `seen`,
    its PEL row for 1-1 delivered at `delivery` `count` times."""
    doc = doc_after(*STREAM, now=LATER)
    group = doc["keys"][0]["value"]["groups"][0]
    assert group["consumers"] == [["c", T]] and group["pel"] == [["1-1", "c", T, 1]]
    group["consumers"] = [["c", seen]]
    group["pel"] = [["1-1", "c", delivery, count]]
    return doc


def judge_later(h: History, doc: dict):
    return h.judge(doc, now_ms=LATER, crash="end", model="process-crash")


def test_a_consumer_seen_later_than_its_last_stamp_up_to_the_recovery_is_admissible() -> None:
    """No log carries a consumer's seen-time: replay stamps it with the replay clock."""
    h = stream_history()
    for seen in (T, T + 1, LATER - 1, LATER):
        j = judge_later(h, recovered_stream(seen=seen))
        assert j.verdict is Verdict.OK and j.prefix == 3, seen


def test_a_consumer_seen_before_its_stamp_or_after_the_recovery_is_a_violation() -> None:
    h = stream_history()
    for seen in (T - 1, LATER + 1):
        j = judge_later(h, recovered_stream(seen=seen))
        assert j.verdict is Verdict.NO_PREFIX, seen
        assert j.diff == [f"key 'x': group 'g' consumer 'c' last seen at {seen}, expected {T} "
                          f"(or later, up to the recovery at {LATER})"], j.diff
    # The bound is the prefix's own: once op 4 (at T+3000) stamped c again, a state
    # holding op 4's effect cannot show c seen before T+3000, though op 3's could.
    h = stream_history((T + 3_000, (b"XCLAIM", b"x", b"g", b"c", b"0", b"1-1",
                                    b"TIME", b"%d" % T, b"RETRYCOUNT", b"2", b"FORCE",
                                    b"JUSTID")))
    assert judge_later(h, recovered_stream(seen=T + 3_000, count=2)).ok
    assert judge_later(h, recovered_stream(seen=T + 2_999, count=2)).verdict \
        is Verdict.NO_PREFIX
    # Without a recovery instant (a bare diff) only the exact time matches.
    assert keyspace_diff(doc_after(*STREAM), recovered_stream(seen=T + 1)) != []


def test_everything_else_in_a_stream_stays_exact() -> None:
    h = stream_history()
    seen = LATER  # admissible on its own (above)
    for doc in (recovered_stream(seen=seen, delivery=T + 1),
                recovered_stream(seen=seen, delivery=LATER),
                recovered_stream(seen=seen, count=2)):
        j = judge_later(h, doc)
        assert j.verdict is Verdict.NO_PREFIX
        assert j.diff and j.diff[0].startswith("key 'x': expected stream"), j.diff
    renamed = recovered_stream(seen=T)
    renamed["keys"][0]["value"]["groups"][0]["consumers"] = [["d", T]]
    assert judge_later(h, renamed).verdict is Verdict.NO_PREFIX
