"""The permission check the product asks admins to do by hand, from describe.

`GET /services/data/vXX.X/sobjects/` (describeGlobal) answers, for the connected user,
whether each object is queryable, createable and updateable: one API call covers all of
Account, Contact, Lead, Case and Task.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

from chat_contracts.auth_events import CheckedObject, MissingPermission, Operation

CHECKED_OBJECTS: tuple[CheckedObject, ...] = get_args(CheckedObject)
DESCRIBE_FLAG: dict[Operation, str] = {
    "query": "queryable",
    "create": "createable",
    "update": "updateable",
}


def missing_permissions(describe_global: Mapping[str, Any]) -> tuple[MissingPermission, ...]:
    """What the connected user may not do, by object and operation (empty: all allowed).

    An object absent from describe (no access to it at all) misses every operation.
    """
    described = {
        str(entry.get("name")): entry
        for entry in describe_global.get("sobjects", ())
        if isinstance(entry, Mapping)
    }
    missing = []
    for name in CHECKED_OBJECTS:
        entry = described.get(name, {})
        for operation, flag in DESCRIBE_FLAG.items():
            if entry.get(flag) is not True:
                missing.append(MissingPermission(object=name, operation=operation))
    return tuple(missing)


def describe_missing(missing: tuple[MissingPermission, ...]) -> dict[str, list[str]]:
    """`{"Case": ["create", "update"], ...}`, for pages and logs."""
    by_object: dict[str, list[str]] = {}
    for item in missing:
        by_object.setdefault(item.object, []).append(item.operation)
    return by_object
