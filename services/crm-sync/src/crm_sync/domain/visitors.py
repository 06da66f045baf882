"""Visitors a tenant's rounds have met lately: the person rows a read returned for each
identity (or the person a round created), so that a round whose visitors are all known
needs no persons query, and, with the chat-id field unique (`plan.needs_lookup`) and
owners cached, no read at all: one call, the write.

Only the fields matching needs are kept (which record, converted or not, most recently
modified), so only a tenant whose update policy never compares current values
(`do_not_update`) is served from here; the others read, since a person may have edited the
record in Salesforce meanwhile. Person Accounts orgs always read. A known person that
Salesforce refuses (deleted, merged, converted since) is forgotten and the chat's round
runs again with reads (`stale`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from chat_contracts.settings import UpdatePolicy
from crm_sync.domain.matching import by_email, by_phone
from crm_sync.domain.plan import CONTACT_PHONES, CONTACTS, PERSONS, PHONES
from crm_sync.domain.salesforce import Reads, RecordError, Row
from crm_sync.domain.ttl_cache import TtlCache
from crm_sync.domain.visitor import identity
from crm_sync.domain.work import ChatWork, TenantContext

Identity = tuple[str, str]
"""("email", address) or ("phone", E.164), as `visitor.identity` gives it."""
KEPT = ("Id", "Email", "Phone", "LastModifiedDate", "IsConverted", "ConvertedContactId")


@dataclass(frozen=True, slots=True)
class KnownVisitor:
    """The rows a read returned for one identity: persons (Leads or Contacts) and, in Sales
    mode matching Contacts too, Contacts."""

    persons: tuple[Row, ...]
    contacts: tuple[Row, ...] = ()


def _compact(row: Row) -> Row:
    """The row with only what matching needs, and none of its empty values (memory: about
    0.7 kB a visitor)."""
    return {k: row[k] for k in KEPT if row.get(k) not in (None, False, "")}


def _scope(ctx: TenantContext) -> str:
    """What a visitor's rows were read as: Leads or Contacts, with Contacts or not (a
    tenant that changes these settings reads afresh)."""
    settings = ctx.settings
    return f"{settings.mode}/{settings.mode == 'sales' and settings.sales_match_contacts}"


class VisitorCache:
    """(tenant, identity) -> `KnownVisitor`, for `ttl_s`, at most `max_entries`."""

    def __init__(self, ttl_s: float, clock: Callable[[], float], max_entries: int) -> None:
        self._entries: TtlCache[tuple[str, str, str, str], KnownVisitor] = TtlCache(
            ttl_s, clock, max_entries
        )

    def known(
        self, tenant_id: str, works: Iterable[ChatWork], ctx: TenantContext
    ) -> dict[Identity, KnownVisitor]:
        """The known visitors of `works` (none when the tenant must read)."""
        if ctx.settings.update_policy is not UpdatePolicy.DO_NOT_UPDATE or ctx.person_accounts:
            return {}
        out, scope = {}, _scope(ctx)
        for work in works:
            found = identity(work.conversation, ctx.settings.match_by_phone)
            if found is not None and (entry := self._entries.get((tenant_id, scope, *found))):
                out[found] = entry
        return out

    def learn(
        self, tenant_id: str, reads: Reads, identities: Iterable[Identity], ctx: TenantContext
    ) -> None:
        """Remember what a read found for each of `identities` (nothing found: nothing to
        remember; the person the round creates is, by `created`)."""
        region, scope = ctx.settings.default_phone_region, _scope(ctx)
        emails, phones = by_email(reads.get(PERSONS)), by_phone(reads.get(PHONES), region)
        c_emails, c_phones = (
            by_email(reads.get(CONTACTS)),
            by_phone(reads.get(CONTACT_PHONES), region),
        )
        for kind, value in identities:
            key = value.lower() if kind == "email" else value
            persons = (emails if kind == "email" else phones).get(key, [])
            contacts = (c_emails if kind == "email" else c_phones).get(key, [])
            if persons or contacts:
                entry = KnownVisitor(
                    tuple(_compact(r) for r in persons), tuple(_compact(r) for r in contacts)
                )
                self._entries.put((tenant_id, scope, kind, value), entry)

    def created(self, tenant_id: str, works: Sequence[ChatWork], ctx: TenantContext) -> None:
        """Remember the persons a round created."""
        if ctx.person_accounts:
            return
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        for work in works:
            found = identity(work.conversation, ctx.settings.match_by_phone)
            if found is None or work.person_outcome != "created" or work.person_id is None:
                continue
            kind, value = found
            row = {"Id": work.person_id, "LastModifiedDate": now}
            row["Email" if kind == "email" else "Phone"] = value
            self._entries.put((tenant_id, _scope(ctx), kind, value), KnownVisitor((row,)))

    def forget(self, tenant_id: str, found: Identity, ctx: TenantContext) -> None:
        """Drop what is known of one visitor."""
        self._entries.drop((tenant_id, _scope(ctx), *found))

    def clear(self) -> None:
        """Forget every visitor (as a restart does)."""
        self._entries.clear()


def add_known(reads: Reads, known: Mapping[Identity, KnownVisitor]) -> None:
    """Put the known visitors' rows where a read would have put them."""
    for (kind, _), entry in known.items():
        persons, contacts = (PERSONS, CONTACTS) if kind == "email" else (PHONES, CONTACT_PHONES)
        reads.rows.setdefault(persons, []).extend(entry.persons)
        reads.rows.setdefault(contacts, []).extend(entry.contacts)


def stale(works: Iterable[ChatWork]) -> list[ChatWork]:
    """Of chats matched to a known person, those Salesforce refused (the person deleted,
    merged or converted since, or any other refusal): each runs again with reads, its
    person forgotten and a failure made transient (a refusal that stands is met again in
    that round, from a fresh read). Returns them."""
    out = []
    for work in works:
        if work.done and work.failure is None:
            continue
        if work.failure is None and work.transient is None:
            continue
        if work.failure is not None:
            failure = work.failure
            code = failure.salesforce_code or failure.code
            work.transient = RecordError(code, failure.message, failure.fields)
            work.failure = None
        if work.person_outcome == "matched":
            work.forget_person()
        out.append(work)
    return out
