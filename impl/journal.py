"""The re-shard journal `reshard.journal`: kevy's re-shard commit record.

What: the format (docs/SPEC.md §8.4) — `format_journal` writes it, `parse_journal`
reads it exactly as kevy 1.17 does, and `explain_journal` reads it the same
way but says where and why a journal is rejected (for `check`).

Why: the journal is the commit point of a re-shard (docs/SPEC.md §8.3 step 4). At
every open, recovery (docs/SPEC.md §8.6) rolls a journal that parses *forward* —
renaming live files to backups — and *deletes* one that does not ("torn").
Accepting a journal kevy would call torn, or the reverse, changes which files
a data directory ends up with. A third outcome must not be confused with
torn: text that is not UTF-8 makes kevy's `read_to_string` fail, and then the
open fails and nothing is deleted. So the reader contract is:

* `parse_journal(data)` returns a `Journal` (roll forward), returns None
  (torn: delete the journal), or raises `JournalUnreadable` (fail the open).
* `explain_journal(data)` returns the same `Journal`, raises `TornJournal`
  exactly where `parse_journal` returns None, and raises `JournalUnreadable`
  exactly where `parse_journal` does. Both errors are `CorruptInput`s with
  the byte offset of the offending line.

Rules (docs/SPEC.md §8.4, checked against kevy's `reshard_journal.rs`):

1. Text lines (docs/SPEC.md §0). Line 1 must be exactly `kevy-reshard-journal v1`.
2. Every later line must contain `=` — an empty line makes the journal torn —
   and is split at the first `=`; the key, untrimmed, must be `stamp`,
   `prev_n`, `n` or `routing`, else torn.
3. Values are untrimmed: `stamp` a u128 UINT, `prev_n` and `n` u64 UINTs
   (Rust `usize` on a 64-bit target), `routing` exactly `kevyhash`/`slots`.
4. Each line *assigns* its field: a value that does not parse leaves the
   field unset even if an earlier line had set it (kevy writes
   `field = value.parse().ok()`), and a later line may set it again.
5. Valid iff all four fields are set after the last line.
"""

from __future__ import annotations

from dataclasses import dataclass

from impl.errors import CorruptInput
from impl.layout import (
    U64_MAX,
    Layout,
    Routing,
    locate_utf8_error,
    parse_uint,
    routing_from_tag,
    str_lines,
    text_line_spans,
)

__all__ = [
    "HEADER",
    "Journal",
    "JournalUnreadable",
    "TornJournal",
    "explain_journal",
    "format_journal",
    "parse_journal",
]

#: line 1 of every journal, compared exactly
HEADER = "kevy-reshard-journal v1"

U128_MAX = (1 << 128) - 1

# Field name → bit width of its UINT (None: a routing tag). Order is the
# order kevy writes them, which the "missing field" report follows.
_FIELDS: dict[str, int | None] = {"stamp": 128, "prev_n": 64, "n": 64, "routing": None}


@dataclass(frozen=True)
class Journal:
    """One re-shard, as committed: from `prev_n` shards to (`n`, `routing`)."""

    #: nanoseconds since the Unix epoch at commit (u128); names the backups
    stamp: int
    #: shard count of the layout being replaced (u64: kevy's usize)
    prev_n: int
    #: shard count of the target layout (u64: kevy's usize)
    n: int
    #: routing of the target layout
    routing: Routing

    def __post_init__(self) -> None:
        if not isinstance(self.routing, Routing):
            raise TypeError(f"routing must be a Routing, got {self.routing!r}")
        if not 0 <= self.stamp <= U128_MAX:
            raise ValueError(f"stamp must fit a u128, got {self.stamp}")
        for name in ("prev_n", "n"):
            value = getattr(self, name)
            if not 0 <= value <= U64_MAX:
                raise ValueError(f"{name} must fit a u64, got {value}")

    @property
    def target(self) -> Layout:
        """The layout the re-shard commits to."""
        return Layout(self.n, self.routing)


class TornJournal(CorruptInput):
    """The journal is valid UTF-8 but does not parse: recovery deletes it.

    `line` is the 1-based line at fault, or None when a field is missing
    at the end (then `offset` is the end of the input).
    """

    unit = "reshard.journal"

    def describe(self) -> str:
        return f"torn {self.unit}"


class JournalUnreadable(CorruptInput):
    """The journal is not valid UTF-8: kevy's open fails, nothing is deleted.

    Deliberately not a `TornJournal`: code that deletes torn journals must
    not catch this one.
    """

    unit = "reshard.journal"

    def describe(self) -> str:
        return f"unreadable {self.unit}"


