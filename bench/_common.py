"""Shared pieces of the Kafka benches: throwaway topics, percentiles, the raw ping-pong."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")


@asynccontextmanager
async def topics(*prefixes: str, partitions: int = 1) -> AsyncIterator[list[str]]:
    """Fresh uniquely named topics, deleted afterwards."""
    names = [f"bench.{p}.{uuid.uuid4().hex[:8]}" for p in prefixes]
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(n, partitions, 1) for n in names])
        await _wait_for_leaders(admin, names)
        yield names
    finally:
        await admin.delete_topics(names)
        await admin.close()


async def _wait_for_leaders(admin: AIOKafkaAdminClient, names: list[str]) -> None:
    for _ in range(100):
        described = await admin.describe_topics(names)
        if all(
            t["partitions"] and all(p["leader"] >= 0 for p in t["partitions"]) for t in described
        ):
            return
        await asyncio.sleep(0.05)


def free_port() -> int:
    """A TCP port free on loopback now (for a process the bench starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentiles_ms(samples_s: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    cuts = statistics.quantiles(samples_s, n=100, method="inclusive")
    return round(cuts[49] * 1000, 3), round(cuts[98] * 1000, 3)


def start_responder(mode: str, topic: str) -> subprocess.Popen[bytes]:
    """Start bench/_responder.py in its own process; returns once it is consuming."""
    proc = subprocess.Popen(  # noqa: S603 - our own script
        [sys.executable, str(ROOT / "bench" / "_responder.py"), mode, topic, BOOTSTRAP],
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if b"ready" not in line:
        proc.kill()
        raise RuntimeError(f"responder {mode} did not start: {line!r}")
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


class RawPingPong:
    """The floor: a bare aiokafka client doing one round trip at a time through an echo
    responder (produce with a `reply_to` header, consume the echo from a reply topic)."""

    def __init__(self, request_topic: str, reply_topic: str) -> None:
        self.request_topic = request_topic
        self.reply_topic = reply_topic
        self.producer = AIOKafkaProducer(
            bootstrap_servers=BOOTSTRAP, acks="all", enable_idempotence=True, linger_ms=0
        )
        self.consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, enable_auto_commit=False)

    async def start(self) -> None:
        await self.producer.start()
        await self.consumer.start()
        tp = TopicPartition(self.reply_topic, 0)
        self.consumer.assign([tp])
        await self.consumer.seek_to_end(tp)
        await self.consumer.position(tp)

    async def stop(self) -> None:
        await self.consumer.stop()
        await self.producer.stop()

    async def round_trips(self, samples: int) -> list[float]:
        times: list[float] = []
        payload = b'{"pad": "' + b"x" * 150 + b'"}'
        headers = [("reply_to", self.reply_topic.encode())]
        for i in range(samples):
            start = time.perf_counter()
            await self.producer.send(
                self.request_topic, payload, key=str(i).encode(), headers=headers
            )
            await self.consumer.getone()
            times.append(time.perf_counter() - start)
        return times


async def raw_pingpong(samples: int = 2000, warmup: int = 200) -> tuple[float, float]:
    """Raw aiokafka round trip, one in flight, through a raw echo in another process.
    Returns (p50_ms, p99_ms)."""
    async with topics("ping", "pong") as (ping, pong):
        responder = start_responder("raw", ping)
        client = RawPingPong(ping, pong)
        await client.start()
        try:
            await client.round_trips(warmup)
            return percentiles_ms(await client.round_trips(samples))
        finally:
            await client.stop()
            stop(responder)


def print_figures(figures: dict[str, object]) -> None:
    """The bench contract: figures as one JSON object on the last line."""
    print(json.dumps(figures, sort_keys=True))


def run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


def start_emulator(tls_dir: Path, *options: str) -> tuple[subprocess.Popen[str], str, str]:
    """The Salesforce emulator on a free port, its TLS files in `tls_dir` (and any other
    command-line `options`); returns the process, its URL and its CA file once ready."""
    proc = subprocess.Popen(  # noqa: S603 - our own module
        [sys.executable, "-m", "sf_emulator", "--port", "0", "--tls-dir", str(tls_dir), *options],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    ready = json.loads(proc.stdout.readline())
    return proc, ready["url"], ready["ca_file"]
