"""The rules a return is measured against: until when an order may be returned, how many units of
each line, and what each unit gives back. Read-only; returns.services applies them under locks."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from o2o_site.money import round_to_minor_unit
from orders.models import Fulfilment, FulfilmentLine, FulfilmentStatus, Order, OrderLine
from orders.services import handed_over_by_line
from payment.receipts import WITHDRAWAL_DAYS
from payment.services import refunded_by_line

from .models import RECEIVED_STATUSES, Return, ReturnLine, ReturnStatus


@dataclass(frozen=True)
class ReturnWindow:
    """The days an order may be returned: from the day it was handed over (the store's date) to
    `last_day` inclusive. None while nothing was handed over."""

    days: int
    collected_on: datetime.date | None
    last_day: datetime.date | None

    def open_on(self, day: datetime.date) -> bool:
        return self.last_day is not None and day <= self.last_day


def window_days(order: Order) -> int:
    """The shop's window (RETURN_WINDOW_DAYS, 30 by default); an order paid online is a distance
    contract and always gets at least the 14-day right of withdrawal from pickup."""
    days = settings.RETURN_WINDOW_DAYS
    if order.is_paid_online:
        days = max(days, WITHDRAWAL_DAYS)
    return days


def return_window(order: Order, *, last_handed_over_at: datetime.datetime | None = None) -> ReturnWindow:
    """The order's window, counted in the pickup store's time zone from its last hand-over
    (read from the order's fulfilments unless `last_handed_over_at` is given)."""
    days = window_days(order)
    handed_over = last_handed_over_at or (
        Fulfilment.objects.filter(order=order, status=FulfilmentStatus.FULFILLED, fulfilled_at__isnull=False)
        .order_by("-fulfilled_at")
        .values_list("fulfilled_at", flat=True)
        .first()
    )
    if handed_over is None:
        return ReturnWindow(days=days, collected_on=None, last_day=None)
    collected_on = handed_over.astimezone(order.store.zone).date()
    return ReturnWindow(days=days, collected_on=collected_on, last_day=collected_on + datetime.timedelta(days=days))


def window_is_open(order: Order, *, now: datetime.datetime | None = None) -> bool:
    today = (now or timezone.now()).astimezone(order.store.zone).date()
    return return_window(order).open_on(today)


def returned_by_line(*, order: Order, exclude: Return | None = None, with_requests: bool = True) -> dict[int, int]:
    """Units of each order line already brought back, and (`with_requests`) asked to be, by the
    order's returns other than `exclude`."""
    statuses = [*RECEIVED_STATUSES, *([ReturnStatus.REQUESTED] if with_requests else [])]
    lines = ReturnLine.objects.filter(order_return__order=order, order_return__status__in=statuses)
    if exclude is not None:
        lines = lines.exclude(order_return=exclude)
    return dict(lines.values("order_line").annotate(units=Sum("quantity")).values_list("order_line", "units"))


def returnable_by_line(
    *, order: Order, exclude: Return | None = None, with_requests: bool = True, less_refunded: bool = False
) -> dict[int, int]:
    """Units of each order line that may still be returned: handed over, less returned (or asked),
    and (`less_refunded`) less those refunded on the admin's refund screen: they were paid back
    already, so whatever the shopper wants now (a refund, store credit, an exchange) they give
    nothing again."""
    taken = handed_over_by_line(order=order)
    returned = returned_by_line(order=order, exclude=exclude, with_requests=with_requests)
    left = {pk: units - returned.get(pk, 0) for pk, units in taken.items()}
    if less_refunded:
        refunded = refunded_by_line(order=order)
        # Units refunded through a return are already counted as returned.
        through_returns = dict(
            ReturnLine.objects.filter(order_return__order=order, order_return__refund__isnull=False)
            .values("order_line")
            .annotate(units=Sum("quantity"))
            .values_list("order_line", "units")
        )
        for pk, units in refunded.items():
            if pk in left:
                left[pk] -= max(units - through_returns.get(pk, 0), 0)
    return {pk: units for pk, units in left.items() if units > 0}


def units_given_back_by_returns(*, order: Order, refund_for: str = "") -> dict[int, int]:
    """Units of each order line taken back by a return but not refunded on the payment (store
    credit, an exchange with nothing to refund, a refund still pending), except the return
    `refund_for` (by code) whose refund is being made. Declared in O2O_UNITS_GIVEN_BACK_OTHERWISE:
    payment's refunds (the admin's refund screen) never refund these units again."""
    lines = ReturnLine.objects.filter(
        order_return__order=order, order_return__status__in=RECEIVED_STATUSES, order_return__refund__isnull=True
    )
    if refund_for:
        lines = lines.exclude(order_return__code=refund_for)
    return dict(lines.values("order_line").annotate(units=Sum("quantity")).values_list("order_line", "units"))


def order_discount(order: Order, lines: list[OrderLine]) -> Decimal:
    """An order-level discount: what the lines come to above the order's total (none today: the
    total is the lines' sum; a reward or voucher taken off the total makes it more)."""
    return max(sum((line.line_total for line in lines), Decimal(0)) - order.total, Decimal(0))


def refund_value(order: Order, line: OrderLine, units: int, *, lines: list[OrderLine]) -> Decimal:
    """What `units` of `line` give back: their price less their share of an order-level discount
    (shared by the lines' value), rounded to the currency's minor unit, never below zero."""
    value = line.value_of(units)  # less the line's own coupon discount, if any
    discount = order_discount(order, lines)
    if discount:
        lines_total = sum((each.line_total for each in lines), Decimal(0))
        value -= discount * line.line_total / lines_total * units / line.quantity
    return max(round_to_minor_unit(value, order.currency), Decimal(0))


def may_start_a_return(order: Order, returns: list[Return], *, now: datetime.datetime | None = None) -> bool:
    """Whether the shopper may start a return now: the order was collected, its window is open
    and a unit is left that was handed over, is not in `returns` (the order's returns, their
    lines loaded: returns.selectors.returns_of) and was not refunded. For the order page: one
    query, the hand-overs, and one for the refunds while the window is open."""
    from_returns: dict[int, int] = {}
    for order_return in returns:
        if order_return.status in (*RECEIVED_STATUSES, ReturnStatus.REQUESTED):
            for line in order_return.lines.all():
                from_returns[line.order_line_id] = from_returns.get(line.order_line_id, 0) + line.quantity
    taken: dict[int, int] = {}
    last_handed_over_at = None
    for line_pk, quantity, handed_over, fulfilled_at in FulfilmentLine.objects.filter(
        fulfilment__order=order, fulfilment__status=FulfilmentStatus.FULFILLED
    ).values_list("order_line_id", "quantity", "handed_over", "fulfilment__fulfilled_at"):
        taken[line_pk] = taken.get(line_pk, 0) + (quantity if handed_over is None else handed_over)
        if fulfilled_at is not None and (last_handed_over_at is None or fulfilled_at > last_handed_over_at):
            last_handed_over_at = fulfilled_at
    if last_handed_over_at is None or not any(units > from_returns.get(pk, 0) for pk, units in taken.items()):
        return False
    today = (now or timezone.now()).astimezone(order.store.zone).date()
    if not return_window(order, last_handed_over_at=last_handed_over_at).open_on(today):
        return False
    # Units refunded on the admin's refund screen were paid back already: nothing to return them
    # for (one more query, only while a return would otherwise be offered).
    through_returns: dict[int, int] = {}
    for order_return in returns:
        if order_return.refund_id is not None:
            for line in order_return.lines.all():
                through_returns[line.order_line_id] = through_returns.get(line.order_line_id, 0) + line.quantity
    for pk, units in refunded_by_line(order=order).items():
        from_returns[pk] = from_returns.get(pk, 0) + max(units - through_returns.get(pk, 0), 0)
    return any(units > from_returns.get(pk, 0) for pk, units in taken.items())
