"""impl/cli.py: the texts and decisions of the file tools, pinned where a user reads them.

Every option's help is user-visible text: `docs/cli-help.md` lists it, and
`test_cli_help_doc_is_in_step` renders the parser and compares, so a changed
help string is a changed doc (regenerate with
`PYTHONPATH=$PWD python -m tests.test_cli_mutants > docs/cli-help.md`). The
rest pins what mutmut found unchecked by tests/test_cli.py and the hostile-file
tests (README "Adequacy", mutation score): the argument validators' one-line
errors, the role and dialect decisions, the exit codes and the `check` lines.
"""

from __future__ import annotations

import argparse
import io
import json
import os
from pathlib import Path

import pytest

from impl.cli import _shard_count, _unix_ms, build_parser, main, profile_name

DOC = Path(__file__).parent.parent / "docs" / "cli-help.md"


def render_help() -> str:
    """docs/cli-help.md from the parser: every command, option, choice, default and help."""
    p = build_parser()
    lines = [
        "# `kevy-verify` file tools: every option",
        "",
        "Generated from `impl/cli.py`'s parser (the harness commands of `harness/cli.py`",
        "are described by their own `--help`); `tests/test_cli_mutants.py` keeps this file",
        "and `--help` in step. Regenerate:",
        "`PYTHONPATH=$PWD python -m tests.test_cli_mutants > docs/cli-help.md`.",
        "",
        f"{p.description}",
        "",
        f"{p.epilog}",
        "",
    ]
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    helps = {a.dest: a.help for a in sub._choices_actions}
    for name, sp in sub.choices.items():
        lines += [f"## `kevy-verify {name}`", "", f"{helps[name]}", ""]
        if sp.description:
            lines += [sp.description, ""]
        for a in sp._actions:
            if a.help == argparse.SUPPRESS or isinstance(a, argparse._HelpAction):
                continue
            flag = ", ".join(a.option_strings) or a.metavar or a.dest
            extra = []
            if a.choices:
                extra.append("one of " + ", ".join(map(str, a.choices)))
            if a.option_strings and a.default not in (None, False):
                extra.append(f"default {a.default}")
            tail = f" ({'; '.join(extra)})" if extra else ""
            lines.append(f"- `{flag}`{tail}" + (f": {a.help}" if a.help else ""))
        lines.append("")
    return "\n".join(lines)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_help_doc_is_in_step() -> None:
    assert DOC.read_text(encoding="utf-8") == render_help(), (
        "impl/cli.py's help changed: regenerate docs/cli-help.md "
        "(PYTHONPATH=$PWD python -m tests.test_cli_mutants > docs/cli-help.md)"
    )


def test_help_is_what_the_doc_says(capsys: pytest.CaptureFixture[str]) -> None:
    # The doc is generated from the same parser `--help` prints; spot-check the link.
    with pytest.raises(SystemExit) as e:
        main(["dump", "--help"])
    assert e.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "refuse (exit 1) if recovery would skip or drop anything" in text
    assert text.startswith("usage: kevy-verify dump [-h]")


@pytest.mark.parametrize("text", ["0", "1795392000000"])
def test_now_ms_accepts_every_instant_from_the_epoch(text: str) -> None:
    assert _unix_ms(text) == int(text)


@pytest.mark.parametrize("text", ["-1", "abc", "1.5", ""])
def test_now_ms_refuses_anything_else_in_one_line(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError) as e:
        _unix_ms(text)
    assert str(e.value) == f"not a Unix time in ms (an integer >= 0): {text!r}"


@pytest.mark.parametrize("text", ["1", "7", "1024"])
def test_shards_accepts_1_to_1024(text: str) -> None:
    assert _shard_count(text) == int(text)


@pytest.mark.parametrize("text", ["0", "1025", "-3", "x", ""])
def test_shards_refuses_anything_else_in_one_line(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError) as e:
        _shard_count(text)
    assert str(e.value) == f"not a shard count in 1..1024: {text!r}"


def test_profile_name_passes_known_names_and_explains_a_typo() -> None:
    assert profile_name("hardened-aof_dir_fsync") == "hardened-aof_dir_fsync"
    with pytest.raises(argparse.ArgumentTypeError) as e:
        profile_name("hardend")
    assert str(e.value) == (
        "unknown profile 'hardend'; choose one of kevy-1.17, hardened, or one of them "
        "followed by +SWITCH[,SWITCH] or -SWITCH[,SWITCH]"
    )


