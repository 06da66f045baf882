"""A library repeating one message (aiokafka while the broker restarts: thousands of
"Unable connect to node" a second) is logged once a second, the next line saying how
many were left out; the service's own lines are never left out."""

from __future__ import annotations

import io
import json
import logging
import time

from chat_runtime.logging import configure_logging, get_logger


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_librarys_repeated_message_is_logged_once_a_second_with_a_count() -> None:
    stream = io.StringIO()
    configure_logging("svc", "INFO", stream=stream)
    library = logging.getLogger("aiokafka")
    for _ in range(1000):
        library.error("Unable connect to node with id %s: %s", 1, "Connection refused")
    library.error("Unable to update metadata from %s", [1])  # another message: its own line
    own = get_logger("svc.handlers")
    for n in range(3):
        own.error("the service's own line", n=n)
    assert [line["event"] for line in lines(stream)] == [
        "Unable connect to node with id 1: Connection refused",
        "Unable to update metadata from [1]",
        "the service's own line",
        "the service's own line",
        "the service's own line",
    ]
    time.sleep(1.05)
    library.error("Unable connect to node with id %s: %s", 1, "Connection refused")
    last = lines(stream)[-1]
    assert last["event"] == "Unable connect to node with id 1: Connection refused"
    assert last["repeated"] == 999  # the lines left out since the last one
