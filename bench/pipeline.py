"""Benchmark of the whole pipeline: signed webhooks in, Tasks in 1,000 Salesforce orgs out.

Needs only a broker (`make kafka-up`). Starts, as the processes they are in production:
the Salesforce emulator with one org per tenant (from one seed file), auth connecting
every tenant through its own token path (`AUTH_BULK_SEED`: a refresh with the seed's
token, sealed on the compacted topic; crm-sync then asks auth for tokens over
request/reply as in production), ingest (webhook + normaliser) and crm-sync, on throwaway
topics; and a load generator in a process of its own (`bench/_loadgen.py`) sending signed
`chat.ended` webhooks to ingest, tenants drawn from a Zipf distribution whose first tenant
(the hot one) gets `--hot-share` of the chats. The second busiest tenant's org answers
every API call 503 until the end (the broken tenant); its chats are parked by crm-sync.

Phases, in one run:
  1. baseline: the tenants other than the hot and the broken one, at the rate they have
     in phase 2 (`--paced-rate` less the two tenants' share), for `--seconds`;
  2. paced: every tenant at `--paced-rate` chats/s for `--seconds`;
  3. full speed: `--chats` chats as fast as the pipeline takes them;
  4. the broken org heals; its parked chats must arrive (crm-sync's park backoff is capped
     at `--park-max-s` so that they do within the run);
  5. every org is queried: one Task per chat id, and no two Leads for one visitor.

Latency is webhook 202 (in the load generator) to the chat's first `ok` result on
`crm.sync.results.v1` (read here): crm-sync publishes `ok` after the Salesforce write
is answered, so it is an upper bound of "the record is visible". Both ends read
CLOCK_MONOTONIC, one clock for every process of the machine.

Figures (last line, JSON): `tenants`, `chats`, `e2e_chats_per_s` (phase 3: accepted
chats of healthy tenants / first send to last result), `e2e_p50_s`, `e2e_p99_s` (phase 2,
healthy tenants), `hot_tenant_p99_s`, `others_p99_s` (phase 2, neither hot nor broken),
`baseline_others_p99_s` (phase 1), `api_calls_per_chat_paced` (phases 1 and 2) and
`api_calls_per_chat_full_speed` (phase 3), `api_calls_per_chat` (every org's usage as the
emulator counts it / chats), `api_calls_by_operation` (crm-sync's calls by what they did:
describe, read, write...), `api_calls_per_chat_floor` (the fewest writes per chat any
batching could reach if each chat is written within 5 s of its webhook, with no read and
no describe: `write_floor`), `lost`, `duplicates`, `peak_rss_mb` per process,
`crm_sync_rss_mb` (the first crm-sync's RSS once the tenants are connected, then after
each phase).

Targets (2 cores): e2e_chats_per_s >= 1,000 with 1,000 tenants; at 300 chats/s e2e_p99_s
<= 5 and others_p99_s <= 1.5 x baseline_others_p99_s; api_calls_per_chat <= 0.1; lost =
duplicates = 0, with `--chaos` too.

Run: `.venv/bin/python bench/pipeline.py [--tenants N] [--chats N] [--paced-rate R]
[--seconds S] [--latency-target S] [--workers] [--chaos]`
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import _stack
import httpx
from _common import BOOTSTRAP, print_figures, start_emulator
from _stack import Emulator, Service, World
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent
VISITORS_PER_TENANT = 200
P99_BOUND_S = 5.0
"""The latency bound of the paced phase (e2e_p99_s <= 5): what `write_floor` lets a chat wait."""


def zipf_exponent(tenants: int, hot_share: float) -> float:
    """The exponent s for which rank 1 gets `hot_share` of Zipf(s) over `tenants`."""
    low, high = 0.0, 8.0
    for _ in range(60):
        s = (low + high) / 2
        share = 1 / sum(k**-s for k in range(1, tenants + 1))
        low, high = (s, high) if share < hot_share else (low, s)
    return (low + high) / 2


def shares(tenants: int, exponent: float) -> list[float]:
    weights = [k**-exponent for k in range(1, tenants + 1)]
    return [w / sum(weights) for w in weights]


def p(samples: list[float], q: int) -> float:
    """The q-th percentile, in seconds."""
    if len(samples) < 2:
        return round(samples[0], 3) if samples else 0.0
    return round(statistics.quantiles(samples, n=100, method="inclusive")[q - 1], 3)


class Results:
    """Reads crm.sync.results.v1: when each chat's first `ok` arrived (monotonic)."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.ok: dict[str, float] = {}
        self.statuses: dict[str, int] = {}
        self.parked: dict[str, str] = {}
        """Chats parked at least once: the error code of the first parking."""
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, enable_auto_commit=False)
        await consumer.start()
        partition = TopicPartition(self.topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        self._task = asyncio.create_task(self._read(consumer))

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        try:
            while True:
                for records in (await consumer.getmany(timeout_ms=100)).values():
                    now = time.monotonic()
                    for record in records:
                        result = json.loads(record.value)
                        status = result["status"]
                        self.statuses[status] = self.statuses.get(status, 0) + 1
                        if status == "ok":
                            self.ok.setdefault(result["chat_id"], now)
                        elif status == "parked":
                            error = (result.get("error") or {}).get("code", "")
                            self.parked.setdefault(result["chat_id"], error)
        finally:
            await consumer.stop()

    async def until(self, chat_ids: list[str], timeout_s: float) -> int:
        """Wait until every chat has an ok result; how many still have none at the end."""
        deadline = time.monotonic() + timeout_s
        while True:
            missing = sum(1 for c in chat_ids if c not in self.ok)
            if not missing or time.monotonic() > deadline:
                return missing
            await asyncio.sleep(0.2)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


Chat = tuple[str, str, str, float]  # chat id, tenant, visitor email, accepted (monotonic)


async def load(
    plan: Path, workdir: Path, count: int, rate: float, exclude: list[str], connections: int
) -> tuple[dict[str, Any], list[Chat]]:
    """Run the load generator in its own process; its summary and the accepted chats."""
    run = uuid.uuid4().hex[:6]
    out = workdir / f"accepted-{run}.jsonl"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "_loadgen.py"),
        *("--plan", str(plan), "--out", str(out), "--run", run, "--count", str(count)),
        *("--rate", str(rate), "--connections", str(connections)),
        *("--exclude", ",".join(exclude), "--seed", str(hash(run) % 10_000)),
        stdout=asyncio.subprocess.PIPE,
    )
    stdout, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"load generator failed ({proc.returncode})")
    summary: dict[str, Any] = json.loads(stdout.decode().strip().splitlines()[-1])
    chats: list[Chat] = [tuple(json.loads(line)) for line in out.read_text().splitlines()]
    return summary, chats


