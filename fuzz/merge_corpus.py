"""Fold what fuzzing found into the small committed corpus.

What: for each target, `libFuzzer -merge=1` the working corpus
(`fuzz/nightly-out/corpus/<target>/`) into a scratch copy of the committed
`seed-*` files; the inputs the merge keeps are exactly those adding coverage
beyond the seeds. Up to `--limit` of them (smallest first, each ≤ 64 KiB and
passing the target's `check`) replace the `fuzz-*` files of
`fuzz/corpus/<target>/`, named `fuzz-<sha1 prefix>`.

Why: the committed corpus is replayed on every pytest run, so it must stay
small (tens of files) yet keep the inputs that reached the deepest code.

Run: `python fuzz/merge_corpus.py [--targets resp,aof] [--limit 40]`.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
if __name__ == "__main__":  # run as a script: make the repository importable
    sys.path[0] = str(FUZZ.parent)

from fuzz.common import TARGETS  # noqa: E402 - needs the path set above
from fuzz.make_seeds import MAX_SEED_BYTES  # noqa: E402

__all__ = ["main", "merge_target"]


def merge_target(target: str, limit: int) -> int:
    """Replace `fuzz/corpus/<target>/fuzz-*` by the merge's picks; return how many."""
    corpus = FUZZ / "corpus" / target
    work = FUZZ / "nightly-out" / "corpus" / target
    if not work.is_dir() or not any(work.iterdir()):
        return 0
    check = importlib.import_module(f"fuzz.targets.{target}").check
    with tempfile.TemporaryDirectory() as scratch:
        into = Path(scratch) / "merged"
        into.mkdir()
        for seed in corpus.glob("seed-*"):
            shutil.copy(seed, into / seed.name)
        seeds = {p.name for p in into.iterdir()}
        subprocess.run([sys.executable, str(FUZZ / "targets" / f"{target}.py"), "-merge=1",
                        str(into), str(work)], cwd=scratch, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        found = sorted((p for p in into.iterdir() if p.name not in seeds),
                       key=lambda p: (p.stat().st_size, p.name))
        picked = []
        for path in found:
            data = path.read_bytes()
            if len(data) > MAX_SEED_BYTES:
                continue
            check(data)  # a merged input that fails is a crash, not a corpus file
            picked.append(data)
            if len(picked) == limit:
                break
    for old in corpus.glob("fuzz-*"):
        old.unlink()
    for data in picked:
        (corpus / f"fuzz-{hashlib.sha1(data).hexdigest()[:16]}").write_bytes(data)
    return len(picked)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--limit", type=int, default=40, help="fuzz-* files per target")
    args = parser.parse_args(argv)
    for target in args.targets.split(","):
        print(f"{target}: {merge_target(target, args.limit)} fuzz-* files", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
