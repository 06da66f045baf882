"""`bootstrap()`: builds bot-actions' object graph from its settings; `app.py` serves it.

Tests build the same graph with their own Salesforce port instead of re-wiring by hand.
Start order: the token client (its reply topic), then the request consumer (the reply
producer, then the group). Stop order: the consumer stops reading and lets requests in
flight finish (bounded by `shutdown_timeout_s`), then the token client and the Salesforce
connections close.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot_actions.adapters.salesforce import GatewaySalesforce, SalesforcePort
from bot_actions.config import Settings
from bot_actions.entrypoints.requests import REQUEST_TYPE, bot_action_handler
from bot_actions.handlers.actions import BotActions
from bot_actions.metrics import build_bot_metrics
from chat_runtime.app import Hook, Lifecycle
from chat_runtime.metrics import ServiceMetrics, build_metrics, new_registry
from chat_runtime.request_reply import LazyRequestReplyClient, RequestReplyClient
from chat_runtime.request_reply.consumer import RequestConsumer
from chat_runtime.request_reply.responder import ResponderOptions
from chat_salesforce import AuthTokenSource, SalesforceGateway, SchemaCache


@dataclass(kw_only=True)
class BotActionsService(Lifecycle):
    """Everything bot-actions runs, and the hooks that start and stop it."""

    settings: Settings
    metrics: ServiceMetrics
    actions: BotActions
    requests: RequestConsumer


def bootstrap(settings: Settings, *, salesforce: SalesforcePort | None = None) -> BotActionsService:
    """bot-actions for `settings`; with `salesforce` given, no token client or gateway."""
    registry = new_registry()
    metrics = build_metrics(registry)
    kit = settings.kafka()
    on_startup: list[Hook] = []
    after_shutdown: list[Hook] = []
    if salesforce is None:
        salesforce, start, stop = _salesforce(settings, metrics)
        on_startup.append(start)
        after_shutdown.append(stop)
    actions = BotActions(salesforce)
    options = ResponderOptions(
        topic=settings.request_topic,
        group_id=settings.group_id,
        default_deadline_s=settings.default_deadline_s,
        reply_margin_s=settings.reply_margin_ms / 1000,
        max_in_flight=settings.max_in_flight,
        commit_interval_s=settings.commit_interval_ms / 1000,
        revoke_drain_s=settings.revoke_drain_s,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
    )
    handler = bot_action_handler(actions, build_bot_metrics(registry))
    requests = RequestConsumer(kit, options, REQUEST_TYPE, handler, metrics.responder)
    on_startup.append(requests.start)  # last: tokens are ready by then

    async def finish_in_flight() -> None:
        await requests.stop(settings.shutdown_timeout_s)

    return BotActionsService(
        registry=registry,
        settings=settings,
        metrics=metrics,
        actions=actions,
        requests=requests,
        readiness={"requests": requests.ready},
        on_startup=on_startup,
        on_shutdown=[finish_in_flight],
        after_shutdown=after_shutdown,
    )


def _salesforce(settings: Settings, metrics: ServiceMetrics) -> tuple[SalesforcePort, Hook, Hook]:
    kit = settings.kafka()
    tokens_client = LazyRequestReplyClient(
        lambda: RequestReplyClient(
            kit,
            name=settings.service_name,
            default_timeout=settings.token_timeout_s,
            metrics=metrics.request_reply,
            topic_options=settings.reply_topic_options(),
        )
    )
    tokens = AuthTokenSource(
        tokens_client, topic=settings.token_topic, timeout_s=settings.token_timeout_s
    )
    gateway = SalesforceGateway(tokens, settings.gateway_options(), metrics=metrics)
    port = GatewaySalesforce(gateway, SchemaCache(gateway, ttl_s=settings.describe_ttl_s))

    async def stop() -> None:
        await tokens_client.stop()
        await gateway.aclose()

    return port, tokens_client.start, stop
