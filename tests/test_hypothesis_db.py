"""tests/hypothesis_db.py against a real redis-server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hypothesis_db import REDIS_URL_ENV, example_database
from tests.redis_server import RedisServer, require_redis_server

pytest.importorskip("redis")


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    require_redis_server()
    with RedisServer() as s:
        yield s


def test_without_a_url_the_database_is_local_only(tmp_path: Path) -> None:
    db = example_database({}, str(tmp_path))
    db.save(b"k", b"v")
    assert list(db.fetch(b"k")) == [b"v"]
    assert any(tmp_path.iterdir())


def test_a_shared_example_reaches_another_machine(server: RedisServer, tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{server.port}/0"
    hunter = example_database({REDIS_URL_ENV: url}, str(tmp_path / "a"))
    hunter.save(b"test-key", b"failing-example")
    other = example_database({REDIS_URL_ENV: url}, str(tmp_path / "b"))
    assert b"failing-example" in set(other.fetch(b"test-key"))


def test_ci_reads_the_shared_database_but_never_writes_it(
    server: RedisServer, tmp_path: Path
) -> None:
    url = f"redis://127.0.0.1:{server.port}/0"
    hunter = example_database({REDIS_URL_ENV: url}, str(tmp_path / "a"))
    hunter.save(b"ci-key", b"from-the-hunt")
    ci = example_database({REDIS_URL_ENV: url, "CI": "true"}, str(tmp_path / "ci"))
    assert b"from-the-hunt" in set(ci.fetch(b"ci-key"))
    ci.save(b"ci-key", b"from-ci")
    fresh = example_database({REDIS_URL_ENV: url}, str(tmp_path / "c"))
    assert set(fresh.fetch(b"ci-key")) == {b"from-the-hunt"}
