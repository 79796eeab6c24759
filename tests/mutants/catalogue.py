"""The mutant catalogue: realistic durability bugs, as textual patches to `impl/`.

What: `MUTANTS`, a tuple of `harness.mutants.Mutant` records. Each names one
file under `impl/`, an `old` snippet that must occur there exactly once, the
`new` snippet that replaces it, and the tests most likely to kill it (run
first by `kevy-verify mutants`; the rest of the suite runs after them).

Why: each entry is a bug a plausible edit could introduce and that loses or
resurrects data after a crash, or misreads a file kevy wrote: a dropped
fsync before a rename, a commit record written after the changes it commits,
a TTL stored relative, a tee dropped, a torn tail and corruption confused.
The suite must kill every one (`kevy-verify mutants`); if it cannot, the
suite has a hole.

Rules:
1. A mutant is a real behaviour change a test can observe — not an
   equivalent rewrite. (Example of what is *not* here: `h % n` instead of
   `h & (n - 1)` for a power-of-two n is the same number for an unsigned h.)
2. `old` must match the current source exactly once;
   tests/test_mutants_catalogue.py checks this in the normal suite, naming the
   mutant, so a refactor that moves the code fails loudly. Fix the entry (same
   bug, new text) rather than deleting it.
3. Snippets are exact text, indentation included: they are written below
   with explicit "\\n" joins so the indentation is visible and survives
   reformatting.
4. `tests` are test files or node ids under tests/; only a speed hint.
"""

from __future__ import annotations

from harness.mutants import Mutant

__all__ = ["MUTANTS"]


def _lines(*lines: str) -> str:
    """Join source lines with newlines (rule 3); a trailing newline is added."""
    return "\n".join(lines) + "\n"


