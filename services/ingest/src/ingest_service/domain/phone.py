"""Phone numbers to E.164 with Google's libphonenumber (`phonenumbers`)."""

from __future__ import annotations

from functools import lru_cache
from typing import Final

import phonenumbers

# Longer than any real number with an extension; libphonenumber refuses them anyway, and
# parsing arbitrary megabytes would be the costliest thing ingest does.
_MAX_INPUT: Final = 64


@lru_cache(maxsize=4096)  # returning visitors and retried events repeat their numbers
def to_e164(raw: str, region: str | None) -> str | None:
    """`raw` in E.164 (`+442079460018`) when it is a valid number, else None.

    Numbers without `+country` are read in `region` (ISO 3166 alpha-2, the tenant's
    default); with none they must carry their country code.
    """
    if not raw or len(raw) > _MAX_INPUT:
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
