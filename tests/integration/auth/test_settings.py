"""Tenant settings over HTTP against the emulator and the real broker: checked against
the org's describe (custom fields included), written to the compacted settings topic,
and refused to anyone without the admin token or the tenant's own link."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chat_contracts.audit import AuditEvent
from chat_contracts.settings import TenantSettings, UpdatePolicy
from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator
from tests.integration.auth.support import (
    ADMIN_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    AuthTopics,
    RunningAuth,
    connect_tenant,
    read_all,
)

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
ORDER_RULE = {
    "object": "Lead",
    "source": "custom_fields.Order Number",
    "target": "Order_Number__c",
}
VALID: dict[str, Any] = {
    "mode": "sales",
    "update_policy": "fill_empty_only",
    "company_placeholder": "Chat visitor",
    "match_by_phone": True,
    "field_mapping": [
        ORDER_RULE,
        {"object": "Task", "source": "request_page", "target": "Subject"},
    ],
}


@pytest.fixture
def custom_org(sf_emulator: SalesforceEmulator) -> EmulatorOrg:
    """An org on auth's connected app with a custom field on Lead."""
    return sf_emulator.create_org(
        name="Acme Custom",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        custom_fields=[
            {"object": "Lead", "name": "Order_Number__c", "type": "string", "length": 40}
        ],
    )


async def link_for(auth: RunningAuth, tenant: str) -> dict[str, str]:
    async with auth.http() as web:
        answer = await web.post("/admin/connect-link", params={"tenant": tenant}, headers=ADMIN)
    assert answer.status_code == 200, answer.text
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.json()["url"]).query).items()}


async def stored_values(bootstrap: str, topics: AuthTopics, tenant: str) -> list[TenantSettings]:
    records = await read_all(bootstrap, topics.settings)
    return [
        TenantSettings.model_validate_json(r.value)
        for r in records
        if r.key == tenant.encode() and r.value is not None
    ]


async def test_valid_settings_are_written_to_the_topic_and_read_back(
    auth: RunningAuth,
    sf_emulator: SalesforceEmulator,
    custom_org: EmulatorOrg,
    tenant: str,
    topics: AuthTopics,
    kafka_bootstrap: str,
) -> None:
    await connect_tenant(auth, sf_emulator, custom_org, tenant)
    async with auth.http() as web:
        before = await web.get("/admin/settings", params={"tenant": tenant}, headers=ADMIN)
        assert before.status_code == 200
        assert before.json()["stored"] is False
        assert before.json()["settings"]["mode"] == "sales"  # the contract's defaults

        saved = await web.put(
            "/admin/settings", params={"tenant": tenant}, headers=ADMIN, json=VALID
        )
        assert saved.status_code == 200, saved.text
        body = saved.json()["settings"]
        assert body["tenant_id"] == tenant
        assert body["updated_by"] == "auth:admin"

        after = await web.get("/admin/settings", params={"tenant": tenant}, headers=ADMIN)
        assert after.json() == {"settings": body, "stored": True}

    (record,) = await stored_values(kafka_bootstrap, topics, tenant)
    assert record.model_dump(mode="json") == body
    assert record.update_policy is UpdatePolicy.FILL_EMPTY_ONLY
    assert record.company_placeholder == "Chat visitor"
    assert record.match_by_phone is True
    assert [r.target for r in record.field_mapping] == ["Order_Number__c", "Subject"]


