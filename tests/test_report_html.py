"""The `--html` run report (harness/report_html.py): escaping, numbers equal to the JSON,
and the page in the real headless Chromium (tests/headless_chromium.py).

One small explore run (save / posix, 50 images per crash run, seed 1: about
1,200 images, 48 findings, half a second) feeds every test; the browser
tests load its page, a hostile page and a page with a broken script.
"""

from __future__ import annotations

import html
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from harness import report_html
from harness.cli import register
from harness.explore import explore
from harness.report_html import DATA_ID, render_html
from impl import cli as file_tools
from tests.headless_chromium import load_page


def main(argv: list[str], *, out: io.StringIO, err: io.StringIO) -> int:
    """`kevy-verify ARGV` in-process."""
    return file_tools.main(argv, out=out, err=err, extend=register)


RUN = ["explore", "save", "--model", "posix", "--sample", "50", "--seed", "1", "--no-corpus"]


class _Page(HTMLParser):
    """What a reader of the page sees: elements with data-* numbers, their text,
    the strip cells, the finding rows and the embedded document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[dict[str, Any]] = []
        self.totals: dict[str, str] = {}
        self.tags: list[str] = []
        self.html_attrs: dict[str, str | None] = {}
        self.data: str = ""
        self._open: list[tuple[str, dict[str, str | None]]] = []
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "html":
            self.html_attrs = a
        if tag == "section" and a.get("class") == "run":
            self.sections.append({"fields": {}, "cells": [], "rows": 0, "attrs": a})
        if tag == "a" and "cell" in (a.get("class") or "").split():
            self.sections[-1]["cells"].append(a)
        if tag == "tr" and a.get("class") == "finding":
            self.sections[-1]["rows"] += 1
        if "data-total" in a or "data-field" in a or a.get("id") == DATA_ID:
            self._open.append((tag, a))
            self._text = []

    def handle_data(self, data: str) -> None:
        self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            _, a = self._open.pop()
            text = "".join(self._text)
            if a.get("id") == DATA_ID:
                self.data = text
            elif "data-total" in a:
                self.totals[a["data-total"] or ""] = text
            elif a.get("data-field") and tag == "td" and self.sections:
                fields = self.sections[-1]["fields"]
                if a["data-field"] in ("occurrences", "losses", "group-images", "group-keys"):
                    fields.setdefault(a["data-field"], []).append(int(text))
                else:
                    fields[a["data-field"]] = int(text)


def _parse(page: str) -> _Page:
    p = _Page()
    p.feed(page)
    p.close()
    return p


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """The run's JSON document (stdout) and its --html page, from one CLI call."""
    path = tmp_path_factory.mktemp("report") / "report.html"
    out, err = io.StringIO(), io.StringIO()
    assert main([*RUN, "--format", "json", "--html", str(path)], out=out, err=err) == 0
    assert f"report written: {path}" in err.getvalue()
    return json.loads(out.getvalue()), path


def _assert_numbers(page: _Page, doc: dict[str, Any]) -> None:
    """Every number the page shows for a run is the JSON's."""
    assert len(page.sections) == len(doc["runs"])
    for section, run in zip(page.sections, doc["runs"], strict=True):
        assert section["attrs"]["data-scenario"] == run["scenario"]
        for name in ("crash_runs", "images", "space", "recoveries", "violations"):
            assert section["fields"][name] == run[name], name
        cells = section["cells"]
        assert len(cells) == run["crash_runs"] == len(run["crash_points"])
        for cell, cp in zip(cells, run["crash_points"], strict=True):
            assert (int(cell["data-images"]), int(cell["data-violations"])) == (
                cp["images"], cp["violations"])  # fmt: skip
        assert section["rows"] == len(run["findings"])
        assert section["fields"].get("occurrences", []) == [
            f["occurrences"] for f in run["findings"]
        ]
        assert section["fields"].get("losses", []) == [f["losses"] for f in run["findings"]]
        # One row per finding-id group, with the JSON's counts (harness/finding_report.py).
        assert section["fields"].get("group-images", []) == [g["images"] for g in run["groups"]]
        assert section["fields"].get("group-keys", []) == [g["keys"] for g in run["groups"]]
        assert sum(section["fields"].get("group-images", [])) == run["violations"]


