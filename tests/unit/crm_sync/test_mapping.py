"""The tenant's field mapping: chat metrics as sources, constants and translations, each
typed by describe and checked against restricted picklists like any mapped value."""

from __future__ import annotations

from typing import Any

from chat_contracts.settings import FieldMappingRule
from crm_sync.domain import mapping, policy
from crm_sync.domain.schema import FieldSpec, ObjectSchema
from tests.unit.crm_sync.conftest import conversation

METRICS: dict[str, Any] = {
    "rating": 4,
    "rating_comment": "Kind",
    "wait_s": 42,
    "duration_s": 300,
    "department": "sales",
    "tags": ("pricing", "demo"),
}


def schema(name: str, *specs: FieldSpec) -> ObjectSchema:
    return ObjectSchema(name, {s.name.lower(): s for s in specs})


def rule(target: str, obj: str = "Case", **values: Any) -> FieldMappingRule:
    return FieldMappingRule.model_validate({"object": obj, "target": target, **values})


def test_chat_metrics_map_typed_by_describe() -> None:
    case = schema(
        "Case",
        FieldSpec("Rating__c", "double"),
        FieldSpec("Comment__c", "textarea", length=255),
        FieldSpec("Wait__c", "int"),
        FieldSpec("Duration__c", "int"),
        FieldSpec("Department__c", "string", length=80),
        FieldSpec("Tags__c", "multipicklist", picklist=("Pricing", "Demo")),
        FieldSpec("Tag_Text__c", "string", length=255),
    )
    rules = [
        rule("Rating__c", source="rating"),
        rule("Comment__c", source="rating_comment"),
        rule("Wait__c", source="wait_s"),
        rule("Duration__c", source="duration_s"),
        rule("Department__c", source="department"),
        rule("Tags__c", source="tags"),
        rule("Tag_Text__c", source="tags"),
    ]
    values = mapping.mapped_fields(conversation(**METRICS), rules, case)
    assert values == {
        "Rating__c": 4.0,
        "Comment__c": "Kind",
        "Wait__c": 42,
        "Duration__c": 300,
        "Department__c": "sales",
        "Tags__c": "Pricing;Demo",  # one value per tag, the org's spelling
        "Tag_Text__c": "pricing, demo",
    }


def test_absent_metrics_and_no_tags_leave_their_fields_out() -> None:
    case = schema("Case", FieldSpec("Rating__c", "double"), FieldSpec("Tags__c", "string"))
    rules = [rule("Rating__c", source="rating"), rule("Tags__c", source="tags")]
    dropped: set[str] = set()
    assert mapping.mapped_fields(conversation(), rules, case, dropped) == {}
    assert dropped == set()


LEAD = schema(
    "Lead",
    FieldSpec("LeadSource", "picklist", picklist=("Web", "Chat", "Web - Sales")),
    FieldSpec("Status", "picklist", picklist=("Open - Not Contacted",), restricted=True),
    FieldSpec("Tier__c", "picklist", picklist=("Gold", "Silver"), restricted=True),
    FieldSpec("Seats__c", "int"),
    FieldSpec("Interests__c", "multipicklist", picklist=("Billing", "Sales"), restricted=True),
)


def test_a_constant_is_written_with_no_source_in_the_orgs_spelling() -> None:
    rules = [
        rule("LeadSource", "Lead", value="chat"),
        rule("Status", "Lead", value="Open - Not Contacted"),
        rule("Seats__c", "Lead", value="12"),
    ]
    values = mapping.mapped_fields(conversation(), rules, LEAD)
    assert values == {"LeadSource": "Chat", "Status": "Open - Not Contacted", "Seats__c": 12}


def test_a_constant_the_field_cannot_hold_is_left_out_and_reported() -> None:
    rules = [rule("Tier__c", "Lead", value="Platinum"), rule("Seats__c", "Lead", value="many")]
    dropped: set[str] = set()
    assert mapping.mapped_fields(conversation(), rules, LEAD, dropped) == {}
    assert dropped == {"Lead.Tier__c", "Lead.Seats__c"}


def test_a_translation_maps_values_any_case_and_unmatched_ones_to_the_default() -> None:
    table = {"sales": "Web - Sales", "Support": "Web"}
    translated = rule("LeadSource", "Lead", source="department", translate=table)
    with_default = rule("Tier__c", "Lead", source="department", translate={}, default="Silver")
    for department, source, tier in (
        ("Sales", "Web - Sales", "Silver"),
        ("support", "Web", "Silver"),
        ("Billing", None, "Silver"),
    ):
        values = mapping.mapped_fields(
            conversation(department=department), [translated, with_default], LEAD
        )
        assert (values.get("LeadSource"), values.get("Tier__c")) == (source, tier), department


def test_an_unmatched_value_without_default_is_left_out_and_not_reported() -> None:
    translated = rule("LeadSource", "Lead", source="department", translate={"sales": "Web"})
    dropped: set[str] = set()
    conv = conversation(department="HR")
    assert mapping.mapped_fields(conv, [translated], LEAD, dropped) == {}
    assert dropped == set()  # the tenant asked for it: nothing was lost by surprise
    assert mapping.mapped_fields(conversation(), [translated], LEAD, dropped) == {}


def test_a_translated_value_outside_a_restricted_picklist_is_reported() -> None:
    translated = rule("Tier__c", "Lead", source="department", translate={"sales": "Platinum"})
    dropped: set[str] = set()
    assert (
        mapping.mapped_fields(conversation(department="sales"), [translated], LEAD, dropped) == {}
    )
    assert dropped == {"Lead.Tier__c"}


def test_tags_are_translated_one_by_one() -> None:
    table = {"refund": "Billing", "invoice": "Billing", "demo": "Sales"}
    tags = rule("Interests__c", "Lead", source="tags", translate=table)
    conv = conversation(tags=("invoice", "refund", "other", "demo"))
    assert mapping.mapped_fields(conv, [tags], LEAD) == {"Interests__c": "Billing;Sales"}


def test_constants_are_for_records_crm_sync_creates_not_for_updates() -> None:
    rules = [rule("LeadSource", "Lead", value="Chat"), rule("Seats__c", "Lead", source="wait_s")]
    offered = policy.offered(conversation(wait_s=3), LEAD, rules)
    assert "LeadSource" not in offered
    assert offered["Seats__c"] == 3
