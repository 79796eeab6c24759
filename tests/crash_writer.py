"""Child process for tests/test_process_crash.py: write through `Store`, ack each write.

What: `python -m tests.crash_writer DIR PROFILE SEED RUN [--kill-after-rename NAME]`
opens the store in DIR (appendfsync=always, manual reaper), then performs the
operations `operations(SEED, RUN)` yields, one by one, printing the
operation's index on stdout (flushed) only *after* the call returned. The
parent SIGKILLs it at a moment of its choosing; with `--kill-after-rename NAME`
the child SIGKILLs itself right after the first rename onto a file called
NAME (a deterministic crash point for a known window).

Why a separate process: a SIGKILL is the honest process crash — user-space
buffers vanish, every completed system call survives — which no in-process
simulation can promise.

Rules: every data operation's effect is unique and reveals duplication or
loss (RPUSH of a unique token, INCRBY 1 on one counter, SET of a unique key);
saves and log rewrites are mixed in. The operation list is a pure function of
(seed, run), shared with the parent.
"""

from __future__ import annotations

import os
import random
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from impl.aof import FsyncPolicy
from impl.clock import SystemClock
from impl.fs import OsFileSystem, basename
from impl.profile import get_profile
from impl.store import Store, StoreConfig

__all__ = ["COUNTER_KEY", "LIST_KEY", "Op", "config", "operations"]

LIST_KEY = b"log"
COUNTER_KEY = b"ctr"
MAX_OPS = 400


@dataclass(frozen=True)
class Op:
    #: "rpush", "incr", "set", "save" or "rewrite"
    kind: str
    #: the unique token (rpush: list element; set: key suffix); empty otherwise
    token: str = ""


def operations(seed: int, run: int) -> Iterator[Op]:
    """The child's operations for (seed, run); the parent replays the same list."""
    rng = random.Random(f"crash-writer:{seed}:{run}")
    for i in range(MAX_OPS):
        r = rng.random()
        token = f"{run}.{i}"
        if r < 0.35:
            yield Op("rpush", token)
        elif r < 0.65:
            yield Op("incr")
        elif r < 0.85:
            yield Op("set", token)
        elif r < 0.93:
            yield Op("save")
        else:
            yield Op("rewrite")


def config(directory: str) -> StoreConfig:
    """The configuration both the child and the verifying parent use."""
    return StoreConfig(data_dir=directory, appendfsync=FsyncPolicy.ALWAYS, reaper="manual")


class _KillAfterRename(OsFileSystem):
    """Real file system that SIGKILLs its own process after a rename onto `name`."""

    def __init__(self, name: str) -> None:
        self.name = name

    def rename(self, src: str, dst: str) -> None:
        super().rename(src, dst)
        if basename(dst) == self.name:
            os.kill(os.getpid(), signal.SIGKILL)


def main(argv: list[str]) -> int:
    directory, profile_name, seed, run = argv[0], argv[1], int(argv[2]), int(argv[3])
    fs = OsFileSystem()
    if len(argv) > 5 and argv[4] == "--kill-after-rename":
        fs = _KillAfterRename(argv[5])
    # A real process: the real clock is the right one (impl/clock.py).
    store = Store.open(config(directory), fs=fs, clock=SystemClock(),
                       profile=get_profile(profile_name))
    out = sys.stdout
    for i, op in enumerate(operations(seed, run)):
        if op.kind == "rpush":
            store.rpush(LIST_KEY, op.token.encode())
        elif op.kind == "incr":
            store.incr_by(COUNTER_KEY, 1)
        elif op.kind == "set":
            store.set(b"k" + op.token.encode(), b"v")
        elif op.kind == "save":
            store.save()
        else:
            store.rewrite_aof()
        out.write(f"{i}\n")
        out.flush()
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