def test_profiles_json_lists_each_profile_and_switch() -> None:
    from impl.profile import SWITCHES

    code, out, _ = run("profiles", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["format"] == "kevy-verify-profiles/1"
    assert doc["profiles"] == {"kevy-1.17": [], "hardened": sorted(SWITCHES)}
    assert [s["name"] for s in doc["switches"]] == sorted(SWITCHES)
    first = SWITCHES[doc["switches"][0]["name"]]
    assert doc["switches"][0] == {
        "name": first.name,
        "finding": first.finding,
        "summary": first.summary,
    }
    assert out.endswith("}\n") and out.startswith('{\n "format"')


def test_profiles_text_groups_switches_by_finding() -> None:
    from impl.profile import SWITCHES

    code, out, _ = run("profiles")
    assert code == 0
    lines = out.splitlines()
    assert lines[:3] == [
        "kevy-1.17: 0 fix switch(es) on",
        f"hardened: {len(SWITCHES)} fix switch(es) on",
        "",
    ]
    assert lines[3] == "fix switches (all on in `hardened`, all off in `kevy-1.17`):"
    ordered = sorted(SWITCHES.values(), key=lambda s: (s.finding, s.name))
    expected = []
    for sw in ordered:
        expected += [f"  {sw.name}  [{sw.finding}]", f"      {sw.summary}"]
    assert lines[4:] == expected


if __name__ == "__main__":
    print(render_help(), end="")


# --- roles, dialects, parents and error texts -----------------------------------


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("shards.meta", "meta"),
        ("reshard.journal", "journal"),
        ("dump-0.rdb", "snapshot"),
        ("dump-0.rdb.tmp", "snapshot"),
        ("dump-3.rdb.premigration.17", "snapshot"),
        ("aof-0.aof", "aof"),
        ("aof-0.aof.rewrite", "aof"),
        ("appendonly.aof.1.incr.aof", "aof"),
        ("shards.meta.tmp", None),
        ("notes.txt", None),
        ("rdb", None),
        ("xaof", None),
    ],
)
def test_role_of_reads_the_name_only(name: str, role: str | None) -> None:
    from impl.cli import role_of

    assert role_of(name) == role


def test_classify_names_the_path_and_the_way_out(tmp_path: Path) -> None:
    from impl.cli import classify
    from impl.errors import UsageError
    from impl.fs import OsFileSystem

    fs = OsFileSystem()
    (tmp_path / "data.bin").write_bytes(b"")
    (tmp_path / "aof-0.aof").write_bytes(b"")
    assert classify(fs, str(tmp_path)) == "dir"
    assert classify(fs, str(tmp_path / "aof-0.aof")) == "aof"
    assert classify(fs, str(tmp_path / "data.bin"), "snapshot") == "snapshot"
    assert classify(fs, str(tmp_path / "aof-0.aof"), "snapshot") == "snapshot"
    cases = [
        ((str(tmp_path / "nope"), None), f"{tmp_path}/nope: no such file or directory"),
        (
            (str(tmp_path), "aof"),
            f"{tmp_path}: --as aof names a file, this is a directory",
        ),
        (
            (str(tmp_path / "data.bin"), None),
            f"{tmp_path}/data.bin: the name does not say what the file is (kevy names "
            "snapshots *.rdb and logs *.aof); pass --as snapshot or --as aof",
        ),
    ]
    for (path, as_role), text in cases:
        with pytest.raises(UsageError) as e:
            classify(fs, path, as_role)
        assert str(e.value) == text


@pytest.mark.parametrize(
    ("choice", "path", "dialect"),
    [
        ("auto", "d/appendonly.aof", "redis"),
        ("auto", "appendonly.aof.2.incr.aof", "redis"),
        ("auto", "d/aof-0.aof", "kevy"),
        ("auto", "appendonly/aof-0.aof", "kevy"),
        ("kevy", "d/appendonly.aof", "kevy"),
        ("redis", "d/aof-0.aof", "redis"),
    ],
)
def test_resolve_dialect_by_the_file_name(choice: str, path: str, dialect: str) -> None:
    from impl.cli import resolve_dialect

    assert resolve_dialect(choice, path).value == dialect


def test_parent_of_a_path() -> None:
    from impl.cli import _parent

    assert _parent("d/e/shards.meta") == "d/e"
    assert _parent("shards.meta") == "."
    assert _parent("/shards.meta") == ""


