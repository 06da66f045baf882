"""Strimzi resources: a KafkaTopic per registry topic, a KafkaUser per workload, no drift."""

from __future__ import annotations

import dataclasses

import pytest

from chat_contracts.topics import REPLY_TOPIC_PREFIX, TOPICS
from deploy.k8s import generate
from deploy.k8s.access import WORKLOADS, KafkaAccess
from tests.unit.deploy.manifests import Overlay

REGISTRY = {spec.name: spec for spec in TOPICS}


def test_the_generated_files_match_the_registry_and_the_access_table() -> None:
    stale = generate.stale()
    assert not stale, "run `python -m deploy.k8s.generate`:\n" + "\n".join(stale.values())


def test_a_registry_change_makes_the_committed_topics_stale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    grown = tuple(dataclasses.replace(s, partitions=s.partitions + 1) for s in TOPICS)
    monkeypatch.setattr(generate, "TOPICS", grown)
    assert set(generate.stale()) == {generate.KAFKA_DIR / "topics.yaml"}


def test_an_access_change_makes_the_committed_users_stale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    widened = (*WORKLOADS, KafkaAccess(user="extra", produces=(TOPICS[0],)))
    monkeypatch.setattr(generate, "WORKLOADS", widened)
    assert set(generate.stale()) == {generate.KAFKA_DIR / "users.yaml"}


def test_every_registry_topic_has_a_kafkatopic_with_its_partitions_and_configs(
    overlay: Overlay,
) -> None:
    topics = {t["spec"]["topicName"]: t["spec"] for t in overlay.of_kind("KafkaTopic")}
    assert set(topics) == set(REGISTRY), "one KafkaTopic per registry topic, no other"
    for name, spec in REGISTRY.items():
        topic = topics[name]
        assert topic["partitions"] == spec.partitions, name
        assert topic["replicas"] == 3, name
        config = topic["config"]
        assert config["min.insync.replicas"] == "2", name
        assert {k: v for k, v in config.items() if k != "min.insync.replicas"} == spec.configs()
        assert config["cleanup.policy"] == ("compact" if spec.compacted else "delete"), name


def test_the_compacted_topics_are_the_state_topics() -> None:
    # What the registry says today; a topic changing policy deserves a look at its consumers.
    compacted = {s.name for s in TOPICS if s.compacted}
    assert compacted == {"auth.refresh-tokens.v1", "tenant.settings.v1"}


def test_strimzi_resources_name_their_cluster(overlay: Overlay) -> None:
    for kind in ("KafkaTopic", "KafkaUser"):
        for resource in overlay.of_kind(kind):
            assert resource["apiVersion"] == "kafka.strimzi.io/v1"
            assert resource["metadata"]["labels"]["strimzi.io/cluster"] == generate.KAFKA_CLUSTER


def _acl_index(user: dict[str, object]) -> dict[tuple[str, str, str], set[str]]:
    spec = user["spec"]
    assert isinstance(spec, dict)
    index: dict[tuple[str, str, str], set[str]] = {}
    for rule in spec["authorization"]["acls"]:
        res = rule["resource"]
        key = (res["type"], res["name"], res["patternType"])
        index.setdefault(key, set()).update(rule["operations"])
    return index


def _covered(index: dict[tuple[str, str, str], set[str]], topic: str, op: str) -> bool:
    return any(
        op in ops
        and kind == "topic"
        and (name == topic if pattern == "literal" else topic.startswith(name))
        for (kind, name, pattern), ops in index.items()
    )


@pytest.mark.parametrize("access", WORKLOADS, ids=lambda a: a.user)
def test_each_user_may_do_exactly_what_its_workload_does(
    prod: Overlay, access: KafkaAccess
) -> None:
    user = prod.get("KafkaUser", access.user)
    assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
    index = _acl_index(user)
    for spec in (*access.consumes, *access.reads):
        assert _covered(index, spec.name, "Read"), (access.user, spec.name)
    for spec in access.produces:
        assert _covered(index, spec.name, "Write"), (access.user, spec.name)
    groups = {name for (kind, name, _), _ops in index.items() if kind == "group"}
    assert groups == {g.name for g in access.groups}
    # Nothing beyond its own topics and the reply prefix; no wildcard, no All, no cluster.
    own = {s.name for s in (*access.consumes, *access.reads, *access.produces)}
    for (kind, name, pattern), ops in index.items():
        assert kind in {"topic", "group"}, (access.user, kind)
        assert "All" not in ops
        assert "*" not in name
        if kind == "topic" and pattern == "literal":
            assert name in own, (access.user, name)
        if pattern == "prefix":
            assert name == REPLY_TOPIC_PREFIX, (access.user, name)
    asks = index.get(("topic", REPLY_TOPIC_PREFIX, "prefix"), set())
    if access.asks_requests:
        assert {"Create", "Delete", "Read", "Write"} <= asks
    if not access.asks_requests:
        assert not asks & {"Create", "Delete", "Read"}, access.user


def test_every_registry_topic_is_written_and_read_by_some_workload() -> None:
    written = {s.name for a in WORKLOADS for s in a.produces}
    read = {s.name for a in WORKLOADS for s in (*a.consumes, *a.reads)}
    # A registry topic no workload is granted is a topic nobody can use. The exceptions are
    # named: the suite's outputs (read by operators and other systems) and the inputs
    # written from outside it (the agent console, the bot runtime). Tenant settings are
    # written by auth's settings page and API.
    outputs = {"auth.connections.v1", "crm.sync.results.v1", "chat.dlq.v1", "crm.dlq.v1"}
    inputs = {"crm.commands.v1", "bot.actions.v1"}
    assert written == set(REGISTRY) - inputs
    assert read == set(REGISTRY) - outputs
