"""Which FINDINGS.md entry a violation is: a table over records, and the groups it makes.

What: `classify(evidence)` walks `TABLE` in order and returns the first `Row`
whose conditions hold for one violation's `Evidence` - the crash image's lost
decisions (model/crashfs/decisions.py), by the role of the paths they name,
the roles of the files the image kept, the scenario and the verdict. A row
names a FINDINGS id and the profile switch that fixes it (impl/profile.py).
`group(result)` sorts an `ExploreResult`'s distinct findings into one `Group`
per finding id, in table order, then one "unclassified" group per coarse
signature (verdict x operation crashed at x kinds of decision lost) for the
violations no row matches - never dropped.

Why: a sampled re-shard walk has hundreds of distinct loss combinations for
a handful of defects; a reader needs one block per defect, named as FINDINGS
names it, with the switch that fixes it. Reading records, not sentences, is
what lets the table be tested: `tests/test_finding_ids.py` runs each row's
`kevy-1.17+SWITCH` on a small scenario and checks the row then matches nothing
(the ablation), and that every id and switch here is one FINDINGS.md and the
switch registry know.

Rules:
1. First match wins; rows are ordered from the most specific protocol step to
   the most general (a lost AOF create, F4, comes after every re-shard row:
   a re-shard image usually loses that create too, and the re-shard's lost
   name is what turned it into a loss).
2. A row's roles are path roles (`harness.explore.path_role`: base name,
   digit runs as N), so one row covers every shard and stamp.
3. A finding is classified by its example image (the first, most-kept one);
   every image with the same finding key counts towards the same group.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from harness.explore import ExploreResult, Finding, decision_role, path_role
from model.contract import Verdict
from model.crashfs import Decision

__all__ = [
    "TABLE",
    "TITLES",
    "UNCLASSIFIED",
    "Evidence",
    "Group",
    "Row",
    "classify",
    "evidence",
    "group",
]

#: The id of the groups no row matches.
UNCLASSIFIED = "unclassified"

Role = tuple[str, ...]


@dataclass(frozen=True)
class Evidence:
    """What the table reads about one violation: records only."""

    scenario: str
    verdict: Verdict
    point_op: str | None
    """The operation of the persistence point crashed at (None: the end of the run)."""
    lost: frozenset[Role]
    """`decision_role` of every name decision the image lost (`("create", "aof-N.aof")`)."""
    lost_data: frozenset[str]
    """Path roles of the files whose unprotected data the image cut."""
    kept: frozenset[Role]
    """`decision_role` of every name decision the image kept although no sync
    protected it (it could have been lost: it happened, not yet durable)."""
    present: frozenset[str]
    """Path roles of the files the image holds."""

    @property
    def lost_kinds(self) -> str:
        """The kinds of decision lost, e.g. "create+rename", "data", "none"."""
        kinds = {r[0] for r in self.lost} | ({"data"} if self.lost_data else set())
        return "+".join(sorted(kinds)) or "none"


def evidence(
    scenario: str,
    verdict: Verdict,
    point_op: str | None,
    decisions: Iterable[Decision],
    paths: Iterable[str],
) -> Evidence:
    """The evidence of one judged image."""
    lost: set[Role] = set()
    kept: set[Role] = set()
    data: set[str] = set()
    for d in decisions:
        if not d.loses:
            if d.fate == "kept" and d.op not in ("data", "metadata", "process"):
                kept.add(decision_role(d))
            continue
        if d.op == "data":
            data.add(path_role(d.path))
        elif d.op != "process":
            lost.add(decision_role(d))
    return Evidence(scenario, verdict, point_op, frozenset(lost), frozenset(data),
                    frozenset(kept), frozenset(path_role(p) for p in paths))  # fmt: skip


@dataclass(frozen=True)
class Row:
    """One finding's signature in records. Every given condition must hold."""

    finding: str
    """The FINDINGS.md id, e.g. "F10"."""
    switch: str
    """The impl/profile.py switch that fixes it."""
    title: str
    """One line: what is lost and why."""
    lost_any: tuple[Role, ...] = ()
    """At least one of these decision roles was lost (or, with `lost_data_any`, one of those)."""
    lost_data_any: tuple[str, ...] = ()
    """At least one of these files' unprotected data was cut."""
    kept_any: tuple[Role, ...] = ()
    """At least one of these unprotected name decisions was kept (it had happened)."""
    present_all: tuple[str, ...] = ()
    """Every one of these path roles is in the image."""
    present_any: tuple[str, ...] = ()
    """At least one of these path roles is in the image."""
    absent_all: tuple[str, ...] = ()
    """None of these path roles is in the image."""
    scenarios: tuple[str, ...] = ()
    """Only these scenarios (empty: any)."""
    verdicts: tuple[Verdict, ...] = ()
    """Only these verdicts (empty: any)."""
    nothing_lost: bool = False
    """Instead of a lost decision: the image lost nothing at all (no name, no data,
    no metadata) - the protocol itself is wrong, as the scenario was built to show."""

    def matches(self, e: Evidence) -> bool:
        if self.scenarios and e.scenario not in self.scenarios:
            return False
        if self.verdicts and e.verdict not in self.verdicts:
            return False
        if self.nothing_lost:
            if e.lost or e.lost_data:
                return False
        elif not (any(r in e.lost for r in self.lost_any)
                  or any(p in e.lost_data for p in self.lost_data_any)):  # fmt: skip
            return False
        if self.kept_any and not any(r in e.kept for r in self.kept_any):
            return False
        if not all(p in e.present for p in self.present_all):
            return False
        if self.present_any and not any(p in e.present for p in self.present_any):
            return False
        return not any(p in e.present for p in self.absent_all)


