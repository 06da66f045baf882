"""The console's pure parts: what a result means, what a dead letter carries, the pages'
escaping and headers, the charts, the access rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from console_service.config import Settings
from console_service.domain.charts import stacked_bars
from console_service.domain.history import Position, carried_chat, chat_status
from console_service.entrypoints import pages
from console_service.entrypoints.access import Denied, Gate

from chat_contracts.dlq import DeadLetter, DeadLetterReason
from chat_contracts.sync import SyncError, SyncResult
from chat_runtime.clock import Clock
from chat_runtime.links import sign_link

HOSTILE = '<script>alert("x")</script>"\'&'


def result(**values: object) -> SyncResult:
    base: dict[str, object] = {
        "tenant_id": "acme",
        "chat_id": "c-1",
        "kind": "chat",
        "mode": "sales",
        "status": "ok",
        "api_calls": 0.5,
    }
    return SyncResult.model_validate({**base, **values})


def test_a_results_status_separates_written_from_deduplicated() -> None:
    error = SyncError(code="salesforce_unavailable")
    assert chat_status(result()) == "ok"
    assert chat_status(result(deduped=True)) == "deduped"
    assert chat_status(result(status="parked", error=error)) == "parked"
    assert chat_status(result(status="failed", error=error)) == "failed"


@pytest.mark.parametrize(
    ("original", "chat_id"),
    [
        (b'{"schema_version":1,"tenant_id":"acme","kind":"chat","chat_id":"c-9"}', "c-9"),
        (b'{"event":"chat.ended","chat":{"id":"c-7"}}', "c-7"),
        (b"not json", None),
        (None, None),
    ],
)
def test_a_dead_letter_names_the_chat_it_carries(
    original: bytes | None, chat_id: str | None
) -> None:
    letter = DeadLetter(
        tenant_id="acme",
        reason=DeadLetterReason.SCHEMA_VALIDATION,
        message="m",
        service="ingest",
        original_value=original,
    )
    assert carried_chat(letter) == chat_id


def test_a_position_names_its_dead_letter_and_its_time_in_utc() -> None:
    at = Position("crm.dlq.v1", 2, 41, 1_764_000_000_000)
    assert at.letter_id == "crm.dlq.v1:2:41"
    assert at.at == datetime(2025, 11, 24, 16, 0, tzinfo=UTC).replace(tzinfo=None)


def test_pages_escape_what_records_say_and_keep_the_link_in_their_links() -> None:
    page = pages.Page("acme", {"tenant": "acme", "expires": "1", "sig": "s", "x": "y"}, None)
    row = {
        "chat_id": HOSTILE,
        "status": "failed",
        "visitor_email": HOSTILE,
        "person_object": None,
        "person_id": None,
        "activity_object": None,
        "activity_id": None,
        "error_message": HOSTILE,
        "updated_at": None,
    }
    html = pages.chat_list(page, [row], {"email": HOSTILE}, None)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "sig=s" in html
    assert "x=y" not in html  # only the link's own parameters travel
    assert "script" not in pages.CSP
    assert "default-src 'none'" in pages.CSP


def test_a_record_links_to_salesforce_only_when_the_instance_is_known() -> None:
    known = pages.Page("acme", {}, "https://acme.my.salesforce.com/")
    assert 'href="https://acme.my.salesforce.com/00Q000000000001AAA"' in known.record_link(
        "Lead", "00Q000000000001AAA"
    )
    assert "href" not in pages.Page("acme", {}, None).record_link("Lead", "00Q000000000001AAA")


def test_a_troubled_connection_gets_a_banner() -> None:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    for state in ("revoked", "disconnected", "refresh_failed"):
        html = pages.banner({"state": state, "detail": HOSTILE, "at": at})
        assert 'class="banner bad"' in html
        assert "<script>" not in html
    assert 'class="banner ok"' in pages.banner({"state": "connected", "detail": None, "at": at})


def test_charts_are_svg_with_escaped_labels_and_the_budget_line() -> None:
    svg = stacked_bars(
        HOSTILE,
        ["2026-12-01", "2026-12-02"],
        {"2026-12-01": {"ok": 3, "failed": 1}},
        ("ok", "failed"),
        limit=10,
    )
    assert svg.startswith("<svg")
    assert "<script>" not in svg
    assert svg.count("<rect") == 2
    assert "stroke-dasharray" in svg


def test_the_gate_is_the_connect_pages() -> None:
    clock = Clock()
    gate = Gate(admin_token="t0ken", link_secret=b"secret", link_ttl_s=60, clock=clock)
    link = sign_link("acme", now=clock.epoch(), ttl_s=60, secret=b"secret")
    assert gate.check("acme", "Bearer t0ken", {}).via == "admin"
    assert gate.check("acme", None, link).via == "link"
    cases = [
        ("acme", None, {}, 401),
        ("acme", "Bearer nope", link, 401),
        ("globex", None, link, 403),
        ("globex", None, {**link, "tenant": "globex"}, 403),
        ("acme", None, {**link, "sig": link["sig"][:-2] + "AA"}, 403),
        ("../etc", "Bearer t0ken", {}, 404),
    ]
    for tenant, authorization, params, status in cases:
        with pytest.raises(Denied) as denied:
            gate.check(tenant, authorization, params)
        assert denied.value.status == status, (tenant, authorization, params)


def test_settings_want_both_secrets_unless_demo_and_a_known_database() -> None:
    with pytest.raises(ValueError, match="CONSOLE_ADMIN_TOKEN"):
        Settings()
    demo = Settings(demo=True)
    assert demo.secret("admin_token") == "demo-admin-token"
    with pytest.raises(ValueError, match="local runs only"):
        Settings(demo=True, kafka_bootstrap_servers="127.0.0.1:9092,kafka.prod:9092")
    with pytest.raises(ValueError, match="postgresql"):
        Settings(demo=True, database_url="mysql://x/y")
    assert Settings(demo=True, database_url="postgresql://u:p@h/db").database_url.startswith(
        "postgresql"
    )
