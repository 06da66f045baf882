"""Provision the suite's topics from the contracts' registry, idempotently.

Creates missing topics, adds partitions where a topic has fewer than the registry asks
for (Kafka cannot remove partitions), and re-applies the registry's topic configs where
they drifted, keeping any other config an operator set on the topic. It never adds
partitions to a compacted topic: its keys would move, and a stale value left in a key's
old partition could win over the newer one at the next full read (a revoked token, old
settings); such a topic is reported and the command exits 1, for an operator to migrate.
Used by `make run`, the test fixtures and `chat-topics` on the command line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError

from chat_contracts.topics import TOPICS, TopicSpec
from chat_runtime.kafka import KafkaKit
from chat_runtime.settings import ServiceSettings, load_settings_or_exit

_DYNAMIC_TOPIC_CONFIG = 1
"""DescribeConfigs' source of a config set on the topic itself (v1 and later)."""


@dataclass
class ProvisionReport:
    """What provisioning changed; empty lists mean the cluster already matched."""

    created: list[str] = field(default_factory=list)
    partitions_added: list[str] = field(default_factory=list)
    configs_altered: list[str] = field(default_factory=list)
    partitions_refused: list[str] = field(default_factory=list)
    """Compacted topics with fewer partitions than the registry's: left as they are."""

    @property
    def changed(self) -> bool:
        return bool(self.created or self.partitions_added or self.configs_altered)


async def provision_topics(
    bootstrap_servers: str,
    specs: Iterable[TopicSpec] = TOPICS,
    *,
    replication_factor: int = 1,
    kafka_options: Mapping[str, Any] | None = None,
) -> ProvisionReport:
    """Make the cluster's topics match `specs`; safe to run any number of times.
    `kafka_options`: connection security (`KafkaSecurity.aiokafka_options()`)."""
    specs = list(specs)
    report = ProvisionReport()
    kit = KafkaKit(bootstrap_servers, "chat-topics", dict(kafka_options or {}))
    async with kit.admin_session() as admin:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        if missing:
            await _create(admin, missing, replication_factor, report)
        present = [s for s in specs if s.name in existing]
        if present:
            await _grow_partitions(admin, present, report)
            await _align_configs(admin, present, report)
    return report


async def _create(
    admin: AIOKafkaAdminClient,
    specs: list[TopicSpec],
    replication_factor: int,
    report: ProvisionReport,
) -> None:
    for spec in specs:
        new = NewTopic(spec.name, spec.partitions, replication_factor, topic_configs=spec.configs())
        try:
            response = await admin.create_topics([new])
        except TopicAlreadyExistsError:
            continue  # another process provisioned it concurrently
        for name, code, *_ in response.topic_errors:
            if code not in (0, TopicAlreadyExistsError.errno):
                raise RuntimeError(f"creating topic {name} failed with Kafka error code {code}")
            if code == 0:
                report.created.append(name)


async def _grow_partitions(
    admin: AIOKafkaAdminClient, specs: list[TopicSpec], report: ProvisionReport
) -> None:
    described = await admin.describe_topics([s.name for s in specs])
    counts = {t["topic"]: len(t["partitions"]) for t in described}
    short = [s for s in specs if counts[s.name] < s.partitions]
    report.partitions_refused.extend(s.name for s in short if s.compacted)
    grow = {s.name: NewPartitions(s.partitions) for s in short if not s.compacted}
    if grow:
        await admin.create_partitions(grow)
        report.partitions_added.extend(grow)


async def _align_configs(
    admin: AIOKafkaAdminClient, specs: list[TopicSpec], report: ProvisionReport
) -> None:
    resources = [ConfigResource(ConfigResourceType.TOPIC, s.name) for s in specs]
    responses = await admin.describe_configs(resources)
    actual: dict[str, dict[str, str]] = {}
    dynamic: dict[str, dict[str, str]] = {}
    for response in responses:
        for _code, _msg, _type, name, entries in response.resources:
            actual[name] = {entry[0]: entry[1] for entry in entries}
            dynamic[name] = {e[0]: e[1] for e in entries if e[3] == _DYNAMIC_TOPIC_CONFIG}
    drifted = [s for s in specs if any(actual[s.name].get(k) != v for k, v in s.configs().items())]
    if drifted:
        # AlterConfigs (the API aiokafka speaks) replaces a topic's whole dynamic config:
        # send what the topic has, with the registry's values over it, so that a config
        # an operator set and the registry does not name survives.
        await admin.alter_configs(
            [
                ConfigResource(
                    ConfigResourceType.TOPIC, s.name, configs={**dynamic[s.name], **s.configs()}
                )
                for s in drifted
            ]
        )
        report.configs_altered.extend(s.name for s in drifted)


def main(argv: list[str] | None = None) -> int:
    """`chat-topics [--bootstrap-servers HOST:PORT] [--replication-factor N]`."""
    parser = argparse.ArgumentParser(prog="chat-topics", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
    )
    parser.add_argument("--replication-factor", type=int, default=1)
    args = parser.parse_args(argv)
    # The shared KAFKA_SECURITY_PROTOCOL / KAFKA_SASL_* / KAFKA_SSL_CAFILE variables.
    security = load_settings_or_exit(ServiceSettings).kafka_security().aiokafka_options()
    report = asyncio.run(
        provision_topics(
            args.bootstrap_servers,
            replication_factor=args.replication_factor,
            kafka_options=security,
        )
    )
    for label, names in (
        ("created", report.created),
        ("partitions added", report.partitions_added),
        ("configs re-applied", report.configs_altered),
    ):
        for name in names:
            print(f"topics: {label}: {name}")
    for name in report.partitions_refused:
        print(
            f"topics: NOT growing compacted topic {name}: its keys would move to other "
            "partitions; migrate it (new topic, copy, switch) instead",
            file=sys.stderr,
        )
    if not report.changed and not report.partitions_refused:
        print(f"topics: all {len(TOPICS)} topics match the registry")
    return 1 if report.partitions_refused else 0


if __name__ == "__main__":
    sys.exit(main())
