"""Data-directory layout: key routing, `shards.meta`, per-shard file names.

What: everything that decides *which file a key lives in* (docs/SPEC.md §7, §8.1) —
the KevyHash and cluster-slot routers, the `shards.meta` layout record, the
names of every per-shard file and its temp/backup siblings, and
`infer_files_n` for directories without a layout record. Also the two text
helpers kevy's small text files share (docs/SPEC.md §0): the `UINT` number grammar
(`parse_uint`) and "text lines" (`text_lines`); `impl.journal` and any other
module that needs them import them from here.

Why: a key routed to the wrong shard is silently lost data, so routing and
naming must match kevy 1.17 bit for bit; and `shards.meta` decides at every
open whether a directory is re-sharded, so its parser must accept and reject
exactly what kevy's does. `parse_shards_meta` answers as kevy does (a layout or
None); `explain_shards_meta` answers the same question but says *where* and
*why* a file is rejected, for the `check` command; `non_canonical_meta` lists
what is accepted but never written by kevy.

Rules (each cites the SPEC):

1. `kevyhash` is the u64 hash of §7.3; `shard_of` with n == 1 is 0, else
   KevyHash uses `h & (n-1)` for a power of two and `h % n` otherwise, Slots
   uses `(slot * n) >> 14` with `slot = crc16_xmodem(hash_tag(key)) & 0x3FFF`.
2. `shards.meta` is written as `DEC(n) LF tag LF` (§7.2). It is read as UTF-8
   (failure → None), split into text lines (§0); line 1 trimmed of Unicode
   White_Space (Rust `str::trim`) must be a u64 `UINT`; line 2 absent or empty
   after trimming → kevyhash (the v1 bare-count format), `kevyhash`/`slots`
   after trimming → that routing, anything else → None; later lines are
   ignored; n = 0 is accepted.
3. File names (§7.1, §8.1): the standard layout uses `dump-{i}.rdb` /
   `aof-{i}.aof` for every n; the embedded layout uses its configured names
   when n == 1 and the standard names otherwise. Every temp or backup name is
   the full name plus a suffix, so renames stay in one directory (§10).
4. `infer_files_n` (§7.1): max X + 1 over entries named `dump-<X>.rdb` or
   `aof-<X>.aof` with X a u64 UINT; 0 when there are none or the directory
   cannot be listed.
5. A shard count read from a file (`shards.meta`, the journal, a file name)
   is plausible when it is at most `MAX_SHARDS` or at most the number of
   entries the directory holds; kevy 1.17 trusts any count and loops (or
   allocates) by it (FINDINGS F40), so the tools check it before anything
   runs and `hardened` refuses it (`check_shard_count`, `ShardCountError`).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

from impl import numbers
from impl.errors import CorruptInput
from impl.fs import FileSystem, join

__all__ = [
    "DEFAULT_AOF_NAME",
    "DEFAULT_SNAPSHOT_NAME",
    "JOURNAL",
    "MAX_SHARDS",
    "PREMIGRATION_INFIX",
    "RESHARD_SUFFIX",
    "RESHARD_TMP_SUFFIX",
    "REWRITE_SUFFIX",
    "SHARDS_META",
    "SLOT_COUNT",
    "STANDARD_NAMES",
    "TMP_SUFFIX",
    "U64_MAX",
    "FileNames",
    "Layout",
    "MetaError",
    "Routing",
    "ShardCountError",
    "aof_name",
    "check_shard_count",
    "crc16_xmodem",
    "explain_shards_meta",
    "format_shards_meta",
    "hash_tag",
    "infer_files_n",
    "kevyhash",
    "key_slot",
    "largest_file_index",
    "locate_utf8_error",
    "non_canonical_meta",
    "parse_shards_meta",
    "parse_uint",
    "premigration_of",
    "reshard_of",
    "reshard_tmp_of",
    "rewrite_of",
    "routing_from_tag",
    "rust_trim",
    "shard_of",
    "snapshot_name",
    "str_lines",
    "text_line_spans",
    "text_lines",
    "tmp_of",
]

U64_MAX = (1 << 64) - 1
_M64 = U64_MAX

# ---------------------------------------------------------------------------
# docs/SPEC.md §0: the UINT grammar and "text lines".

_ASCII_DIGITS = frozenset("0123456789")


def parse_uint(text: str, bits: int = 64) -> int | None:
    """Parse docs/SPEC.md §0 `UINT` (Rust `uN::from_str`): the value, or None.

    Accepted: an optional single `+`, then one or more ASCII digits, with the
    value below `2**bits` (64 for u64 and usize, 128 for u128). Leading zeros
    are fine. Nothing is trimmed. Rejected: `""`, `"+"`, any `-` (even `-0`),
    `_`, whitespace and non-ASCII digits such as `"٣"`. Python's `int()`
    accepts the last four, so it only sees text already checked here.
    Takes decoded text (the text-file parsers decode once, as kevy does);
    It is `impl.numbers.parse_uint` applied to the text's UTF-8 bytes.

    pre: bits >= 1
    post: __return__ is None or 0 <= __return__ < 2 ** bits
    """
    # One grammar: non-ASCII text encodes to bytes the byte grammar rejects.
    return numbers.parse_uint(text.encode("utf-8"), bits)


# Unicode White_Space, which Rust's `char::is_whitespace` (and so
# `str::trim`) uses. Python's `str.strip()` with no argument also strips
# U+001C..U+001F, which Rust keeps, so the set is spelled out.
_RUST_WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def rust_trim(text: str) -> str:
    """Rust `str::trim`: strip Unicode White_Space from both ends.

    post: len(__return__) <= len(text)
    """
    return text.strip(_RUST_WHITESPACE)


def text_line_spans(data: bytes) -> list[tuple[int, bytes]]:
    """docs/SPEC.md §0 text lines, each with the byte offset where it starts.

    Split on LF; a line terminated by LF loses one trailing CR; a final
    empty piece after a trailing LF is not a line; an unterminated final line
    keeps its CR (Rust `str::lines`). Splitting bytes is safe for UTF-8 text:
    0x0A and 0x0D never occur inside a multi-byte sequence.

    post: all(b"\\n" not in line for _, line in __return__)
    """
    spans: list[tuple[int, bytes]] = []
    start = 0
    size = len(data)
    while start < size:
        end = data.find(b"\n", start)
        if end < 0:
            spans.append((start, bytes(data[start:])))
            break
        line = bytes(data[start:end])
        if line.endswith(b"\r"):
            line = line[:-1]
        spans.append((start, line))
        start = end + 1
    return spans


def text_lines(data: bytes) -> list[bytes]:
    """docs/SPEC.md §0 text lines of `data` (see `text_line_spans`).

    post: all(b"\\n" not in line for line in __return__)
    """
    return [line for _, line in text_line_spans(data)]


def str_lines(text: str) -> Iterator[str]:
    """Rust `str::lines` over decoded text, lazily (same rules as `text_line_spans`).

    The kevy-faithful parsers use this (not `text_line_spans`) so that the
    `explain_*` functions, which walk bytes with offsets, are an independent
    second implementation the tests can compare against.
    """
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start : end - 1] if text.endswith("\r", start, end) else text[start:end]
        start = end + 1


# ---------------------------------------------------------------------------
# docs/SPEC.md §7.3: routing.


class Routing(Enum):
    """Key → shard scheme recorded in `shards.meta` and the journal."""

    #: kevyhash(key) mod n — the embedded store always, the server outside cluster mode.
    KEVYHASH = "kevyhash"
    #: CRC16 cluster slots in contiguous ranges — the server in cluster mode.
    SLOTS = "slots"


_TAG_TO_ROUTING = {r.value: r for r in Routing}


def routing_from_tag(tag: str) -> Routing | None:
    """The routing whose tag is exactly `tag` (case-sensitive, untrimmed), else None."""
    return _TAG_TO_ROUTING.get(tag)


_SEED0 = 0x243F6A8885A308D3
_SEED1 = 0x13198A2E03707344
_CHUNK_KEY = 0xA4093822299F31D0
_FMIX1 = 0xFF51AFD7ED558CCD
_FMIX2 = 0xC4CEB9FE1A85EC53
_TWO_U64 = struct.Struct("<QQ")


def kevyhash(key: bytes) -> int:
    """kevy's KevyHash of `key` as an unsigned 64-bit int (docs/SPEC.md §7.3).

    Arithmetic is on Python ints: products of two u64 values are exact
    128-bit numbers, so `mm` needs no masking, and only the two finaliser
    multiplications are reduced mod 2**64.

    post: 0 <= __return__ < 2 ** 64
    """
    size = len(key)
    s0 = _SEED0
    s1 = _SEED1
    if size <= 16:
        if size >= 8:
            s0 ^= int.from_bytes(key[:8], "little")
            s1 ^= int.from_bytes(key[size - 8 :], "little")
        elif size >= 4:
            s0 ^= int.from_bytes(key[:4], "little")
            s1 ^= int.from_bytes(key[size - 4 :], "little")
        elif size >= 1:
            s0 ^= key[0]
            s1 ^= (key[size - 1] << 8) | key[size >> 1]
    else:
        # Whole chunks of b[0..L-1]: the last byte never starts a chunk, so a
        # length that is a multiple of 16 leaves its final chunk to the tail.
        whole = ((size - 1) >> 4) << 4
        for x, y in _TWO_U64.iter_unpack(key[:whole]):
            t = (s0 ^ x) * (_CHUNK_KEY ^ y)
            s0 = s1
            s1 = (t >> 64) ^ (t & _M64)
        s0 ^= int.from_bytes(key[size - 16 : size - 8], "little")
        s1 ^= int.from_bytes(key[size - 8 :], "little")
    p = s0 * s1
    h = (p >> 64) ^ (p & _M64) ^ size
    h ^= h >> 33
    h = (h * _FMIX1) & _M64
    h ^= h >> 33
    h = (h * _FMIX2) & _M64
    h ^= h >> 33
    return h


def _crc16_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return tuple(table)


_CRC16_TABLE = _crc16_table()


def crc16_xmodem(data: bytes) -> int:
    """CRC-16/XMODEM: poly 0x1021, init 0, MSB first, no reflection, no final XOR.

    post: 0 <= __return__ < 2 ** 16
    """
    crc = 0
    table = _CRC16_TABLE
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ table[(crc >> 8) ^ byte]
    return crc


def hash_tag(key: bytes) -> bytes:
    """The bytes cluster slots hash (docs/SPEC.md §7.3, Redis rules).

    Between the first `{` and the first `}` after it, if at least one byte
    lies between; otherwise the whole key (`foo{}{bar}` → whole key,
    `foo{{bar}}zap` → `{bar`).

    post: len(__return__) <= len(key)
    """
    start = key.find(b"{")
    if start >= 0:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            return bytes(key[start + 1 : end])
    return bytes(key)


SLOT_COUNT = 16384


def key_slot(key: bytes) -> int:
    """Cluster slot of `key`: CRC16 of its hash tag, low 14 bits.

    post: 0 <= __return__ < 16384
    """
    return crc16_xmodem(hash_tag(key)) & 0x3FFF


def shard_of(key: bytes, n: int, routing: Routing = Routing.KEVYHASH) -> int:
    """The shard index of `key` among `n` shards (docs/SPEC.md §7.3).

    n must be at least 1 (kevy would divide by zero). Slots are computed
    exactly; kevy's `slot * n` would overflow only for n ≥ 2**50.

    pre: n >= 1
    post: 0 <= __return__ < n
    """
    if n < 1:
        raise ValueError(f"shard count must be at least 1, got {n}")
    if n == 1:
        return 0
    if routing is Routing.SLOTS:
        return (key_slot(key) * n) >> 14
    h = kevyhash(key)
    return h & (n - 1) if n & (n - 1) == 0 else h % n


# ---------------------------------------------------------------------------
# docs/SPEC.md §7.2: shards.meta.


@dataclass(frozen=True)
class Layout:
    """A shard layout: how many shards, and how keys are routed to them."""

    #: number of shards; a u64 (kevy's usize). 0 parses but kevy never opens 0 shards.
    n: int
    #: the key → shard scheme
    routing: Routing = Routing.KEVYHASH

    def __post_init__(self) -> None:
        if not isinstance(self.routing, Routing):
            raise TypeError(f"routing must be a Routing, got {self.routing!r}")
        if not 0 <= self.n <= U64_MAX:
            raise ValueError(f"shard count must fit a u64, got {self.n}")


def format_shards_meta(layout: Layout) -> bytes:
    """The bytes kevy writes to `shards.meta` for `layout` (v2: count, tag).

    post: parse_shards_meta(__return__) == layout
    """
    return f"{layout.n}\n{layout.routing.value}\n".encode("ascii")


def parse_shards_meta(data: bytes) -> Layout | None:
    """kevy's `read_shards_meta` on the file's bytes: the layout, or None.

    None means "no usable layout record": kevy then treats the directory as
    a legacy one (docs/SPEC.md §9.1 step 6). Rules: module docstring, rule 2.

    post: __return__ is None or 0 <= __return__.n < 2 ** 64
    post: __return__ is None or parse_shards_meta(format_shards_meta(__return__)) == __return__
    """
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = str_lines(text)
    first = next(lines, None)
    if first is None:
        return None
    n = parse_uint(rust_trim(first))
    if n is None:
        return None
    second = next(lines, None)
    tag = "" if second is None else rust_trim(second)
    routing = Routing.KEVYHASH if tag == "" else routing_from_tag(tag)
    return None if routing is None else Layout(n, routing)


class MetaError(CorruptInput):
    """`shards.meta` is present but kevy reads no layout from it.

    kevy does not fail on this: it ignores the file and treats the
    directory as a legacy layout (inferring n from file names), which can
    re-shard it. `line` is the 1-based line number, or None for the whole file.
    """

    unit = "shards.meta"


_UINT_EXPECTED = "a shard count: optional '+' then ASCII digits, below 2**64"
_TAG_EXPECTED = "'kevyhash', 'slots', or nothing (v1 bare count)"


def locate_utf8_error(data: bytes, error: UnicodeDecodeError) -> tuple[int, int, bytes]:
    """For an error decoding `data`: (start of the line holding the bad byte,
    offset of the bad byte, the bad bytes) — the parts of a `DecodeError`."""
    bad = error.start
    line_start = data.rfind(b"\n", 0, bad) + 1
    return line_start, bad, bytes(data[bad : max(error.end, bad + 1)])


def _why_not_uint(text: str, bits: int) -> str:
    """A short reason `text` is not a UINT of `bits` bits (it must not be one)."""
    if text in ("", "+"):
        return "no digits"
    if text.startswith("-"):
        return "a sign other than a single '+'"
    digits = text[1:] if text.startswith("+") else text
    if all(c in _ASCII_DIGITS for c in digits):
        return f"the value does not fit {bits} bits"
    return "a character that is not an ASCII digit"


def explain_shards_meta(data: bytes) -> Layout:
    """Parse `shards.meta` like `parse_shards_meta`, or raise `MetaError` saying why not.

    Accepts exactly the inputs `parse_shards_meta` accepts, with the same
    result. The error's `offset` is the start of the offending line, `at`
    the offending byte where one can be named.
    """
    data = bytes(data)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        start, bad, got = locate_utf8_error(data, error)
        raise MetaError(
            "not valid UTF-8, so kevy reads no layout from the file",
            offset=start,
            at=bad,
            expected="UTF-8 text",
            got=got,
        ) from None
    spans = text_line_spans(data)
    if not spans:
        raise MetaError(
            "empty file: no shard count", line=1, offset=0, expected=_UINT_EXPECTED, got=b""
        )
    start, raw = spans[0]
    count = rust_trim(raw.decode("utf-8"))
    n = parse_uint(count)
    if n is None:
        raise MetaError(
            f"line 1 is not a shard count ({_why_not_uint(count, 64)})",
            line=1,
            offset=start,
            expected=_UINT_EXPECTED,
            got=raw,
        )
    if len(spans) < 2:
        return Layout(n, Routing.KEVYHASH)
    start, raw = spans[1]
    tag = rust_trim(raw.decode("utf-8"))
    if tag == "":
        return Layout(n, Routing.KEVYHASH)
    routing = routing_from_tag(tag)
    if routing is None:
        raise MetaError(
            "line 2 is not a routing tag (kevy ignores a file with an unknown tag "
            "rather than misroute keys)",
            line=2,
            offset=start,
            expected=_TAG_EXPECTED,
            got=raw,
        )
    return Layout(n, routing)


def non_canonical_meta(data: bytes) -> list[str]:
    """What in an accepted `shards.meta` kevy's writer never produces.

    Empty means `data` is byte-for-byte what kevy writes for its layout
    (`format_shards_meta`), for n ≥ 1. A file kevy rejects is not
    "non-canonical" but unusable: this raises `MetaError` for it.
    """
    layout = explain_shards_meta(data)
    notes: list[str] = []
    spans = text_line_spans(data)
    used = spans[:2]
    if any(data[start + len(line) : start + len(line) + 2] == b"\r\n" for start, line in used):
        notes.append("CRLF line endings (kevy writes LF)")
    if not data.endswith(b"\n") and len(spans) <= 2:
        notes.append("no newline after the last line")
    count = spans[0][1].decode("utf-8")
    if rust_trim(count) != count:
        notes.append("whitespace around the shard count")
    digits = rust_trim(count)
    if digits.startswith("+"):
        notes.append("'+' sign on the shard count")
        digits = digits[1:]
    if len(digits) > 1 and digits.startswith("0"):
        notes.append("leading zeros in the shard count")
    if layout.n == 0:
        notes.append("a shard count of 0 (kevy opens at least one shard, so never writes 0)")
    if len(spans) < 2:
        notes.append("v1 format: a bare shard count with no routing line (read as kevyhash)")
    else:
        tag = spans[1][1].decode("utf-8")
        if rust_trim(tag) == "":
            notes.append("empty routing line (read as kevyhash, the v1 default)")
        if rust_trim(tag) != tag:
            notes.append("whitespace around the routing tag")
    if len(spans) > 2:
        extra = len(spans) - 2
        notes.append(
            f"{extra} extra line{'s' if extra > 1 else ''} after the routing tag (ignored)"
        )
    return notes


# ---------------------------------------------------------------------------
# docs/SPEC.md §7.1, §8.1, §10: file names.

SHARDS_META = "shards.meta"
JOURNAL = "reshard.journal"
DEFAULT_SNAPSHOT_NAME = "dump-0.rdb"
DEFAULT_AOF_NAME = "aof-0.aof"

#: snapshot being written by a save (renamed onto the snapshot on success)
TMP_SUFFIX = ".tmp"
#: a re-shard's finished target snapshot, renamed onto the snapshot by finish_reshard
RESHARD_SUFFIX = ".reshard"
#: the `.reshard` file while it is being written (save_snapshot's own `.tmp`)
RESHARD_TMP_SUFFIX = RESHARD_SUFFIX + TMP_SUFFIX
#: an AOF being rewritten (renamed onto the AOF)
REWRITE_SUFFIX = ".rewrite"
#: backups of a re-shard's sources: `<name>.premigration.<stamp>`
PREMIGRATION_INFIX = ".premigration."


def tmp_of(path: str) -> str:
    """`<path>.tmp`: where a snapshot is written before its rename."""
    return path + TMP_SUFFIX


def reshard_of(snapshot: str) -> str:
    """`<snapshot>.reshard`: a committed-but-not-placed re-shard target."""
    return snapshot + RESHARD_SUFFIX


def reshard_tmp_of(snapshot: str) -> str:
    """`<snapshot>.reshard.tmp`: the `.reshard` file while being written."""
    return snapshot + RESHARD_TMP_SUFFIX


def rewrite_of(aof: str) -> str:
    """`<aof>.rewrite`: the replacement AOF while a rewrite or save builds it."""
    return aof + REWRITE_SUFFIX


def premigration_of(path: str, stamp: int) -> str:
    """`<path>.premigration.<stamp>`: a re-shard's backup of a source file.

    pre: 0 <= stamp < 2 ** 128
    """
    if not 0 <= stamp < 1 << 128:
        raise ValueError(f"stamp must fit a u128, got {stamp}")
    return f"{path}{PREMIGRATION_INFIX}{stamp}"


def snapshot_name(i: int, n: int, snapshot_name: str = DEFAULT_SNAPSHOT_NAME) -> str:
    """Shard i's snapshot file name under an n-shard layout.

    `snapshot_name` is the configured single-file name, used only when
    n == 1 (kevy ignores i then); otherwise `dump-{i}.rdb`. With the default
    this is the standard layout for every n.

    pre: i >= 0
    """
    return snapshot_name if n == 1 else f"dump-{i}.rdb"


def aof_name(i: int, n: int, aof_name: str = DEFAULT_AOF_NAME) -> str:
    """Shard i's AOF file name under an n-shard layout (see `snapshot_name`).

    pre: i >= 0
    """
    return aof_name if n == 1 else f"aof-{i}.aof"


@dataclass(frozen=True)
class FileNames:
    """A naming layout (docs/SPEC.md §8.1): where shard i's files live for n shards.

    The standard layout (`STANDARD_NAMES`, the server's) is `dump-{i}.rdb` /
    `aof-{i}.aof` for all n. The embedded layout (`FileNames.embedded(...)`)
    uses the configured names when n == 1 and the standard names otherwise;
    with the default names it is identical to the standard one, so the two
    compare equal.
    """

    #: the configured snapshot name for a single shard
    snapshot: str = DEFAULT_SNAPSHOT_NAME
    #: the configured AOF name for a single shard
    aof: str = DEFAULT_AOF_NAME

    @classmethod
    def embedded(
        cls, snapshot: str = DEFAULT_SNAPSHOT_NAME, aof: str = DEFAULT_AOF_NAME
    ) -> FileNames:
        """The embedded store's layout with its configured single-file names."""
        return cls(snapshot=snapshot, aof=aof)

    @property
    def default_names(self) -> bool:
        """True if both names are kevy's defaults (docs/SPEC.md §9.1 step 5)."""
        return self.snapshot == DEFAULT_SNAPSHOT_NAME and self.aof == DEFAULT_AOF_NAME

    def snapshot_name(self, i: int, n: int) -> str:
        return snapshot_name(i, n, self.snapshot)

    def aof_name(self, i: int, n: int) -> str:
        return aof_name(i, n, self.aof)

    def snapshot_path(self, directory: str, i: int, n: int) -> str:
        """Shard i's snapshot path in `directory` under an n-shard layout."""
        return join(directory, self.snapshot_name(i, n))

    def aof_path(self, directory: str, i: int, n: int) -> str:
        """Shard i's AOF path in `directory` under an n-shard layout."""
        return join(directory, self.aof_name(i, n))


STANDARD_NAMES = FileNames()


def _file_index(name: str) -> int | None:
    """X for `dump-<X>.rdb` / `aof-<X>.aof` with X a u64 UINT, else None."""
    for prefix, suffix in (("dump-", ".rdb"), ("aof-", ".aof")):
        # Rust strips the suffix from what follows the prefix, so the two
        # may not overlap ("dump-.rdb" leaves an empty X, which is no UINT).
        if name.startswith(prefix) and name[len(prefix) :].endswith(suffix):
            return parse_uint(name[len(prefix) : len(name) - len(suffix)])
    return None


def infer_files_n(fs: FileSystem, directory: str) -> int:
    """Highest per-shard file index in `directory` plus one (docs/SPEC.md §7.1).

    Counts every entry, file or not, named `dump-<X>.rdb` or `aof-<X>.aof`
    with X a UINT (`01` and `+1` are 1). 0 when none match or the directory
    cannot be listed. kevy computes `max(n, X + 1)` in a release build's
    wrapping usize arithmetic, so `X = 2**64 - 1` adds 0 and changes nothing;
    that is reproduced.
    """
    try:
        names = fs.listdir(directory)
    except OSError:
        return 0
    n = 0
    for name in names:
        index = _file_index(name)
        if index is not None:
            n = max(n, (index + 1) & U64_MAX)
    return n


#: The largest shard count taken without evidence (rule 5). kevy's tests and
#: every layout in docs/SPEC.md use a few dozen at most; a larger count must be
#: backed by that many directory entries.
MAX_SHARDS = 1024


class ShardCountError(CorruptInput):
    """A shard count read from a file that nothing in the directory backs (rule 5).

    kevy 1.17 opens such a directory by looping over (or allocating for) every
    shard the count names: a 20-byte `shards.meta` saying 10**9 keeps its open
    busy for hours (FINDINGS F40). `offset` is where the count starts in `path`
    (0 for a count taken from a file name, `path` then being that file).
    """

    unit = "shard count"


def check_shard_count(
    fs: FileSystem, directory: str, n: int, *, source: str, offset: int = 0
) -> None:
    """Raise `ShardCountError` unless `n` is plausible for `directory` (rule 5)."""
    if n <= MAX_SHARDS:
        return
    try:
        entries = len(fs.listdir(directory))
    except OSError:
        entries = 0
    if n <= entries:
        return
    raise ShardCountError(
        f"{n} shards, but the directory holds {entries} entries and no count above "
        f"{MAX_SHARDS} is taken without that many files; kevy 1.17 would loop over "
        f"every one of them on open (FINDINGS F40)",
        offset=offset,
    ).with_path(source)


def largest_file_index(fs: FileSystem, directory: str) -> tuple[int, str] | None:
    """The entry behind `infer_files_n`: (its X + 1, its name), or None."""
    try:
        names = fs.listdir(directory)
    except OSError:
        return None
    best: tuple[int, str] | None = None
    for name in names:
        index = _file_index(name)
        if index is not None and (best is None or (index + 1) & U64_MAX > best[0]):
            best = ((index + 1) & U64_MAX, name)
    return best
