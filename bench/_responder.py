"""A responder process for the benches: `_responder.py raw|faststream TOPIC BOOTSTRAP`.

raw: a bare aiokafka consume-then-produce echo to the `reply_to` header's topic (the floor).
faststream: a FastStream subscriber returning the body, as our services answer requests.
Prints "ready" once it is consuming from the end of TOPIC.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


async def _partition_count(topic: str, bootstrap: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        return len(described["partitions"])
    finally:
        await admin.close()


async def raw(topic: str, bootstrap: str) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=0
    )
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await producer.start()
    await consumer.start()
    tps = [TopicPartition(topic, p) for p in range(await _partition_count(topic, bootstrap))]
    consumer.assign(tps)
    for tp in tps:
        await consumer.seek_to_end(tp)
        await consumer.position(tp)
    print("ready", flush=True)
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for r in records:
                    headers = dict(r.headers)
                    await producer.send(
                        headers["reply_to"].decode(), r.value, headers=list(r.headers)
                    )
    finally:
        await consumer.stop()
        await producer.stop()


async def faststream(topic: str, bootstrap: str) -> None:
    from faststream import AckPolicy
    from faststream.kafka import KafkaBroker

    broker = KafkaBroker(bootstrap, logger=None)

    # As a responder service runs: at-least-once (commit after the reply is published;
    # NACK_ON_ERROR, since ACK commits a failed message too) and one consumer per partition
    # of the request topic, so replies overlap their broker round trips.
    @broker.subscriber(
        topic,
        group_id="bench-responder",
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        max_workers=int(os.environ.get("BENCH_RESPONDER_WORKERS", "6")),
    )
    async def echo(body: dict[str, Any]) -> dict[str, Any]:
        return body

    await broker.start()
    print("ready", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await broker.stop()


async def main() -> None:
    mode, topic, bootstrap = sys.argv[1:4]
    task = asyncio.create_task(
        raw(topic, bootstrap) if mode == "raw" else faststream(topic, bootstrap)
    )
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


if __name__ == "__main__":
    asyncio.run(main())
