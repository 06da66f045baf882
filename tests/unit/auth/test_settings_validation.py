"""Tenant settings against an org's describe (pure), the body parsing, and the form."""

from __future__ import annotations

from typing import Any

from auth_service.domain.settings import (
    SettingsProblem,
    objects_to_describe,
    parse_settings,
    problems_with,
)
from auth_service.entrypoints.web import settings_body_from_form
from chat_contracts.settings import FieldMappingRule, TenantSettings, UpdatePolicy

TENANT = "10000"


def field(name: str, *, createable: bool = True, updateable: bool = True) -> dict[str, Any]:
    return {"name": name, "createable": createable, "updateable": updateable}


def sobject(
    name: str, *fields: dict[str, Any], createable: bool = True, updateable: bool = True
) -> dict[str, Any]:
    base = [field("Id", createable=False, updateable=False), field("Subject"), field("Email")]
    return {
        "name": name,
        "createable": createable,
        "updateable": updateable,
        "fields": [*base, *fields],
    }


def org(**overrides: dict[str, Any] | None) -> dict[str, dict[str, Any] | None]:
    describes: dict[str, dict[str, Any] | None] = {
        "Lead": sobject("Lead", field("Order_Number__c"), field("Company")),
        "Contact": sobject("Contact", field("Order_Number__c")),
        "Task": sobject("Task", field("Chat_Page__c")),
        "Case": sobject("Case", field("Chat_Page__c")),
    }
    describes.update(overrides)
    return describes


def settings(**values: Any) -> TenantSettings:
    return TenantSettings(tenant_id=TENANT, **values)


def rule(obj: str, source: str, target: str) -> FieldMappingRule:
    return FieldMappingRule.model_validate({"object": obj, "source": source, "target": target})


def fields_of(problems: tuple[SettingsProblem, ...]) -> list[str]:
    return [p.field for p in problems]


def test_defaults_pass_against_a_full_org() -> None:
    assert problems_with(settings(), org()) == ()
    assert problems_with(settings(mode="support"), org()) == ()


def test_objects_described_are_the_modes_and_the_mappings_each_once() -> None:
    assert objects_to_describe(settings()) == ("Lead", "Task")
    mapped = settings(
        mode="support",
        field_mapping=(rule("Lead", "chat_id", "Subject"), rule("Case", "notes", "Subject")),
    )
    assert objects_to_describe(mapped) == ("Contact", "Case", "Lead")


def test_custom_fields_map_when_they_exist_case_insensitively() -> None:
    value = settings(
        update_policy=UpdatePolicy.FILL_EMPTY_ONLY,
        field_mapping=(
            rule("Lead", "custom_fields.Order Number", "order_number__c"),
            rule("Task", "request_page", "Chat_Page__c"),
        ),
    )
    assert problems_with(value, org()) == ()


def test_an_unknown_target_is_named_with_its_row() -> None:
    value = settings(
        field_mapping=(
            rule("Lead", "chat_id", "Subject"),
            rule("Lead", "custom_fields.Order Number", "Missing_Field__c"),
        )
    )
    (problem,) = problems_with(value, org())
    assert problem.field == "field_mapping.1.target"
    assert "Lead.Missing_Field__c does not exist" in problem.message


def test_a_read_only_target_is_refused_for_create() -> None:
    lead = sobject("Lead", field("Score__c", createable=False, updateable=False))
    value = settings(field_mapping=(rule("Lead", "notes", "Score__c"),))
    (problem,) = problems_with(value, org(Lead=lead))
    assert problem.message == "Lead.Score__c is not createable"
    updating = settings(
        update_policy=UpdatePolicy.UPDATE_FROM_CHAT, field_mapping=value.field_mapping
    )
    (problem,) = problems_with(updating, org(Lead=lead))
    assert problem.message == "Lead.Score__c is not createable or updateable"


def test_updateable_is_needed_only_when_the_policy_updates_the_person() -> None:
    lead = sobject("Lead", field("Once__c", updateable=False))
    once = (rule("Lead", "notes", "Once__c"),)
    assert problems_with(settings(field_mapping=once), org(Lead=lead)) == ()
    updating = settings(update_policy=UpdatePolicy.UPDATE_FROM_CHAT, field_mapping=once)
    (problem,) = problems_with(updating, org(Lead=lead))
    assert (problem.field, problem.message) == (
        "field_mapping.0.target",
        "Lead.Once__c is not updateable",
    )
    # Tasks are only ever created: a create-only field is fine there whatever the policy.
    task = sobject("Task", field("Once__c", updateable=False))
    on_task = settings(
        update_policy=UpdatePolicy.UPDATE_FROM_CHAT,
        field_mapping=(rule("Task", "notes", "Once__c"),),
    )
    assert problems_with(on_task, org(Task=task)) == ()


