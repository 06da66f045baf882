"""Salesforce-style record ids: 15 case-sensitive characters plus a 3-character suffix.

The suffix encodes which of the 15 characters are upper-case, so an 18-character id
survives case-insensitive comparison; the key prefix (first 3 characters) names the
object, which is how polymorphic references (WhoId, WhatId) know what they point at.
"""

from __future__ import annotations

import os
import re

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_RE = re.compile(r"^[a-zA-Z0-9]{15}(?:[A-Za-z0-5]{3})?$")
# Real ids carry a pod number after the prefix; any two base-62 characters will do.
_POD = "5g"


def checksum(id15: str) -> str:
    """The 3-character suffix Salesforce appends to a 15-character id."""
    out = []
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        out.append(_SUFFIX[bits])
    return "".join(out)


def new_id(prefix: str) -> str:
    """A fresh, random 18-character id with the object's key prefix."""
    n = int.from_bytes(os.urandom(8), "big")
    unique = []
    for _ in range(9):
        n, r = divmod(n, 62)
        unique.append(_BASE62[r])
    id15 = prefix + _POD + "0" + "".join(unique)
    return id15 + checksum(id15)


def is_id(value: str) -> bool:
    """True for a well-formed 15- or 18-character id (the suffix must match)."""
    if not _ID_RE.match(value):
        return False
    return len(value) == 15 or checksum(value[:15]) == value[15:].upper()


def to18(value: str) -> str:
    """The 18-character form of a well-formed id (callers check `is_id` first)."""
    if len(value) == 18:
        return value[:15] + value[15:].upper()
    return value + checksum(value)
