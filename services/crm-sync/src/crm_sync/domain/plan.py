"""One round of a tenant's batch: the reads to ask for, then the writes they call for.

Reads (one Composite call, at most five queries): the persons matching every email of the
batch (and phones, when the tenant matches on them), the activities already written for
its chat ids, the Users behind agent emails not cached yet. Writes (one Composite call):
create the missing persons, update those the policy allows, create the activities (under
persons created in the same call by reference), upload files.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from chat_contracts.settings import TenantSettings
from crm_sync.domain import policy
from crm_sync.domain.accounts import (
    NAME,
    AccountKey,
    account_key,
    by_key,
    new_account,
    website_variants,
)
from crm_sync.domain.campaigns import campaign_value
from crm_sync.domain.chat_records import (
    activity_record,
    dedupe_keys,
    person_account_record,
    person_record,
)
from crm_sync.domain.matching import (
    PersonMatch,
    by_email,
    by_phone,
    linkable,
    rule_candidates,
    select_person,
)
from crm_sync.domain.owner import resolve
from crm_sync.domain.salesforce import (
    FieldValue,
    InQuery,
    NewRecord,
    Reads,
    RecordError,
    Ref,
    Row,
    WriteStep,
)
from crm_sync.domain.text import sf_cut
from crm_sync.domain.visitor import identity, names, phone_variants
from crm_sync.domain.work import ChatWork, PendingFile, TenantContext

PERSONS, PHONES, ACTIVITIES, USERS = "persons", "phones", "activities", "users"
CONTACTS, CONTACT_PHONES = "contacts", "contact_phones"
"""Sales mode: Contacts by the batch's emails (and phones), matched before Leads."""
NAMESAKES = "namesakes"
"""Persons by the last name of visitors a duplicate rule refused to create."""
NEW_PERSONS, UPDATES, ACTS_KNOWN, ACTS_NEW, FILES = "p", "u", "a", "an", "f"
NEW_ALLOWED = "pa"
ACCOUNTS, NEW_ACCOUNTS = "accounts", "ac"
CAMPAIGNS, MEMBERS = "campaigns", "m"
PERSON_TYPES = "person_types"
"""Person Accounts: the person-account record type(s) of Account."""
PERSON_CONTACT_PENDING = RecordError(
    "PERSON_CONTACT_PENDING", "the person account's contact is read in the next round"
)
"""Campaigns by name (the `campaign` setting); the memberships written."""
"""Support mode: the Accounts new Contacts join, read by company or domain; those created."""
"""New persons saved despite the org's alert-level duplicate rules (sent first, alone)."""
_BASE = ("Id", "Email", "Phone", "FirstName", "LastName", "LastModifiedDate")
_LEAD = ("Company", "IsConverted", "ConvertedContactId")


def _person_fields(ctx: TenantContext) -> tuple[str, ...]:
    def known(sobject: str, names: Iterable[str]) -> list[str]:
        schema = ctx.schema.obj(sobject)
        return [n for n in names if not schema.fields or schema.has(n)]

    mapped = {r.object: [] for r in ctx.settings.field_mapping}  # type: dict[str, list[str]]
    for rule in ctx.settings.field_mapping:
        mapped[rule.object].append(rule.target)
    sobject = ctx.person_object
    extra = _LEAD if sobject == "Lead" else ("AccountId",) if ctx.person_accounts else ()
    fields = known(sobject, [*_BASE, *extra, *mapped.get(sobject, [])])
    if sobject == "Lead":
        contact = known("Contact", [*_BASE, *mapped.get("Contact", [])])
        fields += [f"ConvertedContact.{f}" for f in contact]
    return tuple(dict.fromkeys(fields))


def _contact_fields(ctx: TenantContext) -> tuple[str, ...]:
    schema = ctx.schema.obj("Contact")
    mapped = [r.target for r in ctx.settings.field_mapping if r.object == "Contact"]
    names = [*_BASE, *mapped]
    return tuple(dict.fromkeys(n for n in names if not schema.fields or schema.has(n)))


