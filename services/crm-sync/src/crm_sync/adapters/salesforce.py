"""`SalesforcePort` over `chat_salesforce`'s gateway: every read and every write of a round
is one Composite call (`POST /composite`), whose subrequests are SOQL queries and sObject
Collections; a Composite call counts once against the org's daily API budget.

SOQL is built here from `InQuery` values, each value escaped as a SOQL literal.

Salesforce resolves `@{reference}` anywhere in a Composite subrequest's body, with no way
to escape it: a visitor who types `@{x}` would halt the whole call. A write step with such
a value is sent on its own as an sObject Collections call (which resolves nothing), with the
ids of the steps before it filled in, at the cost of one more call for that round. So does
a step that must be saved despite the org's duplicate rules (with the Duplicate Rule
header, which would otherwise apply to the whole Composite call).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import quote as url_quote

from chat_contracts.sync import RetryReason
from chat_runtime import tracing
from chat_salesforce.errors import (
    InvalidSession,
    NotConnected,
    RequestLimitExceeded,
    SalesforceApiError,
    TokenUnavailable,
    TransientError,
    TransportError,
)
from chat_salesforce.gateway import SalesforceGateway
from chat_salesforce.tokens import TokenSource
from crm_sync.adapters.composite import raise_for, record_error, reference, soql, sub_error
from crm_sync.adapters.ports import (
    CallRejected,
    OutcomeUnknown,
    SalesforceUnavailable,
    TenantUnavailable,
)
from crm_sync.domain.salesforce import (
    ApiUsage,
    CallStats,
    Connection,
    FieldValue,
    InQuery,
    Reads,
    RecordError,
    Ref,
    SaveResult,
    StepResult,
    WriteStep,
)
from crm_sync.domain.schema import ObjectSchema, SharedSchemas, parse_describe

T = TypeVar("T")
MAX_SUBREQUESTS = 25
ALLOW_SAVE = {"Sforce-Duplicate-Rule-Header": "allowSave=true"}
NO_AUTO_ASSIGN = {"Sforce-Auto-Assign": "FALSE"}
"""REST runs the org's active Lead/Case assignment rules unless told not to."""
MAX_QUERIES = 5
DESCRIBE_REF = "describe_"
"""referenceId prefix of a describe subrequest (query names never start with it)."""
_DISCONNECTED = {"revoked": RetryReason.REVOKED, "not_connected": RetryReason.NOT_CONNECTED}


