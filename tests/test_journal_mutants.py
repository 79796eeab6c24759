"""impl/journal.py behaviour the rest of the suite left unpinned (issue 15).

Written while triaging mutmut's survivors in impl/journal.py, but each test
states a property of the journal reader, not of a mutant:

* `check` prints `str(error)` of `explain_journal`'s errors, and its users act
  on it; so each kind of torn or unreadable journal is pinned to its whole
  diagnostic (what, where, expected, got) and to its `line` field.
* rule 4 of the module docstring (a value that does not parse unsets its field,
  a later line may set it again) holds when the bad value itself holds a '='.
"""

from __future__ import annotations

import pytest

from impl.journal import (
    Journal,
    JournalUnreadable,
    TornJournal,
    explain_journal,
    parse_journal,
)
from impl.layout import Routing

H = b"kevy-reshard-journal v1\n"
U64 = "a u64 UINT (optional '+', ASCII digits, no spaces)"

# input -> (the line check prints, the error's line field)
DIAGNOSTICS: list[tuple[bytes, str, int | None]] = [
    (
        b"",
        "torn reshard.journal at offset 0: line 1 is not the journal header: "
        "expected 'kevy-reshard-journal v1', got b''",
        1,
    ),
    (
        b"kevy-reshard-journal v2\n",
        "torn reshard.journal at offset 0: line 1 is not the journal header: "
        "expected 'kevy-reshard-journal v1', got b'kevy-reshard-journal v2'",
        1,
    ),
    (
        H + b"stamp=1\n\n",
        "torn reshard.journal at offset 32: line 3 is empty: expected a 'key=value' line, got b''",
        3,
    ),
    (
        H + b"stamp=1\nprev_n 2\n",
        "torn reshard.journal at offset 32: line 3 has no '=': "
        "expected a 'key=value' line, got b'prev_n 2'",
        3,
    ),
    (
        # '=' first: an empty key, which is unknown, not a line without '='
        H + b"=5\n",
        "torn reshard.journal at offset 24: line 2 has an unknown key (keys are not "
        "trimmed): expected one of stamp, prev_n, n, routing, got b''",
        2,
    ),
    (
        H + b"stamp=1\nprev_n=2\nn=4\nrouting=hash\n",
        "torn reshard.journal at offset 45 (byte 53): line 5: the routing value does "
        "not parse, which unsets routing, and no later line sets it: "
        "expected 'kevyhash' or 'slots' exactly, got b'hash'",
        5,
    ),
    (
        H + b"stamp=1\nprev_n=2\nn=x\nrouting=slots\n",
        "torn reshard.journal at offset 41 (byte 43): line 4: the n value does not "
        f"parse, which unsets n, and no later line sets it: expected {U64}, got b'x'",
        4,
    ),
    (
        H + b"stamp=1\nprev_n=2\n",
        "torn reshard.journal at offset 41: no n= line "
        "(the journal ends before every field is set)",
        None,
    ),
]


@pytest.mark.parametrize(("data", "text", "line"), DIAGNOSTICS)
def test_torn_journal_diagnostic_is_exact(data: bytes, text: str, line: int | None) -> None:
    assert parse_journal(data) is None
    with pytest.raises(TornJournal) as info:
        explain_journal(data)
    assert str(info.value) == text
    assert info.value.line == line


def test_missing_field_names_the_line_it_expected() -> None:
    # str() leaves `expected` out when nothing was got, so pin the field itself.
    with pytest.raises(TornJournal) as info:
        explain_journal(H + b"stamp=1\nprev_n=2\n")
    assert info.value.expected == f"a line 'n=<{U64}>'"
    assert info.value.got is None


def test_unreadable_journal_diagnostic_is_exact() -> None:
    data = H + b"stamp=1\n\xff\n"
    for call in (parse_journal, explain_journal):
        with pytest.raises(JournalUnreadable) as info:
            call(data)
        err = info.value
        assert str(err) == (
            "unreadable reshard.journal at offset 32: not valid UTF-8: kevy cannot read "
            "the journal, so the open fails: expected UTF-8 text, got b'\\xff'"
        )
        assert (err.offset, err.at, err.line, err.got) == (32, 32, None, b"\xff")


@pytest.mark.parametrize("bad", [b"stamp=1=2", b"routing=slots=kevyhash", b"n=4="])
def test_a_value_holding_an_equals_sign_unsets_its_field_until_set_again(bad: bytes) -> None:
    # The split is at the first '=' (docs/SPEC.md §8.4): "stamp=1=2" is the key
    # stamp with the bad value "1=2", which a later stamp= line overrides; read
    # as key "stamp=1" it would be an unknown key and the journal torn.
    data = H + bad + b"\nstamp=5\nprev_n=1\nn=2\nrouting=slots\n"
    want = Journal(stamp=5, prev_n=1, n=2, routing=Routing.SLOTS)
    assert parse_journal(data) == want
    assert explain_journal(data) == want


def test_bad_value_with_equals_sign_is_reported_whole() -> None:
    with pytest.raises(TornJournal) as info:
        explain_journal(H + b"stamp=1=2\nprev_n=1\nn=2\nrouting=slots\n")
    assert (info.value.line, info.value.at, info.value.got) == (2, 30, b"1=2")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"routing": "slots"}, "routing must be a Routing, got 'slots'"),
        ({"stamp": 2**128}, f"stamp must fit a u128, got {2**128}"),
        ({"prev_n": -1}, "prev_n must fit a u64, got -1"),
        ({"n": 2**64}, f"n must fit a u64, got {2**64}"),
    ],
)
def test_journal_construction_errors_name_the_field(
    fields: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {"stamp": 1, "prev_n": 1, "n": 1, "routing": Routing.SLOTS}
    with pytest.raises((TypeError, ValueError)) as info:
        Journal(**{**args, **fields})  # type: ignore[arg-type]
    assert str(info.value) == message
