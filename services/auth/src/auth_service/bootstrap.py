"""`bootstrap()`: builds auth's object graph from its settings; `app.py` serves it.

Adapters that talk to the outside (the stores and the event publisher on Kafka,
Salesforce over HTTP, the clock) are built here unless given: the unit tests pass
in-memory fakes and get the same use cases, wired the same way, as production.
Start order: the producer, the token store and the settings store read to their end,
then (only then) the token-request consumer, so no request is answered "not connected" by
a replica still loading. The consumer's partitions decide which tenants this replica owns
(refreshes, keep-alive); the others it asks over the same topic (`adapters.ownership`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from prometheus_client import CollectorRegistry

from auth_service.adapters.events import KafkaAuditTrail, KafkaEventPublisher
from auth_service.adapters.kafka import KafkaWriter
from auth_service.adapters.ownership import (
    KafkaTokenOwner,
    OwnsEverything,
    TenantOwnership,
)
from auth_service.adapters.ports import (
    AuditTrail,
    EventPublisher,
    Ownership,
    SalesforceOAuth,
    SettingsStore,
    TokenStore,
)
from auth_service.adapters.salesforce import HttpSalesforce
from auth_service.adapters.token_store import KafkaTokenStore
from auth_service.config import Settings
from auth_service.domain.keyring import KeyRing
from auth_service.domain.tokens import CachePolicy
from auth_service.entrypoints.token_requests import REQUEST_TYPE, token_request_handler
from auth_service.handlers.connect import ConnectFlow
from auth_service.handlers.demo import bootstrap_bulk, bootstrap_demo
from auth_service.handlers.keepalive import KeepAlive
from auth_service.handlers.permissions import PermissionChecks
from auth_service.handlers.refresh import Refresher, RefreshPolicy
from auth_service.handlers.settings import TenantSettingsEditor
from auth_service.handlers.status import StatusQuery
from auth_service.handlers.tokens import TokenService
from auth_service.metrics import AuthMetrics, build_auth_metrics
from chat_runtime.app import Lifecycle
from chat_runtime.clock import Clock
from chat_runtime.metrics import new_registry
from chat_runtime.request_reply import LazyRequestReplyClient, RequestReplyClient
from chat_runtime.request_reply.consumer import RequestConsumer
from chat_runtime.request_reply.ownership import KeyOwnership
from chat_runtime.request_reply.responder import ResponderOptions
from chat_runtime.tenant_settings import TenantSettingsTable


@dataclass(kw_only=True)
class AuthService(Lifecycle):
    """auth's use cases, the adapters they run on, and the hooks that start and stop them."""

    settings: Settings
    metrics: AuthMetrics
    clock: Clock
    ring: KeyRing
    store: TokenStore
    settings_store: SettingsStore
    events: EventPublisher
    salesforce: SalesforceOAuth
    refresher: Refresher
    tokens: TokenService
    permissions: PermissionChecks
    connect: ConnectFlow
    status: StatusQuery
    settings_editor: TenantSettingsEditor
    ownership: Ownership
    keepalive: KeepAlive
    requests: RequestConsumer | None = None


