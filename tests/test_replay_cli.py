"""`kevy-verify replay CASE`: a corpus case, by file or by name, reproduced with its paragraph."""

from __future__ import annotations

import io
import json
from pathlib import Path

from harness.cli import register
from harness.replay_cli import DEFAULT_CORPUS
from impl.cli import main


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(args), out=out, err=err, extend=register), out.getvalue(), err.getvalue()


def test_an_explorer_case_by_name_reproduces_its_recorded_paragraph() -> None:
    path = sorted((DEFAULT_CORPUS / "violations").glob("*.json"))[0]
    case = json.loads(path.read_text())
    rc, out, _ = _run("replay", path.stem)
    assert rc == 0, out
    assert out.splitlines()[0] == case["message"]
    assert out.splitlines()[-1].endswith(f"{case['verdict']} under {case['profile']} (as recorded)")


def test_a_hunt_case_by_file(tmp_path: Path) -> None:
    path = sorted((DEFAULT_CORPUS / "hunt").glob("*.json"))[0]
    rc, out, _ = _run("replay", str(path))
    assert rc == 0 and "as recorded" in out, out


def test_a_case_that_no_longer_reproduces_exits_1(tmp_path: Path) -> None:
    path = sorted((DEFAULT_CORPUS / "violations").glob("*.json"))[0]
    case = json.loads(path.read_text())
    case["verdict"] = "ok"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(case))
    rc, out, _ = _run("replay", str(forged))
    assert rc == 1 and "recorded ok" in out, out


def test_an_unknown_case_is_a_one_line_error(tmp_path: Path) -> None:
    rc, out, err = _run("replay", "no-such-case", "--corpus", str(tmp_path))
    assert rc == 2 and out == "" and len(err.splitlines()) == 1 and "no-such-case" in err
