"""A delivery zone's postcodes, as a manager types them: "101-108, 110, 170".

Icelandic postcodes have 3 digits, Norwegian 4 (stores.postcodes.POSTCODE_FORMATS): a zone's
postcodes are read in its store's country, so "150" in an Oslo zone (a spreadsheet that dropped
the leading zero of "0150") is refused instead of matching nothing. Postcodes of one country have
one length, so a range compares them as numbers.
"""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from stores.postcodes import ANY_POSTCODE, POSTCODE_FORMATS, normalise_postcode

# "101-108", "101 – 108" (an en dash from a word processor) or "101".
_ITEM = re.compile(r"^(?P<first>[^-–]+?)\s*(?:[-–]\s*(?P<last>.+))?$")


@dataclass(frozen=True)
class PostcodeRange:
    first: str
    last: str

    def __contains__(self, postcode: str) -> bool:
        return len(postcode) == len(self.first) and self.first <= postcode <= self.last

    def __str__(self):
        return self.first if self.first == self.last else f"{self.first}-{self.last}"


def postcode_format(country: str) -> re.Pattern:
    return POSTCODE_FORMATS.get((country or "").upper(), ANY_POSTCODE)


def parse_postcode_ranges(text: str, *, country: str) -> tuple[PostcodeRange, ...]:
    """The ranges in `text` (items separated by commas, semicolons or new lines), or
    ValidationError naming every item that is not a postcode, or a range, of `country`."""
    pattern, ranges, problems = postcode_format(country), [], []
    for item in re.split(r"[,;\n]+", text or ""):
        item = item.strip()
        if not item:
            continue
        match = _ITEM.match(item)
        first = normalise_postcode(match.group("first")) if match else ""
        last = normalise_postcode(match.group("last") or first) if match else ""
        if not (pattern.fullmatch(first) and pattern.fullmatch(last)):
            problems.append(
                _("“%(item)s” is not a postcode or a range of postcodes of %(country)s.")
                % {"item": item, "country": country}
            )
        elif len(first) != len(last) or last < first:
            problems.append(_("“%(item)s”: a range goes from the lower postcode to the higher.") % {"item": item})
        else:
            ranges.append(PostcodeRange(first, last))
    if problems:
        raise ValidationError(problems)
    return tuple(ranges)


def format_postcode_ranges(ranges: tuple[PostcodeRange, ...]) -> str:
    """The ranges as stored: sorted, one spelling ("101-108, 110")."""
    return ", ".join(str(item) for item in sorted(set(ranges), key=lambda item: (item.first, item.last)))
