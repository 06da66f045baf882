"""Fixtures of the deploy checks: rendered overlays, and each Deployment's app as built.

Rendering needs kustomize (and validation kubeconform, the Dockerfile lint hadolint):
`make k8s-tools` installs them into .tools/, and `make test` does so first. Where they are
missing the tests that need them are skipped, saying so.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import certifi
import pytest

from deploy.k8s import validate
from tests.unit.deploy.manifests import (
    ROOT,
    Overlay,
    Resource,
    environment,
    import_name,
    rendered,
    service_dir,
)

PROBE = Path(__file__).with_name("app_probe.py")
# Values for the Secrets a Deployment references: valid in form, so settings load as in a
# pod; never real. A file setting gets a file holding the value.
SECRET_VALUES = {
    "AUTH_ENCRYPTION_KEYS": json.dumps({"k1": base64.b64encode(bytes(32)).decode()}),
    "AUTH_ENCRYPTION_KEY_ID": "k1",
    "CONSOLE_DATABASE_URL": "postgresql://console:placeholder@db.example:5432/console",
}
FILE_VALUES = {"INGEST_WEBHOOK_SECRETS_FILE": json.dumps({"10000": "placeholder-secret"})}


def _overlay(name: str) -> Overlay:
    try:
        return rendered(name)
    except validate.ToolMissing as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def prod() -> Overlay:
    return _overlay("prod")


@pytest.fixture(scope="session")
def prod_hpa() -> Overlay:
    return _overlay("prod-hpa")


@pytest.fixture(scope="session")
def dev() -> Overlay:
    return _overlay("dev")


@pytest.fixture(scope="session", params=["dev", "prod", "prod-hpa"])
def overlay(request: pytest.FixtureRequest) -> Overlay:
    return _overlay(str(request.param))


@dataclass(frozen=True)
class Probe:
    """A Deployment's app as its environment builds it (see app_probe.py)."""

    service_name: str
    group_id: str
    http_port: int
    shutdown_timeout_s: float
    env_prefix: str
    subscribers: list[dict[str, Any]]
    metrics: list[str]


def _probe_env(overlay: Overlay, deployment: Resource, tmp: Path) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "")}
    for name, value in environment(overlay, deployment).items():
        if isinstance(value, str):
            env[name] = value
        elif "secretKeyRef" in value:
            env[name] = SECRET_VALUES.get(name, "placeholder-secret")
    for name, content in FILE_VALUES.items():
        if name in env:
            path = tmp / name.lower()
            path.write_text(content, "utf-8")
            env[name] = str(path)
    if "KAFKA_SSL_CAFILE" in env:
        # The pod mounts the cluster CA there; any real CA bundle lets the TLS context load.
        env["KAFKA_SSL_CAFILE"] = certifi.where()
    return env


def probe(overlay: Overlay, deployment: Resource, tmp: Path) -> Probe | str:
    """Build the Deployment's app in a subprocess with the Deployment's environment; what
    went wrong when it does not build."""
    module = import_name(service_dir(deployment))
    result = subprocess.run(  # noqa: S603 - our own probe script
        [sys.executable, str(PROBE), module],
        env=_probe_env(overlay, deployment, tmp),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        return result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "no output"
    return Probe(**json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="session")
def probe_results(
    prod: Overlay, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Probe | str]:
    """Each prod Deployment's app, probed once per session, or why it did not build. A
    service whose app is not written yet is left out."""
    results: dict[str, Probe | str] = {}
    for deployment in prod.deployments():
        name = deployment["metadata"]["name"]
        module = import_name(service_dir(deployment))
        if importlib.util.find_spec(f"{module}.app") is not None:
            results[name] = probe(prod, deployment, tmp_path_factory.mktemp(name))
    return results


@pytest.fixture(scope="session")
def probes(probe_results: dict[str, Probe | str]) -> dict[str, Probe]:
    """The Deployments whose app built (test_code reports the others)."""
    return {k: v for k, v in probe_results.items() if isinstance(v, Probe)}
