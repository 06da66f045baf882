"""kill -9 of crm-sync in the middle of a 5,000-chat backlog, then a restart: every chat
ends with exactly one Task, every visitor with exactly one Lead, nothing dead-lettered."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.emulator_fixtures import SalesforceEmulator
from tests.integration.crm_sync.support import (
    Backlog,
    CrmProcess,
    Producer,
    Results,
    TokenResponder,
    Topics,
    crm_env,
    end_offset,
    temp_topics,
)

CHATS = 5_000


@pytest.fixture
async def topics(kafka_bootstrap: str) -> AsyncIterator[Topics]:
    async with temp_topics(kafka_bootstrap, partitions=6) as made:
        yield made


async def test_kill_9_mid_backlog_then_restart(
    kafka_bootstrap: str, sf_emulator: SalesforceEmulator, topics: Topics, tmp_path: Path
) -> None:
    responder = TokenResponder(sf_emulator)
    backlog = Backlog.build(sf_emulator, responder, tenants=5, chats=CHATS)
    producer, results = Producer(kafka_bootstrap), Results(kafka_bootstrap, topics.results)
    await producer.start()
    await producer.conversations(topics.conversations, backlog.chats)
    await producer.stop()
    env = crm_env(kafka_bootstrap, topics, sf_emulator.ca_file, f"crm-crash-{uuid.uuid4().hex[:6]}")
    await results.start()
    async with responder.serving(kafka_bootstrap, topics.tokens):
        first = CrmProcess(env, tmp_path / "first.log")
        try:
            await first.ready()
            # Killed as soon as the first results are out: the whole backlog takes crm-sync
            # about two seconds, so waiting for more could see it finish before the kill.
            async with asyncio.timeout(120):
                await results.first()
        finally:
            first.kill()
        written_before = sum(1 for seen in results.by_chat.values() if seen)
        assert 0 < written_before < CHATS

        second = CrmProcess(env, tmp_path / "second.log")
        try:
            await second.ready()
            for tenant in backlog.tenants:
                mine = [c.chat_id for c in backlog.chats if c.tenant_id == tenant]
                await results.wait(tenant, mine, timeout=300)
        finally:
            second.stop()
    await results.stop()
    backlog.check(sf_emulator)
    assert await end_offset(kafka_bootstrap, topics.dlq) == 0