_JOURNAL = "reshard.journal"
_RESHARD_FILE = (("create", "dump-N.rdb.reshard.tmp"),
                 ("rename", "dump-N.rdb.reshard.tmp", "dump-N.rdb.reshard"))  # fmt: skip
_BACKUPS = ("aof-N.aof.premigration.N", "dump-N.rdb.premigration.N")
_FINISH = (("rename", "dump-N.rdb.reshard", "dump-N.rdb"),
           ("rename", "aof-N.aof", "aof-N.aof.premigration.N"),
           ("rename", "dump-N.rdb", "dump-N.rdb.premigration.N"))  # fmt: skip

#: Each id's FINDINGS.md heading, the group's title.
TITLES: dict[str, str] = {
    "F4": "an `always`-acknowledged write vanishes with the whole AOF",
    "F10": "a `.reshard` file lost behind a surviving journal empties its shard",
    "F11": "a lost journal after the sources are renamed re-shards an empty directory",
    "F12": "the journal is deleted before what it would redo is durable",
    "F13": "a forgotten journal unlink renames the new shard 0's log away",
    "F2": "zset scores are rewritten lossily (known, issue 2)",
    "F3": "frozen-view TTL drift (reserved, issue 2)",
    "F5": "a crash between the save's two renames replays the old log over the new snapshot",
    "F14": "a corrupt frame mid-file makes every later acknowledged write unreadable",
    "F15": "`SET k v PX n` comes back without its TTL",
    "F6": "save renames without a directory sync lose every pre-freeze write",
    "F7": "a rewrite's rename is forgotten and the writes after it go with it",
    "F8": "a torn tail makes every later acknowledged write unreadable",
}