def test_json_crash_points_add_up_to_the_run(written: tuple[dict[str, Any], Path]) -> None:
    doc, _ = written
    (run,) = doc["runs"]
    assert run["violations"] > 0 and run["findings"]
    assert sum(cp["images"] for cp in run["crash_points"]) == run["images"]
    assert sum(cp["violations"] for cp in run["crash_points"]) == run["violations"]
    # Every finding's first crash is a crash run with violating images.
    bad = {(cp["point"], cp["when"]) for cp in run["crash_points"] if cp["violations"]}
    assert {(f["point"], f["when"]) for f in run["findings"]} <= bad
    f = run["findings"][0]
    assert f["history"][0]["argv"] == ["SET", "a", "1"] and f["history"][0]["acked"]
    assert f["expected"]["format"] == "kevy-keyspace/1" and f["trace"]
    assert f["diff"] == ["missing key 'a' (expected string \"1\")"]


def test_crash_points_are_the_same_for_any_number_of_jobs() -> None:
    one = explore("save", "kevy-1.17", "posix", sample=20, seed=1)
    two = explore("save", "kevy-1.17", "posix", sample=20, seed=1, jobs=2)
    assert one.crash_points == two.crash_points and one.crash_points
    assert sum(t.violations for t in one.crash_points) == one.violations


def test_page_numbers_equal_the_json(written: tuple[dict[str, Any], Path]) -> None:
    doc, path = written
    page_text = path.read_text(encoding="utf-8")
    page = _parse(page_text)
    _assert_numbers(page, doc)
    assert json.loads(page.data) == doc  # the embedded document is the JSON, exactly
    assert render_html(doc) == page_text  # deterministic: same document, same bytes
    # No network: no external reference at all, and a CSP that forbids fetching.
    assert not re.search(r"""(src|href)=["'](?!#)""", page_text)
    assert "default-src 'none'" in page_text


HOSTILE = '</script><script>console.error(1)</script><img src=x onerror="console.error(2)">\x1b[31m'


def _hostile_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """The run's document with a hostile key, value, message, trace, op and scenario."""
    doc = json.loads(json.dumps(doc))
    run = doc["runs"][0]
    run["scenario"] = HOSTILE
    f = run["findings"][0]
    entry = {"key": HOSTILE, "type": "string", "expire_at_ms": None, "value": HOSTILE}
    f["expected"]["keys"].append(entry)
    f["recovered"]["keys"].append(dict(entry, value="<b>other</b>"))
    f["message"] = f["id"] = f["point_description"] = HOSTILE
    f["trace"].append(HOSTILE)
    f["diff"].append(HOSTILE)
    f["history"][0]["argv"].append(HOSTILE)
    f["history"][0]["durable_at"] = HOSTILE
    g = run["groups"][0]
    g["title"] = g["replay"] = g["example"] = g["signature"] = HOSTILE
    return doc


def test_hostile_strings_are_escaped(written: tuple[dict[str, Any], Path]) -> None:
    doc = _hostile_doc(written[0])
    page_text = render_html(doc)
    assert page_text.count("<script") == 2  # the data block and the page's script, no more
    assert "<img" not in page_text and "<b>" not in page_text and "\x1b" not in page_text
    assert "&lt;/script&gt;&lt;script&gt;console.error(1)" in page_text
    assert "\\x1b[31m" in page_text  # a control character is shown, not sent
    page = _parse(page_text)
    assert json.loads(page.data) == doc  # the hostile strings round-trip through the block
    assert page.tags.count("script") == 2 and "img" not in page.tags


# --------------------------------------------------------------------------
# The real browser.


def _assert_rendered(load: Any, doc: dict[str, Any]) -> _Page:
    assert load.console == [], "\n".join(load.console)
    page = _parse(load.dom)
    assert page.html_attrs.get("data-rendered") == "ok", "the page's script did not finish"
    return page


