"""In-memory stand-ins for crm-sync's ports: an org, Kafka, the settings topic, a clock."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from chat_contracts.settings import TenantSettings
from chat_contracts.sync import SourcePosition
from crm_sync.adapters.ports import OutRecord
from crm_sync.domain.inbound import InRecord
from crm_sync.domain.salesforce import (
    ApiUsage,
    CallStats,
    Connection,
    InQuery,
    NewRecord,
    Reads,
    RecordError,
    Ref,
    SaveResult,
    StepResult,
    WriteStep,
)
from crm_sync.domain.schema import FieldSpec, ObjectSchema

PREFIX = {
    "Lead": "00Q",
    "Contact": "003",
    "Task": "00T",
    "Case": "500",
    "ContentVersion": "068",
    "Account": "001",
}
CONNECTED_USER = "005000000000000001"
REQUIRED = {"Lead": ("LastName", "Company"), "Contact": ("LastName",)}


def _text(name: str, length: int, type_: str = "string", **kw: Any) -> FieldSpec:
    return FieldSpec(name, type_, length, **kw)


def _ref(name: str, *to: str, **kw: Any) -> FieldSpec:
    return FieldSpec(name, "reference", 18, reference_to=to, **kw)


def _system() -> list[FieldSpec]:
    return [
        FieldSpec("Id", "id", 18, createable=False, updateable=False),
        FieldSpec("LastModifiedDate", "datetime", createable=False, updateable=False),
        _ref("OwnerId", "User"),
    ]


def _person() -> list[FieldSpec]:
    return [
        _text("FirstName", 40),
        _text("LastName", 80),
        _text("Email", 80, "email"),
        _text("Phone", 40, "phone"),
    ]


def standard_schemas(
    chat_id_field: bool = True, files_on_task: bool = False, unique_key: bool = False
) -> dict[str, ObjectSchema]:
    """Lead, Contact, Task, Case and ContentVersion as the emulator describes them (the
    chat-id field an External ID and Unique with `unique_key`)."""
    key_spec = _text("Chat_Id__c", 64, external_id=unique_key, unique=unique_key)
    key = [key_spec] if chat_id_field else []
    objects = {
        "Lead": [
            *_system(),
            *_person(),
            _text("Company", 255),
            FieldSpec("IsConverted", "boolean", createable=False, updateable=False),
            _ref("ConvertedContactId", "Contact", createable=False, updateable=False),
            _text("Order_Number__c", 20),
            FieldSpec("Visits__c", "double"),
        ],
        "Contact": [
            *_system(),
            *_person(),
            _text("Order_Number__c", 20),
            _ref("AccountId", "Account"),
        ],
        "Account": [*_system(), _text("Name", 255), _text("Website", 255, "url")],
        "Task": [
            *_system(),
            _text("Subject", 255),
            _text("Description", 32000, "textarea"),
            _text("Status", 40, "picklist"),
            FieldSpec("ActivityDate", "date"),
            _ref("WhoId", "Contact", "Lead"),
            *key,
        ],
        "Case": [
            *_system(),
            _text("Subject", 255),
            _text("Description", 32000, "textarea"),
            _text("Origin", 40, "picklist"),
            _ref("ContactId", "Contact"),
            _text("SuppliedEmail", 80, "email"),
            _text("SuppliedName", 80),
            _text("SuppliedPhone", 40, "phone"),
            *key,
        ],
        "ContentVersion": [
            *_system(),
            _text("Title", 255),
            _text("PathOnClient", 500),
            FieldSpec("VersionData", "base64"),
            _ref(
                "FirstPublishLocationId",
                "Case",
                "Contact",
                "Lead",
                *(("Task",) if files_on_task else ()),
            ),
        ],
    }
    return {
        name: ObjectSchema(name, {f.name.lower(): f for f in fields})
        for name, fields in objects.items()
    }


class FakeOrg:
    """A tenant's org in memory: records, users, schema, injected faults, call counts."""

    def __init__(self, *, schemas: dict[str, ObjectSchema] | None = None) -> None:
        self.schemas = schemas if schemas is not None else standard_schemas()
        self.records: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in PREFIX}
        self.users: dict[str, tuple[str, bool]] = {}  # email -> (id, active)
        self.calls = 0
        self.operations: list[str] = []
        """What each call did: describe, read, read+describe (one call), write."""
        self.limit = 100_000
        self.used_before = 0
        self.duplicate_rules = False
        self.name_rule = False
        """An alert-level rule on first + last name as real Collections answer it: naming
        no record, and passed by a step sent with `allow_duplicates`."""
        self.writes: list[tuple[WriteStep, ...]] = []
        self.reads: list[tuple[str, ...]] = []
        self.record_fault: Callable[[str, str, NewRecord], RecordError | None] | None = None
        self.call_fault: Callable[[str], Exception | None] | None = None
        self._ids = itertools.count(1)
        self._clock = datetime(2024, 5, 1, tzinfo=UTC)

    def add(self, sobject: str, **fields: Any) -> str:
        """Put a record straight into the org (no API call)."""
        record_id = f"{PREFIX[sobject]}{next(self._ids):015d}"
        self._clock += timedelta(seconds=1)
        self.records[sobject][record_id] = {
            "Id": record_id,
            "LastModifiedDate": self._clock.isoformat().replace("+00:00", "Z"),
            **fields,
        }
        return record_id

    def add_user(self, email: str, active: bool = True) -> str:
        user_id = f"005{next(self._ids):015d}"
        self.users[email] = (user_id, active)
        return user_id

    def convert(self, lead_id: str) -> str:
        lead = self.records["Lead"][lead_id]
        contact_id = self.add(
            "Contact",
            FirstName=lead.get("FirstName"),
            LastName=lead["LastName"],
            Email=lead.get("Email"),
        )
        lead.update(IsConverted=True, ConvertedContactId=contact_id)
        return contact_id

    def all(self, sobject: str) -> list[dict[str, Any]]:
        return list(self.records[sobject].values())

    def usage(self) -> ApiUsage:
        return ApiUsage(self.used_before + self.calls, self.limit)

    # --- the port's operations, one API call each ---

    def call(self, operation: str) -> CallStats:
        if self.call_fault is not None and (exc := self.call_fault(operation)) is not None:
            raise exc
        self.calls += 1
        self.operations.append(operation)
        return CallStats(1, self.usage())

    def query(self, query: InQuery) -> list[dict[str, Any]]:
        if query.sobject == "User":
            wanted = {v.lower() for v in query.values}
            return [
                {"Id": uid, "Email": email}
                for email, (uid, active) in self.users.items()
                if email.lower() in wanted and active
            ]
        wanted = {v.lower() for v in query.values}
        rows = []
        for record in self.records[query.sobject].values():
            value = record.get(query.match_field)
            if isinstance(value, str) and value.lower() in wanted:
                rows.append(self._project(query.sobject, record, query.fields))
        return rows

    def _project(
        self, sobject: str, record: Mapping[str, Any], fields: Sequence[str]
    ) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for name in fields:
            if "." in name:
                relation, sub = name.split(".", 1)
                target_id = record.get(f"{relation}Id")
                target = self.records["Contact"].get(target_id) if target_id else None
                if target is not None:
                    row.setdefault(relation, {})[sub] = target.get(sub)
                else:
                    row.setdefault(relation, None)
            else:
                row[name] = record.get(name, False if name == "IsConverted" else None)
        return row

    def run(self, steps: Sequence[WriteStep]) -> dict[str, StepResult]:
        done: dict[str, StepResult] = {}
        for step in steps:
            try:
                records = [self._resolve(r, done) for r in step.records]
            except LookupError:
                done[step.name] = StepResult(
                    step.name, error=RecordError("PROCESSING_HALTED", "unresolved reference")
                )
                continue
            done[step.name] = StepResult(
                step.name,
                tuple(self._save(step.method, r, step.allow_duplicates) for r in records),
            )
        return done

    def _resolve(self, record: NewRecord, done: Mapping[str, StepResult]) -> NewRecord:
        fields = {}
        for name, value in record.fields.items():
            if isinstance(value, Ref):
                step = done.get(value.step)
                if step is None or step.error is not None or not step.results[value.index].ok:
                    raise LookupError(value)
                value = step.results[value.index].id
            fields[name] = value
        return NewRecord(record.sobject, fields)

    def _namesake(self, record: NewRecord) -> bool:
        def name(row: Mapping[str, Any]) -> tuple[str, str]:
            return str(row.get("FirstName") or "").lower(), str(row.get("LastName") or "").lower()

        return any(name(r) == name(record.fields) for r in self.all(record.sobject))

    def _save(self, method: str, record: NewRecord, allow: bool = False) -> SaveResult:
        if self.record_fault is not None and (
            error := self.record_fault(method, record.sobject, record)
        ):
            return SaveResult(None, (error,))
        schema = self.schemas.get(record.sobject)
        for name, value in record.fields.items():
            spec = schema.field(name) if schema else None
            if (
                isinstance(value, str)
                and spec is not None
                and spec.length
                and spec.type != "base64"
                and len(value) > spec.length
            ):
                return SaveResult(
                    None,
                    (
                        RecordError(
                            "STRING_TOO_LONG",
                            f"{name}: data value too large (max length={spec.length})",
                            (name,),
                        ),
                    ),
                )
        if method == "update":
            target = self.records[record.sobject].get(str(record.fields["Id"]))
            if target is None:
                return SaveResult(None, (RecordError("ENTITY_IS_DELETED", "entity is deleted"),))
            if target.get("IsConverted"):
                return SaveResult(None, (RecordError("CANNOT_UPDATE_CONVERTED_LEAD", "converted"),))
            target.update(record.fields)
            return SaveResult(target["Id"])
        for spec in schema.fields.values() if schema else ():
            value = record.fields.get(spec.name)
            taken = [
                r["Id"]
                for r in self.all(record.sobject)
                if spec.unique
                and isinstance(value, str)
                and str(r.get(spec.name)).lower() == value.lower()
            ]
            if taken:
                message = (
                    f"duplicate value found: {spec.name} duplicates value on record with id: "
                    f"{taken[0]}"
                )
                return SaveResult(None, (RecordError("DUPLICATE_VALUE", message, (spec.name,)),))
        missing = [f for f in REQUIRED.get(record.sobject, ()) if not record.fields.get(f)]
        if missing:
            return SaveResult(
                None,
                (
                    RecordError(
                        "REQUIRED_FIELD_MISSING", "Required fields are missing", tuple(missing)
                    ),
                ),
            )
        if (
            self.name_rule
            and not allow
            and record.sobject in ("Lead", "Contact")
            and self._namesake(record)
        ):
            error = RecordError("DUPLICATES_DETECTED", "Use one of these records?")
            return SaveResult(None, (error,))
        email = record.fields.get("Email")
        if (
            self.duplicate_rules
            and record.sobject in ("Lead", "Contact")
            and isinstance(email, str)
        ):
            dups = [
                r["Id"]
                for r in self.all(record.sobject)
                if str(r.get("Email", "")).lower() == email.lower() and not r.get("IsConverted")
            ]
            if dups:
                return SaveResult(
                    None,
                    (
                        RecordError(
                            "DUPLICATES_DETECTED", "Use one of these records?", (), tuple(dups)
                        ),
                    ),
                )
        return SaveResult(self.add(record.sobject, **{k: v for k, v in record.fields.items()}))


