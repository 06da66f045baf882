"""One chat's progress through a batch: what is known, done, pending or failed.

A batch runs in rounds (read, plan, write); each round plans only what is still missing
for each chat, from fresh reads, so a round repeated after a lost answer creates nothing
twice. What a round learns that a fresh read cannot tell (the person created for a
visitor without email, a duplicate Salesforce named, a field's real length) is kept here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from chat_contracts.chat import Conversation
from chat_contracts.dlq import DeadLetterReason
from chat_contracts.settings import TenantSettings
from chat_contracts.sync import SourcePosition
from crm_sync.domain.owner import Owner
from crm_sync.domain.salesforce import RecordError
from crm_sync.domain.schema import OrgSchema

PersonOutcome = Literal["matched", "created", "updated"]


@dataclass(frozen=True, slots=True)
class Source:
    """Where a chat came from: what its dead letter and its next retry need."""

    topic: str = ""
    partition: int | None = None
    offset: int | None = None
    key: bytes | None = None
    value: bytes | None = None
    headers: tuple[tuple[str, bytes], ...] = ()
    attempt: int = 1
    """This delivery's attempt (1 unless the chat came back from the retry topic)."""
    first_failed_at: datetime | None = None
    origin: SourcePosition | None = None
    """The conversations record the chat was first read from (across retries)."""


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a chat was given up."""

    code: str
    message: str
    dlq_reason: DeadLetterReason
    salesforce_code: str | None = None
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PendingFile:
    """A file still to upload for the chat."""

    title: str
    path_on_client: str
    data: bytes


@dataclass
class ChatWork:
    """The mutable progress of one chat within one batch."""

    conversation: Conversation
    source: Source = field(default_factory=Source)
    person_object: Literal["Lead", "Contact"] | None = None
    person_id: str | None = None
    person_outcome: PersonOutcome | None = None
    converted_from: str | None = None
    activity_id: str | None = None
    activity_created: bool = False
    update_pending: bool = False
    update_given_up: bool = False
    person_account_id: str | None = None
    """Person Accounts: the account of the person contact the chat goes on (its Case's
    AccountId)."""
    person_account_created: bool = False
    """Person Accounts: a person account was created for the visitor; its person contact,
    which Salesforce makes with it, is read in the next round."""
    key_taken: bool = False
    """Salesforce refused its activity as a duplicate of the chat key: one was written
    before; the next round reads it (`plan.needs_lookup`)."""
    campaign_done: bool = False
    """Its campaign membership was written, found already there, or given up."""
    account_refused: bool = False
    """Creating the Account a new Contact should join failed: the Contact goes without."""
    files: list[PendingFile] = field(default_factory=list)
    files_loaded: bool = False
    attachments_uploaded: int = 0
    limits: dict[str, dict[str, int]] = field(default_factory=dict)
    refused_owners: set[str] = field(default_factory=set)
    """Users Salesforce refused as owner (inactive): the next in line owns the records."""
    owner: Owner | None = None
    truncated: set[str] = field(default_factory=set)
    dropped: set[str] = field(default_factory=set)
    """Mapped values left out: their field cannot hold them (`Object.Field`)."""
    failure: Failure | None = None
    transient: RecordError | None = None
    duplicate_rule: Literal["fired", "allow", "refused"] | None = None
    """A duplicate rule refused creating the person: look for the one it found (`fired`),
    save despite it (`allow`), or, refused even so, write the chat without a person."""

    @property
    def done(self) -> bool:
        """Finished: given up, or its activity exists with nothing left to write."""
        if self.failure is not None:
            return True
        return self.activity_id is not None and not self.update_pending and not self.files

    def forget_person(self) -> None:
        """Match the chat's person again from the next round's read."""
        self.person_id = self.person_outcome = self.person_object = None
        self.converted_from, self.update_pending = None, False

    def fail(self, error: RecordError, reason: DeadLetterReason) -> None:
        """Give the chat up with Salesforce's error."""
        self.failure = Failure(
            code=error.code.lower(),
            message=error.message or error.code,
            dlq_reason=reason,
            salesforce_code=error.code,
            fields=error.fields,
        )


@dataclass(frozen=True, slots=True)
class TenantContext:
    """What planning a tenant's round needs besides the chats and the reads."""

    settings: TenantSettings
    schema: OrgSchema
    connected_user_id: str
    users: dict[str, str]
    """Agent email -> active User id ("" when no such User)."""
    chat_id_field: str = "Chat_Id__c"
    legacy_chat_keys: bool = True
    """Also look an activity up by the key versions before the tenant-scoped key wrote."""
    duplicate_rules_fire: bool = False
    """The org's duplicate rules refused a new person lately: a visitor whom no re-read
    could link is created with allowSave at once (`plan`), rather than a round later."""

    @property
    def person_object(self) -> Literal["Lead", "Contact"]:
        """Lead in sales mode, Contact in support mode."""
        return "Lead" if self.settings.mode == "sales" else "Contact"

    @property
    def person_accounts(self) -> bool:
        """Support mode in an org with Person Accounts (describe shows them): a new visitor
        is a person account, not a Contact of no Account."""
        return self.settings.mode == "support" and self.schema.obj("Account").has("IsPersonAccount")

    @property
    def activity_object(self) -> Literal["Task", "Case"]:
        """Task in sales mode, Case in support mode."""
        return "Task" if self.settings.mode == "sales" else "Case"

    @property
    def person_link(self) -> str:
        """The activity's field naming the person."""
        return "WhoId" if self.settings.mode == "sales" else "ContactId"

    @property
    def key_unique(self) -> bool:
        """Salesforce refuses a second activity of a chat, so a chat need not be looked up
        before it is written: the chat-id field is an External ID and Unique and no older
        key spelling (`legacy_chat_keys`), which it would not refuse, is looked for."""
        return (
            self.key_field != "Subject"
            and not self.legacy_chat_keys
            and self.schema.unique_key(self.activity_object, self.key_field)
        )

    @property
    def key_field(self) -> str:
        """The activity field the dedupe key is in: the chat-id field, else Subject."""
        return self.schema.chat_id_field(self.activity_object, self.chat_id_field) or "Subject"


def collapse(works: list[ChatWork]) -> tuple[list[ChatWork], list[tuple[ChatWork, ChatWork]]]:
    """The chats to write, and each repeat of one of them in the same batch (a redelivery
    next to its original) paired with the chat it repeats."""
    first: dict[tuple[str, str], ChatWork] = {}
    repeats: list[tuple[ChatWork, ChatWork]] = []
    for work in works:
        key = (work.conversation.kind, work.conversation.chat_id)
        if key in first:
            repeats.append((work, first[key]))
        else:
            first[key] = work
    return list(first.values()), repeats


def follow(repeat: ChatWork, original: ChatWork) -> None:
    """A repeat ends as its original did, having created nothing itself."""
    repeat.person_object, repeat.person_id = original.person_object, original.person_id
    repeat.person_outcome = "matched" if original.person_id else None
    repeat.converted_from, repeat.activity_id = original.converted_from, original.activity_id
    repeat.owner, repeat.failure = original.owner, original.failure
