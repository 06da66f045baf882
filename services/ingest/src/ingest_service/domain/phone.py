"""Phone numbers to E.164 with Google's libphonenumber (`phonenumbers`).

`phonenumbers.parse` is written for any text a person might type (letters, extensions,
`tel:` URIs, numbers inside sentences) and costs ~14 us a call, the most of any step of
normalising a chat. Most numbers arrive in plain international form (`+1 (415) 555-0100`,
`+44 20 7946 0018`): for exactly that form `parse_international` takes parse's own steps
for it (the country code, then a national prefix stripped when what is left is still a
possible length), in a third of the time. Anything else goes to `parse`. A test checks the
two agree on every region's example numbers and on generated input.
"""

from __future__ import annotations

import re
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
from phonenumbers.phonenumberutil import (
    _extract_country_code,
    _maybe_strip_national_prefix_carrier_code,
    _number_type_helper,
    _set_italian_leading_zeros_for_phone_number,
    _test_number_length,
    region_code_for_country_code,
)
from phonenumbers.re_util import re_compile

# Longer than any real number with an extension; libphonenumber refuses them anyway, and
# parsing arbitrary megabytes would be the costliest thing ingest does.
_MAX_INPUT: Final = 64
# "+", digits and the usual separators, ending in a digit: nothing parse() would extract,
# strip or convert (no letters, extension, second number or RFC 3966 parts).
_INTERNATIONAL: Final = re.compile(r"\+[0-9 ().\-]*[0-9]")
_SEPARATORS: Final = str.maketrans("", "", " ().-")
_MIN_NSN: Final = 2  # libphonenumber's bounds of a national significant number
_MAX_NSN: Final = 17
_NOT_POSSIBLE: Final = (
    phonenumbers.ValidationResult.TOO_SHORT,
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    phonenumbers.ValidationResult.INVALID_LENGTH,
)


@lru_cache(maxsize=4096)  # returning visitors and retried events repeat their numbers
def to_e164(raw: str, region: str | None) -> str | None:
    """`raw` in E.164 (`+442079460018`) when it is a valid number, else None.

    Numbers without `+country` are read in `region` (ISO 3166 alpha-2, the tenant's
    default); with none they must carry their country code.
    """
    if not raw or len(raw) > _MAX_INPUT:
        return None
    number = parse_international(raw) if _INTERNATIONAL.fullmatch(raw) else None
    if number is None:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            return None
    if not is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_international(raw: str) -> PhoneNumber | None:
    """`phonenumbers.parse(raw)` for `raw` in plain international form (`_INTERNATIONAL`),
    by parse's own steps for that form; None when parse would raise or take another path
    (too short, unknown country code: it then retries without the "+")."""
    digits = raw[1:].translate(_SEPARATORS)
    if len(digits) <= _MIN_NSN:
        return None
    code, national = _extract_country_code(digits)
    if code == 0 or len(national) < _MIN_NSN:
        return None
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(
        code, region_code_for_country_code(code)
    )
    if metadata is None:
        return None
    _, stripped, _ = _maybe_strip_national_prefix_carrier_code(national, metadata)
    if _test_number_length(stripped, metadata) not in _NOT_POSSIBLE:
        national = stripped
    if not _MIN_NSN <= len(national) <= _MAX_NSN:
        return None
    number = PhoneNumber(country_code=code)
    _set_italian_leading_zeros_for_phone_number(national, number)
    number.national_number = int(national)
    return number


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
