"""ingest against the raw floor and a naive FastStream peer, and its webhook, in one run.

On the local broker (`make kafka-up`), with 2 KiB chat events:

- floor_msgs_per_s: the foundation's raw aiokafka consume-then-produce passthrough
  (`kafka_floor.passthrough`), fed 2 KiB values like the events;
- naive_events_per_s: a FastStream subscriber handling one message at a time (typed
  `RawChatEvent` body, the same normalisation, `broker.publish` awaiting each record), in
  its own process;
- ingest_events_per_s: `python -m ingest_service` as a normaliser-only worker process.
  The floor and the worker take turns, `--rounds` times, so that load from elsewhere on
  the machine hits both alike: each reports its best round (`*_rounds` lists them all),
  ingest_vs_floor is the median of the rounds' ratios, and ingest_cpu_us_per_event the
  worker's CPU time per event, which contention does not skew;
- webhook_rps: the same service as a webhook-only process, driven by a load generator in
  another process over keep-alive connections (closed loop); webhook_p99_ms_at_1000 is
  the 99th percentile latency of an open-loop 1,000 requests/s (timed from each request's
  scheduled start, so a stall counts against every request it delays);
- peak_rss_mb: the largest peak resident set (VmHWM) of the ingest processes, with each
  process's in `rss_mb`.

Throughputs of the workers come from the output records' broker timestamps (first to last
conversation), so the parent's own reading does not count. Every process is started and
stopped here; only the broker must be running.

Run: `.venv/bin/python bench/ingest.py [--events N] [--naive-events N] [--seconds S]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import kafka_floor
from _common import BOOTSTRAP, free_port, print_figures, topics
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from chat_contracts.keys import raw_event_key

EVENT_BYTES = 2048
TENANT = "10001"
SECRET = "bench-webhook-secret"  # noqa: S105 - the bench tenant's, nothing else's
PARTITIONS = 6  # as the floor's topics
FIRST = ("Jo", "Ann", "Ravi", "Mei", "Carlos", "Fatima", "Olu", "Sven", "Aiko", "Liam")
LAST = ("Bloggs", "Smith", "Patel", "Chen", "García", "Khan", "Adeyemi", "Larsen", "Sato")
LINES = (
    "Hi, I'd like a quote for <b>20 seats</b>.",
    "Sure! Which plan are you on?",
    "We're on the &quot;Pro&quot; plan at the moment.",
    "Great, I can offer a discount for annual billing.",
    "Could you send that to my email please?",
    "Of course, sending it over now.<br>Anything else?",
    "No, that's all, thanks!",
)


# --- events ---------------------------------------------------------------------------


def webhook_body(i: int, size: int = EVENT_BYTES) -> bytes:
    """A `chat.ended` body of exactly `size` bytes: distinct ids, visitor, phone, times."""
    rnd = random.Random(i)
    t0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC) + timedelta(seconds=i)
    first, last = rnd.choice(FIRST), rnd.choice(LAST)
    messages = [
        {
            "from": "visitor" if j % 2 == 0 else "agent",
            "name": first if j % 2 == 0 else "Ann Agent",
            "text": line,
            "sent_at": (t0 + timedelta(seconds=20 * j)).isoformat(),
        }
        for j, line in enumerate(LINES)
    ]
    body: dict[str, Any] = {
        "event": "chat.ended",
        "event_id": f"evt-{i}-{rnd.getrandbits(48):012x}",
        "site_id": TENANT,
        "occurred_at": (t0 + timedelta(minutes=5)).isoformat(),
        "chat": {
            "id": f"c-{i}",
            "started_at": t0.isoformat(),
            "ended_at": (t0 + timedelta(minutes=5)).isoformat(),
            "agent": {"email": "Ann@Acme.test", "name": "Ann Agent"},
            "visitor": {
                "id": f"v-{i}",
                "name": f"{first} {last}",
                "email": f" {first}.{last}{i}@Example.COM ",
                "phone": f"+1 (415) 555-{i % 10000:04d}",
                "company": "Bloggs Ltd",
            },
            "messages": messages,
            "notes": "",
            "custom_fields": {"Plan": "pro", "Seats": 20},
            "custom_variables": {"utm_source": "ads"},
            "request_page": "https://acme.test/pricing",
            "attachments": [{"name": "quote.pdf", "url": "https://files.test/q/1", "size": 4821}],
        },
    }
    encoded = json.dumps(body, separators=(",", ":"))
    body["chat"]["notes"] = "n" * max(0, size - len(encoded))
    return json.dumps(body, separators=(",", ":")).encode()


def raw_event(i: int) -> tuple[bytes, bytes]:
    """(key, value) of a `chat.raw.v1` record of EVENT_BYTES holding `webhook_body(i)`."""
    envelope = (
        f'{{"schema_version":1,"message_id":"{uuid.UUID(int=i)}","tenant_id":"{TENANT}",'
        f'"occurred_at":"2024-05-01T09:05:00Z","source":"topic",'
        f'"received_at":"2024-05-01T09:05:01Z","payload":'
    ).encode()
    body = webhook_body(i, EVENT_BYTES - len(envelope) - 1)
    event_id = json.loads(body)["event_id"]
    return raw_event_key(TENANT, event_id), envelope + body + b"}"


async def produce_raw(topic: str, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", linger_ms=5)
    await producer.start()
    try:
        sends = [await producer.send(topic, v, key=k) for k, v in map(raw_event, range(count))]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def output_rate(topic: str, expected: int, timeout_s: float) -> float:
    """Records/s on `topic` from its first to its `expected`-th record (broker timestamps)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=BOOTSTRAP, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    stamps: list[int] = []
    try:
        async with asyncio.timeout(timeout_s):
            while len(stamps) < expected:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    stamps += [r.timestamp for r in records]
    finally:
        await consumer.stop()
    stamps = sorted(stamps)[:expected]
    return (len(stamps) - 1) / max((stamps[-1] - stamps[0]) / 1000, 1e-3)


