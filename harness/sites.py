"""Crash-site coverage: which impl call sites a crash search has died at.

What: `static_sites()` enumerates, by `ast` over `impl/`, every call that
reaches the FileSystem seam (impl/fs.py) with a persistence effect: create
(`create_truncate`, `open_append`), write (`write_all`, a handle's `write`),
fsync, fdatasync, fsync_dir, rename, unlink, truncate. `SiteRecorder` wraps
the CrashFS handed to a Store and, for each persistence point the CrashFS
numbers, notes which of those sites issued it (the first caller frame in
impl/ outside impl/fs.py). `coverage()` drives every scenario of
harness/scenarios.py under every profile through a recorder and reports,
per site, the models under which the explorer crashed before and after it;
likewise the `repair` tool's runs (harness/sites_repair.py), which
tests/test_repair_crash.py crashes at every point of (search "repair-crash").

Why a site id is `module:function:op#n` (n = ordinal of that op's call in the
function, in source order) and not a line number: it stays stable across
edits elsewhere in the file, so a nightly summary can be compared with the
last one.

Why the explorer's coverage is computed from a probe run and not by
instrumenting `harness/explore.py`: `explore.crash_runs` crashes before and
after *every* numbered point of a scenario, under every model it is given,
and it is deterministic (a drifted point raises `CaseDrifted`); so the sites
a probe run attributes to points 1..n are exactly the sites the explorer
crashes at. Sample mode (`--sample`) draws images, never points.

Other searches (the stateful machines, the hunt) attribute their own crashes:
wrap their CrashFS with `SiteRecorder`, and call `record_site(search, model,
site)` (or use `recording(fs, search, model)`), which adds to `SEARCH_LOG`;
with `KEVY_VERIFY_SITES_LOG` set it also appends a JSON line to that file so
a nightly run can merge what its pytest processes saw (`load_log`).

Rules:
1. A write is not a numbered persistence point in CrashFS (docs/SPEC.md's
   crash model tears or drops unsynced data instead); a write site counts as
   reached when it ran before a crash point whose images can lose it, i.e.
   when a recorder saw it execute.
2. A site no search reaches is listed with the reason when one is known
   (`GAP_REASONS`, keyed by `module:function` or a site id without its
   ordinal), else "no scenario drives it".
3. `open_append(path, create=False)` is no site: it opens a file that must
   exist, so it creates nothing and CrashFS numbers no point for it (a missing
   file is ENOENT); what is then written through the handle is a write site.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from impl.fs import WritableFile
from model.crashfs import MODELS, CrashFS, Model, SimulatedCrash

__all__ = [
    "GAP_REASONS",
    "SEARCH_LOG",
    "Coverage",
    "Site",
    "SiteRecorder",
    "coverage",
    "load_log",
    "record_site",
    "recording",
    "site_of_crash",
    "static_sites",
]

IMPL_DIR = Path(__file__).resolve().parent.parent / "impl"
SEAM = "fs.py"

# Seam method name -> the persistence op it has (the CrashFS point op family).
_METHOD_OPS = {
    "create_truncate": "create",
    "create_exclusive": "create",
    "open_append": "create",
    "fsync": "fsync",
    "fdatasync": "fdatasync",
    "fsync_dir": "fsync_dir",
    "rename": "rename",
    "unlink": "unlink",
    "truncate": "truncate",
}
# CrashFS point op -> the site ops that can issue it.
_POINT_SITE_OPS = {
    "create": ("create",),
    "truncate": ("truncate", "create"),  # create_truncate of an existing file
    "fsync": ("fsync",),
    "fdatasync": ("fdatasync",),
    "fsync_dir": ("fsync_dir",),
    "rename": ("rename",),
    "unlink": ("unlink",),
}

GAP_REASONS: dict[str, str] = {
    "aof:Aof.open:unlink": "F49's fix removes a new log whose MAGIC failed to sync: a "
    "failure path (a fault, rule 5), never a crash point a scenario's clean run reaches; "
    "tests/test_aof_failed_create.py and the hunt's fault steps drive it",
    "aof:Aof.truncate": "no caller in impl/: the in-place log reset of docs/SPEC.md §2.4 "
    "is kevy's server SAVE path; the embedded store resets its log by write_aof_base "
    "and a rename (§9.3), so no store call, hence no search, reaches it",
    "snapshot:save_snapshot:fsync_dir": "an inert hook: it runs only once a switch named "
    "`fsync_snapshot_dir` is registered in impl/profile.py, and none is (hardened syncs "
    "the directory after save_snapshot in its callers: reshard's _dir_fsync_hook, F10)",
    "store:Store._reset_stale_log": "F42's fix on kevy's own commit order runs only under "
    "a derived profile (kevy-1.17+save_resets_stale_log without save_commit_roll_forward); "
    "the searches walk kevy-1.17 and hardened, whose roll-forward commit of the same reset "
    "is reached (scenario save-stale-log)",
}
"""Known reasons a site has no crash search, keyed by `module:function` prefix."""


@dataclass(frozen=True)
class Site:
    """One call in impl/ that reaches the seam with a persistence effect."""

    module: str
    """impl module name, e.g. "snapshot"."""
    function: str
    """Qualified function name, e.g. "Aof.rewrite_finish"."""
    op: str
    """create, write, fsync, fdatasync, fsync_dir, rename, unlink or truncate."""
    ordinal: int
    """1-based among this op's calls in the function, in source order."""
    line: int
    end_line: int

    @property
    def id(self) -> str:
        return f"{self.module}:{self.function}:{self.op}#{self.ordinal}"

    @property
    def is_point(self) -> bool:
        return self.op != "write"


