"""A simulated file system that can crash, and the states a crash may leave.

What: `CrashFS` implements the `impl.fs.FileSystem` protocol in memory. It
keeps what a reader sees now (the page cache) and enough history to say what
is durable, numbers every persistence point, can be told to die at one of
them, and turns the crash into *crash images*: the file trees a machine may
show after it reboots, under a named persistence model.

Why: every kevy durability protocol (temp file, fsync, rename; append and
fsync by policy; rewrite and swap) is correct only if it is correct at every
point where the machine can die and for every way the disk may have kept what
it was given. Running the protocol on this file system, crashing it at point
k and recovering from each image walks all of those cases deterministically.

Method (after SQLite's test6.c): every call goes into ONE ordered, numbered
log across all files. Appends are logged but are not persistence points; the
persistence points are create, truncate, fsync, fdatasync, fsync_dir, rename
and unlink, numbered from 1 in program order ("point 7: rename aof-0.aof.rewrite
→ aof-0.aof"). Files are inodes: a name maps to an inode, rename moves the
mapping, and an open handle keeps writing to its inode after a rename or
unlink (as on POSIX). Per inode we keep its starting bytes, its list of data
events (appends and truncates, each with its log position) and how many of
them the last successful fsync/fdatasync covered (LevelDB's
`pos_at_last_sync`, but with bytes). Per directory the durable names are the
names at its last fsync_dir, plus the creates, renames and unlinks since
(RocksDB's per-directory tracking). A crash image gives each op that no sync
protected one fate the model allows - kept, dropped, or torn at byte k - and
records one trace line per decision. Once the crash point is reached the file
system raises `SimulatedCrash` and records nothing more (LevelDB's
`filesystem_active`). Disk errors (short write, ENOSPC, EIO from fsync, a failed
open) are a separate, explicit `FaultPlan` and never touch the crash state.

The persistence models, each with its source:

- `process-crash` - kill -9 on a healthy kernel: every completed call survives,
  only user-space buffers are lost (LevelDB fault_injection_test with no reset).
- `ordered` - ext4 data=ordered as abstracted by ALICE ("All File Systems Are
  Not Created Equal", Pillai et al., OSDI 2014): metadata persists as a prefix
  in program order, data written before a persisted metadata op persists first.
- `posix` - only what was fsynced is promised: POSIX fsync(2) plus RocksDB's
  FaultInjectionTestFS (unsynced data dropped or a random prefix kept; files
  created since the last directory sync may vanish) and SQLite test6.c's
  independent per-write fates.

The exact rules (points "durable" = cannot be lost under that model):

Rule 1 (all models). A persistence point that failed through an injected fault
  changed nothing and protects nothing. Directories made by `makedirs` are
  durable at once and are not points: kevy creates its data directory once
  and never removes one. Renames must stay inside one directory (docs/SPEC.md §10);
  a cross-directory rename raises ValueError.
Rule 2 (data of one file, `ordered` and `posix`). A file's unprotected data
  events (appends and truncates after the protected ones) survive as a prefix
  in program order, and the first one that does not survive whole may, if it
  is an append, be torn at any byte (a file has one length; we never model
  holes or garbage - SQLite's "trash" fate is left out). So an unsynced append
  is kept, dropped, or torn at byte k; once one is dropped or torn, later data
  events of the same file are dropped too. Files are independent of each other.
Rule 3 (`process-crash`). One image: the current namespace and every byte
  passed to `write()`. Pages dropped by a failed fsync are still in the page
  cache (we do not model eviction), so they are still there. The kernel lives
  on: `CrashFS.resume()` continues the same log, so what the dead process left
  unsynced a later power cut may still take (a fresh `to_fs()` of the image
  would make it durable).
Rule 4 (`ordered`). Barriers are successful fsync, fdatasync and fsync_dir:
  each commits the journal, so every metadata op (create, rename, unlink,
  truncate, any file) before the last barrier is durable. The metadata ops
  after the last barrier persist as a prefix: the image picks a cut c, 0 <= c
  <= M, and the first c persist. Data: an append that precedes a persisted
  metadata op (any file) is durable, and so is one that precedes a successful
  fsync/fdatasync of its own file. The remaining appends of a file follow
  Rule 2, except that nothing after an unpersisted truncate of the same file
  can survive (it would land on a length the disk never had).
Rule 5 (`posix`). A create, rename or unlink is durable once its directory is
  fsynced after it; fsync of the file does NOT make a new file's name durable.
  Each other create/rename/unlink independently happened or not, applied in
  program order, with this causality: a rename or unlink whose source name
  does not, in the image being built, point to the inode it named at run time
  (its create was dropped, or an earlier rename was) is moot: no decision, no
  effect. Rename is atomic: it either moved the name or did not, so a rename
  over an existing file leaves the old or the new file under the destination
  and the source name only if it did not happen. Data: a successful fsync or
  fdatasync makes its file's data events (appends and truncates) durable;
  the rest follow Rule 2, so an unsynced truncate may or may not have happened.
Rule 6 (faults). An EIO from fsync/fdatasync with `drop_dirty` marks that
  file's appends not yet covered by a successful fsync/fdatasync of the file
  as lost, as Linux does after a writeback error ("fsyncgate", 2018): readers
  still see them until a crash (so `process-crash` keeps them), a later fsync
  succeeds, and in `ordered`/`posix` images those byte ranges read as zeros
  wherever they survive (the length arrives, the data never does - even if,
  under `ordered`, a metadata op would otherwise have forced it).
Rule 7 (the crash). At `crash_at=k` the call for point k raises
  `SimulatedCrash` before doing anything ("before") or after recording it
  ("after"); from then on every call raises `SimulatedCrash` again, except
  `close()`, which is a no-op so that `finally:` blocks stay quiet. Images
  describe the log as it stood at the crash (or now, if there was none).

Enumeration is bounded: a torn append of n bytes is enumerated at cuts
1, n//2 and n-1 when n > 16 and at every cut 1..n-1 when n <= 16 (0 and n are
the "dropped" and "kept" fates); `draw_image` may choose any byte. The
namespace choices are enumerated exhaustively, lazily, most-kept first.
`count_images` counts the same decision vectors without building them (a
product over groups of names no op connects, each counted by merging equal
name states op by op); two decision vectors may give equal bytes (a dropped
truncate of an empty file looks like a kept one).

`draw_image` makes these Hypothesis choices, each simplest when nothing is
lost: `ordered`, one integer (cuts back from "all metadata kept"); `posix`, one
boolean per pending create/rename/unlink that is not moot (False = kept), in
program order; then per visible file with unprotected data, sorted by path,
an integer (data ops dropped from the end, 0 = none), and if the first
dropped op is an append of 2+ bytes a boolean (torn?) and the torn length.
`sample_image` makes the same choices from a seeded `random.Random` (each
uniform; a torn length only among `tear_cuts`, so the image is an enumerated
one) and records them, so `chosen_image` rebuilds it for a regression case.

The package: `points` (persistence points, crash and fault vocabulary),
`state` (the recorded file-system state), `fs` (`CrashFS`), `choosers` (how an
image's decisions are drawn, sampled or replayed), `decisions` (`Decision`, one
record per decision; the trace lines are their `str`), `images` (`CrashImage` and
the per-model enumeration) and `posix` (the posix model's plan); the public
names are re-exported here.
"""

from __future__ import annotations

from model.crashfs.decisions import Decision
from model.crashfs.fs import CrashFS
from model.crashfs.images import CrashImage
from model.crashfs.points import (
    MODELS,
    Fault,
    FaultPlan,
    Model,
    NthCallFails,
    Point,
    SimulatedCrash,
    WorkBudgetExceeded,
    tear_cuts,
)

__all__ = [
    "MODELS",
    "CrashFS",
    "CrashImage",
    "Decision",
    "Fault",
    "FaultPlan",
    "Model",
    "NthCallFails",
    "Point",
    "SimulatedCrash",
    "WorkBudgetExceeded",
    "tear_cuts",
]
