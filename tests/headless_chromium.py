"""Load a local page in the real headless Chromium (Debian's `chromium`) and read it back.

What: `load_page(path)` runs `chromium --headless=new --dump-dom file://PATH`
with a fresh temporary profile and console logging on stderr, and returns
the DOM as it stands after the page's scripts ran plus every console line
(`console.*` calls, uncaught exceptions, Content-Security-Policy refusals).
`require_chromium()` finds the binary; without one it skips the test, except
under CI=true (set by `.ci/run`, which installs the package), where that is
a failure.

Why the real browser: the report's promise is "opens in a browser with no
error and shows the JSON's numbers"; only a browser can run its script.

Rules: bounded - one subprocess with a timeout, started in its own process
group and killed by that group (never by name) on timeout; the profile
directory is temporary; the page is a local file and the browser is told
not to reach any network service.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["PageLoad", "load_page", "require_chromium"]

#: Seconds one page load may take (about 1 s on the idle 2-core machine).
TIMEOUT_S = 90


@dataclass(frozen=True)
class PageLoad:
    dom: str
    """The serialized DOM after the page's scripts ran."""
    console: list[str]
    """Chromium's CONSOLE log lines: empty for a page that ran cleanly."""
    returncode: int


def require_chromium() -> str:
    """Path of `chromium` (or `chromium-browser`); skip (or fail under CI=true) without one."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    reason = "chromium is not installed (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true: {reason}; .ci/run installs it, so this is a broken CI image")
    pytest.skip(reason)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def load_page(path: Path) -> PageLoad:
    """Open `path` headless, let its scripts run, return the DOM and the console lines."""
    binary = require_chromium()
    with tempfile.TemporaryDirectory(prefix="kevy-chromium-") as profile:
        argv = [
            binary, "--headless=new", "--disable-gpu", "--no-sandbox", "--no-first-run",
            "--disable-extensions", "--disable-background-networking", "--disable-sync",
            "--disable-component-update", "--no-default-browser-check",
            "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}",
            "--dump-dom", path.resolve().as_uri(),
        ]  # fmt: skip
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
        )
        try:
            out, err = proc.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            proc.communicate()
            pytest.fail(f"chromium did not finish loading {path} in {TIMEOUT_S} s")
        finally:
            # Helpers (zygote, GPU/utility processes) are in the same group: end them too.
            _kill_group(proc.pid)
    text = err.decode("utf-8", "replace")
    console = [line for line in text.splitlines() if ":CONSOLE" in line]
    return PageLoad(out.decode("utf-8", "replace"), console, proc.returncode)