def test_objects_the_mode_writes_must_exist_and_be_writable() -> None:
    problems = problems_with(
        settings(mode="support", update_policy=UpdatePolicy.FILL_EMPTY_ONLY),
        org(Case=None, Contact=sobject("Contact", updateable=False)),
    )
    assert [(p.field, p.message) for p in problems] == [
        ("mode", "Case is not available to the connected user"),
        ("update_policy", "the connected user cannot update Contact records"),
    ]
    (problem,) = problems_with(settings(), org(Task=sobject("Task", createable=False)))
    assert problem.message == "the connected user cannot create Task records"


def test_a_mapping_into_an_object_the_org_lacks_names_the_object() -> None:
    value = settings(field_mapping=(rule("Case", "notes", "Subject"),))
    (problem,) = problems_with(value, org(Case=None))
    assert problem.field == "field_mapping.0.object"


def test_parse_takes_the_tenant_from_the_request_and_fills_updated_by() -> None:
    parsed = parse_settings(TENANT, {"mode": "support"}, updated_by="auth:admin")
    assert isinstance(parsed, TenantSettings)
    assert (parsed.tenant_id, parsed.mode, parsed.updated_by) == (TENANT, "support", "auth:admin")
    kept = parse_settings(TENANT, {"updated_by": "ops@acme.test"}, updated_by="auth:link")
    assert isinstance(kept, TenantSettings)
    assert kept.updated_by == "ops@acme.test"


def test_parse_refuses_another_tenant_and_contract_errors_by_field() -> None:
    assert fields_of(_problems(parse_settings(TENANT, {"tenant_id": "20000"}))) == ["tenant_id"]
    assert fields_of(_problems(parse_settings(TENANT, ["mode"]))) == [""]
    bad = parse_settings(
        TENANT,
        {
            "mode": "marketing",
            "company_placeholder": "",
            "field_mapping": [{"object": "Lead", "source": "nope", "target": "Email"}],
        },
    )
    assert fields_of(_problems(bad)) == [
        "mode",
        "company_placeholder",
        "field_mapping.0.source",
    ]


def test_chat_metrics_are_sources_the_settings_accept() -> None:
    metrics = ("rating", "rating_comment", "wait_s", "duration_s", "department", "tags")
    body = {
        "mode": "support",
        "field_mapping": [
            {"object": "Case", "source": m, "target": f"M{i}__c"} for i, m in enumerate(metrics)
        ],
    }
    parsed = parse_settings(TENANT, body)
    assert isinstance(parsed, TenantSettings), parsed
    assert [r.source for r in parsed.field_mapping] == list(metrics)


def typed(name: str, type_: str, *values: str, restricted: bool = False) -> dict[str, Any]:
    picklist = [{"value": v, "active": True} for v in values]
    return {
        **field(name, updateable=False),
        "type": type_,
        "picklistValues": picklist,
        "restrictedPicklist": restricted,
    }


def typed_org() -> dict[str, dict[str, Any] | None]:
    lead = sobject(
        "Lead",
        typed("LeadSource", "picklist", "Web", "Chat"),
        typed("Tier__c", "picklist", "Gold", "Silver", restricted=True),
        {**typed("Team__c", "picklist", "Gold", restricted=True), "updateable": True},
        typed("Seats__c", "int"),
        typed("Vip__c", "boolean"),
        typed("Since__c", "date"),
        {**typed("RecordTypeId", "reference"), "length": 18},
    )
    return org(Lead=lead)


