"""The CronJob that deletes reply topics whose owner is gone (`chat-reply-topics prune`)."""

from __future__ import annotations

import tomllib

from deploy.k8s.access import workload
from tests.unit.deploy.manifests import (
    IMAGE_PREFIX,
    ROOT,
    RUN_AS,
    Overlay,
    Resource,
    pyproject,
    selects,
)


def _pod(overlay: Overlay) -> Resource:
    """The pod template of the pruner's Jobs."""
    job = overlay.get("CronJob", "reply-topic-pruner")["spec"]["jobTemplate"]
    template: Resource = job["spec"]["template"]
    return template


def test_the_pruner_runs_the_runtimes_command_as_its_own_kafka_user(overlay: Overlay) -> None:
    job = overlay.get("CronJob", "reply-topic-pruner")["spec"]
    assert job["concurrencyPolicy"] == "Forbid"
    pod = job["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "reply-topic-pruner"
    assert overlay.has("ServiceAccount", "reply-topic-pruner")
    assert pod["automountServiceAccountToken"] is False
    (container,) = pod["containers"]
    command = container["command"]
    assert command[0] == "/app/.venv/bin/chat-reply-topics"
    assert command[1:3] == ["prune", "--idle-minutes"]
    env = {e["name"]: e for e in container["env"]}
    assert env["KAFKA_SASL_USERNAME"]["value"] == "reply-topic-pruner"
    password = env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert password == {"name": "reply-topic-pruner", "key": "password"}
    assert {"configMapRef": {"name": "kafka-client"}} in container["envFrom"]
    assert overlay.has("KafkaUser", "reply-topic-pruner")
    assert workload("reply-topic-pruner").prunes_reply_topics


def test_a_run_is_bounded_and_runs_are_never_concurrent(overlay: Overlay) -> None:
    job = overlay.get("CronJob", "reply-topic-pruner")["spec"]
    # A missed run is skipped, not made up later: the next one finds the same topics.
    assert 0 < job["startingDeadlineSeconds"] <= 15 * 60
    spec = job["jobTemplate"]["spec"]
    assert spec["backoffLimit"] <= 3
    assert spec["activeDeadlineSeconds"] <= 15 * 60  # done before the next run is due
    assert spec["template"]["spec"]["restartPolicy"] in {"Never", "OnFailure"}


def test_the_pruner_is_locked_down_like_the_deployments(overlay: Overlay) -> None:
    pod = _pod(overlay)["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == RUN_AS
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    for kind in ("requests", "limits"):
        assert set(container["resources"][kind]) == {"cpu", "memory"}
    tmp = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}["/tmp"]  # noqa: S108
    assert "emptyDir" in next(v for v in pod["volumes"] if v["name"] == tmp)


def test_the_pruner_runs_a_service_image_at_its_version(overlay: Overlay) -> None:
    (container,) = _pod(overlay)["spec"]["containers"]
    image: str = container["image"]
    assert image.startswith(IMAGE_PREFIX), image
    service, _, tag = image.removeprefix(IMAGE_PREFIX).partition(":")
    # Built from deploy/Dockerfile like the Deployments' images, so it carries chat-runtime.
    assert tag == pyproject(service)["project"]["version"]


def test_the_pruner_reaches_kafka_only(overlay: Overlay) -> None:
    labels = _pod(overlay)["metadata"]["labels"]
    policies = {
        p["metadata"]["name"]
        for p in overlay.of_kind("NetworkPolicy")
        if selects(p["spec"]["podSelector"].get("matchLabels", {}), labels)
    }
    # allow-metrics-scrape selects every pod; the pruner listens on no port.
    assert policies == {"default-deny", "allow-dns", "allow-kafka", "allow-metrics-scrape"}
    (container,) = _pod(overlay)["spec"]["containers"]
    assert "ports" not in container


def test_the_command_exists_in_the_runtime_every_image_carries() -> None:
    runtime = tomllib.loads((ROOT / "libs" / "runtime" / "pyproject.toml").read_text("utf-8"))
    scripts = runtime["project"]["scripts"]
    assert scripts["chat-reply-topics"] == "chat_runtime.request_reply.cli:main"


def test_reply_topics_get_the_clusters_durability(overlay: Overlay) -> None:
    client = overlay.get("ConfigMap", "kafka-client")["data"]
    assert client["KAFKA_REPLY_TOPIC_REPLICATION_FACTOR"] == "3"
    assert client["KAFKA_REPLY_TOPIC_MIN_INSYNC_REPLICAS"] == "2"
