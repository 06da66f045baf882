"""The service's HTTP port over real HTTP: probes and metrics, with the real broker behind."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from aiokafka import AIOKafkaProducer
from faststream.asgi import AsgiFastStream

from chat_runtime.app import make_asgi_app, make_broker, make_server, subscriber
from chat_runtime.logging import configure_logging
from chat_runtime.metrics import build_metrics, new_registry
from chat_runtime.settings import ServiceSettings
from tests.kafka_helpers import temp_topic

WAIT_S = 10.0


@pytest.fixture
async def topic(kafka_bootstrap: str) -> AsyncIterator[str]:
    async with temp_topic(kafka_bootstrap, "rt-http") as name:
        yield name


@pytest.fixture
def log_output() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
async def served(
    kafka_bootstrap: str, topic: str, log_output: io.StringIO
) -> AsyncIterator[tuple[str, asyncio.Event]]:
    """The app served by uvicorn on a free port: (base URL, set when a message was handled)."""
    settings = ServiceSettings(
        service_name="http-test",
        kafka_bootstrap_servers=kafka_bootstrap,
        group_id=f"http-{uuid.uuid4().hex[:8]}",
        http_host="127.0.0.1",
        http_port=0,  # the OS picks a free port
        shutdown_timeout_s=2.0,
    )
    configure_logging(settings.service_name, stream=log_output)
    registry = new_registry()
    build_metrics(registry)
    broker = make_broker(settings, registry=registry)
    handled = asyncio.Event()

    @subscriber(broker, topic, group_id=settings.group_id)
    async def handle(body: dict[str, int]) -> None:
        handled.set()

    app: AsgiFastStream = make_asgi_app(broker, settings, registry)
    server: uvicorn.Server = make_server(app, settings)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(WAIT_S):
            while not server.started:
                assert not task.done(), "uvicorn stopped while starting"
                await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}", handled
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, WAIT_S)
        configure_logging(settings.service_name)


async def test_probes_and_metrics_over_http(
    served: tuple[str, asyncio.Event], topic: str, kafka_bootstrap: str, log_output: io.StringIO
) -> None:
    base_url, handled = served
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as client:
        live = await client.get("/healthz")
        ready = await client.get("/readyz")
        assert (live.status_code, live.json()) == (200, {"status": "ok"})
        assert (ready.status_code, ready.json()) == (
            200,
            {"status": "ready", "checks": {"kafka": True}},
        )

        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(topic, json.dumps({"n": 1}).encode())
        finally:
            await producer.stop()
        await asyncio.wait_for(handled.wait(), WAIT_S)

        async with asyncio.timeout(WAIT_S):
            while True:  # FastStream records the metrics just after the handler returns
                text = (await client.get("/metrics")).text
                if "faststream_received_processed_messages_total{" in text:
                    break
                await asyncio.sleep(0.05)

    labels = f'app_name="http-test",broker="kafka",handler="{topic}"'
    assert f"faststream_received_messages_total{{{labels}}} 1.0" in text
    assert f'handler="{topic}",status="acked"' in text
    assert "faststream_received_processed_messages_duration_seconds_bucket" in text
    assert "chat_messages_dead_lettered_total" in text
    assert "process_resident_memory_bytes" in text

    # uvicorn's own lines went through the JSON pipeline too.
    lines = [json.loads(line) for line in log_output.getvalue().splitlines()]
    assert any(line["logger"].startswith("uvicorn") for line in lines)
