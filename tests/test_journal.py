"""Tests for impl/journal.py: the re-shard journal (docs/SPEC.md §8.4, §8.6).

Each rule has a hand case; Hypothesis checks the format→parse round trip,
that `explain_journal` and `parse_journal` agree on every input (same
journal, torn exactly when None, unreadable exactly together), and that no
prefix of a written journal parses to anything but that journal.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from impl.errors import CorruptInput
from impl.journal import (
    HEADER,
    Journal,
    JournalUnreadable,
    TornJournal,
    explain_journal,
    format_journal,
    parse_journal,
)
from impl.layout import U64_MAX, Layout, Routing

K, S = Routing.KEVYHASH, Routing.SLOTS
H = b"kevy-reshard-journal v1\n"
J = Journal(stamp=1763860000123456789, prev_n=2, n=4, routing=S)
GOOD = H + b"stamp=1763860000123456789\nprev_n=2\nn=4\nrouting=slots\n"

journals = st.builds(
    Journal,
    stamp=st.integers(0, 2**128 - 1),
    prev_n=st.integers(0, U64_MAX),
    n=st.integers(0, U64_MAX),
    routing=st.sampled_from(list(Routing)),
)


def test_exact_bytes() -> None:
    assert format_journal(J) == GOOD
    assert parse_journal(GOOD) == J
    assert J.target == Layout(4, S)
    assert HEADER == "kevy-reshard-journal v1"


@given(journals)
def test_round_trip(journal: Journal) -> None:
    data = format_journal(journal)
    assert parse_journal(data) == journal
    assert explain_journal(data) == journal


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (GOOD, J),
        (GOOD.replace(b"\n", b"\r\n"), J),  # CRLF lines
        (GOOD[:-1], J),  # no final newline
        (GOOD[:-1] + b"\r", None),  # trailing CR without LF stays in the value
        (H + b"stamp=+5\nprev_n=02\nn=+04\nrouting=kevyhash\n", Journal(5, 2, 4, K)),
        (H + b"routing=slots\nn=4\nprev_n=2\nstamp=9\n", Journal(9, 2, 4, S)),  # any order
        (H + b"stamp=1\nprev_n=0\nn=0\nrouting=slots\n", Journal(1, 0, 0, S)),
        # Later lines override earlier ones.
        (GOOD + b"n=7\nrouting=kevyhash\n", Journal(J.stamp, 2, 7, K)),
        # A bad value, then a good one: the good one sets the field.
        (H + b"stamp=x\nstamp=3\nprev_n=1\nn=2\nrouting=slots\n", Journal(3, 1, 2, S)),
        (H + b"routing=bogus\nstamp=3\nprev_n=1\nn=2\nrouting=slots\n", Journal(3, 1, 2, S)),
        # A good value, then a bad one: the bad one unsets it (kevy's `.ok()`).
        (GOOD + b"stamp=oops\n", None),
        (GOOD + b"n=\n", None),
        (GOOD + b"routing=Slots\n", None),
        # Ranges: stamp is a u128, prev_n and n are usize (u64).
        (
            H + f"stamp={2**128 - 1}\nprev_n={U64_MAX}\nn={U64_MAX}\nrouting=slots\n".encode(),
            Journal(2**128 - 1, U64_MAX, U64_MAX, S),
        ),
        (H + f"stamp={2**128}\nprev_n=1\nn=1\nrouting=slots\n".encode(), None),
        (H + f"stamp=1\nprev_n={2**64}\nn=1\nrouting=slots\n".encode(), None),
        (H + f"stamp=1\nprev_n=1\nn={2**64}\nrouting=slots\n".encode(), None),
        # Numbers and tags are not trimmed; keys are not trimmed either.
        (H + b"stamp= 1\nprev_n=1\nn=1\nrouting=slots\n", None),
        (H + b"stamp=1 \nprev_n=1\nn=1\nrouting=slots\n", None),
        (H + b"stamp=1\nprev_n=1\nn=1\nrouting= slots\n", None),
        (H + b"stamp =1\nprev_n=1\nn=1\nrouting=slots\n", None),
        (H + b"stamp=-0\nprev_n=1\nn=1\nrouting=slots\n", None),
        (H + b"stamp=+\nprev_n=1\nn=1\nrouting=slots\n", None),
        (H + b"stamp=1=2\nprev_n=1\nn=1\nrouting=slots\n", None),  # split at the first '='
        # Every later line must be key=value with a known key.
        (GOOD + b"\n", None),  # an empty line
        (H + b"\nstamp=1\nprev_n=1\nn=1\nrouting=slots\n", None),
        (GOOD + b"\r\n", None),  # empty after its CR is dropped
        (GOOD + b"comment\n", None),
        (GOOD + b"extra=1\n", None),
        (GOOD + b"=1\n", None),
        # Missing fields.
        (H, None),
        (H + b"stamp=1\nprev_n=1\nn=1\n", None),
        (H + b"prev_n=1\nn=1\nrouting=slots\n", None),
        # Header must match exactly.
        (b"", None),
        (b"\n", None),
        (GOOD.replace(b"v1", b"v2"), None),
        (GOOD.replace(b"v1\n", b"v1 \n"), None),
        (b" " + GOOD, None),
        (GOOD.replace(b"kevy-", b"KEVY-"), None),
    ],
)
def test_parse_rules(data: bytes, expected: Journal | None) -> None:
    assert parse_journal(data) == expected
    if expected is None:
        with pytest.raises(TornJournal):
            explain_journal(data)
    else:
        assert explain_journal(data) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"\xff",
        GOOD[:10] + b"\xff" + GOOD[10:],
        GOOD + b"stamp=\xc3\n",  # even a line that would be overridden
        GOOD + b"\n\xed\xa0\x80",  # a journal that would be torn is unreadable first
    ],
)
def test_invalid_utf8_is_unreadable_not_torn(data: bytes) -> None:
    with pytest.raises(JournalUnreadable) as parsed:
        parse_journal(data)
    with pytest.raises(JournalUnreadable) as explained:
        explain_journal(data)
    for err in (parsed.value, explained.value):
        assert not isinstance(err, TornJournal)
        assert isinstance(err, CorruptInput)
        assert data[err.at] >= 0x80
        assert str(err).startswith("unreadable reshard.journal at offset")


def test_torn_errors_name_offset_and_expectation() -> None:
    with pytest.raises(TornJournal) as info:
        explain_journal(GOOD + b"\n")
    err = info.value
    assert (err.offset, err.line, err.got) == (len(GOOD), 6, b"")
    assert "empty" in err.message
    assert str(err).startswith(f"torn reshard.journal at offset {len(GOOD)}: line 6 is empty")

    with pytest.raises(TornJournal) as info:
        explain_journal(H + b"stamp=12x\nprev_n=1\nn=1\nrouting=slots\n")
    err = info.value
    assert (err.offset, err.at, err.line, err.got) == (24, 30, 2, b"12x")
    assert "u128" in (err.expected or "")

    with pytest.raises(TornJournal) as info:
        explain_journal(H + b"stamp=1\nprev_n=1\nn=1\n")
    err = info.value
    assert (err.offset, err.line, err.got) == (len(H) + 21, None, None)  # the end
    assert "no routing= line" in err.message

    with pytest.raises(TornJournal) as info:
        explain_journal(GOOD + b"shards=4\n")
    assert (info.value.offset, info.value.got) == (len(GOOD), b"shards")

    with pytest.raises(TornJournal) as info:
        explain_journal(b"kevy-reshard-journal v2\n")
    assert (info.value.offset, info.value.got) == (0, b"kevy-reshard-journal v2")


def test_journal_validates() -> None:
    for bad in ({"stamp": -1}, {"stamp": 2**128}, {"prev_n": 2**64}, {"n": -1}):
        fields = {"stamp": 1, "prev_n": 1, "n": 1, "routing": K} | bad
        with pytest.raises(ValueError):
            Journal(**fields)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Journal(1, 1, 1, "slots")  # type: ignore[arg-type]


_PIECES = [
    "kevy-reshard-journal v1",
    "stamp=",
    "prev_n=",
    "n=",
    "routing=",
    "kevyhash",
    "slots",
    "0",
    "7",
    "+",
    "-",
    "=",
    " ",
    "\r",
    "\n",
    "\r\n",
    "18446744073709551616",
    "x",
]
journal_inputs = st.one_of(
    st.binary(max_size=40),
    st.lists(st.sampled_from(_PIECES), max_size=14).map(lambda p: "".join(p).encode()),
    # Mostly-valid journals with one line edited, added or removed.
    st.tuples(
        journals.map(format_journal),
        st.lists(st.sampled_from(_PIECES), max_size=4).map(lambda p: "".join(p).encode()),
        st.integers(0, 120),
        st.integers(0, 6),
    ).map(lambda t: t[0][: t[2]] + t[1] + t[0][t[2] + t[3] :]),
    st.tuples(
        journals.map(format_journal),
        st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80"]),
        st.integers(0, 120),
    ).map(lambda t: t[0][: t[2]] + t[1] + t[0][t[2] :]),
)


@given(journal_inputs)
@example(H + b"stamp=1\nstamp=x\nprev_n=1\nn=1\nrouting=slots\n")
@example(GOOD + b"\n")
def test_explain_agrees_with_parse(data: bytes) -> None:
    try:
        parsed: Journal | JournalUnreadable | None = parse_journal(data)
    except JournalUnreadable as err:
        parsed = err
    try:
        explained = explain_journal(data)
    except JournalUnreadable as err:
        assert isinstance(parsed, JournalUnreadable)
        assert (err.offset, err.at) == (parsed.offset, parsed.at)
    except TornJournal as err:
        assert parsed is None
        assert 0 <= err.offset <= err.at <= len(data)
        assert (
            err.offset == 0
            or data[err.offset - 1 : err.offset] == b"\n"
            or (err.offset == len(data))
        )
    else:
        assert explained == parsed


@given(journals)
def test_every_prefix_is_torn_or_the_same_journal(journal: Journal) -> None:
    # The crash-safety argument for the field order: a journal cut anywhere
    # never parses to a *different* re-shard (only dropping the final LF parses).
    data = format_journal(journal)
    for cut in range(len(data)):
        assert parse_journal(data[:cut]) in (None, journal), cut
    assert parse_journal(data[:-1]) == journal
