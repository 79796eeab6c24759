"""Key routing written from docs/SPEC.md §7.3 alone: the model side of a differential.

What: `kevyhash`, `crc16_xmodem`, `hash_tag`, `key_slot` and `shard_of`, each
a literal transcription of the SPEC's numbered steps (bit-at-a-time CRC, an
explicit `mm` with 64-bit masking, a byte-by-byte brace scan).

Why: `impl.layout` is written for speed (a CRC table, chunked unpacking,
`bytes.find`). A second version that shares no code with it lets the fuzz
target `fuzz/targets/shards_meta.py` and `crosshair diffbehavior`
(tests/test_crosshair_ch.py) compare the two on arbitrary keys: a key routed
to the wrong shard is silently lost data.

Rules:
1. No import from `impl/` (model/__init__.py): the shard count is an int and
   the routing a plain string, `"kevyhash"` or `"slots"`.
2. Every function is pure and total on its documented domain.
"""

from __future__ import annotations

__all__ = ["crc16_xmodem", "hash_tag", "kevyhash", "key_slot", "shard_of"]

_MASK64 = (1 << 64) - 1


def _le(data: bytes) -> int:
    """Little-endian unsigned integer of `data` (le64 / le32 of §7.3)."""
    value = 0
    for i, byte in enumerate(data):
        value |= byte << (8 * i)
    return value


def _mm(x: int, y: int) -> int:
    """§7.3 `mm`: the 128-bit product's high and low 64-bit halves XORed."""
    product = (x & _MASK64) * (y & _MASK64)
    return ((product >> 64) ^ product) & _MASK64


def kevyhash(key: bytes) -> int:
    """§7.3 steps 1–5.

    post: 0 <= __return__ < 2 ** 64
    """
    length = len(key)
    s0 = 0x243F6A8885A308D3
    s1 = 0x13198A2E03707344
    if length <= 16:
        if length >= 8:
            s0 ^= _le(key[0:8])
            s1 ^= _le(key[length - 8 : length])
        elif length >= 4:
            s0 ^= _le(key[0:4])
            s1 ^= _le(key[length - 4 : length])
        elif length >= 1:
            s0 ^= key[0]
            s1 ^= (key[length - 1] << 8) | key[length // 2]
    else:
        for chunk in range((length - 1) // 16):
            x = _le(key[16 * chunk : 16 * chunk + 8])
            y = _le(key[16 * chunk + 8 : 16 * chunk + 16])
            t = _mm(s0 ^ x, 0xA4093822299F31D0 ^ y)
            s0, s1 = s1, t
        s0 ^= _le(key[length - 16 : length - 8])
        s1 ^= _le(key[length - 8 : length])
    h = _mm(s0, s1) ^ length
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _MASK64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _MASK64
    h ^= h >> 33
    return h


def crc16_xmodem(data: bytes) -> int:
    """CRC-16/XMODEM bit by bit: poly 0x1021, init 0, MSB first, no reflection.

    post: 0 <= __return__ < 2 ** 16
    """
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def hash_tag(key: bytes) -> bytes:
    """§7.3 `tag(key)`: bytes between the first `{` and the first `}` after it,
    if at least one byte lies between; otherwise the whole key."""
    for open_at in range(len(key)):
        if key[open_at] == 0x7B:  # the first '{'
            for close_at in range(open_at + 1, len(key)):
                if key[close_at] == 0x7D:  # the first '}' after it
                    return key[open_at + 1 : close_at] if close_at > open_at + 1 else key
            return key
    return key


def key_slot(key: bytes) -> int:
    """§7.3: `crc16(tag(key)) & 0x3FFF`.

    post: 0 <= __return__ < 16384
    """
    return crc16_xmodem(hash_tag(key)) & 0x3FFF


def shard_of(key: bytes, n: int, routing: str = "kevyhash") -> int:
    """§7.3 `shard(key, n)` for `n >= 1`.

    pre: n >= 1
    post: 0 <= __return__ < n
    """
    if n == 1:
        return 0
    if routing == "slots":
        return (key_slot(key) * n) >> 14
    h = kevyhash(key)
    if n & (n - 1) == 0:
        return h & (n - 1)
    return h % n
