"""Every Deployment: probes, limits sized from the RSS targets, locked-down pods, clean stops."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from tests.unit.deploy.manifests import (
    ROOT,
    RUN_AS,
    Overlay,
    Resource,
    container,
    environment,
    image_tag,
    import_name,
    pod_labels,
    pyproject,
    selects,
    service_dir,
)

MB = 1000 * 1000
MIB = 1024 * 1024
# Peak RSS targets per process (the benches' budget); auth has none of its own and is held
# to the workers' one.
PEAK_RSS = {
    "ingest": 200 * MB,
    "bot-actions": 200 * MB,
    "auth": 200 * MB,
    "crm-sync": 250 * MB,
    "console": 200 * MB,
}
# Secrets the operator creates (deploy/k8s/README.md says how); KafkaUsers' come from Strimzi.
OPERATOR_SECRETS = {"kafka-cluster-ca", "ingest-webhook-secrets", "auth-secrets", "console-secrets"}
_SUFFIXES = {"Ki": 1024, "Mi": MIB, "Gi": 1024 * MIB, "k": 1000, "M": MB, "G": 1000 * MB}


def quantity(value: str) -> float:
    """A Kubernetes quantity (`256Mi`, `500m`, `1`) as a number (bytes, cores)."""
    for suffix, factor in _SUFFIXES.items():
        if value.endswith(suffix):
            return float(value.removesuffix(suffix)) * factor
    if value.endswith("m"):
        return float(value[:-1]) / 1000
    return float(value)


def settings_class(deployment: Resource) -> Any:
    return importlib.import_module(f"{import_name(service_dir(deployment))}.config").Settings


def setting(overlay: Overlay, deployment: Resource, field: str) -> Any:
    """The value a Deployment gives a setting: its env variable, else the code's default."""
    cls = settings_class(deployment)
    name = f"{cls.model_config.get('env_prefix', '')}{field}".upper()
    value = environment(overlay, deployment).get(name)
    return cls.model_fields[field].default if value is None else value


def _ids(overlay: Overlay) -> list[tuple[Overlay, Resource]]:
    return [(overlay, d) for d in overlay.deployments()]


def test_every_overlay_runs_every_workload(dev: Overlay, prod: Overlay, prod_hpa: Overlay) -> None:
    names = {d["metadata"]["name"] for d in prod.deployments()}
    assert {"ingest-webhook", "ingest-normaliser", "auth", "bot-actions"} <= names
    for other in (dev, prod_hpa):
        assert {d["metadata"]["name"] for d in other.deployments()} == names