class GatewaySalesforce:
    """The org of each tenant, through the shared gateway (tokens from auth)."""

    def __init__(self, gateway: SalesforceGateway, tokens: TokenSource, api_version: str) -> None:
        self.gateway, self.tokens = gateway, tokens
        self.base = f"/services/data/v{api_version}"
        self.schemas = SharedSchemas()

    async def connection(self, tenant_id: str) -> Connection:
        token = await _mapped(lambda: self.tokens.get(tenant_id), write=False)
        return Connection(token.user_id, token.org_id)

    async def describe(
        self, tenant_id: str, objects: Sequence[str]
    ) -> tuple[dict[str, ObjectSchema], CallStats]:
        answers, calls = await self._composite(
            tenant_id, self._describe_subs(objects), operation="describe"
        )
        return self._schemas(objects, answers), CallStats(calls, self.usage(tenant_id))

    def _describe_subs(self, objects: Sequence[str]) -> list[dict[str, Any]]:
        return [
            {
                "method": "GET",
                "url": f"{self.base}/sobjects/{name}/describe",
                "referenceId": f"{DESCRIBE_REF}{name}",
            }
            for name in objects
        ]

    def _schemas(
        self, objects: Sequence[str], answers: Sequence[Mapping[str, Any]]
    ) -> dict[str, ObjectSchema]:
        """The described objects of a call's answers (objects the org lacks left out)."""
        found = {}
        for name, sub in zip(objects, answers, strict=True):
            if int(sub.get("httpStatusCode", 500)) < 300:
                found[name] = self.schemas.intern(parse_describe(sub["body"]))
            elif int(sub.get("httpStatusCode", 500)) >= 500:
                raise_for(sub)
        return found

    async def read(
        self, tenant_id: str, queries: Mapping[str, InQuery], *, describe: Sequence[str] = ()
    ) -> tuple[Reads, CallStats]:
        names = list(queries)
        subs = [
            {
                "method": "GET",
                "url": f"{self.base}/query?q={url_quote(soql(queries[n]), safe='')}",
                "referenceId": n,
            }
            for n in names
        ]
        reads, calls = Reads(), 0
        for start in range(0, len(subs) or (1 if describe else 0), MAX_QUERIES):
            # The describes ride on the first call (queries count 5 at most, describes not).
            described = describe if start == 0 else ()
            answers, spent = await self._composite(
                tenant_id,
                [*self._describe_subs(described), *subs[start : start + MAX_QUERIES]],
                operation="read",
            )
            calls += spent
            if described:
                reads.schemas = self._schemas(described, answers[: len(described)])
                answers = answers[len(described) :]
            for name, sub in zip(names[start : start + MAX_QUERIES], answers, strict=True):
                raise_for(sub)
                rows, more = await self._all_pages(tenant_id, sub["body"])
                reads.rows[name] = rows
                calls += more
        return reads, CallStats(calls, self.usage(tenant_id))

    async def write(
        self, tenant_id: str, steps: Sequence[WriteStep], *, assignment_rules: bool = False
    ) -> tuple[dict[str, StepResult], CallStats]:
        if not tracing.enabled():
            return await self._write(tenant_id, steps, assignment_rules=assignment_rules)
        # One span for a round's writes (its HTTP calls are children): what it wrote, and
        # what it cost in API calls.
        attributes = {
            "salesforce.tenant_id": tenant_id,
            "salesforce.steps": [f"{s.method} {s.records[0].sobject}" for s in steps if s.records],
            "salesforce.records": sum(len(s.records) for s in steps),
        }
        with tracing.span("salesforce write", attributes=attributes) as span:
            written, stats = await self._write(tenant_id, steps, assignment_rules=assignment_rules)
            if span is not None:
                span.set_attribute("salesforce.api_calls", stats.calls)
            return written, stats

    async def _write(
        self, tenant_id: str, steps: Sequence[WriteStep], *, assignment_rules: bool
    ) -> tuple[dict[str, StepResult], CallStats]:
        headers = {} if assignment_rules else dict(NO_AUTO_ASSIGN)
        out: dict[str, StepResult] = {}
        calls = 0
        batch: list[WriteStep] = []
        for step in steps:
            if not (step.allow_duplicates or _holds_reference_text(step)):
                batch.append(step)
                continue
            if batch:
                calls += await self._write_composite(tenant_id, batch, out, headers)
                batch = []
            calls += await self._write_alone(tenant_id, step, out, headers)
        if batch:
            calls += await self._write_composite(tenant_id, batch, out, headers)
        return out, CallStats(calls, self.usage(tenant_id))

    async def _write_composite(
        self,
        tenant_id: str,
        steps: Sequence[WriteStep],
        out: dict[str, StepResult],
        headers: Mapping[str, str],
    ) -> int:
        prepared = [(step, _prepare(step, out, resolve=False)) for step in steps]
        sent = [(step, records) for step, records in prepared if records.sendable]
        for step, records in prepared:
            if not records.sendable:
                out[step.name] = records.result([])
        if not sent:
            return 0
        subs = [
            {
                "method": "POST" if step.method == "create" else "PATCH",
                "url": f"{self.base}/composite/sobjects",
                "referenceId": step.name,
                "body": records.body(),
            }
            for step, records in sent
        ]
        answers, calls = await self._composite(tenant_id, subs, operation="write", headers=headers)
        for (step, records), sub in zip(sent, answers, strict=True):
            body = sub.get("body")
            if int(sub.get("httpStatusCode", 500)) >= 300 or not isinstance(body, list):
                out[step.name] = StepResult(step.name, error=sub_error(sub))
                continue
            out[step.name] = records.result(body)
        return calls

    async def _write_alone(
        self,
        tenant_id: str,
        step: WriteStep,
        out: dict[str, StepResult],
        headers: Mapping[str, str],
    ) -> int:
        records = _prepare(step, out, resolve=True)
        if not records.sendable:
            out[step.name] = records.result([])
            return 0
        answer = await _mapped(
            lambda: self.gateway.restful(
                tenant_id,
                "composite/sobjects",
                method="POST" if step.method == "create" else "PATCH",
                json=records.body(),
                headers={**headers, **(ALLOW_SAVE if step.allow_duplicates else {})},
                operation="collections",
                retry=True,  # as the Composite write: only answered, unapplied errors retry
            ),
            write=True,
        )
        out[step.name] = records.result(answer if isinstance(answer, list) else [])
        return 1

    def usage(self, tenant_id: str) -> ApiUsage | None:
        usage = self.gateway.budget.usage(tenant_id)
        return ApiUsage(usage.used, usage.limit) if usage is not None else None

    async def _composite(
        self,
        tenant_id: str,
        subs: list[dict[str, Any]],
        *,
        operation: Literal["describe", "read", "write"],
        headers: Mapping[str, str] | None = None,
    ) -> tuple[list[Mapping[str, Any]], int]:
        """One Composite call; `operation` labels it in the calls metric and its span (a
        round's read and write, an org's describe: what a profile of calls tells apart)."""
        if len(subs) > MAX_SUBREQUESTS:
            raise ValueError(f"{len(subs)} subrequests: at most {MAX_SUBREQUESTS}")
        body = {"allOrNone": False, "compositeRequest": subs}
        answer = await _mapped(
            lambda: self.gateway.restful(
                tenant_id,
                "composite",
                method="POST",
                json=body,
                headers=dict(headers) if headers else None,
                operation=operation,
                retry=True,
            ),
            write=operation == "write",
        )
        return list(answer["compositeResponse"]), 1

    async def _all_pages(self, tenant_id: str, page: Mapping[str, Any]) -> tuple[list[Any], int]:
        rows, calls = list(page.get("records", ())), 0
        while not page.get("done", True) and page.get("nextRecordsUrl"):
            path = str(page["nextRecordsUrl"]).split(f"{self.base}/", 1)[-1]

            async def next_page(path: str = path) -> Any:
                return await self.gateway.restful(tenant_id, path, operation="query")

            page = await _mapped(next_page, write=False)
            rows += page.get("records", ())
            calls += 1
        return rows, calls


