"""Reading a corpus case file: a typed error that names the file, never a bare
JSONDecodeError, so a stray or damaged file in a corpus directory is reported,
not a traceback."""

from __future__ import annotations

import json
from typing import Any


class CaseError(ValueError):
    """`path` is not a readable case of the expected format (`reason` says why)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def read_case(path: str, case_format: str) -> dict[str, Any]:
    """The case document at `path`; CaseError if it is not JSON of `case_format`.

    OSError (a missing or unreadable file) passes through unchanged.
    """
    with open(path, "rb") as f:
        raw = f.read()
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise CaseError(path, f"not UTF-8 at byte offset {e.start}") from None
    except json.JSONDecodeError as e:
        raise CaseError(path, f"not JSON at byte offset {e.pos}: {e.msg}") from None
    if not isinstance(doc, dict) or doc.get("format") != case_format:
        found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise CaseError(path, f"not a {case_format} case (format {found!r})")
    return doc
