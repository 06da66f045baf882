"""Text lengths as Salesforce may count them.

Salesforce counts a character outside the Basic Multilingual Plane (an emoji, many CJK
extension characters) as two: UTF-16 code units, as formulas and Apex do. Whether a DML
length check does depends on where the org runs, so crm-sync cuts in UTF-16 units always:
what fits in UTF-16 units fits in code points too, and an org counting units never refuses
the cut text again (which would loop until the chat is given up).
"""

from __future__ import annotations


def sf_length(text: str) -> int:
    """`text`'s length in UTF-16 code units."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def sf_cut(text: str, limit: int) -> str:
    """The longest start of `text` of at most `limit` UTF-16 code units (a character is
    never split in half)."""
    if len(text) <= limit // 2 or sf_length(text) <= limit:
        return text
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text
