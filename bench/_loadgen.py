"""The pipeline bench's load generator, run as a process of its own.

Sends signed `chat.ended` webhooks to ingest over keep-alive HTTP/1.1 connections, spread
over every ingest URL given (as a Kubernetes Service spreads them), tenants drawn from a
Zipf distribution. `--rate R` paces the sends (open loop: chat n is due at start + n/R);
`--rate 0` sends at full speed (closed loop, `--connections` in flight). A chat answered
other than 202, or whose connection broke (ingest killed), is signed afresh and sent again
with the same event id until it is accepted: a sender that got no 202 still has it.

Writes one JSON line per accepted chat to `--out`: `[chat_id, tenant, email, accepted]`,
`accepted` being `time.monotonic()` at the 202 (CLOCK_MONOTONIC, the same clock in every
process of the machine, so the bench compares it with its result times). Prints one JSON
summary last.

Run by `bench/pipeline.py`: `python bench/_loadgen.py --plan PLAN --out FILE ...`
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import random
import time
from pathlib import Path
from typing import Any

from ingest_service.domain.signature import sign

RETRY_FOR_S = 180.0  # a chat not accepted after this long is given up (reported)


def zipf_cumulative(tenants: int, exponent: float) -> list[float]:
    """Cumulative weights of ranks 1..tenants under Zipf with `exponent`."""
    return list(itertools.accumulate(k**-exponent for k in range(1, tenants + 1)))


def body(run: str, n: int, tenant: str, visitor: int) -> bytes:
    email = f"v{visitor}.{tenant}@bench.example"
    chat = {
        "id": f"c-{run}-{n}",
        "started_at": "2024-05-01T11:55:00Z",
        "ended_at": "2024-05-01T12:00:00Z",
        "agent": {"email": f"agent@{tenant}.bench.example", "name": "Ann Agent"},
        "visitor": {"name": f"Jo Visitor{visitor}", "email": email, "company": "Bench Ltd"},
        "messages": [
            {"from": "visitor", "name": "Jo", "text": "Hi, a <b>quote</b> for 20 seats?"},
            {"from": "agent", "text": "Sure &amp; welcome! Sending it now."},
            {"from": "visitor", "name": "Jo", "text": "Thanks, that is all."},
        ],
        "request_page": "https://bench.example/pricing",
    }
    event = {
        "event": "chat.ended",
        "event_id": f"e-{run}-{n}",
        "site_id": tenant,
        "occurred_at": "2024-05-01T12:00:00Z",
        "chat": chat,
    }
    return json.dumps(event, separators=(",", ":")).encode()


def signed(port: int, secret: bytes, payload: bytes) -> bytes:
    timestamp = str(int(time.time())).encode()
    head = (
        f"POST /webhooks/comm100 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        f"X-Webhook-Timestamp: {timestamp.decode()}\r\n"
        f"X-Webhook-Signature: {sign(secret, timestamp, payload).decode()}\r\n\r\n"
    ).encode()
    return head + payload


class Connection:
    """One keep-alive HTTP/1.1 connection to one ingest port, reopened when it breaks."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def exchange(self, request: bytes) -> int:
        """The answer's status; 0 when the connection broke (it is reopened next time)."""
        try:
            if self._streams is None:
                self._streams = await asyncio.open_connection("127.0.0.1", self.port)
            reader, writer = self._streams
            writer.write(request)
            status = int((await reader.readline()).split()[1])
            length, close = 0, False
            while (line := await reader.readline()) not in (b"\r\n", b""):
                lower = line.lower()
                if lower.startswith(b"content-length:"):
                    length = int(line[15:])
                close |= lower.startswith(b"connection: close")
            await reader.readexactly(length)
            if close:
                self.close()
            return status
        except (OSError, IndexError, ValueError, asyncio.IncompleteReadError):
            self.close()
            return 0

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


