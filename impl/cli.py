"""`kevy-verify`: dump, check and repair kevy files; list profiles; run the harness.

With `harness/cli.py` (which adds the harness commands and is the console
script), this is the composition root: the only place that builds a real clock
and the real file system. It imports nothing from `model/`. `dump` and
`check` read through `ReadOnlyFileSystem`, and a data directory is recovered
on an `OverlayFileSystem`, so neither command can change a byte of what it
reads.

Exit codes: 0 success / nothing wrong; 1 problems found (check), a refusal
(`dump --strict`, `repair` of a corrupt log); 2 usage or I/O error.
Errors are one line naming the file and byte offset, never a traceback.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from impl import repair
from impl.clock import Clock, ManualClock, SystemClock
from impl.commands import Dialect
from impl.counts import check_recorded_counts
from impl.errors import DecodeError, KevyVerifyError, Refusal, UsageError, shown
from impl.fs import FileSystem, OsFileSystem, ReadOnlyFileSystem, basename
from impl.keyspace import Keyspace
from impl.keyspace_json import document, dumps
from impl.layout import JOURNAL, MAX_SHARDS, SHARDS_META, ShardCountError, check_shard_count
from impl.profile import PROFILES, SWITCHES, Profile, get_profile
from impl.redis_aof_dir import is_redis_aof_dir, replay_redis_aof_dir
from impl.replay import EventKind, ReplayReport, replay_aof
from impl.resp import MAGIC as AOF_MAGIC
from impl.resp import scan_aof
from impl.snapshot import SnapshotReport, read_snapshot

__all__ = ["main"]

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2


class Refused(Refusal):
    """The command declined to proceed (`--strict`, corrupt log for `repair`)."""


@dataclass
class Notes:
    """Lines for stderr: what recovery skipped or dropped, each with its offset."""

    lossy: list[str] = field(default_factory=list)
    info: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------
# What is at PATH.


def role_of(name: str) -> str | None:
    """The role kevy gives a file by its name, or None (docs/SPEC.md §7.1, §10).

    `shards.meta`, `reshard.journal`; a snapshot is `*.rdb` and its temps and
    backups (`dump-0.rdb.tmp`, `.reshard`, `.premigration.<stamp>`); a log is
    `*.aof` and its relatives (`aof-0.aof.rewrite`, Redis's
    `appendonly.aof.1.incr.aof`). kevy reads a file as what its name says,
    never as what its first bytes look like, and so does every reader here.
    """
    if name == SHARDS_META:
        return "meta"
    if name == JOURNAL:
        return "journal"
    if name.endswith(".rdb") or ".rdb." in name:
        return "snapshot"
    if name.endswith(".aof") or ".aof." in name:
        return "aof"
    return None


def classify(fs: FileSystem, path: str, as_role: str | None = None) -> str:
    """`dir`, `snapshot`, `aof`, `meta` or `journal`: by role (`role_of`), or `as_role`."""
    if not fs.exists(path):
        raise UsageError(f"{shown(path)}: no such file or directory")
    if fs.is_dir(path):
        if as_role is not None:
            raise UsageError(f"{shown(path)}: --as {as_role} names a file, this is a directory")
        return "dir"
    if as_role is not None:
        return as_role
    role = role_of(basename(path))
    if role is None:
        raise UsageError(
            f"{shown(path)}: the name does not say what the file is (kevy names snapshots "
            "*.rdb and logs *.aof); pass --as snapshot or --as aof"
        )
    return role


def resolve_dialect(choice: str, path: str) -> Dialect:
    """`--dialect auto`: Redis for Redis's own log names (`appendonly*`), else kevy.

    By role, like every other reading decision: a kevy log whose first frame
    happens to be SELECT is still a kevy log.
    """
    if choice != "auto":
        return Dialect(choice)
    return Dialect.REDIS if basename(path).startswith("appendonly") else Dialect.KEVY


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else "."


def _replay_notes(report: ReplayReport, notes: Notes) -> None:
    for event in report.events:
        line = f"{report.path}: {event}"
        (notes.lossy if event.lossy else notes.info).append(line)


def _snapshot_notes(path: str, report: SnapshotReport, notes: Notes) -> None:
    for line in report.findings():
        trailing = "after the EOF marker" in line
        (notes.lossy if trailing else notes.info).append(f"{path}: {line}")


def recover_file(
    fs: FileSystem, path: str, kind: str, *, profile: Profile, clock: Clock,
    dialect: Dialect | None, notes: Notes,
) -> list[Keyspace]:
    ks = Keyspace(clock)
    if kind == "snapshot":
        data = fs.read_bytes(path)
        try:
            report = read_snapshot(data, ks, now_ms=clock.now_ms())
        except DecodeError as err:
            raise err.with_path(path) from None
        _snapshot_notes(path, report, notes)
    elif kind == "aof":
        rep = replay_aof(fs, path, ks, profile=profile, dialect=dialect)
        _replay_notes(rep, notes)
    else:
        raise UsageError(f"{shown(path)}: a {kind} file holds no keys; use `kevy-verify check`")
    return [ks]


def recover_directory(
    fs: FileSystem, path: str, *, profile: Profile, clock: Clock, notes: Notes,
    shards: int | None = None,
) -> list[Keyspace]:
    """Open the data directory as kevy's embedded store would, entirely in memory."""
    from impl.recovery import recover_directory_readonly

    return recover_directory_readonly(fs, path, profile=profile, clock=clock, notes=notes.lossy,
                                      info=notes.info, shards=shards)


