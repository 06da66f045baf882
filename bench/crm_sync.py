"""Benchmark of crm-sync against the Salesforce emulator, with the naive flow beside it.

10,000 chats over 10 tenants, half of them from visitors the org already has (as Leads),
are produced as a backlog; one crm-sync worker (`python -m crm_sync`, its own process)
writes them. Measured, in one run:

  - chats/s of the worker (first to last result event of the backlog),
  - Salesforce API calls per chat, as the emulator counts them per org,
  - the naive one-chat-at-a-time flow (query the Lead by email, create or update it,
    create the Task) on a sample of the same kind of chats: its calls per chat and chats/s,
  - a lone chat at idle: produce-to-result latency, p50 and p99,
  - the worker's peak RSS (VmHWM).

Targets: at most 0.05 API calls per chat (the naive flow spends about 3), at least 500
chats/s per worker, idle latency under 500 ms p50, peak RSS under 250 MB. Needs a broker
(`make kafka-up`); starts the emulator and the worker itself. Figures as JSON on the last
line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import requests
from _common import BOOTSTRAP, percentiles_ms, print_figures, run, topics
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faststream.kafka import KafkaBroker
from simple_salesforce.api import Salesforce, SFType
from simple_salesforce.format import format_soql

from chat_contracts.auth import TokenErrorCode, TokenErrorReply, TokenGrantedReply, TokenRequest
from chat_contracts.base import utc_now
from chat_contracts.chat import Conversation
from chat_contracts.keys import key_for_conversation

TENANTS = 10
CHATS = 10_000
NAIVE_CHATS = 300
IDLE_SAMPLES = 40
CHAT_ID_FIELDS = [
    {"object": "Task", "name": "Chat_Id__c", "external_id": True, "unique": True, "length": 64},
    {"object": "Case", "name": "Chat_Id__c", "external_id": True, "unique": True, "length": 64},
]


def start_emulator(workdir: Path) -> tuple[subprocess.Popen[str], str, str]:
    proc = subprocess.Popen(  # noqa: S603 - our own module
        [sys.executable, "-m", "sf_emulator", "--port", "0", "--tls-dir", str(workdir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    ready = json.loads(proc.stdout.readline())
    return proc, ready["url"], ready["ca_file"]


class Emulator:
    def __init__(self, url: str, ca: str) -> None:
        self.url, self.ca = url, ca
        self.admin = httpx.Client(
            base_url=url, verify=ssl.create_default_context(cafile=ca), trust_env=False, timeout=120
        )

    def org(self, name: str) -> dict[str, Any]:
        body = {"name": name, "api_limit": 10_000_000, "custom_fields": CHAT_ID_FIELDS}
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


def naive(
    emulator: Emulator, org: dict[str, Any], chats: list[Conversation]
) -> tuple[float, float]:
    """The one-chat-at-a-time flow: query, create or update the Lead, create the Task.
    Returns (API calls per chat, chats/s)."""
    session = requests.Session()
    session.verify, session.trust_env = emulator.ca, False
    sf = Salesforce(
        instance_url=org["instance_url"],
        session_id=emulator.session(org["org_id"]),
        session=session,
    )
    leads, tasks = getattr(sf, "Lead"), getattr(sf, "Task")  # noqa: B009
    assert isinstance(leads, SFType)
    assert isinstance(tasks, SFType)
    emulator.reset_usage(org["org_id"])
    t0 = time.perf_counter()
    for conv in chats:
        visitor = conv.visitor
        found = sf.query(format_soql("SELECT Id FROM Lead WHERE Email = {}", visitor.email))
        fields = {"FirstName": visitor.first_name, "LastName": visitor.last_name}
        if found["records"]:
            lead_id = found["records"][0]["Id"]
            leads.update(lead_id, fields)
        else:
            lead_id = leads.create({**fields, "Email": visitor.email, "Company": "[n/a]"})["id"]
        tasks.create({"WhoId": lead_id, "Subject": f"Chat {conv.chat_id}", "Status": "Completed"})
    elapsed = time.perf_counter() - t0
    session.close()
    return emulator.usage(org["org_id"]) / len(chats), len(chats) / elapsed


async def bench(emulator: Emulator, workdir: Path) -> dict[str, Any]:
    orgs = {f"bench{i:02d}": emulator.org(f"bench{i:02d}") for i in range(TENANTS)}
    backlog: list[Conversation] = []
    per_tenant = CHATS // TENANTS
    for tenant, org in orgs.items():
        emails = [f"v{i}.{tenant}@example.com" for i in range(per_tenant)]
        emulator.load_leads(org["org_id"], emails[::2])  # half the visitors already exist
        backlog += [chat(tenant, email, i) for i, email in enumerate(emails)]
        emulator.reset_usage(org["org_id"])
    naive_org = emulator.org("naive")
    naive_emails = [f"n{i}@example.com" for i in range(NAIVE_CHATS)]
    emulator.load_leads(naive_org["org_id"], naive_emails[::2])
    naive_calls, naive_rate = naive(
        emulator, naive_org, [chat("naive", e, i) for i, e in enumerate(naive_emails)]
    )
    print(f"naive: {naive_calls:.2f} API calls per chat, {naive_rate:.0f} chats/s")

    async with (
        topics("conversations", partitions=6) as (conversations,),
        topics("results", "retry", "dlq", "commands", "settings", "tokens") as names,
    ):
        results_topic, retry, dlq, commands, settings_topic, tokens = names
        results = ResultTimes(results_topic)
        await results.start()
        producer = AIOKafkaProducer(
            bootstrap_servers=BOOTSTRAP, acks="all", enable_idempotence=True, linger_ms=10
        )
        await producer.start()
        sends = [
            await producer.send(
                conversations, c.model_dump_json().encode(), key=key_for_conversation(c)
            )
            for c in backlog
        ]
        await asyncio.gather(*sends)
        print(f"backlog of {len(backlog)} chats produced")

        port = 18000 + os.getpid() % 1000
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": BOOTSTRAP,
            "CRM_SYNC_HTTP_HOST": "127.0.0.1",
            "CRM_SYNC_HTTP_PORT": str(port),
            "CRM_SYNC_GROUP_ID": f"bench-crm-{uuid.uuid4().hex[:6]}",
            "CRM_SYNC_SF_CA_FILE": emulator.ca,
            "CRM_SYNC_LOG_LEVEL": "WARNING",
            "CRM_SYNC_CONVERSATIONS_TOPIC": conversations,
            "CRM_SYNC_RESULTS_TOPIC": results_topic,
            "CRM_SYNC_RETRY_TOPIC": retry,
            "CRM_SYNC_DLQ_TOPIC": dlq,
            "CRM_SYNC_COMMANDS_TOPIC": commands,
            "CRM_SYNC_SETTINGS_TOPIC": settings_topic,
            "CRM_SYNC_TOKEN_TOPIC": tokens,
        }
        log = (workdir / "crm-sync.log").open("wb")
        async with token_responder(emulator, orgs, tokens):
            worker = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "crm_sync", env=env, stdout=log, stderr=log
            )
            try:
                await wait_ready(port, worker)
                ids = [c.chat_id for c in backlog]
                await results.until(ids, timeout=600)
                first, last = min(results.ok.values()), max(results.ok.values())
                rate = len(ids) / max(last - first, 1e-6)
                calls = sum(emulator.usage(o["org_id"]) for o in orgs.values())
                print(f"crm-sync: {rate:.0f} chats/s, {calls} API calls for {len(ids)} chats")

                latencies = []
                tenant = next(iter(orgs))
                for n in range(IDLE_SAMPLES):
                    await asyncio.sleep(0.25)
                    lone = chat(tenant, f"idle{n}@example.com", n)
                    t0 = time.perf_counter()
                    await producer.send_and_wait(
                        conversations,
                        lone.model_dump_json().encode(),
                        key=key_for_conversation(lone),
                    )
                    await results.until([lone.chat_id], timeout=30)
                    latencies.append(results.ok[lone.chat_id] - t0)
                p50, p99 = percentiles_ms(latencies)
                rss = peak_rss_mb(worker.pid)
            finally:
                worker.terminate()
                await asyncio.wait_for(worker.wait(), 30)
                log.close()
        await producer.stop()
        await results.stop()
    return {
        "chats": CHATS,
        "tenants": TENANTS,
        "chats_per_s": round(rate, 1),
        "api_calls": calls,
        "api_calls_per_chat": round(calls / CHATS, 4),
        "naive_api_calls_per_chat": round(naive_calls, 3),
        "naive_chats_per_s": round(naive_rate, 1),
        "idle_latency_p50_ms": p50,
        "idle_latency_p99_ms": p99,
        "peak_rss_mb": rss,
    }


async def main() -> None:
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


if __name__ == "__main__":
    run(main())