MUTANTS: tuple[Mutant, ...] = (
    # ---------------------------------------------------------------- fsyncs
    Mutant(
        id="snapshot-tmp-no-fsync",
        description="write_snapshot_tmp renames its .tmp without fsyncing it first (§3.8)",
        file="impl/snapshot.py",
        old=_lines(
            "            write_all(f, bytes(buf))  # flush",
            "        f.fsync()",
        ),
        new=_lines(
            "            write_all(f, bytes(buf))  # flush",
        ),
        tests=("tests/test_snapshot.py", "tests/test_store.py"),
    ),
    Mutant(
        id="rewrite-tmp-no-fsync",
        description="dump_aof leaves the .rewrite file unsynced before it is renamed (§2.6)",
        file="impl/rewrite.py",
        old=_lines(
            "        size = f.size()",
            "        f.fsync()",
        ),
        new=_lines(
            "        size = f.size()",
        ),
        tests=("tests/test_aof.py", "tests/test_rewrite.py"),
    ),
    Mutant(
        id="finish-tee-no-fsync",
        description="finish_concurrent_rewrite appends the tee to tmp but renames it unsynced",
        file="impl/aof.py",
        old=_lines(
            "            write_all(f, tee)",
            "            f.fsync()",
        ),
        new=_lines(
            "            write_all(f, tee)",
        ),
        tests=("tests/test_aof.py", "tests/test_store.py"),
    ),
    Mutant(
        id="aof-base-no-fsync",
        description="write_aof_base (the save's empty log base) is renamed without a full fsync",
        file="impl/aof.py",
        old=_lines(
            "        write_all(f, resp.MAGIC)",
            "        f.fsync()",
        ),
        new=_lines(
            "        write_all(f, resp.MAGIC)",
        ),
        tests=("tests/test_aof.py", "tests/test_store.py"),
    ),
    Mutant(
        id="always-no-fdatasync",
        description="appendfsync=always flushes but never fdatasyncs, so an acked write is lost",
        file="impl/aof.py",
        old=_lines(
            "                self._writer.flush()",
            "                self._writer.handle.fdatasync()",
            "                self._note_synced()",
            "            else:",
            "                self.dirty = True",
        ),
        new=_lines(
            "                self._writer.flush()",
            "            else:",
            "                self.dirty = True",
        ),
        tests=("tests/test_aof.py", "tests/test_store.py"),
    ),
    Mutant(
        id="everysec-ignores-1s-rule",
        description="maybe_sync fdatasyncs on every call instead of at most once per second",
        file="impl/aof.py",
        old=_lines(
            "        if self.clock.now_ms() - self.last_sync_ms < EVERYSEC_INTERVAL_MS:",
            "            return False",
        ),
        new="",
        tests=("tests/test_aof.py", "tests/test_store.py"),
    ),
    Mutant(
        id="journal-no-fsync",
        description="commit_reshard writes reshard.journal (the commit point) without fsync",
        file="impl/reshard.py",
        old=_lines(
            "        write_all(f, format_journal(journal))",
            "        f.fsync()",
        ),
        new=_lines(
            "        write_all(f, format_journal(journal))",
        ),
        tests=("tests/test_reshard.py",),
    ),
    # ------------------------------------------------------------ commit order
    Mutant(
        id="save-resets-log-before-snapshot-rename",
        description="save commit empties the log before the new snapshot is renamed into place",
        file="impl/store.py",
        old=_lines(
            "            try:",
            "                fs.rename(phase.tmp, phase.target)",
            "                self._dir_fsync(fs, phase.target)  # HARDENED aof_dir_fsync only",
            "            except Exception:",
            "                shard.save = None",
            "                # kevy returns the error with the tee still active (§9.3 step 3):",
            "                # every later save waits on a rewrite that never ends (ShardBusy →",
            "                # SaveTimedOut), every rewrite skips the shard, and the tee grows",
            "                # with each write (F17). The live log was appended to throughout,",
            "                # so it is complete and the tee holds nothing it lacks: discard",
            "                # it, as a failed `write_save` does.",
            "                if self.profile.fixes(\"save_failure_stops_tee\")"
            " and shard.aof is not None:",
            "                    shard.aof.abort_concurrent_rewrite()",
            "                raise",
            "            shard.save = None",
            "            if shard.aof is None:",
            "                self._reset_stale_log(fs, shard)  # F42's fix; a no-op without it",
            "                return",
            "            aof = shard.aof",
            "            tmp = aof.tmp_path",
            "            try:",
            "                aof.write_aof_base(tmp)",
            "                aof.finish_concurrent_rewrite(tmp, 0)",
            "            except Exception:",
            "                aof.abort_concurrent_rewrite()",
            "                with contextlib.suppress(OSError):",
            "                    fs.unlink(tmp)",
            "                raise",
        ),
        new=_lines(
            "            shard.save = None",
            "            if shard.aof is None:",
            "                self._reset_stale_log(fs, shard)",
            "            if shard.aof is not None:",
            "                aof = shard.aof",
            "                tmp = aof.tmp_path",
            "                try:",
            "                    aof.write_aof_base(tmp)",
            "                    aof.finish_concurrent_rewrite(tmp, 0)",
            "                except Exception:",
            "                    aof.abort_concurrent_rewrite()",
            "                    with contextlib.suppress(OSError):",
            "                        fs.unlink(tmp)",
            "                    raise",
            "            fs.rename(phase.tmp, phase.target)",
            "            self._dir_fsync(fs, phase.target)  # HARDENED aof_dir_fsync only",
        ),
        tests=("tests/test_store.py", "tests/test_process_crash.py"),
    ),
    Mutant(
        id="reshard-renames-sources-before-journal",
        description="commit_reshard renames the old shards to backups before writing the journal",
        file="impl/reshard.py",
        old=_lines(
            "    _dir_fsync_hook(fs, directory, profile)",
            "    write_journal(fs, directory, Journal(stamp=stamp, prev_n=prev_n, n=target.n,",
        ),
        new=_lines(
            "    _dir_fsync_hook(fs, directory, profile)",
            "    for i in range(prev_n):",
            "        snap = names.snapshot_path(directory, i, prev_n)",
            "        if (i >= target.n or fs.exists(reshard_of(names.snapshot_path(",
            "                directory, i, target.n)))) and fs.exists(snap):",
            "            fs.rename(snap, premigration_of(snap, stamp))",
            "        aof = names.aof_path(directory, i, prev_n)",
            "        if fs.exists(aof):",
            "            fs.rename(aof, premigration_of(aof, stamp))",
            "    write_journal(fs, directory, Journal(stamp=stamp, prev_n=prev_n, n=target.n,",
        ),
        tests=("tests/test_reshard.py",),
    ),
    Mutant(
        id="reshard-deletes-journal-before-finish",
        description="finish_reshard deletes the journal first: a crash mid-finish cannot redo it",
        file="impl/reshard.py",
        old=_lines(
            "    for i in range(prev_n):",
            "        snap = names.snapshot_path(directory, i, prev_n)",
            "        is_source = i >= target.n or fs.exists(",
        ),
        new=_lines(
            "    if fs.exists(join(directory, JOURNAL)):",
            "        fs.unlink(join(directory, JOURNAL))",
            "    for i in range(prev_n):",
            "        snap = names.snapshot_path(directory, i, prev_n)",
            "        is_source = i >= target.n or fs.exists(",
        ),
        tests=("tests/test_reshard.py",),
    ),
    Mutant(
        id="reshard-placed-snapshot-treated-as-source",
        description="finish_reshard backs up every old snapshot, even a target already placed",
        file="impl/reshard.py",
        old=_lines(
            "        is_source = i >= target.n or fs.exists(",
        ),
        new=_lines(
            "        is_source = True or fs.exists(",
        ),
        tests=("tests/test_reshard.py",),
    ),
    # ------------------------------------------------------------------- TTLs
    Mutant(
        id="snapshot-ttl-remaining",
        description="the snapshot writer stores remaining ms, not the absolute deadline (v4 §3.4)",
        file="impl/snapshot.py",
        old="deadline = None if remaining is None else _written_deadline(now_ms, remaining)",
        new="deadline = None if remaining is None else max(0, remaining)",
        tests=("tests/test_snapshot.py",),
    ),
    Mutant(
        id="rewrite-pexpireat-remaining",
        description="the AOF rewrite writes PEXPIREAT with the remaining ms, not a deadline (§4.1)",
        file="impl/rewrite.py",
        old="deadline = min(U64_MAX, max(0, now_ms + remaining))  # rule 2: saturating",
        new="deadline = min(U64_MAX, max(0, remaining))  # rule 2: saturating",
        tests=("tests/test_rewrite.py",),
    ),
    Mutant(
        id="snapshot-v2-ttl-read-as-absolute",
        description="the loader reads a v2 TTL (remaining ms) as an absolute deadline (§3.4)",
        file="impl/snapshot.py",
        old="deadline = now + stored if relative else max(now, stored)",
        new="deadline = max(now, stored)",
        tests=("tests/test_snapshot.py",),
    ),
    Mutant(
        id="reshard-drops-ttl",
        description="re-shard redistribution moves each key but drops its deadline",
        file="impl/reshard.py",
        old="put(key, entry.value, entry.deadline_ms)",
        new="put(key, entry.value, None)",
        tests=("tests/test_reshard.py",),
    ),
    # -------------------------------------------------------- tee and freezes
    Mutant(
        id="finish-drops-tee",
        description="finish_concurrent_rewrite installs the base without the writes teed meanwhile",
        file="impl/aof.py",
        old="        self.append_tee_to(tmp, tee)\n",
        new="        self.append_tee_to(tmp, b\"\")\n",
        tests=("tests/test_aof.py", "tests/test_store.py"),
    ),
    Mutant(
        id="save-starts-no-tee",
        description="save's freeze flushes the log but starts no tee: writes during a save vanish",
        file="impl/store.py",
        old=_lines(
            "            if shard.aof is not None:",
            "                shard.aof.begin_view_rewrite()",
        ),
        new=_lines(
            "            if shard.aof is not None:",
            "                shard.aof.flush()",
        ),
        tests=("tests/test_store.py",),
    ),
    Mutant(
        id="freeze-shares-values",
        description="freeze keeps references to live values, so later writes leak into the save",
        file="impl/snapshot.py",
        old="rows = [(k, copy_value(v), rem) for k, v, rem in live_view(ks, now_ms)]",
        new="rows = [(k, v, rem) for k, v, rem in live_view(ks, now_ms)]",
        tests=("tests/test_snapshot.py", "tests/test_store.py"),
    ),
    # ------------------------------------------------ torn tails, corruption
    Mutant(
        id="torn-tail-as-corrupt",
        description="replay reports an incomplete last frame as a corrupt frame (§1.3)",
        file="impl/resp.py",
        old=_lines(
            "            if isinstance(result, _Partial):",
            "                self._finish(Outcome.TRUNCATED_TAIL, pos, count, None, result)",
        ),
        new=_lines(
            "            if isinstance(result, _Partial):",
            "                err = _corrupt(BULK_NOT_CRLF_TERMINATED, data, pos, pos, n,",
            "                               r\"b'\\r\\n'\", 0)",
            "                self._finish(Outcome.CORRUPT_FRAME, pos, count, err, None)",
        ),
        tests=("tests/test_resp.py", "tests/test_cli.py"),
    ),
    Mutant(
        id="corrupt-as-torn-tail",
        description="replay reports a malformed frame as a torn tail, so repair cuts good frames",
        file="impl/resp.py",
        old=_lines(
            "            except CorruptFrame as err:",
            "                self._finish(Outcome.CORRUPT_FRAME, pos, count, err, None)",
        ),
        new=_lines(
            "            except CorruptFrame:",
            "                self._finish(Outcome.TRUNCATED_TAIL, pos, count, None,",
            "                             _Partial(pos, pos))",
        ),
        tests=("tests/test_resp.py", "tests/test_cli.py"),
    ),
    Mutant(
        id="replay-resyncs-after-corrupt",
        description="replay skips a corrupt frame and applies the frames after it (§1.3 step 3)",
        file="impl/resp.py",
        old=_lines(
            "            except CorruptFrame as err:",
            "                self._finish(Outcome.CORRUPT_FRAME, pos, count, err, None)",
            "                return",
        ),
        new=_lines(
            "            except CorruptFrame as err:",
            "                nxt = data.find(b\"*\", pos + 1)",
            "                if nxt < 0:",
            "                    self._finish(Outcome.CORRUPT_FRAME, pos, count, err, None)",
            "                    return",
            "                pos = nxt",
            "                continue",
        ),
        tests=("tests/test_resp.py", "tests/test_cli.py"),
    ),
    Mutant(
        id="legacy-aof-skips-first-bytes",
        description="replay always starts after a 9-byte magic, eating a legacy log's first frame",
        file="impl/resp.py",
        old="self.start: int = len(MAGIC) if self.has_magic else 0",
        new="self.start: int = len(MAGIC)",
        tests=("tests/test_resp.py", "tests/test_cli.py"),
    ),
    Mutant(
        id="aof-open-repairs-short-file",
        description="Aof.open truncates a short legacy/partial-magic log and writes a fresh MAGIC",
        file="impl/aof.py",
        old=_lines(
            "            if length == 0:",
            "                try:",
            "                    write_all(handle, resp.MAGIC)  # unbuffered: straight to the OS",
        ),
        new=_lines(
            "            if length < len(resp.MAGIC):",
            "                handle.truncate(0)",
            "                try:",
            "                    write_all(handle, resp.MAGIC)  # unbuffered: straight to the OS",
        ),
        tests=("tests/test_aof.py",),
    ),
    Mutant(
        id="snapshot-opcode-checked-before-key",
        description="the loader rejects an unknown opcode before reading its TTL and key (§3.6.4)",
        file="impl/snapshot.py",
        old=_lines(
            "            # One unpack for the TTL flag and, when there is no TTL, the key length.",
        ),
        new=_lines(
            "            if op > 6:",
            "                raise SnapshotCorrupt(",
            "                    f\"kevy snapshot: unknown opcode {op}\", offset=rec, at=rec,",
            "                    expected=\"an opcode in 0..=6\", got=data[rec:rec + 1],",
            "                    records_loaded=records, report=report,",
            "                )",
            "            # One unpack for the TTL flag and, when there is no TTL, the key length.",
        ),
        tests=("tests/test_snapshot.py",),
    ),
    # ----------------------------------------------------------------- routing
    Mutant(
        id="kevyhash-mask-for-any-n",
        description="shard_of masks with n-1 for every n, not only powers of two (§7.3)",
        file="impl/layout.py",
        old="return h & (n - 1) if n & (n - 1) == 0 else h % n",
        new="return h & (n - 1)",
        tests=("tests/test_layout.py", "tests/test_reshard.py"),
    ),
    # ------------------------------------------------------- more of our own
    Mutant(
        id="short-write-drops-buffer",
        description="the AOF buffer flush treats a short write as complete, losing the rest",
        file="impl/aof.py",
        old="            del self.buf[:n]\n",
        new="            self.buf.clear()\n",
        tests=("tests/test_mutant_kills.py", "tests/test_aof.py"),
    ),
    Mutant(
        id="close-skips-maybe-sync",
        description="Store.close drops the logs without the EverySec maybe_sync of §9.6",
        file="impl/store.py",
        old="        self._close_logs(sync=True)\n",
        new="        self._close_logs(sync=False)\n",
        tests=("tests/test_store.py",),
    ),
    Mutant(
        id="replay-only-when-aof-enabled",
        description="open skips the AOF replay when the AOF is disabled, losing its writes (§9.1)",
        file="impl/store.py",
        old=("            reports.append(replay.replay_aof(fs, shard.aof_path, shard.ks, "
             "profile=profile))"),
        new=("            if config.aof_enabled:\n"
             "                reports.append(replay.replay_aof(fs, shard.aof_path, shard.ks,\n"
             "                                                 profile=profile))"),
        tests=("tests/test_store.py",),
    ),
    Mutant(
        id="merge-aof-before-snapshot",
        description="re-shard merge replays a shard's AOF before loading its snapshot (§8.2)",
        file="impl/reshard.py",
        old=_lines(
            "        if fs.exists(snap):",
            "            load_snapshot(fs, snap, into, now_ms)",
            "            found.append(snap)",
            "        aof = names.aof_path(directory, i, src_n)",
            "        if fs.exists(aof):",
            "            replay_aof(fs, aof, into, profile=profile)",
            "            found.append(aof)",
        ),
        new=_lines(
            "        aof = names.aof_path(directory, i, src_n)",
            "        if fs.exists(aof):",
            "            replay_aof(fs, aof, into, profile=profile)",
            "            found.append(aof)",
            "        if fs.exists(snap):",
            "            load_snapshot(fs, snap, into, now_ms)",
            "            found.append(snap)",
        ),
        tests=("tests/test_reshard.py",),
    ),
    # ------------------------------------------- the hardened fixes themselves
    Mutant(
        id="failed-save-keeps-tee",
        description="save_failure_stops_tee is ignored: after a failed snapshot rename the "
        "tee runs forever and no save or rewrite succeeds again (F17)",
        file="impl/store.py",
        old=_lines(
            "                if self.profile.fixes(\"save_failure_stops_tee\")"
            " and shard.aof is not None:",
            "                    shard.aof.abort_concurrent_rewrite()",
        ),
        new="",
        tests=("tests/test_store.py",),
    ),
    Mutant(
        id="install-dir-sync-failure-keeps-writing",
        description="a failed directory sync after a log install does not fail the shard: "
        "writes go on into the replaced, unlinked log",
        file="impl/aof.py",
        old=_lines(
            "                # Mark the log failed; the store refuses writes until reopened.",
            "                self.failed = err",
        ),
        new=_lines(
            "                # Mark the log failed; the store refuses writes until reopened.",
            "                pass",
        ),
        tests=("tests/test_store.py", "tests/test_crash_machines.py"),
    ),
    Mutant(
        id="refuse-corrupt-never-refuses",
        description="aof_refuse_corrupt's check looks at the wrong field, so open appends "
        "behind a corrupt frame again (F14)",
        file="impl/store.py",
        old=_lines(
            "    if report.error is not None:",
            "        raise CorruptLogRefused(report.path, report.stop, report.size, report.error)",
        ),
        new=_lines(
            "    if report.error is not None and report.stop == report.size:",
            "        raise CorruptLogRefused(report.path, report.stop, report.size, report.error)",
        ),
        tests=("tests/test_store.py", "tests/test_corpus.py"),
    ),
    Mutant(
        id="reshard-journal-before-reshard-names-durable",
        description="the directory sync between the .reshard renames and the journal is "
        "dropped (F10)",
        file="impl/reshard.py",
        old=_lines(
            "    _dir_fsync_hook(fs, directory, profile)",
            "    write_journal(fs, directory, Journal(stamp=stamp, prev_n=prev_n, n=target.n,",
        ),
        new=_lines(
            "    write_journal(fs, directory, Journal(stamp=stamp, prev_n=prev_n, n=target.n,",
        ),
        tests=("tests/test_reshard.py", "tests/test_corpus.py"),
    ),
    Mutant(
        id="reshard-meta-unsynced",
        description="finish_reshard writes shards.meta without its fsync before the journal "
        "is deleted (F12)",
        file="impl/reshard.py",
        old=_lines(
            "        elif reshard and profile.fixes(META_FSYNC_SWITCH):",
            "            f.fsync()",
        ),
        new=_lines(
            "        elif reshard and profile.fixes(META_FSYNC_SWITCH):",
            "            pass",
        ),
        tests=("tests/test_reshard.py", "tests/test_corpus.py"),
    ),
    Mutant(
        id="set-ttl-two-frames-under-the-fix",
        description="set_ttl_one_frame still logs SET then PEXPIREAT, so a crash between "
        "them keeps the value without its TTL (F15)",
        file="impl/commands_keys.py",
        old=_lines(
            "            c.log.append([b\"SET\", key, value, b\"PXAT\", _d(deadline)])",
        ),
        new=_lines(
            "            c.log.append([b\"SET\", key, value])",
            "            c.log.append([b\"PEXPIREAT\", key, _d(deadline)])",
        ),
        tests=("tests/test_commands.py", "tests/test_corpus.py"),
    ),
    Mutant(
        id="xclaim-logged-verbatim-under-the-fix",
        description="xclaim_logs_time is ignored: XCLAIM is logged verbatim and replays with "
        "the replay clock's delivery time (F16)",
        file="impl/streams.py",
        old=_lines(
            "        if c.xclaim_logs_time:",
            "            _log_xclaim_rows(c.log, a[1], a[2], g, changed, moved)",
        ),
        new=_lines(
            "        if False:",
            "            _log_xclaim_rows(c.log, a[1], a[2], g, changed, moved)",
        ),
        tests=("tests/test_commands.py", "tests/test_store.py"),
    ),
    Mutant(
        id="shard-count-trusted-under-the-fix",
        description="bounded_shard_counts is ignored: a hardened open loops over every shard "
        "a 20-byte shards.meta names (F40)",
        file="impl/store.py",
        old=_lines(
            "    if profile.fixes(\"bounded_shard_counts\"):  # F40: before any loop by a "
            "recorded count",
        ),
        new=_lines(
            "    if False:",
        ),
        tests=("tests/test_hostile_counts.py",),
    ),
    Mutant(
        id="data-dir-lock-ignored",
        description="data_dir_lock is ignored: a second process opens the data directory and "
        "its save discards the first one's acknowledged writes (F19)",
        file="impl/store.py",
        old=_lines(
            "    if not profile.fixes(\"data_dir_lock\") or not isinstance(fs, LockingFileSystem):",
        ),
        new=_lines(
            "    if True:",
        ),
        tests=("tests/test_lock.py",),
    ),
    Mutant(
        id="repair-backup-under-its-final-name",
        description="repair writes its backup straight under the final name, so a crash or "
        "ENOSPC leaves a partial backup there (issue 12)",
        file="impl/repair.py",
        old=_lines(
            "        backup_tmp = _write_temp(fs, backup + TEMP_SUFFIX, plan.data, owner, made)",
        ),
        new=_lines(
            "        backup_tmp = _write_temp(fs, backup, plan.data, owner, made)",
        ),
        tests=("tests/test_repair_crash.py",),
    ),
    Mutant(
        id="reshard-merge-one-keyspace-under-the-fix",
        description="reshard_merge_per_shard is ignored: every source shard replays into one "
        "keyspace, so a FLUSHALL in a later shard wipes the keys of the shards before it (F21)",
        file="impl/reshard.py",
        old=_lines(
            "    per_shard = profile.fixes(MERGE_PER_SHARD_SWITCH)",
        ),
        new=_lines(
            "    per_shard = False",
        ),
        tests=("tests/test_reshard.py", "tests/test_hunt.py"),
    ),
    Mutant(
        id="close-maybe-sync-under-the-fix",
        description="close_fsyncs_log is ignored: a clean close only maybe_syncs, so writes "
        "acknowledged under everysec/no before it are lost to a later power cut (F22)",
        file="impl/store.py",
        old=_lines(
            "                    elif sync and self.profile.fixes(\"close_fsyncs_log\"):",
        ),
        new=_lines(
            "                    elif False:",
        ),
        tests=("tests/test_hunt.py",),
    ),
    Mutant(
        id="replay-expires-under-the-fix",
        description="replay_no_expiry is ignored by the command context: a past PEXPIREAT "
        "deletes the key mid-replay although a later frame extends its TTL (F23)",
        file="impl/commands_base.py",
        old=" and not (replay and on(\"replay_no_expiry\"))",
        new="",
        tests=("tests/test_hunt.py",),
    ),
    Mutant(
        id="spop-logs-a-count-under-the-fix",
        description="spop_logs_members is ignored: SPOP logs SPOP k n, so a recovering "
        "process pops other members than the client was told (F24)",
        file="impl/commands_collections.py",
        old='frame = [b"SREM", a[1], *out] if c.spop_logs_members else',
        new='frame = [b"SREM", a[1], *out] if False else',
        tests=("tests/test_spop.py",),
    ),
    Mutant(
        id="del-logs-a-frame-per-key-under-the-fix",
        description="del_logs_one_frame is ignored: a multi-key DEL is logged one frame "
        "per key, so a torn append keeps half of it (F41)",
        file="impl/commands_keys.py",
        old="        if c.del_one_frame:",
        new="        if False:",
        tests=("tests/test_multikey_del.py",),
    ),
    Mutant(
        id="intent-roll-forward-evicts",
        description="the open that finishes a cross-shard intent runs it with the write "
        "path's eviction pass, dropping a key no client write answers for (F48, ours)",
        file="impl/store.py",
        old="self._run_parts(verb, self._parts(verb, args) or [(self._shards[0], args)], "
        "evict=False)",
        new="self._run_parts(verb, self._parts(verb, args) or [(self._shards[0], args)], "
        "evict=True)",
        tests=("tests/test_cross_shard.py",),
    ),
    Mutant(
        id="failed-log-creation-left-under-the-fix",
        description="aof_failed_create_unlinks is ignored: a log whose MAGIC failed to "
        "sync is left for the next open, which appends to a head a power cut zeroes (F49)",
        file="impl/aof.py",
        old='                    if profile.fixes("aof_failed_create_unlinks"):',
        new="                    if False:",
        tests=("tests/test_aof_failed_create.py",),
    ),
    Mutant(
        id="open-serves-unsynced-logs-under-the-fix",
        description="open_syncs_logs is ignored: a one-shard open serves what a killed "
        "process left unsynced, and an ack that logs nothing promises it (F51)",
        file="impl/store.py",
        old='            if store._ordered or profile.fixes("open_syncs_logs"):',
        new="            if store._ordered:",
        tests=("tests/test_open_syncs_logs.py",),
    ),
    Mutant(
        id="zeroed-save-commit-refused",
        description="a save commit record a failed sync left as zeros is read as corrupt: "
        "the store refuses to open the directory after the power cut (F52, ours)",
        file="impl/save_commit.py",
        old='    if not data.strip(b"\\0"):',
        new="    if False:",
        tests=("tests/test_save_commit.py",),
    ),
    Mutant(
        id="rewrite-reopen-failure-ignored-under-the-fix",
        description="rewrite_reopen_fails_log is ignored: after a rewrite's failed reopen "
        "the log keeps appending to the file the rename replaced (F53)",
        file="impl/aof.py",
        old='            if self.profile.fixes("rewrite_reopen_fails_log"):',
        new="            if False:",
        tests=("tests/test_rewrite_reopen.py",),
    ),
    Mutant(
        id="stale-log-kept-under-the-fix",
        description="save_resets_stale_log is ignored: a save with the AOF disabled leaves "
        "the old log, which the next open replays over the new snapshot (F42)",
        file="impl/store.py",
        old='        if not self.profile.fixes("save_resets_stale_log") or path is None:',
        new="        if True:",
        tests=("tests/test_aof_toggle.py",),
    ),
    Mutant(
        id="expiry-unlogged-under-the-fix",
        description="expiry_logs_del is ignored for a command's lazy expiry: replay as "
        "written meets the stale value under a later write (F43)",
        file="impl/commands.py",
        old="    expired: list[bytes] | None = [] if c.expiry_del else None",
        new="    expired: list[bytes] | None = None",
        tests=("tests/test_expiry_log.py",),
    ),
    Mutant(
        id="shards-logged-out-of-order-under-the-fix",
        description="cross_shard_order is ignored: each shard's log syncs on its own, so a "
        "power cut keeps a later write on one shard and loses an earlier one (F44)",
        file="impl/store.py",
        old='self._ordered = len(shards) > 1 and profile.fixes("cross_shard_order")',
        new="self._ordered = False",
        tests=("tests/test_cross_shard.py",),
    ),
    Mutant(
        id="cross-shard-command-without-intent-under-the-fix",
        description="cross_shard_intent is ignored: FLUSHALL or a DEL across shards runs "
        "shard by shard with no commit, so a power cut leaves it half done (F45)",
        file="impl/store.py",
        old="        if len(parts) > 1 and self._intents:",
        new="        if False:",
        tests=("tests/test_cross_shard.py",),
    ),
    Mutant(
        id="no-log-save-renames-shard-by-shard-under-the-fix",
        description="save_commit_across_shards is ignored: a save of several shards "
        "without a log renames each snapshot in turn, so a power cut between two "
        "renames recovers shards from two different saves (F46)",
        file="impl/store.py",
        old='        return (self.n > 1 and self.profile.fixes("save_commit_across_shards")',
        new="        return (self.n > 1 and False",
        tests=("tests/test_save_commit.py",),
    ),
    Mutant(
        id="concatenated-log-replayed-under-the-fix",
        description="aof_refuse_concatenated is ignored: a log with a second log appended "
        "replays the other log's writes again or into the wrong shard (F47)",
        file="impl/store.py",
        old='            if profile.fixes("aof_refuse_concatenated"):',
        new="            if False:",
        tests=("tests/test_concat_log.py",),
    ),
    Mutant(
        id="failed-append-goes-on",
        description="append_failure_fails_shard is ignored: after a failed write or "
        "fdatasync the log keeps its half-written or page-dropped frame and the store "
        "goes on serving the write from memory (F25)",
        file="impl/aof.py",
        old='        if not self.profile.fixes("append_failure_fails_shard"):\n            return',
        new="        return",
        tests=("tests/test_append_failure.py",),
    ),
    Mutant(
        id="evictions-unlogged-under-the-fix",
        description="evictions_logged is ignored: an eviction writes no DEL, so the next "
        "open replays every evicted key back (F26)",
        file="impl/store.py",
        old='if shard.aof is not None and self.profile.fixes("evictions_logged"):',
        new="if False:",
        tests=("tests/test_eviction.py",),
    ),
    Mutant(
        id="open-skips-dir-sync",
        description="open_syncs_dir is ignored: a reopened store appends to a renamed log "
        "whose name no process synced, and a power cut takes the writes back (F28)",
        file="impl/store.py",
        old='if profile.fixes("open_syncs_dir"):',
        new="if False:",
        tests=("tests/test_append_failure.py",),
    ),
    Mutant(
        id="manual-tick-never-syncs",
        description="manual_tick_syncs is ignored: a Manual-mode tick never fsyncs an "
        "everysec log, so a power cut loses every write since the open (F29)",
        file="impl/store.py",
        old='if shard.aof is not None and self.profile.fixes("manual_tick_syncs"):',
        new="if False:",
        tests=("tests/test_hunt.py",),
    ),
    Mutant(
        id="close-without-aof-skips-save",
        description="close_saves_without_aof is ignored: with the AOF disabled a clean close "
        "saves nothing, so every write since the last save is lost at the next open (F30)",
        file="impl/store.py",
        old='and self.profile.fixes("close_saves_without_aof")',
        new="and False",
        tests=("tests/test_hunt.py",),
    ),
    Mutant(
        id="meta-overwritten-in-place",
        description="meta_atomic_write is ignored: shards.meta is truncated and rewritten in "
        "place, so a torn write reads as a smaller shard count (F31)",
        file="impl/reshard.py",
        old='    atomic = not reshard and profile.fixes("meta_atomic_write")',
        new="    atomic = False",
        tests=("tests/test_hunt.py",),
    ),
)
