"""Every service against a listener that demands SASL: each Kafka client each service
builds (FastStream's and the hand-built producers, consumers, admin and request/reply
clients) must authenticate, or the service never gets ready.

The local broker has a SASL_PLAINTEXT listener with one PLAIN user (`devtools/kafka`);
`make test` names it in `KAFKA_SASL_BOOTSTRAP_SERVERS`. Production uses SCRAM over TLS
(`SASL_SSL`), which takes the same settings plus a CA file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from chat_bot_client.client import BotActionsClient
from chat_contracts.chat import Conversation
from chat_runtime.request_reply import RequestReplyClient
from ingest_service.domain.signature import sign
from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator
from tests.integration.salesforce.fake_auth import FakeAuth
from tests.kafka_helpers import temp_topic
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
USER = os.environ.get("KAFKA_SASL_USER", "chat-local")
PASSWORD = os.environ.get("KAFKA_SASL_SECRET", "chat-local-only")
WEBHOOK_SECRET = "sasl-test-webhook-secret"


@pytest.fixture(scope="module")
def sasl_bootstrap() -> str:
    bootstrap = os.environ.get("KAFKA_SASL_BOOTSTRAP_SERVERS")
    if not bootstrap:
        pytest.skip("no SASL listener named in KAFKA_SASL_BOOTSTRAP_SERVERS (`make test` sets it)")
    return bootstrap


def _sasl_env(bootstrap: str) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "KAFKA_SASL_MECHANISM": "PLAIN",
        "KAFKA_SASL_USERNAME": USER,
        "KAFKA_SASL_PASSWORD": PASSWORD,
    }


@contextmanager
def _service(module: str, prefix: str, env: dict[str, str]) -> Iterator[int]:
    """`python -m module` until ready (its HTTP port); its output must not hold the
    password, and a SIGTERM must stop it cleanly."""
    port = free_port()
    full = {
        **os.environ,
        **env,
        f"{prefix}HTTP_HOST": "127.0.0.1",
        f"{prefix}HTTP_PORT": str(port),
        f"{prefix}SHUTDOWN_TIMEOUT_S": "5",
    }
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen(  # noqa: S603 - our own service
            [sys.executable, "-m", module], env=full, cwd=ROOT, stdout=output, stderr=output
        )
        try:
            _wait_ready(proc, port, output)
            yield port
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=30)
            output.seek(0)
            logged = output.read().decode(errors="replace")
        assert PASSWORD not in logged
        # uvicorn ends a graceful shutdown by re-raising the signal it caught
        assert code in (0, -signal.SIGTERM), logged[-3000:]
        assert "Finished server process" in logged


def _wait_ready(proc: subprocess.Popen[bytes], port: int, output: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output.seek(0)
            raise AssertionError(output.read().decode(errors="replace")[-3000:])
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("not ready after 60 s")


@pytest.fixture
async def topics(kafka_bootstrap: str) -> AsyncIterator[Callable[[str], str]]:
    """Throwaway topics (made on the plain listener of the same broker) by role."""
    made: dict[str, str] = {}
    async with AsyncExitStack() as stack:
        roles = [
            "raw", "conversations", "dlq", "settings", "retry", "results", "commands",
            "tokens", "refresh", "connections", "bot",
        ]  # fmt: skip
        for role in roles:
            made[role] = await stack.enter_async_context(
                temp_topic(kafka_bootstrap, f"sasl-{role}", partitions=2)
            )
        yield made.__getitem__


async def test_the_listener_refuses_clients_without_the_credentials(sasl_bootstrap: str) -> None:
    for options in (
        {},
        {
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "PLAIN",
            "sasl_plain_username": USER,
            "sasl_plain_password": "not-the-password",
        },
    ):
        admin = AIOKafkaAdminClient(
            bootstrap_servers=sasl_bootstrap, request_timeout_ms=3000, **options
        )
        with pytest.raises(Exception):  # noqa: B017, PT011 - whichever way it is refused
            await admin.start()
        await admin.close()


def _group() -> str:
    return f"sasl-{uuid.uuid4().hex[:8]}"


async def test_ingest_takes_a_webhook_and_normalises_it_over_sasl(
    sasl_bootstrap: str, kafka_bootstrap: str, topics: Callable[[str], str]
) -> None:
    env = {
        **_sasl_env(sasl_bootstrap),
        "INGEST_WEBHOOK_SECRETS": json.dumps({"10000": WEBHOOK_SECRET}),
        "INGEST_RAW_TOPIC": topics("raw"),
        "INGEST_CONVERSATIONS_TOPIC": topics("conversations"),
        "INGEST_DLQ_TOPIC": topics("dlq"),
        "INGEST_TENANT_SETTINGS_TOPIC": topics("settings"),
        "INGEST_GROUP_ID": _group(),
    }
    body = json.dumps(
        {
            "event": "chat.ended",
            "event_id": f"evt-{uuid.uuid4().hex[:8]}",
            "site_id": "10000",
            "occurred_at": "2024-05-01T12:00:00Z",
            "chat": {"id": "c-sasl", "visitor": {"name": "Jo Bloggs", "email": "jo@example.com"}},
        }
    ).encode()
    stamp = str(int(time.time())).encode()
    headers = {"X-Webhook-Timestamp": stamp.decode()}
    headers["X-Webhook-Signature"] = sign(WEBHOOK_SECRET.encode(), stamp, body).decode()
    with _service("ingest_service", "INGEST_", env) as port:
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                f"http://127.0.0.1:{port}/webhooks/comm100", content=body, headers=headers
            )
        assert answer.status_code == 202, answer.text
        consumer = AIOKafkaConsumer(
            topics("conversations"),
            bootstrap_servers=kafka_bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            record = await consumer.getone()
        finally:
            await consumer.stop()
    conversation = Conversation.model_validate_json(record.value or b"")
    assert (conversation.chat_id, conversation.visitor.email) == ("c-sasl", "jo@example.com")


async def test_bot_actions_answers_a_find_over_sasl(
    sasl_bootstrap: str,
    kafka_bootstrap: str,
    topics: Callable[[str], str],
    sf_emulator: SalesforceEmulator,
    sf_org_factory: Callable[..., EmulatorOrg],
) -> None:
    org = sf_org_factory(
        name="SASL", records={"Lead": [{"LastName": "A", "Company": "B", "Email": "a@b.co"}]}
    )
    env = {
        **_sasl_env(sasl_bootstrap),
        "BOT_ACTIONS_REQUEST_TOPIC": topics("bot"),
        "BOT_ACTIONS_TOKEN_TOPIC": topics("tokens"),
        "BOT_ACTIONS_GROUP_ID": _group(),
        "BOT_ACTIONS_SALESFORCE_CA_FILE": sf_emulator.ca_file,
    }
    async with (
        FakeAuth(kafka_bootstrap, topics("tokens"), sf_emulator) as auth,
        RequestReplyClient(kafka_bootstrap, name="sasl-bot") as rr,
    ):
        auth.connect("10000", org)
        with _service("bot_actions", "BOT_ACTIONS_", env):
            bot = BotActionsClient(rr, topic=topics("bot"))
            found = await bot.find_record("10000", "Lead", "Email", "a@b.co", timeout=20)
    assert found.status == "found"


@pytest.mark.parametrize("service", ["auth", "crm-sync"])
async def test_auth_and_crm_sync_get_ready_over_sasl(
    service: str, sasl_bootstrap: str, topics: Callable[[str], str]
) -> None:
    env = _sasl_env(sasl_bootstrap)
    if service == "auth":
        env |= {
            "AUTH_ENCRYPTION_KEYS": json.dumps({"k1": "A" * 43 + "="}),
            "AUTH_ENCRYPTION_KEY_ID": "k1",
            "AUTH_CLIENT_ID": "sasl-test-client",
            "AUTH_CLIENT_SECRET": "sasl-test-client-secret",
            "AUTH_ADMIN_TOKEN": "sasl-test-admin-token",
            "AUTH_LINK_SECRET": "sasl-test-link-secret",
            "AUTH_TOKEN_REQUESTS_TOPIC": topics("tokens"),
            "AUTH_REFRESH_TOKENS_TOPIC": topics("refresh"),
            "AUTH_CONNECTIONS_TOPIC": topics("connections"),
            "AUTH_SETTINGS_TOPIC": topics("settings"),
            "AUTH_GROUP_ID": _group(),
        }
        module, prefix = "auth_service", "AUTH_"
    else:
        env |= {
            "CRM_SYNC_CONVERSATIONS_TOPIC": topics("conversations"),
            "CRM_SYNC_RETRY_TOPIC": topics("retry"),
            "CRM_SYNC_RESULTS_TOPIC": topics("results"),
            "CRM_SYNC_DLQ_TOPIC": topics("dlq"),
            "CRM_SYNC_COMMANDS_TOPIC": topics("commands"),
            "CRM_SYNC_SETTINGS_TOPIC": topics("settings"),
            "CRM_SYNC_TOKEN_TOPIC": topics("tokens"),
            "CRM_SYNC_GROUP_ID": _group(),
        }
        module, prefix = "crm_sync", "CRM_SYNC_"
    with _service(module, prefix, env) as port:
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200
