"""auth as it runs (`python -m auth_service`, configured by its environment) in local-run
mode: the demo tenant is connected at start without clicking, and an admin connects
another tenant in a real headless Chromium (Debian's `chromium`, driven by Playwright;
no browser download): open the page, click Connect, log in and allow at the emulator,
land back on the page showing Connected with the org id. Screenshots go to
`artifacts/auth/` (git-ignored)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from chat_contracts.auth import token_fingerprint
from chat_runtime.request_reply import RequestReplyClient
from tests.emulator_fixtures import SalesforceEmulator
from tests.integration.auth.support import (
    AuthTopics,
    ask,
    auth_topics,
    eventually,
    granted,
)
from tests.integration.auth.test_connect import HOSTILE_VALUES, ROUTES, hostile_calls, send
from tests.k8s_limits import memory_limit_mib, peak_rss_mib
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "devtools" / "salesforce-emulator" / "demo-seed.json"
ARTIFACTS = ROOT / "artifacts" / "auth"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ADMIN_TOKEN = "e2e-admin-token"
DEMO_ORG: dict[str, Any] = json.loads(SEED.read_text())["orgs"][0]


@dataclass
class AuthProcess:
    url: str
    topics: AuthTopics
    log: IO[bytes]
    pid: int

    def log_text(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


@pytest.fixture(scope="module")
async def auth_process(
    kafka_bootstrap: str, sf_emulator: SalesforceEmulator
) -> AsyncIterator[AuthProcess]:
    # The emulator of `make run` is started with the demo seed; this one gets the same org.
    created = sf_emulator.admin.post("/__admin/orgs", json=DEMO_ORG)
    assert created.status_code in (201, 409), created.text
    async with auth_topics(kafka_bootstrap) as topics:
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AUTH_")},
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "AUTH_HTTP_HOST": "127.0.0.1",
            "AUTH_HTTP_PORT": str(port),
            "AUTH_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "AUTH_GROUP_ID": f"e2e-auth-{uuid.uuid4().hex[:8]}",
            "AUTH_SF_LOGIN_URL": sf_emulator.url,
            "AUTH_SF_SANDBOX_LOGIN_URL": f"{sf_emulator.url}/sandbox",
            "AUTH_SF_CA_FILE": sf_emulator.ca_file,
            "AUTH_DEMO_SEED": str(SEED),
            "AUTH_ADMIN_TOKEN": ADMIN_TOKEN,
            "AUTH_LINK_SECRET": "e2e-link-secret",
            "AUTH_ENCRYPTION_KEYS": json.dumps({"e2e": base64.b64encode(os.urandom(32)).decode()}),
            "AUTH_TOKEN_REQUESTS_TOPIC": topics.requests,
            "AUTH_REFRESH_TOKENS_TOPIC": topics.refresh_tokens,
            "AUTH_CONNECTIONS_TOPIC": topics.connections,
            "AUTH_MAX_IN_FLIGHT": "16",
            "AUTH_SHUTDOWN_TIMEOUT_S": "2",
        }
        with tempfile.TemporaryFile() as log:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "auth_service", env=env, stdout=log, stderr=log
            )
            running = AuthProcess(f"http://127.0.0.1:{port}", topics, log, proc.pid)
            try:
                await _wait_ready(running, proc)
                yield running
            finally:
                if proc.returncode is None:
                    proc.terminate()
                    try:
                        await asyncio.wait_for(proc.wait(), 15)
                    except TimeoutError:
                        proc.kill()
                assert proc.returncode in (0, -15), running.log_text()[-3000:]


async def _wait_ready(auth: AuthProcess, proc: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient(base_url=auth.url, timeout=2) as web:
        for _ in range(300):
            assert proc.returncode is None, auth.log_text()[-3000:]
            try:
                if (await web.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"auth did not become ready:\n{auth.log_text()[-3000:]}")


def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def test_the_demo_tenant_is_connected_at_start_without_clicking(
    auth_process: AuthProcess, kafka_bootstrap: str
) -> None:
    async def connected() -> dict[str, Any] | None:
        async with httpx.AsyncClient(base_url=auth_process.url, timeout=5) as web:
            body: dict[str, Any] = (
                await web.get("/admin/status", params={"tenant": "10000"}, headers=admin())
            ).json()
        return body if body["state"] == "connected" else None

    status = await eventually(connected)
    assert status["org_id"] == DEMO_ORG["org_id"]
    assert status["username"] == "admin@demo.example"
    async with RequestReplyClient(kafka_bootstrap, name="auth-e2e") as rr:
        reply = granted(await ask(rr, auth_process.topics.requests, "10000"))
        # The demo org rotates refresh tokens, as real orgs do: the connection must hold
        # the token the seed's was exchanged for, or this refresh revokes the tenant.
        refused = token_fingerprint(reply.access_token.get_secret_value())
        again = await ask(
            rr, auth_process.topics.requests, "10000", rejected_token_fingerprint=refused
        )
        granted(again)
    assert reply.org_id == DEMO_ORG["org_id"]
    assert DEMO_ORG["refresh_token"] not in auth_process.log_text()


@pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="Debian's chromium is not installed (`make setup` installs it: apt-get install "
    "chromium)",
)
async def test_an_admin_connects_a_tenant_in_a_real_browser(
    auth_process: AuthProcess, sf_emulator: SalesforceEmulator
) -> None:
    from playwright.async_api import async_playwright

    org = sf_emulator.create_org(
        name="Browser Org",
        client_id=DEMO_ORG["client_id"],
        client_secret=DEMO_ORG["client_secret"],
    )
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=auth_process.url, timeout=10) as web:
        link = (
            await web.post("/admin/connect-link", params={"tenant": tenant}, headers=admin())
        ).json()["url"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # The emulator's certificate comes from its own local CA.
            context = await browser.new_context(ignore_https_errors=True)
            page = await context.new_page()
            await page.goto(link)
            assert await page.inner_text("#status") == "Not connected"
            await page.screenshot(path=ARTIFACTS / "1-not-connected.png", full_page=True)

            await page.click("#connect_production")
            await page.wait_for_url(f"{sf_emulator.url}/services/oauth2/authorize*")
            await page.fill("input[name=username]", org.username)
            await page.fill("input[name=password]", org.password)
            await page.screenshot(path=ARTIFACTS / "2-salesforce-login.png", full_page=True)
            await page.click("button[value=allow]")

            await page.wait_for_url(f"{auth_process.url}/connect?*notice=connected*")
            assert await page.inner_text("#status") == "Connected"
            assert await page.inner_text("#org-id") == org.org_id
            assert "can be queried, created and updated" in await page.inner_text("#permissions")
            await page.screenshot(path=ARTIFACTS / "3-connected.png", full_page=True)
        finally:
            await browser.close()
    assert (ARTIFACTS / "3-connected.png").stat().st_size > 0
    assert org.access_token not in auth_process.log_text()


def test_a_missing_secret_stops_auth_naming_the_variable() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH_")}
    result = subprocess.run(
        [sys.executable, "-m", "auth_service"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "AUTH_CLIENT_SECRET" in result.stderr
    assert "AUTH_ENCRYPTION_KEYS" in result.stderr


async def test_hostile_requests_and_token_requests_never_crash_it_nor_its_memory_limit(
    auth_process: AuthProcess, kafka_bootstrap: str
) -> None:
    # With the admin token, not the disconnect (nor the permission check and settings
    # read): this process's demo tenant must stay connected for the module's other tests.
    left_out = {"/admin/disconnect", "/admin/permission-check"}
    routes = [r for r in ROUTES if r[1] not in left_out and r != ("GET", "/admin/settings")]
    authorizations = ["", "Bearer wrong", f"Bearer {ADMIN_TOKEN}", "Basic x"]
    calls = hostile_calls(routes, authorizations, 100, 4)
    async with httpx.AsyncClient(base_url=auth_process.url, timeout=10) as web:
        for call in calls:
            response = await send(web, call)
            assert response.status_code < 500, (call, response.status_code)
        big = await web.post("/connect", content=b"a=" + b"x" * (8 * 1024 * 1024))
        assert big.status_code == 413
    bodies = [json.dumps({"tenant_id": value}).encode() for value in HOSTILE_VALUES if value] + [
        b"{not json",
        b"\xff",
        b"[]",
        json.dumps({"tenant_id": "x" * 100_000}).encode(),
    ]
    async with RequestReplyClient(kafka_bootstrap, name="e2e-auth-hostile") as rr:
        replies = await asyncio.gather(
            *(
                rr.request(auth_process.topics.requests, body, key=b"t", timeout=20)
                for body in bodies
            )
        )
    for body, reply in zip(bodies, replies, strict=True):
        answer = reply.json()
        assert answer.get("code") != "internal", (body, answer)
    async with httpx.AsyncClient(base_url=auth_process.url, timeout=10) as web:
        assert (await web.get("/readyz")).status_code == 200
    assert peak_rss_mib(auth_process.pid) < memory_limit_mib("auth")