class FakeSalesforce:
    """`SalesforcePort` over `FakeOrg`s, one per tenant."""

    def __init__(self) -> None:
        self.orgs: dict[str, FakeOrg] = {}
        self.unavailable: dict[str, Exception] = {}

    def org(self, tenant_id: str, **kw: Any) -> FakeOrg:
        if tenant_id not in self.orgs:
            self.orgs[tenant_id] = FakeOrg(**kw)
        return self.orgs[tenant_id]

    def _org(self, tenant_id: str) -> FakeOrg:
        if tenant_id in self.unavailable:
            raise self.unavailable[tenant_id]
        return self.orgs[tenant_id]

    async def connection(self, tenant_id: str) -> Connection:
        self._org(tenant_id)
        return Connection(CONNECTED_USER)

    async def describe(
        self, tenant_id: str, objects: Sequence[str]
    ) -> tuple[dict[str, ObjectSchema], CallStats]:
        org = self._org(tenant_id)
        stats = org.call("describe")
        return {o: org.schemas[o] for o in objects if o in org.schemas}, stats

    async def read(
        self, tenant_id: str, queries: Mapping[str, InQuery], *, describe: Sequence[str] = ()
    ) -> tuple[Reads, CallStats]:
        org = self._org(tenant_id)
        stats = org.call("read+describe" if describe else "read")
        org.reads.append(tuple(queries))
        reads = Reads({name: list(org.query(q)) for name, q in queries.items()})
        if describe:
            reads.schemas = {o: org.schemas[o] for o in describe if o in org.schemas}
        return reads, stats

    async def write(
        self, tenant_id: str, steps: Sequence[WriteStep], *, assignment_rules: bool = False
    ) -> tuple[dict[str, StepResult], CallStats]:
        org = self._org(tenant_id)
        stats = org.call("write")
        org.writes.append(tuple(steps))
        return org.run(steps), stats

    def usage(self, tenant_id: str) -> ApiUsage | None:
        org = self.orgs.get(tenant_id)
        return org.usage() if org is not None and org.calls else None


