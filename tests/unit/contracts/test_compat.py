"""The compatibility check, on synthetic models and hand-written schemas."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from chat_contracts.base import Envelope
from chat_contracts.compat import breaking_changes
from chat_contracts.schemas import model_schema
from chat_contracts.snapshots import check_snapshots, parse_snapshot_name


class Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    x: int


class PartRetyped(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", title="Part")
    x: str


class Base(Envelope):
    schema_version: Literal[1] = 1
    name: str
    colour: Literal["red", "blue"] = "red"
    note: str | None = None
    tags: tuple[str, ...] = ()
    counts: dict[str, int] = Field(default_factory=dict)
    code: Annotated[str, Field(max_length=10)] = "x"
    score: int = 0
    part: Part | None = None


def _old() -> dict[str, Any]:
    return model_schema(Base)


def _findings(model: type[Envelope]) -> list[str]:
    return [str(f) for f in breaking_changes(_old(), model_schema(model))]


def test_identical_schema_is_compatible() -> None:
    assert breaking_changes(_old(), _old()) == []


def test_removed_field_breaks() -> None:
    class Removed(Base):
        pass

    schema = model_schema(Removed)
    del schema["properties"]["note"]
    assert [str(f) for f in breaking_changes(_old(), schema)] == ["$.note: field removed"]


def test_retyped_field_breaks() -> None:
    class Retyped(Base):
        score: str = "0"  # type: ignore[assignment]

    assert any("$.score: type changed" in f for f in _findings(Retyped))


def test_narrowed_literal_breaks_but_widened_is_compatible() -> None:
    class Narrowed(Base):
        colour: Literal["red"] = "red"

    class Widened(Base):
        colour: Literal["red", "blue", "green"] = "red"  # type: ignore[assignment]

    assert _findings(Narrowed) == ["$.colour: values no longer allowed: ['blue']"]
    assert _findings(Widened) == []


def test_new_required_field_breaks_but_new_optional_field_does_not() -> None:
    class NewRequired(Base):
        extra: str

    class NewOptional(Base):
        extra: str = ""

    assert _findings(NewRequired) == ["$.extra: new required field"]
    assert _findings(NewOptional) == []


def test_optional_made_required_or_not_nullable_breaks() -> None:
    class MadeRequired(Base):
        score: int

    class NotNullable(Base):
        note: str = ""

    assert _findings(MadeRequired) == ["$.score: field became required"]
    assert any("$.note: type changed" in f for f in _findings(NotNullable))


def test_nested_list_and_dict_types_are_compared() -> None:
    class NestedRetyped(Base):
        part: PartRetyped | None = None  # type: ignore[assignment]

    class ItemsRetyped(Base):
        tags: tuple[int, ...] = ()  # type: ignore[assignment]

    class ValuesRetyped(Base):
        counts: dict[str, str] = Field(default_factory=dict)  # type: ignore[assignment]

    assert any(f.startswith("$.part.x: type changed") for f in _findings(NestedRetyped))
    assert any(f.startswith("$.tags[]: type changed") for f in _findings(ItemsRetyped))
    assert any(f.startswith("$.counts[*]: type changed") for f in _findings(ValuesRetyped))


def test_integer_to_number_widens_but_number_to_integer_narrows() -> None:
    class Widened(Base):
        score: float = 0  # type: ignore[assignment]

    assert _findings(Widened) == []
    assert breaking_changes(model_schema(Widened), _old())


def test_tightened_constraint_breaks_and_loosened_does_not() -> None:
    class Tighter(Base):
        code: Annotated[str, Field(max_length=5)] = "x"

    class Looser(Base):
        code: Annotated[str, Field(max_length=50)] = "x"

    assert _findings(Tighter) == ["$.code: maxLength tightened to 5"]
    assert _findings(Looser) == []


def test_closing_an_open_object_breaks() -> None:
    old = {"type": "object", "properties": {"a": {"type": "string"}}}
    new = {**old, "additionalProperties": False}
    assert [str(f) for f in breaking_changes(old, new)] == ["$: now refuses extra keys"]
    assert breaking_changes(new, old) == []


def _union(*members: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": list(members), "discriminator": {"propertyName": "kind"}}


def _member(kind: str, **props: str) -> dict[str, Any]:
    properties = {"kind": {"const": kind, "type": "string"}}
    properties |= {name: {"type": t} for name, t in props.items()}
    return {"type": "object", "properties": properties, "required": ["kind", *props]}


def test_union_members_are_matched_by_their_tag() -> None:
    old = _union(_member("a", x="string"), _member("b", y="integer"))
    retyped = _union(_member("a", x="string"), _member("b", y="string"))
    dropped = _union(_member("a", x="string"))
    grown = _union(_member("a", x="string"), _member("b", y="integer"), _member("c"))
    assert [str(f) for f in breaking_changes(old, retyped)] == [
        "$.y: type changed from ['integer'] to ['string']"
    ]
    assert breaking_changes(old, dropped)
    assert breaking_changes(old, grown) == []


def test_refs_resolve_and_recursive_schemas_terminate() -> None:
    node: dict[str, Any] = {
        "type": "object",
        "properties": {"v": {"type": "string"}, "next": {"$ref": "#/$defs/Node"}},
    }
    old = {"$defs": {"Node": node}, "$ref": "#/$defs/Node"}
    new_node = {**node, "properties": {**node["properties"], "v": {"type": "integer"}}}
    new = {"$defs": {"Node": new_node}, "$ref": "#/$defs/Node"}
    assert breaking_changes(old, old) == []
    assert [str(f) for f in breaking_changes(old, new)] == [
        "$.v: type changed from ['string'] to ['integer']"
    ]


class TreeNode(BaseModel):
    label: str
    children: list[TreeNode] = []
    parent: TreeNode | None = None


class Tree(Envelope):
    schema_version: Literal[1] = 1
    root: TreeNode


def test_recursive_pydantic_models_compare_without_looping() -> None:
    schema = model_schema(Tree)
    assert breaking_changes(schema, schema) == []
    retyped = json.loads(json.dumps(schema))
    retyped["$defs"]["TreeNode"]["properties"]["label"] = {"type": "integer"}
    assert [str(f) for f in breaking_changes(schema, retyped)] == [
        "$.root.label: type changed from ['string'] to ['integer']"
    ]


def test_any_to_typed_narrows() -> None:
    assert breaking_changes({}, {"type": "string"})
    assert breaking_changes({"type": "string"}, {}) == []


# check_snapshots: versions, outdated snapshots, removed models


def test_check_is_clean_when_snapshots_match() -> None:
    report = check_snapshots({"Base.v1": _old()}, {"Base.v1": _old()})
    assert report.ok


def test_compatible_addition_reports_outdated_not_pass() -> None:
    class Grown(Base):
        extra: str = ""

    report = check_snapshots({"Base.v1": model_schema(Grown)}, {"Base.v1": _old()})
    assert not report.ok
    assert not report.breaking
    assert report.outdated == ("Base.v1: snapshot outdated: run export",)


def test_description_change_is_outdated_only() -> None:
    changed = _old()
    changed["properties"]["name"]["description"] = "now documented"
    report = check_snapshots({"Base.v1": changed}, {"Base.v1": _old()})
    assert report.outdated
    assert not report.breaking


def test_breaking_change_without_a_version_bump_fails() -> None:
    class Broken(Base):
        name: int  # type: ignore[assignment]

    report = check_snapshots({"Base.v1": model_schema(Broken)}, {"Base.v1": _old()})
    assert report.breaking == (
        "Base.v1: $.name: type changed from ['string'] to ['integer'] (bump schema_version)",
    )


def test_breaking_change_with_a_version_bump_passes_once_exported() -> None:
    class BaseV2(Base):
        schema_version: Literal[2] = 2  # type: ignore[assignment]
        name: int  # type: ignore[assignment]

    current = {"Base.v2": model_schema(BaseV2)}
    before_export = check_snapshots(current, {"Base.v1": _old()})
    assert not before_export.breaking
    assert before_export.outdated == ("Base.v2: no snapshot yet: run export",)
    assert check_snapshots(current, {"Base.v1": _old(), **current}).ok


def test_removed_model_and_version_going_back_break() -> None:
    assert check_snapshots({}, {"Base.v1": _old()}).breaking == (
        "Base.v1: model removed; its consumers break",
    )
    report = check_snapshots({"Base.v1": _old()}, {"Base.v1": _old(), "Base.v2": _old()})
    assert report.breaking == ("Base.v2: schema_version went back to 1",)


def test_snapshot_names() -> None:
    assert parse_snapshot_name("Conversation.v12") == ("Conversation", 12)
    for bad in ("Conversation", "Conversation.v", "Conversation.1", "a.b.v1"):
        with pytest.raises(ValueError, match="snapshot name"):
            parse_snapshot_name(bad)
