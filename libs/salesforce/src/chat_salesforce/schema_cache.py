"""Describe results cached per tenant, so names are checked without a call each time.

Entries live `ttl_s`; a lookup that misses (an object or field created in Salesforce after
the entry was cached) refetches once if the entry is older than `refresh_on_miss_s`, so a
new custom field is usable within seconds while a typo costs at most one call per period.
Concurrent loads of one entry share a single call. Tenants never share entries.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from chat_runtime.single_flight import SingleFlight
from chat_salesforce.errors import InvalidType
from chat_salesforce.schema import (
    ObjectSchema,
    ObjectSummary,
    parse_describe,
    parse_describe_global,
)


class Describer(Protocol):
    """The gateway calls the cache needs."""

    async def describe_global(self, tenant_id: str) -> dict[str, Any]: ...

    async def describe(self, tenant_id: str, sobject_name: str) -> dict[str, Any]: ...


class SchemaCache:
    """`await cache.describe(tenant, "lead")` -> the canonical `ObjectSchema` of Lead."""

    def __init__(
        self,
        describer: Describer,
        *,
        ttl_s: float = 600.0,
        refresh_on_miss_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._describer = describer
        self._ttl_s = ttl_s
        self._refresh_on_miss_s = refresh_on_miss_s
        self._clock = clock
        self._objects: dict[str, tuple[float, dict[str, ObjectSummary]]] = {}
        self._schemas: dict[tuple[str, str], tuple[float, ObjectSchema]] = {}
        self._flights: SingleFlight[tuple[str, str], Any] = SingleFlight()

    async def objects(self, tenant_id: str) -> tuple[ObjectSummary, ...]:
        """The org's objects, sorted by name."""
        return tuple((await self._object_map(tenant_id, None)).values())

    async def find_object(self, tenant_id: str, name: str) -> ObjectSummary | None:
        """The object called `name` (any case), or None when the org has none."""
        return (await self._object_map(tenant_id, name)).get(name.lower())

    async def describe(
        self, tenant_id: str, name: str, *, expect_paths: Iterable[str] = ()
    ) -> ObjectSchema:
        """The object's schema; raises `InvalidType` for an object the org does not have.
        `expect_paths` that the cached entry lacks trigger one refetch (see module doc)."""
        summary = await self.find_object(tenant_id, name)
        if summary is None:
            raise InvalidType("INVALID_TYPE", f"sObject type '{name}' is not supported")
        key = (tenant_id, summary.name)
        entry = self._schemas.get(key)
        paths = tuple(expect_paths)
        if entry is not None and self._fresh(entry[0], missing=_lacks(entry[1], paths)):
            return entry[1]
        schema: ObjectSchema = await self._flights.run(
            key, lambda: self._load_schema(tenant_id, summary.name)
        )
        return schema

    def forget(self, tenant_id: str) -> None:
        """Drop everything cached for the tenant."""
        self._objects.pop(tenant_id, None)
        for key in [k for k in self._schemas if k[0] == tenant_id]:
            del self._schemas[key]

    def _fresh(self, fetched_at: float, *, missing: bool) -> bool:
        age = self._clock() - fetched_at
        return age < (self._refresh_on_miss_s if missing else self._ttl_s)

    async def _object_map(self, tenant_id: str, expect: str | None) -> dict[str, ObjectSummary]:
        entry = self._objects.get(tenant_id)
        missing = expect is not None and entry is not None and expect.lower() not in entry[1]
        if entry is not None and self._fresh(entry[0], missing=missing):
            return entry[1]
        objects: dict[str, ObjectSummary] = await self._flights.run(
            (tenant_id, ""), lambda: self._load_objects(tenant_id)
        )
        return objects

    async def _load_objects(self, tenant_id: str) -> dict[str, ObjectSummary]:
        raw = await self._describer.describe_global(tenant_id)
        objects = {o.name.lower(): o for o in parse_describe_global(raw)}
        self._objects[tenant_id] = (self._clock(), objects)
        return objects

    async def _load_schema(self, tenant_id: str, name: str) -> ObjectSchema:
        schema = parse_describe(await self._describer.describe(tenant_id, name))
        self._schemas[(tenant_id, name)] = (self._clock(), schema)
        return schema


def _lacks(schema: ObjectSchema, paths: tuple[str, ...]) -> bool:
    return any(not schema.has_path(p) for p in paths)
