"""Small in-memory caches with a time to live: crm-sync keeps caches only, never state
that must survive a restart."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """`get` returns a value until `ttl_s` after it was `put`; at most `max_entries` kept
    (the oldest dropped first)."""

    def __init__(self, ttl_s: float, clock: Callable[[], float], max_entries: int = 100_000):
        self._ttl_s = ttl_s
        self._clock = clock
        self._max = max_entries
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        """The live value for `key`, or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[key]
            return None
        return entry[1]

    def peek(self, key: K) -> tuple[V, bool] | None:
        """The value stored for `key` even past its time to live (not dropped then), and
        whether it is still live; None when nothing is stored."""
        entry = self._entries.get(key)
        return None if entry is None else (entry[1], entry[0] > self._clock())

    def has(self, key: K) -> bool:
        """Whether a live value is stored for `key`."""
        return self.get(key) is not None

    def put(self, key: K, value: V) -> None:
        """Store `value` for `ttl_s`."""
        self._entries.pop(key, None)
        self._entries[key] = (self._clock() + self._ttl_s, value)
        while len(self._entries) > self._max:
            del self._entries[next(iter(self._entries))]

    def drop(self, key: K) -> None:
        """Forget `key`."""
        self._entries.pop(key, None)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()
