"""`create_app()`: ingest as an ASGI app (the graph is `bootstrap()`'s).

    uvicorn ingest_service.app:create_app --factory --port 8001
    python -m ingest_service          # the same, on INGEST_HTTP_HOST:INGEST_HTTP_PORT

One port serves the webhook, `/metrics`, `/healthz` and `/readyz`. The two halves can run
in separate deployments (`INGEST_WEBHOOK_ENABLED`, `INGEST_NORMALISER_ENABLED`): the
webhook scales with requests, the normaliser with `chat.raw.v1`'s lag.
"""

from __future__ import annotations

import gc

from faststream.asgi import AsgiFastStream

from chat_runtime.app import make_broker, make_service_app, run_app
from chat_runtime.logging import configure_logging
from chat_runtime.settings import load_settings_or_exit
from ingest_service.adapters.ports import Publisher
from ingest_service.bootstrap import bootstrap
from ingest_service.config import Settings
from ingest_service.entrypoints.consumer import register_normaliser
from ingest_service.entrypoints.webhook import WEBHOOK_PATH, WebhookEndpoint


def create_app(
    settings: Settings | None = None, *, publisher: Publisher | None = None
) -> AsgiFastStream:
    """The ingest service for `settings` (default: the environment). Tests may pass their
    own publisher; it is then theirs to start and stop."""
    settings = settings or load_settings_or_exit(Settings)
    log = configure_logging(settings.service_name, settings.log_level, settings.log_json)
    service = bootstrap(settings, publisher=publisher)
    broker = make_broker(settings, registry=service.registry)
    routes = []
    if service.accept is not None:
        endpoint = WebhookEndpoint(
            service.accept, max_body_bytes=settings.max_body_bytes, metrics=service.metrics
        )
        routes.append((WEBHOOK_PATH, endpoint))
    if service.normalise is not None:
        register_normaliser(broker, settings, service.normalise)
    if settings.demo:
        log.warning("INGEST_DEMO is set: the demo tenant's public secret is accepted")
    log.info(
        "ingest configured",
        webhook=settings.webhook_enabled,
        normaliser=settings.normaliser_enabled,
        tenants=len(settings.webhook_secrets),
        demo=settings.demo,
    )
    return make_service_app(broker, settings, service, asgi_routes=routes)


def main() -> None:
    """Serve ingest on the configured host and port until SIGTERM."""
    settings = load_settings_or_exit(Settings)
    app = create_app(settings)
    tune_gc()
    run_app(app, settings)


def tune_gc() -> None:
    """Process-wide garbage collector settings for a process that normalises thousands of
    events a second: each event allocates hundreds of short-lived objects (freed by their
    reference counts; they hardly ever form cycles), so CPython's default of a collection
    every 700 allocations runs several per event, and every full collection walks all the
    objects the imported libraries made. Those are frozen out of collection and young
    collections made rarer: about a tenth more events/s in bench/ingest.py."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
