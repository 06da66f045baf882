"""`create_app()`: builds every dependency of auth and returns the ASGI app.

    python -m auth_service        # serves on AUTH_HTTP_HOST:AUTH_HTTP_PORT (8004)
    uvicorn auth_service.app:create_app --factory --port 8004

One port serves the connect page, the OAuth callback, the admin endpoints, `/metrics`,
`/healthz` and `/readyz`; the token-request consumer answers over Kafka. Readiness
waits for the refresh-token topic to be read to its end, and the consumer starts only
after that, so no request is answered "not connected" by a replica still loading.
"""

from __future__ import annotations

from faststream.asgi import AsgiFastStream

from auth_service.adapters.ports import SalesforceOAuth
from auth_service.bootstrap import bootstrap
from auth_service.config import Settings
from auth_service.entrypoints.access import Gate
from auth_service.entrypoints.web import PATHS, Web
from chat_runtime.app import declare_consumer, make_broker, make_service_app, run_app
from chat_runtime.clock import Clock
from chat_runtime.logging import configure_logging
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
    service = bootstrap(settings, salesforce=salesforce, clock=clock)
    # The broker subscribes to nothing: it is the app's lifecycle and Kafka ping.
    broker = make_broker(settings, registry=service.registry)
    gate = Gate(
        admin_token=settings.secret("admin_token"),
        link_secret=settings.secret("link_secret").encode(),
        link_ttl_s=settings.link_ttl_s,
        public_url=settings.public_url,
        clock=service.clock,
    )
    web = Web(
        gate=gate,
        connect=service.connect,
        status=service.status,
        permissions=service.permissions,
        settings=service.settings_editor,
        login_urls=(settings.login_url(False), settings.login_url(True)),
        state_ttl_s=settings.state_ttl_s,
        secure_cookies=settings.public_url.startswith("https://"),
    ).app()
    log.info(
        "auth configured",
        login_url=settings.login_url(False),
        sandbox_login_url=settings.login_url(True),
        redirect_uri=settings.redirect_uri,
        key_ids=list(service.ring.key_ids),
        active_key_id=service.ring.active_id,
        demo_tenant=settings.demo.tenant_id if settings.demo else None,
    )
    app = make_service_app(broker, settings, service, asgi_routes=[(path, web) for path in PATHS])
    declare_consumer(app, [settings.token_requests_topic], settings.group_id)
    return app


def main() -> None:
    """Serve auth on the configured host and port until SIGTERM."""
    settings = load_settings_or_exit(Settings)
    run_app(create_app(settings), settings)
