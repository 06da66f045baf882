"""The console served in-process on throwaway topics, and what tests feed it."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from console_service.app import create_app
from console_service.config import Settings

from chat_contracts.base import Envelope
from chat_contracts.keys import tenant_key
from chat_contracts.sync import (
    ActivityRecord,
    PersonRecord,
    SourcePosition,
    SyncError,
    SyncResult,
)
from chat_runtime.links import sign_link
from tests.kafka_helpers import temp_topic
from tests.ports import free_port
from tests.serving import Served

ADMIN_TOKEN = "console-test-admin-token"
LINK_SECRET = "console-test-link-secret"
WAIT_S = 30.0
LEAD, TASK = "00Q000000000001AAA", "00T000000000001AAA"


@dataclass(frozen=True)
class ConsoleTopics:
    results: str
    crm_dlq: str
    chat_dlq: str
    connections: str
    audit: str
    commands: str

    def settings(self) -> dict[str, str]:
        return {
            "results_topic": self.results,
            "crm_dlq_topic": self.crm_dlq,
            "chat_dlq_topic": self.chat_dlq,
            "connections_topic": self.connections,
            "audit_topic": self.audit,
            "commands_topic": self.commands,
        }


@asynccontextmanager
async def console_topics(bootstrap: str) -> AsyncIterator[ConsoleTopics]:
    names = ("results", "crm_dlq", "chat_dlq", "connections", "audit", "commands")
    async with (
        temp_topic(bootstrap, "con-results", partitions=2) as results,
        temp_topic(bootstrap, "con-crm-dlq") as crm_dlq,
        temp_topic(bootstrap, "con-chat-dlq") as chat_dlq,
        temp_topic(bootstrap, "con-conn") as connections,
        temp_topic(bootstrap, "con-audit") as audit,
        temp_topic(bootstrap, "con-commands") as commands,
    ):
        made = dict(
            zip(names, (results, crm_dlq, chat_dlq, connections, audit, commands), strict=True)
        )
        yield ConsoleTopics(**made)


def console_settings(
    bootstrap: str, topics: ConsoleTopics, database_url: str, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": bootstrap,
        "http_host": "127.0.0.1",
        "http_port": free_port(),
        "database_url": database_url,
        "admin_token": ADMIN_TOKEN,
        "link_secret": LINK_SECRET,
        "group_id": f"console-{uuid.uuid4().hex[:8]}",
        "log_level": "INFO",
        "command_timeout_s": 10.0,
        "shutdown_timeout_s": 2.0,
        **topics.settings(),
        **overrides,
    }
    return Settings(**values)


class RunningConsole(Served):
    """One console app served by uvicorn in this process, logging into `logs`."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(lambda: create_app(settings), settings, io.StringIO())
        self.settings = settings

    def admin(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.url,
            timeout=WAIT_S,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )

    def anonymous(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=WAIT_S)


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[RunningConsole]:
    console = await RunningConsole(settings).start()
    try:
        yield console
    finally:
        await console.stop()


def link(tenant: str) -> dict[str, str]:
    """A signed tenant link's parameters, as the platform would make them."""
    return sign_link(
        tenant, now=datetime.now(UTC).timestamp(), ttl_s=600, secret=LINK_SECRET.encode()
    )


async def produce(bootstrap: str, topic: str, *messages: Envelope) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for message in messages:
            await producer.send_and_wait(
                topic, message.model_dump_json().encode(), key=tenant_key(message.tenant_id)
            )
    finally:
        await producer.stop()


def result(tenant: str, chat: str, status: str = "ok", **extra: Any) -> SyncResult:
    values: dict[str, Any] = {
        "tenant_id": tenant,
        "chat_id": chat,
        "kind": "chat",
        "mode": "sales",
        "status": status,
        "api_calls": 0.5,
        "visitor_email": f"{chat}@example.com",
        "ended_at": datetime(2026, 12, 1, 12, tzinfo=UTC),
        "source": SourcePosition(topic="chat.conversations.v1", partition=0, offset=3),
    }
    if status == "ok":
        values["person"] = PersonRecord(object="Lead", record_id=LEAD, outcome="created")
        values["activity"] = ActivityRecord(object="Task", record_id=TASK, outcome="created")
    else:
        values["error"] = SyncError(
            code="required_field_missing",
            message="Required fields are missing: [Reason__c]",
            salesforce_error_code="REQUIRED_FIELD_MISSING",
            fields=("Reason__c",),
        )
    values.update(extra)
    return SyncResult.model_validate(values)


async def eventually(check: Callable[[], Any], timeout: float = WAIT_S) -> Any:  # noqa: ASYNC109
    """Poll an async check until it returns something truthy."""
    async with asyncio.timeout(timeout):
        while True:
            found = await check()
            if found:
                return found
            await asyncio.sleep(0.1)