class Generator:
    def __init__(self, plan: dict[str, Any], args: argparse.Namespace) -> None:
        self.ports: list[int] = plan["ports"]
        self.secrets = {t: s.encode() for t, s in plan["secrets"].items()}
        ranked: list[str] = plan["tenants"]  # rank order: the first is the hot one
        excluded = set(args.exclude.split(",")) if args.exclude else set()
        cumulative = zipf_cumulative(len(ranked), plan["zipf_exponent"])
        weights = [b - a for a, b in zip([0.0, *cumulative], cumulative, strict=False)]
        kept = [(t, w) for t, w in zip(ranked, weights, strict=True) if t not in excluded]
        self.tenants = [t for t, _ in kept]
        self.cumulative = list(itertools.accumulate(w for _, w in kept))
        self.visitors: int = plan["visitors_per_tenant"]
        self.run, self.rng = args.run, random.Random(args.seed)
        self.accepted: list[str] = []
        self.statuses: dict[int, int] = {}
        self.given_up = 0

    def draw(self) -> tuple[str, int]:
        pick = self.rng.random() * self.cumulative[-1]
        tenant = self.tenants[min(bisect.bisect(self.cumulative, pick), len(self.tenants) - 1)]
        return tenant, self.rng.randrange(self.visitors)

    async def send(self, conn: Connection, n: int) -> None:
        tenant, visitor = self.draw()
        payload = body(self.run, n, tenant, visitor)
        give_up = time.monotonic() + RETRY_FOR_S
        while True:
            status = await conn.exchange(signed(conn.port, self.secrets[tenant], payload))
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 202:
                line = [f"c-{self.run}-{n}", tenant, f"v{visitor}.{tenant}@bench.example"]
                self.accepted.append(json.dumps([*line, time.monotonic()]))
                return
            if time.monotonic() > give_up:
                self.given_up += 1
                return
            await asyncio.sleep(0.2)  # ingest is restarting, or Kafka is away: retry

    async def paced(self, count: int, rate: float, connections: int) -> None:
        idle: asyncio.Queue[Connection] = asyncio.Queue()
        for i in range(connections):
            idle.put_nowait(Connection(self.ports[i % len(self.ports)]))
        tasks: set[asyncio.Task[None]] = set()

        async def one(n: int) -> None:
            conn = await idle.get()
            try:
                await self.send(conn, n)
            finally:
                idle.put_nowait(conn)

        start = time.monotonic()
        for n in range(count):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(n))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)

    async def full_speed(self, count: int, connections: int) -> None:
        numbers = iter(range(count))

        async def loop(conn: Connection) -> None:
            for n in numbers:
                await self.send(conn, n)

        conns = [Connection(self.ports[i % len(self.ports)]) for i in range(connections)]
        await asyncio.gather(*(loop(c) for c in conns))
        for conn in conns:
            conn.close()


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def drive(generator: Generator, args: argparse.Namespace) -> None:
    if args.rate > 0:
        await generator.paced(args.count, args.rate, args.connections)
    else:
        await generator.full_speed(args.count, args.connections)


def main(args: argparse.Namespace) -> None:
    generator = Generator(json.loads(Path(args.plan).read_text()), args)
    started = time.monotonic()
    asyncio.run(drive(generator, args))
    elapsed = time.monotonic() - started
    Path(args.out).write_text("".join(line + "\n" for line in generator.accepted))
    summary = {
        "accepted": len(generator.accepted),
        "given_up": generator.given_up,
        "statuses": generator.statuses,
        "started": started,
        "elapsed_s": round(elapsed, 3),
        "sent_per_s": round(len(generator.accepted) / max(elapsed, 1e-6), 1),
        "peak_rss_mb": peak_rss_mb(),
    }
    print(json.dumps(summary), flush=True)


def cli() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plan", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--run", required=True, help="makes chat and event ids unique")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--rate", type=float, default=0.0, help="chats/s; 0: full speed")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--exclude", default="", help="tenants left out, comma-separated")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    main(args)


if __name__ == "__main__":
    cli()
