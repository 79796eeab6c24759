"""Mutant runner: apply each catalogued durability bug to a copy of the tree, run the suite.

What: `tests/mutants/catalogue.py` lists `Mutant` records — one small textual
patch to `impl/` each (an exact `old` snippet replaced by `new`), every one a
realistic crash-consistency bug. `run_catalogue` copies the repository once
per mutant into a temporary directory, applies the patch, runs
`python -m pytest -x` there (the mutant's own `tests` first, then the whole
suite) and reports whether the suite killed it, which test failed first and
how long that took. `kevy-verify mutants` (harness/mutants_cli.py) is the
command line.

Why: a green suite says nothing about the bugs it would miss. A catalogue of
the bugs this project exists to catch (a dropped fsync, a rename before the
commit record, a torn tail taken for corruption, ...) turns "the tests are
good" into a number that goes red when a test is weakened or deleted.

Rules:
1. Never touch the working tree: every mutant runs in its own copy (tracked
   plus untracked non-ignored files from `git ls-files`, or a plain copy
   without caches when there is no git), deleted afterwards.
2. The copy's `impl` must be the one imported (not the editable install):
   `PYTHONPATH=<copy>`, `cwd=<copy>`, and a probe checks `impl.__file__`
   before the run; a failed probe is an `error`, never a kill.
3. A patch applies only if `old` occurs exactly once in the file; otherwise
   the mutant is `invalid` (tests/test_mutants_catalogue.py checks the same
   at test time, so a refactor that breaks a mutant fails the suite by name).
4. Killed = pytest exited 1 (a test failed). Exit 0 = survived; a timeout
   or any other exit code (usage, internal, no tests) is reported as such and
   never counted as a kill. tests/test_mutants_catalogue.py is left out of
   mutant runs: it fails on any patched copy by construction.
5. Tests that already fail on the unmutated tree would "kill" every mutant.
   So by default a baseline run of the unmutated copy comes first and its
   failing tests are deselected in every mutant run.
6. Time to kill is measured on `time.monotonic()`: from the start of the
   pytest process to the first failing report (written by the plugin
   `tests/mutants/plugin.py`, same system-wide monotonic clock), falling back
   to the process end. It is a report, not an assertion.
7. Processes are ended only by their own process group id (the runner starts
   each pytest in a new session).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from harness.progress import Ticker, wait

__all__ = [
    "CATALOGUE",
    "REPO_ROOT",
    "Mutant",
    "MutantResult",
    "apply_mutant",
    "copy_tree",
    "format_table",
    "kill_stats",
    "load_catalogue",
    "mutant_problems",
    "run_baseline",
    "run_catalogue",
    "run_mutant",
]

#: the repository this module belongs to (harness/ is a top-level package)
REPO_ROOT = Path(__file__).resolve().parents[1]
#: where the catalogue lives, relative to a repository root
CATALOGUE = Path("tests") / "mutants" / "catalogue.py"
#: the plugin that stamps the first failure (rule 6)
PLUGIN = "tests.mutants.plugin"
PLUGIN_ENV = "KEVY_MUTANT_REPORT"
#: checks the catalogue against the source text: a patched copy always fails it,
#: which says nothing about the suite, so mutant runs leave it out
SELF_TEST = "tests/test_mutants_catalogue.py"
#: what a plain copy leaves out when git is unavailable (rule 1)
_IGNORE = (".git", ".hypothesis", "__pycache__", ".pytest_cache", ".ruff_cache", "*.egg-info",
           ".benchmarks", "*.pyc", ".venv", "build", "dist")
_FAILED_LINE = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.MULTILINE)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Mutant:
    """One catalogued bug: replace the single occurrence of `old` in `file` by `new`."""

    #: short kebab-case name, unique in the catalogue
    id: str
    #: the bug in one line, as a reviewer would describe it
    description: str
    #: repository-relative POSIX path of the patched file
    file: str
    old: str
    new: str
    #: test files or node ids most likely to kill it, run first (a speed hint only)
    tests: tuple[str, ...] = ()


@dataclass
class MutantResult:
    """What one mutant's run did (rule 4)."""

    id: str
    #: killed | survived | timeout | error | invalid
    status: str
    #: node id of the first failing test (killed only)
    first_failure: str | None = None
    #: seconds from the start of pytest to the first failure (killed) or to its end
    seconds: float = 0.0
    #: the last lines of pytest's output, or why the mutant could not run
    detail: str = ""

    @property
    def killed(self) -> bool:
        return self.status == "killed"


