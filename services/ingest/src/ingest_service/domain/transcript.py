"""The transcript, rendered once as plain text: `[11:55] Jo: Hi, a quote?` per line."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from chat_contracts.chat_raw import WebhookMessage
from ingest_service.domain.text import clean_line, strip_html
from ingest_service.domain.times import hh_mm_utc

DEFAULT_NAMES: Final = {"visitor": "Visitor", "agent": "Agent", "bot": "Bot"}


def render_transcript(
    messages: Iterable[WebhookMessage],
    *,
    visitor_name: str | None = None,
    agent_name: str | None = None,
) -> str:
    """One line per message, `[HH:MM] name: text` (UTC; no time when the platform gave
    none). HTML is stripped; a message's own name wins over the visitor's or agent's."""
    fallback = dict(DEFAULT_NAMES)
    if visitor_name:
        fallback["visitor"] = visitor_name
    if agent_name:
        fallback["agent"] = agent_name
    # A chat has a few speakers and many lines: each (name, sender) is cleaned once.
    speakers: dict[tuple[str | None, str], str] = {}
    lines = []
    for message in messages:
        speaker = (message.name, message.sender)
        who = speakers.get(speaker)
        if who is None:
            who = speakers[speaker] = clean_line(message.name) or fallback[message.sender]
        text = strip_html(message.text)
        if message.sent_at is None:
            lines.append(f"{who}: {text}")
        else:
            lines.append(f"[{hh_mm_utc(message.sent_at)}] {who}: {text}")
    return "\n".join(lines)
