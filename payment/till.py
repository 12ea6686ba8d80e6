"""Payments taken at the store's till, and how the shop records them.

A till payment is a `Payment` row with the variant "till", created already captured by
payment.services.record_till_payment, with the till's receipt number on it (and its event, kind
"till", carrying the number as its reference). Why a Payment and not a record of its own:

- **One place says how an order was paid.** The shopper's page, the admin's timeline, refunds
  and receipts read the order's payments; a second kind of record would make each of them ask
  two places, and the first one to forget the till would show a paid order as unpaid (the Odoo
  bug where pay-on-site orders could not be settled, odoo/odoo#284403, is that mistake).
- **The same rules hold.** Amounts are the shop's (the value of the lines handed over, from the
  order), the database constraints keep refunds within what was taken, and every change is a
  PaymentEvent with who did it, so a till payment is refunded by the same service, under the
  same lock, as a card payment.
- **The till stays the place of record.** Norwegian cash-register rules (kassasystemloven) make
  the certified till the record of a sale paid at hand-over; the shop keeps only the till's
  receipt number beside the order, issues no receipt of its own for it, and refunds it only
  with the number of the till's return receipt.

Its provider below moves no money: django-payments is never asked for it (PAYMENT_VARIANTS does
not list it, so no shopper is offered it), payment.services uses it directly.
"""

import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import Payment

# What a till prints as its receipt number: digits, maybe with letters and separators
# ("4711", "K2-000123", "2026/88412"); never only separators.
TILL_RECEIPT_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9./-]{0,38}[A-Za-z0-9])?$")


def clean_till_receipt_number(value: str) -> str:
    """The receipt number as typed, trimmed and in capitals (a till prints "K2-000123"; "k2-000123"
    typed is the same receipt); ValidationError when it is missing or not one (no digit, or no
    digit but zeros: no till numbers a receipt 0)."""
    number = (value or "").strip().upper()
    if not number:
        raise ValidationError(_("Enter the receipt number printed by the till."), code="required")
    if not TILL_RECEIPT_PATTERN.match(number) or not any(char in "123456789" for char in number):
        raise ValidationError(
            _("“%(number)s” is not a till receipt number: use the number printed on the till's receipt.")
            % {"number": number[:40]},
            code="invalid",
        )
    return number


class TillProvider:
    """The money moved at the till: the shop only records it, so nothing is called."""

    def capture(self, payment: Payment, amount: Decimal | None = None) -> Decimal | None:
        return amount

    def release(self, payment: Payment) -> None:
        return None

    def refund(self, payment: Payment, amount: Decimal | None = None) -> Decimal | None:
        return amount

    def cancel(self, payment: Payment) -> None:
        return None


TILL_PROVIDER = TillProvider()
