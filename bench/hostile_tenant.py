"""Benchmark: does a tenant sending only hostile chats slow another tenant down?

One crm-sync worker (`python -m crm_sync`, its own process) and the Salesforce emulator.
Tenant B sends ordinary chats at a paced rate, twice: alone, then while tenant A floods the
same topic with hostile chats (non-numbers in mapped number fields, `@{...}` references,
near-1 MiB transcripts, addresses Salesforce refuses, attachment URLs into the network) and
records that are not conversations at all. Measured, in one run:

  - B's produce-to-result latency, p50 and p99, alone and beside A,
  - how A's chats ended (written, failed with a reason) and A's dead letters,
  - the worker's peak RSS (VmHWM).

Target: B's p99 beside A within 1.5x of B's p99 alone (or within 100 ms of it, since a
lone chat's latency is a few tens of ms). Needs a broker (`make kafka-up`); starts the
emulator and the worker itself. Figures as JSON on the last line.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

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
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from chat_contracts.chat import Conversation
from chat_contracts.keys import key_for_conversation, tenant_key
from chat_contracts.settings import FieldMappingRule, TenantSettings
from chat_contracts.topics import LARGE_MESSAGE_BYTES

RATE = 20  # B's chats per second
SECONDS = 15
HOSTILE_RATE = 100  # A's chats per second, beside B
HOSTILE_VALUES = ["nan", "inf", "1e400", "@{x}", "@{p[0].id}", "' OR Id != null --", "\u202e"]
A_FIELDS = [
    {"object": "Lead", "name": "Seats__c", "type": "int"},
    {"object": "Lead", "name": "Budget__c", "type": "double"},
]
MAPPING = (
    FieldMappingRule(object="Lead", source="custom_fields.Seats", target="Seats__c"),
    FieldMappingRule(object="Lead", source="custom_fields.Budget", target="Budget__c"),
)


def hostile(tenant: str, n: int) -> tuple[bytes, bytes]:
    """A's n-th record: mostly hostile chats, some that are not conversations."""
    if n % 10 == 9:
        return f"{tenant}|x".encode(), b'{"not": "a conversation", "n": ' + str(n).encode() + b"}"
    value = HOSTILE_VALUES[n % len(HOSTILE_VALUES)]
    base = chat(tenant, f"a{n}@example.com", n)
    data = json.loads(base.model_dump_json())
    data["visitor"]["last_name"] = value
    data["notes"] = value
    data["custom_fields"] = {"Seats": value, "Budget": value}
    if n % 10 == 3:
        data["transcript"] = "x" * 900_000
    if n % 10 == 5:
        data["visitor"]["email"] = "o'brien+%_@example.com"
    if n % 10 == 7:
        data["attachments"] = [{"name": "meta", "url": "http://169.254.169.254/latest"}]
    conversation = Conversation.model_validate(data)
    return key_for_conversation(conversation), conversation.model_dump_json().encode()


async def paced_b(
    producer: AIOKafkaProducer, topic: str, results: ResultTimes, tenant: str, run_no: int
) -> list[float]:
    """B's chats at RATE per second for SECONDS; each one's produce-to-result latency."""
    sent: dict[str, float] = {}
    for n in range(RATE * SECONDS):
        lone = chat(tenant, f"b{run_no}.{n}@example.com", run_no * 100_000 + n)  # new names
        sent[lone.chat_id] = time.perf_counter()
        await producer.send(topic, lone.model_dump_json().encode(), key=key_for_conversation(lone))
        await asyncio.sleep(1 / RATE)
    await results.until(list(sent), timeout=120)
    return [results.ok[c] - t for c, t in sent.items()]


async def flood_a(producer: AIOKafkaProducer, topic: str, tenant: str, until: float) -> int:
    n = 0
    while time.perf_counter() < until:
        key, value = hostile(tenant, n)
        await producer.send(topic, value, key=key)
        n += 1
        await asyncio.sleep(1 / HOSTILE_RATE)
    return n


async def count(topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP)
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        return int((await consumer.end_offsets([partition]))[partition])
    finally:
        await consumer.stop()


async def outcomes(topic: str, tenant: str) -> dict[str, int]:
    """How each of `tenant`'s chats ended (its latest result), counted by status."""
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, enable_auto_commit=False)
    await consumer.start()
    latest: dict[str, str] = {}
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        end = (await consumer.end_offsets([partition]))[partition]
        while await consumer.position(partition) < end:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    result = json.loads(record.value)
                    if result["tenant_id"] == tenant:
                        latest[result["chat_id"]] = result["status"]
    finally:
        await consumer.stop()
    counts: dict[str, int] = {}
    for status in latest.values():
        counts[status] = counts.get(status, 0) + 1
    return counts


async def bench(emulator: Emulator, workdir: Path) -> dict[str, Any]:
    a, b = f"hostile{uuid.uuid4().hex[:4]}", f"normal{uuid.uuid4().hex[:4]}"
    orgs = {a: emulator.org(a, extra_fields=A_FIELDS), b: emulator.org(b)}
    async with crm_topics() as names:
        conversations, results_topic = names["CONVERSATIONS"], names["RESULTS"]
        results = ResultTimes(results_topic)
        await results.start()
        producer = AIOKafkaProducer(
            bootstrap_servers=BOOTSTRAP,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            max_request_size=LARGE_MESSAGE_BYTES,
        )
        await producer.start()
        settings = TenantSettings(tenant_id=a, field_mapping=MAPPING)
        await producer.send_and_wait(
            names["SETTINGS"], settings.model_dump_json().encode(), key=tenant_key(a)
        )
        async with crm_worker(
            emulator, orgs, workdir, "bench-hostile", names, log_level="ERROR"
        ) as worker:
            alone = await paced_b(producer, conversations, results, b, 1)
            print(f"B alone: p50/p99 {percentiles_ms(alone)} ms")
            flood = asyncio.create_task(
                flood_a(producer, conversations, a, time.perf_counter() + SECONDS + 1)
            )
            beside = await paced_b(producer, conversations, results, b, 2)
            sent_a = await flood
            print(f"B beside A: p50/p99 {percentiles_ms(beside)} ms; A sent {sent_a}")
            await asyncio.sleep(5)  # A's last chats end
            rss = peak_rss_mb(worker.pid)
            alive = worker.returncode is None
        dead = await count(names["DLQ"])
        a_outcomes = await outcomes(results_topic, a)
        await producer.stop()
        await results.stop()
    p50_alone, p99_alone = percentiles_ms(alone)
    p50_beside, p99_beside = percentiles_ms(beside)
    return {
        "b_rate_per_s": RATE,
        "b_chats_per_run": len(alone),
        "b_p50_ms_alone": p50_alone,
        "b_p99_ms_alone": p99_alone,
        "b_p50_ms_beside_a": p50_beside,
        "b_p99_ms_beside_a": p99_beside,
        "a_records_sent": sent_a,
        "a_chats_ok": a_outcomes.get("ok", 0),
        "a_chats_failed": a_outcomes.get("failed", 0),
        "a_chats_parked": a_outcomes.get("parked", 0),
        "dead_letters": dead,
        "worker_alive": alive,
        "peak_rss_mb": rss,
    }


async def main() -> None:
    await with_emulator(bench)


if __name__ == "__main__":
    run(main())
