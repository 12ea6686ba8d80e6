"""Receipts: issued when money is captured, numbered gap-free, and read by the shopper's pages.

Issuing (`issue_receipt`) is called by whoever captures, right after payment.services'
capture_payment and **inside the same transaction**:

    with transaction.atomic():
        capture_payment(payment=payment, amount=amount, by=actor)
        issue_receipt(payment=payment, lines=[CapturedLine(order_line=line, quantity=units), ...])

- `lines` say which units of which order lines the capture was for (the units handed over). Each
  becomes a receipt line at the order line's unit price and VAT rate (snapshotted when the order
  was placed), with its VAT worked out per line (o2o_site.vat). Their sum may not exceed the
  money captured on the payment that no receipt covers yet: after an authorisation it is exactly
  the amount just captured; a payment charged in full at checkout (Stripe Checkout) gets a
  receipt for the units handed over, the rest being refunded. No order line is receipted for
  more units than it has.
- The number comes from the shop's one sequence (ReceiptSequence): incremented with an UPDATE
  that holds the counter's row lock until the transaction ends. Concurrent captures queue for
  it, so numbers are unique and consecutive; a capture that rolls back rolls its number back, so
  there is never a gap. Call it last in the transaction: the lock serialises every capture's
  commit, and should not be held across a provider's HTTP call.
- The shopper gets the receipt e-mail once, through the outbox (NotificationKind.RECEIPT),
  after the transaction commits, in the order's language (payment.emails).

Only money a provider took online gets our receipt: a payment at the store's till has the till's
receipt (the Norwegian cash-register rules keep the till as the place of record for those sales).

The right of withdrawal (`withdrawal_of`): an order paid online is a distance contract, so the
shopper may withdraw within 14 days of taking the goods (Iceland: lög nr. 16/2016 um
neytendasamninga; Norway: angrerettloven, LOV-2014-06-20-27, §§ 20–22). The period starts when
the shopper receives the goods (its fulfilments' fulfilled_at): collects them at the store, or has
them delivered or shipped to her, and says so in those words; an order paid at pickup is a sale in
the store and has no statutory right of withdrawal.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Prefetch, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from o2o_site.vat import VatSummary, vat_by_rate, vat_included
from orders.models import (
    Fulfilment,
    FulfilmentMethod,
    FulfilmentStatus,
    NotificationKind,
    Order,
    OrderLine,
    OrderStatus,
)
from orders.notifications.outbox import notify

from .models import Payment, PaymentStatus, Receipt, ReceiptLine, ReceiptSequence
from .selectors import PROVIDER_LABELS

# The statutory period: 14 days from the day the goods are received (collected, delivered).
WITHDRAWAL_DAYS = 14

# The goods come to the shopper's address: she receives them, she does not collect them.
DELIVERED_METHODS = frozenset({FulfilmentMethod.LOCAL_DELIVERY, FulfilmentMethod.SHIPPING})

# The law each country's right of withdrawal is in: proper names, the same in every language.
WITHDRAWAL_LAWS = {
    "IS": "Lög nr. 16/2016 um neytendasamninga",
    "NO": "Angrerettloven (LOV-2014-06-20-27) §§ 20–22",
}


class ReceiptRefused(Exception):
    """The receipt cannot be issued as asked; nothing was written."""


@dataclass(frozen=True)
class CapturedLine:
    """`quantity` units of `order_line` whose money the capture took (the units handed over)."""

    order_line: OrderLine
    quantity: int


@dataclass(frozen=True)
class Seller:
    name: str
    address: str
    registration: str


def seller_for(country: str) -> Seller:
    """The seller of sales made in `country` (settings.RECEIPT_SELLERS), its registration written
    as that country's documents write it."""
    details = settings.RECEIPT_SELLERS.get(country.upper(), {})
    if country.upper() == "NO":
        parts = []
        if details.get("organisasjonsnummer"):
            number = "Org.nr. " + details["organisasjonsnummer"]
            parts.append(f"{number} MVA" if details.get("vat_registered", True) else number)
        if details.get("foretaksregisteret"):
            parts.append("Foretaksregisteret")
        registration = " · ".join(parts)
    else:
        parts = []
        if details.get("kennitala"):
            parts.append("Kt. " + details["kennitala"])
        if details.get("vat_number"):
            parts.append("VSK-nr. " + details["vat_number"])
        registration = " · ".join(parts)
    return Seller(
        name=details.get("name") or settings.SHOP_NAME, address=details.get("address", ""), registration=registration
    )