def _call_op(node: ast.Call) -> str | None:
    f = node.func
    if isinstance(f, ast.Name) and f.id == "write_all":
        return "write"
    if not isinstance(f, ast.Attribute):
        return None
    if f.attr == "write":
        # Only a seam handle's write: `handle.write`, `self.handle.write`;
        # text streams (`out.write`) are not the seam.
        recv = f.value
        name = recv.attr if isinstance(recv, ast.Attribute) else getattr(recv, "id", "")
        return "write" if name == "handle" else None
    if f.attr == "open_append" and any(
        k.arg == "create" and isinstance(k.value, ast.Constant) and k.value.value is False
        for k in node.keywords
    ):
        return None  # opens an existing file: creates nothing, numbers no point (rule 3)
    return _METHOD_OPS.get(f.attr)


class _SiteVisitor(ast.NodeVisitor):
    def __init__(self, module: str) -> None:
        self.module = module
        self.scope: list[str] = []
        self.counts: list[dict[str, int]] = [{}]
        self.sites: list[Site] = []

    def _enter(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.scope.append(node.name)
        fresh = not isinstance(node, ast.ClassDef)
        if fresh:
            self.counts.append({})
        self.generic_visit(node)
        if fresh:
            self.counts.pop()
        self.scope.pop()

    visit_FunctionDef = _enter
    visit_AsyncFunctionDef = _enter
    visit_ClassDef = _enter

    def visit_Call(self, node: ast.Call) -> None:
        op = _call_op(node)
        if op is not None and self.scope:
            counts = self.counts[-1]
            counts[op] = counts.get(op, 0) + 1
            self.sites.append(
                Site(
                    self.module,
                    ".".join(self.scope),
                    op,
                    counts[op],
                    node.lineno,
                    node.end_lineno or node.lineno,
                )
            )
        self.generic_visit(node)


def static_sites(impl_dir: Path = IMPL_DIR) -> list[Site]:
    """Every persistence call site in impl/ (the seam itself excluded), in file order."""
    return list(_scan(impl_dir))


def _scan(impl_dir: Path) -> tuple[Site, ...]:
    sites: list[Site] = []
    for path in sorted(impl_dir.glob("*.py")):
        if path.name == SEAM:
            continue
        v = _SiteVisitor(path.stem)
        v.visit(ast.parse(path.read_text(), filename=str(path)))
        sites.extend(v.sites)
    return tuple(sites)


# Cached for searches that attribute a crash per example (machines, hunt).
_static_sites = functools.lru_cache(maxsize=4)(_scan)


# --------------------------------------------------------------------------
# Dynamic attribution.


class _Index:
    """(file, line) -> sites, for mapping a caller frame to a static site."""

    def __init__(self, sites: Iterable[Site], impl_dir: Path) -> None:
        self.impl_dir = str(impl_dir)
        self.by_module: dict[str, list[Site]] = {}
        for s in sites:
            self.by_module.setdefault(s.module, []).append(s)

    def caller(self, ops: tuple[str, ...]) -> str:
        # The first frame outside this module and the seam issued the call; if it
        # is not in impl/ (e.g. a scenario damaging a file), it is no impl site.
        frame = sys._getframe(1)
        here = os.path.abspath(__file__)
        seam = os.path.join(self.impl_dir, SEAM)
        while frame is not None and frame.f_code.co_filename in (here, seam):
            frame = frame.f_back  # type: ignore[assignment]
        return self.site_at(frame, ops)

    def site_at(
        self, frame: FrameType | None, ops: tuple[str, ...], line: int | None = None
    ) -> str:
        if frame is not None:
            fn = frame.f_code.co_filename
            if os.path.dirname(fn) == self.impl_dir:
                module = os.path.basename(fn)[:-3]
                line = frame.f_lineno if line is None else line
                for s in self.by_module.get(module, ()):
                    if s.op in ops and s.line <= line <= s.end_line:
                        return s.id
                return f"{module}:{frame.f_code.co_qualname}:?{ops[0]}@{line}"
        return "outside-impl"


class _RecordedFile:
    def __init__(self, rec: SiteRecorder, inner: WritableFile) -> None:
        self._rec = rec
        self._inner = inner

    def write(self, data: bytes) -> int:
        self._rec.executed.add(self._rec._index.caller(("write",)))
        return self._inner.write(data)

    def fdatasync(self) -> None:
        self._rec._call(("fdatasync",), self._inner.fdatasync)

    def fsync(self) -> None:
        self._rec._call(("fsync",), self._inner.fsync)

    def truncate(self, length: int) -> None:
        self._rec._call(("truncate",), self._inner.truncate, length)

    def size(self) -> int:
        return self._inner.size()

    def close(self) -> None:
        self._inner.close()


class SiteRecorder:
    """A FileSystem proxy over a CrashFS: `point_sites[i]` is the site that issued point i.

    It adds no behaviour: every call goes to the CrashFS unchanged (a crash
    or an injected fault propagates after the point is attributed).
    """

    def __init__(
        self, inner: CrashFS, sites: Iterable[Site] | None = None, impl_dir: Path = IMPL_DIR
    ) -> None:
        self.inner = inner
        self._index = _Index(_static_sites(impl_dir) if sites is None else sites, impl_dir)
        self.point_sites: dict[int, str] = {}
        self.executed: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _call(self, ops: tuple[str, ...], fn: Any, *args: Any, **kw: Any) -> Any:
        site = self._index.caller(ops)
        self.executed.add(site)
        before = len(self.inner.points())
        try:
            return fn(*args, **kw)
        except SimulatedCrash as e:
            if e.point is not None:
                self.point_sites.setdefault(e.point.index, site)
            raise
        finally:
            for p in self.inner.points()[before:]:
                self.point_sites.setdefault(p.index, site)

    def read_bytes(self, path: str) -> bytes:
        return self.inner.read_bytes(path)

    def exists(self, path: str) -> bool:
        return self.inner.exists(path)

    def is_dir(self, path: str) -> bool:
        return self.inner.is_dir(path)

    def file_size(self, path: str) -> int:
        return self.inner.file_size(path)

    def listdir(self, path: str) -> list[str]:
        return self.inner.listdir(path)

    def makedirs(self, path: str) -> None:
        self.inner.makedirs(path)

    def open_append(self, path: str, *, create: bool = True) -> WritableFile:
        f = self._call(("create",), self.inner.open_append, path, create=create)
        return _RecordedFile(self, f)

    def create_truncate(self, path: str) -> WritableFile:
        f = self._call(("create",), self.inner.create_truncate, path)
        return _RecordedFile(self, f)

    def create_exclusive(self, path: str) -> WritableFile:
        f = self._call(("create",), self.inner.create_exclusive, path)
        return _RecordedFile(self, f)

    def rename(self, src: str, dst: str) -> None:
        self._call(("rename",), self.inner.rename, src, dst)

    def unlink(self, path: str) -> None:
        self._call(("unlink",), self.inner.unlink, path)

    def fsync_dir(self, path: str) -> None:
        self._call(("fsync_dir",), self.inner.fsync_dir, path)

    def site_of(self, point: int) -> str | None:
        """The site that issued persistence point `point` (1-based), if seen."""
        return self.point_sites.get(point)


# --------------------------------------------------------------------------
# Searches other than the explorer.


@dataclass
class _SearchLog:
    hits: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    """site id -> search name -> models."""

    def add(self, search: str, model: str, site: str) -> None:
        self.hits.setdefault(site, {}).setdefault(search, set()).add(model)


SEARCH_LOG = _SearchLog()
LOG_ENV = "KEVY_VERIFY_SITES_LOG"


def record_site(search: str, model: str, site: str | None) -> None:
    """Note that `search` (e.g. "machines", "hunt") crashed at `site` under `model`."""
    if site is None:
        return
    SEARCH_LOG.add(search, model, site)
    path = os.environ.get(LOG_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"search": search, "model": model, "site": site}) + "\n")


