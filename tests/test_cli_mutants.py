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
