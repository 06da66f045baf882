"""One crm-sync app for this package's tests, in this process, against the real broker and the
session's Salesforce emulator, with its own topics and a stand-in for auth."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from faststream.asgi import AsgiFastStream
from prometheus_client.parser import text_string_to_metric_families

from chat_contracts.settings import TenantSettings
from crm_sync.app import create_app
from crm_sync.config import Settings
from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator
from tests.integration.crm_sync.support import (
    CHAT_ID_FIELDS,
    FileServer,
    Producer,
    Results,
    TokenResponder,
    Topics,
    temp_topics,
)

AGENT = "agent@acme.example"


@dataclass
class Crm:
    """A running crm-sync and everything around it."""

    bootstrap: str
    topics: Topics
    emulator: SalesforceEmulator
    responder: TokenResponder
    results: Results
    producer: Producer
    files: FileServer
    settings: Settings
    app: AsgiFastStream
    tenants: dict[str, EmulatorOrg] = field(default_factory=dict)

    def tenant(self, *, connect: bool = True, **org: Any) -> tuple[str, EmulatorOrg]:
        """A new tenant with its own emulator org (an admin and an agent user, the chat-id
        external ids unless `custom_fields` says otherwise)."""
        tenant_id = f"t{uuid.uuid4().hex[:10]}"
        org.setdefault("custom_fields", CHAT_ID_FIELDS)
        org.setdefault(
            "users",
            [
                {"username": f"admin@{tenant_id}.example", "email": f"admin@{tenant_id}.example"},
                {"username": f"{AGENT}.{tenant_id}", "email": AGENT},
            ],
        )
        created = self.emulator.create_org(name=tenant_id, **org)
        if connect:
            self.responder.add(tenant_id, created)
        self.tenants[tenant_id] = created
        return tenant_id, created

    async def configure(self, settings: TenantSettings) -> None:
        """Publish a tenant's settings and give crm-sync time to read them."""
        await self.producer.settings(self.topics.settings, settings)
        await asyncio.sleep(1.2)  # the settings reader polls every 0.5 s

    def usage(self, tenant_id: str) -> int:
        return int(self.emulator.usage(self.tenants[tenant_id].org_id)["total"])

    async def metric(self, name: str, **labels: str) -> float:
        """A sample of crm-sync's `/metrics` (0 when absent)."""
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://crm-sync") as client:
            text = (await client.get("/metrics")).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and sample.labels == labels:
                    return float(sample.value)
        return 0.0


def crm_settings(bootstrap: str, topics: Topics, ca_file: str, **extra: Any) -> Settings:
    """crm-sync's settings for tests: the topics given, quick backoffs, quiet logs."""
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": bootstrap,
        "group_id": f"crm-sync-test-{uuid.uuid4().hex[:8]}",
        "sf_ca_file": ca_file,
        "poll_timeout_ms": 50,
        "round_backoff_s": 0.05,
        "park_backoff_s": 1.0,
        "park_backoff_max_s": 2.0,
        "budget_backoff_s": 3.0,
        "sf_timeout_s": 5.0,
        "attachment_schemes": ("http", "https"),
        "attachment_allow_private": True,  # the test file server is on loopback
        "shutdown_timeout_s": 5.0,
        # These tests time batches (a slow org's, a session expiring between two, a budget
        # spent batch by batch): lanes wait only their tenant's `batch_linger_ms`. Waiting up
        # to the latency target is the unit tests' and the pipeline bench's.
        "latency_target_s": 0.0,
        # Installed as the README says (the test orgs' Chat_Id__c is External ID and
        # Unique): chats are not looked up before they are written; Salesforce's
        # DUPLICATE_VALUE is the dedupe, which the fault tests' redeliveries exercise.
        "legacy_chat_keys": False,
        "log_level": os.environ.get("CRM_SYNC_TEST_LOG_LEVEL", "WARNING"),
        **topics.env(),
        **extra,
    }
    return Settings(**values)


@pytest.fixture(scope="package")
async def crm(kafka_bootstrap: str, sf_emulator: SalesforceEmulator) -> AsyncIterator[Crm]:
    files = FileServer({"/invoice.pdf": b"%PDF-1.4 invoice"}, delay_s=0.05)
    async with temp_topics(kafka_bootstrap) as topics:
        responder = TokenResponder(sf_emulator)
        results = Results(kafka_bootstrap, topics.results)
        producer = Producer(kafka_bootstrap)
        settings = crm_settings(kafka_bootstrap, topics, sf_emulator.ca_file)
        app = create_app(settings)
        async with responder.serving(kafka_bootstrap, topics.tokens):
            await results.start()
            await producer.start()
            await app.start()
            try:
                yield Crm(
                    kafka_bootstrap,
                    topics,
                    sf_emulator,
                    responder,
                    results,
                    producer,
                    files,
                    settings,
                    app,
                )
            finally:
                await app.stop()
                await producer.stop()
                await results.stop()
    files.close()
