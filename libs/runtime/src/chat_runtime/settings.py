"""Settings base for every service: pydantic-settings with one env prefix per service.

class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INGEST_")
    service_name: str = "ingest"
    http_port: int = 8001
    webhook_secret: SecretStr          # required: INGEST_WEBHOOK_SECRET

settings = load_settings(Settings)     # ConfigError naming INGEST_WEBHOOK_SECRET if unset
"""

from __future__ import annotations

import ipaddress
import os
import sys
from typing import Any, Literal, TypeVar

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from chat_runtime.kafka import KafkaKit
from chat_runtime.kafka_security import KafkaSecurity, SaslMechanism, SecurityProtocol
from chat_runtime.request_reply.topics import ReplyTopicOptions

# The one variable every tool of the Kafka world knows; a service's prefixed one wins.
KAFKA_BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

S = TypeVar("S", bound="ServiceSettings")


class ServiceSettings(BaseSettings):
    """What every service reads from its environment; subclasses set `env_prefix`."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    service_name: str = "chat-service"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: SaslMechanism | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = None
    kafka_reply_topic_replication_factor: int = Field(
        default=1, ge=1, description="Replication factor of this service's reply topics."
    )
    kafka_reply_topic_min_insync_replicas: int | None = Field(
        default=None, ge=1, description="min.insync.replicas of its reply topics (None: broker's)."
    )
    group_id: str = Field(default="", description="Consumer group; the service name if unset.")
    # Probes and Prometheus reach the pod's IP, not its loopback.
    http_host: str = "0.0.0.0"  # noqa: S104
    http_port: int = Field(default=8000, ge=0, le=65535)
    log_level: LogLevel = "INFO"
    log_json: bool = True
    shutdown_timeout_s: float = Field(
        default=15.0, gt=0, description="How long in-flight handlers may finish at stop."
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    def kafka_security(self) -> KafkaSecurity:
        """The security every Kafka client of this service connects with."""
        return KafkaSecurity(
            security_protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            sasl_username=self.kafka_sasl_username,
            sasl_password=self.kafka_sasl_password,
            ssl_cafile=self.kafka_ssl_cafile,
        )

    def kafka(self) -> KafkaKit:
        """The kit every Kafka client of this service is built with."""
        return KafkaKit.from_settings(self)

    def reply_topic_options(self) -> ReplyTopicOptions:
        """How this service's request/reply client creates its reply topic."""
        return ReplyTopicOptions(
            replication_factor=self.kafka_reply_topic_replication_factor,
            min_insync_replicas=self.kafka_reply_topic_min_insync_replicas,
        )

    @model_validator(mode="after")
    def _default_group(self) -> ServiceSettings:
        if not self.group_id:
            # frozen model: set through object.__setattr__ once, during validation
            object.__setattr__(self, "group_id", self.service_name)
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Prefixed variables first, then the plain `KAFKA_BOOTSTRAP_SERVERS` fallback."""
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            _PlainKafkaBootstrap(settings_cls),
            file_secret_settings,
        )


# The connection to Kafka is the same for every service, so the manifests set it once,
# unprefixed; a prefixed variable still wins.
_PLAIN_KAFKA_ENV = {
    "kafka_bootstrap_servers": KAFKA_BOOTSTRAP_ENV,
    "kafka_security_protocol": "KAFKA_SECURITY_PROTOCOL",
    "kafka_sasl_mechanism": "KAFKA_SASL_MECHANISM",
    "kafka_sasl_username": "KAFKA_SASL_USERNAME",
    "kafka_sasl_password": "KAFKA_SASL_PASSWORD",
    "kafka_ssl_cafile": "KAFKA_SSL_CAFILE",
    "kafka_reply_topic_replication_factor": "KAFKA_REPLY_TOPIC_REPLICATION_FACTOR",
    "kafka_reply_topic_min_insync_replicas": "KAFKA_REPLY_TOPIC_MIN_INSYNC_REPLICAS",
}


class _PlainKafkaBootstrap(PydanticBaseSettingsSource):
    """Reads the unprefixed `KAFKA_*` connection variables into the `kafka_*` fields."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        env = _PLAIN_KAFKA_ENV.get(field_name)
        return (os.environ.get(env) if env else None), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {
            field: value
            for field, env in _PLAIN_KAFKA_ENV.items()
            if (value := os.environ.get(env))
        }


class ConfigError(Exception):
    """The environment does not describe a runnable service; the message names the variables."""

    def __init__(self, service: str, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{service}: invalid configuration\n{lines}")


def env_var_name(cls: type[BaseSettings], field_name: str) -> str:
    """The environment variable that sets `field_name` of `cls` (e.g. INGEST_WEBHOOK_SECRET)."""
    field = cls.model_fields.get(field_name)
    alias = field.validation_alias if field is not None else None
    if isinstance(alias, str):
        return alias.upper()
    if isinstance(alias, AliasChoices):
        return " or ".join(str(choice).upper() for choice in alias.choices)
    prefix = cls.model_config.get("env_prefix", "")
    name = f"{prefix}{field_name}".upper()
    if field_name in _PLAIN_KAFKA_ENV:
        name += f" (or {_PLAIN_KAFKA_ENV[field_name]})"
    return name


def load_settings(cls: type[S], **overrides: Any) -> S:
    """Build `cls` from the environment, raising `ConfigError` with one line per problem.

    Each line names the environment variable and what is wrong with it, never the value
    given (it may be a secret). `overrides` are passed as init arguments (tests).
    """
    try:
        return cls(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_input=False, include_url=False):
            field_name = str(error["loc"][0]) if error["loc"] else ""
            variable = env_var_name(cls, field_name) if field_name else "(settings)"
            if error["type"] == "missing":
                problems.append(f"{variable} is required but not set")
            else:
                problems.append(f"{variable}: {error['msg']}")
        service = str(cls.model_fields["service_name"].default)
        raise ConfigError(service, problems) from None


def load_settings_or_exit(cls: type[S]) -> S:
    """`load_settings` for entrypoints: on a bad environment print the problems, exit 2."""
    try:
        return load_settings(cls)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)  # logging may not be configured yet
        raise SystemExit(2) from None


def is_loopback_host(host: str) -> bool:
    """Whether a host name or address is this machine's (`localhost`, 127.0.0.0/8, ::1):
    the test of settings that are safe only on a developer's machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
