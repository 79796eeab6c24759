"""Which recovered keyspaces are admissible after a crash: the durability contract.

What: a `History` records, in program order, the writes a client sent (argv,
the injected time, whether the reply came back) and the durability events the
store reported (an fsync by policy, a `fsync_aof` barrier, a completed save or
rewrite). `History.judge(recovered, ...)` compares the keyspace a recovery
produced with the admissible set and returns a `Judgement` whose `verdict` is
a `Verdict`; `assert_admissible` raises `ContractViolation` instead.

Why: a crash harness is only as good as its oracle. This one is written from
the promise kevy makes to a client, not from kevy's code: it replays the
acknowledged writes into `model.keyspace.ModelKeyspace` (Redis semantics, an
independent second opinion) and never looks at a file.

Rules:
1. Admissible = the model state after a prefix of the writes, of length at
   least `promised` (every write promised durable, in order) and at most the
   acknowledged writes plus the one write in flight when the power went.
2. Durability by fsync policy (docs/SPEC.md §2.3): `always` - an acknowledged write
   is durable at its ack; `everysec` - at the next `maybe_sync` that synced,
   or a barrier; `no` - only at barriers: `fsync_aof`, a completed rewrite
   (everything acknowledged before its finish), a completed save (everything
   acknowledged before its freeze).
3. Time: each write runs in the model at the time it ran in the store; the
   prefix states are then viewed at the recovery instant, as a client would
   see them (a key whose deadline is at or before it is gone, as
   `kevy-keyspace/1` prints it). Deadlines compare within ±1000 ms (the
   format's own tolerance); scores compare by bits. A stream consumer's
   last-seen time is carried by no log (Redis's AOF and the docs/SPEC.md §4.3 rewrite
   included): replay stamps it with the replay clock, so it is admissible
   from the model's value (its last stamp in that prefix) up to the recovery
   instant, and never earlier or later. Everything else in a stream - entries,
   IDs, groups, consumer names, PEL owners, delivery times and counts - is
   exact.
4. After a recovery the run may go on (`rebase`): the writes that came back
   are the new history, nothing beyond them, and the promise is unchanged
   (data recovered but never synced is still not promised).
5. This module imports nothing from `impl/` (ARCHITECTURE.md arrows); the
   keyspace comes in as a canonical `kevy-keyspace/1` document.
6. Outside damage (`damage`): when something other than the store breaks the
   log (a flipped byte in a closed file), the ops whose frames it destroyed
   lose their promise - the floor drops to the ops before the damaged frame -
   and, until the next write is sent, refusing to open is admissible
   (`REFUSED`) if the refusal - a `RefusalRecord` made from the typed error's
   attributes (path, offset, kind), never read back out of its message - names
   the damaged file and the damaged frame's offset. Writes acknowledged after
   the damage are promised as usual, so a store that accepts the damaged log
   must keep them, and a refusal after them, or naming anything else, stays a
   `RECOVERY_ERROR`.
7. Evictions (maxmemory) are part of the write that caused them (`evicted`):
   clients see the evicted keys gone from then on, and Redis propagates each
   as a DEL, so after a restart they stay gone. The store evicts after the
   write's own log entry, key by key, so only the last write of the recovered
   prefix may come back with part of its evictions (`unevicted`); an earlier write's
   evictions are followed by later entries in the log and must hold.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from model.compare import (
    TTL_TOLERANCE_MS,
    Doc,
    _all_seen_admissible,
    _deadlines_close,
    _split,
    keyspace_diff,
)
from model.crashfs.decisions import Decision
from model.keyspace import ModelKeyspace, NotModelled

__all__ = [
    "TTL_TOLERANCE_MS",
    "ContractViolation",
    "History",
    "Judgement",
    "Op",
    "OutsideModel",
    "Policy",
    "RefusalRecord",
    "Verdict",
    "VerdictRecord",
    "assert_admissible",
    "keyspace_diff",
    "worst",
]

Policy = Literal["always", "everysec", "no"]
POLICIES: tuple[Policy, ...] = ("always", "everysec", "no")

class Verdict(enum.Enum):
    """What one recovery amounts to. `worst()` combines by `PRECEDENCE`."""

    #: the recovered keyspace is the model state after an admissible prefix
    OK = "ok"
    #: it is a prefix state, but shorter than what was promised durable:
    #: acknowledged, promised writes are gone
    LOST_DURABLE = "lost_durable"
    #: it equals no prefix state at all (a write applied twice, out of order,
    #: half applied, or bytes that were never written)
    NO_PREFIX = "no_prefix"
    #: recovery itself failed (the store would not open): nothing comes back
    RECOVERY_ERROR = "recovery_error"
    #: the store refused to open a log an outside event damaged, naming the file
    #: and the damaged frame's offset (rule 6): admissible, the bytes are intact
    REFUSED = "refused"

    @property
    def is_violation(self) -> bool:
        return self not in (Verdict.OK, Verdict.REFUSED)


#: Later overrides earlier when several recoveries are summarised: an error
#: hides everything, garbage is worse than a clean loss, a loss worse than OK;
#: an admissible refusal ranks just above OK (nothing lost, nothing served).
PRECEDENCE: tuple[Verdict, ...] = (
    Verdict.OK,
    Verdict.REFUSED,
    Verdict.LOST_DURABLE,
    Verdict.NO_PREFIX,
    Verdict.RECOVERY_ERROR,
)
_RANK = {v: i for i, v in enumerate(PRECEDENCE)}


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    """The highest-precedence verdict (OK for none)."""
    return max(verdicts, key=_RANK.__getitem__, default=Verdict.OK)


@dataclass(frozen=True)
class RefusalRecord:
    """A store's refusal to open, as data: taken from the typed error's attributes
    (impl/errors.py `DecodeError`, `CorruptLogRefused`) where recovery caught it."""

    path: str
    """The file the error names."""
    offset: int
    """The start of the unit at fault (a frame, a record)."""
    kind: str
    """The error's class name, e.g. `CorruptLogRefused`."""


