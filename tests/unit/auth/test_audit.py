"""The audit trail of auth's admin actions: connect, disconnect, settings changes, each
with who did it (the admin token or a tenant link) and from where; secrets named, never
their values."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from auth_service.domain.audit import Caller, changes_between, settings_changes
from auth_service.domain.errors import SalesforceAuthError
from auth_service.handlers.connect import ConnectFailed
from auth_service.handlers.settings import SettingsInvalid, TenantSettingsEditor
from chat_contracts.audit import AuditChange
from chat_contracts.settings import FieldMappingRule, TenantSettings
from tests.unit.auth.conftest import TENANT, World
from tests.unit.auth.fakes import MemorySettings
from tests.unit.auth.test_settings_editor import MAPPED, describe

LINK = Caller.of("link", "203.0.113.9")
ADMIN = Caller.of("admin", None)


def test_callers_are_named_as_the_trail_names_them() -> None:
    assert (LINK.actor, LINK.source_ip) == ("tenant-link", "203.0.113.9")
    assert ADMIN.actor == "admin"


def test_settings_changes_are_listed_field_by_field() -> None:
    before = TenantSettings(tenant_id=TENANT)
    rule = FieldMappingRule(object="Lead", source="notes", target="Notes__c")
    after = TenantSettings(
        tenant_id=TENANT, mode="support", field_mapping=(rule,), updated_by="auth:admin"
    )
    changes = {c.field: (c.before, c.after) for c in settings_changes(before, after)}
    assert changes == {
        "mode": ("sales", "support"),
        "field_mapping.0.object": (None, "Lead"),
        "field_mapping.0.source": (None, "notes"),
        "field_mapping.0.target": (None, "Notes__c"),
    }


def test_a_secret_bearing_field_is_named_without_its_values() -> None:
    changes = changes_between(
        {"webhook_secret": "old-s3cret", "api_key": "k1", "tags": ["a"]},
        {"webhook_secret": "new-s3cret", "api_key": "k1", "tags": ["a", "b"]},
    )
    assert changes == (
        AuditChange(field="tags", before=["a"], after=["a", "b"]),
        AuditChange(field="webhook_secret", before=None, after=None),
    )
    assert "s3cret" not in repr(changes)


def state_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


async def test_a_connect_is_audited_with_whoever_started_it(world: World) -> None:
    started = world.connect.start(TENANT, sandbox=False, caller=LINK)
    await world.connect.complete(
        state_param=state_of(started.authorize_url),
        code="abc",
        error="",
        browser_nonce=started.state.nonce,
        source_ip="198.51.100.7",
    )
    [event] = world.audit.events
    assert (event.tenant_id, event.service, event.action, event.outcome) == (
        TENANT,
        "auth",
        "connection.connect",
        "ok",
    )
    assert (event.actor, event.source_ip) == ("tenant-link", "198.51.100.7")
    assert "refresh-for-abc" not in event.model_dump_json()


async def test_a_connect_denied_or_failed_is_audited_too(world: World) -> None:
    started = world.connect.start(TENANT, sandbox=False, caller=ADMIN)
    await world.connect.complete(
        state_param=state_of(started.authorize_url),
        code="",
        error="access_denied",
        browser_nonce=started.state.nonce,
    )
    world.sf.exchange_error = SalesforceAuthError("invalid_grant", "bad code")
    started = world.connect.start(TENANT, sandbox=False, caller=ADMIN)
    with pytest.raises(ConnectFailed):
        await world.connect.complete(
            state_param=state_of(started.authorize_url),
            code="abc",
            error="",
            browser_nonce=started.state.nonce,
        )
    assert [(e.action, e.outcome) for e in world.audit.events] == [
        ("connection.connect", "refused"),
        ("connection.connect", "failed"),
    ]


async def test_a_disconnect_is_audited(world: World) -> None:
    await world.connected()
    await world.connect.disconnect(TENANT, initiated_by="admin", caller=ADMIN)
    [event] = world.audit.events
    assert (event.action, event.actor, event.outcome) == ("connection.disconnect", "admin", "ok")


async def test_saved_and_refused_settings_are_audited(world: World) -> None:
    world.sf.sobjects = {
        "Lead": describe("Order_Number__c"),
        "Task": describe(),
        "Contact": describe(),
        "Case": describe(),
    }
    store = MemorySettings()
    editor = TenantSettingsEditor(
        store=store, tokens=world.tokens, salesforce=world.sf, audit=world.audit
    )
    await world.connected()
    await editor.save(TENANT, MAPPED, updated_by="auth:link", caller=LINK)
    with pytest.raises(SettingsInvalid):
        await editor.save(TENANT, {"mode": "retail"}, caller=LINK)
    saved, refused = world.audit.events
    assert (saved.action, saved.outcome, saved.actor) == ("settings.update", "ok", "tenant-link")
    fields = [c.field for c in saved.changes]
    assert "update_policy" in fields
    assert "field_mapping.0.target" in fields
    assert "updated_by" not in fields
    assert (refused.outcome, refused.changes) == ("refused", ())
