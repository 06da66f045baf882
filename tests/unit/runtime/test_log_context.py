"""The per-message log context: which ids are taken from a record, and their lifetime."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from faststream.kafka import TestKafkaBroker

from chat_runtime.app import make_broker, subscriber
from chat_runtime.log_context import bound_ids, ids_from_record
from chat_runtime.logging import configure_logging, get_logger
from chat_runtime.metrics import new_registry
from chat_runtime.settings import ServiceSettings


def test_ids_come_from_headers_first_then_from_the_json_body() -> None:
    body = json.dumps({"tenant_id": "t-body", "message_id": "m-body", "x": 1}).encode()
    ids = ids_from_record([("tenant_id", b"t-header"), ("other", b"x")], body)
    assert ids == {"tenant_id": "t-header", "message_id": "m-body"}


@pytest.mark.parametrize("value", [b"not json", b"[1, 2]", b"{broken", b"", None, b"\xff\xfe"])
def test_bodies_without_ids_bind_nothing_and_never_raise(value: bytes | None) -> None:
    assert ids_from_record([], value) == {}


def test_untrusted_ids_are_bounded_in_length() -> None:
    ids = ids_from_record([("correlation_id", b"c" * 10_000)], None)
    assert len(ids["correlation_id"]) == 128


def test_bound_ids_restore_the_previous_context() -> None:
    with bound_ids({"tenant_id": "outer"}):
        with bound_ids({"tenant_id": "inner", "message_id": "m"}):
            assert structlog.contextvars.get_contextvars() == {
                "tenant_id": "inner",
                "message_id": "m",
            }
        assert structlog.contextvars.get_contextvars() == {"tenant_id": "outer"}
    assert structlog.contextvars.get_contextvars() == {}


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("ctx-test", stream=stream)
    yield stream
    configure_logging("ctx-test")


async def test_handler_lines_carry_the_message_ids_and_nothing_leaks_after(
    output: io.StringIO,
) -> None:
    broker = make_broker(ServiceSettings(service_name="ctx-test"), registry=new_registry())

    @subscriber(broker, "ctx.in", group_id="ctx")
    async def handle(body: dict[str, Any]) -> None:
        get_logger("handler").info("handling", n=body["n"])

    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(
            {"tenant_id": "t-7", "message_id": "m-7", "n": 1}, "ctx.in", correlation_id="c-7"
        )
    get_logger("after").info("between messages")

    lines = [json.loads(line) for line in output.getvalue().splitlines()]
    handled = next(line for line in lines if line["event"] == "handling")
    assert (handled["tenant_id"], handled["message_id"], handled["correlation_id"]) == (
        "t-7",
        "m-7",
        "c-7",
    )
    after = next(line for line in lines if line["event"] == "between messages")
    assert "tenant_id" not in after
    assert structlog.contextvars.get_contextvars() == {}


def test_faststream_extra_is_flattened_when_the_broker_logs_through_structlog(
    output: io.StringIO,
) -> None:
    # `make_broker(..., logger=configure_logging(...))`: FastStream passes `extra=`.
    log = structlog.stdlib.get_logger("svc.kafka")
    with bound_ids({"message_id": "m-contract"}):
        log.info("Received", extra={"topic": "t", "group_id": "", "message_id": "12-1700"})
    line = json.loads(output.getvalue().splitlines()[-1])
    assert line["topic"] == "t"
    assert line["message_id"] == "m-contract"
    assert "extra" not in line
    assert "group_id" not in line
