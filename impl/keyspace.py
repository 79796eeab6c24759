"""The in-memory keyspace: six value types, TTL deadlines, lazy expiry.

Why this shape: snapshots, the rewrite, replay and the canonical JSON all walk
the same values, so the value types are plain, inspectable Python objects and
the `Keyspace` is a dict of `Entry(value, deadline_ms)`.

Rules (docs/SPEC.md §6):
1. A deadline is an absolute Unix time in whole milliseconds, kept exactly
   (kevy keeps a monotonic instant that wraps after ~584 years; the SPEC lets
   us keep it exact). A key is expired iff `deadline_ms <= now`.
2. Time comes only from the injected `Clock`.
3. Lazy expiry: a typed access that finds an expired key removes it first and
   treats it as absent. With `lazy_expire=False` (the Redis dialect's replay,
   where every expiry is an explicit `DEL` in the log) nothing is removed and
   deadlines are judged only when the keyspace is read.
4. Collections that become empty disappear (the command layer calls
   `drop_if_empty`).
5. Value types: string = `bytes`; hash = `dict[bytes, bytes]`; list =
   `ListValue` (a deque: LPUSH and LPOP are O(1), so replaying a log of them
   is linear, issue 12; a plain `list[bytes]`, as a test or an older caller
   may store, is accepted and turned into a ListValue by the first list
   command); set = `SetValue` (insertion-ordered storage); zset = `ZSet`;
   stream = `Stream`.
6. SPOP removes "the first members in the set's internal iteration order"
   (docs/SPEC.md §5). kevy's sets are Rust hash sets; their order is not
   reproducible from anything we hold (docs/spop-order.md) and differs from
   one process to the next. `hash_seed` stands in for a process's hash keys:
   None keeps insertion order (deterministic, what `dump` uses); a seed
   orders members by a keyed hash, so a harness that gives each simulated
   process its own seed sees what kevy does - a recovering process pops other
   members than the live one did (FINDINGS.md F24).
7. `expired`: kevy logs no expiry, so a write that finds its key expired is
   replayed against the stale value (FINDINGS.md F43). A caller that sets
   `expired` to a list learns every key an access removed as expired, and can
   log a `DEL` for it first, as Redis propagates every expiry.
"""

from __future__ import annotations

import hashlib
import heapq
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

from impl.clock import Clock
from impl.numbers import total_order_key

__all__ = [
    "TYPE_NAMES",
    "Entry",
    "Keyspace",
    "ListValue",
    "PelRow",
    "SetValue",
    "Stream",
    "StreamGroup",
    "StreamId",
    "Value",
    "WrongTypeError",
    "ZSet",
    "format_id",
    "type_name",
]

StreamId = tuple[int, int]


def format_id(sid: StreamId) -> str:
    """`ms-seq`, the text form of a stream ID."""
    return f"{sid[0]}-{sid[1]}"


class SetValue(dict[bytes, None]):
    """A set of members that remembers insertion order (a dict with no values)."""

    def add(self, member: bytes) -> bool:
        if member in self:
            return False
        self[member] = None
        return True

    def discard(self, member: bytes) -> bool:
        if member in self:
            del self[member]
            return True
        return False

    def __repr__(self) -> str:
        return f"SetValue({list(self)!r})"


class ListValue(deque[bytes]):
    """A list value: a deque, so both ends are O(1) (rule 5).

    It compares equal to a list or deque holding the same items in order, so
    a caller that stored or expects a plain list sees no difference.
    """

    def __eq__(self, other: object) -> bool:
        if isinstance(other, list | deque):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ListValue({list(self)!r})"


class ZSet:
    """A sorted set: member → score, ordered by (IEEE total order of score, member)."""

    __slots__ = ("scores",)

    def __init__(self, scores: dict[bytes, float] | None = None) -> None:
        self.scores: dict[bytes, float] = dict(scores or {})

    def __len__(self) -> int:
        return len(self.scores)

    def ordered(self) -> list[tuple[bytes, float]]:
        """Members with scores, ascending by (total order of score, member bytes)."""
        return sorted(self.scores.items(), key=lambda ms: (total_order_key(ms[1]), ms[0]))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ZSet):
            return NotImplemented
        # Scores compare by bits: -0.0 and 0.0 differ, NaN equals itself.
        return [(m, total_order_key(s)) for m, s in self.ordered()] == [
            (m, total_order_key(s)) for m, s in other.ordered()
        ]

    def __repr__(self) -> str:
        return f"ZSet({dict(self.ordered())!r})"


@dataclass
class PelRow:
    """One pending entry of a consumer group."""

    owner: bytes
    delivery_ms: int
    delivery_count: int


@dataclass
class StreamGroup:
    last_delivered: StreamId = (0, 0)
    #: consumer name → last_seen_ms
    consumers: dict[bytes, int] = field(default_factory=dict)
    #: entry ID → pending row (may name an entry that no longer exists: a tombstone)
    pel: dict[StreamId, PelRow] = field(default_factory=dict)

    def pending_count(self, consumer: bytes) -> int:
        return sum(1 for row in self.pel.values() if row.owner == consumer)


