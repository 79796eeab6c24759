"""`kevy-verify explore ... --html FILE`: one self-contained HTML page per run.

What: `render_html(doc)` turns a `kevy-verify-explore/1` document (the dict
`--format json` prints, docs/explore-json.md) into one page: a totals line;
per scenario x model its counts, a strip of its crash runs (one cell before
and after each persistence point, and the end) coloured by the share of
violating images, a table of its findings grouped by FINDINGS id (`groups`:
id, fix switch, violating images, distinct keys, example, replay) and a
table of its distinct findings; per finding its paragraph,
minimal history, crash decisions and an expected-vs-recovered keyspace table.
The document itself is embedded as `<script type="application/json"
id="kevy-report-data">`, so a test or a tool reads back the exact numbers,
and the page's script (harness/report_html_assets.py) fills the totals from it.

Why from the document: one report model, three renderings (text, JSON,
HTML); the page re-runs nothing, so its numbers are the JSON's.

Rules:
1. Everything that came from a file, a key, a value or a message passes
   through `_text` (html.escape, then control characters as `\\xNN`), and
   the embedded JSON has `<`, `>` and `&` as `\\u003c`... so no byte of a
   hostile key can close the script block or open a tag.
2. Self-contained: inline CSS and JS only; the Content-Security-Policy
   allows no fetch at all, so the page works from a file with no network.
3. Deterministic: no timestamps or timings; the same document renders to
   the same bytes.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any, TextIO

from harness.report_html_assets import CSS, SCRIPT
from impl.errors import shown
from model.contract import keyspace_diff

__all__ = ["DATA_ID", "page", "render_html", "write_html", "write_page"]

#: The id of the embedded document's script block.
DATA_ID = "kevy-report-data"
#: Longest value text shown in a keyspace cell before it is cut (the JSON block has all).
VALUE_CHARS = 400

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e]")
_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


def _text(value: Any) -> str:
    """`value` as page text: escaped for HTML (quotes too), control characters made visible."""
    escaped = html.escape(str(value), quote=True)
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", escaped)  # fmt: skip


def _embedded(doc: dict[str, Any]) -> str:
    """The document as script-block text that no string inside it can end early."""
    text = json.dumps(doc, ensure_ascii=False, sort_keys=True)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _cell(cp: dict[str, Any]) -> str:
    images, bad = cp["images"], cp["violations"]
    title = f"{cp['description']}: {images} image(s), {bad} violating"
    if images == 0:
        cls, style = "none", ""
    elif bad == 0:
        cls, style = "ok", ""
    else:
        # Lighter red for a few violating images, darker as the share grows.
        cls, style = "bad", f' style="background:hsl(0,75%,{70 - round(40 * bad / images)}%)"'
    return (f'<a class="cell {cls}" href="#" role="listitem" data-point="{_text(cp["point"])}" '
            f'data-when="{_text(cp["when"])}" data-images="{images}" data-violations="{bad}" '
            f'title="{_text(title)}"{style}></a>')  # fmt: skip


def _entry_text(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "<td>(absent)</td>"
    value = json.dumps(entry.get("value"), ensure_ascii=False)
    if len(value) > VALUE_CHARS:
        value = value[: VALUE_CHARS - 3] + "..."
    ttl = entry.get("expire_at_ms")
    deadline = "" if ttl is None else f" (deadline {_text(ttl)})"
    return f"<td>{_text(entry.get('type'))}{deadline}<pre>{_text(value)}</pre></td>"


def _keyspace_table(f: dict[str, Any]) -> str:
    expected = {k["key"]: k for k in f["expected"].get("keys", [])}
    rec_doc = f.get("recovered")
    recovered = {} if rec_doc is None else {k["key"]: k for k in rec_doc.get("keys", [])}
    rows = []
    for key in sorted(expected.keys() | recovered.keys()):
        e, g = expected.get(key), recovered.get(key)
        if rec_doc is None:
            status = "not recovered"
        elif g is None:
            status = "missing"
        elif e is None:
            status = "unexpected"
        else:
            # The contract's own comparison (TTL tolerance, consumer seen-time bound).
            one = keyspace_diff({"keys": [e]}, {"keys": [g]}, now_ms=f.get("now_ms"))
            status = "differs" if one else "same"
        rows.append(f'<tr class="key"><td><code>{_text(json.dumps(key, ensure_ascii=False))}'
                    f'</code></td>{_entry_text(e)}{_entry_text(g)}'
                    f'<td class="status-{status.split()[0]}">{status}</td></tr>')  # fmt: skip
    if not rows:
        rows.append('<tr><td colspan="4">both keyspaces are empty</td></tr>')
    return ('<table class="keyspace"><tr><th>key</th><th>expected</th><th>recovered</th>'
            "<th>status</th></tr>" + "".join(rows) + "</table>")  # fmt: skip


def _op(op: dict[str, Any]) -> str:
    argv = " ".join(json.dumps(a, ensure_ascii=False) for a in op["argv"])
    acked = "" if op["acked"] else " (not acknowledged)"
    durable = "" if op["durable_at"] is None else f" - promised durable at {op['durable_at']}"
    return f'<li value="{int(op["op"])}"><code>{_text(argv)}</code>{_text(acked + durable)}</li>'


def _finding_detail(r: int, k: int, f: dict[str, Any], written: bool) -> str:
    ops = "".join(_op(op) for op in f.get("history", []))
    trace = "".join(f"<li>{_text(line)}</li>" for line in f.get("trace", [])) or "<li>none</li>"
    diff = "".join(f"<li>{_text(line)}</li>" for line in f.get("diff", []))
    error = "" if not f.get("error") else f"<p>Recovery error: <code>{_text(f['error'])}</code></p>"
    replay = f"kevy-verify replay {f['id']}"
    if not written:
        replay += " (after a run without --no-corpus has written the case)"
    keyspaces = _keyspace_table(f) if "expected" in f else ""
    return (f'<details id="f-{r}-{k}" class="finding-detail"><summary><code>{_text(f["id"])}</code>'
            f' - <span class="verdict">{_text(f["verdict"])}</span></summary>'
            f"<p>{_text(f['message'])}</p>"
            f"<h4>Minimal history</h4><ol>{ops or '<li>no writes</li>'}</ol>"
            f"<h4>Crash image decisions</h4><ul>{trace}</ul>"
            f"<h4>Expected vs recovered</h4>{error}<ul>{diff}</ul>{keyspaces}"
            f"<p>Replay: <code>{_text(replay)}</code></p></details>")  # fmt: skip


_LEGEND = (
    '<p class="legend">One cell per crash run, before and after each persistence point, '
    'then the end of the run: <span class="swatch ok"></span>no violation '
    '<span class="swatch bad"></span>violating (darker: a larger share of its images) '
    '<span class="swatch none"></span>no image judged. Click a cell for its counts.</p>'
)
_COUNTS = ("crash_runs", "images", "space", "recoveries", "violations")


def _example_link(r: int, k: int | None, fid: str) -> str:
    code = f"<code>{_text(fid)}</code>"
    return code if k is None else f'<a href="#f-{r}-{k}">{code}</a>'


def _groups(r: int, run: dict[str, Any]) -> str:
    """The findings by FINDINGS id (harness/finding_report.py `groups_json`)."""
    groups = run.get("groups", [])
    if not groups:
        return ""
    index = {f["id"]: k for k, f in enumerate(run["findings"])}
    rows = "".join(
        f'<tr class="group" data-group="{_text(g["id"])}">'
        f"<td><strong>{_text(g['id'])}</strong>"
        f"{'' if g['signature'] is None else ': ' + _text(g['signature'])}</td>"
        f"<td>{'' if g['switch'] is None else '<code>' + _text(g['switch']) + '</code>'}</td>"
        f"<td>{_text(g['title'])}</td>"
        f'<td class="num" data-field="group-images">{_text(g["images"])}</td>'
        f'<td class="num" data-field="group-keys">{_text(g["keys"])}</td>'
        f"<td>{_example_link(r, index.get(g['example']), g['example'])}</td>"
        f"<td><code>{_text(g['replay'])}</code></td></tr>"
        for g in groups
    )  # fmt: skip
    return (f"<h3>Findings by id ({len(groups)})</h3>"
            '<table class="groups"><tr><th>id</th><th>fix switch</th><th>finding</th>'
            "<th>violating images</th><th>distinct keys</th><th>example</th><th>replay</th></tr>"
            + rows + "</table>")  # fmt: skip


def _run(r: int, run: dict[str, Any]) -> str:
    counts = "".join(
        f'<tr><th>{name.replace("_", " ")}</th><td class="num" data-field="{name}">'
        f"{_text(run[name])}</td></tr>"
        for name in _COUNTS
    )
    sample = "every image" if run["sample"] is None else (
        f"at most {_text(run['sample'])} images per crash run, seed {_text(run['seed'])}"
    )  # fmt: skip
    cells = "".join(_cell(cp) for cp in run.get("crash_points", []))
    written = {c.rsplit("/", 1)[-1].removesuffix(".json") for c in run["cases_written"]}
    rows = "".join(
        f'<tr class="finding" data-point="{_text(f["point"])}" data-when="{_text(f["when"])}">'
        f'<td><a href="#f-{r}-{k}"><code>{_text(f["id"])}</code></a></td>'
        f"<td>{_text(f['point_description'])}</td>"
        f"<td>{'drawn' if f['image'] is None else _text(f['image'])}</td>"
        f'<td class="verdict">{_text(f["verdict"])}</td>'
        f'<td class="num" data-field="occurrences">{_text(f["occurrences"])}</td>'
        f'<td class="num" data-field="losses">{_text(f["losses"])}</td></tr>'
        for k, f in enumerate(run["findings"])
    )  # fmt: skip
    table = ("<p>No violation: every judged image recovered an admissible state.</p>"
             if not rows else
             '<table class="findings"><tr><th>finding</th><th>first crash</th><th>image</th>'
             "<th>verdict</th><th>images (occurrences)</th><th>losses</th></tr>"
             + rows + "</table>")  # fmt: skip
    details = "".join(
        _finding_detail(r, k, f, f["id"] in written) for k, f in enumerate(run["findings"])
    )
    return (f'<section class="run" id="run-{r}" data-scenario="{_text(run["scenario"])}" '
            f'data-model="{_text(run["model"])}">'
            f"<h2>{_text(run['scenario'])} / {_text(run['model'])}</h2>"
            f"<p>{_text(run['mode'])} walk, {sample}.</p><table class=\"counts\">{counts}</table>"
            f"<h3>Persistence points</h3>{_LEGEND}"
            f'<div class="strip" role="list">{cells}</div><p class="point-status"></p>'
            f"{_groups(r, run)}<h3>Findings ({len(run['findings'])})</h3>{table}{details}"
            "</section>")  # fmt: skip


def render_html(doc: dict[str, Any]) -> str:
    """The page for one `kevy-verify-explore/1` document (docs/explore-json.md)."""
    profile = _text(doc["profile"])
    runs = "".join(_run(r, run) for r, run in enumerate(doc["runs"]))
    totals = ", ".join(
        f'<span data-total="{key}"></span> {label}'
        for key, label in (("runs", "scenario x model runs"), ("crash_runs", "crash runs"),
                           ("images", "images judged"), ("violations", "violating images"),
                           ("findings", "distinct findings"),
                           ("groups", "finding-id groups"))
    )  # fmt: skip
    return page(
        f"kevy-verify explore: {profile}",
        f"<h1>kevy-verify explore: profile {profile}</h1>"
        f'<p id="totals">{totals}.</p>{runs}',
        doc,
        SCRIPT,
    )


def page(title: str, body: str, doc: dict[str, Any], script: str) -> str:
    """One self-contained page: `body` (escaped HTML), `doc` embedded as JSON for the
    page's own `script`, no network (the CSP allows only what is inline)."""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        f"<title>{title}</title><style>{CSS}</style></head><body>{body}"
        f'<script type="application/json" id="{DATA_ID}">{_embedded(doc)}</script>'
        f"<script>{script}</script></body></html>\n"
    )


def write_html(path: str, doc: dict[str, Any]) -> None:
    """Write the page for `doc` to `path` (UTF-8)."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(render_html(doc))


def write_page(
    command: str,
    path: str,
    doc: dict[str, Any],
    write: Callable[[str, dict[str, Any]], None],
    err: TextIO,
) -> bool:
    """`write(path, doc)` for `kevy-verify COMMAND --html PATH`; say where it went, or
    why it could not be written (False: the command exits 2)."""
    try:
        write(path, doc)
    except OSError as e:
        err.write(
            f"kevy-verify {command}: cannot write --html {shown(path)}: "
            f"{shown(e.strerror or str(e))}\n"
        )
        return False
    err.write(f"report written: {shown(path)}\n")
    return True
