"""One auth per test module, on throwaway topics, against the session's emulator."""

from __future__ import annotations

import base64
import io
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from chat_runtime.logging import configure_logging
from chat_runtime.request_reply import RequestReplyClient
from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator
from tests.integration.auth.support import (
    CLIENT_ID,
    CLIENT_SECRET,
    AuthTopics,
    RunningAuth,
    auth_topics,
    settings_for,
)


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture(scope="module")
async def topics(kafka_bootstrap: str) -> AsyncIterator[AuthTopics]:
    async with auth_topics(kafka_bootstrap) as names:
        yield names


@pytest.fixture(scope="module")
def logs() -> Iterator[io.StringIO]:
    """Every log line of the module's auth instances (scanned for secrets)."""
    sink = io.StringIO()
    yield sink
    configure_logging("tests")  # back to stdout for the modules after this one


@pytest.fixture(scope="module")
def keys() -> dict[str, str]:
    return {"k1": new_key()}


@pytest.fixture(scope="module")
async def auth(
    kafka_bootstrap: str,
    sf_emulator: SalesforceEmulator,
    topics: AuthTopics,
    keys: dict[str, str],
    logs: io.StringIO,
) -> AsyncIterator[RunningAuth]:
    settings = settings_for(
        kafka_bootstrap, sf_emulator, topics, keys=keys, group=f"auth-{uuid.uuid4().hex[:8]}"
    )
    running = await RunningAuth(settings, logs).start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture(scope="module")
async def rr(kafka_bootstrap: str) -> AsyncIterator[RequestReplyClient]:
    async with RequestReplyClient(kafka_bootstrap, name="auth-tests") as client:
        yield client


@pytest.fixture
def new_org(sf_emulator: SalesforceEmulator) -> Callable[..., EmulatorOrg]:
    """A fresh org using auth's connected app (as every customer org does)."""

    def make(sandbox: bool = False) -> EmulatorOrg:
        return sf_emulator.create_org(
            name="Sandbox Org" if sandbox else "Acme",
            sandbox=sandbox,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
        )

    return make


@pytest.fixture
def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"