def test_error_text_of_os_errors_and_our_own() -> None:
    from impl.cli import _error_text
    from impl.errors import UsageError
    from impl.fs import ReadOnlyViolation

    assert _error_text(FileNotFoundError(2, "No such file or directory", "d/x")) == (
        "d/x: No such file or directory"
    )
    assert _error_text(OSError(5, "Input/output error")) == "Input/output error"
    assert _error_text(OSError("bare")) == "bare"
    assert _error_text(UsageError("mine")) == "mine"
    assert _error_text(ReadOnlyViolation("unlink", "d/x")) == (
        "d/x: refusing to unlink on a read-only file system"
    )


# --- main: exit codes and the one line on stderr ------------------------------------


def test_main_exit_codes_and_their_lines(tmp_path: Path) -> None:
    # A refusal: 1 (after the dropped lines); a decode or usage error: 2, one line.
    torn = tmp_path / "aof-0.aof"
    torn.write_bytes(b"KEVYAOF1\n*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1")
    code, out, err = run("dump", "--now-ms", "0", "--strict", str(torn))
    assert (code, out) == (1, "")
    tail = "22 bytes of an incomplete frame (needs CRLF ending the bulk length of element 3 of 3)"
    assert err.splitlines() == [
        f"kevy-verify: dropped: {torn}: offset 9: skipped-verb: PING",
        f"kevy-verify: dropped: {torn}: offset 23: torn-tail: {tail}",
        f"kevy-verify: refused: {torn}: --strict: recovery would skip or drop data "
        f"(2 place(s), first: {torn}: offset 9: skipped-verb: PING)",
    ]
    bad = tmp_path / "dump-0.rdb"
    bad.write_bytes(b"NOTASNAP")
    code, out, err = run("dump", "--now-ms", "0", str(bad))
    assert (code, out) == (2, "")
    assert err.startswith(f"kevy-verify: error: {bad}: ") and err.count("\n") == 1
    (tmp_path / "d.aof").mkdir()
    code, out, err = run("dump", "--now-ms", "0", "--as", "aof", str(tmp_path / "d.aof"))
    assert code == 2
    assert err == (
        f"kevy-verify: error: {tmp_path}/d.aof: --as aof names a file, this is a directory\n"
    )
    fifo = tmp_path / "f.aof"
    os.mkfifo(fifo)
    code, out, err = run("dump", "--now-ms", "0", str(fifo))
    assert code == 2
    assert err == (
        f"kevy-verify: error: {fifo}: not a regular file (a FIFO); refusing to read it\n"
    )


def test_dump_prints_notes_only_when_verbose(tmp_path: Path) -> None:
    log = tmp_path / "aof-0.aof"
    # INCR of a non-integer fails at replay: a harmless note, not a loss.
    log.write_bytes(
        b"KEVYAOF1\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n"
    )
    code, out, err = run("dump", "--now-ms", "0", str(log))
    assert (code, err) == (0, "")
    code, out2, err = run("dump", "--now-ms", "0", "-v", str(log))
    assert code == 0 and out2 == out
    assert err.startswith(f"kevy-verify: note: {log}: ")
    assert err.count("\n") == 1


# --- check: the report of one log ------------------------------------------------


def _frame(*argv: bytes) -> bytes:
    return b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv)


def _check_lines(path: Path) -> tuple[int, list[str]]:
    code, out, err = run("check", "--now-ms", "0", str(path))
    assert err == ""
    return code, out.splitlines()


def test_check_aof_lists_twenty_noncanonical_frames_then_counts_the_rest(tmp_path: Path) -> None:
    p = tmp_path / "nc.aof"
    p.write_bytes(
        b"KEVYAOF1\n"
        + b"SET a b\r\n" * 22
        + _frame(b"XADD", b"s", b"*", b"f", b"v")
        + _frame(b"SET", b"k", b"v")
        + _frame(b"INCR", b"k")
        + _frame(b"LPUSH", b"k", b"x")
    )
    code, lines = _check_lines(p)
    assert code == 1
    inline = [
        f"  offset {9 + 9 * i}: inline frame not in kevy's canonical form: (b'SET', b'a', b'b')"
        for i in range(20)
    ]
    assert lines == [
        f"{p}: aof, 326 bytes, magic KEVYAOF1",
        *inline,
        "  ... 2 more non-canonical frames",
        "  frames: 26 complete, outcome clean, dialect kevy",
        "  skipped verb XADD: 1 frame(s), first at offset 207",
        "  2 command(s) failed at replay and were discarded (first at offset 276: INCR: "
        "ERR value is not an integer or out of range)",
        "2 problem(s)",
    ]


