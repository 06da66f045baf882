"""lookup_visitor: one Composite request of five queries, and its answer read back.

1. `contact`: the most recently modified Contact whose Email, Phone or MobilePhone matches;
2. `lead`: the same among Leads not converted (a converted Lead's Contact is the answer);
3. `contact_cases`, 4. `contact_tasks`, 5. `lead_tasks`: COUNT() of the open Cases and
   Tasks of the first record of 1 and 2, through Composite references. A reference to a
   query that found nobody fails that subrequest alone (`allOrNone` is false), which here
   just means "nobody of that kind".

Visitor values are escaped SOQL literals (`chat_salesforce.soql`) and fully URL-encoded,
so they can neither end a literal nor spell a Composite reference: only the count queries,
which hold no visitor value, carry the raw `@{...}` references.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote as quote_url

from bot_actions.domain.values import is_blank, resolve
from chat_contracts.bot import LookupVisitorRequest
from chat_contracts.bot_replies import RecordNotFoundReply, VisitorFoundReply
from chat_salesforce.phones import phone_variants
from chat_salesforce.soql import in_list, quote

_PERSON = (
    "SELECT Id, Name, OwnerId, Owner.Name FROM {sobject} WHERE {where} "
    "ORDER BY LastModifiedDate DESC, Id ASC LIMIT 1"
)
_COUNTS = {
    "contact_cases": ("Case", "ContactId", "contact"),
    "contact_tasks": ("Task", "WhoId", "contact"),
    "lead_tasks": ("Task", "WhoId", "lead"),
}


@dataclass(frozen=True, slots=True)
class Visitor:
    """What the visitor is matched on: a lower-cased email and phone spellings."""

    email: str | None
    phones: tuple[str, ...]


def visitor(req: LookupVisitorRequest) -> Visitor | None:
    """The request's email and phone, placeholders resolved; None when both are blank."""
    email = resolve(req.email, req.variables) if req.email else None
    phone = resolve(req.phone, req.variables) if req.phone else None
    email_text = None if is_blank(email) else str(email).strip().lower()
    phones = () if is_blank(phone) else phone_variants(str(phone), req.phone_region)
    if email_text is None and not phones:
        return None
    return Visitor(email_text, phones)


def _where(sobject: str, who: Visitor) -> str:
    terms = [f"Email = {quote(who.email)}"] if who.email else []
    if who.phones:
        terms += [f"Phone IN {in_list(who.phones)}", f"MobilePhone IN {in_list(who.phones)}"]
    where = " OR ".join(terms)
    return f"IsConverted = false AND ({where})" if sobject == "Lead" else f"({where})"


def _query_url(version: str, soql: str, keep: str = "") -> str:
    return f"/services/data/v{version}/query?q=" + quote_url(soql, safe=keep)


def composite_request(who: Visitor, version: str) -> dict[str, Any]:
    """The body of `POST /composite` answering the lookup in one API call."""
    subs = [
        {
            "method": "GET",
            "referenceId": sobject.lower(),
            "url": _query_url(version, _PERSON.format(sobject=sobject, where=_where(sobject, who))),
        }
        for sobject in ("Contact", "Lead")
    ]
    for ref, (sobject, field, person) in _COUNTS.items():
        soql = (
            f"SELECT COUNT() FROM {sobject} "  # noqa: S608 - constants and a reference
            f"WHERE {field} = '@{{{person}.records[0].Id}}' AND IsClosed = false"
        )
        subs.append(
            {"method": "GET", "referenceId": ref, "url": _query_url(version, soql, "@{}[]")}
        )
    return {"allOrNone": False, "compositeRequest": subs}


class LookupFailed(Exception):
    """A person query itself failed: (errorCode, message) of Salesforce's answer."""

    def __init__(self, error_code: str, message: str) -> None:
        self.error_code = error_code
        self.message = message
        super().__init__(f"{error_code}: {message}")


def _results(answer: Mapping[str, Any]) -> dict[str, tuple[int, Any]]:
    return {
        str(sub.get("referenceId")): (int(sub.get("httpStatusCode", 500)), sub.get("body"))
        for sub in answer.get("compositeResponse") or ()
    }


def _first(results: Mapping[str, tuple[int, Any]], ref: str) -> Mapping[str, Any] | None:
    status, body = results.get(ref, (500, None))
    if status >= 300 or not isinstance(body, Mapping):
        error = body[0] if isinstance(body, Sequence) and body else {}
        code = str(error.get("errorCode", "UNKNOWN")) if isinstance(error, Mapping) else "UNKNOWN"
        message = str(error.get("message", "")) if isinstance(error, Mapping) else ""
        raise LookupFailed(code, message)
    records = body.get("records") or []
    return records[0] if records else None


def _count(results: Mapping[str, tuple[int, Any]], ref: str) -> int:
    status, body = results.get(ref, (500, None))
    return int(body.get("totalSize", 0)) if status < 300 and isinstance(body, Mapping) else 0


def reply(
    tenant_id: str, answer: Mapping[str, Any], instance_url: str
) -> VisitorFoundReply | RecordNotFoundReply:
    """The Contact if one matched, else the Lead, else `not_found`."""
    results = _results(answer)
    contact, lead = _first(results, "contact"), _first(results, "lead")
    sobject, record = ("Contact", contact) if contact else ("Lead", lead)
    if record is None:
        return RecordNotFoundReply(tenant_id=tenant_id)
    owner = record.get("Owner") if isinstance(record.get("Owner"), Mapping) else {}
    record_id = str(record["Id"])
    return VisitorFoundReply(
        tenant_id=tenant_id,
        object=sobject,
        record_id=record_id,
        name=record.get("Name"),
        owner_id=record.get("OwnerId"),
        owner_name=owner.get("Name") if owner else None,
        url=f"{instance_url.rstrip('/')}/lightning/r/{sobject}/{record_id}/view",
        open_cases=_count(results, "contact_cases") if contact else None,
        open_tasks=_count(results, "contact_tasks" if contact else "lead_tasks"),
    )