def recover_redis_aof_dir(fs: FileSystem, path: str, *, profile: Profile, clock: Clock,
                          notes: Notes) -> list[Keyspace]:
    """A Redis 7 `appendonlydir/` (issue 11, impl/redis_aof_dir.py): parts in manifest order."""
    ks = Keyspace(clock)
    for report in replay_redis_aof_dir(fs, path, ks, profile=profile):
        # Redis logs only commands that succeeded, so any frame that was skipped,
        # failed or ignored here is data this reader lost: all count for --strict.
        notes.lossy.extend(f"{report.path}: {event}" for event in report.events)
    return [ks]


# --------------------------------------------------------------------------
# Commands.


def recover(fs: FileSystem, args: argparse.Namespace, *, profile: Profile, clock: Clock,
            notes: Notes) -> list[Keyspace]:
    """What kevy (as `profile`) recovers from `args.path`: the one verdict `dump`
    prints and `check` reports. Raises what kevy would fail the open with."""
    kind = classify(fs, args.path, getattr(args, "as_role", None))
    if kind == "dir" and args.dialect != "kevy" and is_redis_aof_dir(fs, args.path):
        return recover_redis_aof_dir(fs, args.path, profile=profile, clock=clock, notes=notes)
    if kind == "dir":
        return recover_directory(fs, args.path, profile=profile, clock=clock, notes=notes,
                                 shards=getattr(args, "shards", None))
    return recover_file(fs, args.path, kind, profile=profile, clock=clock,
                        dialect=resolve_dialect(args.dialect, args.path), notes=notes)


def cmd_dump(args: argparse.Namespace, fs: FileSystem, clock: Clock, out: TextIO,
             err: TextIO) -> int:
    profile = get_profile(args.profile)
    notes = Notes()
    shards = recover(fs, args, profile=profile, clock=clock, notes=notes)
    for line in notes.lossy:
        err.write(f"kevy-verify: dropped: {shown(line)}\n")
    if args.verbose:
        for line in notes.info:
            err.write(f"kevy-verify: note: {shown(line)}\n")
    if args.strict and notes.lossy:
        raise Refused(f"{args.path}: --strict: recovery would skip or drop data "
                      f"({len(notes.lossy)} place(s), first: {notes.lossy[0]})")
    out.write(dumps(document(shards, clock.now_ms())))
    return EXIT_OK


#: replay events `check` counts as problems (skipped verbs are counted per verb above)
_CHECK_PROBLEMS = frozenset({EventKind.TORN_TAIL, EventKind.CORRUPT_FRAME,
                             EventKind.MULTI_DROPPED, EventKind.OTHER_DB,
                             EventKind.UNDETERMINED})


