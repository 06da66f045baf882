"""The attachment fetcher over real HTTP: addresses inside the network are refused unless
the settings allow them (a chat's URL must not make crm-sync reach its own network)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from crm_sync.adapters.files import HttpFileFetcher
from tests.integration.crm_sync.support import FileServer


@pytest.fixture
def server() -> Iterator[FileServer]:
    files = FileServer({"/a.txt": b"attachment"})
    yield files
    files.close()


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "10.0.0.1",
        "169.254.169.254",
        "192.168.1.1",
        "0.0.0.0",  # noqa: S104 - an address to refuse, not one to bind
    ],
)
async def test_private_loopback_and_link_local_addresses_are_refused(
    server: FileServer, host: str
) -> None:
    port = server.url.rsplit(":", 1)[1]
    fetcher = HttpFileFetcher(max_bytes=1024, timeout_s=2, schemes=("http",))
    try:
        assert await fetcher.fetch(f"http://{host}:{port}/a.txt") is None
    finally:
        await fetcher.close()
    assert server.served == []  # refused before any connection


async def test_a_deployment_may_allow_its_own_network(server: FileServer) -> None:
    fetcher = HttpFileFetcher(max_bytes=1024, timeout_s=2, schemes=("http",), allow_private=True)
    try:
        assert await fetcher.fetch(f"{server.url}/a.txt") == b"attachment"
    finally:
        await fetcher.close()


async def test_a_name_that_resolves_to_loopback_the_second_time_is_refused(
    server: FileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DNS rebinding: a name answers a public address to the check, then loopback to the
    # connection. The address connected to must be the address checked.
    port = int(server.url.rsplit(":", 1)[1])
    real = socket.getaddrinfo
    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1", "127.0.0.1"])

    def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host in ("files.rebind.test", b"files.rebind.test"):
            address = next(answers)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    fetcher = HttpFileFetcher(max_bytes=1024, timeout_s=1, schemes=("http",))
    try:
        assert await fetcher.fetch(f"http://files.rebind.test:{port}/a.txt") is None
    finally:
        await fetcher.close()
    assert server.served == []
