"""The Hypothesis example database: local, plus a shared Redis when configured.

What: `example_database(environ)` returns the local directory database
(`.hypothesis/examples`) and, when `KEVY_VERIFY_REDIS_URL` is set, multiplexes
it with `hypothesis.extra.redis.RedisExampleDatabase` on that server, so
machines hunting in parallel (HypoFuzz's `hypothesis fuzz`, nightly jobs,
developers) replay each other's failures. With `CI` set the shared database is
wrapped in `ReadOnlyDatabase`: CI replays what the hunters found but never
writes its own (possibly flaky, per-commit) examples into the shared store.

Why a function of the environment and not module-level code: the test of this
wiring (tests/test_hypothesis_db.py) builds it against a real redis-server
started on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis.database import (
    DirectoryBasedExampleDatabase,
    ExampleDatabase,
    MultiplexedDatabase,
    ReadOnlyDatabase,
)

__all__ = ["LOCAL_DIR", "REDIS_URL_ENV", "example_database"]

LOCAL_DIR = ".hypothesis/examples"
REDIS_URL_ENV = "KEVY_VERIFY_REDIS_URL"


def example_database(environ: Mapping[str, str], local_dir: str = LOCAL_DIR) -> ExampleDatabase:
    local = DirectoryBasedExampleDatabase(local_dir)
    url = environ.get(REDIS_URL_ENV)
    if not url:
        return local
    # Imported only when asked for: the redis package is a dev extra.
    import redis
    from hypothesis.extra.redis import RedisExampleDatabase

    shared: ExampleDatabase = RedisExampleDatabase(redis.Redis.from_url(url))
    if environ.get("CI", "").lower() in ("1", "true", "yes"):
        shared = ReadOnlyDatabase(shared)
    return MultiplexedDatabase(local, shared)