def _check_aof(fs: FileSystem, path: str, profile: Profile, clock: Clock,
               dialect: Dialect | None, out: TextIO) -> int:
    data = fs.read_bytes(path)
    scan = scan_aof(data)
    problems = 0
    header = ("magic KEVYAOF1" if scan.has_magic
              else "no magic (legacy layout; kevy 1.2+ writes one)")
    if not scan.has_magic and data:
        problems += 1
        if AOF_MAGIC.startswith(data[: len(AOF_MAGIC)]) or data[:1] == b"K":
            header += "; starts like a partial magic header"
    out.write(f"{shown(path)}: aof, {len(data)} bytes, {header}\n")
    noncanonical = 0
    for frame in scan.frames:
        if not frame.canonical:
            noncanonical += 1
            if noncanonical <= 20:
                out.write(f"  offset {frame.offset}: {frame.kind} frame not in kevy's canonical "
                          f"form: {frame.argv[:3]!r}\n")
    if noncanonical:
        problems += 1
        if noncanonical > 20:
            out.write(f"  ... {noncanonical - 20} more non-canonical frames\n")
    report = replay_aof(fs, path, Keyspace(clock), profile=profile, dialect=dialect)
    out.write(f"  frames: {scan.count} complete, outcome {scan.outcome.value}, "
              f"dialect {report.dialect.value}\n")
    for verb, n in sorted(report.skipped.items()):
        first = report.first_skipped[verb]  # not a search of the events: linear (issue 12)
        out.write(f"  skipped verb {shown(verb)}: {n} frame(s), first at offset {first}\n")
        problems += 1
    for event in report.events:
        if event.kind in _CHECK_PROBLEMS:
            out.write(f"  {event}\n")
            problems += 1
    ignored = [e for e in report.events if e.kind.value == "ignored"]
    if ignored:
        n = report.count(EventKind.IGNORED)
        out.write(f"  {n} command(s) failed at replay and were discarded "
                  f"(first at offset {ignored[0].offset}: {shown(ignored[0].detail)})\n")
    return problems


def _check_snapshot(fs: FileSystem, path: str, clock: Clock, out: TextIO) -> int:
    data = fs.read_bytes(path)
    ks = Keyspace(clock)
    try:
        report = read_snapshot(data, ks, now_ms=clock.now_ms())
    except DecodeError as e:
        out.write(f"{shown(path)}: snapshot, {len(data)} bytes: {e.with_path(path)}\n")
        return 1
    kinds = ", ".join(f"{n} {t}" for t, n in sorted(report.by_type.items())) or "no records"
    out.write(f"{shown(path)}: snapshot v{report.version}, {len(data)} bytes, "
              f"{report.records} records ({kinds})\n")
    problems = 0
    if report.version != 4:
        out.write(f"  version {report.version}: written by an older kevy (1.17 writes 4)\n")
    for line in report.findings():
        out.write(f"  {shown(line)}\n")
        problems += 1
    if report.expired_on_load:
        out.write(f"  {len(report.expired_on_load)} record(s) already expired at load "
                  f"(first at offset {report.expired_on_load[0][0]})\n")
    return problems


def _check_meta(fs: FileSystem, path: str, out: TextIO) -> int:
    from impl.layout import explain_shards_meta, non_canonical_meta

    data = fs.read_bytes(path)
    try:
        layout = explain_shards_meta(data)
    except DecodeError as e:
        out.write(f"{e.with_path(path)}\n")
        return 1
    out.write(f"{shown(path)}: shards.meta, {layout.n} shard(s), routing {layout.routing.value}\n")
    try:
        check_shard_count(fs, _parent(path), layout.n, source=path,
                          offset=len(data) - len(data.lstrip()))
    except ShardCountError as e:
        out.write(f"  {e}\n")
        return 1
    notes = non_canonical_meta(data)
    for line in notes:
        out.write(f"  {shown(line)}\n")
    return len(notes)


