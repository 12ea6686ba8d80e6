"""Reconciling returns (read-only), part of `manage.py check_integrity` (O2O_INTEGRITY_CHECKS):

- stock moved = units returned in each condition: per returned line, the units put back on hand
  equal its resellable units (at the counter and after inspection), those written off its damaged
  ones, those held its units to inspect;
- each item given in an exchange left the store's stock once (its "exchanged out" movement);
- no order line has more units returned than were handed over;
- money: per order, refunds never exceed what was captured; a return refunded to the payment
  gave back exactly its refund.
A few aggregate queries whatever the number of returns.
"""

from decimal import Decimal

from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce

from orders.models import FulfilmentLine, FulfilmentStatus
from payment.models import Payment, Refund

from .models import RECEIVED_STATUSES, ExchangeLine, MovementKind, Return, ReturnLine


def check_returns(report) -> None:
    _check_movements(report)
    _check_exchanges(report)
    _check_returned_units(report)
    _check_money(report)


def _moved(kind: MovementKind):
    return Coalesce(Sum("movements__quantity", filter=Q(movements__kind=kind)), 0)


def _check_movements(report) -> None:
    lines = (
        ReturnLine.objects.filter(order_return__status__in=RECEIVED_STATUSES)
        .annotate(
            restocked=_moved(MovementKind.RESTOCKED),
            written_off=_moved(MovementKind.WRITTEN_OFF),
            held=_moved(MovementKind.HELD),
        )
        .filter(
            ~Q(restocked=F("resellable") + F("inspected_resellable"))
            | ~Q(written_off=F("damaged") + F("inspected_damaged"))
            | ~Q(held=F("to_inspect"))
        )
        .values_list(
            "order_return__code", "order_line__product_name", "restocked", "resellable", "inspected_resellable"
        )
        .order_by("pk")
    )
    for code, product, restocked, resellable, inspected in lines:
        report.problems.append(
            f"returns: {code}, {product}: stock movements ({restocked} back in stock) do not match the units "
            f"returned ({resellable} resellable, {inspected} resellable after inspection) or their other conditions"
        )


def _check_exchanges(report) -> None:
    lines = (
        ExchangeLine.objects.annotate(moved=_moved(MovementKind.EXCHANGED_OUT))
        .exclude(moved=F("quantity"))
        .values_list("order_return__code", "product_name", "quantity", "moved")
        .order_by("pk")
    )
    for code, product, quantity, moved in lines:
        report.problems.append(
            f"returns: {code}, {product}: {quantity} given in exchange, {moved} moved out of the store's stock"
        )


def _check_returned_units(report) -> None:
    returned = dict(
        ReturnLine.objects.filter(order_return__status__in=RECEIVED_STATUSES)
        .values("order_line")
        .annotate(units=Sum("quantity"))
        .values_list("order_line", "units")
    )
    if not returned:
        return
    handed_over: dict[int, int] = {}
    for line_pk, quantity, handed in FulfilmentLine.objects.filter(
        order_line__in=list(returned), fulfilment__status=FulfilmentStatus.FULFILLED
    ).values_list("order_line", "quantity", "handed_over"):
        handed_over[line_pk] = handed_over.get(line_pk, 0) + (quantity if handed is None else handed)
    for line_pk, units in sorted(returned.items()):
        if units > handed_over.get(line_pk, 0):
            report.problems.append(
                f"returns: order line {line_pk}: {units} units returned, {handed_over.get(line_pk, 0)} handed over"
            )


def _check_money(report) -> None:
    refunded = dict(Refund.objects.values("order").annotate(total=Sum("amount")).values_list("order", "total"))
    captured = dict(
        Payment.objects.filter(order__in=list(refunded))
        .values("order")
        .annotate(total=Sum("captured_amount"))
        .values_list("order", "total")
    )
    for order_pk, total in sorted(refunded.items()):
        if total > captured.get(order_pk, Decimal(0)):
            report.problems.append(
                f"returns: order {order_pk}: {total} refunded, more than the {captured.get(order_pk, 0)} captured"
            )
    for code, amount, refund_amount in (
        Return.objects.filter(refund__isnull=False)
        .exclude(refund__amount=F("refund_amount"))
        .values_list("code", "refund_amount", "refund__amount")
    ):
        report.problems.append(f"returns: {code}: refund of {refund_amount} on the payment, the return says {amount}")
