"""What crm-sync's integration and e2e tests share: a stand-in for auth that mints real
emulator sessions, a reader of the results topic, a tiny file server, throwaway topics."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker

from chat_contracts import topics
from chat_contracts.auth import (
    TokenErrorCode,
    TokenErrorReply,
    TokenGrantedReply,
    TokenRequest,
    token_fingerprint,
)
from chat_contracts.base import utc_now
from chat_contracts.chat import Conversation
from chat_contracts.keys import key_for_conversation, tenant_key
from chat_contracts.settings import TenantSettings
from chat_contracts.sync import SyncResult
from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator
from tests.ports import free_port

CHAT_ID_FIELDS = [
    {"object": "Task", "name": "Chat_Id__c", "external_id": True, "unique": True, "length": 64},
    {"object": "Case", "name": "Chat_Id__c", "external_id": True, "unique": True, "length": 64},
]
ROLES = (
    "conversations",
    "retry",
    "results",
    "dlq",
    "commands",
    "settings",
    "tokens",
    "chat_dlq",
    "raw",
    "audit",
)
REGISTRY = {
    "conversations": topics.CHAT_CONVERSATIONS,
    "retry": topics.CRM_SYNC_RETRY,
    "results": topics.CRM_SYNC_RESULTS,
    "dlq": topics.CRM_DLQ,
    "commands": topics.CRM_COMMANDS,
    "settings": topics.TENANT_SETTINGS,
    "tokens": topics.AUTH_TOKEN_REQUESTS,
    "chat_dlq": topics.CHAT_DLQ,
    "raw": topics.CHAT_RAW,
    "audit": topics.AUDIT_EVENTS,
}
"""The registry's topic of each role: test topics get its size limits."""


@dataclass(frozen=True)
class Topics:
    """Throwaway topics standing in for the registry's."""

    conversations: str
    retry: str
    results: str
    dlq: str
    commands: str
    settings: str
    tokens: str
    chat_dlq: str
    raw: str
    audit: str

    def env(self) -> dict[str, str]:
        """The crm-sync settings that point at these topics."""
        values = {f"{role}_topic": getattr(self, role) for role in ROLES if role != "tokens"}
        return {**values, "token_topic": self.tokens}


@contextlib.asynccontextmanager
async def temp_topics(bootstrap: str, partitions: int = 1) -> AsyncIterator[Topics]:
    """One fresh topic per role (conversations and retry with `partitions`)."""
    run = uuid.uuid4().hex[:8]
    names = {role: f"test.crm.{role.replace('_', '-')}.{run}" for role in ROLES}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(
                    name,
                    partitions if role in ("conversations", "retry") else 1,
                    1,
                    topic_configs=dict(REGISTRY[role].extra_configs),
                )
                for role, name in names.items()
            ]
        )
        yield Topics(**names)
    finally:
        await admin.delete_topics(list(names.values()))
        await admin.close()


class TokenResponder:
    """Answers `TokenRequest`s as auth would, with sessions minted by the emulator's admin
    API. A tenant marked revoked gets `revoked`; one never added gets `not_connected`."""

    def __init__(self, emulator: SalesforceEmulator) -> None:
        self.emulator = emulator
        self.orgs: dict[str, EmulatorOrg] = {}
        self.revoked: set[str] = set()
        self.tokens: dict[str, str] = {}
        self.requests: list[TokenRequest] = []
        self.refreshes = 0

    def add(self, tenant_id: str, org: EmulatorOrg) -> None:
        self.orgs[tenant_id] = org

    def answer(self, request: TokenRequest) -> TokenGrantedReply | TokenErrorReply:
        self.requests.append(request)
        tenant = request.tenant_id
        if tenant in self.revoked:
            return TokenErrorReply(
                tenant_id=tenant, code=TokenErrorCode.REVOKED, message="refresh token revoked"
            )
        org = self.orgs.get(tenant)
        if org is None:
            return TokenErrorReply(
                tenant_id=tenant, code=TokenErrorCode.NOT_CONNECTED, message="never connected"
            )
        token = self.tokens.get(tenant)
        rejected = request.rejected_token_fingerprint
        if token is not None and rejected is not None and token_fingerprint(token) == rejected:
            token = None
            self.refreshes += 1
        if token is None or request.force_refresh:
            token = self.emulator.new_session(org.org_id)
            self.tokens[tenant] = token
        return TokenGrantedReply(
            tenant_id=tenant,
            access_token=token,
            instance_url=org.instance_url,
            org_id=org.org_id,
            user_id=org.user_id,
            issued_at=utc_now(),
        )

    @contextlib.asynccontextmanager
    async def serving(self, bootstrap: str, topic: str) -> AsyncIterator[None]:
        broker = KafkaBroker(bootstrap)

        @broker.subscriber(
            topic, group_id=f"token-responder-{uuid.uuid4().hex[:6]}", auto_offset_reset="earliest"
        )
        async def reply(body: TokenRequest) -> TokenGrantedReply | TokenErrorReply:
            return await asyncio.to_thread(self.answer, body)

        async with broker:
            await broker.start()
            yield


