"""What the crm-sync benches share: the emulator started as a process, its admin API,
auth's part (a token responder), chats, result times, readiness, peak RSS."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import ssl
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from _common import BOOTSTRAP, print_figures, start_emulator, topics
from aiokafka import AIOKafkaConsumer, TopicPartition
from faststream.kafka import KafkaBroker

from chat_contracts.auth import TokenErrorCode, TokenErrorReply, TokenGrantedReply, TokenRequest
from chat_contracts.base import utc_now
from chat_contracts.chat import Conversation

CHAT_ID_FIELDS = [
    {"object": "Task", "name": "Chat_Id__c", "external_id": True, "unique": True, "length": 64},
    {"object": "Case", "name": "Chat_Id__c", "external_id": True, "unique": True, "length": 64},
]


class Emulator:
    def __init__(self, url: str, ca: str) -> None:
        self.url, self.ca = url, ca
        self.admin = httpx.Client(
            base_url=url, verify=ssl.create_default_context(cafile=ca), trust_env=False, timeout=120
        )

    def org(self, name: str, extra_fields: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        fields = CHAT_ID_FIELDS + (extra_fields or [])
        body = {"name": name, "api_limit": 10_000_000, "custom_fields": fields}
        return dict(self.admin.post("/__admin/orgs", json=body).json())

    def session(self, org_id: str) -> str:
        return str(self.admin.post(f"/__admin/orgs/{org_id}/sessions").json()["access_token"])

    def usage(self, org_id: str) -> int:
        return int(self.admin.get(f"/__admin/orgs/{org_id}/usage").json()["total"])

    def reset_usage(self, org_id: str) -> None:
        self.admin.delete(f"/__admin/orgs/{org_id}/usage")

    def load_leads(self, org_id: str, emails: list[str]) -> None:
        rows = [{"LastName": "Known", "Company": "Known Co", "Email": e} for e in emails]
        path = f"/__admin/orgs/{org_id}/sobjects/Lead/bulk-load"
        self.admin.post(path, json={"records": rows}).raise_for_status()


def chat(tenant: str, email: str, n: int) -> Conversation:
    return Conversation.model_validate(
        {
            "tenant_id": tenant,
            "kind": "chat",
            "event_id": f"evt-{tenant}-{n}",
            "chat_id": f"c-{uuid.uuid4().hex[:12]}",
            "visitor": {"first_name": "Jo", "last_name": f"Visitor {n}", "email": email},
            "agent": {"email": "agent@bench.example", "name": "Bench Agent"},
            "started_at": "2024-05-01T11:55:00Z",
            "ended_at": "2024-05-01T12:00:00Z",
            "transcript": "[11:55] Jo: Hello, I would like a quote.\n[11:56] Agent: Sure.",
        }
    )


@contextlib.asynccontextmanager
async def token_responder(
    emulator: Emulator, orgs: dict[str, dict[str, Any]], topic: str
) -> AsyncIterator[None]:
    """Auth's part: answers token requests with sessions minted by the emulator."""
    tokens: dict[str, str] = {}
    broker = KafkaBroker(BOOTSTRAP, logger=None)

    @broker.subscriber(topic, group_id=f"bench-auth-{uuid.uuid4().hex[:6]}")
    async def answer(request: TokenRequest) -> TokenGrantedReply | TokenErrorReply:
        org = orgs.get(request.tenant_id)
        if org is None:
            return TokenErrorReply(
                tenant_id=request.tenant_id, code=TokenErrorCode.NOT_CONNECTED, message="no org"
            )
        if request.tenant_id not in tokens or request.rejected_token_fingerprint:
            tokens[request.tenant_id] = await asyncio.to_thread(emulator.session, org["org_id"])
        return TokenGrantedReply(
            tenant_id=request.tenant_id,
            access_token=tokens[request.tenant_id],
            instance_url=org["instance_url"],
            org_id=org["org_id"],
            user_id=org["user_id"],
            issued_at=utc_now(),
        )

    async with broker:
        await broker.start()
        yield


