"""Every overlay validates against the committed schemas, and the schemas do reject errors."""

from __future__ import annotations

import pytest
import yaml

from deploy.k8s import validate
from tests.unit.deploy.manifests import Overlay, overlay_names


def _conform(manifests: str) -> validate.Outcome:
    try:
        return validate.conform(manifests)
    except validate.ToolMissing as exc:
        pytest.skip(str(exc))


def test_the_overlays_are_dev_prod_and_prod_without_keda() -> None:
    assert overlay_names() == ["dev", "prod", "prod-hpa"]


def test_every_rendered_resource_is_valid(overlay: Overlay) -> None:
    outcome = _conform(yaml.safe_dump_all(overlay.resources))
    assert outcome.ok, outcome.output
    assert f"Valid: {len(overlay.resources)}," in outcome.output


@pytest.mark.parametrize(
    ("kind", "name", "breaks"),
    [
        ("Deployment", "auth", lambda r: r["spec"]["template"]["spec"].update(runAsNonRot=True)),
        (
            "KafkaUser",
            "auth",
            lambda r: r["spec"]["authorization"]["acls"][0].update(operations=["Reed"]),
        ),
        ("KafkaTopic", "chat.raw.v1", lambda r: r["spec"].update(partitions="12")),
        ("ScaledObject", "bot-actions", lambda r: r["spec"].update(maxReplicas=12)),
        ("PrometheusRule", "chat-salesforce", lambda r: r["spec"]["groups"][0].pop("name")),
        ("ServiceMonitor", "auth", lambda r: r["spec"]["endpoints"][0].update(port=8004)),
    ],
)
def test_an_invalid_resource_is_rejected(
    prod: Overlay, kind: str, name: str, breaks: object
) -> None:
    resource = yaml.safe_load(yaml.safe_dump(prod.get(kind, name)))  # a deep copy
    assert callable(breaks)
    breaks(resource)
    outcome = _conform(yaml.safe_dump(resource))
    assert not outcome.ok, f"{kind} {name} passed broken"


def test_a_kind_without_a_committed_schema_fails() -> None:
    outcome = _conform("apiVersion: v1\nkind: Secret\nmetadata: {name: x}\n")
    assert not outcome.ok
    assert "could not find schema" in outcome.output
