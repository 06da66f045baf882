"""The console: how fast its history fills from the topics, and how fast it answers.

On the local broker (`make kafka-up`); the console runs as `python -m console_service`, a
process of its own started and stopped here, on a fresh SQLite file (its default):

- ingest_results_per_s: `--results` SyncResults (200 tenants, every tenant's chats failed
  once then written, as crm-sync's retries make them) are produced to a fresh results
  topic first; the console then starts on an empty database and reads them into its
  history. The rate is results stored per second, from the first stored to the last, read
  off its `chat_console_history_records_total` metric;
- history_p50_ms / history_p99_ms / history_max_ms: a database of `--chats` chats
  (1,000,000 by default, over 1,000 tenants of Zipf-like sizes, the largest holding a
  fifth) is filled straight through the console's store, then
  `GET /api/tenants/{t}/chats` is driven open-loop at `--rate` requests/s (100) for
  `--seconds` (30) by a client in this process, with filters varied as an admin would
  (none, by status, by email, by chat id, a second page), each timed from its scheduled
  start (a stall counts against every request it delays);
- peak_rss_mb: the console process's peak resident set (VmHWM) over both parts.

Run: `.venv/bin/python bench/console.py [--results N] [--chats N] [--rate R] [--seconds S]`
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from _common import BOOTSTRAP, ROOT, free_port, percentiles_ms, print_figures, run, topics
from aiokafka import AIOKafkaProducer
from console_service.adapters.schema import migrate
from console_service.adapters.store import Store, make_engine

from chat_contracts.keys import key_for_result
from chat_contracts.sync import ActivityRecord, PersonRecord, SourcePosition, SyncError, SyncResult

TOKEN = "bench-console-token"  # noqa: S105 - a bench value
T0 = datetime(2026, 12, 1, tzinfo=UTC)
STATUSES = ("ok", "ok", "ok", "ok", "deduped", "failed", "parked")


def results(count: int, tenants: int) -> list[SyncResult]:
    """Per chat: a failure, then the write (two results, as a retry makes them)."""
    out = []
    for n in range(count // 2):
        tenant = f"t{n % tenants:04d}"
        common: dict[str, Any] = {
            "tenant_id": tenant,
            "chat_id": f"c-{n}",
            "kind": "chat",
            "mode": "sales",
            "api_calls": 0.1,
            "visitor_email": f"v{n}@example.com",
            "ended_at": T0,
            "source": SourcePosition(topic="chat.conversations.v1", partition=0, offset=n),
        }
        error = SyncError(code="salesforce_unavailable", message="503", salesforce_error_code=None)
        out.append(SyncResult(status="parked", error=error, retry_at=T0, **common))
        out.append(
            SyncResult(
                status="ok",
                person=PersonRecord(
                    object="Lead", record_id="00Q000000000001AAA", outcome="created"
                ),
                activity=ActivityRecord(
                    object="Task", record_id="00T000000000001AAA", outcome="created"
                ),
                **common,
            )
        )
    return out


class Console:
    """`python -m console_service` on a database and topics of the bench's."""

    def __init__(self, database: Path, names: list[str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        results_topic, crm_dlq, chat_dlq, connections, audit, commands = names
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CONSOLE_")},
            "KAFKA_BOOTSTRAP_SERVERS": BOOTSTRAP,
            "CONSOLE_HTTP_HOST": "127.0.0.1",
            "CONSOLE_HTTP_PORT": str(self.port),
            "CONSOLE_DATABASE_URL": f"sqlite:///{database}",
            "CONSOLE_ADMIN_TOKEN": TOKEN,
            "CONSOLE_LINK_SECRET": "bench-link-secret",
            "CONSOLE_GROUP_ID": f"bench-console-{self.port}",
            "CONSOLE_RESULTS_TOPIC": results_topic,
            "CONSOLE_CRM_DLQ_TOPIC": crm_dlq,
            "CONSOLE_CHAT_DLQ_TOPIC": chat_dlq,
            "CONSOLE_CONNECTIONS_TOPIC": connections,
            "CONSOLE_AUDIT_TOPIC": audit,
            "CONSOLE_COMMANDS_TOPIC": commands,
            "CONSOLE_LOG_LEVEL": "WARNING",
        }
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "console_service"], env=env, stdout=out, stderr=out
            )

    async def ready(self) -> None:
        async with asyncio.timeout(60), httpx.AsyncClient() as client:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError("the console exited")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)

    async def stored(self, client: httpx.AsyncClient) -> float:
        text = (await client.get(f"{self.url}/metrics")).text
        found = re.search(r"^chat_console_history_records_total (\S+)$", text, re.M)
        return float(found[1]) if found else 0.0

    def peak_rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        found = re.search(r"VmHWM:\s+(\d+) kB", status)
        return round(int(found[1]) / 1024, 1) if found else 0.0

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def ingest(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    names = ("results", "crm-dlq", "chat-dlq", "connections", "audit", "commands")
    async with topics(*names, partitions=6) as made:
        producer = AIOKafkaProducer(
            bootstrap_servers=BOOTSTRAP, linger_ms=20, max_batch_size=256 * 1024
        )
        await producer.start()
        try:
            batch = []
            for result in results(args.results, 200):
                batch.append(
                    await producer.send(
                        made[0], result.model_dump_json().encode(), key=key_for_result(result)
                    )
                )
                if len(batch) >= 5000:
                    await asyncio.gather(*batch)
                    batch.clear()
            await asyncio.gather(*batch)
        finally:
            await producer.stop()
        console = Console(work / "ingest.sqlite", made, work / "console-ingest.log")
        try:
            await console.ready()
            async with httpx.AsyncClient() as client:
                first = last = None
                async with asyncio.timeout(600):
                    while True:
                        count = await console.stored(client)
                        now = time.perf_counter()
                        if count > 0 and first is None:
                            first = (now, count)
                        if count >= args.results:
                            last = (now, count)
                            break
                        await asyncio.sleep(0.05)
            assert first is not None
            seconds = last[0] - first[0]
            rate = (last[1] - first[1]) / seconds if seconds > 0 else float("inf")
            return {
                "ingest_results": args.results,
                "ingest_results_per_s": round(rate),
                "ingest_seconds": round(seconds, 2),
                "ingest_peak_rss_mb": console.peak_rss_mb(),
            }
        finally:
            console.stop()


def fill(database: Path, chats: int, tenants: int) -> list[tuple[str, int]]:
    """`chats` chats over `tenants` tenants (Zipf-like, the first a fifth); each tenant's
    name and size."""
    weights = [1 / (rank + 1) for rank in range(tenants)]
    weights[0] = sum(weights[1:]) / 4
    total = sum(weights)
    sizes = [max(1, int(chats * w / total)) for w in weights]
    sizes[0] += chats - sum(sizes)
    engine = make_engine(f"sqlite:///{database}")
    migrate(engine)
    store = Store(engine)
    rng = random.Random(7)
    rows: list[dict[str, Any]] = []
    n = 0
    for index, size in enumerate(sizes):
        tenant = f"t{index:04d}"
        for _ in range(size):
            status = STATUSES[rng.randrange(len(STATUSES))]
            at = (T0 - timedelta(seconds=rng.randrange(30 * 86400))).replace(tzinfo=None)
            failed = status in ("failed", "parked")
            rows.append(
                {
                    "tenant_id": tenant,
                    "kind": "chat",
                    "chat_id": f"c-{n}",
                    "status": status,
                    "mode": "sales",
                    "visitor_email": f"v{n % 50_000}@example.com",
                    "person_object": None if failed else "Lead",
                    "person_id": None if failed else "00Q000000000001AAA",
                    "person_outcome": None if failed else "created",
                    "activity_object": None if failed else "Task",
                    "activity_id": None if failed else "00T000000000001AAA",
                    "activity_outcome": None if failed else "created",
                    "owner_id": None,
                    "error_code": "required_field_missing" if failed else None,
                    "error_message": "Required fields are missing: [Region__c]" if failed else None,
                    "salesforce_error_code": "REQUIRED_FIELD_MISSING" if failed else None,
                    "error_fields": None,
                    "retry_at": None,
                    "ended_at": at,
                    "api_calls": 0.1,
                    "source_topic": "chat.conversations.v1",
                    "source_partition": 0,
                    "source_offset": n,
                    "result_partition": 0,
                    "result_offset": n,
                    "updated_at": at,
                }
            )
            n += 1
            if len(rows) >= 20_000:
                store.bulk_chats(rows)
                rows.clear()
    if rows:
        store.bulk_chats(rows)
    engine.dispose()
    return [(f"t{i:04d}", size) for i, size in enumerate(sizes)]


async def history(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    database = work / "history.sqlite"
    started = time.perf_counter()
    tenants = await asyncio.to_thread(fill, database, args.chats, 1000)
    fill_s = time.perf_counter() - started
    names = ("results", "crm-dlq", "chat-dlq", "connections", "audit", "commands")
    async with topics(*names) as made:
        console = Console(database, made, work / "console-history.log")
        try:
            await console.ready()
            rng = random.Random(11)
            # Admins look at tenants in proportion to their size, and at the big one most.
            weights = [size for _, size in tenants]
            latencies: list[float] = []
            errors = 0
            total = int(args.rate * args.seconds)
            headers = {"Authorization": f"Bearer {TOKEN}"}
            limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
            async with httpx.AsyncClient(
                base_url=console.url, headers=headers, limits=limits, timeout=30
            ) as client:
                # Warm the connection pool and the database's pages like a running console.
                for tenant, _ in tenants[:20]:
                    await client.get(f"/api/tenants/{tenant}/chats")

                async def one(n: int, due: float) -> None:
                    nonlocal errors
                    tenant = rng.choices(tenants, weights)[0][0]
                    kind = n % 5
                    params: dict[str, Any] = {"limit": 50}
                    if kind == 1:
                        params["status"] = "failed"
                    elif kind == 2:
                        params["email"] = f"v{rng.randrange(50_000)}@example.com"
                    elif kind == 3:
                        params["chat_id"] = f"c-{rng.randrange(args.chats)}"
                    delay = due - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    response = await client.get(f"/api/tenants/{tenant}/chats", params=params)
                    if kind == 4 and response.status_code == 200 and response.json()["next"]:
                        params["before"] = response.json()["next"]
                        response = await client.get(f"/api/tenants/{tenant}/chats", params=params)
                    latencies.append(time.perf_counter() - due)
                    if response.status_code != 200:
                        errors += 1

                begin = time.perf_counter() + 0.1
                await asyncio.gather(*(one(n, begin + n / args.rate) for n in range(total)))
            p50, p99 = percentiles_ms(latencies)
            return {
                "chats_stored": args.chats,
                "fill_seconds": round(fill_s, 1),
                "history_requests": total,
                "history_rate": args.rate,
                "history_p50_ms": p50,
                "history_p99_ms": p99,
                "history_max_ms": round(max(latencies) * 1000, 1),
                "history_errors": errors,
                "history_peak_rss_mb": console.peak_rss_mb(),
            }
        finally:
            console.stop()


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        work = Path(tmp)
        figures = await ingest(args, work)
        print(f"ingest: {figures}", flush=True)
        figures |= await history(args, work)
    figures["peak_rss_mb"] = max(figures["ingest_peak_rss_mb"], figures["history_peak_rss_mb"])
    print_figures(figures)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=200_000)
    parser.add_argument("--chats", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    run(main(parser.parse_args()))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    cli()