class ResultTimes:
    """When each chat's first ok result arrived."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.ok: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, enable_auto_commit=False)
        await consumer.start()
        consumer.assign([TopicPartition(self.topic, 0)])
        await consumer.seek_to_beginning(TopicPartition(self.topic, 0))
        self._task = asyncio.create_task(self._read(consumer))

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        try:
            while True:
                for records in (await consumer.getmany(timeout_ms=100)).values():
                    now = time.perf_counter()
                    for record in records:
                        result = json.loads(record.value)
                        if result["status"] == "ok":
                            self.ok.setdefault(result["chat_id"], now)
        finally:
            await consumer.stop()

    async def until(self, chat_ids: list[str], timeout: float) -> None:  # noqa: ASYNC109
        deadline = time.perf_counter() + timeout
        while any(c not in self.ok for c in chat_ids):
            if time.perf_counter() > deadline:
                missing = sum(1 for c in chat_ids if c not in self.ok)
                raise TimeoutError(f"{missing} chats without a result")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a process: its peak resident set size."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def wait_ready(port: int, worker: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            if worker.returncode is not None:
                raise RuntimeError("crm-sync exited during start")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise TimeoutError("crm-sync never became ready")


ROLES = ("RESULTS", "RETRY", "DLQ", "COMMANDS", "SETTINGS", "TOKEN")


@contextlib.asynccontextmanager
async def crm_topics() -> AsyncIterator[dict[str, str]]:
    """Fresh topics for a crm-sync worker, by role: CONVERSATIONS (six partitions), then
    RESULTS, RETRY, DLQ, COMMANDS, SETTINGS, TOKEN (one each)."""
    async with (
        topics("conversations", partitions=6) as (conversations,),
        topics(*(role.lower() for role in ROLES)) as names,
    ):
        yield {"CONVERSATIONS": conversations, **dict(zip(ROLES, names, strict=True))}


@contextlib.asynccontextmanager
async def crm_worker(
    emulator: Emulator,
    orgs: dict[str, dict[str, Any]],
    workdir: Path,
    group: str,
    names: dict[str, str],
    log_level: str = "WARNING",
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python -m crm_sync` on `names` (from `crm_topics`), with auth's part answering its
    token requests; yields the process once it is ready, stops it after."""
    port = 18000 + os.getpid() % 1000
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": BOOTSTRAP,
        "CRM_SYNC_HTTP_HOST": "127.0.0.1",
        "CRM_SYNC_HTTP_PORT": str(port),
        "CRM_SYNC_GROUP_ID": f"{group}-{uuid.uuid4().hex[:6]}",
        "CRM_SYNC_SF_CA_FILE": emulator.ca,
        "CRM_SYNC_LOG_LEVEL": log_level,
        # A fresh installation, set up as the crm-sync README says: Chat_Id__c unique, no
        # chats keyed the pre-tenant way to look for.
        "CRM_SYNC_LEGACY_CHAT_KEYS": "false",
        **{f"CRM_SYNC_{role}_TOPIC": name for role, name in names.items()},
    }
    with (workdir / "crm-sync.log").open("wb") as log:
        async with token_responder(emulator, orgs, names["TOKEN"]):
            worker = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "crm_sync", env=env, stdout=log, stderr=log
            )
            try:
                await wait_ready(port, worker)
                yield worker
            finally:
                worker.terminate()
                await asyncio.wait_for(worker.wait(), 30)


async def with_emulator(bench: Callable[[Emulator, Path], Awaitable[dict[str, Any]]]) -> None:
    """Start the emulator, run `bench` against it, stop it, print the figures."""
    with tempfile.TemporaryDirectory() as tmp:
        proc, url, ca = start_emulator(Path(tmp) / "tls")
        emulator = Emulator(url, ca)
        try:
            figures = await bench(emulator, Path(tmp))
        finally:
            # Closed first, so the emulator's graceful shutdown has no idle keep-alives.
            emulator.admin.close()
            proc.terminate()
            proc.wait(timeout=10)
    print_figures(figures)
