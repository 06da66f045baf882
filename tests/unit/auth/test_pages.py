"""The connect page: what it shows in each state, and that it escapes."""

from __future__ import annotations

from datetime import UTC, datetime

from auth_service.domain.connection import status_of
from auth_service.entrypoints.pages import connect_page
from chat_contracts.auth import RefreshTokenRecord
from chat_contracts.auth_events import MissingPermission, PermissionCheckEvent

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PARAMS = {"tenant": "t1", "expires": "1", "sig": "s"}


def record(**fields: object) -> RefreshTokenRecord:
    data: dict[str, object] = {
        "tenant_id": "t1",
        "key_id": "k1",
        "nonce": b"\x01" * 12,
        "ciphertext": b"\x02" * 40,
        "org_id": "00D5g000004XyZaEAK",
        "instance_url": "https://acme.my.salesforce.com",
        "sandbox": True,
        "user_id": "0055g00000AbCdEAAV",
        "username": "<script>alert(1)</script>@x.test",
        "connected_at": T0,
        **fields,
    }
    return RefreshTokenRecord.model_validate(data)


def test_not_connected_offers_both_connect_buttons() -> None:
    html = connect_page(status_of("t1", None), PARAMS)
    assert "Not connected" in html
    assert "Connect with Salesforce</button>" in html
    assert "Connect with Salesforce Sandbox</button>" in html
    assert "Disconnect" not in html


def test_connected_shows_the_org_user_environment_and_last_refresh() -> None:
    check = PermissionCheckEvent(tenant_id="t1")
    html = connect_page(status_of("t1", record(last_refreshed_at=T0), check), PARAMS, "connected")
    assert 'class="badge connected">Connected' in html
    assert "00D5g000004XyZaEAK" in html
    assert "Sandbox" in html
    assert "2026-01-01 00:00:00 UTC" in html
    assert "can be queried, created and updated" in html
    assert "Disconnect</button>" in html
    assert "Check permissions</button>" in html
    assert "Connected to Salesforce." in html


def test_values_are_escaped_and_unknown_notices_ignored() -> None:
    html = connect_page(status_of("t1", record()), PARAMS, "<b>evil</b>")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "evil" not in html


def test_revoked_warns_loudly() -> None:
    html = connect_page(status_of("t1", record(revoked_at=T0)), PARAMS)
    assert "Connection lost" in html
    assert 'role="alert"' in html
    assert "Check permissions" not in html


def test_missing_permissions_are_listed() -> None:
    check = PermissionCheckEvent(
        tenant_id="t1",
        missing=(
            MissingPermission(object="Case", operation="create"),
            MissingPermission(object="Case", operation="update"),
        ),
    )
    html = connect_page(status_of("t1", record(), check), PARAMS)
    assert "<td>Case</td><td>create, update</td>" in html
