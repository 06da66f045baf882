"""The key that narrows duplicate-rule candidates: a person's first initial and last name,
in plain form (no case, accents or punctuation). Stored in the lookup index beside the
indexed fields, as the pseudo-field `MATCH_KEY`."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

MATCH_KEY = "$match"
PERSONS = frozenset({"Lead", "Contact"})


def plain(value: Any) -> str:
    """Lower case, no accents, punctuation and runs of spaces as one space."""
    text = unicodedata.normalize("NFKD", str(value or "")).casefold()
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[\W_]+", " ", text).strip()


def match_key(record: dict[str, Any]) -> str | None:
    """The record's key, or None when a name is blank (blank names never match)."""
    first, last = plain(record.get("FirstName")), plain(record.get("LastName"))
    if not first or not last:
        return None
    return f"{first[0]}|{last}"
