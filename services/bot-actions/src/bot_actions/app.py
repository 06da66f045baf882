"""`create_app()`: builds every dependency of bot-actions and returns the ASGI app.

    python -m bot_actions      # serves on BOT_ACTIONS_HTTP_HOST:BOT_ACTIONS_HTTP_PORT (8003)
    faststream run bot_actions.app:create_app --factory

One port serves `/metrics`, `/healthz` and `/readyz`. Start: the token client (its reply
topic) before the broker consumes. Stop: requests in flight finish and are committed
(bounded by `shutdown_timeout_s`) before the consumer closes; the token client and the
Salesforce threads close last.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable

from faststream.asgi import AsgiFastStream

from bot_actions.adapters.replies import KafkaReplies
from bot_actions.adapters.salesforce import GatewaySalesforce, SalesforcePort
from bot_actions.adapters.tokens import TokenClient
from bot_actions.adapters.window import InFlightWindow
from bot_actions.config import Settings
from bot_actions.entrypoints.consumer import Responder, register_consumer
from bot_actions.handlers import BotActions
from bot_actions.metrics import build_bot_metrics
from chat_runtime.app import make_asgi_app, make_broker, run_app
from chat_runtime.logging import configure_logging
from chat_runtime.metrics import ServiceMetrics, build_metrics, new_registry
from chat_runtime.settings import load_settings_or_exit
from chat_salesforce import AuthTokenSource, SalesforceGateway, SchemaCache


def create_app(
    settings: Settings | None = None, *, salesforce: SalesforcePort | None = None
) -> AsgiFastStream:
    """The bot-actions service for `settings` (default: the environment). Tests may pass
    their own Salesforce port; no token client or gateway is built then."""
    settings = settings or load_settings_or_exit(Settings)
    log = configure_logging(settings.service_name, settings.log_level, settings.log_json)
    registry = new_registry()
    service_metrics = build_metrics(registry)
    metrics = build_bot_metrics(registry)
    # FastStream's Received/Processed lines for every request would be most of the logs
    # (and of the CPU) at a few hundred requests/s; metrics count them instead.
    access_level = logging.INFO if settings.access_log else logging.DEBUG
    broker = make_broker(settings, registry=registry, log_level=access_level)
    on_startup: list[Hook] = []
    after_shutdown: list[Hook] = []
    if salesforce is None:
        salesforce, start, stop = _salesforce(settings, service_metrics)
        on_startup.append(start)
        after_shutdown.append(stop)
    window = InFlightWindow(
        settings.max_in_flight,
        commit_interval_s=settings.commit_interval_ms / 1000,
        revoke_drain_s=settings.revoke_drain_s,
        on_in_flight=metrics.in_flight.set,
    )
    replies = KafkaReplies(settings.kafka_bootstrap_servers, client_id=settings.service_name)
    on_startup.append(replies.start)
    after_shutdown.append(replies.stop)  # after in-flight requests have answered
    responder = Responder(
        replies,
        BotActions(salesforce),
        metrics,
        default_deadline_s=settings.default_deadline_s,
        reply_margin_s=settings.reply_margin_ms / 1000,
    )
    register_consumer(broker, settings, window, responder)

    async def finish_in_flight() -> None:
        await window.close(settings.shutdown_timeout_s)

    log.info("bot-actions configured", topic=settings.request_topic, tokens=settings.token_topic)

    async def replies_ready() -> bool:
        return replies.started

    return make_asgi_app(
        broker,
        settings,
        registry,
        {"replies": replies_ready},
        on_startup=on_startup,
        on_shutdown=[finish_in_flight],
        after_shutdown=after_shutdown,
    )


Hook = Callable[[], Awaitable[None]]


def _salesforce(settings: Settings, metrics: ServiceMetrics) -> tuple[SalesforcePort, Hook, Hook]:
    tokens_client = TokenClient(
        settings.kafka_bootstrap_servers,
        name=settings.service_name,
        timeout_s=settings.token_timeout_s,
        metrics=metrics.request_reply,
    )
    tokens = AuthTokenSource(
        tokens_client, topic=settings.token_topic, timeout_s=settings.token_timeout_s
    )
    gateway = SalesforceGateway(tokens, settings.gateway_options(), metrics=metrics)
    port = GatewaySalesforce(gateway, SchemaCache(gateway, ttl_s=settings.describe_ttl_s))

    async def start() -> None:
        await tokens_client.start()

    async def stop() -> None:
        await tokens_client.stop()
        gateway.close()

    return port, start, stop


def main() -> None:
    """Serve bot-actions on the configured host and port until SIGTERM."""
    settings = load_settings_or_exit(Settings)
    sys.setswitchinterval(settings.gil_switch_interval_ms / 1000)
    run_app(create_app(settings), settings)
