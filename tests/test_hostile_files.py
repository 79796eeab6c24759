"""Hostile files and directories for `dump` and `check`: by role, regular files only,
one verdict, escaped output, inputs unchanged.

Classes (README "Hostile input"): special files (a FIFO with no writer,
/dev/zero, /dev/null) refused without blocking or reading forever; a file read
as what its name says it is (a damaged or short `dump-0.rdb` is a refused
snapshot, never an empty log; a log starting with KEVYSNAP is a log; a kevy log
starting with SELECT is a kevy log); a bare file with another name needs
`--as`; a directory where a file belongs; `check DIR` opens nothing a kevy name
does not claim; `check` exits 1 wherever `dump` fails; control characters from
names and contents are escaped. Generated directories check the verdict and
the untouched inputs at random.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from impl.cli import main
from impl.resp import encode_frame
from tests.hostile_support import run_limited, tree_digest

SNAP_HEADER = b"KEVYSNAP\x04"  # magic, version 4 (docs/SPEC.md §3.2)






def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = main(list(args), out=out, err=err)
    return rc, out.getvalue(), err.getvalue()




# -- special files ---------------------------------------------------------------


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/null", "fifo"])
def test_a_special_file_is_refused_without_blocking(tmp_path: Path, special: str) -> None:
    path = special
    if special == "fifo":
        os.mkfifo(tmp_path / "aof-0.aof")
        path = str(tmp_path / "aof-0.aof")
    for cmd, want in (("dump", 2), ("check", 1)):
        r = run_limited(cmd, "--as", "aof", path)
        assert r.returncode == want, (cmd, r)
        text = r.stderr if cmd == "dump" else r.stdout
        assert f"{path}" in text and "not a regular file" in text, (cmd, text)
        assert "Traceback" not in r.stderr


def test_a_fifo_in_a_data_directory(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "dump-0.rdb")
    os.mkfifo(tmp_path / "stray")  # no kevy name: check must not even open it
    before = tree_digest(tmp_path)
    dump = run_limited("dump", str(tmp_path))
    assert dump.returncode == 2 and "dump-0.rdb" in dump.stderr and "FIFO" in dump.stderr, dump
    check = run_limited("check", str(tmp_path))
    assert check.returncode == 1, check
    assert "stray: not a kevy file name; skipped" in check.stdout, check.stdout
    assert "dump-0.rdb: snapshot: not a regular file (a FIFO)" in check.stdout, check.stdout
    assert tree_digest(tmp_path) == before


# -- by role ------------------------------------------------------------------------

BAD_SNAPSHOTS = {
    "empty": b"",
    "shorter-than-magic": b"KEV",
    "damaged-magic": b"KEVYSNAQ\x04\x00",
    "bad-version": b"KEVYSNAP\x63\x00",
    "no-version": b"KEVYSNAP",
    "unknown-opcode": SNAP_HEADER + b"\x09\x00\x00\x00\x00\x00",
}


@pytest.mark.parametrize("case", sorted(BAD_SNAPSHOTS))
@pytest.mark.parametrize("where", ["file", "dir"])
def test_a_bad_snapshot_is_refused_as_a_snapshot(tmp_path: Path, case: str, where: str) -> None:
    (tmp_path / "dump-0.rdb").write_bytes(BAD_SNAPSHOTS[case])
    path = str(tmp_path / "dump-0.rdb") if where == "file" else str(tmp_path)
    before = tree_digest(tmp_path)
    rc, out, err = _cli("dump", path)
    assert rc == 2 and out == "", (rc, out, err)
    assert "dump-0.rdb" in err and "snapshot" in err, err  # kevy's error, naming the file
    rc, out, _ = _cli("check", path)
    assert rc == 1, out
    assert "snapshot" in out and "aof," not in out, out  # never read as an (empty) log
    assert tree_digest(tmp_path) == before


def test_a_log_that_starts_like_a_snapshot_is_a_log(tmp_path: Path) -> None:
    (tmp_path / "aof-0.aof").write_bytes(SNAP_HEADER + b"\xff" * 8)
    rc, out, _ = _cli("check", str(tmp_path / "aof-0.aof"))
    assert rc == 1 and ": aof," in out and "snapshot" not in out, out


def test_a_kevy_log_whose_first_frame_is_select_is_a_kevy_log(tmp_path: Path) -> None:
    data = encode_frame([b"SELECT", b"0"]) + encode_frame([b"SET", b"k", b"v"])
    (tmp_path / "aof-0.aof").write_bytes(data)
    _rc, out, _ = _cli("check", str(tmp_path / "aof-0.aof"))
    assert "dialect kevy" in out, out
    (tmp_path / "appendonly.aof").write_bytes(data)  # Redis's own name: the Redis dialect
    _, out, _ = _cli("check", str(tmp_path / "appendonly.aof"))
    assert "dialect redis" in out, out


def test_a_bare_name_needs_as(tmp_path: Path) -> None:
    (tmp_path / "data.bin").write_bytes(SNAP_HEADER + b"\x00")
    rc, _, err = _cli("dump", str(tmp_path / "data.bin"))
    assert rc == 2 and "--as snapshot or --as aof" in err and "data.bin" in err, err
    rc, out, err = _cli("dump", "--as", "snapshot", str(tmp_path / "data.bin"))
    assert rc == 0 and '"keys": []' in out, (out, err)


def test_a_directory_where_a_file_belongs(tmp_path: Path) -> None:
    (tmp_path / "dump-0.rdb").mkdir()
    rc, _, err = _cli("dump", str(tmp_path))
    assert rc == 2 and "dump-0.rdb" in err, err
    rc, out, _ = _cli("check", str(tmp_path))
    assert rc == 1 and "dump-0.rdb: a directory where kevy expects a snapshot file" in out, out


# -- escaping ------------------------------------------------------------------------


def test_names_and_contents_cannot_drive_the_terminal(tmp_path: Path) -> None:
    evil = b"\x1b]0;pwned\x07\x1b[2J\nFORGED: ok\r"
    name = "x\x1b[31m\nFORGED.aof"
    (tmp_path / name).write_bytes(encode_frame([evil, b"k"]) + b"*2\r\n$1\r\n")
    for argv in (["check", str(tmp_path)], ["check", str(tmp_path / name)],
                 ["dump", "-v", str(tmp_path / name)]):  # fmt: skip
        rc, out, err = _cli(*argv)
        text = out + err
        assert rc in (0, 1), (argv, rc, text)
        assert not any(ch in text for ch in "\x1b\x07\r"), (argv, text)
        assert not any(line.startswith("FORGED") for line in text.splitlines()), (argv, text)
        assert "\\x1b" in text, (argv, text)  # shown, escaped


# -- generated directories: one verdict, inputs unchanged ---------------------------

NAMES = ["dump-0.rdb", "aof-0.aof", "dump-1.rdb", "aof-1.aof", "shards.meta", "reshard.journal",
         "aof-0.aof.rewrite", "stray.txt", "dump-0.rdb.tmp"]  # fmt: skip
CONTENTS = [
    b"", b"KEV", SNAP_HEADER + b"\x00", SNAP_HEADER + b"\x01", SNAP_HEADER + b"\x09",
    b"KEVYAOF1\n", b"KEVYAOF1\n" + encode_frame([b"SET", b"k", b"v"]), b"*3\r\n$3\r\nSET\r\n",
    b"2\nkevyhash\n", b"99999999999\n", b"\x00" * 9, b"#kevy-reshard v1\nstamp=1\n",
]  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(files=st.dictionaries(st.sampled_from(NAMES), st.sampled_from([*CONTENTS, None]),
                             max_size=5))  # fmt: skip
def test_check_and_dump_share_one_verdict(
    tmp_path_factory: pytest.TempPathFactory, files: dict[str, bytes | None]
) -> None:
    d = tmp_path_factory.mktemp("gen")
    for name, data in files.items():
        if data is None:
            (d / name).mkdir()  # a directory where a file belongs
        else:
            (d / name).write_bytes(data)
    before = tree_digest(d)
    for profile in ("kevy-1.17", "hardened"):
        rc_dump, _, err = _cli("dump", "--profile", profile, str(d))
        rc_check, out, _ = _cli("check", "--profile", profile, str(d))
        assert rc_dump in (0, 1, 2) and rc_check in (0, 1), (rc_dump, rc_check, err, out)
        if rc_dump != 0:
            assert rc_check == 1, (profile, files, err, out)
            assert "kevy would not open it" in out or "shard count" in out, (files, err, out)
        assert "Traceback" not in err
    assert tree_digest(d) == before


def test_check_json_is_the_text_report_as_a_versioned_document(tmp_path: Path) -> None:
    (tmp_path / "dump-0.rdb").write_bytes(b"x")
    (tmp_path / "x\x1b[2J.txt").write_bytes(b"")
    rc_text, text, _ = _cli("check", str(tmp_path))
    rc, out, _ = _cli("check", "--format", "json", str(tmp_path))
    doc = json.loads(out)
    assert rc == rc_text == doc["exit"] == 1 and doc["format"] == "kevy-verify-check/1"
    assert doc["lines"] + [doc["verdict"]] == text.splitlines()
    assert doc["problems"] == int(doc["verdict"].split()[0]) > 0
    assert "\x1b" not in out and any("\\x1b[2J" in line for line in doc["lines"])
