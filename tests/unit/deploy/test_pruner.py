"""The CronJob that deletes reply topics whose owner is gone (`chat-reply-topics prune`)."""

from __future__ import annotations

import tomllib

from deploy.k8s.access import workload
from tests.unit.deploy.manifests import ROOT, Overlay


def test_the_pruner_runs_the_runtimes_command_as_its_own_kafka_user(overlay: Overlay) -> None:
    job = overlay.get("CronJob", "reply-topic-pruner")["spec"]
    assert job["concurrencyPolicy"] == "Forbid"
    pod = job["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "reply-topic-pruner"
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    command = container["command"]
    assert command[0] == "/app/.venv/bin/chat-reply-topics"
    assert command[1:3] == ["prune", "--idle-minutes"]
    env = {e["name"]: e for e in container["env"]}
    assert env["KAFKA_SASL_USERNAME"]["value"] == "reply-topic-pruner"
    password = env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert password == {"name": "reply-topic-pruner", "key": "password"}
    assert {"configMapRef": {"name": "kafka-client"}} in container["envFrom"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert set(container["resources"]) == {"requests", "limits"}
    assert overlay.has("KafkaUser", "reply-topic-pruner")
    assert workload("reply-topic-pruner").prunes_reply_topics


def test_the_command_exists_in_the_runtime_every_image_carries() -> None:
    runtime = tomllib.loads((ROOT / "libs" / "runtime" / "pyproject.toml").read_text("utf-8"))
    scripts = runtime["project"]["scripts"]
    assert scripts["chat-reply-topics"] == "chat_runtime.request_reply.cli:main"


def test_reply_topics_get_the_clusters_durability(overlay: Overlay) -> None:
    client = overlay.get("ConfigMap", "kafka-client")["data"]
    assert client["KAFKA_REPLY_TOPIC_REPLICATION_FACTOR"] == "3"
    assert client["KAFKA_REPLY_TOPIC_MIN_INSYNC_REPLICAS"] == "2"