def _check_journal(fs: FileSystem, path: str, out: TextIO) -> int:
    from impl.journal import explain_journal

    data = fs.read_bytes(path)
    try:
        j = explain_journal(data)
    except DecodeError as e:
        out.write(f"{e.with_path(path)} (torn: the next open deletes it)\n")
        return 1
    out.write(f"{shown(path)}: re-shard journal stamp={j.stamp} prev_n={j.prev_n} n={j.n} "
              f"routing={j.routing.value}: committed, the next open rolls it forward\n")
    for n in (j.prev_n, j.n):
        try:
            check_shard_count(fs, _parent(path), n, source=path)
        except ShardCountError as e:
            out.write(f"  {e}\n")
            break
    return 1


def _check_one(fs: FileSystem, path: str, role: str, profile: Profile, clock: Clock,
               dialect_choice: str, out: TextIO) -> int:
    try:
        if role == "aof":
            return _check_aof(fs, path, profile, clock,
                              resolve_dialect(dialect_choice, path), out)
        if role == "snapshot":
            return _check_snapshot(fs, path, clock, out)
        if role == "meta":
            return _check_meta(fs, path, out)
        return _check_journal(fs, path, out)
    except OSError as e:  # a FIFO, a device, a directory, an unreadable file
        out.write(f"{shown(path)}: {role}: {shown(e.strerror or str(e))}\n")
        return 1


#: docs/check-json.md
CHECK_FORMAT = "kevy-verify-check/1"


def cmd_check(args: argparse.Namespace, fs: FileSystem, clock: Clock, out: TextIO,
              err: TextIO) -> int:
    if getattr(args, "format", "text") != "json":
        return _check(args, fs, clock, out)
    # docs/check-json.md: the text report's lines (already escaped), in a versioned document.
    buf = io.StringIO()
    code = _check(args, fs, clock, buf)
    lines = buf.getvalue().splitlines()
    verdict = lines.pop() if lines else ""
    problems = 0 if verdict == "ok" else int(verdict.split(" ", 1)[0])
    out.write(json.dumps({"format": CHECK_FORMAT, "path": shown(args.path), "exit": code,
                          "problems": problems, "verdict": verdict, "lines": lines}) + "\n")
    return code


def _check(args: argparse.Namespace, fs: FileSystem, clock: Clock, out: TextIO) -> int:
    profile = get_profile(args.profile)
    kind = classify(fs, args.path, args.as_role)
    problems = 0
    if kind != "dir":
        problems += _check_one(fs, args.path, kind, profile, clock, args.dialect, out)
    elif not (args.dialect != "kevy" and is_redis_aof_dir(fs, args.path)):
        # Each entry by its name's role; nothing else is opened (a stray file
        # may be huge, a FIFO or a device), and counts are checked first.
        try:
            check_recorded_counts(fs, args.path)
        except ShardCountError as e:
            out.write(f"{shown(str(e))}\n")
            problems += 1
            out.write(f"{problems} problem(s)\n")
            return EXIT_PROBLEMS
        for name in fs.listdir(args.path):
            full = f"{args.path.rstrip('/')}/{name}"
            role = role_of(name)
            if role is None:
                out.write(f"{shown(full)}: not a kevy file name; skipped\n")
            elif fs.is_dir(full):
                out.write(f"{shown(full)}: a directory where kevy expects a {role} file\n")
                problems += 1
            else:
                problems += _check_one(fs, full, role, profile, clock, args.dialect, out)
    # The verdict `dump` gives: what kevy would recover, or the error it would fail with.
    # A shards.meta or a journal holds no keys: its own check above is the verdict.
    notes = Notes()
    try:
        if kind not in ("meta", "journal"):
            recover(fs, args, profile=profile, clock=clock, notes=notes)
    except (Refusal, DecodeError, KevyVerifyError, OSError) as e:
        out.write(f"{shown(args.path)}: kevy would not open it: {shown(_error_text(e))}\n")
        problems += 1
    else:
        if kind == "dir" and args.dialect != "kevy" and is_redis_aof_dir(fs, args.path):
            for line in notes.lossy:  # Redis logs only what succeeded: all of it lost
                out.write(f"  {shown(line)}\n")
            problems += len(notes.lossy)
    out.write(f"{problems} problem(s)\n" if problems else "ok\n")
    return EXIT_PROBLEMS if problems else EXIT_OK