@dataclass(frozen=True)
class VerdictRecord:
    """A judgement's verdict as data (`Judgement.record`): what was broken and where."""

    verdict: Verdict
    op: int | None
    """The first promised write that did not come back (a loss), else the last
    promised write (None: nothing promised)."""
    promised_at: str | None
    """Where `op` was promised durable ("point 4: fdatasync aof-0.aof, ...")."""
    prefix: int | None
    """The prefix the recovered keyspace equals (None: none, or no keyspace)."""
    lo: int
    hi: int
    """The admissible prefix lengths."""


@dataclass(frozen=True)
class Op:
    """One write a client sent."""

    index: int
    """1-based position in the history."""
    argv: tuple[bytes, ...]
    now_ms: int
    """The injected clock when the store ran it."""
    acked: bool
    """The reply came back to the client."""
    durable_at: str | None = None
    """Where it was first promised durable ("point 4: fdatasync aof-0.aof, ack under
    appendfsync always"), or None if never."""
    chosen: tuple[bytes, ...] | None = None
    """The members an SPOP removed, as the store picked them (model/keyspace rule 7)."""
    evicted: tuple[bytes, ...] = ()
    """Keys the store evicted right after this write (maxmemory): deleted by it."""

    def describe(self) -> str:
        """E.g. "SET k v (op 3)", "SPOP s (op 4, popped a)", "SET k v (op 5, evicted a)"."""
        notes = [f"op {self.index}"]
        if self.chosen is not None:
            notes.append(f"popped {_argv_text(self.chosen)}")
        if self.evicted:
            notes.append(f"evicted {_argv_text(self.evicted)}")
        return f"{_argv_text(self.argv)} ({', '.join(notes)})"


def _argv_text(argv: Sequence[bytes]) -> str:
    parts = []
    for a in argv:
        text = a.decode("latin-1")
        parts.append(text if text and text.isprintable() and " " not in text else repr(text))
    return " ".join(parts)


# --------------------------------------------------------------------------
# The history.


