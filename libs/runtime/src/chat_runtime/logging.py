"""structlog JSON logging for every service, with the standard library routed through it.

One pipeline renders everything: structlog events and stdlib records (aiokafka, FastStream,
uvicorn) both end in the same `ProcessorFormatter` on the root logger, so every line is JSON,
carries the per-message context (`chat_runtime.log_context`) and passes the secret
redaction (`chat_runtime.redact`) last, just before rendering.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from chat_runtime.redact import redact_secrets

# Libraries that install their own handlers (and often `propagate=False`); we take their
# records back to the root so they are rendered like ours.
LIBRARY_LOGGERS = (
    "aiokafka",
    "faststream",
    "faststream.access",
    "faststream.access.kafka",
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
)
# Kubernetes probes and Prometheus scrapes hit the HTTP port every few seconds: an access
# line each would drown the message logs.
_QUIET_LOGGERS = {"uvicorn.access": logging.WARNING}

_HANDLER_MARK = "_chat_runtime_handler"


def _add_service(service: str) -> Processor:
    def add_service(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("service", service)
        return event_dict

    return add_service


def _drop_color_message(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    # uvicorn duplicates each message with ANSI colours in `extra`; JSON readers want one copy.
    event_dict.pop("color_message", None)
    return event_dict


def _drop_empty(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    # FastStream fills `topic`/`group_id`/`message_id` with "" outside message handling.
    return {k: v for k, v in event_dict.items() if v != ""}


# A reader scanning `kubectl logs` looks for when, how bad and what first.
_LEADING_KEYS = ("timestamp", "level", "service", "logger", "event")


def _order_keys(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    leading = {k: event_dict[k] for k in _LEADING_KEYS if k in event_dict}
    return {**leading, **event_dict}


def _flatten_extra(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    # FastStream calls `logger.log(level, msg, extra={...})`; given a structlog logger that
    # `extra` would arrive as one nested key. Bound context ids keep precedence.
    extra = event_dict.pop("extra", None)
    if isinstance(extra, dict):
        for key, value in extra.items():
            if value != "":
                event_dict.setdefault(key, value)
    return event_dict


def _context_over_extra(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    # FastStream's `extra` carries its own `message_id` (offset-timestamp); the message's
    # contract ids bound for the handling take precedence on stdlib records.
    event_dict.update(structlog.contextvars.get_contextvars())
    return event_dict


# Kept free of per-call state (the service name is added in the formatter), so loggers
# cached on first use stay right across reconfigurations.
_SHARED: list[Processor] = [
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


REPEATS_WINDOW_S = 1.0
"""A library logger's same message is let through once per this many seconds."""
_REPEATING_LIBRARIES = ("aiokafka", "kafka")


class _LibraryRepeats(logging.Filter):
    """Let a library's same message (its template, level and logger) through once per
    `REPEATS_WINDOW_S`; the next one let through carries `repeated`, the count left out
    meanwhile. aiokafka logs "Unable connect to node" thousands of times a second while a
    broker restarts; a service's own lines are never left out."""

    _MAX_KEYS = 1024

    def __init__(self) -> None:
        super().__init__()
        self._last: dict[tuple[str, int, str], float] = {}
        self._left_out: dict[tuple[str, int, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(_REPEATING_LIBRARIES):
            return True
        key = (record.name, record.levelno, str(record.msg))
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < REPEATS_WINDOW_S:
            self._left_out[key] = self._left_out.get(key, 0) + 1
            return False
        if len(self._last) >= self._MAX_KEYS:  # messages built without a template
            self._last.clear()
            self._left_out.clear()
        self._last[key] = now
        if left_out := self._left_out.pop(key, 0):
            record.repeated = left_out
        return True


def configure_logging(
    service: str,
    level: str = "INFO",
    json: bool = True,
    *,
    stream: TextIO | None = None,
) -> structlog.stdlib.BoundLogger:
    """Send all logging (structlog and stdlib) to `stream` as one JSON object per line.

    Call once at start, before building the broker. Calling again replaces the previous
    configuration (tests do). `json=False` renders human-readable lines for local use; the
    redaction runs either way. Returns a logger bound to the service for its own events.
    """
    renderer: Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        # Records from stdlib loggers: FastStream passes the topic, group and its message
        # id as `extra`, which ExtraAdder lifts into the event.
        foreign_pre_chain=[
            *_SHARED,
            structlog.stdlib.ExtraAdder(),
            _drop_color_message,
            _drop_empty,
            _context_over_extra,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _add_service(service),
            structlog.processors.format_exc_info,
            redact_secrets,
            _order_keys,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream if stream is not None else sys.stdout)
    handler.setFormatter(formatter)
    handler.addFilter(_LibraryRepeats())
    setattr(handler, _HANDLER_MARK, True)

    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    reroute_library_loggers()

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.contextvars.merge_contextvars,
            _flatten_extra,
            *_SHARED,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(service)
    return logger


def reroute_library_loggers(names: Iterable[str] = LIBRARY_LOGGERS) -> None:
    """Strip the handlers libraries installed and let their records reach the root.

    uvicorn re-applies its own logging config when a server starts, so the ASGI app calls
    this again at startup (see `chat_runtime.app.make_asgi_app`).
    """
    for name in names:
        lib_logger = logging.getLogger(name)
        lib_logger.handlers.clear()
        lib_logger.propagate = True
        lib_logger.setLevel(_QUIET_LOGGERS.get(name, logging.NOTSET))


def get_logger(name: str | None = None, **bound: Any) -> structlog.stdlib.BoundLogger:
    """A structlog logger for module code: `log = get_logger(__name__)`."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name, **bound)
    return logger