def _account_query(works: Sequence[ChatWork], settings: TenantSettings) -> InQuery | None:
    """Support mode: the Accounts new Contacts may join, by company name or website."""
    fields = ("Id", "Name", "Website", "LastModifiedDate")
    linking = settings.account_linking
    keys = sorted({k for w in works if (k := account_key(w.conversation, linking))})
    if not keys:
        return None
    if keys[0][0] == NAME:  # as the visitors typed them: SOQL compares without case
        companies = {(w.conversation.visitor.company or "").strip() for w in works}
        return InQuery("Account", fields, "Name", tuple(sorted(c for c in companies if c)))
    sites = sorted({v for _, domain in keys for v in website_variants(domain)})
    return InQuery("Account", fields, "Website", tuple(sites))


def needs_lookup(work: ChatWork, ctx: TenantContext) -> bool:
    """Whether the chat's activity is looked for before it is written. Not when Salesforce
    refuses a second one (`TenantContext.key_unique`): the create is the lookup. Still for a
    chat it refused so (the activity's person is the chat's) and for a visitor without an
    identity (only the activity tells which person an earlier delivery created)."""
    if not ctx.key_unique or work.key_taken:
        return True
    return identity(work.conversation, ctx.settings.match_by_phone) is None


def read_queries(
    works: Sequence[ChatWork],
    ctx: TenantContext,
    agent_emails: Sequence[str],
    known: Collection[tuple[str, str]] = (),
) -> dict[str, InQuery]:
    """The queries of a round's read (only those with values to look for). Visitors whose
    identity is in `known` are not looked up (their rows come from the visitor cache)."""
    settings, person = ctx.settings, ctx.person_object
    keys = sorted({k for w in works if needs_lookup(w, ctx) for k in dedupe_keys(w, ctx)})
    works = [w for w in works if identity(w.conversation, settings.match_by_phone) not in known]
    emails = sorted({e for w in works if (e := w.conversation.visitor.email)})
    phones = sorted(
        {
            v
            for w in works
            if (found := identity(w.conversation, settings.match_by_phone)) and found[0] == "phone"
            for v in phone_variants(found[1])
        }
    )
    fields = _person_fields(ctx)
    queries = {}
    if keys:
        queries[ACTIVITIES] = InQuery(
            ctx.activity_object, ("Id", ctx.person_link, ctx.key_field), ctx.key_field, tuple(keys)
        )
    if emails:
        queries[PERSONS] = InQuery(person, fields, "Email", tuple(emails))
    if phones:
        queries[PHONES] = InQuery(person, fields, "Phone", tuple(phones))
    namesakes = sorted(
        {last for w in works if w.duplicate_rule == "fired" and (last := names(w.conversation)[1])}
    )
    if namesakes:
        queries[NAMESAKES] = InQuery(person, fields, "LastName", tuple(namesakes))
    rule = settings.campaign
    if rule is not None and rule.match == "name":
        wanted = sorted({v for w in works if (v := campaign_value(w.conversation, rule))})
        if wanted:
            queries[CAMPAIGNS] = InQuery("Campaign", ("Id", "Name"), "Name", tuple(wanted))
    if ctx.person_accounts:
        queries[PERSON_TYPES] = InQuery(
            "RecordType", ("Id",), "SobjectType", ("Account",), (("IsPersonType", True),)
        )
    elif settings.mode == "support" and (accounts := _account_query(works, settings)):
        queries[ACCOUNTS] = accounts
    if settings.mode == "sales" and settings.sales_match_contacts:
        contact = _contact_fields(ctx)
        if emails:
            queries[CONTACTS] = InQuery("Contact", contact, "Email", tuple(emails))
        if phones:
            queries[CONTACT_PHONES] = InQuery("Contact", contact, "Phone", tuple(phones))
    if agent_emails:
        queries[USERS] = InQuery(
            "User", ("Id", "Email"), "Email", tuple(agent_emails), (("IsActive", True),)
        )
    return queries


