"""Shared by the hostile-input tests: a memory-limited child that must not hang, and
a digest of a directory tree that changes if any entry's type, mtime or bytes do."""

from __future__ import annotations

import hashlib
import resource
import subprocess
import sys
from pathlib import Path

__all__ = ["LIMIT_BYTES", "TIMEOUT_S", "run_limited", "tree_digest"]

#: the child may use this much address space: a count-sized allocation cannot fit
LIMIT_BYTES = 768 * 2**20
TIMEOUT_S = 60
ROOT = Path(__file__).resolve().parent.parent


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))


def run_limited(*args: str) -> subprocess.CompletedProcess[str]:
    """`kevy-verify ARGS` in a child with bounded memory; running past TIMEOUT_S fails."""
    try:
        return subprocess.run(
            [sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True,
            timeout=TIMEOUT_S, preexec_fn=_limit, cwd=ROOT,
        )  # fmt: skip
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"kevy-verify {' '.join(args)} ran past {TIMEOUT_S} s") from e


def tree_digest(root: Path) -> str:
    """Every entry's name, mode and mtime, and every regular file's bytes."""
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        h.update(repr((str(p.relative_to(root)), st.st_mode, st.st_mtime_ns)).encode())
        if p.is_file() and not p.is_fifo():
            h.update(p.read_bytes())
    return h.hexdigest()
