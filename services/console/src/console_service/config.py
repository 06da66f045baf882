"""Everything the console reads from its environment (`CONSOLE_*`).

`CONSOLE_DATABASE_URL` names the history database: a SQLite file by default (nothing to
set up for `make run`), PostgreSQL in production (`postgresql://user:pw@host/db`).
`CONSOLE_ADMIN_TOKEN` and `CONSOLE_LINK_SECRET` are the same values as auth's
`AUTH_ADMIN_TOKEN` and `AUTH_LINK_SECRET`: one admin credential and one kind of signed
tenant link open both the connect page and the console. `CONSOLE_DEMO=1` (set by the
Procfile of `make run`, loopback only) fills them with auth's documented demo values.
"""

from __future__ import annotations

from typing import Final

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from chat_contracts.topics import (
    AUDIT_EVENTS,
    AUTH_CONNECTIONS,
    CHAT_DLQ,
    CRM_COMMANDS,
    CRM_DLQ,
    CRM_SYNC_RESULTS,
)
from chat_runtime.settings import ServiceSettings, is_loopback_host

DEMO_ADMIN_TOKEN: Final = "demo-admin-token"  # noqa: S105 - auth's documented local-run value
DEMO_LINK_SECRET: Final = "demo-link-secret"  # noqa: S105 - auth's documented local-run value
DEFAULT_DATABASE_URL: Final = "sqlite:///.cache/console/console.sqlite"


class Settings(ServiceSettings):
    """The console's settings."""

    model_config = SettingsConfigDict(env_prefix="CONSOLE_", extra="ignore", frozen=True)

    service_name: str = "console"
    http_port: int = Field(default=8005, ge=0, le=65535)
    database_url: str = Field(DEFAULT_DATABASE_URL, description="SQLite file or PostgreSQL.")
    retention_days: int = Field(90, ge=1, description="History older than this is deleted.")
    purge_interval_s: float = Field(3600.0, gt=0, description="How often old history goes.")
    daily_api_limit: int = Field(
        100_000,
        ge=1,
        description="The orgs' daily API request limit the budget chart is drawn against "
        "(Salesforce Enterprise Edition's base).",
    )
    admin_token: SecretStr | None = None
    link_secret: SecretStr | None = None
    link_ttl_s: int = Field(900, gt=0, le=86400, description="Lifetime of links it mints.")
    demo: bool = Field(False, description="Local runs: auth's demo admin token and link secret.")
    command_timeout_s: float = Field(
        120.0, gt=0, description="How long crm-sync may take to answer a repair command."
    )
    poll_max_records: int = Field(2000, gt=0, description="Records stored per transaction.")

    # Registry names by default; tests and benches point the console at throwaway topics.
    results_topic: str = CRM_SYNC_RESULTS.name
    crm_dlq_topic: str = CRM_DLQ.name
    chat_dlq_topic: str = CHAT_DLQ.name
    connections_topic: str = AUTH_CONNECTIONS.name
    audit_topic: str = AUDIT_EVENTS.name
    commands_topic: str = CRM_COMMANDS.name

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme.split("+", 1)[0] not in ("sqlite", "postgresql", "postgres"):
            raise ValueError("a sqlite:/// file or a postgresql:// URL")
        return value

    @model_validator(mode="after")
    def _resolve(self) -> Settings:
        if self.demo:
            # The demo secrets are public: a console holding them must only ever see a
            # local run's topics.
            servers = self.kafka_bootstrap_servers.split(",")
            if not all(is_loopback_host(s.strip().rsplit(":", 1)[0].strip("[]")) for s in servers):
                raise ValueError("CONSOLE_DEMO is for local runs only: Kafka is not on loopback")
            for name, value in (
                ("admin_token", DEMO_ADMIN_TOKEN),
                ("link_secret", DEMO_LINK_SECRET),
            ):
                if getattr(self, name) is None:
                    object.__setattr__(self, name, SecretStr(value))  # frozen: set once, here
        missing = [
            f"CONSOLE_{name.upper()}"
            for name in ("admin_token", "link_secret")
            if getattr(self, name) is None
        ]
        if missing:
            raise ValueError(
                f"{', '.join(missing)} required but not set (CONSOLE_DEMO=1 fills them for "
                "local runs)"
            )
        return self

    def secret(self, name: str) -> str:
        """The value of a required secret setting (validated as present at start)."""
        value = getattr(self, name)
        assert isinstance(value, SecretStr)
        return value.get_secret_value()

    def history_topics(self) -> dict[str, str]:
        """Kind of record to the topic it is read from."""
        return {
            "result": self.results_topic,
            "crm_dlq": self.crm_dlq_topic,
            "chat_dlq": self.chat_dlq_topic,
            "connection": self.connections_topic,
            "audit": self.audit_topic,
        }
