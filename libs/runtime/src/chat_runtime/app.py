"""The FastStream app factory pieces every service uses, with at-least-once defaults.

    def create_app(settings: Settings | None = None) -> AsgiFastStream:
        settings = settings or load_settings_or_exit(Settings)
        configure_logging(settings.service_name, settings.log_level, settings.log_json)
        registry = new_registry()
        broker = make_broker(settings, registry=registry)
        subscriber(broker, CHAT_RAW.name, group_id=settings.group_id)(handle_raw)
        return make_asgi_app(broker, settings, registry)

    def main() -> None:  # serves on settings.http_host:http_port until SIGTERM
        settings = load_settings_or_exit(Settings)
        run_app(create_app(settings), settings)

(`faststream run pkg.app:create_app --factory` works too, with the CLI's host and port.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import prometheus_client
import uvicorn
from faststream import AckPolicy
from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.kafka.subscriber.usecase import DefaultSubscriber
from faststream.types import BrokerMiddleware, LoggerProto
from prometheus_client import CollectorRegistry

from chat_runtime.health import ReadinessCheck, liveness_handler, readiness_handler
from chat_runtime.kafka import KafkaKit
from chat_runtime.lag import LagReporter
from chat_runtime.log_context import LogContextMiddleware
from chat_runtime.logging import reroute_library_loggers
from chat_runtime.metrics import prometheus_middleware
from chat_runtime.settings import ServiceSettings
from chat_runtime.tracing import configure_tracing, flush

# Commit after the handler returns; on an exception seek back so the record is delivered
# again (ACK would commit it anyway, losing it). FastStream's default, ACK_FIRST, commits
# before handling: at-most-once.
AT_LEAST_ONCE = AckPolicy.NACK_ON_ERROR


def make_broker(
    settings: ServiceSettings,
    *,
    registry: CollectorRegistry,
    logger: LoggerProto | None = None,
    middlewares: Sequence[BrokerMiddleware[Any, Any]] = (),
    **broker_options: Any,
) -> KafkaBroker:
    """A `KafkaBroker` for `settings` with the suite's delivery and observability defaults.

    - `ack_policy=NACK_ON_ERROR` broker-wide (subscribers made on routers must still use
      `subscriber()` or `make_router()`: FastStream 0.7.8 does not pass the broker's policy
      down to them);
    - idempotent producer, `acks="all"`: a publish returns once every in-sync replica has it;
    - `graceful_timeout`: at stop, in-flight handlers get `shutdown_timeout_s` to finish
      (and commit) before consumers close;
    - middlewares: the per-message log context, FastStream's Prometheus metrics, then yours;
    - `logger`: FastStream's "Received"/"Processed" lines go through the JSON logging.
    """
    service = settings.service_name
    return KafkaBroker(
        [s.strip() for s in settings.kafka_bootstrap_servers.split(",") if s.strip()],
        client_id=service,
        acks="all",
        enable_idempotence=True,
        ack_policy=AT_LEAST_ONCE,
        graceful_timeout=settings.shutdown_timeout_s,
        security=settings.kafka_security().faststream(),
        middlewares=(LogContextMiddleware, prometheus_middleware(registry, service), *middlewares),
        logger=logger if logger is not None else logging.getLogger(f"{service}.kafka"),
        **broker_options,
    )


def make_router(**router_options: Any) -> KafkaRouter:
    """A `KafkaRouter` whose subscribers commit after handling, like the broker's."""
    router_options.setdefault("ack_policy", AT_LEAST_ONCE)
    return KafkaRouter(**router_options)


def subscriber(
    registrar: KafkaBroker | KafkaRouter,
    *topics: str,
    group_id: str,
    **options: Any,
) -> DefaultSubscriber:
    """Declare an at-least-once subscriber: `@subscriber(broker, topic, group_id=...)`.

    A group id is required (without one nothing is ever committed); a new group starts
    from the earliest retained record rather than skipping what arrived before it joined;
    the offset is committed after the handler returns and rewound when it raises. Any
    `broker.subscriber` option may be passed to override these.
    """
    options.setdefault("auto_offset_reset", "earliest")
    options.setdefault("ack_policy", AT_LEAST_ONCE)
    sub: DefaultSubscriber = registrar.subscriber(*topics, group_id=group_id, **options)
    return sub


