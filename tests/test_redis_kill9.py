"""Redis as a crash subject: `kill -9` a live redis-server under acknowledged writes.

With `appendfsync always` Redis writes and fsyncs each write to its incr
file before replying, so every write the client saw acknowledged must come
back from `dump --dialect redis appendonlydir/` (impl/redis_aof_dir.py),
exactly once. The counts are bounded in CI and larger under
KEVY_VERIFY_PROFILE=nightly. Also here: the multi-part reader's refusals.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

from impl.cli import main
from impl.clock import ManualClock
from impl.fs import OsFileSystem
from impl.keyspace import Keyspace
from impl.profile import get_profile
from impl.redis_aof_dir import RedisAofDirError, manifest_files, replay_redis_aof_dir
from tests.redis_server import RedisServer

KEVY = get_profile("kevy-1.17")
WRITES = 5000 if os.environ.get("KEVY_VERIFY_PROFILE") == "nightly" else 300


SEL = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
SETK = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
HSET = b"*4\r\n$4\r\nHSET\r\n$1\r\nk\r\n$1\r\nf\r\n$1\r\nv\r\n"  # WRONGTYPE after SETK


def _two_part_dir(tmp_path: Path) -> Path:
    """An appendonlydir whose manifest names an empty base and one incr file."""
    d = tmp_path / "appendonlydir"
    d.mkdir()
    (d / "a.manifest").write_text(
        "file a.1.base.aof seq 1 type b\nfile a.1.incr.aof seq 1 type i\n"
    )
    (d / "a.1.base.aof").write_bytes(b"")
    return d


def _dump(path: Path, *extra: str) -> tuple[int, dict, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = main(["dump", "--dialect", "redis", *extra, str(path)], out=out, err=err)
    return rc, (json.loads(out.getvalue()) if rc == 0 else {}), err.getvalue()


def test_kill9_keeps_every_acknowledged_write_exactly_once() -> None:
    with RedisServer() as server:
        c = server.client()
        acked: list[int] = []
        for i in range(WRITES):
            assert c.call("SET", f"k{i}", f"v{i}") == "OK"
            assert c.call("RPUSH", "log", i) == i + 1
            assert c.call("INCR", "counter") == i + 1
            acked.append(i)
        c.close()
        server.kill9()
        rc, doc, err = _dump(server.dir / "appendonlydir", "--strict")
    assert rc == 0, err
    keys = {k["key"]: k for k in doc["keys"]}
    for i in acked:
        assert keys[f"k{i}"]["value"] == f"v{i}"
    assert keys["log"]["value"] == [str(i) for i in acked]  # each once, in order
    assert keys["counter"]["value"] == str(len(acked))
    assert len(keys) == len(acked) + 2


def test_manifest_order_and_rdb_preamble_refused(tmp_path: Path) -> None:
    d = tmp_path / "appendonlydir"
    d.mkdir()
    (d / "a.manifest").write_text(
        "file a.2.incr.aof seq 2 type i\nfile a.1.base.aof seq 1 type b\n"
        "file a.1.incr.aof seq 1 type h\nfile a.3.incr.aof seq 3 type i\n"
    )
    fs = OsFileSystem()
    assert manifest_files(fs, str(d)) == [
        str(d / n) for n in ("a.1.base.aof", "a.2.incr.aof", "a.3.incr.aof")
    ]
    (d / "a.1.base.aof").write_bytes(b"REDIS0010\xfa")
    (d / "a.2.incr.aof").write_bytes(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n")
    (d / "a.3.incr.aof").write_bytes(b"")
    rc, _, err = _dump(d)
    assert rc != 0 and "a.1.base.aof" in err and "RDB preamble" in err, (rc, err)


def test_unparseable_manifest_line_names_its_offset(tmp_path: Path) -> None:
    d = tmp_path / "appendonlydir"
    d.mkdir()
    (d / "a.manifest").write_text("file a.1.base.aof seq 1 type b\nfile x seq\n")
    try:
        manifest_files(OsFileSystem(), str(d))
    except RedisAofDirError as e:
        assert e.offset == 31 and "a.manifest" in str(e), str(e)
    else:
        raise AssertionError("a broken manifest line was accepted")


def test_a_part_the_manifest_names_but_that_is_missing_is_refused(tmp_path: Path) -> None:
    d = _two_part_dir(tmp_path)
    try:
        replay_redis_aof_dir(OsFileSystem(), str(d), Keyspace(ManualClock(0)), profile=KEVY)
    except RedisAofDirError as e:
        assert "a.1.incr.aof" in str(e) and "missing" in str(e), str(e)
    else:
        raise AssertionError("a missing part was read as empty")
    rc, _, err = _dump(d)
    assert rc != 0 and "a.1.incr.aof" in err, (rc, err)


def test_strict_refuses_a_frame_that_failed_to_apply(tmp_path: Path) -> None:
    d = _two_part_dir(tmp_path)
    (d / "a.1.incr.aof").write_bytes(SEL + SETK + HSET)
    rc, _, err = _dump(d, "--strict")
    assert rc != 0 and "a.1.incr.aof" in err and str(len(SEL + SETK)) in err, (rc, err)
    rc, doc, err = _dump(d)
    assert rc == 0 and [k["key"] for k in doc["keys"]] == ["k"] and "dropped" in err, err


def test_a_server_that_cannot_start_fails_with_its_own_log() -> None:
    try:
        with RedisServer(extra=("--no-such-directive", "x")):
            raise AssertionError("redis-server started with a bad directive")
    except RuntimeError as e:
        assert "no-such-directive" in str(e), str(e)


def test_check_reports_each_lost_frame_of_an_appendonlydir_with_its_offset(tmp_path: Path) -> None:
    d = _two_part_dir(tmp_path)
    (d / "a.1.incr.aof").write_bytes(SEL + SETK + HSET)
    out = io.StringIO()
    assert main(["check", str(d)], out=out, err=io.StringIO()) == 1
    assert f"a.1.incr.aof: offset {len(SEL + SETK)}: ignored: HSET" in out.getvalue()