def site_of_crash(exc: SimulatedCrash, impl_dir: Path = IMPL_DIR) -> str | None:
    """The impl site whose call raised `exc` (a crash at a numbered point), read
    from the traceback: no proxy needed, so any search can call it in its
    `except SimulatedCrash` block. None for a crash with no point."""
    if exc.point is None:
        return None
    index = _Index(_static_sites(impl_dir), impl_dir)
    model_dir = os.path.join(os.path.dirname(index.impl_dir), "model")
    seam = os.path.join(index.impl_dir, SEAM)
    # The innermost frame that is neither the simulated file system nor the seam.
    caller: FrameType | None = None
    tb = exc.__traceback__
    while tb is not None:
        fn = tb.tb_frame.f_code.co_filename
        if not fn.startswith(model_dir + os.sep) and fn != seam:
            caller = tb.tb_frame
            # tb_lineno is the line executing in this frame when the crash passed.
            line = tb.tb_lineno
        tb = tb.tb_next
    if caller is None:
        return None
    ops = _POINT_SITE_OPS.get(exc.point.op, (exc.point.op,))
    return index.site_at(caller, ops, line)


@contextmanager
def recording(fs: CrashFS, search: str, model: str) -> Iterator[SiteRecorder]:
    """Hand the yielded proxy to the Store instead of `fs`; a crash inside the
    block is recorded for `search` under `model` (and re-raised)."""
    rec = SiteRecorder(fs)
    try:
        yield rec
    finally:
        info = fs.crash_info
        if info is not None and info.point is not None:
            record_site(search, model, rec.site_of(info.point.index))


