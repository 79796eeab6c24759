"""The mutmut wrapper's bookkeeping (harness/mutants_mutmut.py). A run over impl/
is a nightly step, far too slow for the suite; a run over a two-line module in a
scratch repository (4 s) checks how a failed run is reported."""

from __future__ import annotations

import importlib
import io
from argparse import Namespace
from pathlib import Path

from harness import mutants_cli
from harness import mutants_mutmut as mm

RESULTS = """\
    impl.numbers.x_parse_sint__mutmut_1: killed
    impl.numbers.x_parse_sint__mutmut_2: survived
    impl.numbers.x_parse_sint__mutmut_3: survived
    impl.numbers.x_displayf__mutmut_1: no tests
    impl.layout.xǁLayoutǁroute__mutmut_4: timeout
    impl.layout.x_parse_uint__mutmut_9: skipped
    impl.layout.x_parse_uint__mutmut_10: not checked
"""


def test_results_are_tallied_per_module_with_equivalents_excluded() -> None:
    results = mm.parse_results(RESULTS)
    assert len(results) == 7
    eq = {"impl.numbers.x_parse_sint__mutmut_3": "same bytes either way"}
    t = mm.tally(results, eq)
    assert set(t) == {"impl.numbers", "impl.layout"}
    n = t["impl.numbers"]
    assert (n.counts["killed"], n.counts["survived"], n.counts["no tests"]) == (1, 1, 1)
    assert n.equivalent == 1 and n.survivors == ["impl.numbers.x_parse_sint__mutmut_2"]
    assert n.score is not None and round(n.score, 1) == 33.3  # 1 of 3; no tests counts
    lay = t["impl.layout"]
    assert lay.score == 100.0  # a timeout is detected; skipped, not run are out
    table = mm.format_table(t.values())
    assert "| equivalent | not run | score |" in table.splitlines()[0]
    assert "| impl.numbers | 1 | 1 | 0 | 1 | 1 | 0 | 33.3% |" in table


def test_module_names_and_the_committed_equivalents_file_load() -> None:
    assert mm.module_name("impl/numbers.py") == mm.module_name("impl.numbers") == "impl.numbers"
    root = Path(__file__).resolve().parent.parent
    for name, reason in mm.load_equivalents(root).items():
        assert "__mutmut_" in name and reason.strip(), name


def test_narrowing_keeps_the_package_whole(tmp_path: Path) -> None:
    src = Path(__file__).resolve().parent.parent / "pyproject.toml"
    dst = tmp_path / "pyproject.toml"
    dst.write_text(src.read_text())
    mm._narrow_config(dst, ["impl.numbers"], ["tests/test_numbers.py"])
    text = dst.read_text()
    assert 'source_paths = ["impl/", "model/"]' in text
    assert 'only_mutate = ["impl/numbers.py"]' in text
    assert 'pytest_add_cli_args_test_selection = ["tests/test_numbers.py"]' in text


def test_modules_without_mutmut_and_unknown_modules_are_usage_errors() -> None:
    root = Path(__file__).resolve().parent.parent
    err = io.StringIO()
    base = dict(root=root, tests=None, max_children=1)
    rc = mutants_cli.cmd_mutants(
        Namespace(tool="catalogue", modules=["impl/numbers.py"], **base), io.StringIO(), err
    )
    assert rc == mutants_cli.EXIT_USAGE and "--tool mutmut" in err.getvalue()
    rc = mutants_cli.cmd_mutants(
        Namespace(tool="mutmut", modules=["impl/nope.py"], **base), io.StringIO(), err
    )
    assert rc == mutants_cli.EXIT_USAGE and "no such module" in err.getvalue()


def test_every_equivalent_names_a_function_that_exists() -> None:
    # mutmut numbers mutants per function, so an entry outlives neither a rename
    # nor a removal; a stale entry would hide a survivor of another name.
    root = Path(__file__).resolve().parent.parent
    for name in mm.load_equivalents(root):
        head = name.split("__mutmut_")[0]
        module, _, mangled = head.rpartition(".")
        owner: object = importlib.import_module(module)
        parts = mangled[2:].split("ǁ") if mangled.startswith("xǁ") else [mangled[2:]]
        for part in parts:
            assert hasattr(owner, part), name
            owner = getattr(owner, part)


def test_a_mutmut_run_that_fails_is_an_error_not_an_empty_score(tmp_path: Path) -> None:
    # A test that cannot be collected in mutmut's copy (it read a file mutmut had
    # not copied) made every mutant "not checked" and the command exit 0.
    import subprocess

    (tmp_path / "impl").mkdir()
    (tmp_path / "impl" / "__init__.py").write_text("")
    (tmp_path / "impl" / "x.py").write_text("def f(a):\n    return a + 1\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(
        "from pathlib import Path\n"
        "NOTES = (Path(__file__).parent.parent / 'NOTES.md').read_text()\n"
        "def test_f():\n    from impl.x import f\n    assert f(1) == 2\n"
    )
    (tmp_path / "NOTES.md").write_text("read by the test, not copied by mutmut\n")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mutmut]\nsource_paths = ["impl/"]\n'
        'pytest_add_cli_args_test_selection = ["tests/"]\n'
    )
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True)
    try:
        mm.run_mutmut(tmp_path, ["impl/x.py"])
    except mm.MutmutFailed as e:
        assert e.code != 0
        assert "NOTES.md" in str(e) or "failed to collect" in str(e)
    else:
        raise AssertionError("a failed mutmut run returned results")
    # Copied (as pyproject's also_copy does for FINDINGS.md), the same run scores.
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mutmut]\nsource_paths = ["impl/"]\nalso_copy = ["NOTES.md"]\n'
        'pytest_add_cli_args_test_selection = ["tests/"]\n'
    )
    results = mm.run_mutmut(tmp_path, ["impl/x.py"])
    assert results and "killed" in results.values()
