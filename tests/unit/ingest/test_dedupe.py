"""The per-partition memory of seen event ids."""

from __future__ import annotations

from ingest_service.domain.dedupe import DedupeMemory, PartitionMemory, fingerprint


def test_keys_older_than_the_window_are_forgotten() -> None:
    memory = PartitionMemory(window_ms=1000, max_keys=10, next_offset=0)
    memory.commit([(b"a", 100), (b"b", 900)], next_offset=2, now_ms=1500)
    assert b"b" in memory
    assert b"a" not in memory
    assert memory.next_offset == 2


def test_the_oldest_keys_go_first_past_the_bound() -> None:
    memory = PartitionMemory(window_ms=10**9, max_keys=2, next_offset=0)
    memory.load([(b"a", 1), (b"b", 2), (b"c", 3)])
    assert list(memory.seen) == [fingerprint(b"b"), fingerprint(b"c")]
    memory.load([(b"b", 4)])  # seen again: now the newest
    assert list(memory.seen) == [fingerprint(b"c"), fingerprint(b"b")]


def test_the_memory_keeps_a_fixed_size_fingerprint_of_any_key() -> None:
    memory = PartitionMemory(window_ms=10**9, max_keys=2, next_offset=0)
    long_key = b"10000|event:" + b"x" * 1_000_000
    memory.load([(long_key, 1)])
    assert long_key in memory
    assert [len(mark) for mark in memory.seen] == [16]


def test_a_memory_is_current_only_where_the_next_batch_starts() -> None:
    memory = DedupeMemory(window_ms=1000, max_keys=10)
    assert memory.current("t", 0, 0) is None  # never seen: rebuild
    memory.rebuilt("t", 0, next_offset=5, entries=[(b"a", 10)], now_ms=20)
    assert memory.current("t", 0, 5) is not None
    assert memory.current("t", 0, 9) is None  # another member consumed 5..8: rebuild
    memory.forget("t", 0)
    assert memory.current("t", 0, 5) is None


def test_a_zero_window_or_bound_disables_dedupe() -> None:
    assert not DedupeMemory(window_ms=0, max_keys=10).enabled
    assert not DedupeMemory(window_ms=10, max_keys=0).enabled
