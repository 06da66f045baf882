"""Times from the platform, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC. The webhook contract says a time without an offset is UTC.

    Total: a time whose conversion leaves the calendar (year 1 at +05:00) is clamped to
    its end rather than raising on input nobody sends but anybody can.
    """
    offset = moment.utcoffset()
    if offset is None:
        return moment.replace(tzinfo=UTC)
    if not offset:  # already UTC, whichever tzinfo object says so
        return moment
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        edge = datetime.min if moment.year == datetime.min.year else datetime.max
        return edge.replace(tzinfo=UTC)


# Every `HH:MM` of a day, by minute of the day: a stamp per transcript line is a look-up.
_HH_MM: Final = tuple(f"{m // 60:02d}:{m % 60:02d}" for m in range(24 * 60))


def hh_mm_utc(moment: datetime) -> str:
    """`HH:MM` of `moment` in UTC (the transcript's time stamp)."""
    if moment.utcoffset():
        moment = as_utc(moment)
    return _HH_MM[moment.hour * 60 + moment.minute]


def as_utc_or_none(moment: datetime | None) -> datetime | None:
    """`as_utc`, passing None through."""
    return None if moment is None else as_utc(moment)