@dataclass
class RoundPlan:
    """A round's writes and which chats each record serves (indexes align)."""

    steps: list[WriteStep] = field(default_factory=list)
    new_persons: dict[str, list[list[ChatWork]]] = field(
        default_factory=lambda: {NEW_ALLOWED: [], NEW_PERSONS: []}
    )
    """Per step (allowSave or not), the chats of each new person."""
    members: list[ChatWork] = field(default_factory=list)
    """The chat of each campaign membership written."""
    new_accounts: list[list[ChatWork]] = field(default_factory=list)
    """The chats whose new Contact joins each new Account."""
    updates: list[list[ChatWork]] = field(default_factory=list)
    activities: dict[str, list[ChatWork]] = field(default_factory=dict)
    files: list[tuple[ChatWork, PendingFile]] = field(default_factory=list)


def _person_of(row: Row | None) -> str | None:
    value = (row.get("WhoId") or row.get("ContactId")) if row is not None else None
    return str(value) if value else None


def _object_of(record_id: str) -> Literal["Lead", "Contact"]:
    return "Lead" if record_id.startswith("00Q") else "Contact"


class _Planner:
    """Builds one round's plan; one instance per round."""

    def __init__(self, reads: Reads, ctx: TenantContext) -> None:
        self.ctx = ctx
        region = ctx.settings.default_phone_region
        self.emails = by_email(reads.get(PERSONS))
        self.phones = by_phone(reads.get(PHONES), region)
        self.acts = {str(r.get(ctx.key_field)): r for r in reads.get(ACTIVITIES)}
        self.namesakes = reads.get(NAMESAKES)
        self.campaigns = {
            str(r.get("Name", "")).strip().lower(): str(r["Id"]) for r in reads.get(CAMPAIGNS)
        }
        self.members: list[NewRecord] = []
        self.accounts = by_key(reads.get(ACCOUNTS))
        types = reads.get(PERSON_TYPES)
        self.person_type = str(types[0]["Id"]) if types else None
        self.account_index: dict[AccountKey, int] = {}
        self.contact_emails = by_email(reads.get(CONTACTS))
        self.contact_phones = by_phone(reads.get(CONTACT_PHONES), region)
        self.plan = RoundPlan(activities={ACTS_KNOWN: [], ACTS_NEW: []})
        self.new_index: dict[object, Ref] = {}
        self.creates: dict[str, list[NewRecord]] = {
            NEW_ACCOUNTS: [],
            NEW_ALLOWED: [],
            NEW_PERSONS: [],
        }
        self.updates: dict[str, list[tuple[ChatWork, dict[str, FieldValue]]]] = {}
        self.records: dict[str, list[NewRecord]] = {ACTS_KNOWN: [], ACTS_NEW: []}

    def add(self, work: ChatWork) -> None:
        ctx = self.ctx
        work.transient = None
        work.owner = resolve(
            work.conversation,
            ctx.settings,
            ctx.users,
            ctx.connected_user_id,
            refused=work.refused_owners,
        )
        existing = next(
            (row for k in dedupe_keys(work, ctx) if (row := self.acts.get(k)) is not None), None
        )
        if existing is not None and work.activity_id is None:
            work.activity_id = str(existing["Id"])
        match = self._match(work)
        if work.person_id is None:
            _adopt(work, _person_of(existing), match)
        if work.person_id is None and work.duplicate_rule == "fired":
            self._namesake(work)
        if work.person_id is None and work.duplicate_rule is None and ctx.duplicate_rules_fire:
            self._predict(work)
        if match is not None and match.id == work.person_id and match.values is not None:
            account = match.values.get("AccountId")
            work.person_account_id = str(account) if ctx.person_accounts and account else None
        person: str | Ref | None = work.person_id
        if person is None and work.person_account_created:
            work.transient = PERSON_CONTACT_PENDING  # not found yet: the next read will
            return
        if person is None and work.duplicate_rule != "refused" and self._person_account(work):
            return  # its Case goes on the person contact, read in the next round
        if person is None and work.duplicate_rule != "refused":
            person = self._create_person(work)
        elif match is not None and match.id == work.person_id and not work.update_given_up:
            change = _update_for(work, ctx, match)
            work.update_pending = bool(change)
            if change:
                self.updates.setdefault(match.id, []).append((work, change))
        self._join_campaign(work, person)
        if work.activity_id is None:
            step = ACTS_NEW if isinstance(person, Ref) else ACTS_KNOWN
            self.records[step].append(activity_record(work, ctx, person, work.owner.id))
            self.plan.activities[step].append(work)

    def _namesake(self, work: ChatWork) -> None:
        """After a duplicate rule refused the visitor's new person without naming the one it
        found: adopt the person it most likely found, else save despite the rule."""
        conversation = work.conversation
        first, last = names(conversation)
        found = rule_candidates(
            (r for r in self.namesakes if not r.get("IsConverted")),
            first,
            last,
            conversation.visitor.email,
            conversation.visitor.company,
            conversation.visitor.phone_e164,
            self.ctx.settings.default_phone_region,
        )
        if found:
            work.person_id, work.person_outcome = str(found[0]["Id"]), "matched"
            work.person_object = self.ctx.person_object
        else:
            work.duplicate_rule = "allow"

    def _predict(self, work: ChatWork) -> None:
        """In an org whose duplicate rules fire, a visitor whom no re-read could link ends
        saved with allowSave if a rule fires (see `_namesake`): do it in this round."""
        if not linkable(work.conversation):
            work.duplicate_rule = "allow"

    def _person_account(self, work: ChatWork) -> bool:
        """Person Accounts: create the visitor's person account (the Case waits for its
        person contact, read in the next round). False when the org has no person-account
        record type (the visitor becomes a Contact)."""
        if not self.ctx.person_accounts or self.person_type is None:
            return False
        record_type = self.person_type
        group = ("person-account", identity(work.conversation, False) or id(work))
        self._new_person(
            work, group, lambda owner: person_account_record(work, self.ctx, owner, record_type)
        )
        work.person_account_created = True
        return True

    def _join_campaign(self, work: ChatWork, person: str | Ref | None) -> None:
        rule = self.ctx.settings.campaign
        if rule is None or work.campaign_done or person is None:
            return
        value = campaign_value(work.conversation, rule)
        campaign = value if rule.match == "id" else self.campaigns.get((value or "").lower())
        if campaign is None:
            work.campaign_done = True  # no such campaign: nothing to join
            return
        sobject = work.person_object if work.person_id is not None else self.ctx.person_object
        fields: dict[str, FieldValue] = {
            "CampaignId": campaign,
            "LeadId" if sobject == "Lead" else "ContactId": person,
        }
        if rule.member_status:
            fields["Status"] = rule.member_status
        self.members.append(NewRecord("CampaignMember", fields))
        self.plan.members.append(work)

    def _account(self, work: ChatWork) -> str | Ref | None:
        """Support mode: the Account the new Contact joins (found, or created in this
        round when the tenant says so)."""
        settings = self.ctx.settings
        key = account_key(work.conversation, settings.account_linking)
        if self.ctx.person_object != "Contact" or key is None:
            return None
        found = self.accounts.get(key)
        if found is not None:
            return found
        if not settings.create_account or work.account_refused:
            return None
        if key not in self.account_index:
            self.account_index[key] = len(self.creates[NEW_ACCOUNTS])
            assert work.owner is not None
            fields = {**new_account(work.conversation, key), "OwnerId": work.owner.id}
            self.creates[NEW_ACCOUNTS].append(NewRecord("Account", fields))
            self.plan.new_accounts.append([])
        index = self.account_index[key]
        self.plan.new_accounts[index].append(work)
        return Ref(NEW_ACCOUNTS, index)

    def _match(self, work: ChatWork) -> PersonMatch | None:
        """The person the visitor is: in Sales mode a Contact wins over a Lead (a converted
        Lead's Contact keeps saying which Lead it came from)."""
        lead = select_person(self._candidates(work), self.ctx.person_object)
        contact = self._contact(work)
        if contact is None or (lead is not None and lead.id == contact.id):
            return lead
        return contact

    def _contact(self, work: ChatWork) -> PersonMatch | None:
        """Sales mode: the Contact the visitor already is, which wins over any Lead."""
        found = identity(work.conversation, self.ctx.settings.match_by_phone)
        if found is None:
            return None
        rows = (self.contact_emails if found[0] == "email" else self.contact_phones).get(found[1])
        return select_person(rows, "Contact") if rows else None

    def _candidates(self, work: ChatWork) -> list[Row]:
        found = identity(work.conversation, self.ctx.settings.match_by_phone)
        if found is None:
            return []
        return list((self.emails if found[0] == "email" else self.phones).get(found[1], []))

    def _create_person(self, work: ChatWork) -> Ref:
        # One new person per visitor identity; a visitor without one gets their own.
        group = identity(work.conversation, self.ctx.settings.match_by_phone) or id(work)
        return self._new_person(
            work, group, lambda owner: person_record(work, self.ctx, owner, self._account(work))
        )

    def _new_person(self, work: ChatWork, group: object, record: Callable[[str], NewRecord]) -> Ref:
        """The new person of `group` (its record made by `record(owner id)` the first time,
        in the allowSave step when a duplicate rule is to be passed), serving `work` too."""
        ref = self.new_index.get(group)
        if ref is None:
            step = NEW_ALLOWED if work.duplicate_rule == "allow" else NEW_PERSONS
            ref = self.new_index[group] = Ref(step, len(self.creates[step]))
            assert work.owner is not None
            self.creates[step].append(record(work.owner.id))
            self.plan.new_persons[step].append([])
        self.plan.new_persons[ref.step][ref.index].append(work)
        return ref

    def build(self) -> RoundPlan:
        plan, settings = self.plan, self.ctx.settings
        # Accounts first (new Contacts reference them), then the allowSave persons (sent
        # alone), then the others.
        for name, creates in self.creates.items():
            if creates:
                allow = name == NEW_ALLOWED
                plan.steps.append(WriteStep(name, "create", tuple(creates), allow_duplicates=allow))
        if self.updates:
            records = []
            # Grouped by type: Salesforce takes at most 10 runs of one type per request,
            # and sales mode updates Leads and the Contacts of converted ones side by side.
            for person_id, items in sorted(
                self.updates.items(), key=lambda item: _object_of(item[0])
            ):
                fields = policy.merge(settings.update_policy, (c for _, c in items))
                sobject = _object_of(person_id)
                records.append(NewRecord(sobject, {"Id": person_id, **fields}))
                plan.updates.append([w for w, _ in items])
            plan.steps.append(WriteStep(UPDATES, "update", tuple(records)))
        if self.members:
            plan.steps.append(WriteStep(MEMBERS, "create", tuple(self.members)))
        for name, records in self.records.items():
            if records:
                plan.steps.append(WriteStep(name, "create", tuple(records)))
        return plan


