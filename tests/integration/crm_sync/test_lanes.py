"""Tenants do not wait for each other: a tenant whose org answers slowly holds back only its
own chats (one lane per tenant), on the real broker and emulator."""

from __future__ import annotations

import asyncio
import time

from tests.integration.crm_sync.conftest import Crm
from tests.integration.crm_sync.support import chat

SLOW_MS = 2500


async def test_a_slow_org_holds_back_only_its_own_tenant(crm: Crm) -> None:
    slow, slow_org = crm.tenant()
    fast, _ = crm.tenant()
    first, later = chat(slow), chat(slow)
    crm.emulator.set_faults(slow_org.org_id, latency_ms=SLOW_MS)
    await crm.producer.conversations(crm.topics.conversations, [first])
    await asyncio.sleep(0.3)  # the slow tenant's batch is being written
    sent = time.monotonic()
    quick = [chat(fast) for _ in range(3)]
    await crm.producer.conversations(crm.topics.conversations, [*quick, later])
    await crm.results.wait(fast, [c.chat_id for c in quick], timeout=30)
    fast_s = time.monotonic() - sent
    await crm.results.wait(slow, [first.chat_id, later.chat_id], timeout=60)
    slow_s = time.monotonic() - sent
    # Each of the slow org's rounds costs two calls of SLOW_MS: the fast tenant's chats
    # are written while its first batch is still in Salesforce's hands.
    assert fast_s < SLOW_MS / 1000, (fast_s, slow_s)
    assert slow_s > fast_s
