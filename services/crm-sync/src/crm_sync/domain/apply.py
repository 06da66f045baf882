"""What a round's write results mean for each chat: ids learnt, duplicates linked, fields
cut, owners dropped, transient failures left for the next round, permanent ones given up."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from crm_sync.domain import campaigns
from crm_sync.domain.chat_records import file_record
from crm_sync.domain.errors import Action, classify, dead_letter_reason, too_long_limits
from crm_sync.domain.matching import linkable
from crm_sync.domain.plan import (
    ACTS_KNOWN,
    ACTS_NEW,
    FILES,
    MEMBERS,
    NEW_ACCOUNTS,
    PERSON_CONTACT_PENDING,
    UPDATES,
    RoundPlan,
)
from crm_sync.domain.salesforce import (
    NewRecord,
    RecordError,
    Ref,
    SaveResult,
    StepResult,
    WriteStep,
)
from crm_sync.domain.work import ChatWork, TenantContext

_HALTED = RecordError("PROCESSING_HALTED", "the step did not run")


def add_files(
    plan: RoundPlan, works: Sequence[ChatWork], ctx: TenantContext, max_bytes: int
) -> None:
    """Add the upload of pending files (about `max_bytes` a round at most) to the plan: on
    the activity when the org allows files there, else on the person."""
    on_activity = ctx.schema.files_on(ctx.activity_object)
    refs: dict[int, Ref] = {}
    if on_activity:
        for name, chats in plan.activities.items():
            refs.update((id(work), Ref(name, index)) for index, work in enumerate(chats))
    else:
        for step, groups in plan.new_persons.items():
            for index, chats in enumerate(groups):
                refs.update((id(work), Ref(step, index)) for work in chats)
    records: list[NewRecord] = []
    budget = max_bytes
    for work in works:
        if work.failure is not None:
            continue
        known = work.activity_id if on_activity else work.person_id
        parent = known if known is not None else refs.get(id(work))
        if parent is None:
            continue
        for file in work.files:
            if records and len(file.data) > budget:
                break
            budget -= len(file.data)
            records.append(file_record(file, parent))
            plan.files.append((work, file))
    if records:
        plan.steps.append(WriteStep(FILES, "create", tuple(records)))


def apply_results(plan: RoundPlan, results: Mapping[str, StepResult], ctx: TenantContext) -> int:
    """Record every step's outcome on the chats it served; returns how many new persons a
    duplicate rule refused."""
    refused = 0
    for index, chats in enumerate(plan.new_accounts):
        outcome = _result(results, NEW_ACCOUNTS, index)
        if not outcome.ok:  # their Contacts go without an Account next round
            for work in chats:
                work.account_refused, work.transient = True, outcome.errors[0]
    for step, groups in plan.new_persons.items():
        for index, chats in enumerate(groups):
            outcome = _result(results, step, index)
            for work in chats:
                if outcome.ok and work.person_account_created:
                    # Its person contact is the person the chat goes on: read next round.
                    work.transient = PERSON_CONTACT_PENDING
                elif outcome.ok:
                    work.person_id, work.person_outcome = outcome.id, "created"
                    work.person_object = ctx.person_object
                else:
                    work.person_account_created = False
                    refused += outcome.errors[0].code == "DUPLICATES_DETECTED"
                    _failed(work, outcome.errors[0], ctx.person_object, _record(plan, step, index))
    for index, chats in enumerate(plan.updates):
        outcome = _result(results, UPDATES, index)
        for work in chats:
            if outcome.ok:
                work.update_pending, work.person_outcome = False, "updated"
                continue
            action = classify(outcome.errors[0], owner_set=False)
            if action is Action.TRUNCATE:
                _cut(
                    work,
                    outcome.errors[0],
                    work.person_object or ctx.person_object,
                    _record(plan, UPDATES, index),
                )
            elif action is Action.RETRY:
                _forget_converted(work, outcome.errors[0])
                work.transient = outcome.errors[0]
            else:  # a rule refusing the update does not lose the chat: it is written anyway
                work.update_pending, work.update_given_up = False, True
    for index, work in enumerate(plan.members):
        answer = _result(results, MEMBERS, index).errors
        first = answer[0] if answer else None
        # Joined, already a member, or refused for good: done. Only a halted or locked
        # step is tried again (in a round the chat needs anyway).
        if campaigns.joined(first) or first is None or classify(first) is not Action.RETRY:
            work.campaign_done = True
    for name in (ACTS_KNOWN, ACTS_NEW):
        for index, work in enumerate(plan.activities.get(name, [])):
            outcome = _result(results, name, index)
            if outcome.ok:
                work.activity_id, work.activity_created = outcome.id, True
            elif work.failure is None:
                error = outcome.errors[0]
                if error.code == "DUPLICATE_VALUE" and ctx.key_field in error.fields:
                    # Its chat key is taken: an earlier delivery wrote it (not looked up
                    # first, `plan.needs_lookup`), or another writer (a worker that had the
                    # chat before a rebalance) since our read. The next read finds it, and
                    # the chat stays with the person it went on then.
                    _key_taken(work)
                    work.transient = error
                    continue
                _failed(work, error, ctx.activity_object, _record(plan, name, index))
    for index, (work, file) in enumerate(plan.files):
        outcome = _result(results, FILES, index)
        if outcome.ok or classify(outcome.errors[0]) is Action.DEAD_LETTER:
            # A file Salesforce refuses for good is left out (its link is in the details);
            # the chat itself is written.
            work.attachments_uploaded += int(outcome.ok)
            work.files.remove(file)
        else:
            work.transient = outcome.errors[0]
    return refused


def _result(results: Mapping[str, StepResult], name: str, index: int) -> SaveResult:
    step = results.get(name)
    if step is None or step.error is not None or index >= len(step.results):
        error = step.error if step is not None and step.error is not None else _HALTED
        return SaveResult(None, (error,))
    return step.results[index]


def _record(plan: RoundPlan, name: str, index: int) -> NewRecord | None:
    step = next((s for s in plan.steps if s.name == name), None)
    return step.records[index] if step is not None and index < len(step.records) else None


def _cut(work: ChatWork, error: RecordError, sobject: str, record: NewRecord | None) -> None:
    sent = {k: v for k, v in (record.fields if record else {}).items() if isinstance(v, str)}
    limits = too_long_limits(error, sent)
    if not limits:  # nothing we sent can be cut: it will not get better
        work.fail(error, dead_letter_reason(error))
        return
    work.limits.setdefault(sobject, {}).update(limits)
    work.transient = error


def _key_taken(work: ChatWork) -> None:
    work.key_taken = True
    work.files.clear()  # the activity written before had its files uploaded then
    work.files_loaded = True
    if work.person_outcome == "matched":
        work.forget_person()


def _forget_converted(work: ChatWork, error: RecordError) -> None:
    """The Lead the chat was matched to was converted since the read (Salesforce refuses
    anything that references it): match again, which follows it to its Contact."""
    if error.code == "CANNOT_UPDATE_CONVERTED_LEAD" and work.person_object == "Lead":
        work.forget_person()


def _failed(work: ChatWork, error: RecordError, sobject: str, record: NewRecord | None) -> None:
    owner = work.owner
    action = classify(error, owner_set=owner is not None and owner.source != "connected_user")
    if action is Action.LINK_DUPLICATE and sobject in ("Lead", "Contact"):
        work.person_id, work.person_outcome = error.duplicate_ids[0], "matched"
        work.person_object = "Lead" if error.duplicate_ids[0].startswith("00Q") else "Contact"
        work.transient = error
    elif action is Action.FIND_DUPLICATE and sobject in ("Lead", "Contact"):
        # Refused again despite allowSave (a blocking rule): the chat is written without
        # a person rather than lost. A visitor no re-read could link is saved with allowSave
        # next round, without looking for the one the rule found.
        if work.duplicate_rule == "allow":
            work.duplicate_rule = "refused"
        else:
            work.duplicate_rule = "fired" if linkable(work.conversation) else "allow"
        work.transient = error
    elif action is Action.TRUNCATE:
        _cut(work, error, sobject, record)
    elif action is Action.DROP_OWNER:
        if owner is not None:
            work.refused_owners.add(owner.id)
        work.transient = error
    elif action is Action.RETRY:
        _forget_converted(work, error)
        work.transient = error
    else:  # permanent, or a duplicate named for an activity (nothing to link it to)
        work.fail(error, dead_letter_reason(error))