def test_check_aof_with_exactly_twenty_noncanonical_frames_has_no_more_line(
    tmp_path: Path,
) -> None:
    p = tmp_path / "nc.aof"
    p.write_bytes(b"KEVYAOF1\n" + b"SET a b\r\n" * 20)
    code, lines = _check_lines(p)
    assert code == 1
    assert lines[-3:] == [
        "  offset 180: inline frame not in kevy's canonical form: (b'SET', b'a', b'b')",
        "  frames: 20 complete, outcome clean, dialect kevy",
        "1 problem(s)",
    ]
    p.write_bytes(b"KEVYAOF1\n" + b"SET a b\r\n" * 21)
    assert _check_lines(p)[1][-4:] == [
        "  offset 180: inline frame not in kevy's canonical form: (b'SET', b'a', b'b')",
        "  ... 1 more non-canonical frames",
        "  frames: 21 complete, outcome clean, dialect kevy",
        "1 problem(s)",
    ]
    legacy = tmp_path / "legacy.aof"
    legacy.write_bytes(b"SET a b c\r\n")
    assert _check_lines(legacy)[1] == [
        f"{legacy}: aof, 11 bytes, no magic (legacy layout; kevy 1.2+ writes one)",
        "  offset 0: inline frame not in kevy's canonical form: (b'SET', b'a', b'b')",
        "  frames: 1 complete, outcome clean, dialect kevy",
        "2 problem(s)",
    ]
    q = tmp_path / "one.aof"
    q.write_bytes(b"KEVYAOF1\n" + b"SET a b\r\n" + _frame(b"SET", b"c", b"d"))
    assert _check_lines(q) == (
        1,
        [
            f"{q}: aof, 45 bytes, magic KEVYAOF1",
            "  offset 9: inline frame not in kevy's canonical form: (b'SET', b'a', b'b')",
            "  frames: 2 complete, outcome clean, dialect kevy",
            "1 problem(s)",
        ],
    )


@pytest.mark.parametrize(
    ("data", "header", "rest"),
    [
        (
            _frame(b"SET", b"k", b"v"),
            "27 bytes, no magic (legacy layout; kevy 1.2+ writes one)",
            ["  frames: 1 complete, outcome clean, dialect kevy", "1 problem(s)"],
        ),
        (
            b"KEVYA",
            "5 bytes, no magic (legacy layout; kevy 1.2+ writes one); starts like a partial "
            "magic header",
            [
                "  frames: 0 complete, outcome truncated_tail, dialect kevy",
                "  offset 0: torn-tail: 5 bytes of an incomplete frame (needs CRLF ending the "
                "inline command)",
                "2 problem(s)",
            ],
        ),
        (
            b"Kxx",
            "3 bytes, no magic (legacy layout; kevy 1.2+ writes one); starts like a partial "
            "magic header",
            [
                "  frames: 0 complete, outcome truncated_tail, dialect kevy",
                "  offset 0: torn-tail: 3 bytes of an incomplete frame (needs CRLF ending the "
                "inline command)",
                "2 problem(s)",
            ],
        ),
        (
            b"",
            "0 bytes, no magic (legacy layout; kevy 1.2+ writes one)",
            ["  frames: 0 complete, outcome clean, dialect kevy", "ok"],
        ),
    ],
    ids=["legacy", "partial-magic", "starts-with-K", "empty"],
)
def test_check_aof_header_says_whether_the_magic_is_there(
    tmp_path: Path, data: bytes, header: str, rest: list[str]
) -> None:
    p = tmp_path / "x.aof"
    p.write_bytes(data)
    code, lines = _check_lines(p)
    assert lines == [f"{p}: aof, {header}", *rest]
    assert code == (0 if rest[-1] == "ok" else 1)


# --- check: shards.meta, the journal and a snapshot, line by line ------------------


def _run_private(fn: object, *args: object) -> tuple[int, list[str]]:
    out = io.StringIO()
    code = fn(*args, out)  # type: ignore[operator]
    return code, out.getvalue().splitlines()


