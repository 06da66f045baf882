"""The Task Comments / Case Description of a conversation, as the seed's table lists it:
agent, visitor, times, request page, notes, custom fields and variables, attachments,
then the transcript. A transcript that does not fit is cut here and attached whole."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from chat_contracts.chat import DESCRIPTION_LIMIT, Conversation
from crm_sync.domain.text import sf_cut, sf_length
from crm_sync.domain.visitor import KIND_LABEL

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class Details:
    """The text to store, and whether the transcript had to be cut to fit."""

    text: str
    transcript_cut: bool


def transcript_file_name(conversation: Conversation) -> str:
    """`transcript-<chat id>.txt`, with characters unsafe in a file name replaced."""
    return f"transcript-{_UNSAFE.sub('-', conversation.chat_id)[:100]}.txt"


def _when(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else None


def _header(conversation: Conversation, with_company: bool) -> list[str]:
    visitor, agent = conversation.visitor, conversation.agent
    name = " ".join(p for p in (visitor.first_name, visitor.last_name) if p)
    lines = [f"{KIND_LABEL[conversation.kind]} {conversation.chat_id}"]
    if agent is not None and (agent.name or agent.email):
        who = agent.name or ""
        lines.append(f"Agent: {who} <{agent.email}>".strip() if agent.email else f"Agent: {who}")
    pairs: list[tuple[str, str | None]] = [
        ("Name", name or None),
        ("Email", visitor.email),
        ("Phone", visitor.phone_e164 or visitor.phone_raw),
        ("Company", visitor.company if with_company else None),
        ("Started", _when(conversation.started_at)),
        ("Ended", _when(conversation.ended_at)),
        ("Request page", conversation.request_page),
        ("Notes", conversation.notes),
    ]
    lines += [f"{label}: {value}" for label, value in pairs if value]
    for title, values in (
        ("Custom fields", conversation.custom_fields),
        ("Custom variables", conversation.custom_variables),
    ):
        if values:
            lines.append(f"{title}:")
            lines += [f"  {k}: {v}" for k, v in values.items()]
    if conversation.attachments:
        lines.append("Attachments:")
        lines += [f"  {a.name}: {a.url}" for a in conversation.attachments]
    return lines


def render(
    conversation: Conversation,
    *,
    limit: int = DESCRIPTION_LIMIT,
    with_company: bool = False,
    attach_transcript: bool = True,
) -> Details:
    """The details text, at most `limit` characters. When the transcript does not fit it
    is cut with a note naming the attached file (or saying it was cut)."""
    head = "\n".join(_header(conversation, with_company))
    transcript = conversation.transcript
    text = f"{head}\n\nTranscript:\n{transcript}" if transcript else head
    if sf_length(text) <= limit:
        return Details(text, transcript_cut=False)
    note = (
        f"\n[transcript cut: {len(transcript)} characters, attached whole as "
        f"{transcript_file_name(conversation)}]"
        if attach_transcript
        else f"\n[transcript cut: {len(transcript)} characters]"
    )
    keep = max(0, limit - sf_length(note))
    return Details(sf_cut(sf_cut(text, keep) + note, limit), transcript_cut=bool(transcript))
