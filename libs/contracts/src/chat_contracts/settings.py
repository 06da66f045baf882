"""`tenant.settings.v1` (compacted, key `keys.tenant_key`): how crm-sync treats a tenant.

The latest value per tenant is the tenant's settings; every replica reads the whole topic
at start. A tombstone (null value) removes the tenant: crm-sync then stops syncing it.
auth's settings page validates a mapping against the org's describe before writing it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Final, Literal, TypeAlias

from pydantic import BeforeValidator, Field, field_validator, model_validator

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


class AccountLinking(StrEnum):
    """Support mode: which Account a new Contact joins (a Contact without one is private to
    its owner in most orgs)."""

    NONE = "none"
    COMPANY_NAME = "company_name"
    """The Account whose Name is the visitor's company (case aside)."""
    EMAIL_DOMAIN = "email_domain"
    """The Account whose Website is the visitor's email domain (never a free-mail one)."""


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


UTM_CAMPAIGN: Final = "request_page.utm_campaign"
"""A campaign source: the `utm_campaign` parameter of the page the chat started on."""


class CampaignRule(ContractModel):
    """Make each visitor a member (`CampaignMember`) of the chat's campaign, once per person
    and campaign."""

    source: NonEmptyStr = Field(
        UTM_CAMPAIGN,
        description=(
            "Where the chat's campaign is: `request_page.utm_campaign`, or a mappable "
            "conversation field such as `custom_variables.campaign_id`."
        ),
        examples=["custom_variables.campaign_id"],
    )
    match: Literal["id", "name"] = Field(
        "name", description="The value is the Campaign's Id, or its Name (any case)."
    )
    member_status: NonEmptyStr | None = Field(
        None, description="CampaignMember.Status; null: the campaign's default."
    )

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        if value != UTM_CAMPAIGN and not is_mappable_source(value):
            raise ValueError(f"{value!r} is not a campaign source")
        return value


MappedText: TypeAlias = Annotated[str, Field(min_length=1, max_length=4_000)]
"""A constant or translated value, as text; crm-sync types it by the target field."""


def _as_text(value: object) -> object:
    # JSON clients write `true` or `5` for a checkbox or a number field: keep their text.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


class FieldMappingRule(ContractModel):
    """Write one value into one Salesforce field (custom `__c` fields too): a conversation
    field (`source`, optionally translated value by value) or a constant (`value`).

    Constants are written on the records crm-sync creates, never on updates. A translated
    value not in `translate` becomes `default`, or is left out when there is none.
    """

    object: CrmObject = Field(examples=["Lead"])
    source: NonEmptyStr | None = Field(
        None,
        description="Conversation field, dotted; see MAPPABLE_SOURCE_FIELDS. Null: `value`.",
        examples=["custom_fields.Order Number"],
    )
    target: FieldName = Field(examples=["Order_Number__c"])
    value: Annotated[MappedText | None, BeforeValidator(_as_text)] = Field(
        None,
        description="A constant written instead of a source (typed by the target field).",
        examples=["Chat"],
    )
    translate: dict[MappedText, MappedText] | None = Field(
        None,
        description=(
            "Source value (any case) to the value written; each of several values (tags) "
            "on its own."
        ),
        examples=[{"sales": "Web - Sales", "support": "Web - Support"}],
    )
    default: MappedText | None = Field(
        None,
        description="Written for a value `translate` does not name; null: leave it out.",
        examples=["Web"],
    )

    @field_validator("source")
    @classmethod
    def _known_source(cls, source: str | None) -> str | None:
        if source is not None and not is_mappable_source(source):
            raise ValueError(f"{source!r} is not a mappable conversation field")
        return source

    @field_validator("translate")
    @classmethod
    def _distinct_keys(cls, table: dict[str, str] | None) -> dict[str, str] | None:
        seen: set[str] = set()
        for key in table or {}:
            folded = key.strip().casefold()
            if folded in seen:
                raise ValueError(f"{key!r} is translated twice (values compare in any case)")
            seen.add(folded)
        return table

    @model_validator(mode="after")
    def _source_or_value(self) -> FieldMappingRule:
        if self.source is None and self.value is None:
            raise ValueError("a rule needs a source or a constant value")
        if self.source is not None and self.value is not None:
            raise ValueError("a rule takes a source or a constant value, not both")
        if self.translate is not None and self.source is None:
            raise ValueError("only a source is translated, not a constant")
        if self.default is not None and self.translate is None:
            raise ValueError("a default is used only with a translation")
        return self


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
    account_linking: AccountLinking = Field(
        AccountLinking.COMPANY_NAME,
        description="Support mode: the Account a new Contact joins, found by company or domain.",
    )
    create_account: bool = Field(
        False, description="Support mode: create that Account when none is found."
    )
    campaign: CampaignRule | None = Field(
        None, description="Campaign membership from the chat's campaign; null: none."
    )
    sales_match_contacts: bool = Field(
        True,
        description=(
            "Sales mode: a visitor who is already a Contact (an existing customer) gets the "
            "chat's Task on that Contact, and no Lead is created."
        ),
    )
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
