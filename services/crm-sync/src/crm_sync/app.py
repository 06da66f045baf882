"""`create_app()`: builds every dependency of crm-sync and returns the ASGI app.

    python -m crm_sync                 # serves on CRM_SYNC_HTTP_HOST:CRM_SYNC_HTTP_PORT
    faststream run crm_sync.app:create_app --factory

One port serves `/metrics`, `/healthz` and `/readyz`; Kafka does the rest. The settings
topic is read to its end and the producer connected before the first batch is consumed.
"""

from __future__ import annotations

import time

from faststream.asgi import AsgiFastStream

from chat_runtime.app import make_asgi_app, make_broker, run_app
from chat_runtime.health import ReadinessCheck
from chat_runtime.logging import configure_logging
from chat_runtime.metrics import build_metrics, new_registry
from chat_runtime.request_reply import RequestReplyClient
from chat_runtime.settings import load_settings_or_exit
from chat_runtime.tenant_settings import TenantSettingsReader
from chat_salesforce.gateway import GatewayOptions, SalesforceGateway
from chat_salesforce.http import HttpOptions
from chat_salesforce.tokens import AuthTokenSource
from crm_sync.adapters.clock import SystemClock
from crm_sync.adapters.files import HttpFileFetcher
from crm_sync.adapters.kafka import KafkaPublisher
from crm_sync.adapters.requests import LateRequestReplyClient
from crm_sync.adapters.salesforce import GatewaySalesforce
from crm_sync.caches import TenantCaches
from crm_sync.commands import CreateRecord
from crm_sync.config import Settings
from crm_sync.domain.retry import RetryPolicy
from crm_sync.engine import EngineOptions, SyncEngine
from crm_sync.entrypoints import register
from crm_sync.handlers import ForwardDueRetries, SyncConversations
from crm_sync.metrics import build_sync_metrics
from crm_sync.outputs import Outputs, OutTopics

__all__ = ["create_app", "main"]


def retry_policy(settings: Settings) -> RetryPolicy:
    """The retry numbers of the settings."""
    return RetryPolicy(
        round_backoff_s=settings.round_backoff_s,
        round_backoff_max_s=settings.round_backoff_max_s,
        park_backoff_s=settings.park_backoff_s,
        park_backoff_max_s=settings.park_backoff_max_s,
        budget_backoff_s=settings.budget_backoff_s,
        max_age_s=settings.retry_max_age_s,
    )


def create_app(settings: Settings | None = None) -> AsgiFastStream:
    """crm-sync for `settings` (default: the environment)."""
    settings = settings or load_settings_or_exit(Settings)
    log = configure_logging(settings.service_name, settings.log_level, settings.log_json)
    registry = new_registry()
    base = build_metrics(registry)
    metrics = build_sync_metrics(registry, base)
    broker = make_broker(settings, registry=registry)
    bootstrap = settings.kafka_bootstrap_servers
    clock = SystemClock()
    security = settings.kafka_security().aiokafka_options()  # for the clients built here
    publisher = KafkaPublisher(bootstrap, client_id=settings.service_name, kafka_options=security)
    store = TenantSettingsReader(
        bootstrap,
        topic=settings.settings_topic,
        client_id=settings.service_name,
        kafka_options=security,
    )
    requests = LateRequestReplyClient(
        lambda: RequestReplyClient(
            bootstrap,
            name=settings.service_name,
            metrics=base.request_reply,
            kafka_options=security,
        )
    )
    tokens = AuthTokenSource(
        requests, topic=settings.token_topic, timeout_s=settings.token_timeout_s
    )
    http = HttpOptions(
        ca_file=settings.sf_ca_file,
        timeout_s=settings.sf_timeout_s,
        connections=settings.sf_connections,
    )
    options = GatewayOptions(
        api_version=settings.sf_api_version,
        per_tenant=settings.sf_per_tenant,
        http=http,
    )
    gateway = SalesforceGateway(tokens, options, metrics=base)
    port = GatewaySalesforce(gateway, tokens, settings.sf_api_version)
    caches = TenantCaches(
        time.monotonic,
        describe_ttl_s=settings.describe_ttl_s,
        owner_ttl_s=settings.owner_cache_ttl_s,
    )
    policy = retry_policy(settings)
    fetcher = HttpFileFetcher(
        max_bytes=settings.attachment_max_bytes,
        timeout_s=settings.attachment_timeout_s,
        schemes=settings.attachment_schemes,
        hosts=settings.attachment_hosts,
    )
    engine_options = EngineOptions(
        chat_id_field=settings.chat_id_field, max_rounds=settings.max_rounds, retry=policy
    )
    engine = SyncEngine(port, caches, clock, engine_options, fetcher=fetcher)
    topics = OutTopics(
        results=settings.results_topic,
        retry=settings.retry_topic,
        dlq=settings.dlq_topic,
        conversations=settings.conversations_topic,
    )
    outputs = Outputs(topics, metrics, policy, clock)
    sync = SyncConversations(
        engine, store, publisher, outputs, clock, tenant_deadline_s=settings.tenant_deadline_s
    )
    register(
        broker,
        settings,
        sync=sync,
        linger=sync.linger_until,
        forward=ForwardDueRetries(
            publisher, outputs, topics, clock, metrics, wait_cap_s=settings.retry_wait_cap_s
        ),
        create=CreateRecord(port, store, caches, chat_id_field=settings.chat_id_field),
    )

    async def close_http() -> None:
        await fetcher.close()
        await gateway.aclose()

    checks: dict[str, ReadinessCheck] = {"tenant_settings": store.is_loaded}
    log.info("crm-sync configured", conversations=settings.conversations_topic)
    return make_asgi_app(
        broker,
        settings,
        registry,
        checks,
        on_startup=[publisher.start, store.start, requests.start],
        # After the broker: the last batch's results are published first.
        after_shutdown=[requests.stop, store.stop, publisher.stop, close_http],
    )


def main() -> None:
    """Serve crm-sync on the configured host and port until SIGTERM."""
    settings = load_settings_or_exit(Settings)
    run_app(create_app(settings), settings)