def format_journal(journal: Journal) -> bytes:
    """The bytes kevy's `write_journal` writes for `journal`.

    post: parse_journal(__return__) == journal
    """
    return (
        f"{HEADER}\nstamp={journal.stamp}\nprev_n={journal.prev_n}\n"
        f"n={journal.n}\nrouting={journal.routing.value}\n"
    ).encode("ascii")


def _unreadable(data: bytes, error: UnicodeDecodeError) -> JournalUnreadable:
    start, bad, got = locate_utf8_error(data, error)
    return JournalUnreadable(
        "not valid UTF-8: kevy cannot read the journal, so the open fails",
        offset=start,
        at=bad,
        expected="UTF-8 text",
        got=got,
    )


def _parse_value(key: str, value: str) -> int | Routing | None:
    bits = _FIELDS[key]
    return routing_from_tag(value) if bits is None else parse_uint(value, bits)


def parse_journal(data: bytes) -> Journal | None:
    """kevy's `parse_journal` on the file's bytes (rules in the module docstring).

    Returns the journal, or None if it is torn; raises `JournalUnreadable`
    if `data` is not UTF-8 (kevy fails to read it before parsing).

    pre: data.isascii()
    post: __return__ is None or parse_journal(format_journal(__return__)) == __return__
    """
    data = bytes(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _unreadable(data, error) from None
    lines = str_lines(text)
    if next(lines, None) != HEADER:
        return None
    fields: dict[str, int | Routing | None] = dict.fromkeys(_FIELDS)
    for line in lines:
        key, sep, value = line.partition("=")
        if not sep or key not in fields:
            return None
        fields[key] = _parse_value(key, value)
    stamp, prev_n, n, routing = fields.values()
    if not (isinstance(stamp, int) and isinstance(prev_n, int) and isinstance(n, int)):
        return None
    if not isinstance(routing, Routing):
        return None
    return Journal(stamp=stamp, prev_n=prev_n, n=n, routing=routing)


def _expected(key: str) -> str:
    bits = _FIELDS[key]
    if bits is None:
        return "'kevyhash' or 'slots' exactly"
    return f"a u{bits} UINT (optional '+', ASCII digits, no spaces)"


def explain_journal(data: bytes) -> Journal:
    """Parse like `parse_journal`, raising `TornJournal` where it returns None.

    Raises `JournalUnreadable` on the same inputs `parse_journal` does.
    """
    data = bytes(data)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _unreadable(data, error) from None
    spans = text_line_spans(data)
    if not spans or spans[0][1] != HEADER.encode("ascii"):
        raise TornJournal(
            "line 1 is not the journal header",
            line=1,
            offset=0,
            expected=repr(HEADER),
            got=spans[0][1] if spans else b"",
        )
    values: dict[str, int | Routing | None] = {}
    # Field → (line number, line offset, value offset, value) of the line
    # that last assigned it: where to point when its value did not parse.
    assigned: dict[str, tuple[int, int, int, bytes]] = {}
    for number, (start, raw) in enumerate(spans[1:], start=2):
        eq = raw.find(b"=")
        if eq < 0:
            raise TornJournal(
                f"line {number} is empty" if raw == b"" else f"line {number} has no '='",
                line=number,
                offset=start,
                expected="a 'key=value' line",
                got=raw,
            )
        key = raw[:eq].decode("utf-8")
        if key not in _FIELDS:
            raise TornJournal(
                f"line {number} has an unknown key (keys are not trimmed)",
                line=number,
                offset=start,
                expected="one of stamp, prev_n, n, routing",
                got=raw[:eq],
            )
        value = raw[eq + 1 :]
        values[key] = _parse_value(key, value.decode("utf-8"))
        assigned[key] = (number, start, start + eq + 1, value)
    unset = [key for key in _FIELDS if values.get(key) is None]
    bad = sorted((assigned[key], key) for key in unset if key in assigned)
    if bad:
        (number, start, at, value), key = bad[0]
        raise TornJournal(
            f"line {number}: the {key} value does not parse, which unsets {key}, "
            "and no later line sets it",
            line=number,
            offset=start,
            at=at,
            expected=_expected(key),
            got=value,
        )
    if unset:
        key = unset[0]
        raise TornJournal(
            f"no {key}= line (the journal ends before every field is set)",
            offset=len(data),
            expected=f"a line '{key}=<{_expected(key)}>'",
        )
    stamp, prev_n, n, routing = (values[key] for key in _FIELDS)
    assert isinstance(stamp, int) and isinstance(prev_n, int) and isinstance(n, int)
    assert isinstance(routing, Routing)
    return Journal(stamp=stamp, prev_n=prev_n, n=n, routing=routing)
