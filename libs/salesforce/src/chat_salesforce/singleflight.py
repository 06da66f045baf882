"""Single flight: concurrent callers asking for the same key share one in-flight call."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    """`await flights.run(key, fetch)`: the first caller starts `fetch()`, the others
    await the same result (or exception). A caller that is cancelled leaves the shared
    call running for the others."""

    def __init__(self) -> None:
        self._flights: dict[K, asyncio.Task[V]] = {}

    def in_flight(self, key: K) -> bool:
        """Whether a call for `key` is running now."""
        return key in self._flights

    async def run(self, key: K, fetch: Callable[[], Awaitable[V]]) -> V:
        """The result of the running call for `key`, or of a new `fetch()`."""
        task = self._flights.get(key)
        if task is None:
            task = asyncio.ensure_future(fetch())
            self._flights[key] = task
            task.add_done_callback(lambda t: self._forget(key, t))
        return await asyncio.shield(task)

    def _forget(self, key: K, task: asyncio.Task[V]) -> None:
        if self._flights.get(key) is task:
            del self._flights[key]
        if not task.cancelled():
            task.exception()  # retrieved here, so a result nobody awaited is not logged