def bootstrap(
    settings: Settings,
    *,
    salesforce: SalesforceOAuth | None = None,
    clock: Clock | None = None,
    store: TokenStore | None = None,
    settings_store: SettingsStore | None = None,
    events: EventPublisher | None = None,
    audit: AuditTrail | None = None,
    registry: CollectorRegistry | None = None,
) -> AuthService:
    """auth for `settings`; the Kafka side (stores, events, the token-request consumer)
    is built only for the adapters not given."""
    if (store is None) != (settings_store is None):
        # Both state tables run on Kafka together (one writer, started with them), or
        # neither does: half of them would never be started.
        raise ValueError("pass both stores, or neither")
    clock = clock or Clock()
    registry = registry if registry is not None else new_registry()
    metrics = build_auth_metrics(registry)
    ring = settings.key_ring()
    kit = settings.kafka()
    writer = KafkaWriter(kit)
    on_kafka = None
    if store is None or settings_store is None:
        on_kafka = (
            KafkaTokenStore(kit, settings.refresh_tokens_topic, writer),
            TenantSettingsTable(kit, topic=settings.settings_topic, writer=writer),
        )
        store, settings_store = on_kafka
    events = events or KafkaEventPublisher(writer, settings.connections_topic)
    audit = audit or KafkaAuditTrail(writer, settings.audit_topic)
    own_sf = None
    if salesforce is None:
        salesforce = own_sf = HttpSalesforce(
            settings,
            calls=metrics.suite.salesforce_calls,
            api_remaining=metrics.suite.salesforce_api_remaining,
            api_limit=metrics.suite.salesforce_api_limit,
        )
    ownership: Ownership = OwnsEverything()
    owner = None
    if on_kafka is not None:
        ownership = TenantOwnership(
            KeyOwnership(
                settings.token_requests_topic, release_timeout_s=settings.handoff_timeout_s
            )
        )
        owner = KafkaTokenOwner(
            LazyRequestReplyClient(
                lambda: RequestReplyClient(
                    kit,
                    name=settings.service_name,
                    metrics=metrics.suite.request_reply,
                    topic_options=settings.reply_topic_options(),
                )
            ),
            settings.token_requests_topic,
        )
    refresher = Refresher(
        store=store,
        salesforce=salesforce,
        events=events,
        ring=ring,
        metrics=metrics,
        policy=RefreshPolicy(
            attempts=settings.refresh_attempts,
            backoff_s=settings.refresh_backoff_s,
            backoff_max_s=settings.refresh_backoff_max_s,
            cooldown_s=settings.failure_cooldown_s,
            cooldown_max_s=settings.failure_cooldown_max_s,
        ),
        clock=clock,
    )
    tokens = TokenService(
        store=store,
        refresher=refresher,
        metrics=metrics,
        cache_policy=CachePolicy(
            max_age_s=settings.access_token_max_age_s,
            force_min_interval_s=settings.force_refresh_min_interval_s,
        ),
        clock=clock,
        ownership=ownership,
        owner=owner,
        catch_up_timeout_s=settings.catch_up_timeout_s,
    )
    keepalive = KeepAlive(
        store=store,
        tokens=tokens,
        ownership=ownership,
        ring=ring,
        clock=clock,
        idle_after=timedelta(days=settings.keepalive_after_days),
    )
    permissions = PermissionChecks(tokens=tokens, salesforce=salesforce, store=store, events=events)
    connect = ConnectFlow(
        ring=ring,
        salesforce=salesforce,
        store=store,
        events=events,
        audit=audit,
        tokens=tokens,
        permissions=permissions,
        metrics=metrics,
        clock=clock,
        state_ttl_s=settings.state_ttl_s,
    )
    service = AuthService(
        registry=registry,
        settings=settings,
        metrics=metrics,
        clock=clock,
        ring=ring,
        store=store,
        settings_store=settings_store,
        events=events,
        salesforce=salesforce,
        refresher=refresher,
        tokens=tokens,
        permissions=permissions,
        connect=connect,
        status=StatusQuery(store=store, permissions=permissions),
        settings_editor=TenantSettingsEditor(
            store=settings_store, tokens=tokens, salesforce=salesforce, audit=audit
        ),
        ownership=ownership,
        keepalive=keepalive,
    )
    if on_kafka is not None:
        assert isinstance(ownership, TenantOwnership)
        assert owner is not None
        _run_on_kafka(service, writer, *on_kafka, ownership.keys, owner.client)
    if own_sf is not None:
        service.after_shutdown.append(own_sf.aclose)
    return service


def _run_on_kafka(
    service: AuthService,
    writer: KafkaWriter,
    store: KafkaTokenStore,
    settings_store: TenantSettingsTable,
    ownership: KeyOwnership,
    owner_client: LazyRequestReplyClient,
) -> None:
    settings = service.settings
    options = ResponderOptions(
        topic=settings.token_requests_topic,
        group_id=settings.group_id,
        default_deadline_s=settings.default_request_timeout_s,
        max_in_flight=settings.max_in_flight,
    )
    requests = RequestConsumer(
        settings.kafka(),
        options,
        REQUEST_TYPE,
        token_request_handler(service.tokens),
        service.metrics.suite.responder,
        ownership=ownership,
        clock=service.clock,
    )
    service.requests = requests
    service.readiness = {
        "token_store": store.is_loaded,
        "settings_store": settings_store.is_loaded,
        "requests": requests.ready,
        "owner_client": _started(owner_client),
    }
    background: list[asyncio.Task[Any]] = []

    async def start() -> None:
        await writer.start()
        await store.start(settings.store_load_timeout_s)
        await settings_store.start(settings.store_load_timeout_s)
        await owner_client.start()
        if settings.demo is not None:
            demo = bootstrap_demo(
                settings.demo, store=store, salesforce=service.salesforce, connect=service.connect
            )
            background.append(asyncio.create_task(demo))
        if settings.bulk:
            bulk = bootstrap_bulk(
                settings.bulk, store=store, salesforce=service.salesforce, connect=service.connect
            )
            background.append(asyncio.create_task(bulk))
        await requests.start()
        if settings.keepalive_after_days > 0:
            sweeps = service.keepalive.run(settings.keepalive_interval_s)
            background.append(asyncio.create_task(sweeps, name="keepalive"))

    async def finish_in_flight() -> None:
        await requests.stop(settings.shutdown_timeout_s)
        await owner_client.stop()

    async def stop() -> None:
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await settings_store.stop()
        await store.stop()
        await writer.stop()

    service.on_startup.append(start)
    service.on_shutdown.append(finish_in_flight)
    service.after_shutdown.insert(0, stop)


def _started(client: LazyRequestReplyClient) -> Callable[[], Awaitable[bool]]:
    async def ready() -> bool:
        return client.started

    return ready
