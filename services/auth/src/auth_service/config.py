"""auth's settings: environment variables prefixed `AUTH_` (see the service README).

Secrets have no default and stop the service at start, named, when missing:
`AUTH_CLIENT_ID`/`AUTH_CLIENT_SECRET` (the connected app), `AUTH_ENCRYPTION_KEYS` (JSON
object of key id to base64 of 32 random bytes; `AUTH_ENCRYPTION_KEY_ID` names the one
that seals, required when there are several), `AUTH_ADMIN_TOKEN` (bearer token of the
admin endpoints) and `AUTH_LINK_SECRET` (HMAC secret shared with the platform for signed
connect links). `AUTH_DEMO_SEED` (set by the Procfile of `make run`, never by a
deployment) names the emulator's seed file: the connected app comes from it, missing
secrets get fixed local values, and its tenant is connected at start. It is refused
unless every Salesforce URL points at a loopback address. `AUTH_BULK_SEED` (benches only)
names a seed file whose every org with a `tenant_id` and a `refresh_token` is connected at
start the same way; it is refused unless Salesforce and Kafka are both on loopback.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import urlsplit

from pydantic import Field, PrivateAttr, SecretStr, StringConstraints, model_validator
from pydantic_settings import SettingsConfigDict

from auth_service.domain.keyring import KEY_BYTES, KEY_ID_PATTERN, KeyRing
from chat_contracts.base import TENANT_ID_PATTERN
from chat_contracts.topics import (
    AUDIT_EVENTS,
    AUTH_CONNECTIONS,
    AUTH_REFRESH_TOKENS,
    AUTH_TOKEN_REQUESTS,
    TENANT_SETTINGS,
)
from chat_runtime.settings import ServiceSettings, is_loopback_host

DEMO_ADMIN_TOKEN: Final = "demo-admin-token"  # noqa: S105 - documented local-run value
DEMO_LINK_SECRET: Final = "demo-link-secret"  # noqa: S105 - documented local-run value
DEMO_KEY_ID: Final = "demo"
# Fixed, so the local broker's sealed records still open after a restart of `make run`.
DEMO_KEY: Final = hashlib.sha256(b"chat-salesforce-suite: local demo key, never real").digest()

KeyId = Annotated[str, StringConstraints(pattern=KEY_ID_PATTERN)]


@dataclass(frozen=True, slots=True)
class DemoTenant:
    """The emulator seed's org that `make run` connects without clicking."""

    tenant_id: str
    refresh_token: SecretStr
    sandbox: bool