def provider_label(variant: str) -> str:
    """What a receipt says the shopper paid with (payment.selectors.PROVIDER_LABELS), lazy: translated
    where it is shown (an e-mail in the order's language)."""
    return PROVIDER_LABELS.get(variant, variant)


def issue_receipt(*, payment: Payment, lines: Sequence[CapturedLine], at: datetime.datetime | None = None) -> Receipt:
    """Issue the receipt for money just captured on `payment`, for the units in `lines`; see the
    module docstring for the rules. Returns the receipt; raises ReceiptRefused (nothing written)
    when the payment was not captured online, a line is not the order's or is receipted beyond
    its quantity, or the lines come to more than the captured money no receipt covers yet."""
    with transaction.atomic():
        locked = Payment.objects.select_for_update(of=("self",)).select_related("order__store").get(pk=payment.pk)
        order = locked.order
        if locked.variant not in settings.PAYMENT_VARIANTS:
            raise ReceiptRefused(f"payment {locked.pk} was not taken online ({locked.variant}): the till is its record")
        if locked.status not in (PaymentStatus.CONFIRMED, PaymentStatus.REFUNDED):
            raise ReceiptRefused(f"payment {locked.pk} has captured nothing ({locked.status})")
        receipt_lines = _receipt_lines(order, lines)
        total = sum((line.line_total for line in receipt_lines), Decimal(0))
        covered = Receipt.objects.filter(payment=locked).aggregate(total=Sum("total"))["total"] or Decimal(0)
        if total > locked.captured_amount - covered:
            raise ReceiptRefused(
                f"payment {locked.pk}: the lines come to {total}, but only {locked.captured_amount - covered} of the "
                f"{locked.captured_amount} captured has no receipt yet"
            )
        store = order.store
        seller = seller_for(store.country)
        receipt = Receipt.objects.create(
            number=_next_number(),
            order=order,
            payment=locked,
            issued_at=at or timezone.now(),
            time_zone=store.time_zone,
            country=store.country.upper(),
            currency=order.currency,
            total=total,
            vat_amount=sum((line.vat_amount for line in receipt_lines), Decimal(0)),
            seller_name=seller.name,
            seller_address=seller.address,
            seller_registration=seller.registration,
            store_name=store.name,
            store_address=f"{store.address}, {store.postcode} {store.city}",
            provider=locked.variant,
            payment_reference=(locked.transaction_id or "")[:255],
        )
        for line in receipt_lines:
            line.receipt = receipt
        ReceiptLine.objects.bulk_create(receipt_lines)
        notify(order=order, kind=NotificationKind.RECEIPT)
    return receipt


def _receipt_lines(order: Order, lines: Sequence[CapturedLine]) -> list[ReceiptLine]:
    if not lines:
        raise ReceiptRefused(f"order {order.number}: a receipt needs at least one line")
    wanted: dict[int, int] = {}
    for line in lines:
        if line.order_line.order_id != order.pk:
            raise ReceiptRefused(f"order line {line.order_line.pk} is not a line of order {order.number}")
        if line.quantity < 1:
            raise ReceiptRefused(f"order line {line.order_line.pk}: {line.quantity} units cannot be receipted")
        wanted[line.order_line.pk] = wanted.get(line.order_line.pk, 0) + line.quantity
    order_lines = OrderLine.objects.in_bulk(list(wanted))
    receipted = dict(
        ReceiptLine.objects.filter(order_line__in=list(wanted))
        .values("order_line")
        .annotate(units=Sum("quantity"))
        .values_list("order_line", "units")
    )
    for pk, units in wanted.items():
        if receipted.get(pk, 0) + units > order_lines[pk].quantity:
            raise ReceiptRefused(
                f"order line {pk} has {order_lines[pk].quantity} units, {receipted.get(pk, 0)} already on receipts, "
                f"{units} asked"
            )
    result = []
    for pk, units in wanted.items():
        order_line = order_lines[pk]
        line_total = order_line.value_of(units)  # less the line's coupon discount, if any
        result.append(
            ReceiptLine(
                order_line=order_line,
                product_name=order_line.product_name,
                sku=order_line.sku,
                unit_price=order_line.unit_price,
                quantity=units,
                line_total=line_total,
                vat_rate=order_line.vat_rate,
                vat_amount=vat_included(line_total, rate=order_line.vat_rate, currency=order.currency),
            )
        )
    return result


def _next_number() -> int:
    """The next number of the shop's sequence; the counter row stays locked until the caller's
    transaction ends (an UPDATE with F(), never read-modify-save)."""
    sequence = ReceiptSequence.objects.filter(name=ReceiptSequence.SHOP)
    if not sequence.update(last_number=F("last_number") + 1):
        # The row is made by payment 0002; a database emptied since (a test flush) gets it again.
        ReceiptSequence.objects.bulk_create([ReceiptSequence(name=ReceiptSequence.SHOP)], ignore_conflicts=True)
        sequence.update(last_number=F("last_number") + 1)
    return sequence.values_list("last_number", flat=True).get()


