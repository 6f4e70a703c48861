"""Row ids and request ids: their format, their order, and that no random bytes are
handed out twice (not across threads, not to a forked child)."""

from __future__ import annotations

import os
import random
import threading
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


def test_random_bytes_span_pages_and_are_never_handed_out_twice() -> None:
    taken = [ids.random_bytes(n) for n in (10, 4096, 1, 5000, 16) * 20]
    assert [len(b) for b in taken] == [10, 4096, 1, 5000, 16] * 20
    chunks = [b for b in taken if len(b) >= 10]
    assert len(set(chunks)) == len(chunks)


def test_threads_never_take_the_same_bytes() -> None:
    results: list[list[bytes]] = [[] for _ in range(4)]

    def take(out: list[bytes]) -> None:
        out.extend(ids.random_bytes(16) for _ in range(3000))

    threads = [threading.Thread(target=take, args=(out,)) for out in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [b for out in results for b in out]
    assert len(set(every)) == len(every) == 12_000


def test_a_forked_child_does_not_hand_out_its_parents_bytes() -> None:
    ids.random_bytes(4096)  # a whole page, so that the next read starts a page:
    ids.random_bytes(16)  # the parent holds 4,080 bytes read before the fork
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover  (the child's side, reported through the pipe)
        os.close(read_end)
        os.write(write_end, ids.random_bytes(64))
        os._exit(0)
    os.close(write_end)
    from_child = b""
    while chunk := os.read(read_end, 64):
        from_child += chunk
    os.close(read_end)
    os.waitpid(child, 0)
    assert len(from_child) == 64
    assert from_child != ids.random_bytes(64)  # the parent's next bytes, which the child also held
