"""`bootstrap()`: the console's object graph for its settings (nothing started)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chat_runtime.app import Lifecycle
from chat_runtime.clock import Clock
from chat_runtime.kafka import ManagedProducer
from chat_runtime.logging import get_logger
from chat_runtime.metrics import build_metrics, new_registry
from chat_runtime.request_reply import LazyRequestReplyClient, RequestReplyClient
from console_service.adapters.kafka import AuditLog, CrmCommands
from console_service.adapters.schema import migrate
from console_service.adapters.store import Store, make_engine
from console_service.config import Settings
from console_service.entrypoints.access import Gate
from console_service.entrypoints.consumer import HistoryConsumer
from console_service.handlers.history import KeepHistory
from console_service.handlers.queries import History
from console_service.handlers.repairs import Repairs
from console_service.metrics import build_console_metrics

log = get_logger(__name__)


@dataclass(kw_only=True)
class ConsoleService(Lifecycle):
    settings: Settings
    store: Store
    history: History
    repairs: Repairs
    gate: Gate
    consumer: HistoryConsumer


def bootstrap(settings: Settings, *, clock: Clock | None = None) -> ConsoleService:
    """The console for `settings`: its database migrated, its clients built."""
    clock = clock or Clock()
    registry = new_registry()
    base = build_metrics(registry)
    metrics = build_console_metrics(registry)
    engine = make_engine(settings.database_url)  # connects on first use, not here
    store = Store(engine)

    async def migrate_database() -> None:
        applied = await asyncio.to_thread(migrate, engine)
        if applied:
            log.info("history database migrated", versions=applied)
        now = datetime.now(UTC).replace(tzinfo=None)
        if abandoned := await asyncio.to_thread(store.abandon_sent, now):
            log.warning("repairs left unanswered by the last run", commands=abandoned)

    kit = settings.kafka()
    requests = LazyRequestReplyClient(
        lambda: RequestReplyClient(
            kit,
            name=settings.service_name,
            metrics=base.request_reply,
            topic_options=settings.reply_topic_options(),
        )
    )
    producer = ManagedProducer(kit, "audit")
    repairs = Repairs(
        store,
        CrmCommands(requests, settings.commands_topic, settings.command_timeout_s),
        AuditLog(producer, settings.audit_topic),
    )

    def refused(kind: str) -> None:
        metrics.refused.labels(kind).inc()

    keep = KeepHistory(store, refused, metrics.stored.inc)
    consumer = HistoryConsumer(
        kit,
        settings.history_topics(),
        settings.group_id,
        store,
        keep,
        max_records=settings.poll_max_records,
    )
    history = History(store, daily_api_limit=settings.daily_api_limit)
    gate = Gate(
        admin_token=settings.secret("admin_token"),
        link_secret=settings.secret("link_secret").encode(),
        link_ttl_s=settings.link_ttl_s,
        clock=clock,
    )
    purge_task: list[asyncio.Task[None]] = []

    async def purge_loop() -> None:
        while True:
            before = datetime.now(UTC) - timedelta(days=settings.retention_days)
            try:
                deleted = await asyncio.to_thread(store.purge, before.replace(tzinfo=None))
                if any(deleted.values()):
                    log.info("history purged", older_than=before.isoformat(), **deleted)
            except Exception:
                log.exception("history purge failed")
            await asyncio.sleep(settings.purge_interval_s)

    async def start_purge() -> None:
        purge_task.append(asyncio.create_task(purge_loop(), name="console-purge"))

    async def stop_purge() -> None:
        for task in purge_task:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def dispose() -> None:
        engine.dispose()

    return ConsoleService(
        settings=settings,
        registry=registry,
        store=store,
        history=history,
        repairs=repairs,
        gate=gate,
        consumer=consumer,
        readiness={"history": consumer.ready, "audit producer": _started(producer)},
        on_startup=[migrate_database, producer.start, requests.start, consumer.start, start_purge],
        on_shutdown=[stop_purge, consumer.stop, repairs.stop],
        after_shutdown=[requests.stop, producer.stop, dispose],
    )


def _started(producer: ManagedProducer) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return producer.started

    return check
