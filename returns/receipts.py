"""Return receipts: one per return whose money went back, numbered from their own gap-free series
(ReturnReceiptSequence, apart from the sales receipts'), marked as a return ("Return receipt",
Returkvittering), with the lines given back and the VAT per rate.

Issued by returns.services.refund_return inside the refund's transaction: the counter's row lock
makes concurrent returns queue for the next number, and a refund that rolls back rolls its number
back, so there is never a gap. Everything printed is a snapshot taken then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from o2o_site.vat import VatSummary, vat_by_rate, vat_included
from payment.models import TILL_VARIANT
from payment.receipts import provider_label, seller_for

from .models import (
    ExchangeLine,
    Return,
    ReturnLine,
    ReturnReceipt,
    ReturnReceiptLine,
    ReturnReceiptSequence,
    StoreCredit,
)

# How the money went back, besides a payment provider's variant name.
REFUNDED_TO_STORE_CREDIT = "store_credit"
REFUNDED_TO_NOTHING = "nothing"


def refunded_to_label(refunded_to: str) -> str:
    """What a receipt or the timeline says the money went back to (lazy where it is shown)."""
    if refunded_to == REFUNDED_TO_STORE_CREDIT:
        return _("store credit")
    if refunded_to == TILL_VARIANT:
        return _("at the till")
    if refunded_to == REFUNDED_TO_NOTHING:
        return _("nothing to refund")
    return provider_label(refunded_to)


def issue_return_receipt(
    *, order_return: Return, lines: Sequence[ReturnLine], refunded_to: str, reference: str = ""
) -> ReturnReceipt:
    """The receipt of `order_return` (locked by the caller, in its transaction), for its lines at
    the money each gave back, with the VAT in it at the order line's rate."""
    order = order_return.order
    store = order_return.store
    seller = seller_for(store.country)
    receipt_lines = []
    for line in lines:
        order_line = line.order_line
        receipt_lines.append(
            ReturnReceiptLine(
                order_line=order_line,
                product_name=order_line.product_name,
                sku=order_line.sku,
                quantity=line.quantity,
                line_total=line.amount,
                vat_rate=order_line.vat_rate,
                vat_amount=vat_included(line.amount, rate=order_line.vat_rate, currency=order.currency),
            )
        )
    receipt = ReturnReceipt.objects.create(
        number=_next_number(),
        order_return=order_return,
        order=order,
        issued_at=timezone.now(),
        time_zone=store.time_zone,
        country=store.country.upper(),
        currency=order.currency,
        total=sum((line.line_total for line in receipt_lines), 0),
        vat_amount=sum((line.vat_amount for line in receipt_lines), 0),
        seller_name=seller.name,
        seller_address=seller.address,
        seller_registration=seller.registration,
        store_name=store.name,
        store_address=f"{store.address}, {store.postcode} {store.city}",
        refunded_to=refunded_to,
        refund_reference=(reference or "")[:255],
    )
    for line in receipt_lines:
        line.receipt = receipt
    ReturnReceiptLine.objects.bulk_create(receipt_lines)
    return receipt


def _next_number() -> int:
    """The next number of the returns' series; its row stays locked until the caller's transaction
    ends (an UPDATE with F(), never read-modify-save)."""
    sequence = ReturnReceiptSequence.objects.filter(name=ReturnReceiptSequence.SHOP)
    if not sequence.update(last_number=F("last_number") + 1):
        ReturnReceiptSequence.objects.bulk_create(
            [ReturnReceiptSequence(name=ReturnReceiptSequence.SHOP)], ignore_conflicts=True
        )
        sequence.update(last_number=F("last_number") + 1)
    return sequence.values_list("last_number", flat=True).get()


def return_receipts_with_lines() -> QuerySet[ReturnReceipt]:
    return ReturnReceipt.objects.select_related("order", "order_return", "order_return__store_credit").prefetch_related(
        Prefetch("lines", queryset=ReturnReceiptLine.objects.order_by("pk")),
        Prefetch("order_return__exchange_lines", queryset=ExchangeLine.objects.order_by("pk")),
    )


@dataclass(frozen=True)
class ReturnReceiptView:
    """A return receipt as its page and the e-mail show it."""

    receipt: ReturnReceipt
    lines: list[ReturnReceiptLine]
    vat: VatSummary
    refunded_to: str
    link: str
    # An exchange: the items given out (snapshots taken then) and their VAT; the difference is on
    # the return (refund_amount refunded, or difference_paid at the till).
    exchange_lines: list[ExchangeLine]
    exchange_vat: VatSummary | None
    # The credit issued instead of a refund (its code and expiry), when the shopper chose it.
    store_credit: StoreCredit | None = None

    @property
    def is_exchange(self) -> bool:
        return bool(self.exchange_lines)

    @property
    def refunded_to_payment(self) -> bool:
        """Money went back to the card or account paid with (not at the till, not as store credit,
        not nothing): the e-mail says when the bank usually shows it."""
        return self.receipt.refunded_to not in (REFUNDED_TO_STORE_CREDIT, REFUNDED_TO_NOTHING, TILL_VARIANT)


def return_receipt_link(receipt: ReturnReceipt) -> str:
    return reverse("returns:receipt", kwargs={"token": receipt.order.access_token, "code": receipt.order_return.code})


def return_receipt_context(receipt: ReturnReceipt) -> ReturnReceiptView:
    lines = list(receipt.lines.all())
    exchange_lines = list(receipt.order_return.exchange_lines.all())
    return ReturnReceiptView(
        receipt=receipt,
        lines=lines,
        vat=vat_by_rate(lines),
        refunded_to=refunded_to_label(receipt.refunded_to),
        link=settings.SITE_URL.rstrip("/") + return_receipt_link(receipt),
        exchange_lines=exchange_lines,
        exchange_vat=vat_by_rate(exchange_lines) if exchange_lines else None,
        # A missing reverse one-to-one raises RelatedObjectDoesNotExist, an AttributeError.
        store_credit=getattr(receipt.order_return, "store_credit", None),
    )
