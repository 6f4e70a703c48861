"""Row ids and request ids: their format, their order, and that they differ."""

from __future__ import annotations

import random
import time
import uuid

from kizuna.platform import ids


def test_uuid7_is_version_7_variant_rfc_with_the_time_in_front() -> None:
    before = time.time_ns() // 1_000_000
    made = ids.uuid7()
    after = time.time_ns() // 1_000_000
    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after


def test_uuid7_from_a_seed_is_the_same_each_time() -> None:
    # A seeded generator, as the demo data's: the same ids at every seeding.
    first = ids.uuid7(1_700_000_000_000, random.Random(7))  # noqa: S311
    assert first == ids.uuid7(1_700_000_000_000, random.Random(7))  # noqa: S311
    assert first != ids.uuid7(1_700_000_000_000, random.Random(8))  # noqa: S311


def test_ids_made_in_the_same_millisecond_differ() -> None:
    made = {ids.uuid7(1_700_000_000_000) for _ in range(5000)}
    assert len(made) == 5000


def test_request_ids_are_32_hex_digits_and_differ() -> None:
    made = {ids.new_request_id() for _ in range(5000)}
    assert len(made) == 5000
    assert all(len(r) == 32 and int(r, 16) >= 0 for r in made)
