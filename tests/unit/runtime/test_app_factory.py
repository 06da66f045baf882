"""The app factory's defaults, and the probes, without a broker (in-memory ASGI)."""

from __future__ import annotations

import httpx
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaRouter

from chat_runtime.app import AT_LEAST_ONCE, make_asgi_app, make_broker, make_router, subscriber
from chat_runtime.metrics import new_registry
from chat_runtime.settings import ServiceSettings

SETTINGS = ServiceSettings(service_name="factory-test", kafka_bootstrap_servers="127.0.0.1:1")


def test_subscribers_commit_after_handling_and_start_from_the_earliest_record() -> None:
    broker = make_broker(SETTINGS, registry=new_registry())
    router = make_router()
    on_broker = subscriber(broker, "a", group_id="g")
    on_router = subscriber(router, "b", group_id="g")
    broker.include_router(router)
    for sub in (on_broker, on_router):
        assert sub.ack_policy is AT_LEAST_ONCE is AckPolicy.NACK_ON_ERROR
        assert sub.group_id == "g"


def test_plain_router_subscribers_do_not_inherit_the_brokers_ack_policy() -> None:
    # Why `subscriber()`/`make_router()` exist: FastStream 0.7.8 leaves a router's
    # subscriber at ACK_FIRST (auto-commit, at-most-once) even inside an ACK broker.
    broker = KafkaBroker(ack_policy=AckPolicy.NACK_ON_ERROR)
    router = KafkaRouter()
    sub = router.subscriber("c", group_id="g")
    broker.include_router(router)
    assert sub.ack_policy is AckPolicy.ACK_FIRST


async def test_probes_report_not_ready_while_the_broker_is_down() -> None:
    registry = new_registry()
    broker = make_broker(SETTINGS, registry=registry)

    async def settings_loaded() -> bool:
        return True

    async def broken() -> bool:
        raise RuntimeError("boom")

    app = make_asgi_app(
        broker, SETTINGS, registry, readiness_checks={"settings": settings_loaded, "x": broken}
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        live = await client.get("/healthz")
        ready = await client.get("/readyz")
        metrics = await client.get("/metrics")

    assert live.status_code == 200
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "not ready",
        "checks": {"kafka": False, "settings": True, "x": False},
    }
    assert metrics.status_code == 200
    assert "process_cpu_seconds_total" in metrics.text


def test_the_lag_reporter_is_given_every_group_the_service_consumes_in() -> None:
    # `make_service_app` hands `consumer_groups(app)` to its LagReporter: the broker's
    # subscribers (by group, their topics merged) and the consumers declared beside them.
    from chat_runtime.app import consumer_groups, declare_consumer

    broker = make_broker(SETTINGS, registry=new_registry())

    @subscriber(broker, "a", group_id="g")
    async def on_a(body: bytes) -> None: ...

    @subscriber(broker, "b", group_id="g")
    async def on_b(body: bytes) -> None: ...

    app = make_asgi_app(broker, SETTINGS, new_registry())
    declare_consumer(app, ["c"], "own")
    declare_consumer(app, ["d", "c"], "own")
    assert consumer_groups(app) == {"g": ["a", "b"], "own": ["c", "d"]}
