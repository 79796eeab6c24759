"""Deliberately broken code that tests/test_crosshair_ch.py expects CrossHair to catch.

Why: a CrossHair run that finds nothing proves nothing unless the same
settings are shown to find a known bug. Each function here is a near copy of
a real one with one classic mistake; nothing imports this module.
"""

from __future__ import annotations


def estimate_off_by_one(argv: list[bytes]) -> int:
    """docs/SPEC.md §4.5's estimator, but `digits(0)` is taken as 0 (the classic slip).

    post: __return__ == len(b"*%d\\r\\n" % len(argv)) + sum(len(b"$%d\\r\\n" % len(a)) + len(a) + 2 for a in argv)
    """  # noqa: E501 - a PEP 316 condition must sit on one line
    total = 3 + (len(str(len(argv))) if argv else 0)
    for arg in argv:
        total += 5 + len(str(len(arg))) + len(arg)
    return total


def hash_tag_last_brace(key: bytes) -> bytes:
    """docs/SPEC.md §7.3 `tag(key)` but ending at the *last* `}` (Redis uses the first after
    `{`)."""
    start = key.find(b"{")
    if start >= 0:
        end = key.rfind(b"}")
        if end > start + 1:
            return key[start + 1 : end]
    return key
