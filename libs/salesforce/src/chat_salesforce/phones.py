"""Phone numbers as Salesforce records hold them: SOQL `=` cannot normalise, so a number is
matched in each spelling a stored Phone commonly has. The same rule as crm-sync's visitor
matching (E.164, international and national format), shared here so that bot-actions need
not import a service. Pure functions."""

from __future__ import annotations

import phonenumbers

_FORMATS = (
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
)


def phone_variants(raw: str, region: str | None = None) -> tuple[str, ...]:
    """E.164, international and national spellings of `raw` (read in `region` when it has
    no country code); `raw` as typed when it is not a possible number; () when blank."""
    text = raw.strip()
    if not text:
        return ()
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return (text,)
    if not phonenumbers.is_possible_number(number):
        return (text,)
    return tuple(dict.fromkeys(phonenumbers.format_number(number, f) for f in _FORMATS))
