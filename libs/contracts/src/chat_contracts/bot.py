"""`bot.actions.v1` requests: the chatbot's Salesforce actions (issue 7), told apart by `action`.

Callers send only the documented keys: the envelope's `schema_version`, `message_id` and
`occurred_at` have defaults. Headers (not modelled here): `reply_to`, `correlation_id`,
optional `deadline` (epoch milliseconds). Values and SOQL may hold `{!Name}` placeholders
resolved from `variables`; bot-actions renders them as escaped SOQL literals.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from pydantic import Field, model_validator

from chat_contracts.base import (
    ContractModel,
    Envelope,
    FieldName,
    FieldPath,
    JsonScalar,
    NonEmptyStr,
    SObjectName,
)

Variables: TypeAlias = dict[str, JsonScalar]


def _variables() -> Any:
    return Field(
        default_factory=dict,
        description="Dynamic Info: placeholder name to value (e.g. `Visitor.Email`).",
        examples=[{"Visitor.Email": "jo@example.com"}],
    )


def _save() -> Any:
    return Field(
        default_factory=dict,
        description="Salesforce field of the found record to the bot variable it is saved in.",
        examples=[{"Id": "lead_id", "Company": "company"}],
    )


class _BotRequest(Envelope):
    schema_version: Literal[1] = 1


class UpdateIfExists(ContractModel):
    """Update the record whose `match_field` equals the new value instead of creating one."""

    match_field: FieldName = Field(examples=["Email"])


class CreateRecordRequest(_BotRequest):
    """Create a record (or update the existing one) and return its id."""

    action: Literal["create_record"] = "create_record"
    object: SObjectName = Field(examples=["Lead"])
    fields: dict[str, JsonScalar] = Field(
        description="Field to value; values may hold placeholders.",
        examples=[{"LastName": "{!Visitor.Name}", "Email": "{!Visitor.Email}", "Company": "n/a"}],
    )
    variables: Variables = _variables()
    update_if_exists: UpdateIfExists | None = None


class FindRecordRequest(_BotRequest):
    """Find the first record whose `field` equals `value`; save some of its fields."""

    action: Literal["find_record"] = "find_record"
    object: SObjectName = Field(examples=["Contact"])
    field: FieldName = Field(examples=["Email"])
    value: str = Field(examples=["{!Visitor.Email}"])
    variables: Variables = _variables()
    save: dict[FieldPath, NonEmptyStr] = _save()


class FindRecordBySoqlRequest(_BotRequest):
    """Run a SOQL query (placeholders escaped as literals); save fields of the first row."""

    action: Literal["find_record_by_soql"] = "find_record_by_soql"
    soql: NonEmptyStr = Field(
        examples=['SELECT Id FROM Case WHERE Contact.Email = "{!Visitor.Email}"'],
    )
    variables: Variables = _variables()
    save: dict[FieldPath, NonEmptyStr] = _save()


class ListObjectsRequest(_BotRequest):
    """List the org's objects (the flow builder's object drop-down)."""

    action: Literal["list_objects"] = "list_objects"


class DescribeObjectRequest(_BotRequest):
    """Describe one object's fields, the required ones marked."""

    action: Literal["describe_object"] = "describe_object"
    object: SObjectName = Field(examples=["Lead"])


class LookupVisitorRequest(_BotRequest):
    """Who the visitor is in Salesforce (the agent console's "identify visitor"): the Contact
    whose email or phone matches, else the unconverted Lead, in one Salesforce call."""

    action: Literal["lookup_visitor"] = "lookup_visitor"
    email: str | None = Field(
        None,
        description="The visitor's email; may be a placeholder.",
        examples=["{!Visitor.Email}"],
    )
    phone: str | None = Field(
        None,
        description="The visitor's phone as typed; matched in E.164, international and "
        "national form.",
        examples=["+44 20 7946 0958"],
    )
    phone_region: str | None = Field(
        None,
        pattern=r"^[A-Z]{2}$",
        description="ISO 3166 region of a phone written without its country code.",
        examples=["GB"],
    )
    variables: Variables = _variables()

    @model_validator(mode="after")
    def _email_or_phone(self) -> LookupVisitorRequest:
        if not (self.email or self.phone):
            raise ValueError("lookup_visitor needs an email or a phone")
        return self


BotActionRequest: TypeAlias = Annotated[
    CreateRecordRequest
    | FindRecordRequest
    | FindRecordBySoqlRequest
    | ListObjectsRequest
    | DescribeObjectRequest
    | LookupVisitorRequest,
    Field(discriminator="action"),
]
"""`bot.actions.v1` value. Key: `keys.tenant_key`."""
