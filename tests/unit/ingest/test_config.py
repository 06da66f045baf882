"""Settings: per-tenant secrets, the demo tenant only when asked, errors naming variables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chat_runtime.settings import ConfigError, load_settings
from ingest_service.config import DEMO_SECRET, DEMO_TENANT, Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "INGEST_WEBHOOK_SECRETS",
        "INGEST_WEBHOOK_SECRETS_FILE",
        "INGEST_DEMO",
        "INGEST_WEBHOOK_ENABLED",
        "INGEST_NORMALISER_ENABLED",
        "INGEST_HTTP_PORT",
    ):
        monkeypatch.delenv(name, raising=False)


def test_without_secrets_the_service_refuses_to_start_naming_the_variables() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(Settings)
    (problem,) = info.value.problems
    assert problem.startswith("INGEST_WEBHOOK_SECRETS: required")
    assert "INGEST_WEBHOOK_SECRETS_FILE" in problem


def test_secrets_come_per_tenant_from_json_one_or_several(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGEST_WEBHOOK_SECRETS", '{"10000": "s1", "acme.eu": ["new", "old"]}')
    settings = load_settings(Settings)
    assert settings.secret_bytes() == {"10000": (b"s1",), "acme.eu": (b"new", b"old")}
    assert "s1" not in repr(settings)
    assert "old" not in str(settings.model_dump())
    assert settings.http_port == 8001
    assert not settings.demo


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ('{"10000": s3cr3t', "must be a JSON object"),
        ('{"a|b": "s3cr3t"}', "pattern"),
        ('{"10000": []}', "at least 1"),
    ],
)
def test_bad_secrets_are_named_never_echoed(
    monkeypatch: pytest.MonkeyPatch, value: str, fragment: str
) -> None:
    monkeypatch.setenv("INGEST_WEBHOOK_SECRETS", value)
    with pytest.raises(ConfigError) as info:
        load_settings(Settings)
    message = str(info.value)
    assert "INGEST_WEBHOOK_SECRETS" in message
    assert fragment in message
    assert "s3cr3t" not in message


def test_secrets_may_come_from_a_mounted_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"10000": "from-file"}))
    monkeypatch.setenv("INGEST_WEBHOOK_SECRETS_FILE", str(path))
    assert load_settings(Settings).secret_bytes() == {"10000": (b"from-file",)}
    path.write_text("not json s3cr3t")
    with pytest.raises(ConfigError) as info:
        load_settings(Settings)
    assert "INGEST_WEBHOOK_SECRETS_FILE" in str(info.value)
    assert "s3cr3t" not in str(info.value)


def test_the_demo_tenant_exists_only_when_the_demo_flag_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INGEST_DEMO", "1")
    assert load_settings(Settings).secret_bytes() == {DEMO_TENANT: (DEMO_SECRET.encode(),)}
    monkeypatch.setenv("INGEST_WEBHOOK_SECRETS", '{"10000": "real"}')
    assert load_settings(Settings).secret_bytes() == {"10000": (b"real",)}  # configured wins


def test_a_normaliser_only_deployment_needs_no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGEST_WEBHOOK_ENABLED", "false")
    settings = load_settings(Settings)
    assert settings.normaliser_enabled
    assert not settings.webhook_secrets


@pytest.mark.parametrize("secret", ['""', '"   "', '["ok-secret-1", ""]'])
def test_an_empty_secret_is_refused_anyone_could_sign_with_it(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("INGEST_WEBHOOK_SECRETS", f'{{"10000": {secret}}}')
    with pytest.raises(ConfigError) as info:
        load_settings(Settings)
    assert "INGEST_WEBHOOK_SECRETS" in str(info.value)
    assert "empty" in str(info.value)


def test_the_demo_tenant_is_refused_beside_a_kafka_that_is_not_local(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INGEST_DEMO", "1")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092,chat-kafka-bootstrap.kafka:9093")
    with pytest.raises(ConfigError) as info:
        load_settings(Settings)
    assert "INGEST_DEMO" in str(info.value)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092,[::1]:9092,127.0.0.2:9092")
    assert DEMO_TENANT in load_settings(Settings).webhook_secrets