def test_constants_and_translations_are_checked_against_the_field() -> None:
    table = {"sales": "Gold", "care": "Platinum"}
    rules = [
        {"object": "Lead", "value": "Chatbot", "target": "LeadSource"},  # open picklist: fine
        {"object": "Lead", "value": "Platinum", "target": "Tier__c"},
        {"object": "Lead", "value": "many", "target": "Seats__c"},
        {"object": "Lead", "value": "perhaps", "target": "Vip__c"},
        {"object": "Lead", "value": "May 1st", "target": "Since__c"},
        {"object": "Lead", "value": "not-an-id", "target": "RecordTypeId"},
        {
            "object": "Lead",
            "source": "department",
            "target": "Team__c",
            "translate": table,
            "default": "Bronze",
        },
    ]
    value = settings(update_policy="update_from_chat", field_mapping=rules)
    problems = problems_with(value, typed_org())
    assert [(p.field, p.message) for p in problems] == [
        ("field_mapping.1.value", "Lead.Tier__c has no value 'Platinum' (restricted picklist)"),
        ("field_mapping.2.value", "Lead.Seats__c takes a whole number, not 'many'"),
        ("field_mapping.3.value", "Lead.Vip__c takes true or false, not 'perhaps'"),
        ("field_mapping.4.value", "Lead.Since__c takes a date (2024-05-31), not 'May 1st'"),
        ("field_mapping.5.value", "Lead.RecordTypeId takes a Salesforce id, not 'not-an-id'"),
        (
            "field_mapping.6.translate.care",
            "Lead.Team__c has no value 'Platinum' (restricted picklist)",
        ),
        ("field_mapping.6.default", "Lead.Team__c has no value 'Bronze' (restricted picklist)"),
    ]
    any_case = [{"object": "Lead", "value": "gold", "target": "tier__c"}]  # as crm-sync
    assert problems_with(settings(field_mapping=any_case), typed_org()) == ()


def test_a_constant_needs_only_create_access_even_when_the_policy_updates() -> None:
    rules = [{"object": "Lead", "value": "Chat", "target": "LeadSource"}]
    value = settings(update_policy="update_from_chat", field_mapping=rules)
    assert problems_with(value, typed_org()) == ()  # LeadSource is not updateable here


def test_a_record_type_must_be_one_the_org_offers_when_it_lists_them() -> None:
    describes = typed_org()
    lead = describes["Lead"]
    assert lead is not None
    lead["recordTypeInfos"] = [{"recordTypeId": "012000000000000AAA", "available": True}]
    rules = [{"object": "Lead", "value": "0125g000000AbCdEAA", "target": "RecordTypeId"}]
    (problem,) = problems_with(settings(field_mapping=rules), describes)
    assert problem.message == "Lead has no record type 0125g000000AbCdEAA available"


def test_the_form_keeps_fields_it_does_not_show_and_drops_empty_rows() -> None:
    current = settings(batch_linger_ms=120, match_by_phone=True).model_dump(mode="json")
    body = settings_body_from_form(
        {
            "tenant": TENANT,
            "action": "save_settings",
            "mode": "support",
            "update_policy": "fill_empty_only",
            "company_placeholder": " Unknown ",
            "map_object_0": "Contact",
            "map_source_0": "visitor.company",
            "map_target_0": "Order_Number__c",
            "map_object_1": "",
            "map_source_1": "",
            "map_target_1": "",
        },
        current,
    )
    parsed = parse_settings(TENANT, body)
    assert isinstance(parsed, TenantSettings)
    assert parsed.batch_linger_ms == 120
    assert parsed.match_by_phone is False  # an unticked box is not sent
    assert parsed.company_placeholder == "Unknown"
    assert parsed.field_mapping == (rule("Contact", "visitor.company", "Order_Number__c"),)


def test_the_form_takes_constants_and_translations_one_per_line() -> None:
    current = settings().model_dump(mode="json")
    form = {
        "map_object_0": "Lead",
        "map_value_0": " Chat ",
        "map_target_0": "LeadSource",
        "map_object_1": "Lead",
        "map_source_1": "department",
        "map_translate_1": "sales = Web - Sales\r\n\r\n support=Web",
        "map_default_1": "",
        "map_target_1": "Tier__c",
    }
    parsed = parse_settings(TENANT, settings_body_from_form(form, current))
    assert isinstance(parsed, TenantSettings), parsed
    constant, translated = parsed.field_mapping
    assert (constant.source, constant.value) == (None, "Chat")
    assert translated.translate == {"sales": "Web - Sales", "support": "Web"}
    assert translated.default is None
    bad = dict(form, map_translate_1="sales Web")  # no "=": named, not dropped
    assert fields_of(_problems(parse_settings(TENANT, settings_body_from_form(bad, current)))) == [
        "field_mapping.1.translate.sales Web"
    ]


def _problems(result: TenantSettings | tuple[SettingsProblem, ...]) -> tuple[SettingsProblem, ...]:
    assert not isinstance(result, TenantSettings), result
    return result