class OutsideModel(ValueError):
    """A write the model cannot apply as the store reported it: an SPOP whose observed
    pick is no pick of the model's set (or none was observed). The store told its
    client something no serial execution of the client's writes explains."""


@dataclass
class History:
    """Writes and durability events of one run, in program order.

    Drive it from a scenario or machine: `begin(argv, now_ms)` before sending
    a write, `ack()` when its reply came back (under `always` that is also
    its durability point), `synced(why)` when an everysec `maybe_sync`
    really synced, `barrier(why, upto)` for fsync_aof / save / rewrite.
    """

    policy: Policy
    ops: list[Op] = field(default_factory=list)
    promised: int = 0
    """The first `promised` ops are promised durable."""
    base: tuple[Op, ...] = ()
    """Writes from earlier runs that recovery brought back (see `rebase`)."""
    refusable: tuple[str, int] | None = None
    """(log path, offset) an outside event damaged, while refusing it is admissible
    (from `damage` until the next `begin`; rule 6)."""

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"fsync policy {self.policy!r} is not one of {POLICIES}")

    # ---- recording -------------------------------------------------------

    @property
    def acked(self) -> int:
        """How many leading ops were acknowledged."""
        n = 0
        for op in self.ops:
            if not op.acked:
                break
            n += 1
        return n

    @property
    def in_flight(self) -> Op | None:
        """The write sent but not acknowledged (the crash hit it), if any."""
        if self.ops and not self.ops[-1].acked:
            return self.ops[-1]
        return None

    def begin(self, argv: Sequence[bytes], now_ms: int) -> int:
        """A write is being sent; returns its op index. The previous one must be acked."""
        if self.in_flight is not None:
            raise ValueError(f"{self.in_flight.describe()} is still in flight")
        op = Op(len(self.ops) + 1, tuple(bytes(a) for a in argv), now_ms, acked=False)
        self.ops.append(op)
        # A refusal now would also withhold this write from the client's view of
        # the store; the damage does not excuse that (rule 6).
        self.refusable = None
        return op.index

    def ack(self, where: str | None = None) -> None:
        """The write in flight got its reply. Under `always` it is now durable."""
        op = self.in_flight
        if op is None:
            raise ValueError("no write in flight to acknowledge")
        self.ops[-1] = replace(op, acked=True)
        if self.policy == "always":
            self._promise(op.index, where or "its ack under appendfsync always")

    def settle(self, applied: bool) -> None:
        """The write in flight failed (its reply was an error) and the store goes on:
        the client sees it `applied` (it stays, acknowledged by what the client can
        read, and is promised durable only by a later ack or barrier) or not (it
        is dropped from the history)."""
        op = self.in_flight
        if op is None:
            raise ValueError("no write in flight to settle")
        if applied:
            self.ops[-1] = replace(op, acked=True)
        else:
            self.ops.pop()

    def evicted(self, keys: Sequence[bytes]) -> None:
        """The last write made the store evict `keys` (maxmemory): they are deleted as
        part of its effect, as every client sees it."""
        if not self.ops:
            raise ValueError("no write to attach an eviction to")
        op = self.ops[-1]
        self.ops[-1] = replace(op, evicted=op.evicted + tuple(bytes(k) for k in keys))

    def chose(self, members: Sequence[bytes]) -> None:
        """The write in flight (or just acknowledged) removed these members, picked by
        the store (an SPOP; model/keyspace rule 7)."""
        if not self.ops:
            raise ValueError("no write to attach a pick to")
        self.ops[-1] = replace(self.ops[-1], chosen=tuple(bytes(m) for m in members))

    def synced(self, why: str) -> None:
        """An everysec `maybe_sync` really synced: every acknowledged write is durable."""
        if self.policy == "everysec":
            self._promise(self.acked, why)

    def barrier(self, why: str, upto: int | None = None) -> None:
        """A durability barrier completed; it covers the first `upto` ops (default: all
        acknowledged). A save covers what was acknowledged before its freeze."""
        self._promise(self.acked if upto is None else min(upto, self.acked), why)

    def damage(self, keep: int, path: str, offset: int) -> None:
        """An outside event is about to damage the log at `path` from byte `offset` on,
        destroying the frames of every op after the first `keep` (rule 6).

        Call it before the damage reaches the disk: from then on a crash image may
        hold it. Those ops are no longer promised (they may or may not come back),
        and refusing to open, naming `path` and `offset`, is admissible until the
        next write is sent.
        """
        if self.in_flight is not None:
            raise ValueError(f"{self.in_flight.describe()} is still in flight")
        if not 0 <= keep <= len(self.ops):
            raise ValueError(f"keep {keep} outside 0..{len(self.ops)}")
        self.promised = min(self.promised, keep)
        self.refusable = (path, offset)

    def mark(self) -> int:
        """The number of acknowledged writes now (a save's freeze)."""
        return self.acked

    def _promise(self, upto: int, why: str) -> None:
        for i in range(self.promised, upto):
            op = self.ops[i]
            self.ops[i] = replace(op, durable_at=why)
        self.promised = max(self.promised, upto)

    def rebase(self, prefix: int, evictions_kept: int | None = None) -> None:
        """Recovery brought back the first `prefix` ops; carry on from there (rule 4).
        `evictions_kept`: the last of them came back with only its first k evictions
        (rule 7, `Judgement.evictions_kept`), which is what clients see from now on."""
        if not 0 <= prefix <= len(self.ops):
            raise ValueError(f"prefix {prefix} outside 0..{len(self.ops)}")
        kept = self.ops[:prefix]
        if evictions_kept is not None and kept:
            kept[-1] = replace(kept[-1], evicted=kept[-1].evicted[:evictions_kept])
        self.ops = [replace(o, acked=True) for o in kept]
        self.promised = min(self.promised, prefix)

    # ---- the admissible set ----------------------------------------------

    def bounds(self) -> tuple[int, int]:
        """(shortest, longest) admissible prefix length."""
        longest = self.acked + (1 if self.in_flight is not None else 0)
        return self.promised, longest

    def states(self, now_ms: int) -> list[Doc]:
        """The model's document after each prefix 0..len(ops), viewed at `now_ms`."""
        model = ModelKeyspace()
        out = [model.to_keyspace_json(now_ms)]
        for op in self.ops:
            self._apply(model, op, evictions=True)
            out.append(model.to_keyspace_json(now_ms))
        return out

    def unevicted(self, now_ms: int) -> dict[int, list[Doc]]:
        """Rule 7: for each prefix whose last write evicted keys, the documents with
        only the first k of those evictions done (k < all) - a store evicts after
        the write, key by key, so a crash or a failed append in between leaves the
        write with part of them. Only the last write's: a later write's log entry
        comes after them."""
        out: dict[int, list[Doc]] = {}
        for i, op in enumerate(self.ops, start=1):
            if op.evicted:
                model = ModelKeyspace()
                for earlier in self.ops[: i - 1]:
                    self._apply(model, earlier, evictions=True)
                self._apply(model, op, evictions=False)
                docs = [model.to_keyspace_json(now_ms)]
                for key in op.evicted[:-1]:
                    model.execute([b"DEL", key], op.now_ms)
                    docs.append(model.to_keyspace_json(now_ms))
                out[i] = docs
        return out

    @staticmethod
    def _apply(model: ModelKeyspace, op: Op, *, evictions: bool) -> None:
        try:
            model.execute(list(op.argv), op.now_ms, chosen=op.chosen)
            for key in op.evicted if evictions else ():
                model.execute([b"DEL", key], op.now_ms)
        except NotModelled as e:
            raise OutsideModel(f"{op.describe()} is outside the model: {e}") from e

    def judge(
        self,
        recovered: Doc | None,
        *,
        now_ms: int,
        crash: str,
        model: str,
        image: int | None = None,
        trace: Sequence[str] = (),
        decisions: Sequence[Decision] = (),
        error: str | None = None,
        refusal: RefusalRecord | None = None,
        states: list[Doc] | None = None,
        case: str | None = None,
    ) -> Judgement:
        """Judge one recovery. `recovered` is its document (None with `error` if the
        store failed to open, and `refusal` if that error was a typed one naming a
        file and offset); `crash` names the crash point; `model`, `image` and
        `decisions` (or, without records, `trace` lines) the crash image; `states`
        may pass `self.states(now_ms)` precomputed."""
        lo, hi = self.bounds()
        if states is None:
            states = self.states(now_ms)
        common = dict(history=self, crash=crash, model=model, image=image,
                      trace=tuple(trace), decisions=tuple(decisions), lo=lo, hi=hi,
                      now_ms=now_ms, case=case, refusal=refusal)
        if recovered is None and self._refusal_admissible(refusal):
            return Judgement(Verdict.REFUSED, prefix=None, recovered=None,
                             expected=states[hi], error=error, **common)
        if recovered is None:
            return Judgement(Verdict.RECOVERY_ERROR, prefix=None, recovered=None,
                             expected=states[hi], error=error or "recovery failed", **common)
        body, deadlines, seen = _split(recovered)

        def fits(doc: Doc) -> bool:
            b, d, s = _split(doc)
            return b == body and _deadlines_close(d, deadlines) and _all_seen_admissible(
                s, seen, now_ms)

        matches = [i for i, doc in enumerate(states) if fits(doc)]
        kept: dict[int, int] = {}
        if not any(lo <= i <= hi for i in matches) and any(op.evicted for op in self.ops):
            for i, docs in self.unevicted(now_ms).items():
                k = next((k for k, d in enumerate(docs) if fits(d)), None)
                if k is not None and i not in matches:
                    kept[i] = k
            matches = sorted({*matches, *kept})
        admissible = [i for i in matches if lo <= i <= hi]
        if admissible:
            # Report the longest admissible match: it is what a reader would call
            # "came back" when several prefixes print the same (e.g. a no-op write).
            # One whose deadlines are exactly the recovered ones first: a run that
            # goes on (`rebase`) must go on from the state the store holds, not one
            # whose TTLs are merely within the tolerance (a lost EXPIRE that moved a
            # deadline by 500 ms would make the key vanish later than the model says).
            exact = [i for i in admissible if _split(states[i])[1] == deadlines]
            best = (exact or admissible)[-1]
            return Judgement(Verdict.OK, prefix=best, recovered=recovered,
                             expected=states[best], evictions_kept=kept.get(best), **common)
        if matches and max(matches) < lo:
            return Judgement(Verdict.LOST_DURABLE, prefix=max(matches), recovered=recovered,
                             expected=states[lo], **common)
        if matches:
            # Longer than anything sent: impossible unless writes were invented.
            return Judgement(Verdict.NO_PREFIX, prefix=None, recovered=recovered,
                             expected=states[hi], **common)
        nearest = min(range(lo, hi + 1),
                      key=lambda i: (len(keyspace_diff(states[i], recovered, 10**6,
                                                       now_ms=now_ms)), -i))
        return Judgement(Verdict.NO_PREFIX, prefix=None, recovered=recovered,
                         expected=states[nearest], **common)

    def _refusal_admissible(self, refusal: RefusalRecord | None) -> bool:
        """Rule 6: the refusal names the damaged log and the damaged frame's offset."""
        if self.refusable is None or refusal is None:
            return False
        return (refusal.path, refusal.offset) == self.refusable


