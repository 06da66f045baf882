"""Redaction of secrets in log events, wherever in the event they sit.

Two nets, because secrets reach logs two ways: under a telling key (`{"refresh_token": ...}`,
an `Authorization` header) and inside free text (an exception message quoting a URL with
`?access_token=...`, a traceback, a model's repr). Keys are matched by name at any depth of
dicts, lists and tuples; every string is scanned for secret-shaped substrings. Over-redaction
is the accepted price: a masked `max_tokens` costs a reader a moment, a leaked refresh token
costs a tenant its Salesforce org.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, SecretBytes, SecretStr
from structlog.typing import EventDict, WrappedLogger

REDACTED = "[REDACTED]"

# Substrings of key names that mark their value as a secret (case-insensitive).
_SECRET_KEY = re.compile(
    r"token|secret|pass(word|wd|phrase)|pwd|authori[sz]ation|api[_-]?key|cookie|signature"
    r"|credential|private[_-]?key|session[_-]?(id|key|token)|hmac",
    re.IGNORECASE,
)
# Whole key names too short or too generic for substring matching.
_SECRET_EXACT_KEYS = frozenset({"sid", "auth", "sig", "code", "code_verifier"})

# Key words that, followed by `=` or `:` in free text, introduce a secret value.
_TEXT_KEY = (
    r"[\w.-]*(?:token|secret|passw(?:or)?d|pwd|api[_-]?key|signature|cookie"
    r"|authorization|session[_-]?id|credential)[\w-]*|sid|sig"
)
_TEXT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # `Authorization: Bearer <token>` and Salesforce's `OAuth <session id>` scheme.
    (
        re.compile(r"\b(Bearer|OAuth|Basic)\s+[A-Za-z0-9\-._~+/!=]{8,}", re.IGNORECASE),
        rf"\1 {REDACTED}",
    ),
    # key=value, key: value, "key": "value", key='value' (query strings, reprs, JSON text).
    (
        re.compile(rf"""(?i)\b((?:{_TEXT_KEY})["']?\s*[=:]\s*)(["']?)[^\s"'&,;)}}\]]+"""),
        rf"\1\2{REDACTED}",
    ),
    # OAuth authorization codes in callback URLs (`code` alone is too common a word in prose).
    (re.compile(r"([?&]code=)[^&\s#\"']+"), rf"\1{REDACTED}"),
    # Salesforce session ids: the 15- or 18-character org id, `!`, then the secret part.
    (re.compile(r"\b00D[A-Za-z0-9]{12,15}![^\s\"'&,;)}\]]+"), REDACTED),
    # JWTs (id tokens, signed assertions): header.payload.signature, base64url.
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), REDACTED),
    # Passwords inside URLs: scheme://user:password@host.
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@", re.IGNORECASE), rf"\1{REDACTED}@"),
)

# Structures deeper than this are not log-worthy; the cap also stops reference cycles.
_MAX_DEPTH = 12


def is_secret_key(key: object) -> bool:
    """Whether a mapping key names a secret (e.g. `refresh_token`, `X-Hub-Signature`)."""
    name = str(key)
    return name.lower() in _SECRET_EXACT_KEYS or _SECRET_KEY.search(name) is not None


def redact_text(text: str) -> str:
    """Mask secret-looking substrings (bearer tokens, `token=...`, session ids) in text."""
    for pattern, replacement in _TEXT_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_value(value: Any, depth: int = 0) -> Any:
    """Return `value` with secrets masked, recursing into mappings, lists and models."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, SecretStr | SecretBytes):
        return REDACTED
    if depth >= _MAX_DEPTH:
        return "[TRUNCATED]"
    if isinstance(value, BaseModel):
        # mode="json" already masks SecretStr fields; keys are then checked like any dict's.
        return redact_value(value.model_dump(mode="json"), depth + 1)
    if isinstance(value, Mapping):
        return {
            k: REDACTED if is_secret_key(k) else redact_value(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(v, depth + 1) for v in value]
    if isinstance(value, bytes):
        return redact_text(value.decode("utf-8", errors="replace"))
    return value


def redact_secrets(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask secrets in every key and value of the event.

    Place it after `format_exc_info`, so rendered tracebacks are scanned too, and right
    before the renderer, so nothing added later escapes it.
    """
    return {
        key: REDACTED if is_secret_key(key) else redact_value(value)
        for key, value in event_dict.items()
    }
