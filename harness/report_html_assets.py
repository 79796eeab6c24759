"""The inline stylesheet and script of the `--html` run report (harness/report_html.py).

What: two constants, `CSS` and `SCRIPT`, written into every page verbatim.
The script reads the page's `kevy-verify-explore/1` document from its
`<script type="application/json" id="kevy-report-data">` block, fills the
totals line from it, lets a click on a persistence-point cell mark the
findings first seen there and a click on a finding open its details, and
finally sets `data-rendered="ok"` on `<html>`.

Why inline and static: the page is one self-contained file (no network; the
Content-Security-Policy forbids every fetch), and the script is part of the
product the browser test (tests/test_report_html.py) runs in Chromium: a
script error leaves `data-rendered` unset and logs to the console, and the
test fails on either.

Rules: the script never builds HTML from data (`textContent` only), so no
file-derived string can become markup; it logs nothing on success.
"""

from __future__ import annotations

__all__ = ["CSS", "SCRIPT"]

CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font-family: ui-monospace, monospace; font-size: 12px; }
pre { white-space: pre-wrap; word-break: break-all; margin: 0; }
.strip { display: flex; flex-wrap: wrap; gap: 2px; margin: .5em 0; }
.cell { display: block; width: 14px; height: 22px; border: 1px solid #888; cursor: pointer; }
.ok { background: #5cb85c; } .none { background: #ddd; } .swatch.bad { background: #c22; }
.cell.selected { outline: 3px solid #06c; }
tr.selected td { background: #dbeaff; }
.verdict { font-weight: bold; color: #a00; }
.status-same { color: #666; } .status-missing, .status-unexpected, .status-differs { color: #a00; }
details { margin: .5em 0; border-left: 3px solid #c33; padding-left: .7em; }
summary { cursor: pointer; }
.legend span { display: inline-block; width: 12px; height: 12px; border: 1px solid #888;
  vertical-align: middle; margin: 0 3px 0 10px; }
#totals span { font-weight: bold; }
"""

SCRIPT = """
"use strict";
(function () {
  const doc = JSON.parse(document.getElementById("kevy-report-data").textContent);
  const sum = (key) => doc.runs.reduce((n, run) => n + run[key], 0);
  const totals = {
    runs: doc.runs.length,
    crash_runs: sum("crash_runs"),
    images: sum("images"),
    violations: sum("violations"),
    findings: doc.runs.reduce((n, run) => n + run.findings.length, 0),
    groups: doc.runs.reduce((n, run) => n + (run.groups || []).length, 0),
  };
  for (const [key, value] of Object.entries(totals)) {
    document.querySelector('#totals [data-total="' + key + '"]').textContent = String(value);
  }
  document.querySelectorAll("section.run").forEach((section, r) => {
    const run = doc.runs[r];
    const status = section.querySelector(".point-status");
    section.querySelectorAll(".strip .cell").forEach((cell, c) => {
      cell.addEventListener("click", (event) => {
        event.preventDefault();
        const cp = run.crash_points[c];
        section.querySelectorAll(".selected").forEach((el) => el.classList.remove("selected"));
        cell.classList.add("selected");
        let first = 0;
        section.querySelectorAll("tr.finding").forEach((row, k) => {
          const f = run.findings[k];
          if (f.point === cp.point && f.when === cp.when) {
            row.classList.add("selected");
            first += 1;
          }
        });
        status.textContent = cp.description + ": " + cp.images + " image(s), " +
          cp.violations + " violating; " + first + " finding(s) first seen here";
      });
    });
  });
  // A link from the findings table opens the (closed) details it points at.
  const links = 'tr.finding a[href^="#f-"], tr.group a[href^="#f-"]';
  document.querySelectorAll(links).forEach((link) => {
    link.addEventListener("click", () => {
      document.getElementById(link.getAttribute("href").slice(1)).open = true;
    });
  });
  document.documentElement.dataset.rendered = "ok";
})();
"""
