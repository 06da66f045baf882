"""Dates and datetimes as Salesforce writes them: `2024-05-01T09:30:00.000+0000` (UTC).

Stored datetimes all have this one shape, so comparing and sorting the strings is
comparing the instants.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

_DATETIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?$"
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def format_datetime(dt: datetime) -> str:
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+0000"


def now() -> str:
    return format_datetime(datetime.now(UTC))


def parse_datetime(text: str) -> datetime | None:
    """A datetime in any of the ISO 8601 forms Salesforce accepts; naive means UTC."""
    m = _DATETIME.match(text)
    if not m:
        return None
    day, clock, frac, zone = m.groups()
    micro = int(((frac or ".0")[1:] + "000000")[:6])
    try:
        dt = datetime.fromisoformat(f"{day}T{clock}").replace(microsecond=micro)
    except ValueError:
        return None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return (dt - sign * offset).replace(tzinfo=UTC)
    return dt.replace(tzinfo=UTC)


def normalize_datetime(text: str) -> str | None:
    dt = parse_datetime(text)
    return format_datetime(dt) if dt else None


def parse_date(text: str) -> date | None:
    if not _DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def today() -> date:
    return datetime.now(UTC).date()