def _error_text(e: BaseException) -> str:
    if isinstance(e, OSError) and not isinstance(e, KevyVerifyError):
        where = f"{e.filename}: " if e.filename else ""
        return f"{where}{e.strerror or e}"
    return str(e)


def cmd_repair(args: argparse.Namespace, fs: FileSystem, clock: Clock, out: TextIO,
               err: TextIO) -> int:
    role = classify(fs, args.path, "aof" if role_of(basename(args.path)) is None else None)
    return repair.cmd_repair(args, fs, clock, out, err, role=role)


def cmd_profiles(args: argparse.Namespace, fs: FileSystem, clock: Clock, out: TextIO,
                 err: TextIO) -> int:
    if args.format == "json":  # kevy-verify-profiles/1: one object, members as in the text
        out.write(json.dumps({
            "format": "kevy-verify-profiles/1",
            "profiles": {name: sorted(prof.enabled) for name, prof in PROFILES.items()},
            "switches": [{"name": sw.name, "finding": sw.finding, "summary": sw.summary}
                         for sw in sorted(SWITCHES.values(), key=lambda s: s.name)],
        }, indent=1) + "\n")  # fmt: skip
        return EXIT_OK
    for name, prof in PROFILES.items():
        out.write(f"{name}: {len(prof.enabled)} fix switch(es) on\n")
    out.write("\nfix switches (all on in `hardened`, all off in `kevy-1.17`):\n")
    for sw in sorted(SWITCHES.values(), key=lambda s: (s.finding, s.name)):
        out.write(f"  {sw.name}  [{sw.finding}]\n      {sw.summary}\n")
    return EXIT_OK


# --------------------------------------------------------------------------
# Argument parsing.


def build_parser(extend: Callable[[Any], None] | None = None) -> argparse.ArgumentParser:
    """The `kevy-verify` parser; `extend(subparsers)` adds the harness commands."""
    p = argparse.ArgumentParser(
        prog="kevy-verify",
        description="Verify, dump, check and repair kevy 1.17 files; run the crash harness.",
        epilog="Exit codes: 0 ok; 1 problems found or refused; 2 usage or I/O error.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--profile", type=profile_name, default="kevy-1.17",
                        help="kevy-1.17 (default: as kevy recovers), hardened (every fix on), "
                             "or a derived profile: kevy-1.17+SWITCH[,SWITCH] turns fixes on, "
                             "hardened-SWITCH[,SWITCH] turns them off")
        sp.add_argument("--dialect", choices=["auto", "kevy", "redis"], default="auto",
                        help="AOF dialect: kevy's own, a stock Redis 7 log, or auto (by "
                             "role: redis for Redis's appendonly* names and appendonlydir/, "
                             "else kevy)")
        sp.add_argument("--as", dest="as_role", choices=["snapshot", "aof"], default=None,
                        help="read a bare file as this, whatever its name (kevy decides by "
                             "name: *.rdb is a snapshot, *.aof a log; other names need --as)")
        sp.add_argument("--now-ms", type=_unix_ms, default=None,
                        help="judge TTLs at this Unix time in ms (>= 0) instead of the wall clock")

    d = sub.add_parser("dump", help="print the canonical JSON keyspace recovered from PATH",
                       description="Print the kevy-keyspace/1 JSON of what the profile recovers "
                       "from PATH (a snapshot, an AOF, or a data directory). Anything skipped "
                       "or dropped is reported on stderr with its byte offset. Never modifies "
                       "PATH.")
    d.add_argument("path", metavar="PATH")
    common(d)
    d.add_argument("--strict", action="store_true",
                   help="refuse (exit 1) if recovery would skip or drop anything")
    d.add_argument("--shards", type=_shard_count, default=None,
                   help=f"data directory: open with this shard count, 1..{MAX_SHARDS} "
                        "(default: as recorded)")
    d.add_argument("-v", "--verbose", action="store_true",
                   help="also report harmless notes (discarded failing commands, ...)")
    d.set_defaults(func=cmd_dump)

    c = sub.add_parser("check", help="report what PATH holds and every problem, with offsets",
                       description="Report records, frames, skipped verbs, torn tails, "
                       "corruption and anything a kevy writer never produces, each with its "
                       "byte offset. Exit 1 on any problem. Never modifies PATH.")
    c.add_argument("path", metavar="PATH")
    common(c)
    c.add_argument("--format", choices=["text", "json"], default="text",
                   help="text lines (default) or one kevy-verify-check/1 JSON document "
                        "(docs/check-json.md)")
    c.set_defaults(func=cmd_check)

    r = sub.add_parser("repair", help="cut a torn tail off an AOF (keeps a backup)",
                       description="Cut the incomplete last frame of an AOF after saving a "
                       "backup copy. Refuses (exit 1) when the damage is mid-file corruption, "
                       "since cutting would drop complete frames, or when the log grows while "
                       "repair runs (a live writer: stop it first). The backup and the new log "
                       "are written to exclusive temp files with the original's mode and owner, "
                       "fsynced and renamed into place, so a crash never leaves a partial file "
                       "under either name.")
    r.add_argument("path", metavar="AOF")
    r.add_argument("--backup", default=None,
                   help="backup path (default AOF.bak-<ms>); must not exist, a symlink is refused")
    r.add_argument("--dry-run", action="store_true", help="say what would be cut; change nothing")
    r.add_argument("--now-ms", type=_unix_ms, default=None, help=argparse.SUPPRESS)
    r.set_defaults(func=cmd_repair)

    pr = sub.add_parser("profiles", help="list the profiles and their named fix switches")
    pr.add_argument("--now-ms", type=_unix_ms, default=None, help=argparse.SUPPRESS)
    pr.add_argument("--format", choices=["text", "json"], default="text",
                    help="text (default) or one kevy-verify-profiles/1 JSON object: each "
                         "profile's switches, each switch's FINDINGS id and summary")
    pr.set_defaults(func=cmd_profiles)

    if extend is not None:
        extend(sub)
    return p


