"""Secrets never reach the rendered log output, wherever they hide in an event."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from pydantic import BaseModel, SecretStr

from chat_runtime.logging import configure_logging
from chat_runtime.redact import REDACTED, is_secret_key, redact_secrets, redact_text

# Distinct, greppable fakes: each must be absent from every rendered line.
ACCESS = "AccessTok3n-6f1d9a2b7c"
REFRESH = "5Aep861RefreshTok3n.abc"
CLIENT_SECRET = "Cl13ntS3cr3t-42"
SF_SESSION = "00D5g000004Xyz1!AQ4AQFakeSessionP4rt.xyz_123"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlcGFydA"
WEBHOOK_SECRET = "demo-webhook-s3cret"
PASSWORD = "hunter2-p4ss"
ALL_SECRETS = (ACCESS, REFRESH, CLIENT_SECRET, SF_SESSION, JWT, WEBHOOK_SECRET, PASSWORD)


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("redaction-test", stream=stream)
    yield stream
    configure_logging("redaction-test")  # back to stdout, away from the dead buffer


def _lines(stream: io.StringIO) -> list[str]:
    lines = stream.getvalue().splitlines()
    assert lines, "nothing was logged"
    for line in lines:
        json.loads(line)  # every line is one JSON object
    return lines


def _assert_no_secret(lines: list[str]) -> None:
    text = "\n".join(lines)
    leaked = [s for s in ALL_SECRETS if s in text]
    assert not leaked, f"leaked {leaked} in:\n{text}"


@pytest.mark.parametrize(
    "key",
    [
        "token",
        "access_token",
        "refreshToken",
        "client_secret",
        "PASSWORD",
        "Authorization",
        "x-api-key",
        "apikey",
        "Cookie",
        "set-cookie",
        "X-Hub-Signature-256",
        "sid",
        "session_id",
        "webhook_secret",
    ],
)
def test_secret_like_keys_are_recognised(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["tenant_id", "message_id", "topic", "email", "key", "event"])
def test_ordinary_keys_are_left_alone(key: str) -> None:
    assert not is_secret_key(key)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"Authorization: Bearer {ACCESS}", ACCESS),
        (f"header OAuth {SF_SESSION}", SF_SESSION),
        (f"POST /token grant_type=refresh_token&refresh_token={REFRESH}&x=1", REFRESH),
        (f"{{'client_secret': '{CLIENT_SECRET}'}}", CLIENT_SECRET),
        (f'{{"access_token":"{ACCESS}","instance_url":"https://x"}}', ACCESS),
        (f"session {SF_SESSION} expired", SF_SESSION),
        (f"id_token {JWT}", JWT),
        (f"connect to https://user:{PASSWORD}@sf.example.com/", PASSWORD),
        (f"callback /oauth/callback?code={REFRESH}&state=s", REFRESH),
    ],
)
def test_secret_shaped_values_in_free_text_are_masked(text: str, secret: str) -> None:
    masked = redact_text(text)
    assert secret not in masked
    assert REDACTED in masked


def test_processor_redacts_nested_keys_lists_and_secret_types() -> None:
    event = {
        "event": "calling salesforce",
        "tenant_id": "t-1",
        "request": {"headers": [{"Authorization": f"Bearer {ACCESS}"}], "url": "https://x"},
        "connections": [{"refresh_token": REFRESH, "org": "00D5g000004Xyz1"}],
        "secret_value": SecretStr(CLIENT_SECRET),
        "plain": SecretStr(CLIENT_SECRET),
    }
    out = redact_secrets(None, "info", event)
    assert out["tenant_id"] == "t-1"
    assert out["request"]["headers"][0]["Authorization"] == REDACTED
    assert out["request"]["url"] == "https://x"
    assert out["connections"][0] == {"refresh_token": REDACTED, "org": "00D5g000004Xyz1"}
    assert out["plain"] == REDACTED
    assert CLIENT_SECRET not in repr(out)


def test_structlog_events_never_render_a_secret(output: io.StringIO) -> None:
    class Connection(BaseModel):
        tenant_id: str
        refresh_token: str
        client_secret: SecretStr

    log = structlog.stdlib.get_logger("svc")
    log.info("token refreshed", access_token=ACCESS, tenant_id="t-1")
    log.info("nested", payload={"auth": {"items": [{"password": PASSWORD}]}})
    log.info(
        "model",
        connection=Connection(
            tenant_id="t", refresh_token=REFRESH, client_secret=SecretStr(CLIENT_SECRET)
        ),
    )
    log.info(f"free text with Bearer {ACCESS} and {SF_SESSION}")
    log.info("webhook", headers={"X-Signature": WEBHOOK_SECRET}, secret=SecretStr(WEBHOOK_SECRET))
    log.info("jwt", assertion=JWT)

    lines = _lines(output)
    _assert_no_secret(lines)
    first = json.loads(lines[0])
    assert first["tenant_id"] == "t-1"  # the rest of the event survives
    assert first["access_token"] == REDACTED


def test_stdlib_records_and_tracebacks_never_render_a_secret(output: io.StringIO) -> None:
    logging.getLogger("aiokafka").warning("sasl with password=%s failed", PASSWORD)
    logging.getLogger("simple_salesforce").info(
        "GET https://x/services/data?access_token=%s", ACCESS
    )
    try:
        raise RuntimeError(f"refresh failed for refresh_token={REFRESH} sid={SF_SESSION}")
    except RuntimeError:
        structlog.stdlib.get_logger("svc").exception("refresh failed")
        logging.getLogger("faststream").exception("handler failed")

    lines = _lines(output)
    _assert_no_secret(lines)
    assert any("Traceback" in json.loads(line).get("exception", "") for line in lines)
    assert {json.loads(line)["logger"] for line in lines} >= {"aiokafka", "svc", "faststream"}