# --- processes --------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the largest resident set the process had so far."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


@contextmanager
def process(
    args: Sequence[str], env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A Python process of ours, stopped with SIGTERM on exit; its stderr shown on failure."""
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(  # noqa: S603 - our own code
            [sys.executable, *args],
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        try:
            yield proc
        except BaseException:
            errors.seek(0)
            sys.stderr.write(errors.read().decode(errors="replace")[-4000:])
            raise
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def ingest_env(port: int, **overrides: str) -> dict[str, str]:
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": BOOTSTRAP,
        "INGEST_HTTP_HOST": "127.0.0.1",
        "INGEST_HTTP_PORT": str(port),
        "INGEST_LOG_LEVEL": "WARNING",
        "INGEST_WEBHOOK_SECRETS": json.dumps({TENANT: SECRET}),
    }
    env.update({f"INGEST_{k.upper()}": v for k, v in overrides.items()})
    return env


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("ingest exited before it was ready")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("ingest did not become ready")


# --- the naive peer (runs in its own process: `--role naive`) ----------------------------


async def naive_peer(raw_topic: str, out_topic: str, group: str) -> None:
    from chat_contracts.chat_raw import RawChatEvent
    from chat_runtime.app import make_broker, subscriber
    from chat_runtime.metrics import new_registry
    from chat_runtime.settings import ServiceSettings
    from ingest_service.domain.normalise import normalise

    settings = ServiceSettings(service_name="naive", kafka_bootstrap_servers=BOOTSTRAP)
    broker = make_broker(settings, registry=new_registry())

    @subscriber(broker, raw_topic, group_id=group)
    async def handle(event: RawChatEvent) -> None:
        normalised = normalise(event, "US")
        await broker.publish(normalised.value, out_topic, key=normalised.key)

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with broker:
        await broker.start()
        await stop.wait()


# --- the load generator (runs in its own process: `--role loadgen`) ----------------------


class Connection:
    """One keep-alive HTTP/1.1 connection; enough of the protocol for these responses."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def exchange(self, request: bytes) -> int:
        self.writer.write(request)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return status


def signed_requests(port: int, count: int) -> list[bytes]:
    from ingest_service.domain.signature import sign

    timestamp = str(int(time.time())).encode()
    out = []
    for i in range(count):
        body = webhook_body(10_000_000 + i)
        signature = sign(SECRET.encode(), timestamp, body)
        head = (
            f"POST /webhooks/comm100 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"X-Webhook-Timestamp: {timestamp.decode()}\r\n"
            f"X-Webhook-Signature: {signature.decode()}\r\n\r\n"
        ).encode()
        out.append(head + body)
    return out


async def closed_loop(port: int, seconds: float, connections: int) -> dict[str, Any]:
    requests = signed_requests(port, 2000)
    conns = [await Connection.open(port) for _ in range(connections)]
    statuses: dict[int, int] = {}
    done = 0
    deadline = time.perf_counter() + seconds

    async def run(conn: Connection, offset: int) -> None:
        nonlocal done
        i = offset
        while time.perf_counter() < deadline:
            status = await conn.exchange(requests[i % len(requests)])
            statuses[status] = statuses.get(status, 0) + 1
            done += 1
            i += connections

    started = time.perf_counter()
    await asyncio.gather(*(run(c, n) for n, c in enumerate(conns)))
    elapsed = time.perf_counter() - started
    return {"rps": round(done / elapsed), "statuses": statuses}


async def open_loop(port: int, seconds: float, rate: int, connections: int) -> dict[str, Any]:
    requests = signed_requests(port, 2000)
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await Connection.open(port))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    tasks: set[asyncio.Task[None]] = set()

    async def one(request: bytes, scheduled: float) -> None:
        conn = await idle.get()
        status = await conn.exchange(request)
        latencies.append(time.perf_counter() - scheduled)
        statuses[status] = statuses.get(status, 0) + 1
        idle.put_nowait(conn)

    total = int(seconds * rate)
    start = time.perf_counter() + 0.05
    sent = 0
    while sent < total:
        now = time.perf_counter()
        due = min(total, int((now - start) * rate) + 1)
        while sent < due:
            task = asyncio.create_task(one(requests[sent % len(requests)], start + sent / rate))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
        await asyncio.sleep(max(0.0, start + sent / rate - time.perf_counter()))
    await asyncio.gather(*tasks)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "p50_ms": round(cuts[49] * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
        "achieved_rps": round(len(latencies) / (time.perf_counter() - start)),
        "statuses": statuses,
    }


