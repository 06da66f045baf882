"""Autoscaling: KEDA on each consumer group's lag, never past its partitions; HPAs without KEDA."""

from __future__ import annotations

from deploy.k8s.access import workload
from tests.unit.deploy.manifests import Overlay, Resource


def _autoscaled(overlay: Overlay) -> list[Resource]:
    return [
        d
        for d in overlay.deployments()
        if d["metadata"].get("annotations", {}).get("chat-salesforce.io/autoscaling") != "none"
    ]


def _partition_cap(deployment: Resource) -> int | None:
    """The most replicas its groups can use: the partitions of its widest topic (a group
    on a narrower one leaves the extra replicas idle for it, busy for the others)."""
    access = workload(deployment["metadata"]["name"])
    return max((s.partitions for s in access.consumes), default=None)


def test_every_autoscaled_consumer_scales_on_its_groups_lag_with_keda(prod: Overlay) -> None:
    for deployment in _autoscaled(prod):
        name = deployment["metadata"]["name"]
        scalers = prod.scalers_of(name)
        assert [s["kind"] for s in scalers] == ["ScaledObject"], name
        kafka = [t for t in scalers[0]["spec"]["triggers"] if t["type"] == "kafka"]
        # One trigger per (group, topic) it consumes; KEDA scales on the largest demand.
        triggers = {(t["metadata"]["consumerGroup"], t["metadata"]["topic"]) for t in kafka}
        expected = {(g.name, s.name) for g in workload(name).groups if g.scales for s in g.topics}
        assert triggers == expected, name
        if not expected:
            assert scalers[0]["spec"]["triggers"][0]["type"] == "cpu", name


def test_the_only_unscaled_workloads_are_auth_and_the_console(prod: Overlay) -> None:
    # auth: every replica holds the whole token store; the console: an admin's pages and
    # a history writer that keeps up on one replica (bench/console.py).
    fixed = {d["metadata"]["name"] for d in prod.deployments()} - {
        d["metadata"]["name"] for d in _autoscaled(prod)
    }
    assert fixed == {"auth", "console"}
    assert prod.scalers_of("auth") == []
    assert prod.scalers_of("console") == []


def test_max_replicas_never_exceed_the_partitions(prod: Overlay, prod_hpa: Overlay) -> None:
    for overlay, field in ((prod, "maxReplicaCount"), (prod_hpa, "maxReplicas")):
        for deployment in _autoscaled(overlay):
            (scaler,) = overlay.scalers_of(deployment["metadata"]["name"])
            cap = _partition_cap(deployment)
            if cap is not None:
                assert scaler["spec"][field] <= cap, deployment["metadata"]["name"]


def test_min_replicas_keep_two_for_availability(prod: Overlay, prod_hpa: Overlay) -> None:
    for overlay, field in ((prod, "minReplicaCount"), (prod_hpa, "minReplicas")):
        for deployment in _autoscaled(overlay):
            (scaler,) = overlay.scalers_of(deployment["metadata"]["name"])
            assert scaler["spec"][field] >= 2


def test_kafka_triggers_reach_kafka_as_the_services_do(prod: Overlay) -> None:
    client = prod.get("ConfigMap", "kafka-client")["data"]
    assert client["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert client["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    auth = prod.get("TriggerAuthentication", "kafka-scaler")["spec"]
    assert {e["parameter"]: e["name"] for e in auth["env"]} == {
        "username": "KAFKA_SASL_USERNAME",
        "password": "KAFKA_SASL_PASSWORD",
    }
    for scaler in prod.of_kind("ScaledObject"):
        for trigger in scaler["spec"]["triggers"]:
            if trigger["type"] != "kafka":
                continue
            meta = trigger["metadata"]
            assert meta["bootstrapServersFromEnv"] == "KAFKA_BOOTSTRAP_SERVERS"
            assert (meta["sasl"], meta["tls"]) == ("scram_sha512", "enable")
            # Our groups start from the earliest record (chat_runtime.app.subscriber).
            assert meta["offsetResetPolicy"] == "earliest"
            assert trigger["authenticationRef"] == {"name": "kafka-scaler"}


def test_without_keda_each_autoscaled_workload_has_one_hpa(prod_hpa: Overlay) -> None:
    assert not prod_hpa.of_kind("ScaledObject")
    assert not prod_hpa.of_kind("TriggerAuthentication")
    for deployment in _autoscaled(prod_hpa):
        scalers = prod_hpa.scalers_of(deployment["metadata"]["name"])
        assert [s["kind"] for s in scalers] == ["HorizontalPodAutoscaler"]
        ref = scalers[0]["spec"]["scaleTargetRef"]
        assert (ref["apiVersion"], ref["kind"]) == ("apps/v1", "Deployment")


def test_dev_has_no_autoscaler(dev: Overlay) -> None:
    for kind in ("ScaledObject", "HorizontalPodAutoscaler", "TriggerAuthentication"):
        assert not dev.of_kind(kind)
