"""bot-actions end to end: find_record round trips against the floor and the emulator.

In one run, with everything started here (a Kafka broker must be up: `make kafka-up`):
the emulator, bot-actions (its own process, `python -m bot_actions`), a token responder
standing in for auth (its own process), and a raw aiokafka echo; on throwaway topics.

- 1 in flight: the floor (raw aiokafka ping-pong through the raw echo, `floor_p50_ms`), a
  direct call (the exact query bot-actions sends, through simple-salesforce from this
  process, `direct_sf_p50_ms`; and through the HTTP client bot-actions itself uses,
  `chat_salesforce.SalesforceHttp` on aiohttp, `direct_http_p50_ms`) and bot-actions
  (find_record as `BotActionsClient` sends it, `bot_p50_ms`), taking turns in rounds so
  that background load hits them all alike;
- 50 and 500 in flight (all for one tenant, so one partition: the hardest case for
  concurrency): bot-actions' rate against direct finds from as many threads as
  bot-actions may use per tenant (`direct_sf_rps`: what the emulator itself allows), again
  in alternating rounds;
- bot-actions' CPU per request and peak RSS (VmHWM).

Targets: `bot_p50_ms <= 1.5 x (floor_p50_ms + direct_sf_p50_ms)`; at 500 in flight
`bot_rps >= 0.5 x direct_sf_rps`; `peak_rss_mb < 200`. Also printed, not a target:
`bot_p50_vs_floor_plus_direct_http`, the same ratio against bot-actions' own (faster)
HTTP client, i.e. what Kafka, the service and the emulator cost beyond the bare calls.

Run: `.venv/bin/python bench/bot_actions.py [--requests N] [--samples N]`
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import requests
from _common import (
    BOOTSTRAP,
    ROOT,
    RawPingPong,
    free_port,
    percentiles_ms,
    print_figures,
    start_emulator,
    start_responder,
    stop,
    topics,
)
from pydantic import TypeAdapter
from simple_salesforce.api import Salesforce

from chat_contracts.bot import FindRecordRequest
from chat_contracts.bot_replies import BotActionReply, RecordFoundReply
from chat_contracts.keys import tenant_key
from chat_runtime.request_reply import RequestReplyClient
from chat_salesforce import HttpOptions, SalesforceHttp, quote

LEADS = 2000
PER_TENANT = 8  # bot-actions' default BOT_ACTIONS_SALESFORCE_PER_TENANT
TENANT = "10000"
LEVELS = (1, 50, 500)
ROUNDS = 4
REPLY: TypeAdapter[Any] = TypeAdapter(BotActionReply)


def make_org(url: str, ca: str) -> tuple[dict[str, Any], list[str]]:
    admin = httpx.Client(
        base_url=url, verify=ssl.create_default_context(cafile=ca), trust_env=False, timeout=60
    )
    org = admin.post("/__admin/orgs", json={"name": "Bench", "api_limit": 100_000_000}).json()
    emails = [f"lead{i}@bench.example" for i in range(LEADS)]
    rows = [
        {"LastName": f"Lead {i}", "Company": f"Co {i}", "Email": e} for i, e in enumerate(emails)
    ]
    admin.post(f"/__admin/orgs/{org['org_id']}/sobjects/Lead/bulk-load", json={"records": rows})
    admin.close()
    return org, emails


def find_soql(email: str) -> str:
    # What bot-actions sends for find_record(Lead, Email, value, save={Company: ...}).
    return (
        "SELECT Id, Company FROM Lead WHERE Email = "  # noqa: S608 - escaped by quote()
        f"{quote(email)} ORDER BY CreatedDate ASC, Id ASC LIMIT 1"
    )


class Direct:
    """The find query through simple-salesforce from this process: what Salesforce allows."""

    def __init__(self, org: dict[str, Any], ca: str, emails: list[str]) -> None:
        self.session = requests.Session()
        self.session.verify, self.session.trust_env = ca, False
        self.session.mount("https://", requests.adapters.HTTPAdapter(pool_maxsize=PER_TENANT))
        self.sf = Salesforce(
            instance_url=org["instance_url"], session_id=org["access_token"], session=self.session
        )
        self.emails = emails

    def find(self) -> None:
        assert self.sf.query(find_soql(random.choice(self.emails)))["totalSize"] == 1

    async def http_sequential(self, http: SalesforceHttp, n: int) -> list[float]:
        """Latencies of `n` finds, one at a time, through bot-actions' HTTP client."""
        times = []
        url = f"{self.sf.base_url}query/"
        for _ in range(n):
            params = {"q": find_soql(random.choice(self.emails))}
            t0 = time.perf_counter()
            answer = await http.request("GET", url, token=self.sf.session_id, params=params)
            times.append(time.perf_counter() - t0)
            assert answer.json()["totalSize"] == 1
        return times

    def sequential(self, n: int) -> list[float]:
        """Latencies of `n` finds, one at a time."""
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            self.find()
            times.append(time.perf_counter() - t0)
        return times

    def burst(self, n: int) -> float:
        """Seconds for `n` finds from as many threads as bot-actions may use per tenant."""
        with ThreadPoolExecutor(PER_TENANT) as pool:
            t0 = time.perf_counter()
            list(pool.map(lambda _: self.find(), range(n)))
            return time.perf_counter() - t0


