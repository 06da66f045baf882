"""The pipeline bench's world: N emulator orgs in one seed file, throwaway topics, and the
services as the processes they are in production (`python -m <service>`), each on a free
port, each restartable (SIGKILL, then the same command line again) and measured (peak RSS
across its restarts)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from _common import BOOTSTRAP, free_port
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from chat_contracts.topics import AUTH_REFRESH_TOKENS, TENANT_SETTINGS

# The services log warnings only, as the other benches run them; INFO to look into a run.
LOG_LEVEL = os.environ.get("BENCH_LOG_LEVEL", "WARNING")
CLIENT_ID = "3MVG9bench.pipeline.connected.app"
CHAT_ID_FIELDS = [
    {"object": o, "name": "Chat_Id__c", "external_id": True, "unique": True, "length": 64}
    for o in ("Task", "Case")
]
# Topic roles: (partitions, configs). Six partitions where the registry's topics scale.
TOPICS: dict[str, tuple[int, dict[str, str]]] = {
    "raw": (6, {}),
    "conversations": (6, {}),
    "chat_dlq": (1, {}),
    "results": (1, {}),
    "retry": (1, {}),
    "crm_dlq": (1, {}),
    "commands": (1, {}),
    "settings": (1, TENANT_SETTINGS.configs()),
    "token_requests": (6, {}),
    "refresh_tokens": (3, AUTH_REFRESH_TOKENS.configs()),
    "connections": (3, {}),
}


@dataclass(frozen=True)
class World:
    """What the bench made up: tenants in rank order (the first is the hot one), their
    webhook secrets, the seed file of their orgs, the connected app's secret."""

    tenants: list[str]
    webhook_secrets: dict[str, str]
    seed: Path
    client_secret: str


def make_world(workdir: Path, count: int) -> World:
    tenants = [f"t{n:04d}" for n in range(count)]
    client_secret = secrets.token_hex(16)
    orgs = [
        {
            "tenant_id": t,
            "name": f"Bench {t}",
            "client_id": CLIENT_ID,
            "client_secret": client_secret,
            "refresh_token": f"5Aep.{t}.{secrets.token_hex(12)}",
            "api_limit": 10_000_000,
            "custom_fields": CHAT_ID_FIELDS,
            "users": [
                {
                    "username": f"admin@{t}.bench.example",
                    "email": f"agent@{t}.bench.example",
                    "first_name": "Ann",
                    "last_name": "Agent",
                }
            ],
        }
        for t in tenants
    ]
    seed = workdir / "seed.json"
    seed.write_text(json.dumps({"orgs": orgs}))
    return World(tenants, {t: secrets.token_hex(16) for t in tenants}, seed, client_secret)


@contextlib.asynccontextmanager
async def bench_topics() -> AsyncIterator[dict[str, str]]:
    """Fresh topics by role (`TOPICS`), deleted afterwards."""
    run = uuid.uuid4().hex[:8]
    names = {role: f"bench.pipe.{role}.{run}" for role in TOPICS}
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(names[r], p, 1, topic_configs=c) for r, (p, c) in TOPICS.items()]
        )
        yield names
    finally:
        with contextlib.suppress(Exception):
            await admin.delete_topics(list(names.values()))
        await admin.close()