async def test_unknown_or_unfit_fields_get_422_naming_each_and_nothing_is_written(
    auth: RunningAuth,
    sf_emulator: SalesforceEmulator,
    custom_org: EmulatorOrg,
    tenant: str,
    topics: AuthTopics,
    kafka_bootstrap: str,
) -> None:
    await connect_tenant(auth, sf_emulator, custom_org, tenant)
    body = {
        **VALID,
        "field_mapping": [
            ORDER_RULE,
            {"object": "Lead", "source": "notes", "target": "No_Such_Field__c"},
            {"object": "Lead", "source": "notes", "target": "IsConverted"},
        ],
    }
    async with auth.http() as web:
        refused = await web.put(
            "/admin/settings", params={"tenant": tenant}, headers=ADMIN, json=body
        )
        assert refused.status_code == 422, refused.text
        problems = refused.json()["problems"]
        assert [p["field"] for p in problems] == [
            "field_mapping.1.target",
            "field_mapping.2.target",
        ]
        assert "Lead.No_Such_Field__c does not exist" in problems[0]["message"]
        assert "IsConverted" in problems[1]["message"]

        contract = await web.put(
            "/admin/settings", params={"tenant": tenant}, headers=ADMIN, json={"mode": "retail"}
        )
        assert contract.status_code == 422
        assert [p["field"] for p in contract.json()["problems"]] == ["mode"]

        # The same field exists nowhere in another org: the check is per org.
        plain = await web.put(
            "/admin/settings",
            params={"tenant": tenant},
            headers=ADMIN,
            json={**VALID, "field_mapping": [{**ORDER_RULE, "object": "Contact"}]},
        )
        assert plain.status_code == 422
        assert plain.json()["problems"][0]["field"] == "field_mapping.0.target"
    assert await stored_values(kafka_bootstrap, topics, tenant) == []


async def test_a_tenant_that_is_not_connected_gets_409(auth: RunningAuth, tenant: str) -> None:
    async with auth.http() as web:
        answer = await web.put(
            "/admin/settings", params={"tenant": tenant}, headers=ADMIN, json=VALID
        )
    assert answer.status_code == 409
    assert answer.json()["error"] == "not_connected"


async def test_only_the_admin_token_or_the_tenants_own_link_may(
    auth: RunningAuth,
    sf_emulator: SalesforceEmulator,
    custom_org: EmulatorOrg,
    tenant: str,
) -> None:
    await connect_tenant(auth, sf_emulator, custom_org, tenant)
    own = await link_for(auth, tenant)
    other = await link_for(auth, f"{tenant}-b")
    async with auth.http() as web:
        none = await web.put("/admin/settings", params={"tenant": tenant}, json=VALID)
        assert none.status_code == 401
        assert (await web.get("/admin/settings", params={"tenant": tenant})).status_code == 401
        wrong_token = await web.put(
            "/admin/settings",
            params={"tenant": tenant},
            headers={"Authorization": "Bearer nope"},
            json=VALID,
        )
        assert wrong_token.status_code == 401
        # Tenant B's link, presented for tenant A: its signature does not cover A.
        foreign = await web.put("/admin/settings", params={**other, "tenant": tenant}, json=VALID)
        assert foreign.status_code == 403
        read_foreign = await web.get("/admin/settings", params={**other, "tenant": tenant})
        assert read_foreign.status_code == 403

        allowed = await web.put("/admin/settings", params=own, json=VALID)
        assert allowed.status_code == 200, allowed.text
        assert allowed.json()["settings"]["updated_by"] == "auth:link"


async def test_the_page_form_saves_and_shows_errors_inline(
    auth: RunningAuth,
    sf_emulator: SalesforceEmulator,
    custom_org: EmulatorOrg,
    tenant: str,
    topics: AuthTopics,
    kafka_bootstrap: str,
) -> None:
    connected = await connect_tenant(auth, sf_emulator, custom_org, tenant)
    assert 'id="save_settings"' in connected.page.text
    form = await link_for(auth, tenant)
    fields = {
        **form,
        "action": "save_settings",
        "mode": "support",
        "update_policy": "update_from_chat",
        "company_placeholder": "Unknown company",
        "default_phone_region": "GB",
        "map_object_0": "Case",
        "map_source_0": "visitor.company",
        "map_target_0": "Subject",
        "map_object_1": "",
        "map_source_1": "",
        "map_target_1": "",
    }
    async with auth.http() as web:
        bad = await web.post("/connect", data={**fields, "map_target_0": "Ghost__c"})
        assert bad.status_code == 422
        assert "Case.Ghost__c does not exist in the org" in bad.text
        assert 'value="Ghost__c"' in bad.text  # what was typed is kept
        assert await stored_values(kafka_bootstrap, topics, tenant) == []

        good = await web.post("/connect", data=fields)
        assert good.status_code == 303, good.text
        page = await web.get(good.headers["location"])
        assert "Settings saved." in page.text
        assert '<option value="support" selected>' in page.text

    (record,) = await stored_values(kafka_bootstrap, topics, tenant)
    assert (record.mode, record.update_policy) == ("support", UpdatePolicy.UPDATE_FROM_CHAT)
    assert record.match_by_phone is False
    assert record.default_phone_region == "GB"
    assert [(r.object, r.source, r.target) for r in record.field_mapping] == [
        ("Case", "visitor.company", "Subject")
    ]


