"""SOQL literals: values escaped by Salesforce's rules, never pasted raw. Pure functions.

Salesforce's escapes inside a single-quoted literal are `\\' \\" \\\\ \\n \\r \\t \\b \\f
\\uXXXX`, plus `\\_ \\%` inside a LIKE pattern only; any other backslash is
MALFORMED_QUERY. `escape_string` writes every quote and backslash escaped and every other
control character as `\\uXXXX`, so a value can never end its literal early, whatever it
holds: the literal's end is always the quote this module writes.

    quote("x' OR Name != '")           -> "'x\\' OR Name != \\''"
    in_list(["a@b.co", "c@d.co"])      -> "('a@b.co','c@d.co')"
    quote_like("50%_off")              -> "'50\\%\\_off'"
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from chat_contracts.base import JsonScalar

SoqlValue = JsonScalar | date | datetime

_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_LIKE_ESCAPES = {"%": "\\%", "_": "\\_"}
# C0/C1 controls and the Unicode line separators have no short escape: `\uXXXX` keeps the
# query text printable and leaves no raw line breaks a log or a proxy might mangle.
_TABLE: dict[int, str] = {ord(k): v for k, v in _ESCAPES.items()}
for _code in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]:
    _TABLE.setdefault(_code, f"\\u{_code:04x}")
_LIKE_TABLE: dict[int, str] = {**_TABLE, **{ord(k): v for k, v in _LIKE_ESCAPES.items()}}


class SoqlValueError(ValueError):
    """A value that has no SOQL literal (NaN, infinity, a container)."""


def escape_string(text: str) -> str:
    """The body of a single-quoted SOQL literal holding `text` (no quotes added)."""
    return text.translate(_TABLE)


def escape_like(text: str) -> str:
    """`escape_string`, and `%`/`_` escaped too: `text` matches itself inside LIKE."""
    return text.translate(_LIKE_TABLE)


def quote(value: SoqlValue) -> str:
    """The SOQL literal of a value: strings single-quoted and escaped, numbers in plain
    decimal notation, booleans `true`/`false`, None `null`, dates and datetimes in ISO
    form (a naive datetime is refused: Salesforce needs an offset)."""
    if isinstance(value, str):
        return "'" + escape_string(value) + "'"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise SoqlValueError("a datetime literal needs a timezone offset")
        return value.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    raise SoqlValueError(f"no SOQL literal for a {type(value).__name__}")


def quote_like(text: str) -> str:
    """A single-quoted LIKE pattern matching exactly `text` (no wildcards of its own)."""
    return "'" + escape_like(text) + "'"


def in_list(values: Iterable[SoqlValue]) -> str:
    """`(v1,v2,...)` for `IN`/`NOT IN`, each value quoted; refuses an empty list (SOQL
    has no empty IN list, and a query that silently matches nothing hides a bug)."""
    quoted = [quote(v) for v in values]
    if not quoted:
        raise SoqlValueError("IN needs at least one value")
    return "(" + ",".join(quoted) + ")"


def format_number(value: float | int) -> str:
    """A number in the plain decimal notation SOQL accepts (no exponent, no NaN)."""
    if isinstance(value, bool):
        raise SoqlValueError("a boolean is not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise SoqlValueError("NaN and infinity have no SOQL literal")
    text = format(Decimal(repr(value)) if isinstance(value, float) else Decimal(value), "f")
    return text
