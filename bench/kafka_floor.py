"""The floors later services are compared with, on the local broker (`make kafka-up`).

- passthrough_msgs_per_s: raw aiokafka consume-then-produce of 1 KiB messages, one
  consumer-group member, producer acks=all, offsets committed per batch.
- pingpong_p50_ms / pingpong_p99_ms: raw aiokafka round trip with one in flight (produce,
  an echo process consumes and produces to a reply topic, we consume the echo).

Run: `.venv/bin/python bench/kafka_floor.py [--messages N] [--samples N]`
"""

from __future__ import annotations

import argparse
import asyncio
import time

from _common import BOOTSTRAP, print_figures, raw_pingpong, topics
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

PAYLOAD = b"m" * 1024


async def passthrough(messages: int) -> float:
    async with topics("in", "out", partitions=6) as (source, sink):
        producer = AIOKafkaProducer(
            bootstrap_servers=BOOTSTRAP, acks="all", enable_idempotence=True, linger_ms=5
        )
        await producer.start()
        try:
            pending = [
                await producer.send(source, PAYLOAD, key=str(i).encode()) for i in range(messages)
            ]
            await asyncio.gather(*pending)
            consumer = AIOKafkaConsumer(
                source,
                bootstrap_servers=BOOTSTRAP,
                group_id=f"bench-{source}",
                auto_offset_reset="earliest",
                enable_auto_commit=False,
                max_poll_records=2000,
            )
            await consumer.start()
            try:
                done = 0
                started: float | None = None
                while done < messages:
                    batches = await consumer.getmany(timeout_ms=1000, max_records=2000)
                    if started is None and batches:
                        started = time.perf_counter()
                    sends = [
                        await producer.send(sink, r.value, key=r.key)
                        for records in batches.values()
                        for r in records
                    ]
                    await asyncio.gather(*sends)  # forwarded durably before the commit
                    await consumer.commit()
                    done += len(sends)
                assert started is not None
                return messages / (time.perf_counter() - started)
            finally:
                await consumer.stop()
        finally:
            await producer.stop()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args()
    rate = await passthrough(args.messages)
    print(f"passthrough: {rate:,.0f} msgs/s ({args.messages} x 1 KiB)")
    p50, p99 = await raw_pingpong(samples=args.samples)
    print(f"raw ping-pong: p50 {p50} ms, p99 {p99} ms ({args.samples} round trips)")
    print_figures(
        {
            "bench": "kafka_floor",
            "passthrough_msgs_per_s": round(rate),
            "pingpong_p50_ms": p50,
            "pingpong_p99_ms": p99,
            "messages": args.messages,
            "samples": args.samples,
        }
    )


if __name__ == "__main__":
    asyncio.run(main())