@dataclass
class Stream:
    #: entry ID → field/value pairs in insertion order
    entries: dict[StreamId, list[tuple[bytes, bytes]]] = field(default_factory=dict)
    last_id: StreamId = (0, 0)
    max_deleted_id: StreamId = (0, 0)
    entries_added: int = 0
    groups: dict[bytes, StreamGroup] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.entries)

    def sorted_ids(self) -> list[StreamId]:
        return sorted(self.entries)

    def top_id(self) -> StreamId:
        """The largest entry ID present, or (0, 0) for an empty stream."""
        return max(self.entries) if self.entries else (0, 0)


Value = bytes | dict | list | ListValue | SetValue | ZSet | Stream

TYPE_NAMES = ("string", "hash", "list", "set", "zset", "stream")


def type_name(value: Value) -> str:
    """The canonical type name of a value (`string`, `hash`, ...)."""
    if isinstance(value, bytes):
        return "string"
    if isinstance(value, SetValue):
        return "set"
    if isinstance(value, dict):
        return "hash"
    if isinstance(value, list | ListValue):
        return "list"
    if isinstance(value, ZSet):
        return "zset"
    if isinstance(value, Stream):
        return "stream"
    raise TypeError(f"not a keyspace value: {type(value).__name__}")


class WrongTypeError(Exception):
    """A type-specific operation met a key of another type."""

    message = "WRONGTYPE Operation against a key holding the wrong kind of value"

    def __init__(self) -> None:
        super().__init__(self.message)


@dataclass
class Entry:
    value: Value
    deadline_ms: int | None = None


class Keyspace:
    """One shard's keys. See the module docstring for the rules."""

    def __init__(
        self, clock: Clock, *, lazy_expire: bool = True, hash_seed: int | None = None
    ) -> None:
        self.clock = clock
        self.lazy_expire = lazy_expire
        self.hash_seed = hash_seed
        self._data: dict[bytes, Entry] = {}
        #: when a list, every key an access found expired and removed is added to it
        #: (rule 7: a caller that logs expiries, switch `expiry_logs_del`)
        self.expired: list[bytes] | None = None

    def first_members(self, members: SetValue, n: int) -> list[bytes]:
        """The first `n` members of a set in this process's iteration order (rule 6)."""
        if self.hash_seed is None:
            return list(islice(members, n))
        key = (self.hash_seed % 2**64).to_bytes(8, "little")

        def rank(m: bytes) -> bytes:
            return hashlib.blake2b(m, digest_size=8, key=key).digest()

        # Only simulated processes carry a seed; `dump` keeps the O(n) path above.
        return heapq.nsmallest(n, members, key=rank)

    # -- raw access (no expiry) -------------------------------------------
    def raw(self) -> dict[bytes, Entry]:
        """The underlying dict, expired entries included. Callers must not keep it."""
        return self._data

    def __len__(self) -> int:
        """Entries held, counting expired ones not yet removed (kevy's DBSIZE)."""
        return len(self._data)

    def now(self) -> int:
        return self.clock.now_ms()

    # -- expiry-aware access ----------------------------------------------
    def is_expired(self, entry: Entry, now: int | None = None) -> bool:
        if entry.deadline_ms is None:
            return False
        return entry.deadline_ms <= (self.now() if now is None else now)

    def lookup(self, key: bytes) -> Entry | None:
        """The live entry for `key`, removing it first if expired (lazy expiry)."""
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry.deadline_ms is not None and entry.deadline_ms <= self.now():
            if self.lazy_expire:
                del self._data[key]
                if self.expired is not None:
                    self.expired.append(key)
                return None
            # Redis-dialect replay: an expired key still exists until read.
        return entry

    def get_typed(self, key: bytes, kind: type) -> Entry | None:
        """The live entry if it holds a `kind` value; None if absent.

        Raises WrongTypeError for a live key of another type. `kind` is one of
        bytes, dict, list, SetValue, ZSet, Stream.
        """
        entry = self.lookup(key)
        if entry is None:
            return None
        value = entry.value
        ok = isinstance(value, kind) and not (kind is dict and isinstance(value, SetValue))
        if not ok:
            raise WrongTypeError()
        return entry

    def put(self, key: bytes, value: Value, deadline_ms: int | None = None) -> Entry:
        """Store `value` under `key`, replacing any entry."""
        entry = Entry(value, deadline_ms)
        self._data[key] = entry
        return entry

    def delete(self, key: bytes) -> bool:
        """Remove `key`; True if a live key was removed."""
        entry = self._data.pop(key, None)
        if entry is None:
            return False
        if self.is_expired(entry):
            if self.expired is not None:
                self.expired.append(key)
            return False
        return True

    def drop_if_empty(self, key: bytes) -> None:
        entry = self._data.get(key)
        if entry is not None and not isinstance(entry.value, (bytes, Stream)):
            if len(entry.value) == 0:
                del self._data[key]

    def flush(self) -> None:
        self._data.clear()

    def live_items(self, now: int | None = None) -> Iterator[tuple[bytes, Entry]]:
        """Every live (key, entry), in the table's order, without removing anything."""
        t = self.now() if now is None else now
        for key, entry in self._data.items():
            if entry.deadline_ms is None or entry.deadline_ms > t:
                yield key, entry

    def reap(self, now: int | None = None) -> int:
        """Remove every expired key; return how many."""
        t = self.now() if now is None else now
        dead = [k for k, e in self._data.items() if e.deadline_ms is not None
                and e.deadline_ms <= t]
        for k in dead:
            del self._data[k]
        return len(dead)

    def __repr__(self) -> str:
        return f"<Keyspace {len(self._data)} keys>"