def test_page_in_chromium_shows_the_json_numbers(written: tuple[dict[str, Any], Path]) -> None:
    doc, path = written
    page = _assert_rendered(load_page(path), doc)
    _assert_numbers(page, doc)
    # The totals line is filled by the page's script from the embedded document.
    runs = doc["runs"]
    assert page.totals == {
        "runs": str(len(runs)),
        "crash_runs": str(sum(r["crash_runs"] for r in runs)),
        "images": str(sum(r["images"] for r in runs)),
        "violations": str(sum(r["violations"] for r in runs)),
        "findings": str(sum(len(r["findings"]) for r in runs)),
        "groups": str(sum(len(r["groups"]) for r in runs)),
    }
    assert int(page.totals["groups"]) > 0


def test_hostile_page_in_chromium_runs_nothing_injected(
    written: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    doc = _hostile_doc(written[0])
    path = tmp_path / "hostile.html"
    path.write_text(render_html(doc), encoding="utf-8")
    page = _assert_rendered(load_page(path), doc)
    assert page.tags.count("script") == 2 and "img" not in page.tags and "b" not in page.tags
    assert json.loads(page.data) == doc


def test_a_script_error_fails_the_browser_check(
    written: tuple[dict[str, Any], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check itself: a page whose script throws is caught (console line, no data-rendered)."""
    monkeypatch.setattr(
        report_html, "SCRIPT", report_html.SCRIPT.replace("doc.runs.length", "doc.runs.length()")
    )
    path = tmp_path / "broken.html"
    path.write_text(render_html(written[0]), encoding="utf-8")
    load = load_page(path)
    assert any("Uncaught TypeError" in line for line in load.console), load.console
    assert _parse(load.dom).html_attrs.get("data-rendered") is None


# --------------------------------------------------------------------------
# The command line.


@pytest.mark.parametrize(
    ("target", "why"), [("no/such/r.html", "no such directory"), (".", "is a directory")]
)
def test_an_unwritable_html_path_is_refused_before_the_walk(
    tmp_path: Path, target: str, why: str
) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main([*RUN, "--html", str(tmp_path / target)], out=out, err=err) == 2
    assert err.getvalue() == f"kevy-verify explore: --html {tmp_path / target}: {why}\n"
    assert out.getvalue() == ""


def test_html_with_the_text_report(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    path = tmp_path / "r.html"
    assert main([*RUN, "--html", str(path)], out=out, err=err) == 0
    assert out.getvalue().startswith("save / kevy-1.17 / posix: 31 crash points")
    assert _parse(path.read_text(encoding="utf-8")).sections[0]["fields"]["violations"] == 593


# A driver appended to a copy of the page: it clicks the first violating cell of
# the strip and the first finding's link, as a reader would (CSP allows inline script).
_CLICKS = """<script>
document.querySelector('.strip .cell.bad').click();
document.querySelector('tr.finding a').click();
</script></body>"""


def test_clicks_in_chromium_mark_the_point_and_open_the_finding(
    written: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    doc, path = written
    clicked = tmp_path / "clicked.html"
    clicked.write_text(path.read_text(encoding="utf-8").replace("</body>", _CLICKS), "utf-8")
    load = load_page(clicked)
    _assert_rendered(load, doc)
    (run,) = doc["runs"]
    cp = next(cp for cp in run["crash_points"] if cp["violations"])
    first = [f for f in run["findings"] if (f["point"], f["when"]) == (cp["point"], cp["when"])]
    status = (f"{cp['description']}: {cp['images']} image(s), {cp['violations']} violating; "
              f"{len(first)} finding(s) first seen here")  # fmt: skip
    assert f'<p class="point-status">{html.escape(status, quote=False)}</p>' in load.dom
    assert load.dom.count('<tr class="finding selected"') == len(first) > 0
    assert '<details id="f-0-0" class="finding-detail" open="">' in load.dom
