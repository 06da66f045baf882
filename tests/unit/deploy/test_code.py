"""The manifests against the code: each Deployment's app, built from its environment.

`probes` builds every prod Deployment's app in a subprocess with exactly the variables the
Deployment gives its container (Secrets replaced by placeholders): a missing variable
fails here, not in the cluster. A service whose app is not written yet is left out.
"""

from __future__ import annotations

import pytest

from deploy.k8s.access import workload
from tests.unit.deploy.conftest import Probe
from tests.unit.deploy.manifests import Overlay, container


def test_every_deployments_app_builds_from_its_environment(
    probe_results: dict[str, Probe | str],
) -> None:
    # As `python -m <service>` does in the pod: settings from the environment, then
    # create_app() outside any event loop.
    failed = {name: why for name, why in probe_results.items() if isinstance(why, str)}
    assert not failed, failed
    assert {"ingest-webhook", "ingest-normaliser", "auth", "bot-actions"} <= set(probe_results)


def test_each_app_listens_on_the_deployments_port(prod: Overlay, probes: dict[str, Probe]) -> None:
    for name, probe in probes.items():
        ports = {
            p["name"]: p["containerPort"] for p in container(prod.get("Deployment", name))["ports"]
        }
        assert ports["http"] == probe.http_port, name


def test_consumer_groups_in_the_code_are_the_ones_granted_and_scaled(
    probes: dict[str, Probe],
) -> None:
    for name, probe in probes.items():
        access = workload(name)
        # What the service subscribes to, in which group, is what its KafkaUser may read
        # and its ScaledObject measures (test_autoscaling checks the triggers against the
        # same table); the groups are named from its settings' group_id.
        subscribed = {(s["group"], t) for s in probe.subscribers for t in s["topics"]}
        granted = {(g.name, s.name) for g in access.groups for s in g.topics}
        assert subscribed == granted, name
        for group in access.groups:
            assert group.name.split(".")[0] == probe.group_id, (name, group.name)


def test_each_request_reply_client_asks_as_its_kafka_user(probes: dict[str, Probe]) -> None:
    # The services name their request/reply client after settings.service_name (their
    # bootstrap), and its reply topics go under `replies.<that name>.`: the only prefix
    # their KafkaUser (the Deployment's name) may create and read. Another name would fail
    # at start, in the cluster.
    askers = {name: probe for name, probe in probes.items() if workload(name).asks_requests}
    assert {"crm-sync", "bot-actions"} <= set(askers)
    for name, probe in askers.items():
        assert probe.service_name == name


def test_webhook_and_normaliser_halves_are_split_by_the_environment(
    probes: dict[str, Probe],
) -> None:
    assert probes["ingest-webhook"].subscribers == []
    assert probes["ingest-normaliser"].subscribers == [
        {"topics": ["chat.raw.v1"], "group": "ingest"}
    ]


@pytest.mark.parametrize("service", ["ingest-normaliser", "auth"])
def test_services_expose_the_suites_metrics(probes: dict[str, Probe], service: str) -> None:
    metrics = set(probes[service].metrics)
    assert {"chat_messages_dead_lettered_total", "faststream_received_messages_total"} <= metrics
