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
import time
from pathlib import Path
from typing import Any

import requests
from _common import BOOTSTRAP, percentiles_ms, run
from _crm import (
    Emulator,
    ResultTimes,
    chat,
    crm_topics,
    crm_worker,
    peak_rss_mb,
    with_emulator,
)
from aiokafka import AIOKafkaProducer
from simple_salesforce.api import Salesforce, SFType
from simple_salesforce.format import format_soql

from chat_contracts.chat import Conversation
from chat_contracts.keys import key_for_conversation

TENANTS = 10
CHATS = 10_000
NAIVE_CHATS = 300
IDLE_SAMPLES = 40
ALLOW_SAVE = {"Sforce-Duplicate-Rule-Header": "allowSave=true"}


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
        # A naive integration saves despite the org's duplicate rules (alert level).
        if found["records"]:
            lead_id = found["records"][0]["Id"]
            leads.update(lead_id, fields, headers=ALLOW_SAVE)
        else:
            new = {**fields, "Email": visitor.email, "Company": "[n/a]"}
            lead_id = leads.create(new, headers=ALLOW_SAVE)["id"]
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

    async with crm_topics() as names:
        conversations = names["CONVERSATIONS"]
        results = ResultTimes(names["RESULTS"])
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

        async with crm_worker(emulator, orgs, workdir, "bench-crm", names) as worker:
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
                lone = chat(tenant, f"idle{n}@example.com", CHATS + n)  # a new name
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
    await with_emulator(bench)


if __name__ == "__main__":
    run(main())
