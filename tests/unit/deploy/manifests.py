"""Reading rendered overlays: the resources kustomize builds, looked up by kind and name."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from deploy.k8s import validate

ROOT = validate.ROOT
IMAGE_PREFIX = "chat-salesforce/"
RUN_AS = 10001  # the user deploy/Dockerfile creates
Resource = dict[str, Any]


@dataclass(frozen=True)
class Overlay:
    """One rendered overlay."""

    name: str
    resources: tuple[Resource, ...]

    def of_kind(self, kind: str) -> list[Resource]:
        return [r for r in self.resources if r["kind"] == kind]

    def get(self, kind: str, name: str) -> Resource:
        for r in self.of_kind(kind):
            if r["metadata"]["name"] == name:
                return r
        raise KeyError(f"{self.name}: no {kind} {name}")

    def has(self, kind: str, name: str) -> bool:
        return any(r["metadata"]["name"] == name for r in self.of_kind(kind))

    def deployments(self) -> list[Resource]:
        return self.of_kind("Deployment")

    def scalers_of(self, deployment: str) -> list[Resource]:
        """ScaledObjects and HPAs that target `deployment`."""
        return [
            r
            for r in self.resources
            if r["kind"] in {"ScaledObject", "HorizontalPodAutoscaler"}
            and r["spec"]["scaleTargetRef"]["name"] == deployment
        ]


@cache
def rendered(name: str) -> Overlay:
    """The overlay `deploy/k8s/overlays/<name>`, built by kustomize (once per session)."""
    text = validate.render(validate.OVERLAYS_DIR / name)
    return Overlay(name, tuple(d for d in yaml.safe_load_all(text) if d))


def overlay_names() -> list[str]:
    return [p.name for p in validate.overlays()]


def container(deployment: Resource) -> Resource:
    """The one container of a Deployment (every workload of the suite has one)."""
    containers: list[Resource] = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, f"{deployment['metadata']['name']}: one container expected"
    return containers[0]


def pod_labels(deployment: Resource) -> dict[str, str]:
    labels: dict[str, str] = deployment["spec"]["template"]["metadata"]["labels"]
    return labels


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def service_dir(deployment: Resource) -> str:
    """`services/<dir>` whose image the Deployment runs (`chat-salesforce/<dir>:<tag>`)."""
    image: str = container(deployment)["image"]
    assert image.startswith(IMAGE_PREFIX), image
    return image.removeprefix(IMAGE_PREFIX).split(":", 1)[0]


def image_tag(deployment: Resource) -> str:
    image: str = container(deployment)["image"]
    return image.rsplit(":", 1)[1] if ":" in image.split("/")[-1] else ""


def environment(overlay: Overlay, deployment: Resource) -> dict[str, Any]:
    """The container's environment as Kubernetes builds it: envFrom ConfigMaps, then `env`.

    A literal is a str; a reference to a Secret or ConfigMap key stays a dict
    (`{"secretKeyRef": {...}}`), since its value is not in the manifests.
    """
    spec = container(deployment)
    env: dict[str, Any] = {}
    for source in spec.get("envFrom", []):
        assert "configMapRef" in source, "secrets go in one by one, named, never envFrom"
        env.update(overlay.get("ConfigMap", source["configMapRef"]["name"]).get("data", {}))
    for var in spec.get("env", []):
        env[var["name"]] = var["value"] if "value" in var else var["valueFrom"]
    return env


@cache
def pyproject(service: str) -> dict[str, Any]:
    with (ROOT / "services" / service / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def import_name(service: str) -> str:
    """The service's import package (`ingest_service` for services/ingest)."""
    data = pyproject(service)
    name = data.get("tool", {}).get("uv", {}).get("build-backend", {}).get("module-name")
    return str(name or data["project"]["name"].replace("-", "_"))


# A metric selector in PromQL, as the rules and the dashboard write them: `name{...}`.
_SELECTOR = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\{")


def promql_metrics(expr: str) -> set[str]:
    return set(_SELECTOR.findall(expr))


def walk(node: Any) -> Iterator[Any]:
    """Every dict and list inside `node`, depth first."""
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def read(path: Path) -> str:
    return path.read_text("utf-8")
