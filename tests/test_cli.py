"""The `kevy-verify` file tools against the golden files kevy 1.17 wrote.

Every golden artifact must dump to exactly the keyspace kevy itself read from
it; `dump` reports what it dropped with offsets and `--strict` refuses;
`check` exits non-zero on any problem; `repair` cuts only a torn tail, keeps a
backup, and refuses corruption; `dump` and `check` never change a byte.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest

from harness.cli import main as harness_main
from impl.cli import main
from impl.keyspace_json import describe_difference

GOLDEN = Path(__file__).parent / "golden"
#: 2026-11-23T00:00:00Z, when the golden files were generated: their TTLs are live.
NOW = "1795392000000"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def tree_digest(path: Path) -> dict[str, str]:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


GOLDEN_CASES = [
    ("snapshots/snap_one_each.rdb", "snapshots/snap_one_each.json"),
    ("snapshots/snap_binary.rdb", "snapshots/snap_binary.json"),
    ("aof/aof_plain.aof", "aof/aof_plain.json"),
    ("aof/aof_legacy_nomagic.aof", "aof/aof_legacy_nomagic.json"),
    ("aof/aof_trunc_mid_bulk_data.aof", "aof/aof_trunc_mid_bulk_data.json"),
    ("aof/aof_corrupt_missing_crlf.aof", "aof/aof_corrupt_missing_crlf.json"),
    ("dirs/dir_single", "dirs/dir_single.json"),
]


@pytest.mark.parametrize(("artifact", "expected"), GOLDEN_CASES, ids=[c[0] for c in GOLDEN_CASES])
def test_golden_dumps_to_kevys_keyspace(artifact: str, expected: str, tmp_path: Path) -> None:
    src = GOLDEN / artifact
    target = tmp_path / src.name
    if src.is_dir():
        shutil.copytree(src, target)
    else:
        shutil.copy(src, target)
    before = tree_digest(target)
    code, out, err = run("dump", str(target), "--now-ms", NOW)
    assert code == 0, err
    want = json.loads((GOLDEN / expected).read_text())
    got = json.loads(out)
    assert got["format"] == "kevy-keyspace/1"
    assert describe_difference(want, got) is None, describe_difference(want, got)
    assert tree_digest(target) == before, "dump modified what it read"


def test_dump_reports_torn_tail_with_offset_and_strict_refuses() -> None:
    path = str(GOLDEN / "aof/aof_trunc_mid_bulk_data.aof")
    code, out, err = run("dump", path, "--now-ms", NOW)
    assert code == 0
    assert "torn-tail" in err and "offset 2327" in err and "10 bytes" in err
    code, out, err = run("dump", path, "--now-ms", NOW, "--strict")
    assert code == 1 and out == ""
    assert "refused" in err and "offset 2327" in err


def test_dump_reports_corrupt_frame_and_everything_after_it() -> None:
    path = str(GOLDEN / "aof/aof_corrupt_missing_crlf.aof")
    code, _out, err = run("dump", path, "--now-ms", NOW)
    assert code == 0
    assert "corrupt-frame" in err and "offset 822" in err and "1540 bytes" in err
    assert "bulk string not CRLF-terminated" in err


def test_dump_of_a_clean_log_says_nothing() -> None:
    code, _out, err = run("dump", str(GOLDEN / "aof/aof_plain.aof"), "--now-ms", NOW, "--strict")
    assert code == 0 and err == ""


def test_dump_reports_skipped_verbs_and_inline_commands(tmp_path: Path) -> None:
    aof = tmp_path / "a.aof"
    aof.write_bytes(
        b"KEVYAOF1\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
        b"*3\r\n$4\r\nXADD\r\n$2\r\nst\r\n$1\r\n*\r\n"  # a stream verb kevy skips
        b"SET j w\r\n"  # an inline command
    )
    code, out, err = run("dump", str(aof), "--now-ms", NOW)
    assert code == 0
    assert "skipped-verb: XADD" in err and "offset 36" in err
    assert "inline" in err and "offset 65" in err
    assert [k["key"] for k in json.loads(out)["keys"]] == ["j", "k"]


@pytest.mark.parametrize(
    ("artifact", "code"),
    [
        ("aof/aof_plain.aof", 0),
        ("snapshots/snap_one_each.rdb", 0),
        ("dirs/dir_single", 0),
        ("aof/aof_legacy_nomagic.aof", 1),
        ("aof/aof_trunc_mid_bulk_data.aof", 1),
        ("aof/aof_corrupt_missing_crlf.aof", 1),
    ],
)
def test_check_exit_code(artifact: str, code: int) -> None:
    path = GOLDEN / artifact
    before = tree_digest(path)
    got, out, err = run("check", str(path), "--now-ms", NOW)
    assert got == code, out + err
    assert tree_digest(path) == before


def test_check_names_problem_offsets() -> None:
    _, out, _ = run("check", str(GOLDEN / "aof/aof_corrupt_missing_crlf.aof"), "--now-ms", NOW)
    assert "offset 822" in out and "23 complete" in out
    _, out, _ = run("check", str(GOLDEN / "aof/aof_trunc_mid_bulk_data.aof"), "--now-ms", NOW)
    assert "offset 2327" in out and "57 complete" in out


def test_check_flags_snapshot_trailing_bytes_and_truncation(tmp_path: Path) -> None:
    good = (GOLDEN / "snapshots/snap_one_each.rdb").read_bytes()
    trailing = tmp_path / "t.rdb"
    trailing.write_bytes(good + b"junk")
    code, out, _ = run("check", str(trailing))
    assert code == 1 and f"offset {len(good)}" in out
    cut = tmp_path / "c.rdb"
    cut.write_bytes(good[:100])
    code, out, _ = run("check", str(cut))
    assert code == 1 and "truncated" in out


def test_dump_of_a_truncated_snapshot_is_one_line_error(tmp_path: Path) -> None:
    good = (GOLDEN / "snapshots/snap_one_each.rdb").read_bytes()
    cut = tmp_path / "c.rdb"
    cut.write_bytes(good[:100])
    code, out, err = run("dump", str(cut))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and str(cut) in err and "offset" in err
    assert "Traceback" not in err


def test_repair_cuts_torn_tail_and_keeps_backup(tmp_path: Path) -> None:
    src = (GOLDEN / "aof/aof_trunc_mid_bulk_data.aof").read_bytes()
    aof = tmp_path / "aof-0.aof"
    aof.write_bytes(src)
    code, out, err = run("repair", str(aof), "--backup", str(tmp_path / "bak"))
    assert code == 0, err
    assert (tmp_path / "bak").read_bytes() == src
    assert aof.read_bytes() == src[:2327]
    code, out, _ = run("check", str(aof), "--now-ms", NOW)
    assert code == 0, out
    code, out, _ = run("repair", str(aof))
    assert code == 0 and "nothing to repair" in out


def test_repair_refuses_mid_file_corruption(tmp_path: Path) -> None:
    src = (GOLDEN / "aof/aof_corrupt_missing_crlf.aof").read_bytes()
    aof = tmp_path / "aof-0.aof"
    aof.write_bytes(src)
    code, _out, err = run("repair", str(aof))
    assert code == 1 and "refus" in err and "offset 822" in err
    assert aof.read_bytes() == src
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aof-0.aof"]


def test_missing_path_is_a_one_line_usage_error() -> None:
    code, _out, err = run("dump", "/nonexistent/path")
    assert code == 2 and "no such file" in err and "Traceback" not in err


def test_profiles_lists_every_switch() -> None:
    from impl.profile import SWITCHES

    code, out, _ = run("profiles")
    assert code == 0
    for name in SWITCHES:
        assert name in out


def test_console_script_has_file_tools(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        harness_main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for command in ("dump", "check", "repair", "profiles"):
        assert command in text


def _log(*frames: list[bytes]) -> bytes:
    out = b""
    for argv in frames:
        out += b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv)
    return out


@pytest.mark.parametrize("bad", ["-1", "abc", "1.5"])
def test_now_ms_must_be_a_unix_time(bad: str, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "aof-0.aof"
    log.write_bytes(_log([b"SET", b"k", b"v"]))
    with pytest.raises(SystemExit) as exc:
        main(["dump", "--now-ms", bad, str(log)])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert "--now-ms" in err and repr(bad) in err and "Traceback" not in err


def test_now_ms_zero_is_the_epoch_not_the_wall_clock(tmp_path: Path) -> None:
    # A deadline one second after the epoch: alive at 0, gone at 2000 and by the wall clock.
    log = tmp_path / "aof-0.aof"
    log.write_bytes(_log([b"SET", b"k", b"v"], [b"PEXPIREAT", b"k", b"1000"]))
    assert '"key":"k"' in run("dump", "--now-ms", "0", str(log))[1]
    assert '"key":"k"' not in run("dump", "--now-ms", "2000", str(log))[1]
    assert '"key":"k"' not in run("dump", str(log))[1]


class _ClosedPipe(io.StringIO):
    """stdout whose reader has gone (`kevy-verify check LOG | head -1`)."""

    def write(self, s: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.parametrize("command", ["dump", "check"])
def test_a_reader_that_stops_early_is_not_an_error(command: str, tmp_path: Path) -> None:
    log = tmp_path / "aof-0.aof"
    log.write_bytes(_log([b"SET", b"k", b"v"]))
    err = io.StringIO()
    code = main([command, "--now-ms", "0", str(log)], out=_ClosedPipe(), err=err)
    assert (code, err.getvalue()) == (0, "")


def test_derived_profiles_are_accepted_wherever_a_profile_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.cli import register

    (tmp_path / "aof-0.aof").write_bytes(b"KEVYAOF1\n*1\r\n$3\r\nSET\r\n" + b"*1\r\n$4\r\nPING\r\n")
    for profile in ("kevy-1.17+aof_refuse_corrupt", "hardened-aof_refuse_corrupt"):
        out, err = io.StringIO(), io.StringIO()
        rc = main(["dump", "--profile", profile, str(tmp_path)], out=out, err=err)
        assert rc in (0, 1, 2) and "invalid" not in err.getvalue(), (profile, err.getvalue())
    with pytest.raises(SystemExit) as usage:
        main(["dump", "--profile", "kevy-1.17+nosuch", str(tmp_path)])
    assert usage.value.code == 2 and "+SWITCH" in capsys.readouterr().err
    out, err = io.StringIO(), io.StringIO()
    rc = main(["explore", "aof-append", "--model", "ordered", "--no-corpus", "--profile",
               "hardened-aof_refuse_corrupt"], out=out, err=err, extend=register)  # fmt: skip
    assert rc == 0 and "hardened-aof_refuse_corrupt" in out.getvalue(), err.getvalue()


def test_check_of_a_meta_or_journal_gives_its_own_verdict(tmp_path: Path) -> None:
    # A meta file or a journal holds no keys: its own check is the verdict, not the
    # "kevy would not open it" of a dump (which refuses a file without keys).
    from impl.journal import Journal, format_journal
    from impl.layout import Layout, Routing, format_shards_meta

    meta = tmp_path / "shards.meta"
    meta.write_bytes(format_shards_meta(Layout(4, Routing.KEVYHASH)))
    journal = tmp_path / "reshard.journal"
    journal.write_bytes(format_journal(Journal(1, 2, 4, Routing.KEVYHASH)))
    code, out, _ = run("check", str(meta))
    assert (code, out.splitlines()[-1]) == (0, "ok"), out
    # A journal is an interrupted re-shard: one problem, said as such, and only that.
    code, out, _ = run("check", str(journal))
    assert (code, out.splitlines()[-1]) == (1, "1 problem(s)"), out
    assert "would not open" not in out and "rolls it forward" in out
