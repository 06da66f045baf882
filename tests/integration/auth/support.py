"""Running auth in-process against the real broker and the Salesforce emulator."""

from __future__ import annotations

import asyncio
import io
import re
import ssl
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pydantic import TypeAdapter

from auth_service.adapters.ports import SalesforceOAuth
from auth_service.app import create_app
from auth_service.config import Settings
from chat_contracts.auth import TokenErrorReply, TokenGrantedReply, TokenReply, TokenRequest
from chat_contracts.keys import tenant_key
from chat_contracts.topics import AUTH_REFRESH_TOKENS, TENANT_SETTINGS
from chat_runtime.request_reply import RequestReplyClient
from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator
from tests.kafka_helpers import wait_for_topics
from tests.ports import free_port
from tests.serving import Served

CLIENT_ID = "3MVG9.auth-integration-tests.connected-app"
CLIENT_SECRET = "AUTHTESTS0000000000000000000000000000000000000000000000000000SECRET"
ADMIN_TOKEN = "integration-admin-token"
LINK_SECRET = "integration-link-secret"
WAIT_S = 20.0

_REPLY: TypeAdapter[TokenGrantedReply | TokenErrorReply] = TypeAdapter(TokenReply)


@dataclass(frozen=True)
class AuthTopics:
    requests: str
    refresh_tokens: str
    connections: str
    settings: str
    audit: str


@asynccontextmanager
async def auth_topics(bootstrap: str, request_partitions: int = 6) -> AsyncIterator[AuthTopics]:
    """Throwaway copies of auth's topics (refresh tokens and settings compacted)."""
    run = uuid.uuid4().hex[:8]
    topics = AuthTopics(
        f"test.auth-req.{run}",
        f"test.auth-rt.{run}",
        f"test.auth-conn.{run}",
        f"test.auth-settings.{run}",
        f"test.auth-audit.{run}",
    )
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(topics.requests, request_partitions, 1),
                NewTopic(topics.refresh_tokens, 3, 1, topic_configs=AUTH_REFRESH_TOKENS.configs()),
                NewTopic(topics.connections, 3, 1),
                NewTopic(topics.settings, 3, 1, topic_configs=TENANT_SETTINGS.configs()),
                NewTopic(topics.audit, 1, 1),
            ]
        )
        await wait_for_topics(admin, list(vars(topics).values()))
        yield topics
    finally:
        await admin.delete_topics(list(vars(topics).values()))
        await admin.close()


async def extra_topic(bootstrap: str, partitions: int = 1) -> str:
    name = f"test.auth-extra.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
        await wait_for_topics(admin, [name])
    finally:
        await admin.close()
    return name


async def delete_topic(bootstrap: str, name: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([name])
    finally:
        await admin.close()


def settings_for(
    bootstrap: str,
    emulator: SalesforceEmulator,
    topics: AuthTopics,
    *,
    keys: dict[str, str],
    active_key: str = "",
    group: str,
    **overrides: Any,
) -> Settings:
    port = free_port()
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": bootstrap,
        "group_id": group,
        "http_host": "127.0.0.1",
        "http_port": port,
        "public_url": f"http://127.0.0.1:{port}",
        "sf_login_url": emulator.url,
        "sf_sandbox_login_url": f"{emulator.url}/sandbox",
        "sf_ca_file": emulator.ca_file,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "admin_token": ADMIN_TOKEN,
        "link_secret": LINK_SECRET,
        "encryption_keys": keys,
        "encryption_key_id": active_key,
        "token_requests_topic": topics.requests,
        "refresh_tokens_topic": topics.refresh_tokens,
        "connections_topic": topics.connections,
        "settings_topic": topics.settings,
        "audit_topic": topics.audit,
        "max_in_flight": 64,
        "refresh_backoff_s": 0.05,
        "refresh_backoff_max_s": 0.2,
        "shutdown_timeout_s": 2.0,
        **overrides,
    }
    return Settings(**values)


class RunningAuth(Served):
    """One auth app served by uvicorn in this process, logging into `logs`."""

    def __init__(
        self, settings: Settings, logs: io.StringIO, salesforce: SalesforceOAuth | None = None
    ) -> None:
        super().__init__(lambda: create_app(settings, salesforce=salesforce), settings, logs)
        self.settings = settings
        self.salesforce = salesforce

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=WAIT_S)

    async def metric(self, name: str, **labels: str) -> float:
        async with self.http() as client:
            text = (await client.get("/metrics")).text
        label_text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        pattern = re.escape(f"{name}{{{label_text}}}" if labels else name) + r" (\S+)"
        match = re.search(pattern, text)
        return float(match[1]) if match else 0.0


def emulator_client(emulator: SalesforceEmulator) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        verify=ssl.create_default_context(cafile=emulator.ca_file), trust_env=False, timeout=WAIT_S
    )


@dataclass
class Connected:
    page: httpx.Response
    callback_url: str
    flow_cookie: str


async def connect_tenant(
    auth: RunningAuth,
    emulator: SalesforceEmulator,
    org: EmulatorOrg,
    tenant: str,
) -> Connected:
    """What an admin does: open the page, click Connect, log in and allow, land back."""
    async with auth.http() as web, emulator_client(emulator) as sf:
        link = await web.post(
            "/admin/connect-link",
            params={"tenant": tenant},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        params = parse_qs(urlsplit(link.json()["url"]).query)
        form = {k: v[0] for k, v in params.items()}
        action = "connect_sandbox" if org.sandbox else "connect_production"
        start = await web.post("/connect", data={**form, "action": action})
        assert start.status_code == 303, start.text
        cookie = start.cookies["auth_oauth_flow"]
        login = await sf.post(
            start.headers["location"],
            data={"username": org.username, "password": org.password, "action": "allow"},
        )
        assert login.status_code == 302, login.text
        callback_url = login.headers["location"]
        path = urlsplit(callback_url)
        back = await web.get(
            f"{path.path}?{path.query}", headers={"Cookie": f"auth_oauth_flow={cookie}"}
        )
        assert back.status_code == 303, back.text
        page = await web.get(back.headers["location"])
        return Connected(page, callback_url, cookie)


async def ask(
    client: RequestReplyClient, topic: str, tenant: str, **fields: Any
) -> TokenGrantedReply | TokenErrorReply:
    request = TokenRequest(tenant_id=tenant, **fields)
    reply = await client.request(topic, request, key=tenant_key(tenant), timeout=WAIT_S)
    return reply.parse(_REPLY)


def granted(reply: TokenGrantedReply | TokenErrorReply) -> TokenGrantedReply:
    assert isinstance(reply, TokenGrantedReply), reply
    return reply


def refused(reply: TokenGrantedReply | TokenErrorReply, code: str) -> TokenErrorReply:
    assert isinstance(reply, TokenErrorReply), reply
    assert reply.code == code, reply
    return reply


async def read_all(bootstrap: str, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of the topic, from the beginning to its current end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            (described,) = await admin.describe_topics([topic])
        finally:
            await admin.close()
        tps = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


async def eventually(check: Any, timeout: float = WAIT_S) -> Any:  # noqa: ASYNC109
    """Await `check()` until it returns something truthy."""
    async with asyncio.timeout(timeout):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(0.1)
