"""impl/streams.py: each stream verb's replies, errors and log frames at its edges
(README "Adequacy").

What: the rules of impl/streams.py (docs/SPEC.md §6.8) on the smallest streams
that show them: ID grammar and XADD's ID resolution at both ends of the u64
space, XADD/XTRIM/XDEL/XRANGE/XSETID/XGROUP/XCLAIM/XACK's replies and log
frames, and the exact text of each error a malformed call gets (Redis 7.2's,
in its order of checks, docs/SPEC.md §6.8 rule 7).

Why exact texts: a client sees the error text; the differential tests compare
it with Redis's, so a changed text is a changed reply.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from impl.clock import ManualClock
from impl.commands import Applied, Dialect, ErrorReply, Outcome, apply, execute
from impl.keyspace import Keyspace, PelRow, Stream
from impl.numbers import U64_MAX
from impl.profile import HARDENED, KEVY_1_17, Profile
from impl.streams import parse_stream_id

T0 = 1_700_000_000_000
MAX = U64_MAX


def _argv(cmd: str | Sequence[bytes]) -> list[bytes]:
    return [w.encode() for w in cmd.split(" ")] if isinstance(cmd, str) else list(cmd)


def _ks() -> Keyspace:
    return Keyspace(ManualClock(T0), lazy_expire=True)


def run(ks: Keyspace, cmd: str, profile: Profile = KEVY_1_17) -> tuple[object, list[str]]:
    r = execute(ks, _argv(cmd), profile=profile)
    return r.reply, [b" ".join(f).decode("latin-1") for f in r.log]


def err(text: str) -> ErrorReply:
    return ErrorReply(text)


def stream(ks: Keyspace, key: bytes = b"s") -> Stream:
    v = ks.lookup(key).value
    assert isinstance(v, Stream)
    return v


def ks_with(*cmds: str, profile: Profile = KEVY_1_17) -> Keyspace:
    ks = _ks()
    for cmd in cmds:
        reply, _ = run(ks, cmd, profile)
        assert not isinstance(reply, ErrorReply), (cmd, reply)
    return ks


ERR_ID = err("ERR Invalid stream ID specified as stream command argument")
ERR_SMALL = err("ERR The ID specified in XADD is equal or smaller than the target stream top item")
NEED_KEY = err(
    "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may "
    "want to use the MKSTREAM option to create an empty stream automatically."
)
NOT_INT = err("ERR value is not an integer or out of range")


# -- IDs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "default", "want"),
    [
        (b"5", 0, (5, 0)),
        (b"5", 7, (5, 7)),
        (b"5-3", 7, (5, 3)),
        (b"5-", 0, None),
        (b"-3", 0, None),
        (b"x-1", 0, None),
        (b"1-x", 0, None),
        (b"1-2-3", 0, None),
        (f"{MAX}-{MAX}".encode(), 0, (MAX, MAX)),
    ],
)
def test_parse_stream_id(raw: bytes, default: int, want: tuple[int, int] | None) -> None:
    assert parse_stream_id(raw, default) == want


def test_parse_stream_id_defaults_the_sequence_to_zero() -> None:
    assert parse_stream_id(b"9") == (9, 0)


# -- XADD -----------------------------------------------------------------------------


def test_xadd_star_takes_now_or_continues_the_last_millisecond() -> None:
    ks = _ks()
    assert run(ks, "XADD s * f v") == (f"{T0}-0".encode(), [f"XADD s {T0}-0 f v"])
    assert run(ks, "XADD s * f v")[0] == f"{T0}-1".encode()
    ks.clock.advance(1)  # type: ignore[attr-defined]
    assert run(ks, "XADD s * f v")[0] == f"{T0 + 1}-0".encode()
    # a last ID ahead of the clock: its millisecond goes on
    ks = ks_with(f"XADD s {T0 + 50}-3 f v")
    assert run(ks, "XADD s * f v")[0] == f"{T0 + 50}-4".encode()
    # ... and rolls over to the next millisecond at the top of its sequence
    ks = ks_with(f"XADD s {T0 + 50}-{MAX} f v")
    assert run(ks, "XADD s * f v")[0] == f"{T0 + 51}-0".encode()


def test_xadd_ms_star_continues_or_starts_a_sequence() -> None:
    ks = ks_with("XADD s 5-3 f v")
    assert run(ks, "XADD s 5-* f v")[0] == b"5-4"
    assert run(ks, "XADD s 6-* f v")[0] == b"6-0"
    assert run(ks, "XADD s 4-* f v") == (ERR_SMALL, [])
    ks = ks_with(f"XADD s 5-{MAX} f v")
    assert run(ks, "XADD s 5-* f v") == (ERR_SMALL, [])
    assert run(ks, "XADD s x-* f v") == (ERR_ID, [])
    assert run(_ks(), "XADD s 0-* f v")[0] == b"0-1"  # 0-0 is no ID: a new stream's 0-* is 0-1


def test_xadd_explicit_ids_must_grow() -> None:
    ks = ks_with("XADD s 5-3 f v")
    assert run(ks, "XADD s 5-3 f v") == (ERR_SMALL, [])
    assert run(ks, "XADD s 5-2 f v") == (ERR_SMALL, [])
    assert run(ks, "XADD s 5-4 f v")[0] == b"5-4"
    assert run(ks, "XADD s 0-0 f v") == (
        err("ERR The ID specified in XADD must be greater than 0-0"),
        [],
    )
    assert run(ks, "XADD s 1-x f v") == (ERR_ID, [])


def test_xadd_on_an_exhausted_stream() -> None:
    ks = ks_with(f"XADD s {MAX}-{MAX} f v")
    exhausted = err("ERR The stream has exhausted the last possible ID, unable to add more items")
    assert run(ks, "XADD s * f v") == (exhausted, [])
    assert run(ks, f"XADD s {MAX}-* f v") == (exhausted, [])


def test_xadd_counts_fields_and_options() -> None:
    wrong = err("ERR wrong number of arguments for 'xadd' command")
    assert run(_ks(), "XADD s 1-1 f") == (wrong, [])
    assert run(_ks(), "XADD s 1-1 f v g") == (wrong, [])
    assert run(_ks(), "XADD s MAXLEN 1 1-1 f") == (wrong, [])
    assert run(_ks(), "XADD s MAXLEN 1 MAXLEN 2 1-1 f v") == (
        err("ERR syntax error, MAXLEN and MINID options at the same time are not compatible"),
        [],
    )
    assert run(_ks(), "XADD s NOMKSTREAM 1-1 f v") == (None, [])
    ks = ks_with("XADD s 1-1 f v")
    assert run(ks, "XADD s nomkstream 2-1 f v g w") == (b"2-1", ["XADD s 2-1 f v g w"])
    assert stream(ks).entries[(2, 1)] == [(b"f", b"v"), (b"g", b"w")]
    assert stream(ks).entries_added == 2 and stream(ks).last_id == (2, 1)


def test_xadd_maxlen_trims_and_logs_the_resolved_form() -> None:
    ks = ks_with("XADD s 1-1 f v", "XADD s 2-1 f v")
    assert run(ks, "XADD s maxlen = 2 3-1 f v") == (b"3-1", ["XADD s MAXLEN 2 3-1 f v"])
    st = stream(ks)
    assert st.sorted_ids() == [(2, 1), (3, 1)]
    assert st.max_deleted_id == (1, 1)
    assert run(ks, "XADD s MAXLEN 5 4-1 f v") == (b"4-1", ["XADD s MAXLEN 5 4-1 f v"])
    assert st.max_deleted_id == (1, 1) and len(st) == 3


def test_xadd_maxlen_argument_errors() -> None:
    assert run(_ks(), "XADD s MAXLEN x 1-1 f v") == (NOT_INT, [])
    assert run(_ks(), "XADD s MAXLEN -1 1-1 f v") == (
        err("ERR The MAXLEN argument must be >= 0."),
        [],
    )


def test_xadd_maxlen_zero_keeps_the_key_and_its_counters() -> None:
    ks = _ks()
    run(ks, "XADD s MAXLEN 0 5-1 x x")
    st = stream(ks)
    assert (len(st), st.last_id, st.max_deleted_id, st.entries_added) == (0, (5, 1), (5, 1), 1)


def test_xadd_on_a_string_is_wrongtype() -> None:
    ks = ks_with("SET s v")
    assert run(ks, "XADD s 1-1 f v")[0] == err(
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    )


# -- XDEL, XTRIM, XLEN -------------------------------------------------------------------


def test_xdel_counts_what_it_removed_and_logs_only_then() -> None:
    ks = ks_with("XADD s 1-1 f v", "XADD s 2-1 f v", "XADD s 3-1 f v")
    assert run(ks, "XDEL nope 1-1") == (0, [])
    assert run(ks, "XDEL nope bad") == (0, [])  # the key first
    assert run(ks, "XDEL s 1-1 bad") == (ERR_ID, [])
    assert len(stream(ks)) == 3  # every ID parsed before any is deleted
    assert run(ks, "XDEL s 9-9") == (0, [])
    assert run(ks, "XDEL s 2-1 1-1 9-9") == (2, ["XDEL s 2-1 1-1 9-9"])
    assert stream(ks).max_deleted_id == (2, 1)
    assert run(ks, "XLEN s") == (1, [])
    assert run(ks, "XLEN nope") == (0, [])


def test_xtrim() -> None:
    ks = ks_with("XADD s 1-1 f v", "XADD s 2-1 f v", "XADD s 3-1 f v")
    assert run(ks, "XTRIM s MINID 1") == (err("ERR syntax error"), [])
    assert run(ks, "XTRIM s MAXLEN 1 junk") == (err("ERR syntax error"), [])
    assert run(ks, "XTRIM s MAXLEN =") == (err("ERR syntax error"), [])
    assert run(ks, "XTRIM nope MAXLEN 0") == (0, [])
    assert run(ks, "XTRIM s MAXLEN 3") == (0, [])
    assert run(ks, "XTRIM s maxlen = 1") == (2, ["XTRIM s MAXLEN 1"])
    assert stream(ks).sorted_ids() == [(3, 1)]
    assert stream(ks).max_deleted_id == (2, 1)


def test_a_redis_log_trims_without_moving_max_deleted_id() -> None:
    ks = Keyspace(ManualClock(T0), lazy_expire=False)
    for cmd in ("XADD s 1-1 f v", "XADD s 2-1 f v", "XTRIM s MAXLEN 1", "XDEL s 2-1"):
        assert apply(ks, _argv(cmd), profile=KEVY_1_17, dialect=Dialect.REDIS) == Applied(
            Outcome.APPLIED
        )
    assert stream(ks).max_deleted_id == (2, 1)  # XDEL moved it, the trim did not


# -- XRANGE ------------------------------------------------------------------------------


def _ids(reply: object) -> list[bytes]:
    assert isinstance(reply, list)
    return [row[0] for row in reply]


def test_xrange_bounds() -> None:
    ks = ks_with("XADD s 1-0 a 1", "XADD s 1-5 b 2", "XADD s 2-0 c 3")
    assert run(ks, "XRANGE s - +")[0] == [
        [b"1-0", [b"a", b"1"]],
        [b"1-5", [b"b", b"2"]],
        [b"2-0", [b"c", b"3"]],
    ]
    assert _ids(run(ks, "XRANGE s 1 1")[0]) == [b"1-0", b"1-5"]  # end ms alone: ms-MAX
    assert _ids(run(ks, "XRANGE s 1-1 2")[0]) == [b"1-5", b"2-0"]
    assert _ids(run(ks, "XRANGE s (1-0 (2-0")[0]) == [b"1-5"]
    assert _ids(run(ks, "XRANGE s (1-4 +")[0]) == [b"1-5", b"2-0"]
    assert _ids(run(ks, "XRANGE s - (1-5")[0]) == [b"1-0"]
    assert run(ks, "XRANGE s x +") == (ERR_ID, [])


def test_xrange_exclusive_bounds_past_the_id_space() -> None:
    ks = ks_with("XADD s 1-0 a 1")
    assert run(ks, f"XRANGE s ({MAX}-{MAX} +")[0] == err("ERR invalid start ID for the interval")
    assert run(ks, "XRANGE s - (0-0")[0] == err("ERR invalid end ID for the interval")
    assert run(ks, f"XRANGE s ({MAX}-{MAX - 1} +")[0] == []
    assert _ids(run(ks, "XRANGE s - (0-1")[0]) == []
    assert _ids(run(ks, "XRANGE s - (1-1")[0]) == [b"1-0"]
    # carry across the sequence: (0-MAX starts at 1-0, (2-0 ends at 1-MAX
    assert _ids(run(ks, f"XRANGE s (0-{MAX} (2-0")[0]) == [b"1-0"]


def test_xrange_count() -> None:
    ks = ks_with("XADD s 1-0 a 1", "XADD s 2-0 b 2", "XADD s 3-0 c 3")
    assert _ids(run(ks, "XRANGE s - + COUNT 2")[0]) == [b"1-0", b"2-0"]
    assert _ids(run(ks, "XRANGE s - + count 1 COUNT 3")[0]) == [b"1-0", b"2-0", b"3-0"]
    assert run(ks, "XRANGE s - + COUNT 0") == (None, [])
    assert run(ks, "XRANGE s - + COUNT -1") == (None, [])
    assert run(ks, "XRANGE nope - + COUNT 0") == ([], [])
    assert run(ks, "XRANGE s - + COUNT") == (err("ERR syntax error"), [])
    assert run(ks, "XRANGE s - + LIMIT 1") == (err("ERR syntax error"), [])
    assert run(ks, "XRANGE s - + COUNT x") == (NOT_INT, [])
    assert run(ks, "XRANGE nope - +") == ([], [])


# -- XSETID ------------------------------------------------------------------------------


def test_xsetid_live_checks_in_redis_order() -> None:
    ks = ks_with("XADD s 5-1 f v", "XADD s 6-1 f v", "XDEL s 6-1")
    assert run(ks, "XSETID nope 1-1 ENTRIESADDED x") == (NOT_INT, [])
    assert run(ks, "XSETID nope 1-1 ENTRIESADDED -1") == (
        err("ERR entries_added must be positive"),
        [],
    )
    assert run(ks, "XSETID nope 1-1 MAXDELETEDID 2-0") == (
        err("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"),
        [],
    )
    assert run(ks, "XSETID s 1-1 JUNK 1") == (err("ERR syntax error"), [])
    assert run(ks, "XSETID s 1-1 ENTRIESADDED") == (err("ERR syntax error"), [])
    assert run(ks, "XSETID s bad") == (ERR_ID, [])
    assert run(ks, "XSETID s 5-1") == (
        err("ERR The ID specified in XSETID is smaller than current max_deleted_entry_id"),
        [],
    )
    ks = ks_with("XADD s 5-1 f v", "XADD s 6-1 f v")
    assert run(ks, "XSETID s 6-0") == (
        err("ERR The ID specified in XSETID is smaller than the target stream top item"),
        [],
    )
    assert run(ks, "XSETID s 6-1 ENTRIESADDED 1") == (
        err("ERR The entries_added specified in XSETID is smaller than the target stream length"),
        [],
    )
    assert run(ks, "XSETID s 6-1 entriesadded 2 maxdeletedid 3-0") == (
        "OK",
        ["XSETID s 6-1 entriesadded 2 maxdeletedid 3-0"],
    )
    st = stream(ks)
    assert (st.last_id, st.entries_added, st.max_deleted_id) == ((6, 1), 2, (3, 0))
    assert run(ks, "XSETID s 9-9 MAXDELETEDID 9-9")[0] == "OK"  # equal is allowed


def test_xsetid_maxdeletedid_zero_is_not_given_live() -> None:
    ks = ks_with("XADD s 5-1 f v", "XDEL s 5-1")
    assert run(ks, "XSETID s 7-0 MAXDELETEDID 0-0") == ("OK", ["XSETID s 7-0"])
    assert stream(ks).max_deleted_id == (5, 1)
    assert run(ks, "XSETID s 8-0 ENTRIESADDED 4 MAXDELETEDID 0-0") == (
        "OK",
        ["XSETID s 8-0 ENTRIESADDED 4"],
    )


def _replay(cmds: list[str], profile: Profile, dialect: Dialect = Dialect.KEVY) -> Keyspace:
    ks = Keyspace(ManualClock(T0), lazy_expire=dialect is Dialect.KEVY)
    for cmd in cmds:
        out = apply(ks, _argv(cmd), profile=profile, dialect=dialect)
        assert out == Applied(Outcome.APPLIED), (cmd, out)
    return ks


def test_kevys_replay_sets_xsetid_scalars_verbatim() -> None:
    # A snapshot's rewrite may hold what Redis would refuse (docs/SPEC.md §3.6);
    # ENTRIESADDED is kevy's u64 counter, written in full.
    rewrite = KEVY_1_17.with_switches("replay_stream_verbs")
    ks = _replay(
        ["XADD s 5-1 f v", "XADD s 6-1 f v", f"XSETID s 6-1 ENTRIESADDED {MAX} MAXDELETEDID 9-9"],
        rewrite,
    )
    st = stream(ks)
    assert (st.entries_added, st.max_deleted_id) == (MAX, (9, 9))
    assert apply(
        ks, _argv("XSETID s 6-1 ENTRIESADDED 0 MAXDELETEDID 0-0"), profile=rewrite
    ) == Applied(Outcome.APPLIED)
    assert (st.entries_added, st.max_deleted_id) == (0, (0, 0))
    out = apply(ks, _argv("XSETID s 6-1 ENTRIESADDED -1"), profile=rewrite)
    assert out == Applied(Outcome.IGNORED, b"XSETID", "ERR entries_added must be positive")


def test_hardened_replays_the_rewrites_xsetid_of_a_counter_past_i64() -> None:
    # The rewrite writes kevy's u64 entries_added in full; hardened's strict
    # client grammar (redis_strict_numbers) must not drop the frame, or the
    # stream's last ID falls back to its top entry and XADD hands out 6-0 again.
    ks = _replay(
        ["XADD s 5-1 f v", f"XSETID s 9-0 ENTRIESADDED {2**63} MAXDELETEDID 0-0"], HARDENED
    )
    st = stream(ks)
    assert (st.last_id, st.entries_added) == ((9, 0), 2**63)
    out = apply(ks, _argv("XADD s 6-0 f v"), profile=HARDENED)
    assert out.outcome is Outcome.IGNORED


def test_a_redis_log_reads_maxdeletedid_zero_as_not_given() -> None:
    ks = _replay(
        ["XADD s 5-1 f v", "XDEL s 5-1", "XSETID s 6-0 MAXDELETEDID 0-0"],
        KEVY_1_17,
        Dialect.REDIS,
    )
    assert stream(ks).max_deleted_id == (5, 1)


# -- XGROUP ------------------------------------------------------------------------------


def test_xgroup_create() -> None:
    ks = ks_with("XADD s 3-1 f v")
    assert run(ks, "XGROUP CREATE s") == (
        err("ERR wrong number of arguments for 'xgroup|create' command"),
        [],
    )
    assert run(ks, "XGROUP CREATE nope g 0") == (NEED_KEY, [])
    assert run(ks, "XGROUP CREATE s g bad") == (ERR_ID, [])
    assert run(ks, "XGROUP create s g $ ENTRIESREAD 5") == ("OK", ["XGROUP CREATE s g 3-1"])
    assert run(ks, "XGROUP CREATE s g 0") == (
        err("BUSYGROUP Consumer Group name already exists"),
        [],
    )
    assert run(ks, "XGROUP CREATE s g2 1 mkstream") == ("OK", ["XGROUP CREATE s g2 1-0 MKSTREAM"])
    assert stream(ks).groups[b"g2"].last_delivered == (1, 0)
    assert run(ks, "XGROUP CREATE t g $ MKSTREAM") == ("OK", ["XGROUP CREATE t g 0-0 MKSTREAM"])
    assert stream(ks, b"t").groups[b"g"].last_delivered == (0, 0)


def test_xgroup_create_refuses_an_unknown_option_as_redis_words_it() -> None:
    ks = ks_with("XADD s 3-1 f v")
    want = err("ERR unknown subcommand or wrong number of arguments for 'create'. Try XGROUP HELP.")
    assert run(ks, "xgroup create s g 0 BOGUS") == (
        err("ERR unknown subcommand or wrong number of arguments for 'create'. Try XGROUP HELP."),
        [],
    )
    assert run(ks, "XGROUP create s g 0 ENTRIESREAD") == (want, [])
    long = "c" * 200
    assert run(ks, f"XGROUP {long} s g 0 ENTRIESREAD")[0] == err(
        f"ERR unknown subcommand '{long}'. Try XGROUP HELP."
    )


def test_xgroup_subcommand_syntax_error_cuts_the_subcommand_at_128_bytes() -> None:
    from impl.streams import _subcommand_syntax

    text = _subcommand_syntax([b"xgroup", b"c" * 200])
    assert text == (
        f"ERR unknown subcommand or wrong number of arguments for '{'c' * 128}'. Try XGROUP HELP."
    )


def test_xgroup_createconsumer() -> None:
    ks = ks_with("XADD s 3-1 f v", "XGROUP CREATE s g 0")
    assert run(ks, "XGROUP CREATECONSUMER s g") == (
        err("ERR wrong number of arguments for 'xgroup|createconsumer' command"),
        [],
    )
    assert run(ks, "XGROUP CREATECONSUMER nope g c") == (NEED_KEY, [])
    assert run(ks, "XGROUP CREATECONSUMER s nog c") == (
        err("NOGROUP No such consumer group 'nog' for key name 's'"),
        [],
    )
    ks.clock.advance(7)  # type: ignore[attr-defined]
    assert run(ks, "XGROUP CREATECONSUMER s g c") == (1, ["XGROUP CREATECONSUMER s g c"])
    assert stream(ks).groups[b"g"].consumers == {b"c": T0 + 7}


def test_xgroup_setid() -> None:
    ks = ks_with("XADD s 3-1 f v", "XGROUP CREATE s g 0")
    assert run(ks, "XGROUP SETID s g") == (
        err("ERR wrong number of arguments for 'xgroup|setid' command"),
        [],
    )
    assert run(ks, "XGROUP SETID s g 1 ENTRIESREAD") == (
        err("ERR wrong number of arguments for 'xgroup|setid' command"),
        [],
    )
    assert run(ks, "XGROUP SETID s g $") == ("OK", ["XGROUP SETID s g 3-1"])
    assert run(ks, "XGROUP SETID s g 2 ENTRIESREAD 1") == ("OK", ["XGROUP SETID s g 2-0"])
    assert stream(ks).groups[b"g"].last_delivered == (2, 0)
    assert run(ks, "XGROUP SETID s g bad") == (ERR_ID, [])


def test_xgroup_destroy() -> None:
    ks = ks_with("XADD s 3-1 f v", "XGROUP CREATE s g 0")
    assert run(ks, "XGROUP DESTROY s") == (
        err("ERR wrong number of arguments for 'xgroup|destroy' command"),
        [],
    )
    assert run(ks, "XGROUP DESTROY nope g") == (NEED_KEY, [])
    assert run(ks, "XGROUP DESTROY s nog") == (0, [])
    assert run(ks, "XGROUP DESTROY s g") == (1, ["XGROUP DESTROY s g"])
    assert stream(ks).groups == {}


def test_xgroup_delconsumer_drops_its_pending_rows() -> None:
    ks = ks_with(
        "XADD s 1-1 f v",
        "XADD s 2-1 f v",
        "XGROUP CREATE s g 0",
        "XCLAIM s g c 0 1-1 2-1 FORCE",
        "XGROUP CREATECONSUMER s g d",
        "XCLAIM s g d 0 2-1",
    )
    assert run(ks, "XGROUP DELCONSUMER s g") == (
        err("ERR wrong number of arguments for 'xgroup|delconsumer' command"),
        [],
    )
    assert run(ks, "XGROUP DELCONSUMER s g nobody") == (0, [])
    assert run(ks, "XGROUP DELCONSUMER s g c") == (1, ["XGROUP DELCONSUMER s g c"])
    g = stream(ks).groups[b"g"]
    assert list(g.pel) == [(2, 1)] and list(g.consumers) == [b"d"]


def test_xgroup_unknown_subcommand_live_and_on_replay() -> None:
    ks = ks_with("XADD s 1-1 f v")
    assert run(ks, "XGROUP bogus s g") == (
        err("ERR unknown subcommand 'bogus'. Try XGROUP HELP."),
        [],
    )
    # the rewrite's replay set takes CREATE and CREATECONSUMER only
    rewrite_only = KEVY_1_17.with_switches("replay_stream_verbs")
    out = apply(ks, _argv("XGROUP destroy s g"), profile=rewrite_only)
    assert out == Applied(Outcome.IGNORED, b"XGROUP", "XGROUP DESTROY is not replayed")


# -- XCLAIM ------------------------------------------------------------------------------


def _claimable() -> Keyspace:
    return ks_with("XADD s 1-1 f v", "XADD s 2-1 g w", "XGROUP CREATE s g 0")


def test_xclaim_errors() -> None:
    ks = _claimable()
    assert run(ks, "XCLAIM nope g c 0 1-1") == (
        err("NOGROUP No such key 'nope' or consumer group 'g'"),
        [],
    )
    assert run(ks, "XCLAIM s nog c 0 1-1") == (
        err("NOGROUP No such key 's' or consumer group 'nog'"),
        [],
    )
    assert run(ks, "XCLAIM s g c x 1-1") == (
        err("ERR Invalid min-idle-time argument for XCLAIM"),
        [],
    )
    for opt in ("IDLE", "TIME", "RETRYCOUNT"):
        assert run(ks, f"XCLAIM s g c 0 1-1 {opt} x") == (
            err(f"ERR Invalid {opt} option argument for XCLAIM"),
            [],
        )
    assert run(ks, "XCLAIM s g c 0 1-1 BOGUS") == (
        err("ERR Unrecognized XCLAIM option 'BOGUS'"),
        [],
    )
    assert run(ks, "XCLAIM s g c 0 1-1 IDLE") == (
        err("ERR Unrecognized XCLAIM option 'IDLE'"),
        [],
    )
    assert run(ks, "XCLAIM s g c 0 1-1 LASTID bad") == (ERR_ID, [])
    assert stream(ks).groups[b"g"].pel == {}


def test_xclaim_force_installs_rows_with_the_options() -> None:
    ks = _claimable()
    reply, log = run(ks, "XCLAIM s g c 0 1-1 2-1 9-9 TIME 77 RETRYCOUNT 4 FORCE")
    assert reply == [[b"1-1", [b"f", b"v"]], [b"2-1", [b"g", b"w"]]]
    assert log == ["XCLAIM s g c 0 1-1 2-1 9-9 TIME 77 RETRYCOUNT 4 FORCE"]
    g = stream(ks).groups[b"g"]
    assert g.pel == {(1, 1): PelRow(b"c", 77, 4), (2, 1): PelRow(b"c", 77, 4)}
    assert g.consumers == {b"c": T0}


def test_xclaim_without_force_skips_unread_entries() -> None:
    ks = _claimable()
    assert run(ks, "XCLAIM s g c 0 1-1") == ([], ["XCLAIM s g c 0 1-1"])
    assert stream(ks).groups[b"g"].pel == {}


def test_xclaim_counts_and_idle_time() -> None:
    ks = _claimable()
    run(ks, "XCLAIM s g c 0 1-1 FORCE JUSTID")
    g = stream(ks).groups[b"g"]
    assert g.pel[(1, 1)] == PelRow(b"c", T0, 0)  # kevy: FORCE starts at 0, JUSTID adds none
    ks.clock.advance(100)  # type: ignore[attr-defined]
    # not idle long enough: untouched
    assert run(ks, "XCLAIM s g d 101 1-1")[0] == []
    # idle exactly long enough: claimed, count + 1, IDLE 30 -> delivered 30 ms ago
    assert run(ks, "XCLAIM s g d 100 1-1 IDLE 30 JUSTID") == (
        [b"1-1"],
        ["XCLAIM s g d 100 1-1 IDLE 30 JUSTID"],
    )
    assert g.pel[(1, 1)] == PelRow(b"d", T0 + 70, 0)
    run(ks, "XCLAIM s g d 0 1-1")
    assert g.pel[(1, 1)] == PelRow(b"d", T0 + 100, 1)
    # min-idle 0 or negative claims whatever the idle time; a past TIME is clamped at 0
    run(ks, "XCLAIM s g e -5 1-1 TIME -9")
    assert g.pel[(1, 1)] == PelRow(b"e", 0, 2)


def test_xclaim_force_count_and_seen_time_under_redis_switches() -> None:
    p = KEVY_1_17.with_switches("redis_xclaim_force_count", "redis_xclaim_seen_time")
    ks = ks_with("XADD s 1-1 f v", "XADD s 2-1 f v", "XGROUP CREATE s g 0", profile=p)
    run(ks, "XGROUP CREATECONSUMER s g c", p)
    ks.clock.advance(5)  # type: ignore[attr-defined]
    run(ks, "XCLAIM s g c 0 1-1 FORCE", p)
    g = stream(ks).groups[b"g"]
    assert g.pel[(1, 1)] == PelRow(b"c", T0 + 5, 2)
    assert g.consumers[b"c"] == T0 + 5
    # kevy: an existing consumer keeps its seen-time
    ks = ks_with("XADD s 1-1 f v", "XGROUP CREATE s g 0", "XGROUP CREATECONSUMER s g c")
    ks.clock.advance(5)  # type: ignore[attr-defined]
    run(ks, "XCLAIM s g c 0 1-1 FORCE")
    assert stream(ks).groups[b"g"].consumers[b"c"] == T0


def test_xclaim_drops_the_row_of_a_deleted_entry() -> None:
    ks = _claimable()
    run(ks, "XCLAIM s g c 0 1-1 2-1 FORCE")
    run(ks, "XDEL s 1-1")
    assert run(ks, "XCLAIM s g d 0 1-1 3-3")[0] == []
    assert list(stream(ks).groups[b"g"].pel) == [(2, 1)]


def test_xclaim_lastid_only_moves_forward() -> None:
    ks = _claimable()
    run(ks, "XGROUP SETID s g 2-0")
    g = stream(ks).groups[b"g"]
    run(ks, "XCLAIM s g c 0 1-1 LASTID 1-5")
    assert g.last_delivered == (2, 0)
    run(ks, "XCLAIM s g c 0 1-1 LASTID 2-0")
    assert g.last_delivered == (2, 0)
    run(ks, "XCLAIM s g c 0 1-1 LASTID 3-0")
    assert g.last_delivered == (3, 0)


def test_xclaim_logged_per_row_under_f16() -> None:
    ks = _claimable()
    run(ks, "XCLAIM s g c 0 1-1 2-1 FORCE", HARDENED)
    run(ks, "XDEL s 2-1", HARDENED)
    ks.clock.advance(10)  # type: ignore[attr-defined]
    # 1-1 moves to d (hardened's FORCE count: 1, +1; JUSTID adds none); 2-1's row
    # is dropped and logged with its old values; every frame carries the new LASTID
    reply, log = run(ks, "XCLAIM s g d 0 1-1 2-1 JUSTID LASTID 1-0", HARDENED)
    assert reply == [b"1-1"]
    assert log == [
        f"XCLAIM s g d 0 1-1 TIME {T0 + 10} RETRYCOUNT 2 FORCE JUSTID LASTID 1-0",
        f"XCLAIM s g c 0 2-1 TIME {T0} RETRYCOUNT 2 FORCE JUSTID LASTID 1-0",
    ]
    # nothing changed and LASTID not moved: nothing logged
    assert run(ks, "XCLAIM s g d 999 1-1 LASTID 0-5", HARDENED) == ([], [])


# -- XACK --------------------------------------------------------------------------------


def test_xack() -> None:
    ks = _claimable()
    run(ks, "XCLAIM s g c 0 1-1 2-1 FORCE")
    assert run(ks, "XACK s g bad") == (ERR_ID, [])
    assert run(ks, "XACK nope g 1-1") == (0, [])
    assert run(ks, "XACK s nog 1-1") == (0, [])
    assert run(ks, "XACK s g 9-9") == (0, [])
    assert run(ks, "XACK s g 1-1 9-9") == (1, ["XACK s g 1-1 9-9"])
    assert list(stream(ks).groups[b"g"].pel) == [(2, 1)]


# -- the tables ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cmd", "argc_ok"),
    [
        ("XADD s 1-1 f", False),
        ("XDEL s", False),
        ("XTRIM s MAXLEN", False),
        ("XLEN s extra", False),
        ("XRANGE s -", False),
        ("XSETID s", False),
        ("XGROUP", False),
        ("XCLAIM s g c 0", False),
        ("XACK s g", False),
        ("XLEN s", True),
        ("XSETID s 1-1", True),
    ],
)
def test_stream_verb_arity(cmd: str, argc_ok: bool) -> None:
    reply, _ = run(ks_with("XADD s 1-1 f v"), cmd)
    verb = cmd.split(" ")[0].lower()
    wrong = err(f"ERR wrong number of arguments for '{verb}' command")
    assert (reply == wrong) is not argc_ok


@pytest.mark.parametrize(
    ("cmd", "argc"),
    [
        ("XADD s 1-1 f v", 5),
        ("XDEL s 1-1", 3),
        ("XTRIM s MAXLEN 0", 4),
        ("XSETID s 1-1", 3),
        ("XGROUP CREATE s g 0", 2),
        ("XCLAIM s g c 0 1-1", 6),
        ("XACK s g 1-1", 4),
    ],
)
def test_stream_replay_minimum_arguments(cmd: str, argc: int) -> None:
    verb = cmd.split(" ")[0].encode()
    short = _argv(cmd)[: argc - 1]
    for profile, dialect in (
        (KEVY_1_17.with_switches("replay_stream_writes"), Dialect.KEVY),
        (KEVY_1_17, Dialect.REDIS),
    ):
        ks = Keyspace(ManualClock(T0), lazy_expire=dialect is Dialect.KEVY)
        out = apply(ks, short, profile=profile, dialect=dialect)
        assert out == Applied(Outcome.IGNORED, verb, "missing arguments"), (cmd, dialect)


# -- edges found by the mutation run -----------------------------------------------------


def test_xrange_minus_starts_at_0_0() -> None:
    ks = ks_with("XADD s 0-1 f v", "XADD s 0-2 g w")
    assert _ids(run(ks, "XRANGE s - +")[0]) == [b"0-1", b"0-2"]
    assert _ids(run(ks, "XRANGE s - + COUNT 1")[0]) == [b"0-1"]
    # an entry 0-0 (no XADD makes one; a snapshot may hold it) is inside "-"
    st = stream(ks)
    st.entries[(0, 0)] = [(b"z", b"z")]
    assert _ids(run(ks, "XRANGE s - 0-1")[0]) == [b"0-0", b"0-1"]


def test_xsetid_logs_a_call_without_maxdeletedid_verbatim() -> None:
    ks = ks_with("XADD s 5-1 f v")
    assert run(ks, "XSETID s 9 entriesadded 3") == ("OK", ["XSETID s 9 entriesadded 3"])


def test_xsetid_live_edges() -> None:
    ks = ks_with("XADD s MAXLEN 0 5-1 x x")
    assert run(ks, "XSETID s 6-0 ENTRIESADDED 0") == ("OK", ["XSETID s 6-0 ENTRIESADDED 0"])
    assert stream(ks).entries_added == 0
    assert run(ks, "XSETID s 7-0 MAXDELETEDID") == (err("ERR syntax error"), [])
    # an ID equal to max_deleted_id is allowed
    ks = ks_with("XADD s 5-1 f v", "XDEL s 5-1")
    assert run(ks, "XSETID s 5-1") == ("OK", ["XSETID s 5-1"])


def test_xgroup_setid_and_delconsumer_on_a_missing_key() -> None:
    ks = _ks()
    assert run(ks, "XGROUP SETID nope g 0") == (NEED_KEY, [])
    assert run(ks, "XGROUP DELCONSUMER nope g c") == (NEED_KEY, [])


def test_xclaim_options_after_lastid_are_read() -> None:
    ks = _claimable()
    assert run(ks, "XCLAIM s g c 0 1-1 LASTID 5-0 JUSTID FORCE")[0] == [b"1-1"]
    assert stream(ks).groups[b"g"].last_delivered == (5, 0)


def test_xclaim_lastid_equal_to_last_delivered_logs_nothing_under_f16() -> None:
    ks = _claimable()
    run(ks, "XGROUP SETID s g 2-0", HARDENED)
    assert run(ks, "XCLAIM s g c 999 1-1 LASTID 2-0", HARDENED) == ([], [])
    assert run(ks, "XCLAIM s g c 999 1-1 LASTID 2-1", HARDENED) == ([], ["XGROUP SETID s g 2-1"])


def test_xclaim_goes_on_past_an_id_it_skips() -> None:
    ks = _claimable()
    # a missing entry first, then one to claim
    assert run(ks, "XCLAIM s g d 0 9-9 1-1 FORCE JUSTID")[0] == [b"1-1"]
    # an entry no one read (no FORCE) first, then one with a row
    assert run(ks, "XCLAIM s g e 0 2-1 1-1 JUSTID")[0] == [b"1-1"]
    # one not idle long enough first, then one that is
    ks = _claimable()
    run(ks, "XCLAIM s g c 0 2-1 FORCE JUSTID")
    ks.clock.advance(100)  # type: ignore[attr-defined]
    run(ks, "XCLAIM s g c 0 1-1 FORCE JUSTID")
    assert run(ks, "XCLAIM s g d 50 1-1 2-1 JUSTID")[0] == [b"2-1"]


def test_xclaim_min_idle_zero_and_one() -> None:
    ks = _claimable()
    run(ks, f"XCLAIM s g c 0 1-1 FORCE TIME {T0 + 1000}")  # delivered "in the future"
    assert run(ks, "XCLAIM s g d 0 1-1 JUSTID")[0] == [b"1-1"]  # 0: no idle check at all
    run(ks, "XCLAIM s g c 0 2-1 FORCE JUSTID")  # delivered now: idle 0
    assert run(ks, "XCLAIM s g d 1 2-1 JUSTID")[0] == []


def test_xgroup_create_reads_every_option() -> None:
    ks = ks_with("XADD s 3-1 f v")
    want = err("ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.")
    assert run(ks, "XGROUP CREATE t g $ MKSTREAM BOGUS") == (want, [])
    assert run(ks, "XGROUP CREATE s g $ ENTRIESREAD 5 BOGUS") == (want, [])
    assert run(ks, "XGROUP CREATE t g $ ENTRIESREAD 5 MKSTREAM") == (
        "OK",
        ["XGROUP CREATE t g 0-0 MKSTREAM"],
    )


def test_xadd_option_words_without_an_id_or_fields() -> None:
    wrong = err("ERR wrong number of arguments for 'xadd' command")
    # MAXLEN with nothing after it is read as the ID (and is none)
    assert run(_ks(), "XADD s NOMKSTREAM NOMKSTREAM MAXLEN") == (ERR_ID, [])
    # options that eat every argument: no ID, no fields
    assert run(_ks(), "XADD s NOMKSTREAM MAXLEN 5") == (wrong, [])
    assert run(_ks(), "XADD s NOMKSTREAM NOMKSTREAM NOMKSTREAM") == (wrong, [])
    # an ID and no fields
    assert run(_ks(), "XADD s NOMKSTREAM NOMKSTREAM 1-1") == (wrong, [])
