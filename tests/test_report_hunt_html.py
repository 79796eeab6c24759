"""`kevy-verify hunt --html FILE` (harness/report_hunt_html.py): the page shows the JSON.

One short hunt (kevy 1.17, seed 0, 100 programs, no corpus written) feeds every
test: the page's rows and totals against its `--format json` document, parsed
from the file and from the DOM the real headless Chromium leaves after the
page's script ran; a hostile signature and message stay text.
"""

from __future__ import annotations

import io
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from harness.cli import register
from harness.report_html import DATA_ID
from harness.report_hunt_html import render_hunt_html
from impl import cli as file_tools
from tests.headless_chromium import load_page

RUN = ["hunt", "--examples", "100", "--seed", "0", "--no-corpus"]
HOSTILE = '</script><script>console.error(1)</script><img src=x onerror="console.error(2)">\x1b[31m'


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[dict[str, str | None]] = []
        self.examples: list[int] = []
        self.totals: dict[str, str] = {}
        self.tags: list[str] = []
        self.html_attrs: dict[str, str | None] = {}
        self.data = ""
        self._open: list[tuple[str, dict[str, str | None]]] = []
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "html":
            self.html_attrs = a
        if tag == "tr" and a.get("class") == "finding":
            self.rows.append(a)
        if "data-total" in a or a.get("data-field") == "example" or a.get("id") == DATA_ID:
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
            else:
                self.examples.append(int(text))


def _parse(page: str) -> _Page:
    p = _Page()
    p.feed(page)
    p.close()
    return p


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    path = tmp_path_factory.mktemp("hunt") / "hunt.html"
    out, err = io.StringIO(), io.StringIO()
    rc = file_tools.main([*RUN, "--format", "json", "--html", str(path)], out=out, err=err,
                         extend=register)  # fmt: skip
    assert rc == 0, err.getvalue()
    assert f"report written: {path}" in err.getvalue()
    return json.loads(out.getvalue()), path


def _assert_rows(page: _Page, doc: dict[str, Any]) -> None:
    assert len(page.rows) == len(doc["findings"]) > 0
    assert page.examples == [f["example"] for f in doc["findings"]]
    assert [r["data-new"] for r in page.rows] == [str(f["new"]).lower() for f in doc["findings"]]


def test_hunt_page_rows_are_the_json(written: tuple[dict[str, Any], Path]) -> None:
    doc, path = written
    assert doc["format"] == "kevy-verify-hunt/1"
    text = path.read_text(encoding="utf-8")
    page = _parse(text)
    _assert_rows(page, doc)
    assert json.loads(page.data) == doc
    assert render_hunt_html(doc) == text  # deterministic
    assert "default-src 'none'" in text


def test_hunt_page_in_chromium_shows_the_json_numbers(
    written: tuple[dict[str, Any], Path],
) -> None:
    doc, path = written
    load = load_page(path)
    assert load.console == [], "\n".join(load.console)
    page = _parse(load.dom)
    assert page.html_attrs.get("data-rendered") == "ok"
    _assert_rows(page, doc)
    assert page.totals == {
        "findings": str(len(doc["findings"])),
        "new": str(sum(bool(f["new"]) for f in doc["findings"])),
        "examples": str(doc["examples"]),
        "seconds": str(doc["seconds"]) if doc["seconds"] % 1 else str(int(doc["seconds"])),
    }


def test_hostile_hunt_strings_are_escaped(written: tuple[dict[str, Any], Path]) -> None:
    doc = json.loads(json.dumps(written[0]))
    f = doc["findings"][0]
    f["signature"] = f["message"] = f["case"] = HOSTILE
    f["minimal_history"]["steps"].append([HOSTILE])
    text = render_hunt_html(doc)
    assert text.count("<script") == 2 and "<img" not in text and "\x1b" not in text
    page = _parse(text)
    assert json.loads(page.data) == doc and "img" not in page.tags
