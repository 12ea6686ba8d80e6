"""Reads of payments for the shopper's order page and the admin: one query for an order's
payments and their events, whatever their number."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import STATUSES_TO_COLLECT, Order

from .models import (
    FAILED_PAYMENT_STATUSES,
    OPEN_PAYMENT_STATUSES,
    Payment,
    PaymentEvent,
    PaymentEventSource,
    PaymentStatus,
)

# What shoppers see for each provider (PAYMENT_VARIANTS' names).
PROVIDER_LABELS = {
    "dummy": _("Test payment (Dummy provider)"),
    "stripe": _("Card (Stripe)"),
    "vipps": _("Vipps MobilePay"),
}


def provider_label(variant: str) -> str:
    return str(PROVIDER_LABELS.get(variant, variant))


class Outcome:
    """What happened to the latest payment attempt, as the order page tells the shopper."""

    do_not_call_in_templates = True

    AUTHORISED = "authorised"
    CHARGED = "charged"
    IN_PROGRESS = "in_progress"  # not finished: the shopper left the payment page, or is on it
    DECLINED = "declined"
    VERIFICATION_FAILED = "verification_failed"  # declined on the return from 3-D Secure
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class OrderPayments:
    """An order's payments for its page: every attempt (newest first, events prefetched), the
    latest attempt and its outcome, and the money over all of them."""

    payments: tuple[Payment, ...]
    latest: Payment | None
    outcome: str
    authorised: Decimal
    captured: Decimal
    released: Decimal
    refunded: Decimal
    authorisation_expires_at: datetime.datetime | None

    @property
    def may_retry(self) -> bool:
        return self.outcome not in (Outcome.AUTHORISED, Outcome.CHARGED)

    @property
    def fully_refunded(self) -> bool:
        """Everything taken was given back: nothing is left to withdraw from or return."""
        return self.captured > 0 and self.refunded >= self.captured


def _outcome(payment: Payment | None) -> str:
    if payment is None:
        return Outcome.IN_PROGRESS
    status = payment.status
    if status == PaymentStatus.PREAUTH:
        return Outcome.AUTHORISED
    if status in (PaymentStatus.CONFIRMED, PaymentStatus.REFUNDED):
        return Outcome.CHARGED
    if status in OPEN_PAYMENT_STATUSES:
        return Outcome.IN_PROGRESS
    if status == PaymentStatus.REJECTED:
        events = list(payment.events.all())  # prefetched
        if events and events[-1].source == PaymentEventSource.RETURN:
            return Outcome.VERIFICATION_FAILED
        return Outcome.DECLINED
    if status == PaymentStatus.ERROR:
        return Outcome.FAILED
    assert status in FAILED_PAYMENT_STATUSES
    # A payment cancelled after it was authorised (released) is not "not finished".
    if payment.released_amount:
        return Outcome.AUTHORISED
    return Outcome.CANCELLED


def payments_with_events() -> QuerySet[Payment]:
    return Payment.objects.order_by("-created", "-pk").prefetch_related(
        Prefetch("events", queryset=PaymentEvent.objects.order_by("created_at", "pk"))
    )


def order_payments(order: Order) -> OrderPayments | None:
    """The payments of `order` for its page (two queries), or None for an order paid at pickup."""
    if not order.is_paid_online:
        return None
    payments = tuple(payments_with_events().filter(order=order))
    latest = payments[0] if payments else None
    paid = [p for p in payments if p.status not in (*OPEN_PAYMENT_STATUSES, *FAILED_PAYMENT_STATUSES)]
    paid += [p for p in payments if p.status == PaymentStatus.CANCELLED and p.released_amount]
    expiring = [p.authorisation_expires_at for p in payments if p.status == PaymentStatus.PREAUTH]
    return OrderPayments(
        payments=payments,
        latest=latest,
        outcome=_outcome(latest),
        authorised=sum((p.total for p in paid), Decimal("0")),
        captured=sum((p.captured_amount for p in payments), Decimal("0")),
        released=sum((p.released_amount for p in payments), Decimal("0")),
        refunded=sum((p.refunded_amount for p in payments), Decimal("0")),
        authorisation_expires_at=min(expiring) if expiring and all(expiring) else None,
    )


# Staff are warned this long before an authorisation expires (the admin's order list and page).
AUTHORISATION_WARNING = datetime.timedelta(hours=24)


def with_authorisation_expiring(orders: QuerySet[Order], *, now: datetime.datetime | None = None) -> QuerySet[Order]:
    """The `orders` still to be handed over whose payment authorisation expires within
    AUTHORISATION_WARNING (or already has): capture it at hand-over before then, or the shopper
    must pay again. One subquery; the caller's queryset keeps its scoping (a manager's stores)."""
    expiring = Payment.objects.filter(
        status=PaymentStatus.PREAUTH,
        authorisation_expires_at__lte=(now or timezone.now()) + AUTHORISATION_WARNING,
    ).values("order_id")
    return orders.filter(pk__in=expiring, status__in=STATUSES_TO_COLLECT)


def authorisation_expiry_of(order: Order) -> datetime.datetime | None:
    """When the first of `order`'s held authorisations expires (None: none held)."""
    return (
        Payment.objects.filter(order=order, status=PaymentStatus.PREAUTH, authorisation_expires_at__isnull=False)
        .order_by("authorisation_expires_at")
        .values_list("authorisation_expires_at", flat=True)
        .first()
    )
