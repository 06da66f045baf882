"""Settings: per-service prefixes, the plain Kafka fallback, and errors that name variables."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from chat_runtime.settings import (
    ConfigError,
    ServiceSettings,
    load_settings,
    load_settings_or_exit,
)


class IngestSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INGEST_")

    service_name: str = "ingest"
    http_port: int = 8001
    webhook_secret: SecretStr


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # CI may export these; each test sets exactly what it means.
    for name in (
        "KAFKA_BOOTSTRAP_SERVERS",
        "INGEST_KAFKA_BOOTSTRAP_SERVERS",
        "INGEST_WEBHOOK_SECRET",
        "INGEST_HTTP_PORT",
        "INGEST_GROUP_ID",
        "INGEST_LOG_LEVEL",
    ):
        monkeypatch.delenv(name, raising=False)


def test_a_missing_secret_names_its_environment_variable() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(IngestSettings)
    message = str(info.value)
    assert "INGEST_WEBHOOK_SECRET is required but not set" in message
    assert message.startswith("ingest: invalid configuration")
    assert "pydantic" not in message.lower()  # no raw validation dump
    assert info.value.problems == ["INGEST_WEBHOOK_SECRET is required but not set"]


def test_an_invalid_value_names_the_variable_but_never_echoes_the_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INGEST_WEBHOOK_SECRET", "s3cret-value")
    monkeypatch.setenv("INGEST_HTTP_PORT", "not-a-port-s3cret")
    with pytest.raises(ConfigError) as info:
        load_settings(IngestSettings)
    message = str(info.value)
    assert "INGEST_HTTP_PORT:" in message
    assert "not-a-port-s3cret" not in message
    assert "s3cret-value" not in message


def test_the_entrypoint_helper_prints_the_problem_and_exits_non_zero(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as info:
        load_settings_or_exit(IngestSettings)
    assert info.value.code == 2
    assert "INGEST_WEBHOOK_SECRET" in capsys.readouterr().err


def test_values_come_from_the_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGEST_WEBHOOK_SECRET", "whsec")
    monkeypatch.setenv("INGEST_HTTP_PORT", "9001")
    monkeypatch.setenv("INGEST_LOG_LEVEL", "debug")
    settings = load_settings(IngestSettings)
    assert settings.webhook_secret.get_secret_value() == "whsec"
    assert "whsec" not in repr(settings)
    assert settings.http_port == 9001
    assert settings.log_level == "DEBUG"
    assert settings.group_id == "ingest"  # defaults to the service name


def test_plain_kafka_bootstrap_is_a_fallback_the_prefixed_one_overrides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INGEST_WEBHOOK_SECRET", "whsec")
    assert load_settings(IngestSettings).kafka_bootstrap_servers == "127.0.0.1:9092"

    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-a:9092,kafka-b:9092")
    assert load_settings(IngestSettings).kafka_bootstrap_servers == "kafka-a:9092,kafka-b:9092"

    monkeypatch.setenv("INGEST_KAFKA_BOOTSTRAP_SERVERS", "ingest-kafka:9092")
    assert load_settings(IngestSettings).kafka_bootstrap_servers == "ingest-kafka:9092"


def test_init_arguments_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "from-env:9092")
    settings = load_settings(
        IngestSettings, webhook_secret="x", kafka_bootstrap_servers="test:1", group_id="g"
    )
    assert settings.kafka_bootstrap_servers == "test:1"
    assert settings.group_id == "g"