def plan_round(works: Sequence[ChatWork], reads: Reads, ctx: TenantContext) -> RoundPlan:
    """The writes of one round for the chats not done yet (mutates their progress with
    what the reads settle: existing activities, matched persons, owners)."""
    planner = _Planner(reads, ctx)
    for work in works:
        if not work.done:
            planner.add(work)
    return planner.build()


def _adopt(work: ChatWork, from_activity: str | None, match: PersonMatch | None) -> None:
    if from_activity is not None:  # an earlier delivery chose it: stay with it
        work.person_id, work.person_outcome = from_activity, "matched"
        work.person_object = _object_of(from_activity)
    elif match is not None:
        work.person_id, work.person_outcome = match.id, "matched"
        work.person_object, work.converted_from = match.object, match.converted_from
        if work.person_account_created:  # the person contact of the account it made
            work.person_outcome = "created"


def _update_for(work: ChatWork, ctx: TenantContext, match: PersonMatch) -> dict[str, FieldValue]:
    schema = ctx.schema.obj(match.object)
    offered = policy.offered(work.conversation, schema, ctx.settings.field_mapping)
    limits = work.limits.get(match.object, {})
    offered = {
        k: (sf_cut(v, limits[k]) if isinstance(v, str) and k in limits else v)
        for k, v in offered.items()
    }
    region = ctx.settings.default_phone_region
    return policy.changes(ctx.settings.update_policy, match.values, offered, region)
