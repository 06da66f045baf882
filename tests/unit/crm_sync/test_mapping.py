"""The tenant's field mapping: chat metrics as sources, constants and translations, each
typed by describe and checked against restricted picklists like any mapped value."""

from __future__ import annotations

from typing import Any

from chat_contracts.settings import FieldMappingRule
from crm_sync.domain import mapping
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
