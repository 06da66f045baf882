"""SOQL date literals (TODAY, LAST_N_DAYS:n, ...) as half-open [start, end) ranges."""

from __future__ import annotations

from datetime import date, timedelta

from sf_emulator import values


def _month_start(d: date, months: int = 0) -> date:
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _days(name: str, today: date) -> tuple[date, date]:
    # Salesforce's default (en_US) week starts on Sunday.
    week = today - timedelta(days=(today.weekday() + 1) % 7)
    if ":" in name:
        kind, n = name.split(":")
        count = int(n)
        if kind == "LAST_N_DAYS":
            return today - timedelta(days=count), today + timedelta(days=1)
        return today + timedelta(days=1), today + timedelta(days=1 + count)
    fixed = {
        "TODAY": (today, today + timedelta(days=1)),
        "YESTERDAY": (today - timedelta(days=1), today),
        "TOMORROW": (today + timedelta(days=1), today + timedelta(days=2)),
        "THIS_WEEK": (week, week + timedelta(days=7)),
        "LAST_WEEK": (week - timedelta(days=7), week),
        "NEXT_WEEK": (week + timedelta(days=7), week + timedelta(days=14)),
        "THIS_MONTH": (_month_start(today), _month_start(today, 1)),
        "LAST_MONTH": (_month_start(today, -1), _month_start(today)),
        "NEXT_MONTH": (_month_start(today, 1), _month_start(today, 2)),
        "THIS_YEAR": (date(today.year, 1, 1), date(today.year + 1, 1, 1)),
        "LAST_YEAR": (date(today.year - 1, 1, 1), date(today.year, 1, 1)),
        "NEXT_YEAR": (date(today.year + 1, 1, 1), date(today.year + 2, 1, 1)),
    }
    return fixed[name]


def date_range(name: str, datetime_field: bool, today: date | None = None) -> tuple[str, str]:
    """The literal's range as stored strings (dates, or UTC datetimes at midnight)."""
    start, end = _days(name.upper(), today or values.today())
    if datetime_field:
        return f"{start.isoformat()}T00:00:00.000+0000", f"{end.isoformat()}T00:00:00.000+0000"
    return start.isoformat(), end.isoformat()