def start_bot_actions(request_topic: str, token_topic: str, ca: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": BOOTSTRAP,
        "BOT_ACTIONS_REQUEST_TOPIC": request_topic,
        "BOT_ACTIONS_TOKEN_TOPIC": token_topic,
        "BOT_ACTIONS_GROUP_ID": f"bench-bot-{uuid.uuid4().hex[:8]}",
        "BOT_ACTIONS_SALESFORCE_CA_FILE": ca,
        "BOT_ACTIONS_HTTP_HOST": "127.0.0.1",
        "BOT_ACTIONS_HTTP_PORT": str(free_port()),
        "BOT_ACTIONS_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot_actions"], env=env, stdout=subprocess.DEVNULL, cwd=ROOT
    )


def start_token_responder(topic: str, url: str, ca: str, org_id: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(  # noqa: S603 - this script, in its responder mode
        [sys.executable, __file__, "--token-responder", topic, url, ca, org_id],
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    if b"ready" not in proc.stdout.readline():
        raise RuntimeError("token responder did not start")
    return proc


async def token_responder(topic: str, url: str, ca: str, org_id: str) -> None:
    """Answers TokenRequests for TENANT with one emulator session, as auth would."""
    from faststream.kafka import KafkaBroker

    from chat_contracts.auth import TokenGrantedReply, TokenRequest

    async with httpx.AsyncClient(
        base_url=url, verify=ssl.create_default_context(cafile=ca), trust_env=False
    ) as admin:
        session = (await admin.post(f"/__admin/orgs/{org_id}/sessions")).json()
    broker = KafkaBroker(BOOTSTRAP, logger=None)

    @broker.subscriber(
        topic, group_id=f"bench-auth-{uuid.uuid4().hex[:8]}", auto_offset_reset="earliest"
    )
    async def answer(request: TokenRequest) -> bytes:
        reply = TokenGrantedReply(
            tenant_id=request.tenant_id,
            access_token=session["access_token"],
            instance_url=session["instance_url"],
            org_id=org_id,
            user_id=session["user_id"],
            issued_at=request.occurred_at,
        )
        return reply.model_dump_json().encode()

    await broker.start()
    print("ready", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await broker.stop()


class Bot:
    """The bot runtime's find_record call: what `chat_bot_client.client.BotActionsClient` sends,
    through the shared request/reply client. (A script named bot_actions.py cannot import
    the `bot_actions` package: its own directory comes first on the path.)"""

    def __init__(self, rr: RequestReplyClient, topic: str) -> None:
        self.rr, self.topic = rr, topic

    async def find(self, email: str) -> None:
        request = FindRecordRequest(
            tenant_id=TENANT,
            object="Lead",
            field="Email",
            value="{!Visitor.Email}",
            variables={"Visitor.Email": email},
            save={"Company": "company"},
        )
        reply = await self.rr.request(self.topic, request, key=tenant_key(TENANT), timeout=60)
        found = reply.parse(REPLY)
        assert isinstance(found, RecordFoundReply), found


async def timed(
    bot: Bot, emails: list[str], in_flight: int, total: int
) -> tuple[list[float], float]:
    latencies: list[float] = []
    queue = iter(range(total))

    async def worker() -> None:
        for _ in queue:
            t0 = time.perf_counter()
            await bot.find(random.choice(emails))
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return latencies, time.perf_counter() - t0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


async def measure(
    url: str, ca: str, org: dict[str, Any], emails: list[str], samples: int, requests_: int
) -> dict[str, float]:
    """Floor, direct and bot figures, interleaved in rounds so that background load (this
    machine is shared) hits all three alike."""
    figures: dict[str, float] = {}
    async with (
        topics("bot", partitions=12) as (request_topic,),
        topics("tok") as (token_topic,),
        topics("ping") as (ping,),
        topics("pong") as (pong,),
    ):
        auth = start_token_responder(token_topic, url, ca, org["org_id"])
        bot_proc = start_bot_actions(request_topic, token_topic, ca)
        echo = start_responder("raw", ping)
        floor = RawPingPong(ping, pong)
        await floor.start()
        direct = Direct(org, ca, emails)
        http = SalesforceHttp(HttpOptions(ca_file=ca))
        try:
            async with RequestReplyClient(BOOTSTRAP, name="bench-bot") as rr:
                bot = Bot(rr, request_topic)
                await timed(bot, emails, 1, 1)  # waits out the consumer group's first join
                await timed(bot, emails, 20, 400)
                await floor.round_trips(200)
                direct.sequential(200)
                await direct.http_sequential(http, 200)
                floor_t: list[float] = []
                direct_t: list[float] = []
                http_t: list[float] = []
                bot_t: list[float] = []
                cpu = 0.0
                for _ in range(ROUNDS):
                    floor_t += await floor.round_trips(samples // ROUNDS)
                    direct_t += direct.sequential(samples // ROUNDS)
                    http_t += await direct.http_sequential(http, samples // ROUNDS)
                    before = cpu_s(bot_proc.pid)
                    bot_t += (await timed(bot, emails, 1, samples // ROUNDS))[0]
                    cpu += cpu_s(bot_proc.pid) - before
                figures["floor_p50_ms"], figures["floor_p99_ms"] = percentiles_ms(floor_t)
                figures["direct_sf_p50_ms"], figures["direct_sf_p99_ms"] = percentiles_ms(direct_t)
                figures["direct_http_p50_ms"], figures["direct_http_p99_ms"] = percentiles_ms(
                    http_t
                )
                figures["bot_p50_ms_1"], figures["bot_p99_ms_1"] = percentiles_ms(bot_t)
                figures["bot_rps_1"] = round(len(bot_t) / sum(bot_t))
                figures["bot_cpu_ms_per_request_1"] = round(cpu * 1000 / len(bot_t), 3)
                report(figures, 1)
                for level in LEVELS[1:]:
                    n = requests_ // ROUNDS
                    direct_s = bot_s = cpu = 0.0
                    latencies: list[float] = []
                    for _ in range(ROUNDS):
                        direct_s += direct.burst(n)
                        before = cpu_s(bot_proc.pid)
                        lat, elapsed = await timed(bot, emails, level, n)
                        cpu += cpu_s(bot_proc.pid) - before
                        latencies += lat
                        bot_s += elapsed
                    total = n * ROUNDS
                    figures[f"direct_sf_rps_{level}"] = round(total / direct_s)
                    figures[f"bot_rps_{level}"] = round(total / bot_s)
                    p50, p99 = percentiles_ms(latencies)
                    figures[f"bot_p50_ms_{level}"], figures[f"bot_p99_ms_{level}"] = p50, p99
                    figures[f"bot_cpu_ms_per_request_{level}"] = round(cpu * 1000 / total, 3)
                    report(figures, level)
            figures["peak_rss_mb"] = peak_rss_mb(bot_proc.pid)
        finally:
            await floor.stop()
            await http.close()
            direct.session.close()
            for proc in (bot_proc, echo, auth):
                stop(proc)
    return figures


def report(figures: dict[str, float], level: int) -> None:
    line = (
        f"{level} in flight: bot-actions {figures[f'bot_rps_{level}']:,} finds/s, "
        f"p50 {figures[f'bot_p50_ms_{level}']} ms, p99 {figures[f'bot_p99_ms_{level}']} ms, "
        f"CPU {figures[f'bot_cpu_ms_per_request_{level}']} ms/request"
    )
    if level == 1:
        line += (
            f"; floor p50 {figures['floor_p50_ms']} ms, "
            f"direct find p50 {figures['direct_sf_p50_ms']} ms (simple-salesforce), "
            f"{figures['direct_http_p50_ms']} ms (aiohttp)"
        )
    else:
        line += f"; direct finds from {PER_TENANT} threads {figures[f'direct_sf_rps_{level}']:,}/s"
    print(line)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--token-responder", nargs=4, metavar=("TOPIC", "URL", "CA", "ORG"))
    args = parser.parse_args()
    if args.token_responder:
        await token_responder(*args.token_responder)
        return

    figures: dict[str, Any] = {"bench": "bot_actions"}
    with tempfile.TemporaryDirectory() as tmp:
        emulator, url, ca = start_emulator(Path(tmp))
        try:
            org, emails = make_org(url, ca)
            figures.update(await measure(url, ca, org, emails, args.samples, args.requests))
        finally:
            emulator.terminate()
            emulator.wait(timeout=10)
    figures["direct_sf_rps"] = figures["direct_sf_rps_500"]
    figures["bot_p50_ms"] = figures["bot_p50_ms_1"]
    figures["bot_p99_ms"] = figures["bot_p99_ms_1"]
    figures["bot_rps"] = figures["bot_rps_500"]
    figures["bot_rps_per_worker"] = figures["bot_rps_500"]  # one bot-actions process
    latency_budget = 1.5 * (figures["floor_p50_ms"] + figures["direct_sf_p50_ms"])
    figures["bot_p50_vs_floor_plus_direct_sf"] = round(
        figures["bot_p50_ms"] / (figures["floor_p50_ms"] + figures["direct_sf_p50_ms"]), 2
    )
    figures["bot_p50_vs_floor_plus_direct_http"] = round(
        figures["bot_p50_ms"] / (figures["floor_p50_ms"] + figures["direct_http_p50_ms"]), 2
    )
    figures["targets"] = {
        "p50_within_1.5x_floor_plus_direct": figures["bot_p50_ms"] <= latency_budget,
        "rps_at_500_at_least_half_direct": figures["bot_rps"] >= 0.5 * figures["direct_sf_rps"],
        "peak_rss_under_200mb": figures["peak_rss_mb"] < 200,
    }
    figures["targets_met"] = all(figures["targets"].values())
    print_figures(figures)


if __name__ == "__main__":
    asyncio.run(main())
