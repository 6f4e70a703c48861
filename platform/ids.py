"""Row ids: UUIDv7 (RFC 9562), made by the application; and request ids.

Time-ordered ids keep the primary-key index append-mostly; the random bits keep one
tenant from guessing or counting another's ids. Python 3.11's `uuid` has no uuid7.
"""

from __future__ import annotations

import os
import random
import time
import uuid


def new_request_id() -> str:
    """A request's id (32 hex digits, 128 random bits): in its log lines, its audit events
    and the answer's `x-request-id`."""
    return os.urandom(16).hex()


def uuid7(timestamp_ms: int | None = None, rng: random.Random | None = None) -> uuid.UUID:
    """A UUIDv7. `timestamp_ms` and `rng` make it deterministic (demo data); by default it
    uses the clock and the operating system's randomness."""
    ms = time.time_ns() // 1_000_000 if timestamp_ms is None else timestamp_ms
    rand = int.from_bytes(os.urandom(10)) if rng is None else rng.getrandbits(80)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 68) & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b, 62 bits
    return uuid.UUID(int=value)