#: In precedence order (rule 1). docs/SPEC.md §8.3-§8.6 for the re-shard steps.
TABLE: tuple[Row, ...] = (
    Row(
        "F11",
        "reshard_dir_fsync",
        "a lost journal after the sources are renamed re-shards an empty directory",
        lost_any=(("create", _JOURNAL),),
        kept_any=_FINISH,
    ),
    Row(
        "F10",
        "reshard_dir_fsync",
        "a .reshard file lost behind a surviving journal empties its shard",
        lost_any=_RESHARD_FILE,
        present_all=(_JOURNAL,),
    ),
    Row(
        "F12",
        "reshard_meta_fsync",
        "the journal is deleted while shards.meta's new count is not durable",
        lost_data_any=("shards.meta",),
        absent_all=(_JOURNAL,),
        present_any=_BACKUPS,
    ),
    Row(
        "F12",
        "reshard_dir_fsync",
        "the journal is gone (deleted, or never durable) while finish's renames are not",
        lost_any=_FINISH,
        absent_all=(_JOURNAL,),
    ),
    Row(
        "F12",
        "reshard_dir_fsync",
        "the journal is deleted while a .reshard file it would place is not durable",
        lost_any=_RESHARD_FILE,
        kept_any=(("unlink", _JOURNAL),),
    ),
    Row(
        "F13",
        "reshard_dir_fsync",
        "a forgotten journal unlink renames the new shard 0's log away",
        lost_any=(("unlink", _JOURNAL),),
        present_all=(_JOURNAL,),
    ),
    Row(
        "F4",
        "aof_dir_fsync",
        "a new AOF's directory entry was never synced: the log and its writes vanish",
        lost_any=(("create", "aof-N.aof"), ("create", "appendonly.aof")),
    ),
    Row(
        "F6",
        "aof_dir_fsync",
        "a save's snapshot rename is forgotten while the log reset is kept",
        lost_any=(("rename", "dump-N.rdb.tmp", "dump-N.rdb"), ("create", "dump-N.rdb.tmp")),
    ),
    Row(
        "F6",
        "aof_dir_fsync",
        "a save's log reset rename is forgotten beside its kept snapshot rename",
        lost_any=(("rename", "aof-N.aof.rewrite", "aof-N.aof"),),
        kept_any=(("rename", "dump-N.rdb.tmp", "dump-N.rdb"),),
    ),
    Row(
        "F7",
        "aof_dir_fsync",
        "a rewrite's rename into place is forgotten, and the writes after it with it",
        verdicts=(Verdict.LOST_DURABLE,),
        lost_any=(
            ("rename", "aof-N.aof.rewrite", "aof-N.aof"),
            ("create", "aof-N.aof.rewrite"),
        ),
    ),
    Row(
        "F8",
        "aof_cut_torn_tail",
        "a torn tail, then appends behind it that replay never reaches",
        scenarios=("reopen",),
        lost_data_any=("aof-N.aof",),
    ),
    # Scenarios built to show one protocol defect: a violation with nothing lost.
    Row(
        "F5",
        "save_commit_roll_forward",
        "the old log replayed over the new snapshot",
        scenarios=("save", "save-no"),
        nothing_lost=True,
    ),
    Row(
        "F2",
        "exact_rewrite_scores",
        "a rewritten score does not round-trip",
        scenarios=("rewrite-scores",),
        nothing_lost=True,
    ),
    Row(
        "F3",
        "exact_frozen_deadlines",
        "a snapshot's deadline drifts by the save's delay",
        scenarios=("save-ttl-drift",),
        nothing_lost=True,
    ),
    Row(
        "F14",
        "aof_refuse_corrupt",
        "writes appended behind a corrupt frame are never replayed",
        scenarios=("corrupt-then-append",),
        nothing_lost=True,
    ),
    Row(
        "F15",
        "set_ttl_one_frame",
        "a SET's TTL frame is not durable with its SET",
        scenarios=("set-with-ttl",),
        nothing_lost=True,
    ),
)


def classify(e: Evidence) -> Row | None:
    """The first row of `TABLE` that matches, or None (unclassified)."""
    return next((row for row in TABLE if row.matches(e)), None)


def finding_evidence(f: Finding) -> Evidence:
    """The evidence of a finding's example image."""
    return evidence(f.scenario, f.judgement.verdict, f.point_op, f.decisions, f.paths)


@dataclass
class Group:
    """The distinct findings of one run that share a finding id (or, unclassified,
    a coarse signature)."""

    id: str
    """A FINDINGS id ("F10") or `UNCLASSIFIED`."""
    switch: str | None
    title: str
    signature: str | None = None
    """Unclassified only: "verdict x operation crashed at x kinds lost"."""
    findings: list[Finding] = field(default_factory=list)

    @property
    def images(self) -> int:
        """Violating images in this group (every occurrence of every key)."""
        return sum(f.occurrences for f in self.findings)

    @property
    def keys(self) -> int:
        """Distinct finding keys in this group."""
        return len(self.findings)

    @property
    def example(self) -> Finding:
        """The first finding (earliest crash run, most-kept image)."""
        return self.findings[0]


def group(result: ExploreResult | Sequence[Finding]) -> list[Group]:
    """One group per finding id in table order, then the unclassified ones by signature."""
    findings = result.findings if isinstance(result, ExploreResult) else result
    known: dict[str, Group] = {}
    other: dict[str, Group] = {}
    for f in findings:
        e = finding_evidence(f)
        row = classify(e)
        if row is not None:
            g = known.setdefault(row.finding, Group(row.finding, row.switch, TITLES[row.finding]))
            if row.switch != g.switch and row.switch not in (g.switch or "").split(","):
                g.switch = f"{g.switch},{row.switch}"
        else:
            sig = f"{e.verdict.value} x {e.point_op or 'end'} x {e.lost_kinds} lost"
            g = other.setdefault(sig, Group(UNCLASSIFIED, None, "no table row matches", sig))
        g.findings.append(f)
    order = {row.finding: k for k, row in reversed(list(enumerate(TABLE)))}
    return [*sorted(known.values(), key=lambda g: order[g.id]),
            *sorted(other.values(), key=lambda g: g.signature or "")]  # fmt: skip
