"""`tenant.settings.v1` (compacted, key `keys.tenant_key`): how crm-sync treats a tenant.

The latest value per tenant is the tenant's settings; every replica reads the whole topic
at start. A tombstone (null value) removes the tenant: crm-sync then stops syncing it.
auth's settings page validates a mapping against the org's describe before writing it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Literal, TypeAlias

from pydantic import Field, field_validator, model_validator

from chat_contracts.base import ContractModel, Envelope, FieldName, NonEmptyStr, SalesforceId

Mode: TypeAlias = Literal["sales", "support"]
"""Sales: visitors are Leads, chats are Tasks. Support: Contacts and Cases."""
CrmObject: TypeAlias = Literal["Lead", "Contact", "Case", "Task"]
PersonObject: TypeAlias = Literal["Lead", "Contact"]
ActivityObject: TypeAlias = Literal["Task", "Case"]


class UpdatePolicy(StrEnum):
    """What to do with an existing Lead/Contact that a chat matches (the seed's options)."""

    DO_NOT_UPDATE = "do_not_update"
    UPDATE_FROM_CHAT = "update_from_chat"
    FILL_EMPTY_ONLY = "fill_empty_only"


MAPPABLE_SOURCE_FIELDS: Final = frozenset(
    {
        "kind",
        "chat_id",
        "subject",
        "transcript",
        "notes",
        "request_page",
        "started_at",
        "ended_at",
        "visitor.visitor_id",
        "visitor.first_name",
        "visitor.last_name",
        "visitor.email",
        "visitor.phone_e164",
        "visitor.phone_raw",
        "visitor.company",
        "agent.email",
        "agent.name",
        "rating",
        "rating_comment",
        "wait_s",
        "duration_s",
        "department",
        "tags",
    }
)
"""Conversation fields a mapping may read; `custom_fields.<name>` and
`custom_variables.<name>` are accepted as well."""
MAPPABLE_SOURCE_PREFIXES: Final = ("custom_fields.", "custom_variables.")


def is_mappable_source(source: str) -> bool:
    """True when `source` names a conversation field a field mapping may read."""
    if source in MAPPABLE_SOURCE_FIELDS:
        return True
    return any(source.startswith(p) and len(source) > len(p) for p in MAPPABLE_SOURCE_PREFIXES)


class FieldMappingRule(ContractModel):
    """Write one conversation field into one Salesforce field (custom `__c` fields too)."""

    object: CrmObject = Field(examples=["Lead"])
    source: NonEmptyStr = Field(
        description="Conversation field, dotted; see MAPPABLE_SOURCE_FIELDS.",
        examples=["custom_fields.Order Number"],
    )
    target: FieldName = Field(examples=["Order_Number__c"])

    @field_validator("source")
    @classmethod
    def _known_source(cls, source: str) -> str:
        if not is_mappable_source(source):
            raise ValueError(f"{source!r} is not a mappable conversation field")
        return source


class TenantSettings(Envelope):
    """`tenant.settings.v1` value: one tenant's whole settings (not a patch)."""

    schema_version: Literal[1] = 1
    mode: Mode = Field("sales", examples=["sales"])
    auto_sync: bool = Field(
        True, description="Write every chat automatically; off = manual create only."
    )
    update_policy: UpdatePolicy = Field(UpdatePolicy.DO_NOT_UPDATE, examples=["fill_empty_only"])
    company_placeholder: str = Field(
        "[not provided]",
        min_length=1,
        max_length=255,
        description="Lead.Company when the visitor gave none (Salesforce requires it).",
    )
    match_by_phone: bool = Field(False, description="With no email, match on the normalised phone.")
    default_phone_region: str = Field(
        "US", pattern=r"^[A-Z]{2}$", description="ISO region for numbers without +country."
    )
    field_mapping: tuple[FieldMappingRule, ...] = Field(
        (), description="Extra fields to write, beyond the seed's standard table."
    )
    match_owner_by_agent_email: bool = Field(
        True, description="Owner = active User with the agent's email, when there is one."
    )
    owner_fallback_user_id: SalesforceId | None = Field(
        None,
        description="Owner when no User matches; null = the user who connected the org.",
        examples=["0055g00000AbCdEAAV"],
    )
    use_assignment_rules: bool = Field(
        False,
        description=(
            "Let the org's active Lead/Case assignment rules pick the owner of what crm-sync "
            "creates or updates; false sends `Sforce-Auto-Assign: FALSE` (the owner rules "
            "above decide)."
        ),
    )
    case_origin: NonEmptyStr = Field("Chat", description="Case.Origin in support mode.")
    task_status: NonEmptyStr = Field("Completed", description="Task.Status of a chat's Task.")
    attach_full_transcript: bool = Field(
        True, description="Attach the whole transcript as a file when the field cuts it."
    )
    batch_linger_ms: int = Field(
        50, ge=0, le=5_000, description="How long a batch waits for more chats."
    )
    batch_max_size: int = Field(200, ge=1, le=200, description="Chats per Salesforce batch.")
    api_budget_share: float = Field(
        0.8,
        gt=0,
        le=1,
        description="Slow the tenant down above this share of the org's daily API budget.",
    )
    updated_by: str | None = Field(None, examples=["admin@acme.test"])

    @model_validator(mode="after")
    def _one_source_per_target(self) -> TenantSettings:
        seen: set[tuple[str, str]] = set()
        for rule in self.field_mapping:
            target = (rule.object, rule.target.lower())
            if target in seen:
                raise ValueError(f"{rule.object}.{rule.target} is mapped twice")
            seen.add(target)
        return self