# --------------------------------------------------------------------------
# Catalogue.


def load_catalogue(root: Path = REPO_ROOT) -> list[Mutant]:
    """The `MUTANTS` of `<root>/tests/mutants/catalogue.py`, loaded by path (no sys.path games)."""
    path = root / CATALOGUE
    spec = importlib.util.spec_from_file_location("_kevy_mutant_catalogue", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"no mutant catalogue at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    mutants = list(module.MUTANTS)
    seen: set[str] = set()
    for m in mutants:
        if not isinstance(m, Mutant):
            raise TypeError(f"{path}: catalogue entries must be Mutant, got {type(m).__name__}")
        if m.id in seen:
            raise ValueError(f"{path}: duplicate mutant id {m.id!r}")
        seen.add(m.id)
    return mutants


def _test_file(spec: str) -> str:
    return spec.split("::", 1)[0]


def mutant_problems(m: Mutant, root: Path = REPO_ROOT) -> list[str]:
    """Why `m` cannot be applied to the tree at `root` (empty list: it can). Rule 3."""
    problems: list[str] = []
    path = root / m.file
    if not m.file.startswith("impl/"):
        problems.append(f"{m.id}: patches {m.file}, not a file under impl/")
    if m.old == m.new:
        problems.append(f"{m.id}: `new` equals `old`, the mutant changes nothing")
    if not path.is_file():
        problems.append(f"{m.id}: {m.file} does not exist")
    else:
        count = path.read_text(encoding="utf-8").count(m.old)
        if count != 1:
            problems.append(f"{m.id}: its `old` snippet occurs {count} times in {m.file} "
                            "(must be exactly once: update the mutant to the current source)")
    for spec in m.tests:
        test_path = root / _test_file(spec)
        if not test_path.is_file():
            problems.append(f"{m.id}: listed test file {_test_file(spec)} does not exist")
            continue
        if "::" in spec:
            # A node id's function (or class) must still be defined in the file.
            name = spec.split("::")[-1].split("[", 1)[0]
            text = test_path.read_text(encoding="utf-8")
            if not re.search(rf"^\s*(?:async\s+)?(?:def|class)\s+{re.escape(name)}\b", text,
                             re.MULTILINE):
                problems.append(f"{m.id}: listed test {spec} is not defined any more")
    return problems


def apply_mutant(m: Mutant, tree: Path) -> None:
    """Patch the copy at `tree` in place; ValueError unless `old` occurs exactly once."""
    path = tree / m.file
    text = path.read_text(encoding="utf-8")
    count = text.count(m.old)
    if count != 1:
        raise ValueError(f"{m.id}: `old` occurs {count} times in {m.file}")
    path.write_text(text.replace(m.old, m.new, 1), encoding="utf-8")


# --------------------------------------------------------------------------
# Copies of the tree (rule 1).


def _git_files(root: Path) -> list[str] | None:
    """Tracked + untracked non-ignored files (read-only git query), or None without git."""
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others",
             "--exclude-standard"],
            capture_output=True, check=True, timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return [name for name in out.decode("utf-8", "surrogateescape").split("\0") if name]


def copy_tree(root: Path, dest: Path) -> None:
    """Copy the repository at `root` into `dest` (created), without caches or .git."""
    files = _git_files(root)
    if files is None:
        shutil.copytree(root, dest, ignore=shutil.ignore_patterns(*_IGNORE), symlinks=True)
        return
    dest.mkdir(parents=True, exist_ok=True)
    for name in files:
        src = root / name
        # A tracked file deleted in the working tree (or a concurrent edit's
        # rename) is simply absent from the copy.
        if not src.is_file() and not src.is_symlink():
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target, follow_symlinks=False)


