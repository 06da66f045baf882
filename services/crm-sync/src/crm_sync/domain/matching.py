"""Which existing Lead or Contact a visitor is: by email (or phone), the most recently
modified of several, and a converted Lead followed to the Contact it became."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from chat_contracts.chat import Conversation
from crm_sync.domain.salesforce import Row
from crm_sync.domain.visitor import names, normalise_phone

PersonObject = Literal["Lead", "Contact"]
CONVERTED = "ConvertedContact"
_EPOCH = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PersonMatch:
    """The record a visitor matched, with its current values (for the update policy)."""

    object: PersonObject
    id: str
    values: Mapping[str, Any] | None
    converted_from: str | None = None


def by_email(rows: Iterable[Row]) -> dict[str, list[Row]]:
    """Rows grouped by lower-cased Email."""
    found: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        email = row.get("Email")
        if isinstance(email, str) and email:
            found[email.strip().lower()].append(row)
    return found


def by_phone(rows: Iterable[Row], region: str) -> dict[str, list[Row]]:
    """Rows grouped by their Phone in E.164 (rows whose phone does not parse are left out)."""
    found: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        e164 = normalise_phone(row.get("Phone"), region)
        if e164 is not None:
            found[e164].append(row)
    return found


def modified_at(row: Row) -> datetime:
    """LastModifiedDate of a row (oldest possible when missing or unreadable)."""
    raw = row.get("LastModifiedDate")
    if not isinstance(raw, str):
        return _EPOCH
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("+0000", "+00:00"))
    except ValueError:
        return _EPOCH
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def select_person(rows: Iterable[Row], sobject: PersonObject) -> PersonMatch | None:
    """The most recently modified row (ties: the highest id, so the choice is stable); a
    converted Lead is followed to its ConvertedContactId instead of being used."""
    candidates = sorted(rows, key=lambda r: (modified_at(r), str(r.get("Id"))), reverse=True)
    if not candidates:
        return None
    best = candidates[0]
    contact_id = best.get("ConvertedContactId")
    if sobject == "Lead" and best.get("IsConverted") and isinstance(contact_id, str):
        nested = best.get(CONVERTED)
        values = nested if isinstance(nested, Mapping) else None
        return PersonMatch("Contact", contact_id, values, converted_from=str(best["Id"]))
    if sobject == "Lead" and best.get("IsConverted"):
        return PersonMatch("Lead", str(best["Id"]), None)  # cannot be updated any more
    return PersonMatch(sobject, str(best["Id"]), best)


_SUFFIXES = frozenset(
    {"inc", "incorporated", "ltd", "limited", "llc", "llp", "plc", "corp", "corporation", "co"}
    | {"company", "gmbh", "ag", "sa", "sarl", "bv", "nv", "srl", "spa", "pty", "oy", "ab", "as"}
)


def _plain(value: Any) -> str:
    text = unicodedata.normalize("NFKD", str(value or "")).casefold()
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def _company(value: Any) -> str:
    return " ".join(w for w in _plain(value).split() if w not in _SUFFIXES)


def could_be_found(
    first_name: str | None, last_name: str | None, company: str | None, phone: str | None
) -> bool:
    """Whether a re-read could tell which person a duplicate rule found for this visitor
    (`rule_candidates` needs both names and a company or phone of the visitor's own)."""
    return bool(_plain(first_name) and _plain(last_name) and (company or phone))


def linkable(conversation: Conversation) -> bool:
    """Whether, after a duplicate rule refused the visitor's new person, a re-read could
    find the record it matched (`could_be_found` for the visitor's own names, company and
    phone); if not, crm-sync saves with allowSave."""
    visitor = conversation.visitor
    first, last = names(conversation)
    return could_be_found(first, last, visitor.company, visitor.phone_e164)


def rule_candidates(
    rows: Iterable[Row],
    first_name: str | None,
    last_name: str | None,
    email: str | None,
    company: str | None,
    phone: str | None,
    region: str,
) -> list[Row]:
    """The rows a standard duplicate rule would most likely have matched: same first and
    last name (case, accents and punctuation aside) and same company or phone. Used when
    Salesforce refused a new person as a duplicate without saying which record it found.

    A row with another email is someone else to crm-sync (which matches on email), however
    alike the names: it is never a candidate. `company` is the visitor's own, never the
    placeholder a Lead gets without one."""
    if not could_be_found(first_name, last_name, company, phone):
        return []
    first, last = _plain(first_name), _plain(last_name)
    out = []
    for row in rows:
        if _plain(row.get("FirstName")) != first or _plain(row.get("LastName")) != last:
            continue
        other = str(row.get("Email") or "").strip().lower()
        if other and other != (email or ""):
            continue
        same_company = bool(company) and _company(row.get("Company")) == _company(company)
        same_phone = bool(phone) and normalise_phone(row.get("Phone"), region) == phone
        if same_company or same_phone:
            out.append(row)
    return sorted(out, key=modified_at, reverse=True)