class Results:
    """Reads a results topic from its start, in the background."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap, self.topic = bootstrap, topic
        self.by_chat: dict[tuple[str, str], list[SyncResult]] = defaultdict(list)
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        consumer.assign([TopicPartition(self.topic, 0)])
        await consumer.seek_to_beginning(TopicPartition(self.topic, 0))
        self._task = asyncio.create_task(self._read(consumer))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=200)
                async with self._changed:
                    for records in batches.values():
                        for record in records:
                            result = SyncResult.model_validate_json(record.value)
                            self.by_chat[(result.tenant_id, result.chat_id)].append(result)
                    self._changed.notify_all()
        finally:
            await consumer.stop()

    async def first(self) -> None:
        """Return once any result has been read."""
        async with self._changed:
            await self._changed.wait_for(lambda: any(self.by_chat.values()))

    async def wait(
        self,
        tenant: str,
        chat_ids: Iterable[str],
        *,
        status: str | None = "ok",
        count: int = 1,
        timeout: float = 30.0,  # noqa: ASYNC109
    ) -> list[SyncResult]:
        """The latest result of each chat once each has `count` results (the last one with
        `status`, when given)."""
        wanted = list(chat_ids)

        def ready() -> bool:
            for chat in wanted:
                seen = self.by_chat.get((tenant, chat), [])
                if len(seen) < count or (status is not None and seen[-1].status != status):
                    return False
            return True

        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(ready)
        return [self.by_chat[(tenant, c)][-1] for c in wanted]


class Producer:
    """Sends conversations and settings as ingest and auth's settings page would."""

    def __init__(self, bootstrap: str) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            max_request_size=topics.LARGE_MESSAGE_BYTES,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def conversations(
        self, topic: str, conversations: Iterable[Conversation], headers: Any = ()
    ) -> None:
        deliveries = [
            await self._producer.send(
                topic,
                c.model_dump_json().encode(),
                key=key_for_conversation(c),
                headers=list(headers),
            )
            for c in conversations
        ]
        await asyncio.gather(*deliveries)

    async def raw(self, topic: str, key: bytes, value: bytes | None, headers: Any = ()) -> None:
        await self._producer.send_and_wait(topic, value, key=key, headers=list(headers))

    async def settings(self, topic: str, settings: TenantSettings) -> None:
        await self.raw(topic, tenant_key(settings.tenant_id), settings.model_dump_json().encode())