def run_loadgen(
    port: int, mode: str, seconds: float, rate: int, connections: int
) -> dict[str, Any]:
    """Start the load generator in its own process; returns the JSON it printed."""
    args = [__file__, "--role", "loadgen", "--port", str(port), "--mode", mode]
    args += ["--seconds", str(seconds), "--rate", str(rate), "--connections", str(connections)]
    done = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, *args], capture_output=True, check=True, timeout=seconds + 120
    )
    result: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return result


# --- the measurements ---------------------------------------------------------------------


async def measure_workers(events: int, naive_events: int, rounds: int) -> dict[str, Any]:
    """The floor and the ingest worker take turns, `rounds` times, so that background load
    hits both alike: each keeps its best round, and ingest_vs_floor is the median of the
    rounds' ratios. The naive peer runs once (a tenth of the speed; it is slow)."""
    figures: dict[str, Any] = {"floor_rounds": [], "ingest_rounds": []}
    rss: list[float] = []
    cpu: list[float] = []
    async with (
        topics("raw", "naive-out", "dlq", partitions=PARTITIONS) as (raw, naive_out, dlq),
        topics("settings") as (settings_topic,),
    ):
        await produce_raw(raw, events)
        with process(
            [__file__, "--role", "naive", "--raw", raw, "--out", naive_out],
            {"KAFKA_BOOTSTRAP_SERVERS": BOOTSTRAP},
        ) as naive:
            figures["naive_events_per_s"] = round(
                await output_rate(naive_out, naive_events, timeout_s=600)
            )
            figures["naive_rss_mb"] = peak_rss_mb(naive.pid)
        for _ in range(rounds):
            figures["floor_rounds"].append(round(await kafka_floor.passthrough(events)))
            async with topics("ingest-out", partitions=PARTITIONS) as (out,):
                env = ingest_env(
                    free_port(),
                    webhook_enabled="false",
                    raw_topic=raw,
                    conversations_topic=out,
                    dlq_topic=dlq,
                    tenant_settings_topic=settings_topic,
                    group_id=f"bench-ingest-{uuid.uuid4().hex[:8]}",  # from the start
                )
                with process(["-m", "ingest_service"], env) as worker:
                    rate = await output_rate(out, events, timeout_s=600)
                    cpu_s = cpu_seconds(worker.pid)
                    figures["ingest_rounds"].append(round(rate))
                    rss.append(peak_rss_mb(worker.pid))
                    cpu.append(cpu_s)
    figures["floor_msgs_per_s"] = max(figures["floor_rounds"])
    figures["ingest_events_per_s"] = max(figures["ingest_rounds"])
    figures["ingest_vs_floor"] = round(
        statistics.median(
            i / f for i, f in zip(figures["ingest_rounds"], figures["floor_rounds"], strict=True)
        ),
        2,
    )
    # The worker's whole CPU time (start-up included) per event: what contention cannot skew.
    figures["ingest_cpu_us_per_event"] = round(min(cpu) / events * 1e6)
    figures["ingest_rss_mb"] = max(rss)
    return figures


