"""bot-actions as a process, restarted with requests in flight: every caller gets a reply
or a clean timeout, nothing hangs. SIGTERM drains (in-flight requests are answered);
SIGKILL loses the process mid-request (the restarted one answers what is still in time)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings

from chat_bot_client.client import BotActionsClient
from chat_runtime.request_reply import RequestReplyClient, RequestTimeout
from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator
from tests.integration.bot_actions.test_hostile_property import requests
from tests.integration.salesforce.fake_auth import FakeAuth
from tests.k8s_limits import memory_limit_mib, peak_rss_mib
from tests.kafka_helpers import temp_topic
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


class BotProcess:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot_actions"],
            env={**self.env, "BOT_ACTIONS_HTTP_PORT": str(port)},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("bot-actions did not become ready")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)


Setup = tuple[BotProcess, BotActionsClient, FakeAuth, str, str]
"""The process, a client, auth's stand-in, the org id, the request topic."""


@pytest.fixture
async def setup(
    kafka_bootstrap: str,
    sf_emulator: SalesforceEmulator,
    sf_org_factory: Callable[..., EmulatorOrg],
) -> AsyncIterator[Setup]:
    async with (
        temp_topic(kafka_bootstrap, "e2e-bot", partitions=3) as request_topic,
        temp_topic(kafka_bootstrap, "e2e-tokens") as token_topic,
        FakeAuth(kafka_bootstrap, token_topic, sf_emulator) as auth,
        RequestReplyClient(kafka_bootstrap, name="e2e-bot") as rr,
    ):
        org = sf_org_factory(
            name="E2E", records={"Lead": [{"LastName": "A", "Company": "B", "Email": "a@b.co"}]}
        )
        auth.connect("10000", org)
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "BOT_ACTIONS_REQUEST_TOPIC": request_topic,
            "BOT_ACTIONS_TOKEN_TOPIC": token_topic,
            "BOT_ACTIONS_GROUP_ID": f"e2e-bot-{uuid.uuid4().hex[:8]}",
            "BOT_ACTIONS_SALESFORCE_CA_FILE": sf_emulator.ca_file,
            "BOT_ACTIONS_HTTP_HOST": "127.0.0.1",
            "BOT_ACTIONS_SHUTDOWN_TIMEOUT_S": "5",
            "BOT_ACTIONS_LOG_LEVEL": "WARNING",
        }
        process = BotProcess(env)
        process.start()
        try:
            yield (
                process,
                BotActionsClient(rr, topic=request_topic),
                auth,
                org.org_id,
                request_topic,
            )
        finally:
            process.stop(signal.SIGKILL)


async def _outcomes(calls: list[Any]) -> list[str]:
    out = []
    for result in await asyncio.gather(*calls, return_exceptions=True):
        if isinstance(result, RequestTimeout):
            out.append("timeout")
        elif isinstance(result, BaseException):
            raise result
        else:
            out.append(result.status)
    return out


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
async def test_restart_with_requests_in_flight(
    setup: Setup,
    sf_emulator: SalesforceEmulator,
    sig: int,
) -> None:
    process, bot, _, org_id, _ = setup
    assert (await bot.find_record("10000", "Lead", "Email", "a@b.co", timeout=20)).status == "found"
    sf_emulator.set_faults(org_id, latency_ms=300)
    started = time.monotonic()
    calls = [bot.find_record("10000", "Lead", "Email", "a@b.co", timeout=15) for _ in range(40)]
    pending = asyncio.ensure_future(_outcomes(calls))
    await asyncio.sleep(0.5)
    await asyncio.to_thread(process.stop, sig)
    await asyncio.to_thread(process.start)
    outcomes = await asyncio.wait_for(pending, timeout=30)
    assert time.monotonic() - started < 30
    assert set(outcomes) <= {"found", "timeout"}
    if sig == signal.SIGTERM:  # drained: everything in flight was answered
        assert outcomes.count("found") == len(outcomes)
    else:  # redelivered to the new process, answered while the callers still waited
        assert outcomes.count("found") >= len(outcomes) // 2
    sf_emulator.set_faults(org_id)
    assert (await bot.find_record("10000", "Lead", "Email", "a@b.co", timeout=10)).status == "found"


async def test_hostile_requests_get_one_clear_answer_within_the_memory_limit(
    setup: Setup, kafka_bootstrap: str
) -> None:
    # The generated hostile requests of the in-process suite, against the process.
    process, _, _, _, topic = setup
    bodies: list[dict[str, Any]] = []

    @settings(max_examples=120, derandomize=True, database=None, deadline=None)
    @given(requests("10000"))
    def collect(body: dict[str, Any]) -> None:
        bodies.append(body)

    collect()
    raw = [json.dumps(b).encode() for b in bodies] + [b"{not json", b"\xff\xfe", b"[]"]
    async with RequestReplyClient(kafka_bootstrap, name="e2e-bot-hostile") as rr:
        replies = await asyncio.gather(
            *(rr.request(topic, body, key=b"10000", timeout=30) for body in raw)
        )
    for body, reply in zip(raw, replies, strict=True):
        answer = reply.json()
        if answer.get("status") == "error":
            assert answer["code"] not in {"internal", "deadline_exceeded"}, (body, answer)
    assert process.proc is not None
    assert process.proc.poll() is None, "bot-actions crashed"
    assert peak_rss_mib(process.proc.pid) < memory_limit_mib("bot-actions")
