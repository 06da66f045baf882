"""The Lead/Contact and Task/Case records of a chat, per the seed's field table plus the
tenant's field mapping, cut to the lengths describe reports."""

from __future__ import annotations

import base64
from collections.abc import Mapping

from chat_contracts.chat import DESCRIPTION_LIMIT
from crm_sync.domain.details import render, transcript_file_name
from crm_sync.domain.mapping import fit, mapped_fields
from crm_sync.domain.salesforce import FieldValue, NewRecord, Ref
from crm_sync.domain.visitor import chat_key, legacy_chat_key, names, phone, subject
from crm_sync.domain.work import ChatWork, PendingFile, TenantContext

# Where ingest's cuts land in Salesforce, to report them as `Object.Field`.
_INGEST_FIELDS = {
    "visitor.first_name": "FirstName",
    "visitor.last_name": "LastName",
    "visitor.email": "Email",
    "visitor.phone_raw": "Phone",
}


def _fitted(
    work: ChatWork, ctx: TenantContext, sobject: str, fields: dict[str, FieldValue]
) -> NewRecord:
    schema = ctx.schema.obj(sobject)
    if schema.fields:  # leave out what the org does not have (SuppliedCompany, ...)
        fields = {k: v for k, v in fields.items() if schema.has(k) or k == "Id"}
    kept, cut = fit(sobject, fields, schema, work.limits.get(sobject))
    work.truncated.update(cut)
    return NewRecord(sobject, {k: v for k, v in kept.items() if v is not None})


def person_record(
    work: ChatWork, ctx: TenantContext, owner_id: str, account: str | Ref | None = None
) -> NewRecord:
    """A new Lead (sales) or Contact (support, under `account` when it has one)."""
    conversation, sobject = work.conversation, ctx.person_object
    first, last = names(conversation)
    fields: dict[str, FieldValue] = {
        "FirstName": first,
        "LastName": last,
        "Email": conversation.visitor.email,
        "Phone": phone(conversation),
        "OwnerId": owner_id,
    }
    if sobject == "Lead":
        fields["Company"] = conversation.visitor.company or ctx.settings.company_placeholder
    elif account is not None:
        fields["AccountId"] = account
    rules = ctx.settings.field_mapping
    fields.update(mapped_fields(conversation, rules, ctx.schema.obj(sobject), work.dropped))
    return _fitted(work, ctx, sobject, fields)


def person_account_record(
    work: ChatWork, ctx: TenantContext, owner_id: str, record_type: str
) -> NewRecord:
    """A new person account for the visitor (Person Accounts orgs, Support mode)."""
    conversation = work.conversation
    first, last = names(conversation)
    fields: dict[str, FieldValue] = {
        "RecordTypeId": record_type,
        "FirstName": first,
        "LastName": last,
        "PersonEmail": conversation.visitor.email,
        "Phone": phone(conversation),
        "OwnerId": owner_id,
    }
    return _fitted(work, ctx, "Account", fields)


def activity_record(
    work: ChatWork, ctx: TenantContext, person: str | Ref | None, owner_id: str
) -> NewRecord:
    """The Task (sales) or Case (support) of the chat, under its person."""
    conversation, sobject, settings = work.conversation, ctx.activity_object, ctx.settings
    schema = ctx.schema.obj(sobject)
    limit = schema.text_limit("Description") or DESCRIPTION_LIMIT
    support = sobject == "Case"
    details = render(
        conversation,
        limit=work.limits.get(sobject, {}).get("Description", limit),
        with_company=support,
        attach_transcript=settings.attach_full_transcript,
    )
    if details.transcript_cut:
        work.truncated.add(f"{sobject}.Description")
    fields: dict[str, FieldValue] = {
        "Subject": subject(conversation),
        "Description": details.text,
        "OwnerId": owner_id,
        ctx.person_link: person,
    }
    if ctx.key_field != "Subject":
        spec = schema.field(ctx.key_field)
        fields[ctx.key_field] = chat_key(conversation, (spec.length if spec else None) or 64)
    when = conversation.ended_at or conversation.occurred_at
    if support:
        visitor = conversation.visitor
        fields |= {
            "Origin": settings.case_origin,
            "SuppliedEmail": visitor.email,
            "SuppliedName": " ".join(p for p in (visitor.first_name, visitor.last_name) if p),
            "SuppliedPhone": phone(conversation),
            "SuppliedCompany": visitor.company,
        }
        if work.person_account_id is not None:  # a person contact: the Case is its account's
            fields["AccountId"] = work.person_account_id
    else:
        fields |= {"Status": settings.task_status, "ActivityDate": when.date().isoformat()}
    fields.update(mapped_fields(conversation, settings.field_mapping, schema, work.dropped))
    if details.transcript_cut and settings.attach_full_transcript and not work.files_loaded:
        name = transcript_file_name(conversation)
        data = conversation.transcript.encode()
        work.files.append(PendingFile(name.removesuffix(".txt"), name, data))
    return _fitted(work, ctx, sobject, {k: v for k, v in fields.items() if v != ""})


def dedupe_keys(work: ChatWork, ctx: TenantContext) -> tuple[str, ...]:
    """Every value an activity already written for this chat may hold in the key field:
    the key `activity_record` writes first, then the one earlier versions wrote."""
    if ctx.key_field == "Subject":
        return (subject(work.conversation),)
    spec = ctx.schema.obj(ctx.activity_object).field(ctx.key_field)
    limit = (spec.length if spec else None) or 64
    key = chat_key(work.conversation, limit)
    if not ctx.legacy_chat_keys:
        return (key,)
    return (key, legacy_chat_key(work.conversation, limit))


def ingest_truncations(work: ChatWork, ctx: TenantContext) -> set[str]:
    """ingest's cuts, named by the Salesforce field each value lands in."""
    out = set()
    for cut in work.conversation.truncations:
        target = _INGEST_FIELDS.get(cut.field)
        if target is not None:
            out.add(f"{ctx.person_object}.{target}")
        elif cut.field == "visitor.company" and ctx.person_object == "Lead":
            out.add("Lead.Company")
        elif cut.field == "subject":
            out.add(f"{ctx.activity_object}.Subject")
    return out


def file_record(file: PendingFile, parent: str | Ref) -> NewRecord:
    """A ContentVersion shared with `parent` on upload."""
    fields: Mapping[str, FieldValue] = {
        "Title": file.title,
        "PathOnClient": file.path_on_client,
        "VersionData": base64.b64encode(file.data).decode("ascii"),
        "FirstPublishLocationId": parent,
    }
    return NewRecord("ContentVersion", fields)
