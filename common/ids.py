"""64-bit, time-ordered ids unique across tables, shaped like Moneybird's.

Layout: milliseconds since EPOCH (41 bits) | process bits (10) | sequence (12). Ordering by id
is ordering by creation time, so ids double as a cheap creation-order index key, and ids made in
different processes do not collide because each process draws its own random process bits.
"""

import os
import secrets
import threading
import time

EPOCH_MS = 1_640_995_200_000  # 2022-01-01T00:00:00Z: keeps ids at 18 digits until 2029.
_SEQUENCE_BITS = 12
_PROCESS_BITS = 10

_lock = threading.Lock()
_state = {"pid": -1, "process": 0, "last_ms": -1, "sequence": 0}


def new_id() -> int:
    with _lock:
        pid = os.getpid()
        if _state["pid"] != pid:  # after a fork, draw new process bits
            _state.update(pid=pid, process=secrets.randbits(_PROCESS_BITS), last_ms=-1)
        now_ms = int(time.time() * 1000) - EPOCH_MS
        if now_ms < _state["last_ms"]:  # the clock went back: keep ids increasing
            now_ms = _state["last_ms"]
        if now_ms == _state["last_ms"]:
            _state["sequence"] = (_state["sequence"] + 1) & ((1 << _SEQUENCE_BITS) - 1)
            if _state["sequence"] == 0:  # 4096 ids in one millisecond: borrow the next one
                now_ms += 1
        else:
            _state["sequence"] = 0
        _state["last_ms"] = now_ms
        return (
            (now_ms << (_PROCESS_BITS + _SEQUENCE_BITS))
            | (_state["process"] << _SEQUENCE_BITS)
            | _state["sequence"]
        )


def new_ids(count: int) -> list[int]:
    return [new_id() for _ in range(count)]


# --- ids as clients give them and as the APIs render them -------------------------------------
# An id is a positive signed 64-bit integer (a PostgreSQL bigint): 0 < n < 2**63. Anything past
# that cannot be a record's id, and the databases cannot even compare it (SQLite overflows).
ID_LIMIT = 2**63


def is_id(number: int) -> bool:
    return 0 < number < ID_LIMIT


def parse_id(value: object) -> int | None:
    """The id `value` denotes, or None when it cannot denote one.

    Accepted: an int (never a bool) or a string of ASCII digits, in 1 .. 2**63 - 1. Everything
    else (signs, spaces, decimals, floats, zero, past 64 bits) is None, which callers answer as
    they answer an unknown id: not found, or their dialect's bad-request for a filter term."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if is_id(value) else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        number = int(value)
        return number if is_id(number) else None
    return None


def render_id(value: int | None) -> str | None:
    """An id as both dialects put it on the wire: a string (18-digit ids overflow JavaScript's
    numbers), null for none."""
    return None if value is None else str(value)
