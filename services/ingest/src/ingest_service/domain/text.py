"""Text clean-up: HTML to plain text, names split for Salesforce, emails validated.

All of it runs per message of every chat, so the common case (plain text) is a fast path
and every pattern is linear in its input (no nested quantifiers: bodies reach 1 MiB).
"""

from __future__ import annotations

import html
import re
from typing import Final

from chat_contracts.base import EMAIL_PATTERN, normalise_email
from chat_contracts.chat import SALESFORCE_LIMITS

# Tags that end a line of text in a browser; the rest are dropped with their markup only.
_LINE_BREAK_TAG: Final = re.compile(
    r"<\s*(?:br|/p|/div|/li|/tr|/h[1-6]|/blockquote|/pre)\b[^<>]*>", re.IGNORECASE
)
# Comments (to their end, or the text's), tags that start with a letter (`/letter`, `!`):
# "a < b" stays text.
_MARKUP: Final = re.compile(r"<!--.*?(?:-->|\Z)|</?[A-Za-z][^<>]*>|<![^<>]*>", re.DOTALL)
_SPACES: Final = re.compile(r"[^\S\n]+")
_SPACE_AROUND_NEWLINE: Final = re.compile(r" ?\n ?")
_BLANK_LINES: Final = re.compile(r"\n{3,}")
_EMAIL: Final = re.compile(EMAIL_PATTERN)
EMAIL_LIMIT: Final = SALESFORCE_LIMITS["visitor.email"]


def strip_html(text: str) -> str:
    """Plain text of a chat message that may hold HTML: tags removed, entities decoded,
    runs of spaces collapsed, at most one blank line in a row, ends trimmed."""
    if "<" in text:
        text = _MARKUP.sub("", _LINE_BREAK_TAG.sub("\n", text))
    elif "&" not in text and "  " not in text and not _has_layout(text):
        return text.strip()  # plain one-line text: the common case
    if "&" in text:
        text = html.unescape(text)  # may bring non-breaking spaces: tidied below
    # Each pass below runs only when it can change something. Every whitespace character
    # but " " is unprintable, so printable text without "  " has no run to collapse.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "  " in text or not (text.isprintable() or text.replace("\n", "").isprintable()):
        text = _SPACES.sub(" ", text)
    if "\n" not in text:
        return text.strip()
    if " \n" in text or "\n " in text:
        text = _SPACE_AROUND_NEWLINE.sub("\n", text)
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def _has_layout(text: str) -> bool:
    return "\n" in text or "\r" in text or "\t" in text


def clean_line(text: str | None) -> str | None:
    """A one-line value (name, company): whitespace collapsed; None when nothing is left."""
    if text is None:
        return None
    cleaned = " ".join(text.split())
    return cleaned or None


def split_name(full_name: str | None) -> tuple[str | None, str | None]:
    """(first name, last name) as Salesforce wants them: the last word is the last name,
    the words before it the first name; a single word is a last name only."""
    cleaned = clean_line(full_name)
    if cleaned is None:
        return None, None
    first, _, last = cleaned.rpartition(" ")
    return (first or None), last


def valid_email(raw: str | None) -> str | None:
    """The trimmed, lower-cased address when it is one Salesforce would take, else None."""
    if raw is None:
        return None
    email = normalise_email(raw)
    if not email or len(email) > EMAIL_LIMIT or _EMAIL.fullmatch(email) is None:
        return None
    return email
