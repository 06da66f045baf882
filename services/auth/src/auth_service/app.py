"""`create_app()`: builds every dependency of auth and returns the ASGI app.

    python -m auth_service        # serves on AUTH_HTTP_HOST:AUTH_HTTP_PORT (8004)
    uvicorn auth_service.app:create_app --factory --port 8004

One port serves the connect page, the OAuth callback, the admin endpoints, `/metrics`,
`/healthz` and `/readyz`; the token-request subscriber answers over Kafka. Readiness
waits for the refresh-token topic to be read to its end, and the subscriber starts only
after that, so no request is answered "not connected" by a replica still loading.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from faststream.asgi import AsgiFastStream

from auth_service.adapters.events import KafkaEventPublisher
from auth_service.adapters.kafka import KafkaWriter
from auth_service.adapters.ports import SalesforceOAuth
from auth_service.adapters.replies import KafkaReplies
from auth_service.adapters.salesforce import HttpSalesforce
from auth_service.adapters.settings_topic import KafkaSettingsStore
from auth_service.adapters.token_store import KafkaTokenStore
from auth_service.clock import Clock
from auth_service.config import Settings
from auth_service.domain.tokens import CachePolicy
from auth_service.entrypoints.access import Gate
from auth_service.entrypoints.token_requests import TokenRequests, register_token_requests
from auth_service.entrypoints.web import PATHS, Web
from auth_service.handlers.connect import ConnectFlow
from auth_service.handlers.demo import bootstrap_demo
from auth_service.handlers.keys import reseal_records
from auth_service.handlers.permissions import PermissionChecks
from auth_service.handlers.refresh import Refresher, RefreshPolicy
from auth_service.handlers.settings import TenantSettingsEditor
from auth_service.handlers.status import StatusQuery
from auth_service.handlers.tokens import TokenService
from auth_service.metrics import build_auth_metrics
from chat_runtime.app import make_asgi_app, make_broker, run_app
from chat_runtime.logging import configure_logging
from chat_runtime.metrics import new_registry
from chat_runtime.settings import load_settings_or_exit


def create_app(
    settings: Settings | None = None,
    *,
    salesforce: SalesforceOAuth | None = None,
    clock: Clock | None = None,
) -> AsgiFastStream:
    """The auth service for `settings` (default: the environment)."""
    settings = settings or load_settings_or_exit(Settings)
    log = configure_logging(settings.service_name, settings.log_level, settings.log_json)
    clock = clock or Clock()
    registry = new_registry()
    metrics = build_auth_metrics(registry)
    ring = settings.key_ring()
    # No argument injection (see `register_token_requests`); FastStream's per-message
    # "Received"/"Processed" lines at the configured access-log level.
    broker = make_broker(
        settings,
        registry=registry,
        apply_types=False,
        log_level=logging.getLevelName(settings.access_log_level),
    )
    security = settings.kafka_security().aiokafka_options()  # for the clients built here
    writer = KafkaWriter(
        settings.kafka_bootstrap_servers, client_id=settings.service_name, kafka_options=security
    )
    store = KafkaTokenStore(
        settings.kafka_bootstrap_servers,
        settings.refresh_tokens_topic,
        writer,
        client_id=settings.service_name,
        kafka_options=security,
    )
    settings_store = KafkaSettingsStore(
        settings.kafka_bootstrap_servers,
        settings.settings_topic,
        writer,
        client_id=settings.service_name,
        kafka_options=security,
    )
    events = KafkaEventPublisher(writer, settings.connections_topic)
    own_sf = HttpSalesforce(
        settings,
        calls=metrics.suite.salesforce_calls,
        api_remaining=metrics.suite.salesforce_api_remaining,
        api_limit=metrics.suite.salesforce_api_limit,
    )
    sf = salesforce or own_sf
    refresher = Refresher(
        store=store,
        salesforce=sf,
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
    )
    permissions = PermissionChecks(tokens=tokens, salesforce=sf, store=store, events=events)
    connect = ConnectFlow(
        ring=ring,
        salesforce=sf,
        store=store,
        events=events,
        tokens=tokens,
        permissions=permissions,
        metrics=metrics,
        clock=clock,
        state_ttl_s=settings.state_ttl_s,
    )
    gate = Gate(
        admin_token=settings.secret("admin_token"),
        link_secret=settings.secret("link_secret").encode(),
        link_ttl_s=settings.link_ttl_s,
        public_url=settings.public_url,
        clock=clock,
    )
    web = Web(
        gate=gate,
        connect=connect,
        status=StatusQuery(store=store, permissions=permissions),
        permissions=permissions,
        settings=TenantSettingsEditor(store=settings_store, tokens=tokens, salesforce=sf),
        login_urls=(settings.login_url(False), settings.login_url(True)),
        state_ttl_s=settings.state_ttl_s,
        secure_cookies=settings.public_url.startswith("https://"),
    ).app()
    register_token_requests(
        broker,
        settings,
        TokenRequests(
            tokens,
            KafkaReplies(writer, dropped=metrics.replies_dropped),
            metrics=metrics,
            clock=clock,
            default_timeout_s=settings.default_request_timeout_s,
        ),
    )
    background: list[asyncio.Task[bool]] = []

    async def start() -> None:
        await writer.start()
        await store.start(settings.store_load_timeout_s)
        await settings_store.start(settings.store_load_timeout_s)
        await reseal_records(store, ring)
        if settings.demo is not None:
            background.append(
                asyncio.create_task(
                    bootstrap_demo(settings.demo, store=store, salesforce=sf, connect=connect)
                )
            )

    async def stop() -> None:
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await settings_store.stop()
        await store.stop()
        await writer.stop()
        await own_sf.aclose()

    log.info(
        "auth configured",
        login_url=settings.login_url(False),
        sandbox_login_url=settings.login_url(True),
        redirect_uri=settings.redirect_uri,
        key_ids=list(ring.key_ids),
        active_key_id=ring.active_id,
        demo_tenant=settings.demo.tenant_id if settings.demo else None,
    )
    return make_asgi_app(
        broker,
        settings,
        registry,
        {"token_store": store.is_loaded, "settings_store": settings_store.is_loaded},
        asgi_routes=[(path, web) for path in PATHS],
        on_startup=[start],
        after_shutdown=[stop],
    )


def main() -> None:
    """Serve auth on the configured host and port until SIGTERM."""
    settings = load_settings_or_exit(Settings)
    run_app(create_app(settings), settings)
