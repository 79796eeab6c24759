"""`kevy-verify hunt ... --html FILE`: the hunt's JSON document as one self-contained page.

What: `render_hunt_html(doc)` turns the document `hunt --format json` prints
(`kevy-verify-hunt/1`, README "The hunt") into one page: a totals line
(findings, new ones, examples, seconds), a table of the distinct findings
(signature, rule, fix switch and FINDINGS id, new or known, the example that
found it, the corpus case) and per finding its paragraph, its minimal history
(one step per line) and its replay command. The document is embedded as
`<script type="application/json" id="kevy-report-data">` and the page's
script fills the totals from it, as the explore page does.

Why: the same renderer style as `explore --html` (harness/report_html.py),
from the same kind of document, so a reader gets one look for both commands
and a test reads back the exact numbers.

Rules: those of harness/report_html.py - everything shown passes through its
`_text`, the embedded JSON cannot close its block, inline CSS and JS only
under a CSP that allows no fetch, and the same document renders the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

from harness.report_html import _text, page

__all__ = ["HUNT_SCRIPT", "render_hunt_html", "write_hunt_html"]

HUNT_SCRIPT = """
"use strict";
(function () {
  const doc = JSON.parse(document.getElementById("kevy-report-data").textContent);
  const totals = {
    findings: doc.findings.length,
    new: doc.findings.filter((f) => f.new).length,
    examples: doc.examples,
    seconds: doc.seconds,
  };
  for (const [key, value] of Object.entries(totals)) {
    document.querySelector('#totals [data-total="' + key + '"]').textContent = String(value);
  }
  document.querySelectorAll('tr.finding a[href^="#h-"]').forEach((link) => {
    link.addEventListener("click", () => {
      document.getElementById(link.getAttribute("href").slice(1)).open = true;
    });
  });
  document.documentElement.dataset.rendered = "ok";
})();
"""


def _fix(f: dict[str, Any]) -> str:
    if not f.get("switch"):
        return "none: a new defect"
    return f"<code>{_text(f['switch'])}</code> ({_text(f.get('finding') or '?')})"


def _replay(f: dict[str, Any]) -> str:
    case = f.get("case")
    return "-" if not case else f"kevy-verify hunt --replay {case}"


def _row(k: int, f: dict[str, Any]) -> str:
    return (f'<tr class="finding" data-new="{str(bool(f.get("new"))).lower()}">'
            f'<td><a href="#h-{k}"><code>{_text(f["signature"])}</code></a></td>'
            f'<td class="verdict">{_text(f["rule"])}</td><td>{_fix(f)}</td>'
            f"<td>{'new' if f.get('new') else 'known'}</td>"
            f'<td class="num" data-field="example">{_text(f.get("example", 0))}</td>'
            f"<td>{_text(f.get('case') or '-')}</td></tr>")  # fmt: skip


def _detail(k: int, f: dict[str, Any]) -> str:
    program = f.get("minimal_history") or {}
    steps = (
        "".join(
            f"<li><code>{_text(json.dumps(step, ensure_ascii=False))}</code></li>"
            for step in program.get("steps", [])
        )
        or "<li>no steps</li>"
    )
    config = {key: value for key, value in program.items() if key != "steps"}
    return (f'<details id="h-{k}" class="finding-detail"><summary><code>'
            f'{_text(f["signature"])}</code> - <span class="verdict">{_text(f["rule"])}'
            f"</span></summary><p>{_text(f.get('message', ''))}</p>"
            f"<h4>Minimal history</h4><p><code>{_text(json.dumps(config, sort_keys=True))}"
            f"</code></p><ol>{steps}</ol>"
            f"<p>Replay: <code>{_text(_replay(f))}</code></p></details>")  # fmt: skip


def render_hunt_html(doc: dict[str, Any]) -> str:
    """The page for one `hunt --format json` document."""
    profile = _text(doc["profile"])
    findings = doc["findings"]
    rows = "".join(_row(k, f) for k, f in enumerate(findings))
    table = ("<p>No finding: every program kept every promise.</p>" if not rows else
             '<table class="findings"><tr><th>signature</th><th>rule</th><th>fix</th>'
             "<th>new?</th><th>example</th><th>case</th></tr>" + rows + "</table>")  # fmt: skip
    details = "".join(_detail(k, f) for k, f in enumerate(findings))
    totals = ", ".join(
        f'<span data-total="{key}"></span> {label}'
        for key, label in (("findings", "distinct findings"), ("new", "new"),
                           ("examples", "programs run"), ("seconds", "s"))
    )  # fmt: skip
    return page(
        f"kevy-verify hunt: {profile}",
        f"<h1>kevy-verify hunt: profile {profile}, seed {_text(doc['seed'])}</h1>"
        f'<p id="totals">{totals}.</p><p>{_text(doc.get("summary", ""))}</p>'
        f'<section class="hunt"><h2>Findings ({len(findings)})</h2>{table}{details}</section>',
        doc,
        HUNT_SCRIPT,
    )


def write_hunt_html(path: str, doc: dict[str, Any]) -> None:
    """Write the page for `doc` to `path` (UTF-8)."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(render_hunt_html(doc))
