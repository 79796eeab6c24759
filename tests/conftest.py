"""Shared pytest configuration: Hypothesis settings profiles and the example database.

Profiles (select with KEVY_VERIFY_PROFILE, default `ci`):
* `ci` — bounded so the whole suite fits the CI budget on 2 cores;
* `nightly` — far more examples, for the nightly job;
* `dev` — a quick local loop.

Failures replay: Hypothesis saves every failing example in the local
directory database `.hypothesis/` and replays it first on the next run; the
committed regression corpus (`tests/corpus/`) is read-only shared history.
With `KEVY_VERIFY_REDIS_URL` set, examples are also shared through Redis
(tests/hypothesis_db.py; read-only when `CI` is set).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from impl.fs import OsFileSystem
from tests.hypothesis_db import example_database
from tests.recording_fs import RecordingFS

# Local directory, plus the shared Redis of KEVY_VERIFY_REDIS_URL (read-only in CI).
_DB = example_database(os.environ)

settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    database=_DB,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "nightly",
    max_examples=5000,
    deadline=None,
    database=_DB,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", max_examples=20, deadline=None, database=_DB, print_blob=True)

PROFILE = os.environ.get("KEVY_VERIFY_PROFILE", "ci")
settings.load_profile(PROFILE)


@pytest.fixture
def rec() -> RecordingFS:
    """The real disk, with every call recorded (tests/recording_fs.py)."""
    return RecordingFS(OsFileSystem())
