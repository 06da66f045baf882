"""The permission check's verdict from describeGlobal."""

from __future__ import annotations

from typing import Any

from auth_service.domain.permissions import describe_missing, missing_permissions


def describe(**overrides: dict[str, Any]) -> dict[str, Any]:
    objects = []
    for name in ("Account", "Contact", "Lead", "Case", "Task", "User"):
        entry = {"name": name, "queryable": True, "createable": True, "updateable": True}
        entry.update(overrides.get(name, {}))
        objects.append(entry)
    return {"sobjects": objects}


def test_everything_allowed_means_nothing_missing() -> None:
    assert missing_permissions(describe()) == ()


def test_missing_operations_are_reported_by_object_and_operation() -> None:
    missing = missing_permissions(
        describe(Case={"createable": False, "updateable": False}, Lead={"queryable": False})
    )
    assert describe_missing(missing) == {"Lead": ["query"], "Case": ["create", "update"]}


def test_an_object_the_user_cannot_see_misses_everything() -> None:
    body = describe()
    body["sobjects"] = [o for o in body["sobjects"] if o["name"] != "Task"]
    assert describe_missing(missing_permissions(body)) == {"Task": ["query", "create", "update"]}


def test_objects_not_needed_do_not_matter() -> None:
    assert missing_permissions(describe(User={"createable": False})) == ()


def test_a_malformed_describe_misses_everything_rather_than_passing() -> None:
    assert len(missing_permissions({"sobjects": ["junk"]})) == 15