def test_check_meta_lines(tmp_path: Path) -> None:
    from impl.cli import _check_meta
    from impl.fs import OsFileSystem

    fs = OsFileSystem()
    p = tmp_path / "shards.meta"
    p.write_bytes(b"2\nkevyhash\n")
    assert _run_private(_check_meta, fs, str(p)) == (
        0,
        [f"{p}: shards.meta, 2 shard(s), routing kevyhash"],
    )
    p.write_bytes(b" 2\r\nkevyhash")
    assert _run_private(_check_meta, fs, str(p)) == (
        3,
        [
            f"{p}: shards.meta, 2 shard(s), routing kevyhash",
            "  CRLF line endings (kevy writes LF)",
            "  no newline after the last line",
            "  whitespace around the shard count",
        ],
    )
    p.write_bytes(b"  5000\nkevyhash\n")
    code, lines = _run_private(_check_meta, fs, str(p))
    assert code == 1
    assert lines[0] == f"{p}: shards.meta, 5000 shard(s), routing kevyhash"
    # The count's offset is past the leading spaces.
    assert lines[1] == (
        f"  {p}: corrupt shard count at offset 2: 5000 shards, but the directory holds 1 "
        "entries and no count above 1024 is taken without that many files; kevy 1.17 would "
        "loop over every one of them on open (FINDINGS F40)"
    )
    assert len(lines) == 2
    p.write_bytes(b"x\n")
    code, lines = _run_private(_check_meta, fs, str(p))
    assert code == 1
    assert lines == [
        f"{p}: corrupt shards.meta at offset 0: line 1 is not a shard count (a character "
        "that is not an ASCII digit): expected a shard count: optional '+' then ASCII "
        "digits, below 2**64, got b'x'"
    ]


def test_check_journal_lines(tmp_path: Path) -> None:
    from impl.cli import _check_journal
    from impl.fs import OsFileSystem
    from impl.journal import Journal, format_journal
    from impl.layout import Routing

    fs = OsFileSystem()
    p = tmp_path / "reshard.journal"
    p.write_bytes(format_journal(Journal(stamp=7, prev_n=2, n=3, routing=Routing.KEVYHASH)))
    head = f"{p}: re-shard journal stamp=7 prev_n=2 n=3 routing=kevyhash: committed, "
    assert _run_private(_check_journal, fs, str(p)) == (
        1,
        [head + "the next open rolls it forward"],
    )
    # Both counts are checked, the second too, and one complaint is enough.
    for prev_n, n in ((2, 5000), (5000, 6000)):
        p.write_bytes(
            format_journal(Journal(stamp=7, prev_n=prev_n, n=n, routing=Routing.KEVYHASH))
        )
        code, lines = _run_private(_check_journal, fs, str(p))
        assert code == 1 and len(lines) == 2
        bad = n if prev_n == 2 else prev_n
        # The entries counted are the journal's own directory's: the journal alone.
        assert lines[1].startswith(
            f"  {p}: corrupt shard count at offset 0: {bad} shards, but the directory holds "
            "1 entries and "
        )
    p.write_bytes(b"garbage")
    assert _run_private(_check_journal, fs, str(p)) == (
        1,
        [
            f"{p}: torn reshard.journal at offset 0: line 1 is not the journal header: "
            "expected 'kevy-reshard-journal v1', got b'garbage' (torn: the next open "
            "deletes it)"
        ],
    )


def _saved_snapshot(tmp_path: Path, *writes: list[bytes]) -> bytes:
    from impl.clock import ManualClock
    from impl.fs import OsFileSystem
    from impl.store import Store, StoreConfig

    d = tmp_path / "store"
    s = Store.open(
        StoreConfig(data_dir=str(d), reaper="manual"), fs=OsFileSystem(), clock=ManualClock(1000)
    )
    for argv in writes:
        s.execute(argv)
    s.save()
    s.close()
    return (d / "dump-0.rdb").read_bytes()


def test_check_snapshot_notes_an_old_version_and_records_expired_at_load(
    tmp_path: Path,
) -> None:
    data = _saved_snapshot(tmp_path, [b"SET", b"k", b"v", b"PX", b"1000"], [b"SET", b"j", b"w"])
    p = tmp_path / "dump-0.rdb"
    p.write_bytes(data)
    code, out, _ = run("check", "--now-ms", "5000", str(p))
    assert (code, out.splitlines()) == (
        0,
        [
            f"{p}: snapshot v4, 42 bytes, 2 records (2 string)",
            "  1 record(s) already expired at load (first at offset 9)",
            "ok",
        ],
    )
    old = tmp_path / "old.rdb"
    old.write_bytes(data[:8] + b"\x03" + data[9:])
    code, out, _ = run("check", "--now-ms", "1500", str(old))
    assert (code, out.splitlines()) == (
        0,
        [
            f"{old}: snapshot v3, 42 bytes, 2 records (2 string)",
            "  version 3: written by an older kevy (1.17 writes 4)",
            "ok",
        ],
    )
    empty = tmp_path / "empty.rdb"
    empty.write_bytes(_saved_snapshot(tmp_path / "e"))
    code, out, _ = run("check", "--now-ms", "0", str(empty))
    assert code == 0
    assert (
        out.splitlines()[0]
        == f"{empty}: snapshot v4, {empty.stat().st_size} bytes, 0 records (no records)"
    )