@dataclass
class FakePublisher:
    records: list[OutRecord] = field(default_factory=list)
    fail: Exception | None = None

    async def publish_many(self, records: Sequence[OutRecord]) -> None:
        if self.fail is not None:
            raise self.fail
        self.records.extend(records)

    def on(self, topic: str) -> list[OutRecord]:
        return [r for r in self.records if r.topic == topic]


@dataclass
class FakeStore:
    settings: dict[str, TenantSettings] = field(default_factory=dict)
    tombstones: set[str] = field(default_factory=set)

    def get(self, tenant_id: str) -> TenantSettings | None:
        return self.settings.get(tenant_id)

    def removed(self, tenant_id: str) -> bool:
        return tenant_id in self.tombstones


class FakeClock:
    """Time that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.start = datetime(2024, 5, 1, 12, tzinfo=UTC)
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.t - 1000.0)

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        self.t += seconds


@dataclass
class FakeFetcher:
    files: dict[str, bytes] = field(default_factory=dict)

    async def fetch(self, url: str) -> bytes | None:
        return self.files.get(url)


@dataclass
class FakeReader:
    """Kafka read back: records by topic, each with its produce time (`timestamp_ms`)."""

    records: dict[str, list[InRecord]] = field(default_factory=dict)
    scans: list[tuple[str, datetime, datetime | None]] = field(default_factory=list)
    delay_s: float = 0.0

    def add(self, record: InRecord) -> InRecord:
        self.records.setdefault(record.topic, []).append(record)
        return record

    async def read_at(self, position: SourcePosition) -> InRecord | None:
        await asyncio.sleep(self.delay_s)
        for record in self.records.get(position.topic, []):
            if (record.partition, record.offset) == (position.partition, position.offset):
                return record
        return None

    async def scan(
        self, topic: str, since: datetime, until: datetime | None = None
    ) -> AsyncGenerator[InRecord, None]:
        self.scans.append((topic, since, until))
        for record in self.records.get(topic, []):
            await asyncio.sleep(self.delay_s)
            written = datetime.fromtimestamp(record.timestamp_ms / 1000, UTC)
            if written >= since and (until is None or written <= until):
                yield record
