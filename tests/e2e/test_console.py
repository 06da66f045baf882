"""The console with the suite as it runs: crm-sync and the console as their own processes
(`python -m crm_sync`, `python -m console_service`), the Salesforce emulator over HTTPS,
the real broker. A chat Salesforce refuses shows in the console with Salesforce's message;
once the cause is gone, "replay" writes it and the history says ok; replaying again
creates nothing. Then the same in a real headless Chromium (Debian's `chromium`, driven by
Playwright): overview, failed chat, dead letters, replay; screenshots go to
`artifacts/console/` (git-ignored)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from chat_contracts.chat import Conversation
from chat_contracts.keys import tenant_key
from chat_contracts.settings import FieldMappingRule, TenantSettings
from chat_runtime.links import sign_link
from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator
from tests.integration.crm_sync.support import (
    CHAT_ID_FIELDS,
    CrmProcess,
    Producer,
    TokenResponder,
    Topics,
    chat,
    crm_env,
    temp_topics,
)
from tests.kafka_helpers import temp_topic
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "console"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
ADMIN_TOKEN = "e2e-console-admin-token"
LINK_SECRET = "e2e-console-link-secret"
REGION = {"object": "Lead", "name": "Region__c", "type": "string", "required": True}
WAIT_S = 60.0


@dataclass
class Stack:
    bootstrap: str
    topics: Topics
    console_url: str
    emulator: SalesforceEmulator
    responder: TokenResponder
    producer: Producer

    def admin(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.console_url,
            timeout=10,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )

    def tenant(self) -> tuple[str, EmulatorOrg]:
        """A tenant whose org requires a Lead field no mapping fills yet."""
        tenant = f"con-{uuid.uuid4().hex[:8]}"
        org = self.emulator.create_org(custom_fields=[*CHAT_ID_FIELDS, REGION])
        self.responder.add(tenant, org)
        return tenant, org

    async def refused_chat(self, tenant: str) -> Conversation:
        conv = chat(tenant)
        await self.producer.conversations(self.topics.conversations, [conv])
        return conv

    async def fix(self, tenant: str) -> None:
        """What the admin does about it: map a value to the required field."""
        rule = FieldMappingRule(object="Lead", value="EMEA", target="Region__c")
        settings = TenantSettings(tenant_id=tenant, field_mapping=[rule])
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(
                self.topics.settings, settings.model_dump_json().encode(), key=tenant_key(tenant)
            )
        finally:
            await producer.stop()

    def tasks(self, org: EmulatorOrg) -> list[str]:
        sf = self.emulator.client(org, token=self.emulator.new_session(org.org_id))
        records = sf.query_all("SELECT Chat_Id__c FROM Task")["records"]
        return [str(r["Chat_Id__c"]) for r in records]


def _start_console(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`python -m console_service`, as `make run` and Kubernetes start it."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "console_service"], env=env, stdout=out, stderr=out
        )


async def _ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    async with asyncio.timeout(WAIT_S), httpx.AsyncClient() as client:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the console exited: see {log}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)


@pytest.fixture(scope="module")
async def stack(
    kafka_bootstrap: str, sf_emulator: SalesforceEmulator, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    work = tmp_path_factory.mktemp("console-e2e")
    responder = TokenResponder(sf_emulator)
    producer = Producer(kafka_bootstrap)
    await producer.start()
    async with (
        temp_topics(kafka_bootstrap) as topics,
        temp_topic(kafka_bootstrap, "con-e2e-connections") as connections,
        responder.serving(kafka_bootstrap, topics.tokens),
    ):
        crm = CrmProcess(
            crm_env(
                kafka_bootstrap, topics, sf_emulator.ca_file, f"crm-con-{uuid.uuid4().hex[:6]}"
            ),
            work / "crm-sync.log",
        )
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CONSOLE_")},
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "CONSOLE_HTTP_HOST": "127.0.0.1",
            "CONSOLE_HTTP_PORT": str(port),
            "CONSOLE_DATABASE_URL": f"sqlite:///{work / 'console.sqlite'}",
            "CONSOLE_ADMIN_TOKEN": ADMIN_TOKEN,
            "CONSOLE_LINK_SECRET": LINK_SECRET,
            "CONSOLE_GROUP_ID": f"console-e2e-{uuid.uuid4().hex[:6]}",
            "CONSOLE_RESULTS_TOPIC": topics.results,
            "CONSOLE_CRM_DLQ_TOPIC": topics.dlq,
            "CONSOLE_CHAT_DLQ_TOPIC": topics.chat_dlq,
            "CONSOLE_CONNECTIONS_TOPIC": connections,
            "CONSOLE_AUDIT_TOPIC": topics.audit,
            "CONSOLE_COMMANDS_TOPIC": topics.commands,
            "CONSOLE_LOG_LEVEL": "INFO",
        }
        log = work / "console.log"
        console = _start_console(env, log)
        url = f"http://127.0.0.1:{port}"
        try:
            await crm.ready()
            await _ready(url, console, log)
            yield Stack(kafka_bootstrap, topics, url, sf_emulator, responder, producer)
        finally:
            console.terminate()
            crm.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                console.wait(timeout=20)
            await producer.stop()
    assert ADMIN_TOKEN not in log.read_text()
    assert LINK_SECRET not in log.read_text()


async def _until(check: Any) -> Any:
    async with asyncio.timeout(WAIT_S):
        while True:
            if found := await check():
                return found
            await asyncio.sleep(0.2)


async def _chat(web: httpx.AsyncClient, tenant: str, chat_id: str, status: str) -> Any:
    async def check() -> Any:
        response = await web.get(f"/api/tenants/{tenant}/chats", params={"chat_id": chat_id})
        items = response.json().get("items", []) if response.status_code == 200 else []
        return items[0] if items and items[0]["status"] == status else None

    return await _until(check)


async def test_a_refused_chat_shows_with_salesforces_message_and_one_replay_lands_it(
    stack: Stack,
) -> None:
    tenant, org = stack.tenant()
    conv = await stack.refused_chat(tenant)
    async with stack.admin() as web:
        loop = asyncio.get_running_loop()
        started = loop.time()
        failed = await _chat(web, tenant, conv.chat_id, "failed")
        shown_after = loop.time() - started
        assert failed["error"]["salesforce_error_code"] == "REQUIRED_FIELD_MISSING"
        assert "Region__c" in failed["error"]["message"]
        assert shown_after < 15, shown_after

        await stack.fix(tenant)
        letters = (await web.get(f"/api/tenants/{tenant}/dead-letters")).json()["items"]
        assert [d["chat_id"] for d in letters] == [conv.chat_id]
        replay = await web.post(f"/api/tenants/{tenant}/dead-letters/replay", json={"all": True})
        assert replay.status_code == 202, replay.text
        written = await _chat(web, tenant, conv.chat_id, "ok")
        assert written["records"]["activity"]["object"] == "Task"
        assert written["error"] is None

        again = await web.post(
            f"/api/tenants/{tenant}/dead-letters/replay", json={"ids": [letters[0]["id"]]}
        )
        assert again.status_code == 202
        await _chat(web, tenant, conv.chat_id, "deduped")
        assert stack.tasks(org) == [f"chat:{tenant}:{conv.chat_id}"]
        detail = (await web.get(f"/api/tenants/{tenant}/chats/{conv.chat_id}")).json()
        assert [a["status"] for a in detail["attempts"]] == ["deduped", "ok", "failed"]

        async def answered() -> Any:
            items = (await web.get(f"/api/tenants/{tenant}/commands")).json()["items"]
            return items if all(c["status"] == "accepted" for c in items) else None

        commands = await _until(answered)
        assert [(c["kind"], c["requeued"]) for c in commands] == [("replay_dead_letters", 1)] * 2
        audit = (await web.get(f"/api/tenants/{tenant}/audit")).json()["items"]
        assert {(a["service"], a["action"]) for a in audit} >= {
            ("console", "console.replay"),
            ("crm-sync", "crm.replay"),
        }


@pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="Debian's chromium is not installed (`make setup` installs it: apt-get install "
    "chromium)",
)
async def test_an_admin_replays_a_failed_chat_in_a_real_browser(stack: Stack) -> None:
    from playwright.async_api import async_playwright

    tenant, org = stack.tenant()
    conv = await stack.refused_chat(tenant)
    async with stack.admin() as web:
        await _chat(web, tenant, conv.chat_id, "failed")
    await stack.fix(tenant)
    link = sign_link(tenant, now=time.time(), ttl_s=900, secret=LINK_SECRET.encode())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            await page.goto(f"{stack.console_url}/console/{tenant}?{urlencode(link)}")
            assert "Overview" in await page.inner_text("h1")
            await page.screenshot(path=ARTIFACTS / "1-overview.png", full_page=True)

            await page.click("a.failed-link")
            await page.click("a.chat-link")
            assert "REQUIRED_FIELD_MISSING" in await page.inner_text(".sf-error")
            await page.screenshot(path=ARTIFACTS / "2-failed-chat.png", full_page=True)

            await page.click("nav >> text=Dead letters")
            await page.check("input[name=letter]")
            await page.screenshot(path=ARTIFACTS / "3-dead-letters.png", full_page=True)
            await page.click("#replay-selected")
            assert "Replay of 1 dead letter(s) requested." in await page.inner_text(".flash")
            await page.screenshot(path=ARTIFACTS / "4-replay-requested.png", full_page=True)

            async with stack.admin() as web:
                await _chat(web, tenant, conv.chat_id, "ok")
            await page.goto(
                f"{stack.console_url}/console/{tenant}/chats/{conv.chat_id}?{urlencode(link)}"
            )
            assert await page.inner_text(".chat-detail .status") == "ok"
            await page.screenshot(path=ARTIFACTS / "5-written.png", full_page=True)
        finally:
            await browser.close()
    assert stack.tasks(org) == [f"chat:{tenant}:{conv.chat_id}"]
    assert (ARTIFACTS / "5-written.png").stat().st_size > 0