# --- a Redis appendonlydir, bare names, repair's role, the parser's edges ---------------


def _redis_dir(tmp_path: Path) -> Path:
    d = tmp_path / "appendonlydir"
    d.mkdir()
    (d / "appendonly.aof.manifest").write_text("file b.aof seq 1 type b\nfile i.aof seq 1 type i\n")
    sel = _frame(b"SELECT", b"0")
    (d / "b.aof").write_bytes(sel + _frame(b"SET", b"k", b"v"))
    (d / "i.aof").write_bytes(
        sel + _frame(b"INCR", b"k") + _frame(b"SET", b"n", b"1", b"PXAT", b"1000")
    )
    return d


def test_check_with_dialect_kevy_reports_no_redis_notes(tmp_path: Path) -> None:
    # A torn aof-0.aof beside the manifest: read as a kevy directory its torn tail
    # is reported once, by the listing (the manifest's own torn "frame" is the
    # other), and the verdict adds nothing: the Redis branch's notes are not read.
    d = _redis_dir(tmp_path)
    (d / "aof-0.aof").write_bytes(b"KEVYAOF1\n*1\r\n$3\r\nSE")
    code, out, _ = run("check", "--now-ms", "0", "--dialect", "kevy", str(d))
    assert code == 1
    assert out.count("torn-tail") == 2
    assert out.splitlines()[-1] == "7 problem(s)"


def test_dump_and_check_of_a_redis_appendonlydir(tmp_path: Path) -> None:
    d = _redis_dir(tmp_path)
    code, out, err = run("dump", "--now-ms", "0", str(d))
    assert code == 0
    assert json.loads(out)["keys"] == [
        {"key": "k", "type": "string", "expire_at_ms": None, "value": "v"},
        {"key": "n", "type": "string", "expire_at_ms": 1000, "value": "1"},
    ]
    dropped = f"{d}/i.aof: offset 23: ignored: INCR: ERR value is not an integer or out of range"
    assert err == f"kevy-verify: dropped: {dropped}\n"
    # At 1000 the key with the deadline is gone: dump judges TTLs at --now-ms.
    assert [k["key"] for k in json.loads(run("dump", "--now-ms", "1000", str(d))[1])["keys"]] == [
        "k"
    ]
    code, out, err = run("check", "--now-ms", "0", str(d))
    assert (code, out, err) == (1, f"  {dropped}\n1 problem(s)\n", "")
    # --dialect kevy reads the directory as a kevy data directory: every file by its role.
    code, out, _ = run("check", "--now-ms", "0", "--dialect", "kevy", str(d))
    assert code == 1
    assert out.splitlines()[-1] == "6 problem(s)"
    assert f"{d}/b.aof: aof, 50 bytes, no magic (legacy layout; kevy 1.2+ writes one)" in out
    code, out, _ = run("dump", "--now-ms", "0", "--dialect", "kevy", str(d))
    assert (code, json.loads(out)["keys"]) == (0, [])


def test_check_json_document_of_problems_and_of_ok(tmp_path: Path) -> None:
    d = _redis_dir(tmp_path)
    code, out, _ = run("check", "--now-ms", "0", "--format", "json", str(d))
    doc = json.loads(out)
    assert code == 1 and out.endswith("}\n")
    assert doc == {
        "format": "kevy-verify-check/1",
        "path": str(d),
        "exit": 1,
        "problems": 1,
        "verdict": "1 problem(s)",
        "lines": [
            f"  {d}/i.aof: offset 23: ignored: INCR: ERR value is not an integer or out of range"
        ],
    }
    p = tmp_path / "aof-0.aof"
    p.write_bytes(b"KEVYAOF1\n" + _frame(b"SET", b"a", b"b"))
    code, out, _ = run("check", "--now-ms", "0", "--format", "json", str(p))
    doc = json.loads(out)
    assert (code, doc["problems"], doc["verdict"], doc["exit"]) == (0, 0, "ok", 0)
    assert doc["lines"] == [
        f"{p}: aof, 36 bytes, magic KEVYAOF1",
        "  frames: 1 complete, outcome clean, dialect kevy",
    ]
    code, out, _ = run("check", "--now-ms", "0", str(p))
    assert out.endswith("\nok\n")