@dataclass
class Service:
    """One service process: started, killed (-9), restarted with the same command line."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None
    peak_rss_mb: float = 0.0
    restarts: list[float] = field(default_factory=list)  # seconds from kill to ready

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(  # noqa: S603 - our own services
                [sys.executable, *self.args],
                env={**os.environ, **self.env},
                stdout=out,
                stderr=out,
            )

    def sample_rss(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        mb = int(line.split()[1]) / 1024
                        self.peak_rss_mb = round(max(self.peak_rss_mb, mb), 1)

    def rss_mb(self) -> float:
        """VmRSS now, in MB (0 when not running)."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        return round(int(line.split()[1]) / 1024, 1)
        return 0.0

    async def ready(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(trust_env=False) as client:
            while time.monotonic() < deadline:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited:\n{self.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    answer = await client.get(f"http://127.0.0.1:{self.port}/readyz")
                    if answer.status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready in {timeout_s} s:\n{self.tail()}")

    async def kill_and_restart(self) -> float:
        """SIGKILL, start again, wait until ready; the seconds that took."""
        self.sample_rss()
        assert self.proc is not None
        killed = time.monotonic()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.start()
        await self.ready()
        took = round(time.monotonic() - killed, 2)
        self.restarts.append(took)
        return took

    def stop(self) -> None:
        self.sample_rss()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def auth_service(
    world: World, names: dict[str, str], emulator_url: str, ca: str, workdir: Path
) -> Service:
    port = free_port()
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": BOOTSTRAP,
        "AUTH_HTTP_HOST": "127.0.0.1",
        "AUTH_HTTP_PORT": str(port),
        "AUTH_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "AUTH_GROUP_ID": f"bench-pipe-auth-{uuid.uuid4().hex[:6]}",
        "AUTH_SF_LOGIN_URL": emulator_url,
        "AUTH_SF_SANDBOX_LOGIN_URL": f"{emulator_url}/sandbox",
        "AUTH_SF_CA_FILE": ca,
        "AUTH_BULK_SEED": str(world.seed),
        "AUTH_CLIENT_ID": CLIENT_ID,
        "AUTH_CLIENT_SECRET": world.client_secret,
        "AUTH_ENCRYPTION_KEYS": json.dumps({"bench": base64.b64encode(os.urandom(32)).decode()}),
        "AUTH_ADMIN_TOKEN": secrets.token_hex(16),
        "AUTH_LINK_SECRET": secrets.token_hex(16),
        "AUTH_LOG_LEVEL": LOG_LEVEL,
        "AUTH_TOKEN_REQUESTS_TOPIC": names["token_requests"],
        "AUTH_REFRESH_TOKENS_TOPIC": names["refresh_tokens"],
        "AUTH_CONNECTIONS_TOPIC": names["connections"],
        "AUTH_SETTINGS_TOPIC": names["settings"],
    }
    return Service("auth", ["-m", "auth_service"], env, workdir / "auth.log", port)


def ingest_service(
    n: int, world: World, names: dict[str, str], group: str, workdir: Path
) -> Service:
    secrets_file = workdir / "webhook-secrets.json"
    if not secrets_file.exists():
        secrets_file.write_text(json.dumps(world.webhook_secrets))
    port = free_port()
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": BOOTSTRAP,
        "INGEST_HTTP_HOST": "127.0.0.1",
        "INGEST_HTTP_PORT": str(port),
        "INGEST_LOG_LEVEL": LOG_LEVEL,
        "INGEST_WEBHOOK_SECRETS_FILE": str(secrets_file),
        "INGEST_GROUP_ID": group,
        "INGEST_RAW_TOPIC": names["raw"],
        "INGEST_CONVERSATIONS_TOPIC": names["conversations"],
        "INGEST_DLQ_TOPIC": names["chat_dlq"],
        "INGEST_TENANT_SETTINGS_TOPIC": names["settings"],
    }
    log = workdir / f"ingest-{n}.log"
    return Service(f"ingest-{n}", ["-m", "ingest_service"], env, log, port)


async def group_stable(group: str, members: int, timeout_s: float = 90.0) -> float:
    """Wait until the consumer group `group` is Stable with `members` members (the bench's
    phases start after the workers' first rebalances); the seconds it took."""
    started = time.monotonic()
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        while True:
            [response] = await admin.describe_consumer_groups([group])
            _, _, state, _, _, joined = response.groups[0][:6]
            if state == "Stable" and len(joined) == members:
                return round(time.monotonic() - started, 1)
            if time.monotonic() - started > timeout_s:
                raise TimeoutError(f"group {group}: {state} with {len(joined)} members")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


def crm_sync_service(
    n: int,
    names: dict[str, str],
    ca: str,
    group: str,
    workdir: Path,
    park_max_s: float,
    latency_target_s: float | None = None,
) -> Service:
    port = free_port()
    roles = {
        "CONVERSATIONS": "conversations",
        "RESULTS": "results",
        "RETRY": "retry",
        "DLQ": "crm_dlq",
        "COMMANDS": "commands",
        "SETTINGS": "settings",
        "TOKEN": "token_requests",
    }
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": BOOTSTRAP,
        "CRM_SYNC_HTTP_HOST": "127.0.0.1",
        "CRM_SYNC_HTTP_PORT": str(port),
        "CRM_SYNC_GROUP_ID": group,
        "CRM_SYNC_SF_CA_FILE": ca,
        "CRM_SYNC_LOG_LEVEL": LOG_LEVEL,
        # A fresh installation, set up as the crm-sync README says: Chat_Id__c unique, no
        # chats keyed the pre-tenant way to look for.
        "CRM_SYNC_LEGACY_CHAT_KEYS": "false",
        # The broken tenant's chats come back within the run once its org heals.
        "CRM_SYNC_PARK_BACKOFF_MAX_S": str(park_max_s),
        "CRM_SYNC_BUDGET_BACKOFF_S": str(park_max_s),
        **{f"CRM_SYNC_{role}_TOPIC": names[topic] for role, topic in roles.items()},
    }
    if latency_target_s is not None:
        env["CRM_SYNC_LATENCY_TARGET_S"] = str(latency_target_s)
    log = workdir / f"crm-sync-{n}.log"
    return Service(f"crm-sync-{n}", ["-m", "crm_sync"], env, log, port)