def test_probes_use_readyz_and_healthz_on_the_http_port(overlay: Overlay) -> None:
    for deployment in overlay.deployments():
        c = container(deployment)
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert c["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        # A readiness check gives each dependency 0.8 s (chat_runtime.health): room for it.
        assert c["readinessProbe"]["timeoutSeconds"] >= 1


def test_the_http_port_is_the_one_the_service_listens_on(overlay: Overlay) -> None:
    for deployment in overlay.deployments():
        ports = {p["name"]: p["containerPort"] for p in container(deployment)["ports"]}
        assert ports == {"http": int(setting(overlay, deployment, "http_port"))}


def test_resources_have_requests_and_limits_sized_from_peak_rss(overlay: Overlay) -> None:
    for deployment in overlay.deployments():
        resources = container(deployment)["resources"]
        for kind in ("requests", "limits"):
            assert set(resources[kind]) == {"cpu", "memory"}, deployment["metadata"]["name"]
        limit = quantity(resources["limits"]["memory"])
        target = PEAK_RSS[service_dir(deployment)]
        # Above the peak the benches hold the process to, without paying for much more.
        assert target < limit <= 1.5 * target, deployment["metadata"]["name"]
        assert quantity(resources["requests"]["memory"]) <= limit
        assert quantity(resources["requests"]["cpu"]) <= quantity(resources["limits"]["cpu"])


def test_pods_run_as_the_images_user_locked_down(overlay: Overlay) -> None:
    for deployment in overlay.deployments():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == RUN_AS
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        c = container(deployment)["securityContext"]
        assert c["readOnlyRootFilesystem"] is True
        assert c["allowPrivilegeEscalation"] is False
        assert c["capabilities"] == {"drop": ["ALL"]}
        # A read-only root needs somewhere to write temporary files.
        mounts = {m["mountPath"]: m["name"] for m in container(deployment)["volumeMounts"]}
        tmp = mounts["/tmp"]  # noqa: S108 - the container's /tmp, not a file of ours
        volume = next(v for v in pod["volumes"] if v["name"] == tmp)
        assert "emptyDir" in volume


def test_grace_period_outlasts_the_graceful_shutdown(overlay: Overlay) -> None:
    for deployment in overlay.deployments():
        pod = deployment["spec"]["template"]["spec"]
        shutdown = float(setting(overlay, deployment, "shutdown_timeout_s"))
        pre_stop = container(deployment).get("lifecycle", {}).get("preStop", {})
        pause = pre_stop.get("sleep", {}).get("seconds", 0)
        # Each of uvicorn's drain, the app's shutdown hooks and the broker's stop may take
        # up to shutdown_timeout_s (chat_runtime.app), after the preStop pause.
        assert pod["terminationGracePeriodSeconds"] > pause + 3 * shutdown


def test_each_workload_has_its_service_account_pdb_and_service(overlay: Overlay) -> None:
    for deployment in overlay.deployments():
        name = deployment["metadata"]["name"]
        labels = pod_labels(deployment)
        assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == name
        assert overlay.has("ServiceAccount", name)
        pdbs = [
            p
            for p in overlay.of_kind("PodDisruptionBudget")
            if selects(p["spec"]["selector"]["matchLabels"], labels)
        ]
        assert [p["spec"]["maxUnavailable"] for p in pdbs] == [1], name
        services = [s for s in overlay.of_kind("Service") if selects(s["spec"]["selector"], labels)]
        assert len(services) == 1, name
        assert services[0]["spec"]["ports"][0]["targetPort"] == "http"


def test_images_are_tagged_with_their_service_version(overlay: Overlay) -> None:
    for deployment in overlay.deployments():
        version = pyproject(service_dir(deployment))["project"]["version"]
        assert image_tag(deployment) == version, deployment["metadata"]["name"]


def _looks_secret(variable: str) -> bool:
    words = ("PASSWORD", "SECRET", "TOKEN", "KEYS")
    # A *_FILE variable names a mounted file; the secret is in the file.
    return any(w in variable for w in words) and not variable.endswith("_FILE")


def test_secrets_are_only_referenced_never_committed(overlay: Overlay) -> None:
    assert not overlay.of_kind("Secret")
    users = {u["metadata"]["name"] for u in overlay.of_kind("KafkaUser")}
    for deployment in overlay.deployments():
        for name, value in environment(overlay, deployment).items():
            if _looks_secret(name):
                assert isinstance(value, dict), f"{name} must come from a Secret"
        pod = deployment["spec"]["template"]["spec"]
        refs = {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
        refs |= {
            var["valueFrom"]["secretKeyRef"]["name"]
            for var in container(deployment).get("env", [])
            if "secretKeyRef" in var.get("valueFrom", {})
        }
        assert refs <= users | OPERATOR_SECRETS, refs - users - OPERATOR_SECRETS


def test_the_readme_tells_how_to_create_each_operator_secret() -> None:
    readme = (ROOT / "deploy" / "k8s" / "README.md").read_text("utf-8")
    for name in OPERATOR_SECRETS:
        assert f"secret generic {name}" in readme, name


def test_kafka_credentials_are_the_workloads_own_user(overlay: Overlay) -> None:
    for deployment in overlay.deployments():
        name = deployment["metadata"]["name"]
        env = environment(overlay, deployment)
        assert env["KAFKA_SASL_USERNAME"] == name
        assert env["KAFKA_SASL_PASSWORD"] == {"secretKeyRef": {"name": name, "key": "password"}}
        assert overlay.has("KafkaUser", name)


def test_dev_runs_one_small_replica_of_each(dev: Overlay, prod: Overlay) -> None:
    for deployment in dev.deployments():
        assert deployment["spec"]["replicas"] == 1
        small = container(deployment)["resources"]["requests"]
        big = container(prod.get("Deployment", deployment["metadata"]["name"]))["resources"]
        assert quantity(small["cpu"]) < quantity(big["requests"]["cpu"])


@pytest.mark.parametrize("name", ["prod", "prod-hpa"])
def test_autoscaled_deployments_leave_replicas_to_the_autoscaler(
    name: str, prod: Overlay, prod_hpa: Overlay
) -> None:
    overlay = prod if name == "prod" else prod_hpa
    for deployment in overlay.deployments():
        fixed = deployment["metadata"].get("annotations", {}).get("chat-salesforce.io/autoscaling")
        if fixed == "none":
            assert deployment["spec"]["replicas"] >= 2
        else:
            assert "replicas" not in deployment["spec"], deployment["metadata"]["name"]
