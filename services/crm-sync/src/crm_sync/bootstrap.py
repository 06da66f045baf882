"""`bootstrap()`: builds crm-sync's object graph from its settings; `app.py` serves it.

Start order: the producer, the settings table read to its end, the token client (its
reply topic), the commands' responder (manual create and repairs), the retry topic's
consumer, then the conversations' (its lanes). Stop order: the conversations' consumer
finishes the batches its lanes are writing and commits, the responder finishes its requests
in flight, the retry consumer commits; then the token client, the settings table, the
producer and the HTTP clients close.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat_runtime.app import Lifecycle
from chat_runtime.clock import Clock
from chat_runtime.metrics import build_metrics, new_registry
from chat_runtime.request_reply import LazyRequestReplyClient, RequestReplyClient
from chat_runtime.request_reply.consumer import RequestConsumer
from chat_runtime.tenant_settings import TenantSettingsTable
from chat_salesforce.gateway import GatewayOptions, SalesforceGateway
from chat_salesforce.http import HttpOptions
from chat_salesforce.tokens import AuthTokenSource
from crm_sync.adapters.files import HttpFileFetcher
from crm_sync.adapters.kafka import KafkaPublisher
from crm_sync.adapters.reader import KafkaRecordReader
from crm_sync.adapters.salesforce import GatewaySalesforce
from crm_sync.config import Settings
from crm_sync.domain.repairs import RepairTopics
from crm_sync.domain.retry import RetryPolicy
from crm_sync.domain.tenant_state import TenantCaches
from crm_sync.entrypoints.commands import REQUEST_TYPE, command_options, route
from crm_sync.entrypoints.conversations import ConversationConsumer
from crm_sync.entrypoints.parked import ParkedConsumer
from crm_sync.handlers.create_record import CreateRecord
from crm_sync.handlers.engine import EngineOptions, SyncEngine
from crm_sync.handlers.outputs import Outputs, OutTopics
from crm_sync.handlers.repairs import Repairs
from crm_sync.handlers.sync import ForwardDueRetries, SyncConversations
from crm_sync.metrics import build_sync_metrics


@dataclass(kw_only=True)
class CrmSyncService(Lifecycle):
    """crm-sync's use cases and the hooks that start and stop what they run on."""

    settings: Settings
    sync: SyncConversations
    forward: ForwardDueRetries
    parked: ParkedConsumer
    conversations: ConversationConsumer
    commands: RequestConsumer


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


def bootstrap(settings: Settings) -> CrmSyncService:
    """crm-sync for `settings`."""
    registry = new_registry()
    base = build_metrics(registry)
    metrics = build_sync_metrics(registry, base)
    kit = settings.kafka()
    clock = Clock()
    publisher = KafkaPublisher(kit)
    store = TenantSettingsTable(kit, topic=settings.settings_topic)
    requests = LazyRequestReplyClient(
        lambda: RequestReplyClient(
            kit,
            name=settings.service_name,
            metrics=base.request_reply,
            topic_options=settings.reply_topic_options(),
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
        api_version=settings.sf_api_version, per_tenant=settings.sf_per_tenant, http=http
    )
    gateway = SalesforceGateway(tokens, options, metrics=base)
    port = GatewaySalesforce(gateway, tokens, settings.sf_api_version)
    caches = TenantCaches(
        clock.monotonic,
        describe_ttl_s=settings.describe_ttl_s,
        owner_ttl_s=settings.owner_cache_ttl_s,
        visitor_ttl_s=settings.visitor_cache_ttl_s,
        max_visitors=settings.visitor_cache_size,
    )
    policy = retry_policy(settings)
    fetcher = HttpFileFetcher(
        max_bytes=settings.attachment_max_bytes,
        timeout_s=settings.attachment_timeout_s,
        schemes=settings.attachment_schemes,
        hosts=settings.attachment_hosts,
        allow_private=settings.attachment_allow_private,
    )
    engine_options = EngineOptions(
        chat_id_field=settings.chat_id_field,
        legacy_chat_keys=settings.legacy_chat_keys,
        max_rounds=settings.max_rounds,
        retry=policy,
        max_attachments=settings.attachment_max_count,
        fetch_bytes_per_round=settings.attachment_round_max_bytes,
        fetch_concurrency=settings.attachment_concurrency,
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
        engine,
        store,
        publisher,
        outputs,
        clock,
        tenant_deadline_s=settings.tenant_deadline_s,
        group=settings.group_id,
        latency_target_s=settings.latency_target_s,
    )
    forward = ForwardDueRetries(
        publisher,
        outputs,
        topics,
        clock,
        metrics,
        max_held_bytes=settings.retry_hold_max_bytes,
        max_wait_s=settings.retry_hold_max_wait_s,
    )
    parked = ParkedConsumer(kit, settings.retry_topic, f"{settings.group_id}.retry", forward)
    conversations = ConversationConsumer(
        kit,
        settings.conversations_topic,
        settings.group_id,
        sync,
        poll_max_records=settings.poll_max_records,
        poll_timeout_ms=settings.poll_timeout_ms,
        max_in_flight_records=settings.max_in_flight_records,
        max_in_flight_bytes=settings.max_in_flight_bytes,
        backlog_linger_s=settings.backlog_linger_ms / 1000,
        stop_timeout_s=settings.shutdown_timeout_s,
    )
    create = CreateRecord(
        port,
        store,
        caches,
        chat_id_field=settings.chat_id_field,
        legacy_chat_keys=settings.legacy_chat_keys,
    )
    repair_topics = RepairTopics(
        conversations=settings.conversations_topic,
        crm_dlq=settings.dlq_topic,
        chat_dlq=settings.chat_dlq_topic,
        raw=settings.raw_topic,
        audit=settings.audit_topic,
    )
    repairs = Repairs(
        KafkaRecordReader(kit), publisher, repair_topics, clock, max_s=settings.repair_max_s
    )
    commands = RequestConsumer(
        kit, command_options(settings), REQUEST_TYPE, route(create, repairs), base.responder
    )

    async def finish_commands() -> None:
        await commands.stop(settings.shutdown_timeout_s)

    async def close_http() -> None:
        await fetcher.close()
        await gateway.aclose()

    return CrmSyncService(
        settings=settings,
        registry=registry,
        sync=sync,
        forward=forward,
        parked=parked,
        conversations=conversations,
        commands=commands,
        readiness={
            "tenant_settings": store.is_loaded,
            "commands": commands.ready,
            "parked": parked.ready,
            "conversations": conversations.ready,
        },
        on_startup=[
            publisher.start,
            store.start,
            requests.start,
            commands.start,
            parked.start,
            conversations.start,
        ],
        on_shutdown=[conversations.stop, finish_commands, parked.stop],
        after_shutdown=[requests.stop, store.stop, publisher.stop, close_http],
    )