def load_log(path: str) -> None:
    """Merge a `KEVY_VERIFY_SITES_LOG` file into `SEARCH_LOG`."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                SEARCH_LOG.add(d["search"], d["model"], d["site"])


# --------------------------------------------------------------------------
# The report.


@dataclass
class Coverage:
    sites: list[Site]
    models: tuple[Model, ...]
    reached: dict[str, dict[str, set[str]]]
    """site id -> search -> models crashed at (for a write: executed before crashes)."""
    scenarios: dict[str, list[str]]
    """site id -> "scenario/profile" runs that reach it."""
    unattributed: list[str]

    def gaps(self) -> dict[str, str]:
        """Sites not reached under every model, with the reason when known."""
        out: dict[str, str] = {}
        for s in self.sites:
            models = (
                set().union(*self.reached.get(s.id, {}).values()) if s.id in self.reached else set()
            )
            missing = [m for m in self.models if m not in models]
            if not missing:
                continue
            reason = next(
                (r for k, r in GAP_REASONS.items() if s.id.startswith((k + ":", k + "#"))),
                "no scenario drives it",
            )
            if models:
                reason = f"not under {', '.join(missing)}"
            out[s.id] = reason
        return out

    def percent(self) -> float:
        if not self.sites:
            return 100.0
        return 100.0 * (len(self.sites) - len(self.gaps())) / len(self.sites)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "kevy-verify-sites/1",
            "models": list(self.models),
            "sites": [
                {
                    "id": s.id,
                    "line": s.line,
                    "op": s.op,
                    "point": s.is_point,
                    "reached": {
                        k: sorted(v) for k, v in sorted(self.reached.get(s.id, {}).items())
                    },
                    "scenarios": sorted(self.scenarios.get(s.id, [])),
                }
                for s in self.sites
            ],
            "gaps": self.gaps(),
            "known_gaps": dict(GAP_REASONS),
            "unattributed": sorted(set(self.unattributed)),
            "unattributed_note": "outside-impl: a persistence call made by the harness "
            "itself (e.g. scenarios' damage_aof), not by impl/",
            "covered_percent": round(self.percent(), 1),
        }

    def text(self) -> str:
        lines = [f"{len(self.sites)} persistence sites in impl/, models {', '.join(self.models)}"]
        for s in self.sites:
            hits = self.reached.get(s.id, {})
            what = "; ".join(f"{k}: {','.join(sorted(v))}" for k, v in sorted(hits.items()))
            lines.append(f"  {s.id:<48} line {s.line:<4} {what or '-'}")
        gaps = self.gaps()
        lines.append(
            f"covered under every model: {len(self.sites) - len(gaps)}/{len(self.sites)}"
            f" ({self.percent():.1f}%)"
        )
        for sid, reason in gaps.items():
            lines.append(f"  gap {sid}: {reason}")
        for u in sorted(set(self.unattributed)):
            lines.append(f"  unattributed call: {u}")
        return "\n".join(lines)


def coverage(
    models: Iterable[Model] = MODELS,
    scenarios: Iterable[str] | None = None,
    profiles: Iterable[str] | None = None,
) -> Coverage:
    """Probe every scenario × profile through a recorder (cheap: one run each)."""
    from harness import scenarios as sc_mod
    from impl.profile import PROFILES

    models = tuple(models)
    sites = static_sites()
    known = {s.id for s in sites}
    reached: dict[str, dict[str, set[str]]] = {}
    runs: dict[str, list[str]] = {}
    unattributed: list[str] = []
    for name in scenarios if scenarios is not None else sorted(sc_mod.SCENARIOS):
        sc = sc_mod.get_scenario(name)
        for pname in profiles if profiles is not None else sorted(PROFILES):
            rec = SiteRecorder(CrashFS(), sites)
            sc_mod.drive(sc, PROFILES[pname], rec)  # type: ignore[arg-type]
            # Every numbered point is crashed at before and after by the explorer;
            # a write site is reached when it ran (rule 1).
            seen = set(rec.point_sites.values()) | {
                s for s in rec.executed if s.split(":")[-1].startswith("write#")
            }
            for sid in seen:
                if sid not in known:
                    unattributed.append(sid)
                    continue
                reached.setdefault(sid, {}).setdefault("explorer", set()).update(models)
                runs.setdefault(sid, []).append(f"{name}/{pname}")
    # The repair tool's runs, each crashed before and after every point under
    # every model by tests/test_repair_crash.py (harness/sites_repair.py).
    from harness import sites_repair

    for run in sites_repair.RUNS:
        rec = SiteRecorder(sites_repair.fresh(run), sites)
        sites_repair.probe(rec)  # type: ignore[arg-type]
        for sid in set(rec.point_sites.values()) | {
            s for s in rec.executed if s.split(":")[-1].startswith("write#")
        }:
            if sid not in known:
                unattributed.append(sid)
                continue
            reached.setdefault(sid, {}).setdefault(sites_repair.SEARCH, set()).update(models)
            runs.setdefault(sid, []).append(f"repair/{run.name}")
    for sid, by_search in SEARCH_LOG.hits.items():
        for search, ms in by_search.items():
            reached.setdefault(sid, {}).setdefault(search, set()).update(ms)
    return Coverage(sites, models, reached, runs, unattributed)