def test_check_of_a_directory_lists_every_entry_by_its_name(tmp_path: Path) -> None:
    d = tmp_path / "dataX"  # a name ending in X: only the trailing '/' is cut
    d.mkdir()
    (d / "aof-0.aof").write_bytes(_frame(b"SET", b"a", b"b"))  # no magic: a problem
    (d / "notes.txt").write_bytes(b"hello")
    (d / "dump-0.rdb").mkdir()
    (d / "shards.meta").write_bytes(b"1\nkevyhash\n")
    code, out, _ = run("check", "--now-ms", "0", str(d) + "/")
    assert code == 1
    lines = out.splitlines()
    assert lines[:5] == [
        f"{d}/aof-0.aof: aof, 27 bytes, no magic (legacy layout; kevy 1.2+ writes one)",
        "  frames: 1 complete, outcome clean, dialect kevy",
        f"{d}/dump-0.rdb: a directory where kevy expects a snapshot file",
        f"{d}/notes.txt: not a kevy file name; skipped",
        f"{d}/shards.meta: shards.meta, 1 shard(s), routing kevyhash",
    ]
    assert lines[5].startswith(f"{d}/: kevy would not open it: {d}/dump-0.rdb: ")
    assert lines[6:] == ["3 problem(s)"]


def test_check_of_a_directory_with_an_impossible_shard_count_stops_there(tmp_path: Path) -> None:
    d = tmp_path / "data"
    d.mkdir()
    (d / "shards.meta").write_bytes(b"5000\nkevyhash\n")
    (d / "aof-0.aof").write_bytes(b"")
    code, out, _ = run("check", "--now-ms", "0", str(d))
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 2 and lines[1] == "1 problem(s)"
    assert lines[0].startswith(f"{d}/shards.meta: corrupt shard count at offset 0: 5000 shards")


def test_check_of_a_bare_file_read_as_a_snapshot(tmp_path: Path) -> None:
    p = tmp_path / "data.bin"
    p.write_bytes(b"KEVYSNAP\x04")
    code, out, _ = run("check", "--now-ms", "0", "--as", "snapshot", str(p))
    lines = out.splitlines()
    assert code == 1
    assert lines[0].startswith(f"{p}: snapshot, 9 bytes: {p}: truncated ")
    assert lines[1].startswith(f"{p}: kevy would not open it: {p}: truncated ")
    assert lines[2] == "2 problem(s)"
    code, out, err = run("check", "--now-ms", "0", str(p))
    assert (code, out) == (2, "")
    assert err.endswith("pass --as snapshot or --as aof\n")


def test_check_counts_each_snapshot_finding(tmp_path: Path) -> None:
    good = (Path(__file__).parent / "golden/snapshots/snap_one_each.rdb").read_bytes()
    p = tmp_path / "dump-0.rdb"
    p.write_bytes(good + b"junk")
    code, out, _ = run("check", "--now-ms", "0", str(p))
    lines = out.splitlines()
    assert code == 1 and lines[-1] == "1 problem(s)"
    assert lines[0] == (
        f"{p}: snapshot v4, {len(good) + 4} bytes, 6 records (1 hash, 1 list, 1 set, "
        "1 stream, 1 string, 1 zset)"
    )
    assert "after the EOF marker" in lines[1]
    # dump drops nothing it would keep, but the trailing bytes are a loss to --strict.
    code, _, err = run("dump", "--now-ms", "0", "--strict", str(p))
    assert code == 1
    assert err.startswith(f"kevy-verify: dropped: {p}: 4 bytes after the EOF marker at offset ")


def test_an_unreadable_file_in_check_is_one_line_naming_it(tmp_path: Path) -> None:
    fifo = tmp_path / "aof-0.aof"
    os.mkfifo(fifo)
    code, out, _ = run("check", "--now-ms", "0", str(fifo))
    lines = out.splitlines()
    assert code == 1
    assert lines[0] == f"{fifo}: aof: not a regular file (a FIFO); refusing to read it"
    assert lines[-1] == "2 problem(s)"


def test_repair_reads_a_bare_name_as_a_log_and_only_a_log(tmp_path: Path) -> None:
    log = tmp_path / "log.bin"
    log.write_bytes(b"KEVYAOF1\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1")
    code, out, err = run("repair", "--now-ms", "5", "--dry-run", str(log))
    assert (code, err) == (0, "")
    assert out == (
        f"{log}: would cut 22 bytes of a torn frame at offset 9, keeping 0 frames "
        f"(backup {log}.bak-5)\n"
    )
    assert log.read_bytes().endswith(b"$1")
    snap = tmp_path / "dump-0.rdb"
    snap.write_bytes(b"KEVYSNAP")
    code, _, err = run("repair", str(snap))
    assert (code, err) == (2, f"kevy-verify: error: {snap}: repair works on an AOF file only\n")
    d = tmp_path / "d"
    d.mkdir()
    code, _, err = run("repair", str(d))
    assert (code, err) == (
        2,
        f"kevy-verify: error: {d}: --as aof names a file, this is a directory\n",
    )


