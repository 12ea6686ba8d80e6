"""The history of an order's payments in words, for its pages (the order's timeline in the admin
and on the shopper's page): every payment change in the reader's language, amounts through
o2o_site.money, one query per order."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext

from o2o_site.money import format_money
from orders.models import Order

from .models import PaymentEvent, PaymentEventKind, PaymentStatus


@dataclass(frozen=True)
class PaymentHistoryEntry:
    """One payment change, told in words: `text` for everyone, `staff_only` for what the shopper
    is not shown (a failed capture, an abandoned payment page)."""

    created_at: datetime.datetime
    text: str
    event: PaymentEvent
    staff_only: bool = False


def payment_events(order: Order) -> QuerySet[PaymentEvent]:
    """The order's payment events, oldest first, with what describing them needs."""
    return (
        PaymentEvent.objects.filter(payment__order=order)
        .select_related("payment", "actor", "refund")
        .order_by("created_at", "pk")
    )


def payment_history(order: Order, *, for_staff: bool = False) -> list[PaymentHistoryEntry]:
    """The order's payment changes in words; the shopper's page leaves out the staff-only ones."""
    entries = []
    for event in payment_events(order):
        text, staff_only = describe(event, for_staff=for_staff)
        if text and (for_staff or not staff_only):
            entries.append(PaymentHistoryEntry(event.created_at, text, event, staff_only))
    return entries


def describe(event: PaymentEvent, *, for_staff: bool = False) -> tuple[str, bool]:
    """(what happened, whether only staff see it); ("", True) for a step worth no line. Staff
    read of the shopper in the third person: "when you collect" is the shopper's own page."""
    amount = format_money(event.amount, event.currency)
    values = {"amount": amount}
    if event.kind == PaymentEventKind.CAPTURE:
        return gettext("Payment taken: %(amount)s") % values, False
    if event.kind == PaymentEventKind.RELEASE:
        return gettext("Released, not charged: %(amount)s") % values, False
    if event.kind == PaymentEventKind.REFUND:
        refund = getattr(event, "refund", None)
        if refund is None:
            return gettext("Refunded: %(amount)s") % values, False
        return gettext("Refunded: %(amount)s (%(reason)s)") % {**values, "reason": refund.get_reason_display()}, False
    if event.kind == PaymentEventKind.TILL:
        return (
            gettext("Paid at the till: %(amount)s (receipt %(receipt)s)")
            % {**values, "receipt": event.payment.till_receipt_number},
            False,
        )
    if event.kind == PaymentEventKind.CAPTURE_FAILED:
        return gettext("The card payment of %(amount)s could not be taken: %(reason)s") % {
            **values,
            "reason": event.note,
        }, True
    # A status change reported by the provider (or the shopper's return from it).
    if event.to_status == PaymentStatus.PREAUTH:
        if for_staff:
            return gettext("Payment authorised: %(amount)s (taken when the order is collected)") % values, False
        return gettext("Payment authorised: %(amount)s (taken when you collect)") % values, False
    if event.to_status == PaymentStatus.CONFIRMED:
        return gettext("Paid online: %(amount)s") % values, False
    if event.to_status == PaymentStatus.REJECTED:
        return gettext("Payment declined: nothing was charged"), False
    if event.to_status == PaymentStatus.ERROR:
        return gettext("Payment failed: nothing was charged"), False
    if event.to_status == PaymentStatus.CANCELLED:
        return gettext("Payment cancelled: nothing was charged"), True
    if event.to_status == PaymentStatus.REFUNDED:
        return gettext("Refunded: %(amount)s") % values, False
    return "", True
