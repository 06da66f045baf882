"""Log lines of a handled message carry its ids, on the real broker, failures included."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from chat_runtime.app import make_broker, subscriber
from chat_runtime.logging import configure_logging, get_logger
from chat_runtime.metrics import new_registry
from chat_runtime.settings import ServiceSettings
from tests.kafka_helpers import temp_topic

WAIT_S = 10.0
IDS = {"tenant_id": "tenant-42", "message_id": "msg-42", "correlation_id": "corr-42"}


@pytest.fixture
async def topic(kafka_bootstrap: str) -> AsyncIterator[str]:
    async with temp_topic(kafka_bootstrap, "rt-logging") as name:
        yield name


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("logging-test", stream=stream)
    yield stream
    configure_logging("logging-test")


async def test_every_line_of_a_handled_message_carries_its_ids(
    kafka_bootstrap: str, topic: str, output: io.StringIO
) -> None:
    settings = ServiceSettings(
        service_name="logging-test",
        kafka_bootstrap_servers=kafka_bootstrap,
        group_id=f"logging-{uuid.uuid4().hex[:8]}",
        shutdown_timeout_s=2.0,
    )
    broker = make_broker(settings, registry=new_registry())
    log = get_logger("logging_test.handler")
    deliveries: list[int] = []
    done = asyncio.Event()

    @subscriber(broker, topic, group_id=settings.group_id)
    async def handle(body: dict[str, Any]) -> None:
        deliveries.append(1)
        log.info("handling chat", attempt=len(deliveries))
        if len(deliveries) == 1:
            raise RuntimeError("first attempt fails")
        done.set()

    async with broker:
        await broker.start()
        body = {"tenant_id": IDS["tenant_id"], "message_id": IDS["message_id"], "n": 1}
        await broker.publish(body, topic, correlation_id=IDS["correlation_id"])
        await asyncio.wait_for(done.wait(), WAIT_S)
    # The graceful stop waited for the in-flight message, "Processed" line included.
    log.info("outside any message")

    lines = [json.loads(line) for line in output.getvalue().splitlines()]
    of_message = [line for line in lines if line.get("topic") == topic or "attempt" in line]
    events = [line["event"] for line in of_message]
    # Both attempts: FastStream's lines, the handler's, and the failure with its traceback.
    assert events.count("handling chat") == 2
    assert events.count("Received") == 2
    assert events.count("Processed") == 2
    assert "RuntimeError: first attempt fails" in events
    for line in of_message:
        if line["event"] in {"Received", "handling chat", "Processed"} or "exception" in line:
            assert {k: line.get(k) for k in IDS} == IDS, line

    outside = next(line for line in lines if line["event"] == "outside any message")
    assert not set(IDS) & set(outside)
    assert all(line["service"] == "logging-test" for line in lines)
