"""Session fixtures for the Salesforce emulator: one real emulator process per test run.

Import as a pytest plugin (`pytest_plugins = ["tests.emulator_fixtures"]` in the root
conftest). The emulator runs as a subprocess on a free loopback port with an in-memory
database; each test creates the orgs it needs through the admin API, so tests never
share records. Set `SF_EMULATOR_URL` and `SF_EMULATOR_CA` to use an emulator that is
already running instead.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from simple_salesforce.api import Salesforce, SFType
from simple_salesforce.exceptions import SalesforceError

READY_TIMEOUT = 30.0


def sobject(sf: Salesforce, name: str) -> SFType:
    """`sf.<name>` for an sObject name: simple-salesforce types the attribute as a union
    with its bulk handlers, which only `bulk` and `bulk2` return."""
    handler = getattr(sf, name)
    assert isinstance(handler, SFType)
    return handler


def rest(sf: Salesforce, path: str, **kwargs: Any) -> Any:
    """`sf.restful(...)` for a call that answers with a JSON body (never 204 or empty)."""
    result = sf.restful(path, **kwargs)
    assert result is not None
    return result


def error_content(exc: SalesforceError) -> list[Any]:
    """The parsed JSON body of a failed call.

    simple-salesforce annotates `content` as bytes, but it raises with `response.json()`
    (a list for every Salesforce error body, and for upsert's 300 list of record URLs).
    """
    content: object = exc.content
    assert isinstance(content, list)
    return content


@dataclass(frozen=True)
class EmulatorOrg:
    """What `POST /__admin/orgs` returned (see the emulator's README)."""

    org_id: str
    name: str
    sandbox: bool
    instance_url: str
    login_url: str
    username: str
    password: str
    user_id: str
    access_token: str
    refresh_token: str
    client_id: str
    client_secret: str
    users: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SalesforceEmulator:
    """A running emulator: its base URL, its CA file, and admin helpers."""

    url: str
    ca_file: str
    admin: httpx.Client

    def create_org(self, **spec: Any) -> EmulatorOrg:
        resp = self.admin.post("/__admin/orgs", json=spec)
        resp.raise_for_status()
        known = EmulatorOrg.__dataclass_fields__
        return EmulatorOrg(**{k: v for k, v in resp.json().items() if k in known})

    def http_session(self) -> requests.Session:
        """A requests session that trusts the emulator's CA.

        `trust_env` is off because requests lets `REQUESTS_CA_BUNDLE` override `verify`.
        """
        session = requests.Session()
        session.verify = self.ca_file
        session.trust_env = False
        return session

    def client(
        self, org: EmulatorOrg, token: str | None = None, version: str = "59.0"
    ) -> Salesforce:
        """simple-salesforce, connected exactly as to a real org."""
        return Salesforce(
            instance_url=org.instance_url,
            session_id=token or org.access_token,
            session=self.http_session(),
            version=version,
        )

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.admin.request(method, path, **kwargs)

    def set_faults(self, org_id: str, **faults: Any) -> dict[str, Any]:
        resp = self.admin.post(f"/__admin/orgs/{org_id}/faults", json=faults)
        resp.raise_for_status()
        return dict(resp.json())

    def usage(self, org_id: str) -> dict[str, Any]:
        return dict(self.admin.get(f"/__admin/orgs/{org_id}/usage").json())

    def new_session(self, org_id: str) -> str:
        return str(self.admin.post(f"/__admin/orgs/{org_id}/sessions").json()["access_token"])


def _trusting(ca_file: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_file)


def _read_ready(proc: subprocess.Popen[str]) -> dict[str, Any]:
    """The emulator's ready line, or a failure naming what it printed instead."""
    box: dict[str, Any] = {}

    def read() -> None:
        assert proc.stdout is not None
        box["line"] = proc.stdout.readline()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(READY_TIMEOUT)
    line = box.get("line", "")
    if not line:
        proc.kill()
        raise RuntimeError("the Salesforce emulator did not start (no ready line)")
    return dict(json.loads(line))


@pytest.fixture(scope="session")
def sf_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SalesforceEmulator]:
    """One emulator process for the session (or the one `SF_EMULATOR_URL` names)."""
    if os.environ.get("SF_EMULATOR_URL"):
        url, ca = os.environ["SF_EMULATOR_URL"], os.environ["SF_EMULATOR_CA"]
        with httpx.Client(base_url=url, verify=_trusting(ca), trust_env=False) as admin:
            yield SalesforceEmulator(url, ca, admin)
        return
    workdir = tmp_path_factory.mktemp("sf-emulator")
    log = (workdir / "emulator.log").open("w")
    proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [
            sys.executable,
            "-m",
            "sf_emulator",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--tls-dir",
            str(workdir / "tls"),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        ready = _read_ready(proc)
        with httpx.Client(
            base_url=ready["url"], verify=_trusting(ready["ca_file"]), trust_env=False, timeout=30
        ) as admin:
            yield SalesforceEmulator(ready["url"], ready["ca_file"], admin)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        if proc.returncode not in (0, -15, None):
            print(Path(log.name).read_text(), file=sys.stderr)


@pytest.fixture(scope="session")
def sf_emulator_url(sf_emulator: SalesforceEmulator) -> str:
    """Base URL (`https://127.0.0.1:PORT`): instance URL and production login URL."""
    return sf_emulator.url


@pytest.fixture(scope="session")
def sf_emulator_ca(sf_emulator: SalesforceEmulator) -> str:
    """Path of the CA certificate clients must trust to reach the emulator."""
    return sf_emulator.ca_file


@pytest.fixture
def sf_org_factory(sf_emulator: SalesforceEmulator) -> Callable[..., EmulatorOrg]:
    """`create(**spec)` makes a fresh org through the admin API (body of POST /__admin/orgs)."""
    return sf_emulator.create_org


@pytest.fixture
def sf_org(sf_emulator: SalesforceEmulator) -> EmulatorOrg:
    """A fresh production org with default settings."""
    return sf_emulator.create_org(name="Test Org")


@pytest.fixture
def sf(sf_emulator: SalesforceEmulator, sf_org: EmulatorOrg) -> Salesforce:
    """simple-salesforce connected to `sf_org`."""
    return sf_emulator.client(sf_org)