# --------------------------------------------------------------------------
# Judgements and violations.


@dataclass(frozen=True)
class Judgement:
    """The verdict on one recovery, with everything needed to explain it."""

    verdict: Verdict
    prefix: int | None
    """Length of the prefix the recovered keyspace equals (None: no prefix / error)."""
    recovered: Doc | None
    expected: Doc
    """The state compared against: the promised one for a loss, the nearest
    admissible one otherwise."""
    history: History
    crash: str
    """E.g. "before point 7: rename aof-0.aof.rewrite → aof-0.aof"."""
    model: str
    image: int | None
    trace: tuple[str, ...]
    """The crash image's decisions as lines, for a caller that has no records
    (empty when `decisions` are given: `lines` renders those)."""
    lo: int
    hi: int
    now_ms: int
    error: str | None = None
    case: str | None = None
    evictions_kept: int | None = None
    """Rule 7: when the match is write `prefix` with only its first k evictions, k."""
    decisions: tuple[Decision, ...] = ()
    """The crash image's decisions as records (model/crashfs/decisions.py)."""
    refusal: RefusalRecord | None = None
    """The typed refusal behind `error`, if recovery raised one."""

    @property
    def lines(self) -> tuple[str, ...]:
        """The crash image's decisions as printed."""
        return self.trace or tuple(str(d) for d in self.decisions)

    def record(self) -> VerdictRecord:
        """The verdict as data: which write the promise was about, and where it was made."""
        op = self.promised_op
        return VerdictRecord(self.verdict, None if op is None else op.index,
                             None if op is None else op.durable_at, self.prefix, self.lo,
                             self.hi)

    @property
    def ok(self) -> bool:
        """Admissible: OK, or a refusal rule 6 allows."""
        return not self.verdict.is_violation

    @property
    def promised_op(self) -> Op | None:
        """The first promised write that did not come back (for a loss), else the last
        promised write."""
        ops = self.history.ops
        if self.verdict is Verdict.LOST_DURABLE and self.prefix is not None:
            return ops[self.prefix]
        return ops[self.lo - 1] if self.lo else None

    @property
    def diff(self) -> list[str]:
        if self.recovered is None:
            return []
        return keyspace_diff(self.expected, self.recovered, now_ms=self.now_ms)

    def explain(self) -> str:
        """One readable paragraph: what happened, why it matters, where, how to replay."""
        n = len(self.history.ops)
        where = f"after a crash {self.crash}"
        img = "drawn image" if self.image is None else f"image {self.image}"
        trace = "; ".join(self.lines) or "no decisions"
        if self.verdict is Verdict.OK:
            return (f"OK: {where}, {img} ({self.model}) recovered the state after op "
                    f"{self.prefix} of {n} (admissible {self.lo}..{self.hi}).")
        if self.verdict is Verdict.REFUSED:
            return (f"REFUSED (admissible): {where}, {img} ({self.model}) refused to open "
                    f"the log an outside event damaged, naming it and the damaged frame: "
                    f"{self.error}")
        op = self.promised_op
        if op is not None:
            promise = (f"{op.describe()} was promised durable at {op.durable_at}, and every "
                       f"write up to op {self.lo} with it")
        else:
            promise = "nothing was promised durable yet"
        if self.verdict is Verdict.RECOVERY_ERROR:
            what = f"but the store failed to open: {self.error}"
        elif self.verdict is Verdict.LOST_DURABLE:
            what = (f"but recovery came back with the state after op {self.prefix} of {n}, "
                    f"losing {self.lo - (self.prefix or 0)} promised write(s)")
        else:
            what = (f"but the recovered keyspace matches no prefix of the {n} write(s) "
                    f"(admissible: after op {self.lo}..{self.hi})")
        diff = "; ".join(self.diff) or "no keyspace"
        replay = f" Replay: pytest tests/test_corpus.py -k {self.case}." if self.case else ""
        return (f"{self.verdict.value.upper()}: {promise}, {what} {where}. "
                f"Crash {img} ({self.model}): {trace}. "
                f"Expected vs recovered: {diff}.{replay}")


class ContractViolation(AssertionError):
    """A recovery broke the durability contract; `judgement` holds the parts."""

    def __init__(self, judgement: Judgement) -> None:
        super().__init__(judgement.explain())
        self.judgement = judgement
        self.verdict = judgement.verdict


def assert_admissible(history: History, recovered: Doc | None, **where: Any) -> Judgement:
    """`history.judge(...)`, raising `ContractViolation` unless the verdict is OK."""
    __tracebackhide__ = True
    judgement = history.judge(recovered, **where)
    if not judgement.ok:
        raise ContractViolation(judgement)
    return judgement
