"""Kafka connection security from the environment, for the broker and hand-built clients."""

from __future__ import annotations

import ssl

import pytest
from faststream.security import SASLScram512

from chat_runtime.kafka_security import KafkaSecurity
from chat_runtime.settings import ConfigError, ServiceSettings, load_settings


def test_plain_by_default() -> None:
    security = KafkaSecurity()
    assert security.faststream() is None
    assert security.aiokafka_options() == {}


def test_scram_over_tls_from_the_unprefixed_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "crm-sync")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "s3cret-pw")
    security = load_settings(ServiceSettings).kafka_security()
    assert isinstance(security.faststream(), SASLScram512)
    options = security.aiokafka_options()
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "crm-sync"
    assert options["sasl_plain_password"] == "s3cret-pw"
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert "s3cret-pw" not in repr(security)


def test_sasl_without_credentials_fails_naming_what_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    settings = load_settings(ServiceSettings)
    with pytest.raises(ValueError, match="KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME"):
        settings.kafka_security()


def test_unknown_protocol_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_MAGIC")
    with pytest.raises(ConfigError, match="KAFKA_SECURITY_PROTOCOL"):
        load_settings(ServiceSettings)
