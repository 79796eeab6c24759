"""impl/profile.py: switch registration, profile derivation and lookup.

`_register` runs at import, before any test, so mutmut could not see a test
reach it; these tests call it directly with a throwaway name (removed again)
to pin rule 1 of the module (a finding id is `compat` or F-ids, a name is
registered once). The rest pins what a derived profile is called and holds,
and the errors a typo gets, since `--profile` passes them to the user.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from impl import profile as profile_module
from impl.profile import HARDENED, KEVY_1_17, SWITCHES, Profile, Switch, get_profile

TEMP = "zz_test_only_switch"


@pytest.fixture
def temp_switch() -> Iterator[str]:
    yield TEMP
    SWITCHES.pop(TEMP, None)


@pytest.mark.parametrize("finding", ["compat", "F1", "F4,F6,F7"])
def test_register_accepts_compat_and_finding_ids(temp_switch: str, finding: str) -> None:
    profile_module._register(temp_switch, finding, "one line")
    assert SWITCHES[temp_switch] == Switch(temp_switch, finding, "one line")


@pytest.mark.parametrize("finding", ["f1", "COMPAT", "F1,", "F", "compat,F1", "F1 "])
def test_register_refuses_a_finding_that_is_not_compat_or_f_ids(
    temp_switch: str, finding: str
) -> None:
    with pytest.raises(ValueError) as e:
        profile_module._register(temp_switch, finding, "one line")
    assert str(e.value) == (f"switch {temp_switch!r}: finding {finding!r} is not 'compat' or F-ids")
    assert temp_switch not in SWITCHES


def test_register_refuses_a_name_registered_twice(temp_switch: str) -> None:
    profile_module._register(temp_switch, "F1", "first")
    with pytest.raises(ValueError) as e:
        profile_module._register(temp_switch, "F2", "second")
    assert str(e.value) == f"switch {temp_switch!r} registered twice"
    assert SWITCHES[temp_switch].summary == "first"


def test_a_profile_with_an_unknown_switch_is_refused() -> None:
    with pytest.raises(ValueError) as e:
        Profile("p", frozenset({"nosuch", "aof_dir_fsync", "alsonot"}))
    assert str(e.value) == "profile 'p': unknown switches ['alsonot', 'nosuch']"


def test_fixes_answers_for_registered_switches_and_raises_for_a_typo() -> None:
    assert HARDENED.fixes("aof_dir_fsync") is True
    assert KEVY_1_17.fixes("aof_dir_fsync") is False
    with pytest.raises(KeyError) as e:
        KEVY_1_17.fixes("aof_dir_fsnyc")
    assert e.value.args[0] == f"unknown switch 'aof_dir_fsnyc'; registered: {sorted(SWITCHES)}"


def test_with_switches_turns_on_by_default_and_names_the_result() -> None:
    p = KEVY_1_17.with_switches("data_dir_lock", "aof_dir_fsync")
    assert p == Profile(
        "kevy-1.17+aof_dir_fsync,data_dir_lock", frozenset({"aof_dir_fsync", "data_dir_lock"})
    )
    assert p.fixes("aof_dir_fsync") and not p.fixes("aof_cut_torn_tail")
    off = HARDENED.with_switches("data_dir_lock", "aof_dir_fsync", on=False)
    assert off.name == "hardened-aof_dir_fsync,data_dir_lock"
    assert off.enabled == frozenset(SWITCHES) - {"aof_dir_fsync", "data_dir_lock"}
    # Turning on a switch already on, or off one already off, changes only the name.
    assert HARDENED.with_switches("data_dir_lock").enabled == HARDENED.enabled
    assert KEVY_1_17.with_switches("data_dir_lock", on=False).enabled == frozenset()
    assert repr(p) == "Profile('kevy-1.17+aof_dir_fsync,data_dir_lock')"


def test_get_profile_returns_the_named_and_the_derived_profiles() -> None:
    assert get_profile("kevy-1.17") is KEVY_1_17
    assert get_profile("hardened") is HARDENED
    assert get_profile("kevy-1.17+aof_dir_fsync,data_dir_lock") == KEVY_1_17.with_switches(
        "aof_dir_fsync", "data_dir_lock"
    )
    assert get_profile("hardened-xclaim_logs_time") == HARDENED.with_switches(
        "xclaim_logs_time", on=False
    )


@pytest.mark.parametrize(
    "name",
    [
        "nosuch",
        "kevy-1.17+",
        "kevy-1.17+nosuch",
        "kevy-1.17+aof_dir_fsync,nosuch",
        "hardened-aof_dir_fsync,",
        "hardenedXaof_dir_fsync",
        "kevy-1.17*aof_dir_fsync",
    ],
)
def test_get_profile_refuses_an_unknown_name_and_says_what_is_accepted(name: str) -> None:
    with pytest.raises(KeyError) as e:
        get_profile(name)
    assert e.value.args[0] == (
        f"unknown profile {name!r}; choose one of kevy-1.17, hardened, or one of "
        "them followed by +SWITCH[,SWITCH] or -SWITCH[,SWITCH]"
    )
