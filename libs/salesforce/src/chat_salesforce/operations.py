"""The Salesforce calls services make, over `SalesforceGateway.call`.

Typed helpers for the REST resources the services use: SOQL (one page or all pages),
describe, single-record create and update, and any other resource (`restful`: sObject
Collections, Composite) for batching callers such as crm-sync.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from simple_salesforce.api import Salesforce, SFType

T = TypeVar("T")
SalesforceCall = Callable[[Salesforce], T]


def sobject(sf: Salesforce, name: str) -> SFType:
    """`sf.<name>` for an sObject name (simple-salesforce types the attribute as a union
    with its bulk handlers, which only `bulk` and `bulk2` return)."""
    handler = getattr(sf, name)
    if not isinstance(handler, SFType):
        raise TypeError(f"{name} is not an sObject handler")
    return handler


class SalesforceOperations:
    """The typed calls; `call` is the gateway's (token, thread pool, retries, metrics)."""

    async def call(
        self, tenant_id: str, operation: str, fn: SalesforceCall[T], *, retry: bool = True
    ) -> T:
        """Run `fn(client)` for the tenant (implemented by `SalesforceGateway`)."""
        raise NotImplementedError

    async def query(self, tenant_id: str, soql: str) -> dict[str, Any]:
        """One page of a SOQL query: `{"totalSize", "done", "records", ...}`."""
        result: dict[str, Any] = await self.call(tenant_id, "query", lambda sf: sf.query(soql))
        return result

    async def query_all(self, tenant_id: str, soql: str) -> list[dict[str, Any]]:
        """Every record of a SOQL query, following `nextRecordsUrl` pages."""
        result = await self.call(tenant_id, "query", lambda sf: sf.query_all(soql))
        return list(result["records"])

    async def describe_global(self, tenant_id: str) -> dict[str, Any]:
        """`GET /sobjects`: the org's objects."""
        return dict(await self.call(tenant_id, "describe", lambda sf: sf.describe() or {}))

    async def describe(self, tenant_id: str, sobject_name: str) -> dict[str, Any]:
        """`GET /sobjects/{name}/describe`: one object's fields."""
        result = await self.call(
            tenant_id, "describe", lambda sf: sobject(sf, sobject_name).describe()
        )
        return dict(result)

    async def create(
        self,
        tenant_id: str,
        sobject_name: str,
        fields: Mapping[str, Any],
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """Create one record; returns its id. Not retried on transient errors."""
        result = await self.call(
            tenant_id,
            "create",
            lambda sf: sobject(sf, sobject_name).create(dict(fields), headers=dict(headers or {})),
            retry=False,
        )
        return str(result["id"])

    async def update(
        self,
        tenant_id: str,
        sobject_name: str,
        record_id: str,
        fields: Mapping[str, Any],
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Update one record (idempotent, so transient errors are retried)."""
        await self.call(
            tenant_id,
            "update",
            lambda sf: sobject(sf, sobject_name).update(
                record_id, dict(fields), headers=dict(headers or {})
            ),
        )

    async def restful(
        self,
        tenant_id: str,
        path: str,
        *,
        method: str = "GET",
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        operation: str = "rest",
        retry: bool | None = None,
    ) -> Any:
        """Any REST resource under `/services/data/vXX.X/` (sObject Collections, composite).
        Retried on transient errors for GET only unless `retry` says otherwise."""
        kwargs: dict[str, Any] = {"method": method, "params": dict(params) if params else None}
        if json is not None:
            kwargs["json"] = json
        again = method.upper() == "GET" if retry is None else retry
        return await self.call(
            tenant_id, operation, lambda sf: sf.restful(path, **kwargs), retry=again
        )
