#!/usr/bin/env python3
"""Fuzz target: a data directory built from the fuzzer's bytes, through `check` and `dump`.

The input decodes (`build_tree`) into up to 8 entries, each
`kind | name | length | content`: kind 0/3 a regular file, 1 a directory,
2 a FIFO; the name is one of kevy's (`dump-0.rdb`, `aof-1.aof`,
`shards.meta`, `reshard.journal`, siblings), `aof-<u64>.aof` /
`dump-<u64>.rdb` with an index from the input, or a stray name from the
input's bytes (control characters included); content is at most 4 KiB.

What `check(data)` asserts, on `kevy-verify check DIR` and `dump DIR`
run in-process (issue 12's hostile-input oracles):

1. `main` returns 0, 1 or 2 and lets no exception escape;
2. exit 2 prints exactly one line on stderr, naming the directory;
3. nothing printed contains ESC, and no stdout line of `check` but the
   last is `ok` (a forged line would be one);
4. one verdict: when `dump` refuses (exit 2), `check` is not `ok`;
5. the tree is unchanged: every entry's type, size, mtime and hash;
6. bounded: at most 64 × the input + 64 MiB (sampled; counts from names and
   text files are bounded before use) — a hang shows as libFuzzer's timeout.

Why: the file readers survived every byte flip; the edges (counts from
names, special files, readers by role, the shared verdict) did not.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import struct
import sys
import tempfile
import tracemalloc
from collections.abc import Callable
from pathlib import Path

if __name__ == "__main__":  # run as a script: make the repository importable
    sys.path[0] = str(Path(__file__).resolve().parents[2])

from fuzz.common import FuzzFinding, instrumented

with instrumented(__name__):
    from impl.cli import main

__all__ = ["NAMES", "TestOneInput", "build_tree", "check"]

#: kevy's own names (and siblings), chosen by one byte
NAMES = (
    "dump-0.rdb",
    "aof-0.aof",
    "dump-1.rdb",
    "aof-1.aof",
    "shards.meta",
    "reshard.journal",
    "dump-0.rdb.reshard",
    "aof-0.aof.premigration.7",
)
MAX_ENTRIES = 8
MAX_CONTENT = 4096
MEMORY_FACTOR = 64
MEMORY_CONSTANT = 64 * 1024 * 1024


def _name(selector: int, raw: bytes) -> str:
    if selector < 0xC0:
        return NAMES[selector % len(NAMES)]
    if selector < 0xE0:  # an index that names a shard, as large as a u64
        index = struct.unpack("<Q", raw[:8].ljust(8, b"\0"))[0]
        return f"aof-{index}.aof" if selector & 1 else f"dump-{index}.rdb"
    # a stray name: any bytes a file name may hold, controls included
    name = raw[:16].replace(b"/", b"_").replace(b"\0", b"_").decode("latin-1")
    return name if name not in ("", ".", "..") else "stray"


def build_tree(data: bytes, root: Path) -> None:
    """Create the entries `data` describes under `root` (see the module docstring)."""
    pos = 0
    for _ in range(MAX_ENTRIES):
        if pos + 4 > len(data):
            return
        kind, selector = data[pos] % 4, data[pos + 1]
        length = min(int.from_bytes(data[pos + 2 : pos + 4], "little"), MAX_CONTENT)
        body = data[pos + 4 : pos + 4 + length]
        pos += 4 + len(body)
        path = root / _name(selector, body)
        if os.path.lexists(path):
            continue
        if kind == 1:
            path.mkdir()
        elif kind == 2:
            os.mkfifo(path)
        else:
            path.write_bytes(body)


def _state(root: Path) -> dict[str, tuple[int, int, int, str]]:
    state = {}
    for entry in sorted(root.iterdir()):
        st = entry.lstat()
        digest = hashlib.sha256(entry.read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode) else ""
        state[entry.name] = (st.st_mode, st.st_size, st.st_mtime_ns, digest)
    return state


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        code = main(list(argv), out=out, err=err)
    except BaseException as e:  # rule 1: nothing escapes main
        raise FuzzFinding(f"kevy-verify {argv[0]}: {type(e).__name__} escaped: {e}") from e
    return code, out.getvalue(), err.getvalue()


def _check_tree(root: Path) -> None:
    where = str(root)
    before = _state(root)
    results = {cmd: _run(cmd, where, "--now-ms", "0") for cmd in ("check", "dump")}
    for cmd, (code, out, err) in results.items():
        if code not in (0, 1, 2):  # rule 1
            raise FuzzFinding(f"{cmd}: exit {code}")
        if code == 2 and (len(err.splitlines()) != 1 or where not in err):  # rule 2
            raise FuzzFinding(f"{cmd}: exit 2 without one line naming {where}: {err!r}")
        if "\x1b" in out + err:  # rule 3
            raise FuzzFinding(f"{cmd}: raw ESC reached the terminal")
    check_lines = results["check"][1].splitlines()
    if "ok" in check_lines[:-1]:
        raise FuzzFinding(f"check: a forged 'ok' line: {check_lines!r}")
    if results["dump"][0] == 2 and results["check"][0] == 0:  # rule 4
        raise FuzzFinding(f"dump refuses ({results['dump'][2]!r}) but check says ok")
    if _state(root) != before:  # rule 5
        raise FuzzFinding("check or dump changed the directory")


def check(data: bytes) -> None:
    """All oracles of the module docstring on one input."""
    with tempfile.TemporaryDirectory(prefix="kevy-fuzz-dirs-") as tmp:
        root = Path(tmp) / "d"
        root.mkdir()
        build_tree(data, root)
        _bounded(lambda: _check_tree(root), len(data))


def _bounded(fn: Callable[[], None], size: int) -> None:
    """Rule 6: peak traced allocation <= MEMORY_FACTOR x size + MEMORY_CONSTANT.

    Not `fuzz.common.measured`: its 256 KiB constant is for one parser, and
    opening a directory builds a store (up to 16384 empty shards).
    """
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        fn()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        if started:
            tracemalloc.stop()
    if peak > MEMORY_FACTOR * size + MEMORY_CONSTANT:
        raise FuzzFinding(f"check+dump of a tree: peak {peak} bytes for {size} input bytes")


def TestOneInput(data: bytes) -> None:  # atheris's conventional name
    check(data)


if __name__ == "__main__":
    import atheris

    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
