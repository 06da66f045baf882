"""The Salesforce calls services make, over `SalesforceGateway.rest`.

Typed helpers for the REST resources the services use: SOQL (one page or all pages),
describe, single-record create and update, and any other resource (`restful`: sObject
Collections, Composite) for batching callers such as crm-sync. Paths are relative to
`/services/data/vXX.X/`, as in simple-salesforce's `restful`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote as quote_path


class SalesforceOperations:
    """The typed calls; `rest` is the gateway's (token, HTTP, retries, metrics)."""

    async def rest(
        self,
        tenant_id: str,
        operation: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        retry: bool = True,
    ) -> Any:
        """One REST call for the tenant; its JSON answer (implemented by the gateway)."""
        raise NotImplementedError

    async def query(self, tenant_id: str, soql: str) -> dict[str, Any]:
        """One page of a SOQL query: `{"totalSize", "done", "records", ...}`."""
        return dict(await self.rest(tenant_id, "query", "GET", "query/", params={"q": soql}))

    async def query_all(self, tenant_id: str, soql: str) -> list[dict[str, Any]]:
        """Every record of a SOQL query, following `nextRecordsUrl` pages."""
        page = await self.query(tenant_id, soql)
        records = list(page.get("records", ()))
        while not page.get("done", True) and page.get("nextRecordsUrl"):
            page = dict(await self.rest(tenant_id, "query", "GET", str(page["nextRecordsUrl"])))
            records += page.get("records", ())
        return records

    async def describe_global(self, tenant_id: str) -> dict[str, Any]:
        """`GET /sobjects`: the org's objects."""
        return dict(await self.rest(tenant_id, "describe", "GET", "sobjects/") or {})

    async def describe(self, tenant_id: str, sobject_name: str) -> dict[str, Any]:
        """`GET /sobjects/{name}/describe`: one object's fields."""
        path = f"sobjects/{_segment(sobject_name)}/describe/"
        return dict(await self.rest(tenant_id, "describe", "GET", path))

    async def create(
        self,
        tenant_id: str,
        sobject_name: str,
        fields: Mapping[str, Any],
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """Create one record; returns its id. Not retried on transient errors."""
        result = await self.rest(
            tenant_id,
            "create",
            "POST",
            f"sobjects/{_segment(sobject_name)}/",
            json=dict(fields),
            headers=headers,
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
        await self.rest(
            tenant_id,
            "update",
            "PATCH",
            f"sobjects/{_segment(sobject_name)}/{_segment(record_id)}",
            json=dict(fields),
            headers=headers,
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
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Any REST resource under `/services/data/vXX.X/` (sObject Collections, composite).
        Retried on transient errors for GET only unless `retry` says otherwise."""
        again = method.upper() == "GET" if retry is None else retry
        query = {k: str(v) for k, v in params.items()} if params else None
        return await self.rest(
            tenant_id,
            operation,
            method.upper(),
            path,
            params=query,
            json=json,
            headers=headers,
            retry=again,
        )


def _segment(name: str) -> str:
    """An sObject name or record id as one URL path segment (never a way out of it)."""
    return quote_path(name, safe="")