def make_asgi_app(
    broker: KafkaBroker,
    settings: ServiceSettings,
    registry: CollectorRegistry,
    readiness_checks: Mapping[str, ReadinessCheck] | None = None,
    *,
    logger: LoggerProto | None = None,
    **app_options: Any,
) -> AsgiFastStream:
    """The service's app: the broker plus `/metrics`, `/healthz` and `/readyz` on one port.

    `readiness_checks` add to the broker ping (e.g. "settings topic loaded"). Other
    `AsgiFastStream` options (`asgi_routes`, `on_startup`, `specification`, ...) pass through.
    """
    routes = [
        ("/metrics", prometheus_client.make_asgi_app(registry)),
        ("/healthz", liveness_handler()),
        ("/readyz", readiness_handler(broker, readiness_checks)),
        *app_options.pop("asgi_routes", ()),
    ]
    on_startup = [_take_back_library_loggers, *app_options.pop("on_startup", ())]
    return AsgiFastStream(
        broker,
        asgi_routes=routes,
        logger=logger if logger is not None else logging.getLogger(f"{settings.service_name}.app"),
        on_startup=on_startup,
        **app_options,
    )


Hook = Callable[[], Awaitable[None]]


@dataclass(kw_only=True)
class Lifecycle:
    """The part of every service's `bootstrap()` result that serving it needs: readiness
    checks beside the broker ping, and hooks (`on_startup` before the broker's subscribers
    start, `on_shutdown` before they stop, `after_shutdown` after). Services' graphs extend
    it with their use cases."""

    registry: CollectorRegistry
    readiness: dict[str, ReadinessCheck] = field(default_factory=dict)
    on_startup: list[Hook] = field(default_factory=list)
    on_shutdown: list[Hook] = field(default_factory=list)
    after_shutdown: list[Hook] = field(default_factory=list)


def make_service_app(
    broker: KafkaBroker, settings: ServiceSettings, graph: Lifecycle, **app_options: Any
) -> AsgiFastStream:
    """`make_asgi_app` for a bootstrapped service: its registry, readiness checks and hooks
    (`on_startup` before the broker's subscribers start, `on_shutdown` before they stop,
    `after_shutdown` after), and the lag of every consumer group it runs exported
    (`chat_runtime.lag`). Spans are exported when the environment asks for it
    (`chat_runtime.tracing`)."""
    configure_tracing(settings.service_name)
    app = make_asgi_app(
        broker,
        settings,
        graph.registry,
        graph.readiness,
        on_startup=list(graph.on_startup),
        on_shutdown=list(graph.on_shutdown),
        after_shutdown=[*graph.after_shutdown, _flush_spans],
        **app_options,
    )
    lag = LagReporter(KafkaKit.from_settings(settings), {}, graph.registry)

    async def report_lag() -> None:
        lag.groups = consumer_groups(app)
        await lag.start()

    app.after_startup(report_lag)
    app.on_shutdown(lag.stop)
    return app


def consumer_groups(app: AsgiFastStream) -> dict[str, list[str]]:
    """Every consumer group the service runs, with its topics: its broker's subscribers
    and the consumers it declared (`declare_consumer`)."""
    groups: dict[str, list[str]] = {}
    for sub in app.broker.subscribers if app.broker is not None else ():
        group = getattr(sub, "group_id", None)
        names = getattr(sub, "topic_names", None) or [t.name for t in getattr(sub, "topics", ())]
        if group:
            groups.setdefault(group, []).extend(names)
    for declared in app.context.get(OWN_CONSUMERS) or []:
        groups.setdefault(declared["group"], []).extend(declared["topics"])
    return {g: sorted(set(t)) for g, t in groups.items()}


# The app context key listing the Kafka consumers a service runs itself, beside its
# broker's subscribers: `[{"topics": [...], "group": ...}]` (see `declare_consumer`).
OWN_CONSUMERS = "own_kafka_consumers"


def declare_consumer(app: AsgiFastStream, topics: Sequence[str], group: str) -> None:
    """Record a consumer the service runs outside FastStream (a plain aiokafka loop), so
    that what it reads is as visible as its subscribers (the deploy checks compare both
    with the Kafka ACLs and the autoscaling triggers)."""
    declared = list(app.context.get(OWN_CONSUMERS) or [])
    declared.append({"topics": sorted(topics), "group": group})
    app.context.set_global(OWN_CONSUMERS, declared)


async def _flush_spans() -> None:
    # The batching exporter's queue would be lost at exit otherwise.
    await asyncio.to_thread(flush)


def _take_back_library_loggers() -> None:
    # uvicorn applies its own logging config when it starts serving (`faststream run`,
    # `uvicorn --factory`): route its loggers through ours again. No parameters, since
    # FastStream fills startup hooks' parameters from the CLI's extra options.
    reroute_library_loggers()


def make_server(app: AsgiFastStream, settings: ServiceSettings) -> uvicorn.Server:
    """A uvicorn server for `app` on the settings' host and port, logging through ours."""
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,  # keep the JSON logging configure_logging set up
        lifespan="on",
        timeout_graceful_shutdown=max(1, int(settings.shutdown_timeout_s)),
    )
    return uvicorn.Server(config)


def run_app(app: AsgiFastStream, settings: ServiceSettings) -> None:
    """Serve `app` until SIGTERM/SIGINT, then stop the broker gracefully."""
    make_server(app, settings).run()
