"""`create_app()`: builds every dependency of bot-actions and returns the ASGI app.

    python -m bot_actions      # serves on BOT_ACTIONS_HTTP_HOST:BOT_ACTIONS_HTTP_PORT (8003)
    faststream run bot_actions.app:create_app --factory

One port serves `/metrics`, `/healthz` and `/readyz` (ready: Kafka reachable, reply
producer up, request consumer reading). Start: the token client (its reply topic) and the
reply producer, then the request consumer joins its group. Stop: the consumer stops
reading, requests in flight finish and are committed (bounded by `shutdown_timeout_s`),
it leaves the group; the reply producer, the token client and the Salesforce connections
close last.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from faststream.asgi import AsgiFastStream

from bot_actions.adapters.replies import KafkaReplies
from bot_actions.adapters.salesforce import GatewaySalesforce, SalesforcePort
from bot_actions.adapters.tokens import TokenClient
from bot_actions.adapters.window import InFlightWindow
from bot_actions.config import Settings
from bot_actions.entrypoints.consumer import RequestConsumer, Responder
from bot_actions.handlers import BotActions
from bot_actions.metrics import build_bot_metrics
from chat_runtime.app import declare_consumer, make_asgi_app, make_broker, run_app
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
    # The broker subscribes to nothing here: it is the app's lifecycle and Kafka ping.
    broker = make_broker(settings, registry=registry)
    security = settings.kafka_security().aiokafka_options()
    on_startup: list[Hook] = []
    after_shutdown: list[Hook] = []
    if salesforce is None:
        salesforce, start, stop = _salesforce(settings, service_metrics, security)
        on_startup.append(start)
        after_shutdown.append(stop)
    window = InFlightWindow(
        settings.max_in_flight,
        commit_interval_s=settings.commit_interval_ms / 1000,
        revoke_drain_s=settings.revoke_drain_s,
        on_in_flight=metrics.in_flight.set,
    )
    replies = KafkaReplies(
        settings.kafka_bootstrap_servers, client_id=settings.service_name, **security
    )
    on_startup.append(replies.start)
    after_shutdown.append(replies.stop)  # after in-flight requests have answered
    responder = Responder(
        replies,
        BotActions(salesforce),
        metrics,
        default_deadline_s=settings.default_deadline_s,
        reply_margin_s=settings.reply_margin_ms / 1000,
    )
    requests = RequestConsumer(settings, window, responder, **security)
    on_startup.append(requests.start)  # last: replies and tokens are ready by then

    async def finish_in_flight() -> None:
        await requests.stop(settings.shutdown_timeout_s)

    log.info("bot-actions configured", topic=settings.request_topic, tokens=settings.token_topic)

    async def replies_ready() -> bool:
        return replies.started

    async def reading() -> bool:
        return requests.reading

    app = make_asgi_app(
        broker,
        settings,
        registry,
        {"replies": replies_ready, "requests": reading},
        on_startup=on_startup,
        on_shutdown=[finish_in_flight],
        after_shutdown=after_shutdown,
    )
    declare_consumer(app, [settings.request_topic], settings.group_id)
    return app


Hook = Callable[[], Awaitable[None]]


def _salesforce(
    settings: Settings, metrics: ServiceMetrics, security: dict[str, Any]
) -> tuple[SalesforcePort, Hook, Hook]:
    tokens_client = TokenClient(
        settings.kafka_bootstrap_servers,
        name=settings.service_name,
        timeout_s=settings.token_timeout_s,
        metrics=metrics.request_reply,
        kafka_options=security,
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
        await gateway.aclose()

    return port, start, stop


def main() -> None:
    """Serve bot-actions on the configured host and port until SIGTERM."""
    settings = load_settings_or_exit(Settings)
    run_app(create_app(settings), settings)