class Settings(ServiceSettings):
    """Everything auth reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore", frozen=True)

    service_name: str = "auth"
    http_port: int = Field(default=8004, ge=0, le=65535)
    public_url: str = Field(
        "http://127.0.0.1:8004", description="Base URL admins' browsers reach auth at."
    )
    redirect_uri: str = Field("", description="OAuth callback; default {public_url}/oauth/callback")

    sf_login_url: str = "https://127.0.0.1:8800"
    sf_sandbox_login_url: str = "https://127.0.0.1:8800/sandbox"
    sf_api_version: str = Field("59.0", pattern=r"^\d{2}\.\d$")
    sf_ca_file: Path | None = Field(None, description="An extra CA to trust (the emulator's).")
    sf_proxy: str | None = None
    sf_timeout_s: float = Field(10.0, gt=0)

    client_id: str = ""
    client_secret: SecretStr | None = None
    encryption_keys: dict[KeyId, SecretStr] = Field(default_factory=dict)
    encryption_key_id: str = ""
    admin_token: SecretStr | None = None
    link_secret: SecretStr | None = None

    link_ttl_s: int = Field(900, gt=0, le=86400, description="Lifetime of links auth mints.")
    state_ttl_s: int = Field(600, gt=0, le=3600, description="Lifetime of an OAuth state.")
    access_token_max_age_s: float = Field(3600.0, gt=0)
    force_refresh_min_interval_s: float = Field(1.0, ge=0)
    refresh_attempts: int = Field(4, ge=1, le=10)
    refresh_backoff_s: float = Field(0.25, gt=0)
    refresh_backoff_max_s: float = Field(4.0, gt=0)
    failure_cooldown_s: float = Field(2.0, ge=0)
    failure_cooldown_max_s: float = Field(60.0, ge=0)
    default_request_timeout_s: float = Field(10.0, gt=0, description="Without a deadline.")
    max_in_flight: int = Field(
        256, ge=1, description="Token requests handled at once; beyond it, reading pauses."
    )
    store_load_timeout_s: float = Field(60.0, gt=0)
    catch_up_timeout_s: float = Field(
        10.0, gt=0, description="How long a refresh waits for the token topic's end."
    )
    handoff_timeout_s: float = Field(
        120.0,
        gt=0,
        lt=300,  # under the consumer's max_poll_interval_ms, the group's rebalance timeout
        description="How long a replica giving tenants up finishes their refreshes.",
    )
    keepalive_after_days: float = Field(
        25.0, ge=0, description="Refresh a tenant idle this long (0: never)."
    )
    keepalive_interval_s: float = Field(3600.0, gt=0, description="How often to look.")

    demo_seed: Path | None = None
    bulk_seed: Path | None = Field(
        None, description="Benches only: connect every tenant of an emulator seed at start."
    )

    # Registry names by default; tests and benches point auth at throwaway topics.
    token_requests_topic: str = AUTH_TOKEN_REQUESTS.name
    refresh_tokens_topic: str = AUTH_REFRESH_TOKENS.name
    connections_topic: str = AUTH_CONNECTIONS.name
    audit_topic: str = AUDIT_EVENTS.name
    settings_topic: str = TENANT_SETTINGS.name

    _demo: DemoTenant | None = PrivateAttr(None)
    _bulk: tuple[DemoTenant, ...] = PrivateAttr(())

    @model_validator(mode="after")
    def _resolve(self) -> Settings:
        if self.demo_seed is not None:
            self._apply_demo(self.demo_seed)
        if self.bulk_seed is not None:
            self._apply_bulk(self.bulk_seed)
        missing = [
            name
            for name, value in (
                ("AUTH_CLIENT_ID", self.client_id),
                ("AUTH_CLIENT_SECRET", self.client_secret),
                ("AUTH_ENCRYPTION_KEYS", self.encryption_keys),
                ("AUTH_ADMIN_TOKEN", self.admin_token),
                ("AUTH_LINK_SECRET", self.link_secret),
            )
            if not value
        ]
        if missing:
            raise ValueError(
                f"{', '.join(missing)} required but not set "
                "(AUTH_DEMO_SEED fills them for local runs)"
            )
        self._check_keys()
        if not self.redirect_uri:
            object.__setattr__(
                self, "redirect_uri", f"{self.public_url.rstrip('/')}/oauth/callback"
            )
        return self

    def _require_local_salesforce(self, variable: str) -> None:
        for name, url in (
            ("AUTH_SF_LOGIN_URL", self.sf_login_url),
            ("AUTH_SF_SANDBOX_LOGIN_URL", self.sf_sandbox_login_url),
        ):
            if not _is_loopback(url):
                raise ValueError(f"{variable} is for local runs only: {name} is not loopback")

    def _apply_demo(self, seed: Path) -> None:
        self._require_local_salesforce("AUTH_DEMO_SEED")
        org = _read_seed(seed)
        defaults = {
            "client_id": org["client_id"],
            "client_secret": SecretStr(org["client_secret"]),
            "admin_token": SecretStr(DEMO_ADMIN_TOKEN),
            "link_secret": SecretStr(DEMO_LINK_SECRET),
            "encryption_keys": {DEMO_KEY_ID: SecretStr(base64.b64encode(DEMO_KEY).decode())},
        }
        for name, value in defaults.items():
            if not getattr(self, name):
                object.__setattr__(self, name, value)  # frozen: set once, here
        self._demo = DemoTenant(
            tenant_id=str(org.get("tenant_id", "10000")),
            refresh_token=SecretStr(org["refresh_token"]),
            sandbox=bool(org.get("sandbox", False)),
        )

    def _apply_bulk(self, seed: Path) -> None:
        # Connecting without a consent screen is for a bench's throwaway world only: both
        # ends must be on this machine, so a deployment can never be pointed at it.
        self._require_local_salesforce("AUTH_BULK_SEED")
        servers = self.kafka_bootstrap_servers.split(",")
        if not all(is_loopback_host(s.strip().rsplit(":", 1)[0].strip("[]")) for s in servers):
            raise ValueError(
                "AUTH_BULK_SEED is for local runs only: KAFKA_BOOTSTRAP_SERVERS is not loopback"
            )
        self._bulk = _read_bulk_seed(seed)

    def _check_keys(self) -> None:
        for key_id, value in self.encryption_keys.items():
            try:
                key = base64.b64decode(value.get_secret_value(), validate=True)
            except (binascii.Error, ValueError):
                key = b""
            if len(key) != KEY_BYTES:
                raise ValueError(
                    f"AUTH_ENCRYPTION_KEYS: key {key_id!r} must be the base64 of {KEY_BYTES} bytes"
                )
        if not self.encryption_key_id:
            if len(self.encryption_keys) > 1:
                raise ValueError("AUTH_ENCRYPTION_KEY_ID is required when there are several keys")
            object.__setattr__(self, "encryption_key_id", next(iter(self.encryption_keys)))
        elif self.encryption_key_id not in self.encryption_keys:
            raise ValueError("AUTH_ENCRYPTION_KEY_ID names no key of AUTH_ENCRYPTION_KEYS")

    @property
    def demo(self) -> DemoTenant | None:
        """The tenant to connect at start (local runs only), if any."""
        return self._demo

    @property
    def bulk(self) -> tuple[DemoTenant, ...]:
        """The tenants of `AUTH_BULK_SEED` to connect at start (benches only)."""
        return self._bulk

    def key_ring(self) -> KeyRing:
        keys = {k: base64.b64decode(v.get_secret_value()) for k, v in self.encryption_keys.items()}
        return KeyRing(keys, self.encryption_key_id)

    def login_url(self, sandbox: bool) -> str:
        return (self.sf_sandbox_login_url if sandbox else self.sf_login_url).rstrip("/")

    def secret(self, name: str) -> str:
        """The value of a required secret setting (validated as present at start)."""
        value = getattr(self, name)
        assert isinstance(value, SecretStr)
        return value.get_secret_value()


def _is_loopback(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname or "")


def _read_seed(path: Path) -> dict[str, Any]:
    try:
        orgs = json.loads(path.read_text("utf-8"))["orgs"]
        org = next(o for o in orgs if "refresh_token" in o and "client_secret" in o)
    except (OSError, ValueError, KeyError, StopIteration, TypeError):
        raise ValueError(
            "AUTH_DEMO_SEED: expected an emulator seed file with an org that has "
            "client_id, client_secret and refresh_token"
        ) from None
    tenant = str(org.get("tenant_id", "10000"))
    if not re.fullmatch(TENANT_ID_PATTERN, tenant):
        raise ValueError("AUTH_DEMO_SEED: the org's tenant_id is not a valid tenant id")
    return dict(org)


def _read_bulk_seed(path: Path) -> tuple[DemoTenant, ...]:
    problem = (
        "AUTH_BULK_SEED: expected an emulator seed file of orgs with tenant_id and refresh_token"
    )
    try:
        orgs = json.loads(path.read_text("utf-8"))["orgs"]
        tenants = tuple(
            DemoTenant(
                tenant_id=str(org["tenant_id"]),
                refresh_token=SecretStr(org["refresh_token"]),
                sandbox=bool(org.get("sandbox", False)),
            )
            for org in orgs
            if "tenant_id" in org and "refresh_token" in org
        )
    except (OSError, ValueError, KeyError, TypeError):
        raise ValueError(problem) from None
    if not tenants:
        raise ValueError(problem)
    ids = [t.tenant_id for t in tenants]
    if len(set(ids)) != len(ids) or not all(re.fullmatch(TENANT_ID_PATTERN, t) for t in ids):
        raise ValueError("AUTH_BULK_SEED: tenant ids must be valid and unique")
    return tenants