def test_the_parser_needs_a_command_and_checks_hidden_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as e:
        main([])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: kevy-verify [-h] COMMAND ...\n")
    assert "the following arguments are required: COMMAND" in err
    code, out, _ = run("profiles", "--now-ms", "5")
    assert code == 0 and out.startswith("kevy-1.17: 0 fix switch(es) on\n")
    for argv in (["profiles", "--now-ms", "-1"], ["dump", "--shards", "0", "/nonexistent"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2
    capsys.readouterr()


def test_dump_of_a_directory_opens_it_with_the_shard_count_asked(tmp_path: Path) -> None:
    from impl.clock import ManualClock
    from impl.fs import OsFileSystem
    from impl.store import Store, StoreConfig

    d = tmp_path / "data"
    s = Store.open(
        StoreConfig(data_dir=str(d), shards=2, reaper="manual"),
        fs=OsFileSystem(),
        clock=ManualClock(0),
    )
    for i in range(6):
        s.set(b"k%d" % i, b"v")
    s.close()
    one = json.loads(run("dump", "--now-ms", "0", str(d))[1])
    four = run("dump", "--now-ms", "0", "--shards", "4", "-v", str(d))
    assert four[0] == 0 and json.loads(four[1]) == one
    # Opening with 4 shards re-shards (in memory): the notes name the new files.
    assert f"kevy-verify: note: recovery would change + {d}/dump-3.rdb" in four[2]
    assert run("dump", "--now-ms", "0", "-v", str(d))[2] == ""
    assert len(one["keys"]) == 6
    # --shards 4 re-shards in memory only: the directory still says 2.
    assert (d / "shards.meta").read_bytes().startswith(b"2\n")


class _GonePipe(io.StringIO):
    """sys.stdout of a process whose reader went away; its descriptor is a real file."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self.fd = fd

    def write(self, s: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def fileno(self) -> int:
        return self.fd


def test_a_broken_stdout_is_pointed_at_devnull(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    fd = os.open(tmp_path / "stdout", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        monkeypatch.setattr(sys, "stdout", _GonePipe(fd))
        assert main(["profiles"]) == 0
        assert os.readlink(f"/proc/self/fd/{fd}") == os.devnull
    finally:
        os.close(fd)


def test_a_repeated_snapshot_key_is_a_note_and_every_finding_a_problem(tmp_path: Path) -> None:
    one = _saved_snapshot(tmp_path, [b"SET", b"k", b"v"])
    header, record, eof = one[:9], one[9:-1], one[-1:]
    p = tmp_path / "dump-0.rdb"
    p.write_bytes(header + record + record + eof)
    code, out, err = run("dump", "--now-ms", "0", "--strict", "-v", str(p))
    assert code == 0
    note = "record at offset 21: key b'k' repeats an earlier key (replaced)"
    assert err == f"kevy-verify: note: {p}: {note}\n"
    p.write_bytes(header + record + record + eof + b"junk")
    code, out, _ = run("check", "--now-ms", "0", str(p))
    assert code == 1 and out.splitlines()[-1] == "2 problem(s)"


def test_a_log_is_read_in_the_dialect_its_name_says(tmp_path: Path) -> None:
    setx = _frame(b"SET", b"k", b"v", b"PXAT", b"5000")
    redis = tmp_path / "appendonly.aof"
    redis.write_bytes(setx)
    kevy = tmp_path / "aof-0.aof"
    kevy.write_bytes(setx)
    doc = json.loads(run("dump", "--now-ms", "0", str(redis))[1])
    assert doc["keys"][0]["expire_at_ms"] == 5000  # Redis's SET options apply
    doc = json.loads(run("dump", "--now-ms", "0", str(kevy))[1])
    assert doc["keys"][0]["expire_at_ms"] is None  # kevy 1.17's replay ignores them


def test_dump_of_a_file_that_holds_no_keys_says_to_check_it(tmp_path: Path) -> None:
    p = tmp_path / "shards.meta"
    p.write_bytes(b"1\nkevyhash\n")
    code, out, err = run("dump", str(p))
    assert (code, out) == (2, "")
    assert err == f"kevy-verify: error: {p}: a meta file holds no keys; use `kevy-verify check`\n"