# --------------------------------------------------------------------------
# Running pytest in a copy.


def _env(tree: Path, report: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    previous = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(tree) + (os.pathsep + previous if previous else "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop(PLUGIN_ENV, None)
    if report is not None:
        env[PLUGIN_ENV] = str(report)
    return env


def _probe_impl(tree: Path, python: str) -> str | None:
    """Rule 2: None if the copy's `impl` is the one imported there, else why not."""
    try:
        proc = subprocess.run([python, "-c", "import impl; print(impl.__file__)"], cwd=tree,
                              env=_env(tree, None), capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as err:
        return f"import probe failed: {err}"
    where = proc.stdout.strip()
    if proc.returncode != 0 or not where:
        return f"import probe failed: {proc.stderr.strip()[-500:]}"
    if not Path(where).resolve().is_relative_to(tree.resolve()):
        return f"the copy imports impl from {where}, not from {tree}"
    return None


def _run_pytest(tree: Path, args: Sequence[str], timeout: float, python: str,
                report: Path | None, ticker: Ticker | None = None
                ) -> tuple[int | None, float, str]:
    """(exit code or None on timeout, seconds, output) of pytest in `tree`; with a
    `ticker`, progress while it runs (tests passed so far, from pytest's dots)."""
    cmd = [python, "-m", "pytest", "-p", "no:cacheprovider", *args]
    start = time.monotonic()
    with tempfile.TemporaryFile() as log:
        # A new session gives pytest its own process group, so a timeout ends
        # exactly the processes this run started (rule 7).
        proc = subprocess.Popen(cmd, cwd=tree, env=_env(tree, report), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

        def dots() -> str:
            log.seek(0)
            return f"{log.read().count(b'.')} tests passed so far"

        try:
            code: int | None = (proc.wait(timeout=timeout) if ticker is None
                                else wait(proc, timeout, ticker, dots))
        except subprocess.TimeoutExpired:
            code = None
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        elapsed = time.monotonic() - start
        log.seek(0)
        output = log.read().decode("utf-8", "replace")
    return code, elapsed, output


def _tail(output: str, lines: int = 25) -> str:
    return "\n".join(output.rstrip().splitlines()[-lines:])


def _deselect_args(deselect: Iterable[str]) -> list[str]:
    return [arg for nodeid in deselect for arg in ("--deselect", nodeid)]


def run_baseline(root: Path = REPO_ROOT, *, timeout: float = 900.0,
                 python: str = sys.executable,
                 progress: TextIO | None = None) -> tuple[list[str], str]:
    """Rule 5: (failing node ids, problem) of the whole suite on an unmutated copy.

    `problem` is non-empty when the baseline itself could not run properly
    (probe failure, timeout, pytest usage/internal error).
    """
    with tempfile.TemporaryDirectory(prefix="kevy-mutant-baseline-") as tmp:
        tree = Path(tmp) / "tree"
        copy_tree(root, tree)
        problem = _probe_impl(tree, python)
        if problem:
            return [], problem
        ticker = Ticker(progress, "baseline suite") if progress is not None else None
        code, seconds, output = _run_pytest(tree, ["-q", "-rfE"], timeout, python, None, ticker)
        if ticker is not None:
            ticker.close(seconds, "done")
    if code is None:
        return [], f"the baseline suite timed out after {timeout:g} s"
    if code not in (0, 1):
        return [], f"the baseline suite exited {code}:\n{_tail(output)}"
    return sorted(set(_FAILED_LINE.findall(output))), ""


def run_mutant(m: Mutant, root: Path = REPO_ROOT, *, timeout: float = 600.0,
               deselect: Sequence[str] = (), python: str = sys.executable) -> MutantResult:
    """Copy, patch, probe, run `pytest -x <m.tests>` then `pytest -x` the rest; rule 4."""
    with tempfile.TemporaryDirectory(prefix=f"kevy-mutant-{m.id}-") as tmp:
        tree = Path(tmp) / "tree"
        copy_tree(root, tree)
        try:
            apply_mutant(m, tree)
        except (OSError, ValueError) as err:
            return MutantResult(m.id, "invalid", detail=str(err))
        problem = _probe_impl(tree, python)
        if problem:
            return MutantResult(m.id, "error", detail=problem)
        report = Path(tmp) / "first-failure.txt"
        base = ["-x", "-q", "-rfE", f"--ignore={SELF_TEST}", *_deselect_args(deselect)]
        start = time.monotonic()
        code: int | None = 0
        output = ""
        if m.tests:
            # Stage 1: only the likely killers. A separate run, because pytest
            # collects `tests/a.py tests` in package order, not argument order.
            code, _, output = _run_pytest(tree, [*base, *m.tests], timeout, python, report)
            if code == 5:  # every listed test deselected by the baseline
                code = 0
        if code == 0:
            # Stage 2: the rest of the suite, without what stage 1 already ran.
            rest = [f"--ignore={s}" if "::" not in s else f"--deselect={s}" for s in m.tests]
            left = timeout - (time.monotonic() - start)
            code, _, output = _run_pytest(tree, [*base, *rest, "tests"], max(left, 1.0),
                                          python, report)
        elapsed = time.monotonic() - start
        stamped = report.read_text(encoding="utf-8").splitlines() if report.exists() else []
    if code is None:
        return MutantResult(m.id, "timeout", seconds=elapsed,
                            detail=f"no verdict within {timeout:g} s\n{_tail(output)}")
    if code == 0:
        return MutantResult(m.id, "survived", seconds=elapsed, detail=_tail(output))
    if code != 1:
        return MutantResult(m.id, "error", seconds=elapsed,
                            detail=f"pytest exited {code}\n{_tail(output)}")
    first: str | None = None
    seconds = elapsed
    if stamped:
        stamp, _, first = stamped[0].partition("\t")
        seconds = max(0.0, float(stamp) - start)
    else:
        found = _FAILED_LINE.findall(output)
        first = found[0] if found else None
    return MutantResult(m.id, "killed", first_failure=first, seconds=seconds,
                        detail=_tail(output))


def run_catalogue(mutants: Sequence[Mutant], root: Path = REPO_ROOT, *, jobs: int = 2,
                  timeout: float = 600.0, deselect: Sequence[str] = (),
                  python: str = sys.executable,
                  progress: Progress | None = None) -> list[MutantResult]:
    """Run every mutant, `jobs` at a time; results in catalogue order."""

    def one(m: Mutant) -> MutantResult:
        result = run_mutant(m, root, timeout=timeout, deselect=deselect, python=python)
        if progress is not None:
            where = f" by {result.first_failure}" if result.first_failure else ""
            progress(f"{m.id}: {result.status}{where} ({result.seconds:.1f} s)")
        return result

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, mutants))


# --------------------------------------------------------------------------
# Reporting.


def kill_stats(results: Iterable[MutantResult]) -> tuple[float, float] | None:
    """(median, worst) seconds to kill over the killed mutants; None if none was killed."""
    times = [r.seconds for r in results if r.killed]
    if not times:
        return None
    return statistics.median(times), max(times)


def format_table(results: Sequence[MutantResult]) -> str:
    """A fixed-width table: id, status, seconds, first failing test (or what went wrong)."""
    rows = [("MUTANT", "STATUS", "SECONDS", "FIRST FAILING TEST")]
    for r in results:
        if r.killed:
            note = r.first_failure or "?"
        elif r.status in ("error", "invalid"):
            note = (r.detail.strip().splitlines() or [""])[0]
        else:
            note = "-"
        rows.append((r.id, r.status, f"{r.seconds:.1f}", note))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}  {d}".rstrip()
             for a, b, c, d in rows]
    killed = sum(r.killed for r in results)
    lines.append("")
    lines.append(f"{killed}/{len(results)} killed")
    stats = kill_stats(results)
    if stats is not None:
        lines.append(f"time to kill: median {stats[0]:.1f} s, worst {stats[1]:.1f} s")
    return "\n".join(lines)
