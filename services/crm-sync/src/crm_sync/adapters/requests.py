"""The request/reply client to auth, built once the event loop runs: `create_app()` runs
before it (under `python -m crm_sync`), and aiokafka's producer needs a running loop."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chat_runtime.request_reply import RequestReplyClient
from chat_runtime.rr_protocol import Reply


class LateRequestReplyClient:
    """A `RequestReplyClient` made by `factory` at `start()`; same `request()`."""

    def __init__(self, factory: Callable[[], RequestReplyClient]) -> None:
        self._factory = factory
        self._client: RequestReplyClient | None = None

    async def start(self) -> None:
        if self._client is None:
            client = self._factory()
            await client.start()
            self._client = client

    async def stop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.stop()

    async def request(
        self,
        topic: str,
        value: Any,
        *,
        key: bytes | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the protocol's deadline
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        if self._client is None:
            raise RuntimeError("the request/reply client is not started")
        return await self._client.request(topic, value, key=key, timeout=timeout, headers=headers)
