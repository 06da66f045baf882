"""Attachments fetched from the chat platform's URLs, to be stored as files in Salesforce.

Only the configured schemes (and hosts, when listed) are fetched, redirects are not
followed, a host that resolves to an address that is not public (loopback, private,
link-local such as the cloud metadata service, reserved) is refused unless the settings
allow it, and a file larger than the limit is skipped: a chat's URL must not make crm-sync
reach into its own network or fill its memory. (The check resolves the name before httpx
does: a name that resolves differently the second time is not caught.)
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

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
        self._client = client or httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)

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
        if not self.allow_private and not await _public(url):
            log.warning("attachment not fetched: the host is not a public address")
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
        except httpx.HTTPError as exc:
            log.warning("attachment not fetched", error=type(exc).__name__)
            return None

    async def close(self) -> None:
        """Close the connections."""
        await self._client.aclose()


async def _public(url: str) -> bool:
    """Whether every address the URL's host resolves to is a public one."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = {ipaddress.ip_address(host)}
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, parts.port or 443, type=socket.SOCK_STREAM
            )
        except OSError:
            return False
        addresses = {ipaddress.ip_address(info[4][0]) for info in infos}
    return bool(addresses) and all(a.is_global for a in addresses)
