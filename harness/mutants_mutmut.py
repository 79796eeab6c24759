"""`kevy-verify mutants --tool mutmut [MODULE...]`: mutmut 3 over impl/ and model/.

What: `run_mutmut(root, modules)` copies the repository's tracked files to a
temporary directory (mutmut writes `mutants/` next to the code it mutates;
the working tree is never touched), narrows `[tool.mutmut]` to the given test
selection, runs `mutmut run "<module>*" --max-children N` (niced) and reads
`mutmut results --all true`. `tally` turns that into killed / survived /
timeout / no-tests per module; survivors listed in
`tests/mutants/equivalent.toml` are counted as equivalent and excluded.

Why mutmut and not more hand-written mutants: the curated catalogue
(harness/mutants.py) holds the durability bugs we thought of; mutmut's
operators find what we did not. It selects, per mutant, the tests whose
coverage reached the mutated function, which is what makes a run of a module
affordable at all on two shared cores.

Rules:
1. Score = (killed + timeout) / (all - equivalent - skipped - not checked),
   mutmut's own definition (its `badge` command) with equivalents and
   mutants a stopped run never reached excluded; "no tests"
   counts against the score (a line no test reaches is not tested).
2. One worker by default (`--max-children 1`): the machine is shared.
3. A module is `impl/numbers.py` or `impl.numbers`; it becomes mutmut's
   `only_mutate` in the copy's pyproject.toml.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "EQUIVALENTS",
    "ModuleTally",
    "MutmutFailed",
    "load_equivalents",
    "module_name",
    "parse_results",
    "run_mutmut",
    "tally",
]

EQUIVALENTS = Path("tests/mutants/equivalent.toml")
STATUSES = ("killed", "survived", "timeout", "no tests", "skipped", "suspicious", "not checked")
_RESULT = re.compile(r"^\s*(?P<name>[\w.ǁ]+__mutmut_\d+): (?P<status>.+?)\s*$")


class MutmutFailed(RuntimeError):
    """`mutmut run` exited non-zero (e.g. its coverage run of the tests failed):
    no mutant was judged, so there is no score to report."""

    def __init__(self, code: int, tail: list[str]) -> None:
        super().__init__(f"mutmut run exited {code}; its last lines:\n" + "\n".join(tail))
        self.code = code
        self.tail = tail


def module_name(arg: str) -> str:
    """ "impl/numbers.py" or "impl.numbers" -> "impl.numbers"."""
    name = arg[:-3] if arg.endswith(".py") else arg
    return name.strip("/").replace("/", ".")


def _module_of(mutant: str) -> str:
    # mutmut names a mutant <module>.x_<func>__mutmut_<n> or <module>.xǁ<Class>ǁ<meth>__...
    head = mutant.split("__mutmut_")[0]
    parts = head.split(".")
    return ".".join(p for p in parts[:-1])


def parse_results(text: str) -> dict[str, str]:
    """`mutmut results --all true` output -> mutant name -> status."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = _RESULT.match(line)
        if m:
            out[m["name"]] = m["status"]
    return out


def load_equivalents(root: Path) -> dict[str, str]:
    """Mutant name -> why it is equivalent (tests/mutants/equivalent.toml)."""
    path = root / EQUIVALENTS
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text())
    return {name: str(entry["reason"]) for name, entry in data.get("equivalent", {}).items()}


@dataclass
class ModuleTally:
    module: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    equivalent: int = 0
    survivors: list[str] = field(default_factory=list)
    """Survived and not listed as equivalent: each needs triage."""

    @property
    def score(self) -> float | None:
        # A mutant mutmut never got to (run stopped) is not evidence either way.
        tested = sum(self.counts.values()) - self.counts["skipped"] - self.counts["not checked"]
        if tested <= 0:
            return None
        return 100.0 * (self.counts["killed"] + self.counts["timeout"]) / tested


def tally(results: dict[str, str], equivalents: dict[str, str]) -> dict[str, ModuleTally]:
    """Per module counts; an equivalent survivor is counted apart, not in the score."""
    out: dict[str, ModuleTally] = {}
    for name, status in sorted(results.items()):
        t = out.setdefault(_module_of(name), ModuleTally(_module_of(name)))
        if status == "survived" and name in equivalents:
            t.equivalent += 1
            continue
        t.counts[status if status in t.counts else "suspicious"] += 1
        if status == "survived":
            t.survivors.append(name)
    return out


def format_table(tallies: Iterable[ModuleTally]) -> str:
    rows = [
        "| module | killed | survived | timeout | no tests | equivalent | not run | score |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in tallies:
        c = t.counts
        score = "-" if t.score is None else f"{t.score:.1f}%"
        rows.append(
            f"| {t.module} | {c['killed']} | {c['survived']} | {c['timeout']} | "
            f"{c['no tests']} | {t.equivalent} | {c['not checked']} | {score} |"
        )
    return "\n".join(rows)


def _copy_tree(root: Path, dest: Path) -> None:
    files = (
        subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    for rel in filter(None, files):
        src = root / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _narrow_config(pyproject: Path, modules: list[str], tests: list[str] | None) -> None:
    """Mutate only `modules` and, with `tests`, collect coverage from those tests only."""
    # only_mutate, not source_paths: the whole package must still be copied to
    # mutants/, or the unmutated regular package on sys.path shadows the copy.
    text = pyproject.read_text()
    paths = ", ".join(f'"{m.replace(".", "/")}.py"' for m in modules)
    text = re.sub(r"(?m)^(source_paths = .*)$", rf"\1\nonly_mutate = [{paths}]", text)
    if tests:
        sel = ", ".join(f'"{t}"' for t in tests)
        text = re.sub(
            r"(?m)^pytest_add_cli_args_test_selection = .*$",
            f"pytest_add_cli_args_test_selection = [{sel}]",
            text,
        )
    pyproject.write_text(text)


def run_mutmut(
    root: Path,
    modules: list[str],
    *,
    tests: list[str] | None = None,
    max_children: int = 1,
    timeout: float = 3600.0,
    progress: Callable[[str], None] | None = None,
    keep: Path | None = None,
    only: list[str] | None = None,
) -> dict[str, str]:
    """Run mutmut on `modules` in a copy of `root`; mutant name -> status. `only`:
    mutmut runs just the mutants these names or fnmatch globs match (the functions
    a change touched); the others are reported unchecked ("not run")."""
    modules = [module_name(m) for m in modules]
    work = Path(tempfile.mkdtemp(prefix="kevy-mutmut-")) if keep is None else keep
    try:
        _copy_tree(root, work)
        _narrow_config(work / "pyproject.toml", modules, tests)
        env = {**os.environ, "PYTHONPATH": str(work)}
        cmd = [
            "nice",
            "-n",
            "10",
            sys.executable,
            "-m",
            "mutmut",
            "run",
            "--max-children",
            str(max_children),
            *(only or ()),
        ]
        tail: deque[str] = deque(maxlen=12)
        with subprocess.Popen(
            cmd, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                # mutmut redraws a spinner with \r; pass on whole lines only.
                last = line.rstrip("\n").split("\r")[-1].strip()
                if last:
                    tail.append(last)
                    if progress is not None:
                        progress(f"mutmut: {last}")
            proc.wait(timeout=timeout)
        if proc.returncode != 0:
            # Without this, every mutant read back as "not checked" and the run
            # passed with no score (a test reading a file mutmut did not copy).
            raise MutmutFailed(proc.returncode, list(tail))
        out = subprocess.run(
            [sys.executable, "-m", "mutmut", "results", "--all", "true"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        return parse_results(out.stdout)
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)