def profile_name(text: str) -> str:
    """`--profile`: a profile `get_profile` knows, derived ones included; else a usage error."""
    try:
        get_profile(text)
    except KeyError as e:
        raise argparse.ArgumentTypeError(str(e).strip("'\"")) from None
    return text


def _unix_ms(text: str) -> int:
    """`--now-ms`: a Unix instant in ms; anything else is a one-line usage error."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"not a Unix time in ms (an integer >= 0): {text!r}")
    return value


def _shard_count(text: str) -> int:
    """`--shards`: 1..MAX_SHARDS (each shard is a keyspace held in memory)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_SHARDS:
        raise argparse.ArgumentTypeError(f"not a shard count in 1..{MAX_SHARDS}: {text!r}")
    return value


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None,
         err: TextIO | None = None, fs: FileSystem | None = None,
         extend: Callable[[Any], None] | None = None) -> int:
    """Run one command. Harness commands (from `harness.cli`) take `(args, out, err)`."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser(extend)
    args = parser.parse_args(argv)
    now_ms = getattr(args, "now_ms", None)
    # 0 is a valid instant (the epoch), so only an absent flag means the wall clock.
    clock: Clock = ManualClock(now_ms) if now_ms is not None else SystemClock()
    base = fs or OsFileSystem()
    real = base if args.command == "repair" else ReadOnlyFileSystem(base)
    try:
        if getattr(args, "harness", False):
            return args.func(args, out, err)
        return args.func(args, real, clock, out, err)
    except Refusal as e:  # ours (--strict, repair) or the store's (a corrupt log)
        err.write(f"kevy-verify: refused: {shown(str(e))}\n")
        return EXIT_PROBLEMS
    except (DecodeError, KevyVerifyError) as e:
        err.write(f"kevy-verify: error: {shown(str(e))}\n")
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader (`| head`) has what it wanted: not an error. Point stdout at
        # devnull so the interpreter's final flush cannot raise a second time.
        if out is sys.stdout:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except OSError as e:  # after BrokenPipeError, which is one
        err.write(f"kevy-verify: error: {shown(_error_text(e))}\n")
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

