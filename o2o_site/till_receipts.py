"""Till receipt numbers as staff type them and as the shop stores and compares them.

A till prints its receipt number ("K2-000123", "2026/88412", "R 0045"); staff type it or a till
file carries it, in any case and with stray spaces. Every app that records a receipt (rewards'
earning and redeeming, coupons' redemptions at a till) stores it normalised (`normalise_till_receipt`:
NFKC, trimmed, runs of spaces as one, upper case), so "k2-000123 " and "K2-000123" are one receipt
and its uniqueness can be a plain unique constraint. Each model also has a CheckConstraint
(`NORMALISED_RECEIPT`) so that nothing can store another spelling and slip past it.

The letters are ASCII only (what tills print), so upper case is a case-fold here.
"""

import re
import unicodedata

from django.db.models import Q

MAX_LENGTH = 40
# Letters, digits, '-', '.', '/' and single spaces inside; a letter or digit at each end.
NORMALISED_PATTERN = r"^[A-Z0-9]([A-Z0-9./ -]{0,38}[A-Z0-9])?$"
_NORMALISED = re.compile(NORMALISED_PATTERN)


def normalise_till_receipt(value: str | None) -> str:
    """`value` as receipts are stored: NFKC-folded (full-width digits, no-break spaces), trimmed,
    every run of spaces one space, upper case. " k2-000123 " -> "K2-000123", "r  45" -> "R 45".
    Returns "" for blank input; never raises (is_till_receipt says whether it can be one)."""
    folded = unicodedata.normalize("NFKC", value or "")
    return " ".join(folded.split()).upper()


def is_till_receipt(number: str) -> bool:
    """Whether a normalised `number` can be a till's receipt number: at most MAX_LENGTH of the
    characters above, with at least one digit."""
    return bool(_NORMALISED.match(number)) and "  " not in number and any(char in "0123456789" for char in number)


def normalised_receipt_check(field: str) -> Q:
    """The CheckConstraint condition that `field` holds "" or a normalised receipt number (the
    database's regex: PostgreSQL's `~`), so a double space or a lower-case letter cannot be stored."""
    return Q(**{field: ""}) | (Q(**{f"{field}__regex": NORMALISED_PATTERN}) & ~Q(**{f"{field}__contains": "  "}))