class Emulator:
    """The emulator's admin API, and the REST API as each org's admin user."""

    def __init__(self, url: str, ca: str) -> None:
        import ssl

        self.url = url
        self.client = httpx.AsyncClient(
            base_url=url,
            verify=ssl.create_default_context(cafile=ca),
            trust_env=False,
            timeout=120,
            limits=httpx.Limits(max_connections=16),
        )

    async def admin(self, method: str, path: str, body: Any = None) -> Any:
        answer = await self.client.request(method, f"/__admin{path}", json=body)
        answer.raise_for_status()
        return answer.json()

    async def query_all(self, token: str, soql: str) -> list[dict[str, Any]]:
        headers = {"Authorization": f"Bearer {token}"}
        answer = await self.client.get(
            "/services/data/v59.0/query", params={"q": soql}, headers=headers
        )
        answer.raise_for_status()
        page = answer.json()
        records: list[dict[str, Any]] = page["records"]
        while not page["done"]:
            answer = await self.client.get(page["nextRecordsUrl"], headers=headers)
            answer.raise_for_status()
            page = answer.json()
            records += page["records"]
        return records

    async def close(self) -> None:
        await self.client.aclose()


def peak_rss(pid: int) -> float:
    """VmHWM of a running process, in MB."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


KAFKA_SH = Path(__file__).resolve().parent.parent / "devtools" / "kafka" / "kafka.sh"
OWN_BROKER_ENV = "BENCH_PIPELINE_KAFKA_HOME"


class OwnBroker:
    """A broker of the bench's own: `devtools/kafka/kafka.sh` with its own home and free
    ports, from the jars `make kafka-install` resolved. Only such a broker is restarted by
    `--chaos`: the one on 9092 is shared with everyone else on the machine."""

    def __init__(self, home: Path) -> None:
        ports = {"KAFKA_PORT": free_port(), "KAFKA_CONTROLLER_PORT": free_port()}
        ports["KAFKA_SASL_PORT"] = free_port()
        self.env = {**os.environ, OWN_BROKER_ENV: str(home), "KAFKA_HOME": str(home)}
        self.env.update({k: str(v) for k, v in ports.items()})
        self.bootstrap = f"127.0.0.1:{ports['KAFKA_PORT']}"
        jars = KAFKA_SH.parent.parent.parent / ".cache" / "kafka" / "libs"
        home.mkdir(parents=True, exist_ok=True)
        if jars.is_dir() and not (home / "libs").exists():
            (home / "libs").symlink_to(jars)  # else kafka.sh resolves them itself

    @staticmethod
    def from_env() -> dict[str, str] | None:
        """The environment that restarts the bench's own broker, when it runs on one."""
        home = os.environ.get(OWN_BROKER_ENV)
        return {**os.environ, "KAFKA_HOME": home} if home else None

    def up(self) -> None:
        subprocess.run([str(KAFKA_SH), "up"], env=self.env, check=True)  # noqa: S603

    def down(self) -> None:
        # Quiet: it runs after the bench's figures, which must stay the last line.
        subprocess.run(  # noqa: S603
            [str(KAFKA_SH), "down"], env=self.env, check=True, stdout=subprocess.DEVNULL
        )


def restart_own_broker(env: dict[str, str]) -> float:
    """Stop the bench's own broker and start it again; the seconds until it answers."""
    started = time.monotonic()
    subprocess.run([str(KAFKA_SH), "down"], env=env, check=True)  # noqa: S603
    subprocess.run([str(KAFKA_SH), "up"], env=env, check=True)  # noqa: S603
    return round(time.monotonic() - started, 2)
