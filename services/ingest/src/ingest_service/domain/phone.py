"""Phone numbers to E.164 with Google's libphonenumber (`phonenumbers`)."""

from __future__ import annotations

from functools import lru_cache
from typing import Final

import phonenumbers
from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    PhoneMetadata,
    PhoneNumber,
    PhoneNumberType,
    is_valid_number_for_region,
    national_significant_number,
)
from phonenumbers.phonenumberutil import _number_type_helper
from phonenumbers.re_util import re_compile

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
    if not is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_valid_number(number: PhoneNumber) -> bool:
    """`phonenumbers.is_valid_number`, without its second look at the same metadata.

    The library finds the number's region (for a country code shared by several regions,
    +1 or +44, by checking the number against each region's patterns in turn) and then
    checks the number against that region's patterns again. Its own steps, in its own
    order; a region found by its patterns is the answer, the repeat is skipped.
    """
    code = number.country_code
    regions = None if code is None else COUNTRY_CODE_TO_REGION_CODE.get(code)
    if not regions:
        return False
    if len(regions) == 1:
        return is_valid_number_for_region(number, regions[0])
    national = national_significant_number(number)
    for region in regions:
        metadata = PhoneMetadata.metadata_for_region(region.upper(), None)
        if metadata is None:
            continue
        if metadata.leading_digits is not None:
            if re_compile(metadata.leading_digits).match(national):
                return is_valid_number_for_region(number, region)
        elif _number_type_helper(national, metadata) != PhoneNumberType.UNKNOWN:
            return True  # what `is_valid_number_for_region(number, region)` would find
    return False
