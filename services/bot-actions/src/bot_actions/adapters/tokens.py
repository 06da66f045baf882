"""The request/reply client bot-actions asks auth for tokens with, built at start.

aiokafka clients bind to the running event loop when they are created, and `create_app`
runs before the server's loop exists, so the client is created in the startup hook.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chat_runtime.request_reply import ClientClosed, RequestReplyClient
from chat_runtime.request_reply_metrics import RequestReplyMetrics
from chat_runtime.rr_protocol import Reply


class TokenClient:
    """A `RequestReplyClient` created by `start()`; a `chat_salesforce.tokens.Requester`."""

    def __init__(
        self,
        bootstrap: str,
        *,
        name: str,
        timeout_s: float,
        metrics: RequestReplyMetrics,
        kafka_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._options: dict[str, Any] = {
            "name": name,
            "default_timeout": timeout_s,
            "metrics": metrics,
            "kafka_options": kafka_options,
        }
        self._bootstrap = bootstrap
        self._client: RequestReplyClient | None = None

    async def start(self) -> None:
        """Create the client, its reply topic and its reader."""
        self._client = RequestReplyClient(self._bootstrap, **self._options)
        await self._client.start()

    async def stop(self) -> None:
        """Stop the client and delete its reply topic."""
        if self._client is not None:
            await self._client.stop()
            self._client = None

    async def request(
        self,
        topic: str,
        value: Any,
        *,
        key: bytes | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the protocol's deadline
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """`RequestReplyClient.request`; ClientClosed before `start()` or after `stop()`."""
        if self._client is None:
            raise ClientClosed("the token client is not running")
        return await self._client.request(topic, value, key=key, timeout=timeout, headers=headers)
