"""impl/redis_aof_dir.py in process: the manifest grammar and the errors it names.

tests/test_redis_kill9.py and tests/test_redis_workloads.py replay the
`appendonlydir/` a live redis-server wrote, so they only ever see a well-formed
manifest with one base and one incr file. These tests hand-write the layouts a
server does not (comments, blank lines, odd word counts, two manifests, a
path in a name) and pin each error's text, file and offset, since `dump
--dialect redis` prints them to the user (README "Adequacy", mutation score).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from impl.clock import ManualClock
from impl.commands import Dialect
from impl.fs import OsFileSystem
from impl.keyspace import Keyspace
from impl.profile import get_profile
from impl.redis_aof_dir import (
    RedisAofDirError,
    is_redis_aof_dir,
    manifest_files,
    replay_redis_aof_dir,
)

FS = OsFileSystem()
KEVY = get_profile("kevy-1.17")
SEL = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"


def _resp(*argv: bytes) -> bytes:
    out = b"*%d\r\n" % len(argv)
    for a in argv:
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def _aof_dir(tmp_path: Path, manifest: str, name: str = "appendonlydir") -> Path:
    d = tmp_path / name
    d.mkdir()
    (d / "appendonly.aof.manifest").write_text(manifest)
    return d


def _error(d: Path) -> RedisAofDirError:
    with pytest.raises(RedisAofDirError) as e:
        manifest_files(FS, str(d))
    return e.value


def test_comments_and_blank_lines_are_skipped_and_reading_goes_on(tmp_path: Path) -> None:
    d = _aof_dir(
        tmp_path,
        "# written by hand\n"
        "file b.aof seq 1 type b\n"
        "\n"
        "   \n"
        "#file h.aof seq 1 type i\n"
        'file "i 1.aof" seq 1 type i\n'
        "\n"
        "type i seq 2 file i2.aof\n",
    )
    assert manifest_files(FS, str(d)) == [str(d / n) for n in ("b.aof", "i 1.aof", "i2.aof")]


def test_a_trailing_slash_on_the_directory_is_not_doubled(tmp_path: Path) -> None:
    d = _aof_dir(tmp_path, "file b.aof seq 1 type b\n", name="dirX")
    assert manifest_files(FS, str(d) + "/") == [str(d / "b.aof")]
    assert manifest_files(FS, str(d)) == [str(d / "b.aof")]


def test_only_a_directory_with_exactly_one_manifest_is_a_redis_aof_dir(tmp_path: Path) -> None:
    d = _aof_dir(tmp_path, "file b.aof seq 1 type b\n")
    assert is_redis_aof_dir(FS, str(d))
    assert not is_redis_aof_dir(FS, str(d / "appendonly.aof.manifest"))
    (d / "other.manifest").write_text("file c.aof seq 1 type b\n")
    assert not is_redis_aof_dir(FS, str(d))
    e = _error(d)
    assert (e.offset, e.path) == (0, str(d))
    assert str(e) == f"{d}: corrupt Redis AOF manifest at offset 0: no single *.manifest file"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not is_redis_aof_dir(FS, str(empty))
    assert str(_error(empty)) == (
        f"{empty}: corrupt Redis AOF manifest at offset 0: no single *.manifest file"
    )


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("file x.aof seq 1 type i extra", "ValueError"),  # an odd word count (aof.c: argc % 2)
        ("file x.aof seq one type i", "ValueError"),
        ("file x.aof seq 1", "KeyError"),
    ],
)
def test_an_unreadable_line_is_refused_at_its_offset(tmp_path: Path, line: str, why: str) -> None:
    d = _aof_dir(tmp_path, f"file b.aof seq 1 type b\n{line}\n")
    e = _error(d)
    where = str(d / "appendonly.aof.manifest")
    assert (e.offset, e.path) == (24, where)
    assert str(e).startswith(f"{where}: corrupt Redis AOF manifest at offset 24: ")
    assert e.message.startswith("unreadable manifest line (")


def test_an_odd_word_count_is_refused_even_when_every_key_is_there(tmp_path: Path) -> None:
    e = _error(_aof_dir(tmp_path, "file x.aof seq 1 type i extra\n"))
    assert e.message == ("unreadable manifest line (zip() argument 2 is shorter than argument 1)")


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("file x.aof seq 3 type x", "ManifestPart(name='x.aof', seq=3, kind='x')"),
        ("file ../x.aof seq 3 type i", "ManifestPart(name='../x.aof', seq=3, kind='i')"),
        ("file sub/x.aof seq 3 type b", "ManifestPart(name='sub/x.aof', seq=3, kind='b')"),
    ],
)
def test_an_unknown_type_or_a_path_in_a_name_is_refused(
    tmp_path: Path, line: str, shown: str
) -> None:
    d = _aof_dir(tmp_path, f"# c\n{line}\n")
    e = _error(d)
    where = str(d / "appendonly.aof.manifest")
    assert str(e) == f"{where}: corrupt Redis AOF manifest at offset 4: bad manifest entry {shown}"


def test_a_missing_part_is_named_with_its_own_path(tmp_path: Path) -> None:
    d = _aof_dir(tmp_path, "file b.aof seq 1 type b\nfile i.aof seq 1 type i\n")
    (d / "b.aof").write_bytes(b"")
    with pytest.raises(RedisAofDirError) as e:
        replay_redis_aof_dir(FS, str(d), Keyspace(ManualClock(0)), profile=KEVY)
    assert str(e.value) == (
        f"{d / 'i.aof'}: corrupt Redis AOF manifest at offset 0: the manifest names a missing file"
    )


def test_an_rdb_preamble_is_refused_with_the_remedy(tmp_path: Path) -> None:
    d = _aof_dir(tmp_path, "file b.aof seq 1 type b\n")
    (d / "b.aof").write_bytes(b"REDIS0011\xfa")
    with pytest.raises(RedisAofDirError) as e:
        replay_redis_aof_dir(FS, str(d), Keyspace(ManualClock(0)), profile=KEVY)
    assert str(e.value) == (
        f"{d / 'b.aof'}: corrupt Redis AOF manifest at offset 0: base file has an RDB "
        "preamble; only command AOFs are read (rewrite with aof-use-rdb-preamble no)"
    )


def test_every_part_replays_in_the_redis_dialect_even_without_a_select(tmp_path: Path) -> None:
    # An incr part that does not begin with SELECT would be detected as kevy's
    # dialect, where kevy 1.17 ignores SET's options: the key would lose its TTL.
    d = _aof_dir(tmp_path, "file b.aof seq 1 type b\nfile i.aof seq 1 type i\n")
    (d / "b.aof").write_bytes(SEL + _resp(b"SET", b"a", b"1"))
    (d / "i.aof").write_bytes(_resp(b"SET", b"k", b"v", b"PXAT", b"5000"))
    ks = Keyspace(ManualClock(0))
    reports = replay_redis_aof_dir(FS, str(d), ks, profile=KEVY)
    assert [r.dialect for r in reports] == [Dialect.REDIS, Dialect.REDIS]
    assert [r.path for r in reports] == [str(d / "b.aof"), str(d / "i.aof")]
    assert ks.raw()[b"k"].deadline_ms == 5000
    assert ks.raw()[b"a"].deadline_ms is None
