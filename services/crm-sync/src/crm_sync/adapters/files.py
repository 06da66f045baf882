"""Attachments fetched from the chat platform's URLs, to be stored as files in Salesforce.

Only the configured schemes (and hosts, when listed) are fetched, redirects are not
followed, a host that resolves to an address that is not public (loopback, private,
link-local such as the cloud metadata service, reserved) is refused unless the settings
allow it, and a file larger than the limit is skipped: a chat's URL must not make crm-sync
reach into its own network or fill its memory.

The address check is made where the connection is opened (`_PublicOnly`, httpcore's network
backend): the name is resolved once, every address it has must be public, and the socket is
connected to one of those very addresses. A name that answers a public address to a check
and a private one to the connection (DNS rebinding) therefore gets nowhere. TLS still
verifies the certificate against the name. No proxy from the environment is used: a proxy
would resolve the name itself, out of reach of the check.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from chat_runtime.logging import get_logger

log = get_logger(__name__)


class HttpFileFetcher:
    """`FileFetcher` over httpx."""

    def __init__(
        self,
        *,
        max_bytes: int,
        timeout_s: float,
        schemes: tuple[str, ...] = ("https",),
        hosts: tuple[str, ...] = (),
        allow_private: bool = False,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.max_bytes, self.schemes, self.hosts = max_bytes, schemes, {h.lower() for h in hosts}
        self.allow_private = allow_private
        self._client = client or httpx.AsyncClient(
            timeout=timeout_s,
            follow_redirects=False,
            trust_env=False,
            transport=_transport(allow_private),
        )

    def allowed(self, url: str) -> bool:
        """Whether `url` may be fetched."""
        parts = urlsplit(url)
        if parts.scheme not in self.schemes or not parts.hostname:
            return False
        return not self.hosts or parts.hostname.lower() in self.hosts

    async def fetch(self, url: str) -> bytes | None:
        if not self.allowed(url):
            log.warning("attachment not fetched: scheme or host not allowed")
            return None
        try:
            async with self._client.stream("GET", url) as response:
                if response.status_code != 200:
                    log.warning("attachment not fetched", status=response.status_code)
                    return None
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > self.max_bytes:
                        log.warning("attachment skipped: too large", max_bytes=self.max_bytes)
                        return None
                return bytes(data)
        except NotPublic:
            log.warning("attachment not fetched: the host is not a public address")
            return None
        except httpx.HTTPError as exc:
            log.warning("attachment not fetched", error=type(exc).__name__)
            return None

    async def close(self) -> None:
        """Close the connections."""
        await self._client.aclose()


class NotPublic(httpx.ConnectError):
    """The host resolves to an address that is not public."""


class _PublicOnly(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to public addresses: each connection
    resolves the name once and connects to the address it checked."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, port, type=socket.SOCK_STREAM
                )
            except OSError as exc:
                raise httpcore.ConnectError(str(exc)) from exc
            addresses = list(dict.fromkeys(ipaddress.ip_address(i[4][0]) for i in infos))
        if not addresses or not all(a.is_global for a in addresses):
            raise NotPublic(f"{host} is not a public address", request=None)
        return await self._inner.connect_tcp(
            str(addresses[0]), port, timeout, local_address, socket_options
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise NotPublic("no unix sockets", request=None)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _transport(allow_private: bool) -> httpx.AsyncHTTPTransport:
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    if not allow_private:
        # httpx has no parameter for the network backend: its pool is rebuilt with ours
        # (httpx's default options otherwise). The rebinding test in the crm-sync
        # integration tests fails if this stops taking effect.
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=100,  # httpx's defaults
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_PublicOnly(),
        )
    return transport
