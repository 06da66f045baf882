"""Schema compatibility, as a schema registry would check it. Pure functions on JSON Schema.

`breaking_changes(old, new)` lists every way data valid under `old` (a committed snapshot)
may be refused under `new`, or a consumer of `old` may miss what it reads:

- a field removed;
- a field's type changed or narrowed: a JSON type dropped, an enum/const value dropped,
  a union member with no counterpart, a format changed, a length/range/pattern tightened,
  an object newly closed to extra keys;
- a required field added, or an optional one made required.

Widening (a new optional field, a new enum value, a looser constraint) is compatible: the
snapshot is then merely outdated. `snapshots.check_snapshots` applies this per model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_UPPER_BOUNDS = ("maxLength", "maxItems", "maxProperties", "maximum", "exclusiveMaximum")
_REF_NAME = "x-compat-ref"  # marks a node resolved from $defs, to stop on recursion
_LOWER_BOUNDS = ("minLength", "minItems", "minProperties", "minimum", "exclusiveMinimum")


@dataclass(frozen=True, slots=True)
class Finding:
    """One incompatibility, at a dotted path of the message (`$` is the message itself)."""

    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


def breaking_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Finding]:
    """Every breaking difference from schema `old` to schema `new` (empty: compatible)."""
    return _Comparer(old, new).compare(old, new, "$")


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if value is None:
        return "null"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _types(node: Mapping[str, Any]) -> set[str] | None:
    """The JSON types a node admits; None when it admits any."""
    if "type" in node:
        declared = node["type"]
        return {declared} if isinstance(declared, str) else set(declared)
    values = _values(node)
    if values is not None:
        return {_json_type(v) for v in values}
    if "properties" in node:
        return {"object"}
    return None


def _values(node: Mapping[str, Any]) -> list[Any] | None:
    if "const" in node:
        return [node["const"]]
    if "enum" in node:
        return list(node["enum"])
    return None


def _type_admitted(old_type: str, new_types: set[str]) -> bool:
    return old_type in new_types or (old_type == "integer" and "number" in new_types)


class _Comparer:
    def __init__(self, old_root: Mapping[str, Any], new_root: Mapping[str, Any]) -> None:
        self._defs = (old_root.get("$defs", {}), new_root.get("$defs", {}))
        self._active: set[tuple[str, str]] = set()

    def _resolve(self, node: Mapping[str, Any], side: int) -> Mapping[str, Any]:
        seen = 0
        while "$ref" in node and seen < 64:
            name = str(node["$ref"]).rsplit("/", 1)[-1]
            rest = {k: v for k, v in node.items() if k != "$ref"}
            node = {**self._defs[side][name], **rest, _REF_NAME: name}
            seen += 1
        return node

    def _alternatives(self, node: Mapping[str, Any], side: int) -> list[Mapping[str, Any]]:
        node = self._resolve(node, side)
        for key in ("anyOf", "oneOf"):
            if key in node:
                return [a for m in node[key] for a in self._alternatives(m, side)]
        return [node]

    def compare(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> list[Finding]:
        """Findings for `old` to `new` at `path`; unions are compared member by member."""
        olds, news = self._alternatives(old, 0), self._alternatives(new, 1)
        findings: list[Finding] = []
        for old_member in olds:
            best: list[Finding] | None = None
            for new_member in self._counterparts(old_member, news):
                found = self._compare_guarded(old_member, new_member, path)
                if best is None or len(found) < len(best):
                    best = found
                if not found:
                    break
            findings.extend(best or [])
        return findings

    def _tags(self, node: Mapping[str, Any], side: int) -> dict[str, list[Any]]:
        """Properties pinned to constants: the discriminators of a tagged union member."""
        props = node.get("properties", {})
        tags = {name: _values(self._resolve(prop, side)) for name, prop in props.items()}
        return {name: values for name, values in tags.items() if values is not None}

    def _counterparts(
        self, old_member: Mapping[str, Any], news: list[Mapping[str, Any]]
    ) -> list[Mapping[str, Any]]:
        """The new members sharing a tag value with `old_member` (all when none does)."""
        old_tags = self._tags(old_member, 0)
        matching = []
        for new_member in news:
            new_tags = self._tags(new_member, 1)
            shared = old_tags.keys() & new_tags.keys()
            if shared and all(any(v in new_tags[k] for v in old_tags[k]) for k in shared):
                matching.append(new_member)
        return matching or news

    def _compare_guarded(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str
    ) -> list[Finding]:
        refs = (str(old.get(_REF_NAME, "")), str(new.get(_REF_NAME, "")))
        if not (refs[0] and refs[1]):
            return self._compare_one(old, new, path)
        if refs in self._active:  # a recursive schema: this pair is already being compared
            return []
        self._active.add(refs)
        try:
            return self._compare_one(old, new, path)
        finally:
            self._active.discard(refs)

    def _compare_one(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str
    ) -> list[Finding]:
        old_types, new_types = _types(old), _types(new)
        if new_types is None:
            return []
        if old_types is None:
            return [Finding(path, f"narrowed from any value to {sorted(new_types)}")]
        lost = sorted(t for t in old_types if not _type_admitted(t, new_types))
        if lost:
            return [Finding(path, f"type changed from {sorted(old_types)} to {sorted(new_types)}")]
        findings = self._compare_values(old, new, path) + self._compare_bounds(old, new, path)
        if "object" in old_types:
            findings += self._compare_objects(old, new, path)
        if "array" in old_types:
            findings += self._compare_arrays(old, new, path)
        return findings

    def _compare_values(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str
    ) -> list[Finding]:
        old_values, new_values = _values(old), _values(new)
        if new_values is None:
            return []
        if old_values is None:
            return [Finding(path, f"narrowed to the values {new_values}")]
        dropped = [v for v in old_values if v not in new_values]
        return [Finding(path, f"values no longer allowed: {dropped}")] if dropped else []

    def _compare_bounds(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str
    ) -> list[Finding]:
        findings = []
        for key in _UPPER_BOUNDS:
            if key in new and (key not in old or new[key] < old[key]):
                findings.append(Finding(path, f"{key} tightened to {new[key]}"))
        for key in _LOWER_BOUNDS:
            if key in new and (key not in old or new[key] > old[key]):
                findings.append(Finding(path, f"{key} tightened to {new[key]}"))
        for key in ("pattern", "format"):
            if key in new and new[key] != old.get(key):
                findings.append(Finding(path, f"{key} changed to {new[key]!r}"))
        return findings

    def _compare_objects(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str
    ) -> list[Finding]:
        findings = []
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        for name, old_prop in old_props.items():
            if name not in new_props:
                findings.append(Finding(f"{path}.{name}", "field removed"))
            else:
                findings += self.compare(old_prop, new_props[name], f"{path}.{name}")
        old_required = set(old.get("required", ()))
        for name in sorted(set(new.get("required", ())) - old_required):
            problem = "field became required" if name in old_props else "new required field"
            findings.append(Finding(f"{path}.{name}", problem))
        old_extra = old.get("additionalProperties", True)
        new_extra = new.get("additionalProperties", True)
        if new_extra is False and old_extra is not False:
            findings.append(Finding(path, "now refuses extra keys"))
        elif isinstance(new_extra, Mapping):
            if isinstance(old_extra, Mapping):
                findings += self.compare(old_extra, new_extra, f"{path}[*]")
            elif old_extra is True:
                findings.append(Finding(f"{path}[*]", "values newly constrained"))
        return findings

    def _compare_arrays(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str
    ) -> list[Finding]:
        findings: list[Finding] = []
        old_prefix, new_prefix = old.get("prefixItems", []), new.get("prefixItems", [])
        for index, old_item in enumerate(old_prefix):
            if index >= len(new_prefix):
                break
            findings += self.compare(old_item, new_prefix[index], f"{path}[{index}]")
        if "items" in new:
            if "items" in old:
                findings += self.compare(old["items"], new["items"], f"{path}[]")
            else:
                findings.append(Finding(f"{path}[]", "items newly constrained"))
        return findings
