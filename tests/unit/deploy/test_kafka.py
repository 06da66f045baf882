"""Strimzi resources: a KafkaTopic per registry topic, a KafkaUser per workload, no drift."""

from __future__ import annotations

import dataclasses

import pytest

from chat_contracts.topics import REPLY_TOPIC_PREFIX, TOPICS
from deploy.k8s import generate
from deploy.k8s.access import WORKLOADS, KafkaAccess
from tests.unit.deploy.manifests import Overlay

REGISTRY = {spec.name: spec for spec in TOPICS}
RUNNERS = {"Deployment", "CronJob"}


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
            assert name in {REPLY_TOPIC_PREFIX, access.reply_prefix}, (access.user, name)
    every = index.get(("topic", REPLY_TOPIC_PREFIX, "prefix"), set())
    mine = index.get(("topic", access.reply_prefix, "prefix"), set())
    # Nobody reads, creates or writes heartbeats into every reply topic; the pruner deletes.
    assert not every & {"Create", "Read"}, access.user
    assert ("Delete" in every) == access.prunes_reply_topics, access.user
    assert ("Write" in every) == access.answers_requests, access.user
    if access.asks_requests:
        assert {"Create", "Delete", "Read", "Write"} <= mine
    else:
        assert not mine, access.user


def test_every_registry_topic_is_written_and_read_by_some_workload() -> None:
    written = {s.name for a in WORKLOADS for s in a.produces}
    read = {s.name for a in WORKLOADS for s in (*a.consumes, *a.reads)}
    # A registry topic no workload is granted is a topic nobody can use. Every topic is
    # written by one of the suite's workloads (crm.commands.v1 by the admin console, and
    # by the agent console from outside too), and every one is read by one (the suite's
    # outputs by the admin console's history). Tenant settings are written by auth's
    # settings page and API.
    assert written == set(REGISTRY)
    assert read == set(REGISTRY)


def _allows(user: dict[str, object], topic: str, op: str) -> bool:
    """Whether the KafkaUser's ACLs allow `op` on `topic`, as Kafka matches them."""
    return _covered(_acl_index(user), topic, op)


def test_each_principal_reads_only_its_own_reply_topics(prod: Overlay) -> None:
    askers = [a for a in WORKLOADS if a.asks_requests]
    assert {a.user for a in askers} >= {"crm-sync", "bot-actions", "bot-runtime"}
    for asker in askers:
        user = prod.get("KafkaUser", asker.user)
        assert asker.reply_prefix == f"replies.{asker.user}."
        own = f"{asker.reply_prefix}host-1a2b3c4d"
        for op in ("Create", "Read", "Write", "Delete"):
            assert _allows(user, own, op), (asker.user, op)
        for other in WORKLOADS:
            if other.user == asker.user:
                continue
            theirs = f"replies.{other.user}.host-1a2b3c4d"
            assert not _allows(user, theirs, "Read"), (asker.user, theirs)
            assert not _allows(user, theirs, "Delete"), (asker.user, theirs)
    # The case that matters most: auth's replies to crm-sync carry access tokens.
    runtime = prod.get("KafkaUser", "bot-runtime")
    assert not _allows(runtime, "replies.crm-sync.pod-7f9c", "Read")
    # A prefix is a prefix: `replies.bot-` must not reach `replies.bot-actions.`.
    assert not _allows(runtime, "replies.bot-actions.pod-1", "Read")


def test_the_pruner_may_only_describe_and_delete_reply_topics(prod: Overlay) -> None:
    pruner = prod.get("KafkaUser", "reply-topic-pruner")
    assert _acl_index(pruner) == {("topic", REPLY_TOPIC_PREFIX, "prefix"): {"Describe", "Delete"}}


def test_every_workload_runs_here_unless_external(overlay: Overlay) -> None:
    # A user no Deployment or CronJob of the suite authenticates as is a grant nobody
    # reviews, unless it is named as a workload run by someone else (the bot runtime).
    runners = {r["metadata"]["name"] for r in overlay.resources if r["kind"] in RUNNERS}
    for access in WORKLOADS:
        assert (access.user in runners) != access.external, access.user
    assert runners <= {a.user for a in WORKLOADS}, "every workload has an entry in access.py"
