"""Session-wide fixtures: one real Kafka broker for the whole test run.

The broker is `KAFKA_BOOTSTRAP_SERVERS` when set; else the local broker that
`make kafka-up` starts (the fixture starts it when it is not running); else, where a
Docker engine exists, a testcontainers Kafka.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from chat_runtime import tracing
from chat_runtime.provision import provision_topics

pytest_plugins = ["tests.emulator_fixtures", "tests.conformance_target", "tests.postgres_fixtures"]

ROOT = Path(__file__).resolve().parent.parent
LOCAL_BOOTSTRAP = "127.0.0.1:9092"


def _local_broker() -> str | None:
    script = ROOT / "devtools" / "kafka" / "kafka.sh"
    if shutil.which("java") is None or shutil.which("mvn") is None:
        return None
    subprocess.run([str(script), "up"], check=True)  # noqa: S603 - our own script
    return LOCAL_BOOTSTRAP


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap servers of a real broker, with every registry topic provisioned."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or _local_broker()
    container = None
    if bootstrap is None:  # pragma: no cover - only where Docker exists and Java does not
        from testcontainers.kafka import KafkaContainer

        container = KafkaContainer().with_kraft()
        container.start()
        bootstrap = container.get_bootstrap_server()
    asyncio.run(provision_topics(bootstrap))
    try:
        yield bootstrap
    finally:
        if container is not None:  # pragma: no cover
            container.stop()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """The spans finished while the test runs, tracing on (in memory, not exported)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    try:
        yield exporter
    finally:
        tracing.install(None)
        provider.shutdown()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tier markers follow the folder, so `-m unit` / `-m integration` select tiers.
    for item in items:
        parts = Path(str(item.fspath)).relative_to(ROOT / "tests").parts
        if parts and parts[0] in {"unit", "integration", "e2e"}:
            item.add_marker(parts[0])
