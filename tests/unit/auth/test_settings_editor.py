"""Saving tenant settings: describe first, write only what the org can take; the page's
settings section."""

from __future__ import annotations

from typing import Any

import pytest

from auth_service.domain.connection import status_of
from auth_service.domain.errors import TransientError
from auth_service.domain.settings import SettingsProblem
from auth_service.entrypoints.pages import connect_page
from auth_service.handlers.settings import SettingsInvalid, SettingsUnchecked, TenantSettingsEditor
from chat_contracts.settings import TenantSettings
from tests.unit.auth.conftest import TENANT, World
from tests.unit.auth.fakes import MemorySettings
from tests.unit.auth.test_pages import PARAMS, record


def describe(*custom: str) -> dict[str, Any]:
    names = ["Id", "Subject", "Email", "LastName", *custom]
    return {
        "createable": True,
        "updateable": True,
        "fields": [{"name": n, "createable": True, "updateable": True} for n in names],
    }


@pytest.fixture
def store() -> MemorySettings:
    return MemorySettings()


@pytest.fixture
def editor(world: World, store: MemorySettings) -> TenantSettingsEditor:
    world.sf.sobjects = {
        "Lead": describe("Order_Number__c"),
        "Task": describe(),
        "Contact": describe(),
        "Case": describe(),
    }
    return TenantSettingsEditor(store=store, tokens=world.tokens, salesforce=world.sf)


RULE = {"object": "Lead", "source": "custom_fields.Order Number", "target": "Order_Number__c"}
MAPPED = {"mode": "sales", "update_policy": "fill_empty_only", "field_mapping": [RULE]}


async def test_defaults_until_saved_then_the_saved_value(
    world: World, editor: TenantSettingsEditor, store: MemorySettings
) -> None:
    await world.connected()
    envelope = {"message_id", "occurred_at"}
    assert editor.current(TENANT).model_dump(exclude=envelope) == TenantSettings(
        tenant_id=TENANT
    ).model_dump(exclude=envelope)
    assert not editor.stored(TENANT)
    saved = await editor.save(TENANT, MAPPED, updated_by="auth:admin")
    assert store.writes == [saved]
    assert editor.current(TENANT) == saved
    assert saved.updated_by == "auth:admin"


async def test_unknown_field_is_refused_and_nothing_written(
    world: World, editor: TenantSettingsEditor, store: MemorySettings
) -> None:
    await world.connected()
    body = {**MAPPED, "field_mapping": [{**RULE, "target": "Nope__c"}]}
    with pytest.raises(SettingsInvalid) as caught:
        await editor.save(TENANT, body)
    assert [p.field for p in caught.value.problems] == ["field_mapping.0.target"]
    assert "Nope__c" in caught.value.problems[0].message
    assert store.writes == []


async def test_contract_errors_come_before_any_salesforce_call(
    world: World, editor: TenantSettingsEditor
) -> None:
    with pytest.raises(SettingsInvalid) as caught:
        await editor.save(TENANT, {"mode": "nope"})
    assert [p.field for p in caught.value.problems] == ["mode"]
    assert world.sf.refreshes == 0


async def test_not_connected_or_salesforce_down_is_unchecked(
    world: World, editor: TenantSettingsEditor, store: MemorySettings
) -> None:
    with pytest.raises(SettingsUnchecked) as caught:
        await editor.save(TENANT, MAPPED)
    assert (caught.value.code, caught.value.connected) == ("not_connected", False)

    await world.connected()

    async def down(**_: Any) -> None:
        raise TransientError("http_503", "unavailable")

    world.sf.describe_sobject = down  # type: ignore[method-assign]
    with pytest.raises(SettingsUnchecked) as caught:
        await editor.save(TENANT, MAPPED)
    assert caught.value.connected
    assert store.writes == []


def test_the_page_shows_the_settings_and_inline_errors() -> None:
    values = TenantSettings(tenant_id="t1", mode="support").model_dump(mode="json")
    values["field_mapping"] = [{"object": "Lead", "source": "notes", "target": "<b>X</b>"}]
    html = connect_page(
        status_of("t1", record()),
        PARAMS,
        settings=values,
        problems=(
            SettingsProblem("field_mapping.0.target", "Lead.X does not exist in the org"),
            SettingsProblem("", "Lead.Email is mapped twice"),
        ),
    )
    assert '<option value="support" selected>' in html
    assert 'name="map_target_0"' in html
    assert "&lt;b&gt;X&lt;/b&gt;" in html
    assert 'name="map_target_3"' in html  # three empty rows to add more
    assert '<span class="field-error">Lead.X does not exist in the org</span>' in html
    assert 'id="settings-errors"' in html
    assert "mapped twice" in html
    assert 'value="save_settings"' in html


def test_the_page_shows_constants_translations_and_their_errors_in_the_row() -> None:
    values = TenantSettings(tenant_id="t1").model_dump(mode="json")
    values["field_mapping"] = [
        {"object": "Lead", "value": "Chat", "target": "LeadSource"},
        {
            "object": "Lead",
            "source": "department",
            "target": "Tier__c",
            "translate": {"sales": "Gold", "vip": "Platinum"},
            "default": "Silver",
        },
    ]
    problem = SettingsProblem("field_mapping.1.translate.vip", "Lead.Tier__c has no 'Platinum'")
    html = connect_page(status_of("t1", record()), PARAMS, settings=values, problems=(problem,))
    assert 'name="map_value_0" id="map-value-0" value="Chat"' in html
    assert ">sales = Gold\nvip = Platinum</textarea>" in html
    assert 'name="map_default_1" id="map-default-1" value="Silver"' in html
    assert '<td><span class="field-error">Lead.Tier__c has no &#x27;Platinum&#x27;</span>' in html


def test_the_page_has_no_settings_section_without_values() -> None:
    assert 'id="settings"' not in connect_page(status_of("t1", None), PARAMS)
