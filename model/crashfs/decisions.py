"""`Decision`: one fate a crash image gave to something no sync protected, as data.

Part of the model/crashfs package; its __init__ holds the models' rules.

What: every crash image carries one `Decision` per choice the model made
(`CrashImage.decisions`): a pending create, rename or unlink kept, lost or
moot (posix, Rule 5); a file's unprotected data events kept, dropped from one
event on, or torn at a byte (Rule 2); the metadata after the last barrier cut
at a point (ordered, Rule 4); or the one process-crash image (Rule 3).

Why: the explorer groups violations by what the image lost and classifies
them by finding id (harness/finding_ids.py); it reads these fields, never the
sentence. `str(decision)` is the trace line printed in reports and stored in
corpus cases ("create aof-0.aof: lost (directory not fsynced)"), made only
when something is printed or stored.

Rules:
1. Frozen and hashable: equal decisions are equal records (the sampler
   de-duplicates images by their decision tuples).
2. `path`/`dst` are full paths as the store used them; the text shows base
   names (renames stay in one directory, docs/SPEC.md §10).
3. `fate` is the decision itself; `loses` says whether anything was lost or
   torn (a data decision that kept every op may still lose the ops behind an
   unpersisted truncate: `after`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from impl.fs import basename
from model.crashfs.points import _describe_op

__all__ = ["NAME_OPS", "Decision", "DecisionOp", "Fate"]

#: What was decided on: a name op (posix), a file's data, the metadata cut
#: (ordered) or the process-crash image.
DecisionOp = Literal["create", "rename", "unlink", "data", "metadata", "process"]
#: kept / lost / moot (a name op whose source is absent in the image) /
#: dropped (data: from one event on) / torn (data: an append cut at `tear`).
Fate = Literal["kept", "lost", "moot", "dropped", "torn"]
NAME_OPS: frozenset[str] = frozenset({"create", "rename", "unlink"})

#: Why each fate that loses something can happen (the model's rule, in words).
REASONS: dict[str, str] = {
    "name": "directory not fsynced",
    "moot": "source absent in this image",
    "data": "unprotected data",
    "metadata": "metadata after the last barrier",
}


@dataclass(frozen=True, slots=True)
class Decision:
    """One crash-image decision (module docstring)."""

    op: DecisionOp
    path: str
    """The file (or, for `metadata`, the directory op list's first path; "" for process)."""
    fate: Fate
    dst: str | None = None
    """A rename's destination."""
    reason: str = ""
    """Why it could go either way: a key of `REASONS`."""
    kept: int = 0
    """data: unprotected data ops kept whole; metadata: ops persisted."""
    total: int = 0
    """data: unprotected data ops; metadata: ops after the last barrier."""
    event: str = ""
    """data: the first op not kept whole ("append #3 (12 B)", "truncate to 0")."""
    tear: int | None = None
    """data, fate torn: the bytes of `event` that survived."""
    after: int = 0
    """data: ops after an unpersisted truncate, lost with it whatever the fate."""
    barrier: str = ""
    """metadata: the last barrier ("point 4 (fsync aof-0.aof)", "the start")."""
    lost_ops: tuple[tuple[str, str, str | None], ...] = ()
    """metadata: the (op, path, dst) of each op the cut left out, in order."""

    @property
    def loses(self) -> bool:
        """Whether this decision lost or tore anything."""
        if self.fate in ("lost", "dropped", "torn"):
            return True
        return self.after > 0

    def blank_tear(self) -> Decision:
        """The same decision with the torn byte blanked (representative classes)."""
        return self if self.tear is None else replace(self, tear=-1)

    def __str__(self) -> str:
        if self.op in NAME_OPS:
            text = _describe_op(self.op, self.path, self.dst)
            if self.fate == "lost":
                return f"{text}: lost (directory not fsynced)"
            if self.fate == "moot":
                return f"{text}: source absent in this image, so moot"
            return f"{text}: kept"
        if self.op == "data":
            name = basename(self.path)
            tail = f"; {self.after} op(s) after an unpersisted truncate lost" if self.after else ""
            if self.fate == "kept":
                return f"{name}: all {self.total} unprotected data op(s) kept{tail}"
            if self.fate == "torn":
                byte = "*" if self.tear == -1 else str(self.tear)
                fate = f"{self.event} torn at byte {byte}"
            else:
                fate = f"dropped from {self.event} on"
            return f"{name}: {self.kept} of {self.total} unprotected data op(s) kept, {fate}{tail}"
        if self.op == "metadata":
            if not self.lost_ops:
                return f"metadata after {self.barrier}: all {self.total} op(s) kept"
            lost = ", ".join(_describe_op(*op) for op in self.lost_ops)
            return (
                f"metadata after {self.barrier}: first {self.kept} of {self.total} op(s) "
                f"persisted; lost: {lost}"
            )
        return "process crash: every completed call kept"