class FileServer:
    """Serves files over plain HTTP on loopback (attachments of test chats); counts what it
    served and how many requests it had open at once. `files` may be added to."""

    def __init__(self, files: dict[str, bytes], delay_s: float = 0.0) -> None:
        self.files = files
        self.served: list[str] = []
        self.open = 0
        self.peak = 0
        lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with lock:
                    server.open += 1
                    server.peak = max(server.peak, server.open)
                    server.served.append(self.path)
                try:
                    time.sleep(delay_s)
                    data = server.files.get(self.path)
                    self.send_response(200 if data is not None else 404)
                    self.end_headers()
                    if data is not None:
                        self.wfile.write(data)
                finally:
                    with lock:
                        server.open -= 1

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def chat(tenant: str, **overrides: Any) -> Conversation:
    """An ended chat of `tenant` from a fresh visitor, changed by `overrides` (nested dicts
    merge)."""
    n = uuid.uuid4().hex[:10]
    data: dict[str, Any] = {
        "tenant_id": tenant,
        "kind": "chat",
        "event_id": f"evt-{n}",
        "chat_id": f"c-{n}",
        "visitor": {
            "first_name": "Jo",
            "last_name": f"Bloggs {n}",  # unique: namesakes are a duplicate rule's business
            "email": f"jo.{n}@example.com",
        },
        "agent": {"email": "agent@acme.example", "name": "Alex Agent"},
        "started_at": "2024-05-01T11:55:00Z",
        "ended_at": "2024-05-01T12:00:00Z",
        "transcript": "[11:55] Jo: Hi, a quote?\n[11:56] Alex Agent: Sure.",
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return Conversation.model_validate(data)


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    at_least: int = 1,
    timeout: float = 20.0,  # noqa: ASYNC109
) -> list[bytes]:
    """The values of a one-partition topic from its start, once it holds `at_least`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    partition = TopicPartition(topic, 0)
    consumer.assign([partition])
    await consumer.seek_to_beginning(partition)
    values: list[bytes] = []
    try:
        async with asyncio.timeout(timeout):
            while len(values) < at_least:
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    values += [r.value for r in records]
    finally:
        await consumer.stop()
    return values


class CrmProcess:
    """`python -m crm_sync` as its own process, as `make run` and Kubernetes run it."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        full = {
            **os.environ,
            **env,
            "CRM_SYNC_HTTP_HOST": "127.0.0.1",
            "CRM_SYNC_HTTP_PORT": str(self.port),
        }
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "crm_sync"], env=full, stdout=self._log, stderr=self._log
        )

    async def ready(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Wait until `/readyz` answers 200 (settings read, broker reachable)."""
        async with asyncio.timeout(timeout), httpx.AsyncClient() as client:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"crm-sync exited: see {self.log_path}")
                with contextlib.suppress(httpx.HTTPError):
                    if (
                        await client.get(f"http://127.0.0.1:{self.port}/readyz")
                    ).status_code == 200:
                        return
                await asyncio.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL: no goodbye, no commit, no LeaveGroup."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._log.close()

    def stop(self) -> None:
        """SIGTERM, as Kubernetes stops a pod: finish the batch in hand, commit, leave."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
                return
        self._log.close()


def crm_env(
    bootstrap: str, topics: Topics, ca_file: str, group_id: str, **extra: str
) -> dict[str, str]:
    """The environment of a crm-sync process on these topics (quick retries, quiet logs)."""
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "CRM_SYNC_GROUP_ID": group_id,
        "CRM_SYNC_SF_CA_FILE": ca_file,
        "CRM_SYNC_LOG_LEVEL": "WARNING",
        "CRM_SYNC_PARK_BACKOFF_S": "1",
        "CRM_SYNC_PARK_BACKOFF_MAX_S": "2",
        "CRM_SYNC_SHUTDOWN_TIMEOUT_S": "10",
        **{f"CRM_SYNC_{k.upper()}": v for k, v in topics.env().items()},
    }
    return {**env, **extra}


async def end_offset(bootstrap: str, topic: str) -> int:
    """Records ever written to a one-partition topic."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        return int((await consumer.end_offsets([partition]))[partition])
    finally:
        await consumer.stop()


@dataclass
class Backlog:
    """Chats of several tenants, half of them from visitors Salesforce already has."""

    tenants: dict[str, EmulatorOrg]
    chats: list[Conversation]
    visitors: dict[str, set[str]]

    @classmethod
    def build(
        cls, emulator: SalesforceEmulator, responder: TokenResponder, *, tenants: int, chats: int
    ) -> Backlog:
        orgs: dict[str, EmulatorOrg] = {}
        conversations: list[Conversation] = []
        visitors: dict[str, set[str]] = {}
        per_tenant = chats // tenants
        for _ in range(tenants):
            tenant = f"t{uuid.uuid4().hex[:10]}"
            org = emulator.create_org(name=tenant, custom_fields=CHAT_ID_FIELDS)
            responder.add(tenant, org)
            orgs[tenant] = org
            emails = [f"v{i}.{tenant}@example.com" for i in range(per_tenant // 2)]
            known = [{"LastName": "Known", "Company": "K", "Email": e} for e in emails[::2]]
            emulator.call(
                "POST",
                f"/__admin/orgs/{org.org_id}/sobjects/Lead/bulk-load",
                json={"records": known},
            )
            visitors[tenant] = set(emails)
            conversations += [chat(tenant, visitor={"email": e}) for e in emails * 2]
        return cls(orgs, conversations, visitors)

    def check(self, emulator: SalesforceEmulator) -> None:
        """Every chat exactly one Task, every visitor exactly one Lead."""
        for tenant, org in self.tenants.items():
            sf = emulator.client(org, token=emulator.new_session(org.org_id))
            tasks = [
                r["Chat_Id__c"] for r in sf.query_all("SELECT Chat_Id__c FROM Task")["records"]
            ]
            emails = [r["Email"] for r in sf.query_all("SELECT Email FROM Lead")["records"]]
            expected = {f"chat:{tenant}:{c.chat_id}" for c in self.chats if c.tenant_id == tenant}
            assert sorted(tasks) == sorted(expected), f"tenant {tenant}: Tasks differ"
            assert sorted(emails) == sorted(self.visitors[tenant]), f"tenant {tenant}: Leads differ"