async def connected(topic: str, tenants: int, timeout_s: float) -> None:
    """Wait until auth announced `tenants` connections on its connections topic."""
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, enable_auto_commit=False)
    await consumer.start()
    seen: set[str] = set()
    try:
        count = _stack.TOPICS["connections"][0]
        partitions = [TopicPartition(topic, n) for n in range(count)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        async with asyncio.timeout(timeout_s):
            while len(seen) < tenants:
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    for record in records:
                        event = json.loads(record.value)
                        if event.get("kind") == "connected":
                            seen.add(event["tenant_id"])
    finally:
        await consumer.stop()


async def verify(emulator: Emulator, orgs: dict[str, str], chats: list[Chat]) -> dict[str, int]:
    """Query every org: chats without a Task (lost), Tasks beyond one per chat and Leads
    beyond one per visitor email (duplicates)."""
    expected: dict[str, set[str]] = {t: set() for t in orgs}
    for chat_id, tenant, _, _ in chats:
        expected[tenant].add(f"chat:{tenant}:{chat_id}")
    gate = asyncio.Semaphore(8)
    totals = {"lost": 0, "duplicate_tasks": 0, "duplicate_leads": 0, "unexpected_tasks": 0}

    async def one(tenant: str, org_id: str) -> None:
        async with gate:
            token = (await emulator.admin("POST", f"/orgs/{org_id}/sessions"))["access_token"]
            tasks = await emulator.query_all(
                token, "SELECT Chat_Id__c FROM Task WHERE Chat_Id__c != null"
            )
            leads = await emulator.query_all(token, "SELECT Email FROM Lead WHERE Email != null")
        per_chat: dict[str, int] = {}
        for task in tasks:
            per_chat[task["Chat_Id__c"]] = per_chat.get(task["Chat_Id__c"], 0) + 1
        per_email: dict[str, int] = {}
        for lead in leads:
            email = lead["Email"].lower()
            per_email[email] = per_email.get(email, 0) + 1
        totals["lost"] += len(expected[tenant] - per_chat.keys())
        totals["unexpected_tasks"] += len(per_chat.keys() - expected[tenant])
        totals["duplicate_tasks"] += sum(n - 1 for n in per_chat.values())
        totals["duplicate_leads"] += sum(n - 1 for n in per_email.values())

    await asyncio.gather(*(one(t, o) for t, o in orgs.items()))
    return totals


async def api_usage(emulator: Emulator, orgs: dict[str, str], reset: bool = False) -> int:
    gate = asyncio.Semaphore(16)

    async def one(org_id: str) -> int:
        async with gate:
            usage = await emulator.admin("DELETE" if reset else "GET", f"/orgs/{org_id}/usage")
            return int(usage["total"])

    return sum(await asyncio.gather(*(one(o) for o in orgs.values())))


async def chaos(services: list[Service], gap_s: float, log: list[str]) -> None:
    """kill -9 each service in turn, `gap_s` apart, and start it again; then restart the
    broker, if it is the bench's own (`--own-broker`)."""
    for service in services:
        await asyncio.sleep(gap_s)
        took = await service.kill_and_restart()
        log.append(f"{service.name}: killed -9, ready again after {took} s")
        print(log[-1], flush=True)
    broker = _stack.OwnBroker.from_env()
    await asyncio.sleep(gap_s)
    if broker is None:
        log.append("broker: not restarted (shared; run with --own-broker)")
    else:
        took = await asyncio.to_thread(_stack.restart_own_broker, broker)
        log.append(f"broker: stopped and answering again after {took} s")
    print(log[-1], flush=True)


async def break_org(emulator: Emulator, org_id: str, how: str) -> None:
    """503 on every call, or a spent daily API budget (403 REQUEST_LIMIT_EXCEEDED)."""
    if how == "503":
        await emulator.admin("POST", f"/orgs/{org_id}/faults", {"error_503_rate": 1.0})
    elif how == "limit":
        await emulator.admin("PATCH", f"/orgs/{org_id}", {"api_limit": 1})


async def heal_org(emulator: Emulator, org_id: str, how: str) -> None:
    if how == "503":
        await emulator.admin("POST", f"/orgs/{org_id}/faults", {})
    elif how == "limit":
        await emulator.admin("PATCH", f"/orgs/{org_id}", {"api_limit": 10_000_000})


def write_floor(chats: list[Chat], broken: str, within_s: float, batch: int = 200) -> int:
    """The fewest writes that could carry `chats` if each is written within `within_s` of
    its webhook's 202: per tenant, a write at t carries only chats accepted in
    [t - within_s, t] (at most `batch`), so the fewest is the greedy cover of its accept
    times by windows of `within_s`. The broken tenant's chats wait for its org to heal:
    ceil(n / batch). No reads, no describes, no retries: a floor no batching beats."""
    by_tenant: dict[str, list[float]] = {}
    for _, tenant, _, accepted in chats:
        by_tenant.setdefault(tenant, []).append(accepted)
    writes = 0
    for tenant, times in by_tenant.items():
        if tenant == broken:
            writes += -(-len(times) // batch)
            continue
        times.sort()
        i = 0
        while i < len(times):
            end, start = times[i] + within_s, i
            while i < len(times) and times[i] <= end and i - start < batch:
                i += 1
            writes += 1
    return writes


async def calls_by_operation(services: list[Service]) -> dict[str, int]:
    """Salesforce calls by what they did (describe, read, write...), summed over the
    crm-sync processes' `/metrics` (a process killed by --chaos takes its counts along)."""
    totals: dict[str, int] = {}
    async with httpx.AsyncClient(trust_env=False) as client:
        for service in services:
            text = (await client.get(f"http://127.0.0.1:{service.port}/metrics")).text
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    if sample.name == "chat_salesforce_calls_total":
                        operation = sample.labels["operation"]
                        totals[operation] = totals.get(operation, 0) + int(sample.value)
    return dict(sorted(totals.items()))


def latencies(chats: list[Chat], ok: dict[str, float]) -> list[float]:
    return [ok[c] - accepted for c, _, _, accepted in chats if c in ok]


async def measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    world: World = _stack.make_world(workdir, args.tenants)
    hot, broken = world.tenants[0], world.tenants[1]
    exponent = zipf_exponent(args.tenants, args.hot_share)
    share = shares(args.tenants, exponent)
    plan = workdir / "plan.json"
    figures: dict[str, Any] = {"bench": "pipeline", "tenants": args.tenants, "broken": args.broken}
    t0 = time.monotonic()
    emulator_proc, url, ca = start_emulator(
        workdir / "tls", "--seed", str(world.seed), "--log-level", "warning"
    )
    emulator = Emulator(url, ca)
    services: list[Service] = []
    try:
        orgs = {
            o["name"].removeprefix("Bench "): o["org_id"]
            for o in await emulator.admin("GET", "/orgs")
        }
        print(f"{len(orgs)} orgs in {time.monotonic() - t0:.1f} s", flush=True)
        async with _stack.bench_topics() as names:
            auth = _stack.auth_service(world, names, url, ca, workdir)
            auth.start()
            services.append(auth)
            await auth.ready()
            await connected(names["connections"], args.tenants, timeout_s=60 + args.tenants / 5)
            figures["provision_s"] = round(time.monotonic() - t0, 1)
            print(f"{args.tenants} tenants connected in auth after {figures['provision_s']} s")
            await break_org(emulator, orgs[broken], args.broken)

            ingest_group = f"bench-pipe-ingest-{uuid.uuid4().hex[:6]}"
            crm_group = f"bench-pipe-crm-{uuid.uuid4().hex[:6]}"
            ingests = [
                _stack.ingest_service(n, world, names, ingest_group, workdir)
                for n in range(2 if args.workers else 1)
            ]
            crms = [
                _stack.crm_sync_service(
                    n, names, ca, crm_group, workdir, args.park_max_s, args.latency_target
                )
                for n in range(3 if args.workers else 1)
            ]
            for service in ingests + crms:
                service.start()
                services.append(service)
            await asyncio.gather(*(s.ready() for s in ingests + crms))
            # Every worker has its partitions before the baseline starts (with --workers,
            # members joining one by one rebalance the group a few times first).
            figures["groups_stable_s"] = max(
                await _stack.group_stable(crm_group, len(crms)),
                await _stack.group_stable(ingest_group, len(ingests)),
            )
            plan.write_text(
                json.dumps(
                    {
                        "ports": [s.port for s in ingests],
                        "secrets": world.webhook_secrets,
                        "tenants": world.tenants,
                        "zipf_exponent": exponent,
                        "visitors_per_tenant": VISITORS_PER_TENANT,
                    }
                )
            )
            results = Results(names["results"])
            await results.start()
            await api_usage(emulator, orgs, reset=True)
            every: list[Chat] = []
            loadgen_rss, given_up = 0.0, 0

            # 1. baseline: the others alone, at the rate they have in phase 2
            connected_rss = crms[0].rss_mb()
            rate = args.paced_rate * (1 - share[0] - share[1])
            summary, base = await load(
                plan, workdir, round(rate * args.seconds), rate, [hot, broken], args.connections
            )
            every += base
            loadgen_rss = max(loadgen_rss, summary["peak_rss_mb"])
            given_up += summary["given_up"]
            await results.until([c[0] for c in base], timeout_s=120)
            base_lat = latencies(base, results.ok)
            # crm-sync's memory as the phases leave it: its caches for the tenants met so
            # far, then with the paced chats in flight, then at full speed (the peak).
            rss_by_phase = {"connected": connected_rss, "baseline": crms[0].rss_mb()}
            figures["crm_sync_rss_mb"] = rss_by_phase
            figures["baseline_rate"] = round(rate, 1)
            figures["baseline_others_p50_s"] = p(base_lat, 50)
            figures["baseline_others_p99_s"] = p(base_lat, 99)
            print(f"baseline at {rate:.0f}/s: p50 {p(base_lat, 50)} s, p99 {p(base_lat, 99)} s")

            # 2. paced: everyone, the hot tenant and the broken one included
            summary, paced = await load(
                plan,
                workdir,
                round(args.paced_rate * args.seconds),
                args.paced_rate,
                [],
                args.connections,
            )
            every += paced
            loadgen_rss = max(loadgen_rss, summary["peak_rss_mb"])
            given_up += summary["given_up"]
            healthy = [c for c in paced if c[1] != broken]
            await results.until([c[0] for c in healthy], timeout_s=120)
            figures["paced_rate"] = args.paced_rate
            figures["paced_sent_per_s"] = summary["sent_per_s"]
            all_lat = latencies(healthy, results.ok)
            hot_lat = latencies([c for c in healthy if c[1] == hot], results.ok)
            others_lat = latencies([c for c in healthy if c[1] != hot], results.ok)
            figures["e2e_p50_s"], figures["e2e_p99_s"] = p(all_lat, 50), p(all_lat, 99)
            figures["hot_tenant_p99_s"] = p(hot_lat, 99)
            figures["others_p50_s"], figures["others_p99_s"] = p(others_lat, 50), p(others_lat, 99)
            figures["others_p99_vs_baseline"] = round(
                figures["others_p99_s"] / max(figures["baseline_others_p99_s"], 1e-3), 2
            )
            figures["hot_share"] = round(sum(1 for c in paced if c[1] == hot) / len(paced), 3)
            print(
                f"paced at {args.paced_rate}/s: p50 {figures['e2e_p50_s']} s, p99 "
                f"{figures['e2e_p99_s']} s; hot p99 {figures['hot_tenant_p99_s']} s, others p99 "
                f"{figures['others_p99_s']} s",
                flush=True,
            )

            rss_by_phase["paced"] = crms[0].rss_mb()
            # Calls of phases 1 and 2 (paced), then of phase 3 (full speed) alone.
            paced_calls = await api_usage(emulator, orgs)
            paced_chats = len(every)

            # 3. full speed (with --chaos: each service killed and restarted meanwhile)
            chaos_log: list[str] = []
            chaos_task = None
            if args.chaos:
                gap = args.chaos_gap_s
                chaos_task = asyncio.create_task(chaos([ingests[0], crms[0], auth], gap, chaos_log))
            summary, full = await load(plan, workdir, args.chats, 0, [], args.connections)
            every += full
            loadgen_rss = max(loadgen_rss, summary["peak_rss_mb"])
            given_up += summary["given_up"]
            healthy = [c for c in full if c[1] != broken]
            missing = await results.until([c[0] for c in healthy], timeout_s=600)
            if chaos_task is not None:
                await chaos_task
                figures["chaos"] = chaos_log
                figures["chaos_max_latency_s"] = round(max(latencies(healthy, results.ok)), 2)
            done = [results.ok[c[0]] for c in healthy if c[0] in results.ok]
            rss_by_phase["full_speed"] = crms[0].rss_mb()
            figures["chats_full_speed"] = len(full)
            figures["webhook_accepted_per_s"] = summary["sent_per_s"]
            figures["e2e_chats_per_s"] = round(len(done) / (max(done) - summary["started"]), 1)
            figures["full_speed_unfinished"] = missing
            full_calls = await api_usage(emulator, orgs) - paced_calls
            figures["api_calls_per_chat_paced"] = round(paced_calls / max(paced_chats, 1), 4)
            figures["api_calls_per_chat_full_speed"] = round(full_calls / max(len(full), 1), 4)
            print(f"full speed: {figures['e2e_chats_per_s']} chats/s end to end", flush=True)

            # 4. the broken org heals: its parked chats must arrive
            healed = time.monotonic()
            await heal_org(emulator, orgs[broken], args.broken)
            parked = [c[0] for c in every if c[1] == broken]
            figures["broken_tenant_chats"] = len(parked)
            figures["broken_unfinished"] = await results.until(
                parked, timeout_s=4 * args.park_max_s + 60
            )
            arrived = [results.ok[c] for c in parked if c in results.ok]
            figures["broken_recovered_s"] = round(max(max(arrived, default=healed) - healed, 0), 1)
            figures["result_statuses"] = dict(results.statuses)
            # Healthy tenants' chats parked on the way (each costs its tenant a backoff).
            healthy_parked: dict[str, int] = {}
            for chat_id, tenant, _, _ in every:
                if tenant != broken and (code := results.parked.get(chat_id)) is not None:
                    healthy_parked[code] = healthy_parked.get(code, 0) + 1
            figures["healthy_parked"] = healthy_parked
            await results.stop()

            # 5. usage, then every org
            calls = await api_usage(emulator, orgs)
            figures["chats"] = len(every)
            figures["not_accepted"] = given_up  # never answered 202: the sender still has them
            figures["api_calls"] = calls
            figures["api_calls_per_chat"] = round(calls / len(every), 4)
            figures["api_calls_by_operation"] = await calls_by_operation(crms)
            floor = write_floor(every, broken, P99_BOUND_S)
            figures["api_calls_per_chat_floor"] = round(floor / len(every), 4)
            checked = await verify(emulator, orgs, every)
            figures.update(checked)
            figures["duplicates"] = checked["duplicate_tasks"] + checked["duplicate_leads"]
            for service in services:
                service.sample_rss()
            rss = {s.name: s.peak_rss_mb for s in services}
            rss["emulator"] = _stack.peak_rss(emulator_proc.pid)
            rss["loadgen"] = loadgen_rss
            figures["peak_rss_mb"] = rss
            figures["workers"] = {"ingest": len(ingests), "crm_sync": len(crms)}
    except BaseException:
        for service in services:
            print(f"--- {service.name}, last lines:\n{service.tail()}", file=sys.stderr)
        raise
    finally:
        for service in services:
            service.stop()
        await emulator.close()
        emulator_proc.terminate()
        emulator_proc.wait(timeout=30)
    return figures


def own_broker(args: argparse.Namespace) -> int:
    """Run this bench again on a broker of its own, started here and stopped after."""
    with tempfile.TemporaryDirectory() as tmp:
        broker = _stack.OwnBroker(Path(tmp) / "kafka")
        broker.up()
        try:
            env = {**broker.env, "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap}
            return subprocess.run([sys.executable, *sys.argv], env=env, check=False).returncode  # noqa: S603
        finally:
            broker.down()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--chats", type=int, default=30_000, help="full-speed phase")
    parser.add_argument("--paced-rate", type=float, default=300.0, help="chats/s, phase 2")
    parser.add_argument("--seconds", type=float, default=30.0, help="paced phases' length")
    parser.add_argument("--hot-share", type=float, default=0.30)
    parser.add_argument("--connections", type=int, default=64, help="load generator's")
    parser.add_argument("--park-max-s", type=float, default=20.0)
    parser.add_argument(
        "--broken",
        choices=("503", "limit", "none"),
        default="503",
        help="how the second busiest tenant's org fails until the end (none: it does not)",
    )
    parser.add_argument(
        "--latency-target",
        type=float,
        help="crm-sync's CRM_SYNC_LATENCY_TARGET_S (default: the service's)",
    )
    parser.add_argument("--workdir", type=Path, help="keep logs and files here")
    parser.add_argument("--workers", action="store_true", help="ingest x2, crm-sync x3")
    parser.add_argument("--chaos", action="store_true", help="kill -9 each service once")
    parser.add_argument(
        "--own-broker", action="store_true", help="on a broker of its own, which --chaos restarts"
    )
    parser.add_argument("--chaos-gap-s", type=float, default=5.0)
    args = parser.parse_args()
    if args.own_broker and _stack.OwnBroker.from_env() is None:
        sys.exit(own_broker(args))
    if args.workdir:  # kept: the services' logs, the seed, the accepted chats
        args.workdir.mkdir(parents=True, exist_ok=True)
        figures = await measure(args, args.workdir)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            figures = await measure(args, Path(tmp))
    print_figures(figures)


if __name__ == "__main__":
    asyncio.run(main())
