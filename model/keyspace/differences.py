"""Known differences between Redis 7.2 and kevy 1.17 (per docs/SPEC.md), one row each.

What: the rows a user of the model needs to read kevy-1.17 results: where kevy's
command semantics differ from Redis's, what each does, and (for those hardened
follows Redis in) the switch. tests/test_keyspace_machine.py shows every row
that a short sequence can trigger, and checks every row is accounted for.

Why a module of its own: it is documentation the harness tests against, kept out
of the keyspace's logic (model/keyspace/core.py).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["KNOWN_DIFFERENCES", "KnownDifference"]

class KnownDifference(NamedTuple):
    verb: str
    redis7: str
    kevy117: str


KNOWN_DIFFERENCES: tuple[KnownDifference, ...] = (
    KnownDifference(
        "(all keys) expiry boundary",
        "a key is expired only when now > deadline (db.c keyIsExpired); live at now == deadline",
        "expired iff deadline <= now (docs/SPEC.md §6.2)",
    ),
    KnownDifference(
        "SET",
        "honours EX/PX/EXAT/PXAT/NX/XX/KEEPTTL/GET; bad combinations -> ERR syntax error; "
        "EX/PX <= 0 -> ERR invalid expire time in 'set' command",
        "replay ignores every option: the write is unconditional and clears the TTL "
        "(docs/SPEC.md §5)",
    ),
    KnownDifference(
        "INCR/DECR/INCRBY/DECRBY/HINCRBY (integer grammar)",
        "string2ll: rejects '+5', '007', '-0' (stored value and argument) with "
        "'ERR value is not an integer or out of range' / 'ERR hash value is not an integer'",
        "SINT accepts an optional '+' and leading zeros (docs/SPEC.md §0, §6.3)",
    ),
    KnownDifference(
        "DECRBY key -9223372036854775808",
        "ERR decrement would overflow; nothing changes",
        "the negation wraps to -2^63, which is then added (docs/SPEC.md §5)",
    ),
    KnownDifference(
        "INCRBYFLOAT (arithmetic and printing)",
        "x86-64 long double sum printed with %.17Lf, zeros trimmed: 0.1 + 0.2 -> '0.3'",
        "binary64 sum printed with DISPLAYF: 0.1 + 0.2 -> '0.30000000000000004' "
        "(docs/SPEC.md §6.3)",
    ),
    KnownDifference(
        "INCRBYFLOAT (grammar)",
        "strtold: hex floats ('0x10') accepted; any leading/trailing space in the stored value "
        "rejected; overflow/underflow-to-zero rejected",
        "FLOAT grammar: no hex; stored value trimmed of Unicode whitespace; overflow -> inf "
        "(then rejected as non-finite), underflow -> 0 accepted (docs/SPEC.md §0, §6.3)",
    ),
    KnownDifference(
        "EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT (negative time)",
        "accepted; the deadline is in the past so the key is deleted, reply 1",
        "negative t fails UINT and the command is ignored: the key survives (docs/SPEC.md §5)",
    ),
    KnownDifference(
        "EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT (NX/XX/GT/LT)",
        "conditions honoured; unknown option -> ERR Unsupported option <opt>",
        "extra arguments ignored: the TTL is set unconditionally (docs/SPEC.md §5)",
    ),
    KnownDifference(
        "EXPIRE/EXPIREAT (overflow)",
        "seconds * 1000 or base + t overflowing i64 -> ERR invalid expire time in '<cmd>' command",
        "t * 1000 saturates (docs/SPEC.md §5)",
    ),
    KnownDifference(
        "LPOP/RPOP key count",
        "count must be a non-negative integer ('ERR value is out of range, must be positive'); "
        "with a count the reply is an array (nil array on a missing key)",
        "count absent or not SINT -> 1; negative -> 0 (docs/SPEC.md §5)",
    ),
    KnownDifference(
        "HSET with an odd number of field/value arguments",
        "ERR wrong number of arguments for 'hset' command; nothing written",
        "complete pairs are written, the unpaired tail ignored (docs/SPEC.md §5)",
    ),
    KnownDifference(
        "ZADD/ZINCRBY (NaN and bad scores)",
        "one unparsable score (or 'nan') rejects the whole command with "
        "'ERR value is not a valid float'; inf + -inf -> 'ERR resulting score is not a number "
        "(NaN)'",
        "a bad score skips only its pair; NaN scores are stored; inf + -inf stores NaN "
        "(docs/SPEC.md §5, §6.7)",
    ),
    KnownDifference(
        "ZADD flags NX/XX/GT/LT/CH/INCR",
        "recognised",
        "not recognised; consumed as scores (which fail FLOAT) (docs/SPEC.md §5)",
    ),
    KnownDifference(
        "ZADD score grammar",
        "strtod: hex ('0x1p3') accepted; '1e400' and '1e-400' rejected (ERANGE)",
        "FLOAT: no hex; overflow -> +-inf, underflow -> 0 (docs/SPEC.md §0)",
    ),
    KnownDifference(
        "sorted-set order of -0.0 and 0.0",
        "-0.0 == 0.0: equal scores, ties broken by member; ZADD 0 (or ZINCRBY 0) on a member "
        "at -0.0 is not an update (the stored -0.0 stays)",
        "IEEE total order: -0.0 < 0.0, distinct scores (docs/SPEC.md §6.7)",
    ),
    KnownDifference(
        "option words with a NUL byte",
        "matched with strcasecmp, which stops at the NUL: 'NX\\0junk' is NX; an argument "
        "printed into an error reply stops at its NUL",
        "compares the whole argument: 'NX\\0junk' is an unknown option",
    ),
    KnownDifference(
        "XADD ... MAXLEN n (and XTRIM)",
        "trimming does not touch max_deleted_entry_id (t_stream.c streamTrim); only XDEL does",
        "entries removed by MAXLEN/XTRIM raise max_deleted_id (docs/SPEC.md §6.8); the rewrite's "
        "'XADD key MAXLEN 0 <last> x x' relies on it (docs/SPEC.md §4.3)",
    ),
    KnownDifference(
        "XCLAIM ... TIME t",
        "t < 0 or t > now is replaced by now; the claiming consumer is created if missing "
        "and its seen-time set to now",
        "installs (owner, t, n) unconditionally (docs/SPEC.md §6.8)",
    ),
    KnownDifference(
        "XCLAIM by an existing consumer",
        "sets the consumer's last-seen time to now with every row it claims",
        "leaves it alone (switch redis_xclaim_seen_time)",
    ),
    KnownDifference(
        "XCLAIM ... FORCE (an entry no consumer read)",
        "the new pending row starts at delivery count 1, then +1 unless JUSTID or RETRYCOUNT",
        "starts at 0 (switch redis_xclaim_force_count)",
    ),
    KnownDifference(
        "DEL/HDEL/SREM/ZREM/LPUSH/... with missing arguments",
        "ERR wrong number of arguments for '<cmd>' command",
        "ignored (docs/SPEC.md §5)",
    ),
    KnownDifference(
        "errors in general",
        "returned to the client; the command has no effect",
        "replay discards errors silently (docs/SPEC.md §5); same state, no reply",
    ),
    KnownDifference(
        "SPOP",
        "removes random members and propagates them as SREM k m... (the model takes "
        "the pick as observed, rule 7)",
        "removes the first members in its hash set's iteration order, which differs "
        "per process, and logs SPOP k n: replay pops other members (F24)",
    ),
    KnownDifference(
        "DBSIZE",
        "counts keys still in the dict, including expired ones not yet reaped",
        "same, and snapshot load inserts already-expired keys that count (docs/SPEC.md §3.6)",
    ),
)
