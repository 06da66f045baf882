"""Deadlines, many requests in flight, and what gets committed."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faststream.asgi import AsgiFastStream

from bot_actions.config import Settings
from chat_bot_client.call import call
from chat_bot_client.client import BotActionFailed, BotActionsClient
from chat_runtime.request_reply import RequestTimeout
from tests.emulator_fixtures import SalesforceEmulator
from tests.integration.salesforce.fake_auth import FakeAuth


async def test_a_slow_salesforce_is_answered_deadline_exceeded_in_time(
    bot: BotActionsClient, tenant: str, auth: FakeAuth, sf_emulator: SalesforceEmulator
) -> None:
    await bot.find_record(tenant, "Lead", "Email", "jo@example.com")
    sf_emulator.set_faults(auth.orgs[tenant].org_id, latency_ms=3000)
    started = time.monotonic()
    with pytest.raises(BotActionFailed) as exc:
        await bot.find_record(tenant, "Lead", "Email", "jo@example.com", timeout=1.0)
    assert exc.value.code == "deadline_exceeded"
    assert time.monotonic() - started < 1.0


async def test_many_requests_in_flight_all_answered_and_committed(
    bot: BotActionsClient,
    tenant: str,
    bot_settings: Settings,
    bot_app: AsgiFastStream,
    kafka_bootstrap: str,
) -> None:
    emails = ["jo@example.com", "ro@example.com", "nobody@example.com"]
    replies = await asyncio.gather(
        *(bot.find_record(tenant, "Lead", "Email", emails[i % 3]) for i in range(300))
    )
    assert [r.status for r in replies[:3]] == ["found", "found", "not_found"]
    assert len(replies) == 300
    # Everything answered is committed shortly after (the window commits every 200 ms).
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        for _ in range(50):
            offsets = await admin.list_consumer_group_offsets(bot_settings.group_id)
            committed = sum(m.offset for tp, m in offsets.items() if m.offset > 0)
            if committed >= 300:
                break
            await asyncio.sleep(0.1)
    finally:
        await admin.close()
    assert committed >= 300
    assert all(isinstance(tp, TopicPartition) for tp in offsets)


async def test_a_stopped_service_gives_clean_timeouts(
    bot_app: AsgiFastStream, bot: BotActionsClient, tenant: str
) -> None:
    await bot_app.stop()
    with pytest.raises(RequestTimeout):
        await bot.list_objects(tenant, timeout=0.5)


async def test_the_command_line_caller(
    bot_app: AsgiFastStream,
    kafka_bootstrap: str,
    request_topic: str,
    tenant: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    request = {"action": "describe_object", "tenant_id": tenant, "object": "Lead"}
    assert await call(kafka_bootstrap, request_topic, request, 10) == 0
    assert json.loads(capsys.readouterr().out)["object"] == "Lead"
    request["object"] = "Nope"
    assert await call(kafka_bootstrap, request_topic, request, 10) == 1
