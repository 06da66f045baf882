"""Cached access-token requests to auth against the request/reply floor, in one run.

Starts the Salesforce emulator (with the demo seed) and auth (`python -m auth_service`
in local-run mode, on throwaway topics) as processes of their own, waits until the demo
tenant is connected, then measures, one request in flight, the round trip of a token
request served from auth's cache through the shared `RequestReplyClient`, interleaved in
rounds with the raw aiokafka ping-pong through a raw echo (the floor), so that noise hits
both alike. Then requests/s for one tenant with 1 and 50 requests in flight.

Target: token p50/p99 within 1.5x of the floor. The last line printed is one JSON object
with `floor_p50_ms`, `floor_p99_ms`, `token_p50_ms`, `token_p99_ms`, `token_rps` and more.

Run: `.venv/bin/python bench/auth_tokens.py [--samples N] [--requests N]`
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
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
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from chat_contracts.auth import TokenRequest
from chat_contracts.keys import tenant_key
from chat_contracts.topics import AUTH_REFRESH_TOKENS
from chat_runtime.request_reply import RequestReplyClient

SEED = ROOT / "devtools" / "salesforce-emulator" / "demo-seed.json"
TENANT = json.loads(SEED.read_text())["orgs"][0].get("tenant_id", "10000")
ROUNDS = 8
RPS_IN_FLIGHT = 50


@asynccontextmanager
async def auth_topics() -> AsyncIterator[dict[str, str]]:
    run = uuid.uuid4().hex[:8]
    names = {
        "AUTH_TOKEN_REQUESTS_TOPIC": f"bench.auth-req.{run}",
        "AUTH_REFRESH_TOKENS_TOPIC": f"bench.auth-rt.{run}",
        "AUTH_CONNECTIONS_TOPIC": f"bench.auth-conn.{run}",
    }
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        await admin.create_topics(
            [
                # Six partitions, as the registry's auth.token-requests.v1 has.
                NewTopic(names["AUTH_TOKEN_REQUESTS_TOPIC"], 6, 1),
                NewTopic(
                    names["AUTH_REFRESH_TOKENS_TOPIC"],
                    3,
                    1,
                    topic_configs=AUTH_REFRESH_TOKENS.configs(),
                ),
                NewTopic(names["AUTH_CONNECTIONS_TOPIC"], 3, 1),
            ]
        )
        yield names
    finally:
        await admin.delete_topics(list(names.values()))
        await admin.close()


def start_auth(
    port: int, emulator_url: str, ca_file: str, names: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AUTH_")},
        **names,
        "KAFKA_BOOTSTRAP_SERVERS": BOOTSTRAP,
        "AUTH_HTTP_HOST": "127.0.0.1",
        "AUTH_HTTP_PORT": str(port),
        "AUTH_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "AUTH_GROUP_ID": f"bench-auth-{uuid.uuid4().hex[:6]}",
        "AUTH_SF_LOGIN_URL": emulator_url,
        "AUTH_SF_SANDBOX_LOGIN_URL": f"{emulator_url}/sandbox",
        "AUTH_SF_CA_FILE": ca_file,
        "AUTH_DEMO_SEED": str(SEED),
        "AUTH_ENCRYPTION_KEYS": json.dumps({"bench": base64.b64encode(os.urandom(32)).decode()}),
        "AUTH_ADMIN_TOKEN": "bench-admin-token",
        "AUTH_LOG_LEVEL": os.environ.get("BENCH_AUTH_LOG_LEVEL", "INFO"),
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "auth_service"], env=env, stdout=out, stderr=out
        )


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


async def wait_connected(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=2) as web:
        for _ in range(600):
            if proc.poll() is not None:
                raise RuntimeError(f"auth exited:\n{tail(log)}")
            try:
                status = await web.get(
                    "/admin/status",
                    params={"tenant": TENANT},
                    headers={"Authorization": "Bearer bench-admin-token"},
                )
                if status.status_code == 200 and status.json()["state"] == "connected":
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the demo tenant was not connected in time:\n{tail(log)}")


async def token_requests(
    client: RequestReplyClient, topic: str, in_flight: int, total: int
) -> tuple[list[float], float]:
    """`total` cached-token requests with `in_flight` outstanding: (latencies, elapsed s)."""
    body = TokenRequest(tenant_id=TENANT).model_dump_json().encode()
    key = tenant_key(TENANT)
    latencies: list[float] = []
    queue = iter(range(total))

    async def worker() -> None:
        for _ in queue:
            started = time.perf_counter()
            reply = await client.request(topic, body, key=key, timeout=30)
            latencies.append(time.perf_counter() - started)
            if b'"status":"ok"' not in reply.value:
                raise RuntimeError(f"token request refused: {reply.json().get('code')}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return latencies, time.perf_counter() - started


async def measure(samples: int, requests: int, workdir: Path) -> dict[str, object]:
    figures: dict[str, object] = {"bench": "auth_tokens"}
    emulator, emulator_url, ca_file = start_emulator(
        workdir / "tls", "--seed", str(SEED), "--log-level", "warning"
    )
    try:
        async with (
            auth_topics() as names,
            topics("ping", partitions=6) as (ping,),
            topics("pong") as (pong,),
        ):
            port, log = free_port(), workdir / "auth.log"
            auth = start_auth(port, emulator_url, ca_file, names, log)
            echo = start_responder("raw", ping)
            floor = RawPingPong(ping, pong)
            await floor.start()
            try:
                await wait_connected(f"http://127.0.0.1:{port}", auth, log)
                request_topic = names["AUTH_TOKEN_REQUESTS_TOPIC"]
                async with RequestReplyClient(BOOTSTRAP, name="bench-auth") as client:
                    await floor.round_trips(200)
                    await token_requests(client, request_topic, 1, 200)  # warm: token cached
                    floor_times: list[float] = []
                    token_times: list[float] = []
                    for _ in range(ROUNDS):  # interleaved, so noise hits both alike
                        floor_times += await floor.round_trips(samples // ROUNDS)
                        token_times += (
                            await token_requests(client, request_topic, 1, samples // ROUNDS)
                        )[0]
                    figures["floor_p50_ms"], figures["floor_p99_ms"] = percentiles_ms(floor_times)
                    figures["token_p50_ms"], figures["token_p99_ms"] = percentiles_ms(token_times)
                    figures["token_rps_1"] = round(1 / statistics.fmean(token_times))
                    latencies, elapsed = await token_requests(
                        client, request_topic, RPS_IN_FLIGHT, requests
                    )
                    figures["token_rps"] = round(requests / elapsed)
                    figures["token_in_flight"] = RPS_IN_FLIGHT
                    (
                        figures[f"token_p50_ms_{RPS_IN_FLIGHT}"],
                        figures[f"token_p99_ms_{RPS_IN_FLIGHT}"],
                    ) = percentiles_ms(latencies)
            finally:
                await floor.stop()
                stop(echo)
                auth.terminate()
                auth.wait(timeout=20)
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--requests", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = await measure(args.samples, args.requests, Path(tmp))
    ms = {k: float(v) for k, v in figures.items() if k.endswith("_ms") and isinstance(v, float)}
    p50_ratio = round(ms["token_p50_ms"] / ms["floor_p50_ms"], 2)
    p99_ratio = round(ms["token_p99_ms"] / ms["floor_p99_ms"], 2)
    figures.update(
        token_p50_ratio=p50_ratio,
        token_p99_ratio=p99_ratio,
        within_target=p50_ratio <= 1.5 and p99_ratio <= 1.5,
    )
    print(
        f"1 in flight: floor p50 {ms['floor_p50_ms']} / p99 {ms['floor_p99_ms']} ms; cached "
        f"token p50 {ms['token_p50_ms']} / p99 {ms['token_p99_ms']} ms "
        f"(x{p50_ratio} / x{p99_ratio}; target 1.5x)"
    )
    print(f"{RPS_IN_FLIGHT} in flight, one tenant: {figures['token_rps']:,} token requests/s")
    print_figures(figures)


if __name__ == "__main__":
    asyncio.run(main())
