"""`create_app()`: bot-actions as an ASGI app (the graph is `bootstrap()`'s).

    python -m bot_actions      # serves on BOT_ACTIONS_HTTP_HOST:BOT_ACTIONS_HTTP_PORT (8003)
    faststream run bot_actions.app:create_app --factory

One port serves `/metrics`, `/healthz` and `/readyz` (ready: Kafka reachable, reply
producer up, request consumer reading).
"""

from __future__ import annotations

from faststream.asgi import AsgiFastStream

from bot_actions.adapters.salesforce import SalesforcePort
from bot_actions.bootstrap import bootstrap
from bot_actions.config import Settings
from chat_runtime.app import declare_consumer, make_broker, make_service_app, run_app
from chat_runtime.logging import configure_logging
from chat_runtime.settings import load_settings_or_exit


def create_app(
    settings: Settings | None = None, *, salesforce: SalesforcePort | None = None
) -> AsgiFastStream:
    """The bot-actions service for `settings` (default: the environment). Tests may pass
    their own Salesforce port; no token client or gateway is built then."""
    settings = settings or load_settings_or_exit(Settings)
    log = configure_logging(settings.service_name, settings.log_level, settings.log_json)
    service = bootstrap(settings, salesforce=salesforce)
    # The broker subscribes to nothing here: it is the app's lifecycle and Kafka ping.
    broker = make_broker(settings, registry=service.registry)
    log.info("bot-actions configured", topic=settings.request_topic, tokens=settings.token_topic)
    app = make_service_app(broker, settings, service)
    declare_consumer(app, [settings.request_topic], settings.group_id)
    return app


def main() -> None:
    """Serve bot-actions on the configured host and port until SIGTERM."""
    settings = load_settings_or_exit(Settings)
    run_app(create_app(settings), settings)