# --- reading receipts ---------------------------------------------------------------------------


def receipts_with_lines() -> QuerySet[Receipt]:
    """Receipts with their lines and order: a receipt page or the e-mail in two queries."""
    return Receipt.objects.select_related("order__store").prefetch_related(
        Prefetch("lines", queryset=ReceiptLine.objects.order_by("pk"))
    )


def receipt_for_page(*, order_number: str, number: int) -> Receipt | None:
    """Receipt `number` of the order `order_number` (None for any other pair), with its lines, its
    order and the order's fulfilments (for the withdrawal period)."""
    return (
        receipts_with_lines()
        .prefetch_related("order__fulfilments")
        .filter(order__number=order_number, number=number)
        .first()
    )


def receipts_of(order: Order) -> list[Receipt]:
    """The order's receipts, oldest first, without their lines: the order page's list (one query)."""
    return list(Receipt.objects.filter(order=order).order_by("number"))


@dataclass(frozen=True)
class OrderReceipts:
    """The order page's part: the order's receipts and its withdrawal period (None if none)."""

    receipts: list[Receipt]
    withdrawal: Withdrawal | None


def receipts_for_order_page(order: Order) -> OrderReceipts:
    """One query; the order's fulfilments should be prefetched (the order page's are,
    pickup.selectors.with_pickups)."""
    return OrderReceipts(receipts=receipts_of(order), withdrawal=withdrawal_of(order, paid_online=order.is_paid_online))


@dataclass(frozen=True)
class Withdrawal:
    """The shopper's right of withdrawal for an order paid online: the law, whether the goods come
    to her (`delivered`: delivery or shipping) rather than being collected, and, once she has them,
    the date she received them and the last day to withdraw (both in the store's zone)."""

    law: str
    received_on: datetime.date | None
    last_day: datetime.date | None
    delivered: bool = False


def withdrawal_of(order: Order, *, paid_online: bool) -> Withdrawal | None:
    """The withdrawal period of `order` (None when it was not paid online, is not paid yet, or was
    cancelled).

    The 14 days start the day after the shopper took all the goods: the latest fulfilled_at of
    its fulfilments, none still open (read from the prefetched fulfilments when there are any)."""
    if not paid_online or order.status in (OrderStatus.AWAITING_PAYMENT, OrderStatus.CANCELLED):
        return None
    fulfilments: list[Fulfilment] = list(order.fulfilments.all())
    handed_over = [f.fulfilled_at for f in fulfilments if f.status == FulfilmentStatus.FULFILLED and f.fulfilled_at]
    still_open = any(f.is_open for f in fulfilments)
    law = WITHDRAWAL_LAWS.get(order.store.country.upper(), WITHDRAWAL_LAWS["IS"])
    delivered = any(f.method in DELIVERED_METHODS for f in fulfilments)
    if not handed_over or still_open:
        return Withdrawal(law=law, received_on=None, last_day=None, delivered=delivered)
    received_on = max(handed_over).astimezone(zoneinfo.ZoneInfo(order.store.time_zone)).date()
    return Withdrawal(
        law=law,
        received_on=received_on,
        last_day=received_on + datetime.timedelta(days=WITHDRAWAL_DAYS),
        delivered=delivered,
    )


@dataclass(frozen=True)
class ReceiptView:
    """A receipt as its page and the e-mail show it."""

    receipt: Receipt
    lines: list[ReceiptLine]
    vat: VatSummary
    paid_with: str
    withdrawal: Withdrawal | None
    link: str


def receipt_link(receipt: Receipt) -> str:
    """The receipt's printable page, behind the order's signed link."""
    return reverse("payment_receipt", kwargs={"token": receipt.order.access_token, "number": receipt.number})


def receipt_context(receipt: Receipt) -> ReceiptView:
    """`receipt` (from receipts_with_lines) ready to show. Every receipt is for money taken online,
    so the withdrawal period is always stated (it counts from when the goods are received)."""
    lines = list(receipt.lines.all())
    return ReceiptView(
        receipt=receipt,
        lines=lines,
        vat=vat_by_rate(lines),
        paid_with=provider_label(receipt.provider),
        withdrawal=withdrawal_of(receipt.order, paid_online=True),
        link=settings.SITE_URL.rstrip("/") + receipt_link(receipt),
    )
