"""At most one run of an async job per key at a time; later callers join the running one.

One for the suite: auth's token refreshes, the Salesforce token cache, describe caches.
No I/O of its own: the job is given by the caller. Callers wait on the shared task
through `asyncio.shield`, so one caller giving up (cancelled, or its deadline passed)
never cancels the job the others are waiting for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    """`await flights.run(key, fetch)`: the first caller starts `fetch()`, the others
    await the same result (or exception)."""

    def __init__(self) -> None:
        self._flights: dict[K, asyncio.Task[V]] = {}
        self.started = 0
        """Jobs started so far (tests and metrics: how many callers were folded)."""

    def running(self, key: K) -> bool:
        """Whether a job for `key` is running now."""
        return key in self._flights

    def tasks(self) -> list[tuple[K, asyncio.Task[V]]]:
        """The jobs running now, by key (a copy)."""
        return list(self._flights.items())

    async def run(self, key: K, job: Callable[[], Awaitable[V]]) -> V:
        """The result of the running job for `key`, or of a new `job()`."""
        return await asyncio.shield(self.join(key, job))

    def join(self, key: K, job: Callable[[], Awaitable[V]]) -> asyncio.Task[V]:
        """The running task for `key`, or a new one running `job()`."""
        task = self._flights.get(key)
        if task is None:
            task = asyncio.ensure_future(job())
            self.started += 1
            self._flights[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        return task

    def _forget(self, key: K, task: asyncio.Task[V]) -> None:
        if self._flights.get(key) is task:
            del self._flights[key]
        if not task.cancelled():
            task.exception()  # retrieved: a failure is the waiters' to report, not asyncio's

    async def wait(self, key: K, job: Callable[[], Awaitable[V]], timeout: float) -> V:  # noqa: ASYNC109
        """Join the flight and wait at most `timeout` s (TimeoutError; the flight goes on)."""
        task = self.join(key, job)
        async with asyncio.timeout(max(0.0, timeout)):
            return await asyncio.shield(task)
