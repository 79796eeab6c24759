"""Fix-site guards (harness/fix_guards.py) and how the hunt uses them to mask.

A switch whose every `fixes()` site runs only with another switch off is hidden
by that switch: the hunt masks the hiding switch first (harness/hunt.py `_mask`).
"""

from __future__ import annotations

from harness.fix_guards import guards, guards_in
from harness.hunt import Mask, _mask
from impl.profile import SWITCHES

_SOURCE = '''
def commit(p):
    if p.fixes("wide"):
        rebuild()
        return
    if p.fixes("narrow"):
        patch()

def open_(p):
    if not p.fixes("lock"):
        p.fixes("racy")
    if p.fixes("else_on"):
        pass
    else:
        p.fixes("both")
    p.fixes("both")  # a site outside the region: not hidden
'''


def test_a_site_after_an_early_return_or_in_the_off_branch_is_guarded() -> None:
    assert guards_in([_SOURCE]) == {
        "wide": frozenset({"narrow"}),
        "lock": frozenset({"racy"}),
    }


def test_mutmut_s_mutant_functions_are_not_read() -> None:
    # mutmut's copy of impl/ holds each function's mutants beside its original;
    # a mutant that moved a site out of the guarded region is not the code.
    mutant = "\ndef commit__mutmut_1(p):\n    p.fixes('narrow')\n"
    assert guards_in([_SOURCE + mutant]) == guards_in([_SOURCE])


def test_a_switch_with_one_site_outside_the_region_is_not_hidden() -> None:
    assert "else_on" not in guards_in([_SOURCE])


def test_in_impl_f5_s_commit_hides_f17_s_stuck_tee() -> None:
    found = guards()
    assert "save_failure_stops_tee" in found["save_commit_roll_forward"]
    assert set(found) <= set(SWITCHES)
    assert all(set(hidden) <= set(SWITCHES) for hidden in found.values())


def test_every_other_masked_example_masks_a_set_that_hides_one_not_found() -> None:
    found = ["x", "y", "z"]
    hiding = Mask(frozenset({"y", "z"}), "u")
    masks = [_mask(n, found, [hiding]) for n in range(32)]
    masked = [m for m in masks if m is not None]
    assert len(masked) == 8  # every 4th example
    assert masked[0::2] == [hiding] * 4  # half of them: the hiding set, together
    assert all(len(m.switches) == 1 and m.switches <= set(found) for m in masked[1::2])
    assert [_mask(n, found) for n in range(8)] == (
        [None] * 3 + [Mask(frozenset({"x"}))] + [None] * 3 + [Mask(frozenset({"y"}))])
