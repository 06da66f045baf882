"""ingest's settings: environment variables prefixed `INGEST_` (see the README's table).

Webhook secrets are per tenant (the platform's `site_id`): `INGEST_WEBHOOK_SECRETS` is a
JSON object of site id to secret, or to a list of secrets while one is being rotated;
`INGEST_WEBHOOK_SECRETS_FILE` names a mounted file of the same JSON instead. With neither,
a service that takes webhooks refuses to start, naming both variables. `INGEST_DEMO=1`
(set by the Procfile of `make run`, never by a deployment) adds the local demo tenant.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, Field, SecretStr, TypeAdapter, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import NoDecode, SettingsConfigDict

from chat_contracts.base import TENANT_ID_PATTERN
from chat_contracts.topics import CHAT_CONVERSATIONS, CHAT_DLQ, CHAT_RAW, TENANT_SETTINGS
from chat_runtime.settings import ServiceSettings, is_loopback_host

DEMO_TENANT: Final = "10000"
DEMO_SECRET: Final = "demo-webhook-secret"  # noqa: S105 - the documented local demo secret
MIB: Final = 1024 * 1024


def _as_secret_lists(value: Any) -> Any:
    if isinstance(value, str):  # the environment's JSON, decoded here to word its errors
        try:
            value = json.loads(value)
        except ValueError:
            raise PydanticCustomError(
                "secrets_json", "must be a JSON object of site_id to secret"
            ) from None
    # One secret per tenant, or several during a rotation (any of them verifies).
    if isinstance(value, dict):
        return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
    return value


TenantSecrets = Annotated[
    dict[
        Annotated[str, Field(pattern=TENANT_ID_PATTERN)],
        Annotated[tuple[SecretStr, ...], Field(min_length=1)],
    ],
    NoDecode,
    BeforeValidator(_as_secret_lists),
]
_SECRETS: TypeAdapter[dict[str, tuple[SecretStr, ...]]] = TypeAdapter(TenantSecrets)


class Settings(ServiceSettings):
    """Everything ingest reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="INGEST_", extra="ignore", frozen=True)

    service_name: str = "ingest"
    http_port: int = Field(default=8001, ge=0, le=65535)

    demo: bool = Field(False, description="Local runs only: add tenant 10000's demo secret.")
    webhook_enabled: bool = Field(True, description="Serve POST /webhooks/comm100.")
    normaliser_enabled: bool = Field(True, description="Consume chat.raw.v1 and normalise.")

    webhook_secrets_file: Path | None = None
    webhook_secrets: TenantSecrets = Field(default_factory=dict, validate_default=True)
    max_body_bytes: int = Field(MIB, gt=0, le=2 * MIB, description="Larger webhook bodies get 413.")
    replay_window_s: int = Field(300, gt=0, description="Older (or newer) timestamps get 401.")
    publish_timeout_s: float = Field(
        5.0, gt=0, description="How long a webhook waits for Kafka before answering 503."
    )
    linger_ms: int = Field(2, ge=0, description="Producer linger: batches concurrent sends.")

    batch_max_records: int = Field(1000, gt=0, description="Raw records per consumed batch.")
    batch_timeout_ms: int = Field(100, gt=0, description="Longest wait for a batch to fill.")
    dedupe_window_s: int = Field(6 * 3600, ge=0, description="How long an event_id is kept.")
    dedupe_max_keys_per_partition: int = Field(
        20_000, ge=0, description="Bound of the per-partition dedupe memory and rebuild read."
    )
    default_phone_region: str = Field(
        "US", pattern=r"^[A-Z]{2}$", description="Region of a tenant without settings."
    )

    # Registry names by default; tests and benches point ingest at throwaway topics.
    raw_topic: str = CHAT_RAW.name
    conversations_topic: str = CHAT_CONVERSATIONS.name
    dlq_topic: str = CHAT_DLQ.name
    tenant_settings_topic: str = TENANT_SETTINGS.name

    @field_validator("demo", mode="after")
    @classmethod
    def _demo_only_locally(cls, demo: bool, info: ValidationInfo) -> bool:
        # The demo secret is public (README): a deployment that accepted it would take
        # anyone's chats for tenant 10000. Local runs have a broker on loopback.
        bootstrap = str(info.data.get("kafka_bootstrap_servers", ""))
        if demo and not all(_is_loopback(server) for server in bootstrap.split(",")):
            raise PydanticCustomError(
                "demo_not_local",
                "local runs only: refused beside a Kafka that is not on this machine",
            )
        return demo

    @field_validator("webhook_secrets", mode="after")
    @classmethod
    def _resolve_secrets(
        cls, secrets: dict[str, tuple[SecretStr, ...]], info: ValidationInfo
    ) -> dict[str, tuple[SecretStr, ...]]:
        secrets = dict(secrets)
        path = info.data.get("webhook_secrets_file")
        if path is not None:
            secrets.update(_read_secrets_file(path))
        empty = sorted(
            t
            for t, values in secrets.items()
            if any(not v.get_secret_value().strip() for v in values)
        )
        if empty:
            raise PydanticCustomError(
                "secret_empty",
                "a secret is empty for site {sites} (here or in INGEST_WEBHOOK_SECRETS_FILE): "
                "anyone could sign webhooks with it",
                {"sites": ", ".join(empty)},
            )
        if info.data.get("demo"):
            secrets.setdefault(DEMO_TENANT, (SecretStr(DEMO_SECRET),))
        if info.data.get("webhook_enabled", True) and not secrets:
            raise PydanticCustomError(
                "secrets_missing",
                "required to take webhooks: a JSON object of site_id to secret, or "
                "INGEST_WEBHOOK_SECRETS_FILE naming a file of it (INGEST_DEMO=1 adds the "
                "local demo tenant)",
            )
        return secrets

    def secret_bytes(self) -> dict[str, tuple[bytes, ...]]:
        """Tenant to its secrets as bytes, what the signature check needs."""
        return {
            tenant: tuple(s.get_secret_value().encode() for s in secrets)
            for tenant, secrets in self.webhook_secrets.items()
        }


def _is_loopback(server: str) -> bool:
    return is_loopback_host(server.strip().rsplit(":", 1)[0].strip("[]"))


def _read_secrets_file(path: Path) -> dict[str, tuple[SecretStr, ...]]:
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        # Never quote the content: it is the secrets.
        raise PydanticCustomError(
            "secrets_file_unreadable",
            "INGEST_WEBHOOK_SECRETS_FILE cannot be read as JSON ({error})",
            {"error": type(exc).__name__},
        ) from None
    try:
        return _SECRETS.validate_python(raw)
    except ValueError:
        raise PydanticCustomError(
            "secrets_file_invalid",
            "INGEST_WEBHOOK_SECRETS_FILE must hold a JSON object of site_id to secret(s)",
        ) from None
