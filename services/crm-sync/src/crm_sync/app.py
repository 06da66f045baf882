"""`create_app()`: crm-sync as an ASGI app (the graph is `bootstrap()`'s).

    python -m crm_sync                 # serves on CRM_SYNC_HTTP_HOST:CRM_SYNC_HTTP_PORT
    faststream run crm_sync.app:create_app --factory

One port serves `/metrics`, `/healthz` and `/readyz`; Kafka does the rest. The settings
topic is read to its end and the producer connected before the first batch is consumed.
"""

from __future__ import annotations

from faststream.asgi import AsgiFastStream

from chat_runtime.app import declare_consumer, make_broker, make_service_app, run_app
from chat_runtime.logging import configure_logging
from chat_runtime.settings import load_settings_or_exit
from crm_sync.bootstrap import bootstrap
from crm_sync.config import Settings

__all__ = ["create_app", "main"]


def create_app(settings: Settings | None = None) -> AsgiFastStream:
    """crm-sync for `settings` (default: the environment)."""
    settings = settings or load_settings_or_exit(Settings)
    log = configure_logging(settings.service_name, settings.log_level, settings.log_json)
    service = bootstrap(settings)
    broker = make_broker(settings, registry=service.registry)
    log.info("crm-sync configured", conversations=settings.conversations_topic)
    app = make_service_app(broker, settings, service)
    options = service.commands.options
    declare_consumer(app, [options.topic], options.group_id)
    declare_consumer(app, [service.parked.topic], service.parked.group_id)
    declare_consumer(app, [service.conversations.topic], service.conversations.group_id)
    return app


def main() -> None:
    """Serve crm-sync on the configured host and port until SIGTERM."""
    settings = load_settings_or_exit(Settings)
    run_app(create_app(settings), settings)
