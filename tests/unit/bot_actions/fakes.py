"""An in-memory Salesforce for the handlers: objects, describe, records, a tiny query."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Iterable, Mapping
from typing import Any

from bot_actions.adapters.salesforce import as_action_error
from chat_contracts.base import JsonScalar
from chat_salesforce import InvalidType, ObjectSchema, ObjectSummary
from chat_salesforce.schema import parse_describe

_FIELD = {"nillable": True, "createable": True, "updateable": True, "type": "string"}
LEAD = parse_describe(
    {
        "name": "Lead",
        "label": "Lead",
        "createable": True,
        "updateable": True,
        "fields": [
            {**_FIELD, "name": "Id", "createable": False, "updateable": False, "type": "id"},
            {**_FIELD, "name": "CreatedDate", "createable": False, "type": "datetime"},
            {**_FIELD, "name": "LastName", "nillable": False},
            {**_FIELD, "name": "Company", "nillable": False},
            {**_FIELD, "name": "Email", "type": "email"},
            {**_FIELD, "name": "NumberOfEmployees", "type": "int"},
            {**_FIELD, "name": "Status", "nillable": False, "defaultedOnCreate": True},
            {**_FIELD, "name": "Description", "type": "textarea", "filterable": False},
            {**_FIELD, "name": "Source__c", "updateable": False},
            {**_FIELD, "name": "OwnerId", "relationshipName": "Owner", "type": "reference"},
            {**_FIELD, "name": "IsConverted", "createable": False, "type": "boolean"},
        ],
    }
)
_WHERE = re.compile(r"WHERE (\w+) = '((?:\\.|[^'\\])*)'")


class FakeSalesforce:
    """`SalesforcePort` in memory. Queries understand `WHERE Field = 'literal'` only."""

    def __init__(self) -> None:
        self.schemas: dict[str, ObjectSchema] = {"lead": LEAD}
        self.records: dict[str, list[dict[str, Any]]] = {"Lead": []}
        self.queries: list[str] = []
        self.calls: list[str] = []
        self.failure: Exception | None = None
        self.composites: list[Mapping[str, Any]] = []
        self.composite_answer: Mapping[str, Any] = {"compositeResponse": []}
        self._ids = itertools.count(1)

    def add(self, sobject: str, **fields: Any) -> str:
        record_id = f"00Q{next(self._ids):015d}"
        self.records[sobject].append({"Id": record_id, **fields})
        return record_id

    def _check(self, call: str) -> None:
        self.calls.append(call)
        if self.failure is not None:
            raise as_action_error(self.failure)  # type: ignore[arg-type]

    async def objects(self, tenant_id: str) -> tuple[ObjectSummary, ...]:
        self._check("objects")
        return tuple(
            ObjectSummary(s.name, s.label, s.createable, s.queryable, s.updateable)
            for s in self.schemas.values()
        )

    async def schema(
        self, tenant_id: str, name: str, *, expect_paths: Iterable[str] = ()
    ) -> ObjectSchema:
        self._check("schema")
        schema = self.schemas.get(name.lower())
        if schema is None:
            raise as_action_error(InvalidType("INVALID_TYPE", f"no {name}"))
        return schema

    async def query(self, tenant_id: str, soql: str) -> Mapping[str, Any]:
        self._check("query")
        await asyncio.sleep(0)  # a real call yields: lets concurrent handlers interleave
        self.queries.append(soql)
        sobject = soql.split(" FROM ", 1)[1].split()[0]
        match = _WHERE.search(soql)
        rows = self.records.get(sobject, [])
        if match:
            field, value = match.group(1), re.sub(r"\\(.)", r"\1", match.group(2))
            rows = [r for r in rows if str(r.get(field, "")).lower() == value.lower()]
        return {"totalSize": len(rows), "done": True, "records": rows[:1]}

    async def create(self, tenant_id: str, sobject: str, fields: Mapping[str, JsonScalar]) -> str:
        self._check("create")
        await asyncio.sleep(0)
        return self.add(sobject, **fields)

    async def update(
        self, tenant_id: str, sobject: str, record_id: str, fields: Mapping[str, JsonScalar]
    ) -> None:
        self._check("update")
        record = next(r for r in self.records[sobject] if r["Id"] == record_id)
        record.update(fields)

    @property
    def api_version(self) -> str:
        return "59.0"

    async def composite(self, tenant_id: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
        self._check("composite")
        self.composites.append(body)
        return self.composite_answer

    async def instance_url(self, tenant_id: str) -> str:
        return "https://acme.my.salesforce.com"