async def _mapped(call: Callable[[], Awaitable[T]], *, write: bool) -> T:
    """Run a gateway call, turning its errors into the port's."""
    try:
        return await call()
    except NotConnected as exc:
        reason = _DISCONNECTED.get(exc.code, RetryReason.NOT_CONNECTED)
        raise TenantUnavailable(reason, f"{exc.code}: {exc.message}") from exc
    except TokenUnavailable as exc:  # auth is down or unreachable: an outage, not a bug
        raise TenantUnavailable(RetryReason.AUTH_UNAVAILABLE, str(exc)) from exc
    except InvalidSession as exc:
        raise TenantUnavailable(
            RetryReason.NOT_CONNECTED, "Salesforce refused a fresh session"
        ) from exc
    except RequestLimitExceeded as exc:
        raise TenantUnavailable(
            RetryReason.API_BUDGET, exc.message or "API limit exceeded"
        ) from exc
    except TransportError as exc:
        raise (OutcomeUnknown if write else SalesforceUnavailable)(str(exc)) from exc
    except TransientError as exc:
        raise SalesforceUnavailable(f"{exc.error_code}: {exc.message}") from exc
    except SalesforceApiError as exc:
        raise CallRejected(exc.error_code, exc.message, exc.fields) from exc


class _Unresolved(Exception):
    """A reference to a record an earlier step did not create."""


def _holds_reference_text(step: WriteStep) -> bool:
    """Whether a value of the step would read as a Composite reference."""
    return any(
        isinstance(value, str) and "@{" in value
        for record in step.records
        for value in record.fields.values()
    )


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A step's records as sObject Collections records: None for one that references a
    record an earlier step did not create (not sent; `errors` says why)."""

    name: str
    records: list[dict[str, Any] | None]
    errors: list[RecordError | None]

    @property
    def sendable(self) -> bool:
        return any(r is not None for r in self.records)

    def body(self) -> dict[str, Any]:
        return {"allOrNone": False, "records": [r for r in self.records if r is not None]}

    def result(self, answers: Sequence[Any]) -> StepResult:
        """The step's results, Salesforce's answers for the records sent in their places."""
        sent = iter(answers)
        results = []
        for record, error in zip(self.records, self.errors, strict=True):
            if record is None:
                results.append(SaveResult(None, (error or RecordError("PROCESSING_HALTED"),)))
                continue
            item = next(sent, None)
            if not isinstance(item, Mapping):
                results.append(SaveResult(None, (RecordError("UNKNOWN", "no answer"),)))
            elif item.get("success"):
                results.append(SaveResult(item.get("id")))
            else:
                errors = tuple(record_error(e) for e in item.get("errors") or [{}])
                results.append(SaveResult(None, errors))
        return StepResult(self.name, tuple(results))


def _prepare(step: WriteStep, done: Mapping[str, StepResult], *, resolve: bool) -> _Prepared:
    """A reference to a step already written (in an earlier call) becomes its id; with
    `resolve`, every reference must be one of those."""

    def value(field: FieldValue) -> Any:
        if isinstance(field, Ref) and (resolve or field.step in done):
            earlier = done.get(field.step)
            results = earlier.results if earlier is not None else ()
            saved = results[field.index] if field.index < len(results) else None
            if saved is None or saved.id is None:
                raise _Unresolved(f"{field.step}[{field.index}].id")
            return saved.id
        return reference(field)

    records: list[dict[str, Any] | None] = []
    errors: list[RecordError | None] = []
    for record in step.records:
        try:
            fields = {k: value(v) for k, v in record.fields.items()}
        except _Unresolved as exc:
            records.append(None)
            errors.append(
                RecordError("PROCESSING_HALTED", f"No value for {exc}: its record was not saved")
            )
            continue
        records.append({"attributes": {"type": record.sobject}, **fields})
        errors.append(None)
    return _Prepared(step.name, records, errors)
