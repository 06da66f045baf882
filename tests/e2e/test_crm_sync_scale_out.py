"""Three crm-sync processes in one consumer group share a backlog; one is stopped in the
middle (as a scale-in or a rolling update does). Same guarantees: every chat exactly one
Task, every visitor exactly one Lead, nothing dead-lettered."""

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

CHATS = 3_000


@pytest.fixture
async def topics(kafka_bootstrap: str) -> AsyncIterator[Topics]:
    async with temp_topics(kafka_bootstrap, partitions=6) as made:
        yield made


async def test_three_workers_one_stopped_mid_run(
    kafka_bootstrap: str, sf_emulator: SalesforceEmulator, topics: Topics, tmp_path: Path
) -> None:
    responder = TokenResponder(sf_emulator)
    backlog = Backlog.build(sf_emulator, responder, tenants=6, chats=CHATS)
    for org in backlog.tenants.values():  # a little trouble on top: 5% of calls answer 503
        sf_emulator.set_faults(org.org_id, error_503_rate=0.05, seed=11)
    env = crm_env(kafka_bootstrap, topics, sf_emulator.ca_file, f"crm-scale-{uuid.uuid4().hex[:6]}")
    results = Results(kafka_bootstrap, topics.results)
    await results.start()
    async with responder.serving(kafka_bootstrap, topics.tokens):
        workers = [CrmProcess(env, tmp_path / f"worker{i}.log") for i in range(3)]
        try:
            await asyncio.gather(*(w.ready() for w in workers))
            await asyncio.sleep(2)  # let the group settle on three members
            producer = Producer(kafka_bootstrap)
            await producer.start()
            half = len(backlog.chats) // 2
            await producer.conversations(topics.conversations, backlog.chats[:half])
            tenant = next(iter(backlog.tenants))
            early = [c.chat_id for c in backlog.chats[:half] if c.tenant_id == tenant][:30]
            await results.wait(tenant, early, status=None, timeout=120)
            await asyncio.to_thread(workers[1].stop)  # mid-run: its partitions move over
            await producer.conversations(topics.conversations, backlog.chats[half:])
            await producer.stop()
            for tenant in backlog.tenants:
                mine = [c.chat_id for c in backlog.chats if c.tenant_id == tenant]
                await results.wait(tenant, mine, timeout=300)
        finally:
            for worker in workers:
                worker.stop()
    await results.stop()
    for org in backlog.tenants.values():
        sf_emulator.set_faults(org.org_id)
    backlog.check(sf_emulator)
    assert await end_offset(kafka_bootstrap, topics.dlq) == 0