async def measure_webhook(seconds: float, connections: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    async with topics("webhook-raw", partitions=PARTITIONS) as (raw,):
        port = free_port()
        env = ingest_env(port, normaliser_enabled="false", raw_topic=raw)
        with process(["-m", "ingest_service"], env) as server:
            wait_ready(port, server)
            run_loadgen(port, "closed", 2, 0, connections)  # warm-up
            peak = run_loadgen(port, "closed", seconds, 0, connections)
            paced = run_loadgen(port, "open", seconds, 1000, 200)
            figures["webhook_rss_mb"] = peak_rss_mb(server.pid)
        figures["webhook_rps"] = peak["rps"]
        figures["webhook_statuses"] = peak["statuses"]
        figures["webhook_p50_ms_at_1000"] = paced["p50_ms"]
        figures["webhook_p99_ms_at_1000"] = paced["p99_ms"]
        figures["webhook_achieved_rps_at_1000"] = paced["achieved_rps"]
    return figures


async def main(args: argparse.Namespace) -> None:
    if args.part == "webhook":  # for tuning; the figures of record come from a whole run
        print_figures(await measure_webhook(args.seconds, args.connections))
        return
    kafka_floor.PAYLOAD = b"m" * EVENT_BYTES  # the floor, fed values of the events' size
    workers = await measure_workers(args.events, args.naive_events, args.rounds)
    floor = workers.pop("floor_msgs_per_s")
    rounds = workers["floor_rounds"]
    print(f"floor: {floor:,} msgs/s ({args.events} x {EVENT_BYTES} B; rounds {rounds})")
    print(
        f"naive: {workers['naive_events_per_s']:,} events/s, ingest: "
        f"{workers['ingest_events_per_s']:,} events/s (rounds {workers['ingest_rounds']})"
    )
    webhook = await measure_webhook(args.seconds, args.connections)
    print(
        f"webhook: {webhook['webhook_rps']:,} req/s; at 1,000 req/s p99 "
        f"{webhook['webhook_p99_ms_at_1000']} ms"
    )
    rss = {
        "ingest_worker": workers.pop("ingest_rss_mb"),
        "ingest_webhook": webhook.pop("webhook_rss_mb"),
        "naive_peer": workers.pop("naive_rss_mb"),
    }
    ingest = workers["ingest_events_per_s"]
    print_figures(
        {
            "bench": "ingest",
            "event_bytes": EVENT_BYTES,
            "events": args.events,
            "floor_msgs_per_s": floor,
            **workers,
            "ingest_vs_naive": round(ingest / workers["naive_events_per_s"], 2),
            **webhook,
            "peak_rss_mb": max(rss["ingest_worker"], rss["ingest_webhook"]),
            "rss_mb": rss,
        }
    )


def cli() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--naive-events", type=int, default=3_000)
    parser.add_argument("--rounds", type=int, default=3, help="floor/ingest turns")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--part", choices=("all", "webhook"), default="all")
    parser.add_argument("--role", choices=("bench", "naive", "loadgen"), default="bench")
    parser.add_argument("--raw", default="")
    parser.add_argument("--out", default="")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mode", choices=("closed", "open"), default="closed")
    parser.add_argument("--rate", type=int, default=1000)
    args = parser.parse_args()
    if args.role == "naive":
        asyncio.run(naive_peer(args.raw, args.out, f"bench-naive-{uuid.uuid4().hex[:8]}"))
    elif args.role == "loadgen":
        if args.mode == "closed":
            result = asyncio.run(closed_loop(args.port, args.seconds, args.connections))
        else:
            result = asyncio.run(open_loop(args.port, args.seconds, args.rate, args.connections))
        print(json.dumps(result))
    else:
        asyncio.run(main(args))


if __name__ == "__main__":
    cli()