async def test_constants_and_translations_are_checked_against_the_orgs_picklists(
    auth: RunningAuth,
    sf_emulator: SalesforceEmulator,
    tenant: str,
    topics: AuthTopics,
    kafka_bootstrap: str,
) -> None:
    tier = {"object": "Lead", "name": "Tier__c", "type": "picklist", "restricted": True}
    restricted_org = sf_emulator.create_org(
        name="Acme Tiers",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        custom_fields=[{**tier, "picklist": ["Gold", "Silver"]}],
    )
    await connect_tenant(auth, sf_emulator, restricted_org, tenant)
    lead_source = {"object": "Lead", "value": "Chat", "target": "LeadSource"}
    tiers = {
        "object": "Lead",
        "source": "department",
        "target": "Tier__c",
        "translate": {"sales": "Gold", "vip": "Platinum"},
    }
    async with auth.http() as web:
        refused = await web.put(
            "/admin/settings",
            params={"tenant": tenant},
            headers=ADMIN,
            json={"field_mapping": [lead_source, tiers]},
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["problems"] == [
            {
                "field": "field_mapping.1.translate.vip",
                "message": "Lead.Tier__c has no value 'Platinum' (restricted picklist)",
            }
        ]
        assert await stored_values(kafka_bootstrap, topics, tenant) == []
        tiers["translate"] = {"sales": "Gold", "vip": "gold"}
        saved = await web.put(
            "/admin/settings",
            params={"tenant": tenant},
            headers=ADMIN,
            json={"field_mapping": [lead_source, tiers]},
        )
        assert saved.status_code == 200, saved.text
    [stored] = await stored_values(kafka_bootstrap, topics, tenant)
    assert stored.field_mapping[0].value == "Chat"
    assert stored.field_mapping[1].translate == {"sales": "Gold", "vip": "gold"}
    form = {
        **await link_for(auth, tenant),
        "action": "save_settings",
        "map_object_0": "Lead",
        "map_value_0": "Platinum",
        "map_target_0": "Tier__c",
    }
    async with auth.http() as web:
        bad = await web.post("/connect", data=form)
    assert bad.status_code == 422
    assert "Lead.Tier__c has no value &#x27;Platinum&#x27; (restricted picklist)" in bad.text
    assert 'name="map_value_0" id="map-value-0" value="Platinum"' in bad.text
    assert len(await stored_values(kafka_bootstrap, topics, tenant)) == 1  # unchanged


async def test_connecting_and_a_settings_change_are_on_the_audit_trail(
    auth: RunningAuth,
    sf_emulator: SalesforceEmulator,
    custom_org: EmulatorOrg,
    tenant: str,
    topics: AuthTopics,
    kafka_bootstrap: str,
) -> None:
    await connect_tenant(auth, sf_emulator, custom_org, tenant)
    async with auth.http() as web:
        saved = await web.put(
            "/admin/settings", params={"tenant": tenant}, headers=ADMIN, json=VALID
        )
        assert saved.status_code == 200, saved.text
    records = await read_all(kafka_bootstrap, topics.audit)
    events = [AuditEvent.model_validate_json(r.value) for r in records if r.key == tenant.encode()]
    connected, changed = events
    assert (connected.action, connected.actor, connected.outcome) == (
        "connection.connect",
        "tenant-link",
        "ok",
    )
    assert connected.source_ip == "127.0.0.1"
    assert (changed.service, changed.action, changed.actor) == ("auth", "settings.update", "admin")
    by_field = {c.field: (c.before, c.after) for c in changed.changes}
    assert by_field["update_policy"] == ("do_not_update", "fill_empty_only")
    assert by_field["match_by_phone"] == (False, True)
    assert by_field["field_mapping.0.target"] == (None, "Order_Number__c")
    assert CLIENT_SECRET not in records[-1].value.decode()
