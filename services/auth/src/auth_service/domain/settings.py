"""Tenant settings checked against the connected org's describe, before they are written.

Pure: `objects_to_describe` says which sObject describes a settings value needs, and
`problems_with` compares the value with those describes (`GET /sobjects/{Obj}/describe`
bodies; `None` for an object the org does not have or the user cannot see).

What the mode writes: sales creates Leads and Tasks, support Contacts and Cases; an
update policy other than "do not update" also updates the Lead or Contact. A field
mapping target must exist on its object and be createable, and updateable as well when
the policy updates a Lead or Contact it maps into (a constant: createable only, it is
never updated); a constant or translated value must fit the field (`mapping_values`).
Custom `__c` fields are looked up exactly as standard ones (names compare
case-insensitively, as Salesforce does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from auth_service.domain.mapping_values import fixed_values, value_problem
from chat_contracts.settings import CrmObject, Mode, TenantSettings, UpdatePolicy

PERSON: dict[Mode, CrmObject] = {"sales": "Lead", "support": "Contact"}
ACTIVITY: dict[Mode, CrmObject] = {"sales": "Task", "support": "Case"}

Describe = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SettingsProblem:
    """One reason a settings value cannot be saved: where (`field`, a dotted path into
    the settings body) and why, for people."""

    field: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


def updates_person(settings: TenantSettings) -> bool:
    return settings.update_policy is not UpdatePolicy.DO_NOT_UPDATE


def objects_to_describe(settings: TenantSettings) -> tuple[CrmObject, ...]:
    """The objects whose describe the check needs, in a stable order, each once."""
    wanted: list[CrmObject] = [PERSON[settings.mode], ACTIVITY[settings.mode]]
    for rule in settings.field_mapping:
        if rule.object not in wanted:
            wanted.append(rule.object)
    return tuple(wanted)


def problems_with(
    settings: TenantSettings, describes: Mapping[str, Describe | None]
) -> tuple[SettingsProblem, ...]:
    """Everything in `settings` the org cannot take (empty: it can be saved)."""
    problems: list[SettingsProblem] = []
    person, activity = PERSON[settings.mode], ACTIVITY[settings.mode]
    needs: list[tuple[CrmObject, str]] = [(person, "createable"), (activity, "createable")]
    if updates_person(settings):
        needs.append((person, "updateable"))
    for name, flag in needs:
        describe = describes.get(name)
        if describe is None:
            problems.append(
                SettingsProblem("mode", f"{name} is not available to the connected user")
            )
        elif describe.get(flag) is not True:
            problems.append(
                SettingsProblem(
                    "update_policy" if flag == "updateable" else "mode",
                    f"the connected user cannot {_verb(flag)} {name} records",
                )
            )
    for index, rule in enumerate(settings.field_mapping):
        where = f"field_mapping.{index}.target"
        describe = describes.get(rule.object)
        if describe is None:
            problems.append(
                SettingsProblem(
                    f"field_mapping.{index}.object",
                    f"{rule.object} is not available to the connected user",
                )
            )
            continue
        field = _field(describe, rule.target)
        if field is None:
            problems.append(
                SettingsProblem(where, f"{rule.object}.{rule.target} does not exist in the org")
            )
            continue
        flags = ["createable"]
        # A constant is written on create only; a sourced value on updates too.
        if rule.object == person and updates_person(settings) and rule.value is None:
            flags.append("updateable")
        lacking = [flag for flag in flags if field.get(flag) is not True]
        if lacking:
            name = field.get("name", rule.target)
            problems.append(
                SettingsProblem(where, f"{rule.object}.{name} is not {' or '.join(lacking)}")
            )
        for at, value in fixed_values(rule, index):
            message = value_problem(rule.object, field, value, describe)
            if message is not None:
                problems.append(SettingsProblem(at, message))
    return tuple(problems)


def _field(describe: Describe, name: str) -> Mapping[str, Any] | None:
    wanted = name.lower()
    for field in describe.get("fields", ()):
        if isinstance(field, Mapping) and str(field.get("name", "")).lower() == wanted:
            return field
    return None


def _verb(flag: str) -> str:
    return "create" if flag == "createable" else "update"


def parse_settings(
    tenant_id: str, body: object, *, updated_by: str | None = None
) -> TenantSettings | tuple[SettingsProblem, ...]:
    """The settings a request body asks for, checked by the contract, or its problems.

    The tenant comes from the (authorised) request, never from the body: a body naming
    another tenant is refused. Envelope fields of the body are ignored.
    """
    if not isinstance(body, Mapping):
        return (SettingsProblem("", "the body must be a JSON object of settings"),)
    values = {k: v for k, v in body.items() if k not in _ENVELOPE}
    given = body.get("tenant_id", tenant_id)
    if given != tenant_id:
        return (SettingsProblem("tenant_id", "the body is for another tenant"),)
    if updated_by is not None and not values.get("updated_by"):
        values["updated_by"] = updated_by
    try:
        return TenantSettings.model_validate({**values, "tenant_id": tenant_id})
    except ValidationError as exc:
        return tuple(
            SettingsProblem(".".join(str(p) for p in error["loc"]), error["msg"])
            for error in exc.errors(include_url=False)
        )


_ENVELOPE = frozenset({"tenant_id", "message_id", "occurred_at", "schema_version"})
