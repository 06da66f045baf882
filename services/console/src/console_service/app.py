"""`create_app()`: builds every dependency of the console and returns the ASGI app.

    python -m console_service        # serves on CONSOLE_HTTP_HOST:CONSOLE_HTTP_PORT (8005)

One port serves the pages, the JSON API, `/metrics`, `/healthz` and `/readyz`. The
history database is migrated before anything starts; the history consumer then reads
from where the database says it stopped.
"""

from __future__ import annotations

from faststream.asgi import AsgiFastStream

from chat_runtime.app import declare_consumer, make_broker, make_service_app, run_app
from chat_runtime.clock import Clock
from chat_runtime.logging import configure_logging
from chat_runtime.settings import load_settings_or_exit
from console_service.bootstrap import bootstrap
from console_service.config import Settings
from console_service.entrypoints.web import Web


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> AsgiFastStream:
    """The console for `settings` (default: the environment)."""
    settings = settings or load_settings_or_exit(Settings)
    log = configure_logging(settings.service_name, settings.log_level, settings.log_json)
    service = bootstrap(settings, clock=clock)
    # The broker subscribes to nothing: it is the app's lifecycle and Kafka ping.
    broker = make_broker(settings, registry=service.registry)
    web = Web(service.gate, service.history, service.repairs).app()
    app = make_service_app(broker, settings, service)
    # FastStream's ASGI app matches exact paths; the console's routes carry the tenant in
    # the path, so its router answers every path the service's own routes do not.
    app.not_found = web  # type: ignore[method-assign]
    declare_consumer(app, service.consumer.topics, settings.group_id)
    log.info(
        "console configured",
        database=service.store.engine.url.render_as_string(hide_password=True),
        topics=service.consumer.topics,
    )
    return app


def main() -> None:
    """Serve the console on the configured host and port until SIGTERM."""
    settings = load_settings_or_exit(Settings)
    run_app(create_app(settings), settings)
