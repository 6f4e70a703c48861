"""Row ids: UUIDv7 (RFC 9562), made by the application; and request ids.

Time-ordered ids keep the primary-key index append-mostly; the random bits keep one
tenant from guessing or counting another's ids. Python 3.11's `uuid` has no uuid7.

The random bits come from the operating system's randomness, read a page at a time
(`_Randomness`): a request makes a request id and one or two audit event ids, and each
`os.urandom` is a system call (some 4 µs here, more than the id's arithmetic).
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid

_PAGE = 4096


class _Randomness:
    """The operating system's random bytes (`os.urandom`), read `_PAGE` bytes at a time
    and handed out once each. A forked child starts with none read: it never hands out
    what its parent also holds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._forget()
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._page = b""
        self._used = 0

    def take(self, n: int) -> bytes:
        with self._lock:
            start = self._used
            if start + n > len(self._page):
                self._page, start = os.urandom(max(_PAGE, n)), 0
            self._used = start + n
            return self._page[start : start + n]


_randomness = _Randomness()


def random_bytes(n: int) -> bytes:
    """`n` bytes of the operating system's randomness, never handed out before."""
    return _randomness.take(n)


def new_request_id() -> str:
    """A request's id (32 hex digits, 128 random bits): in its log lines, its audit events
    and the answer's `x-request-id`."""
    return random_bytes(16).hex()


def uuid7(timestamp_ms: int | None = None, rng: random.Random | None = None) -> uuid.UUID:
    """A UUIDv7. `timestamp_ms` and `rng` make it deterministic (demo data); by default it
    uses the clock and the operating system's randomness."""
    ms = time.time_ns() // 1_000_000 if timestamp_ms is None else timestamp_ms
    rand = int.from_bytes(random_bytes(10)) if rng is None else rng.getrandbits(80)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 68) & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b, 62 bits
    return uuid.UUID(int=value)
