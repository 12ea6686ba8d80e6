"""Reconciliation: do stock, reservations, orders and notifications agree? (read-only)

Used by `manage.py check_integrity` (operators, and the end of every soak run). Each check is a
few aggregate queries whatever the size of the shop, and returns plain findings; nothing here
changes data.
"""

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.module_loading import import_string

from orders.models import (
    FULFILMENT_STATUSES_HOLDING_STOCK,
    PICKUP_METHODS,
    STATUSES_HOLDING_STOCK,
    Fulfilment,
    FulfilmentLine,
    FulfilmentStatus,
    Notification,
    NotificationKind,
    NotificationStatus,
    Order,
    OrderLine,
    OrderStatus,
)
from orders.services import split_order_status
from stores.models import StockLevel


@dataclass
class IntegrityReport:
    stock_levels: int = 0
    open_orders: int = 0
    notifications: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_integrity(*, stuck_after=datetime.timedelta(minutes=15), now=None) -> IntegrityReport:
    now = now or timezone.now()
    report = IntegrityReport()
    _check_stock(report)
    _check_ready_notifications(report)
    _check_line_readiness(report)
    _check_fulfilment_coverage(report)
    _check_split_orders(report)
    _check_notifications_moving(report, stuck_before=now - stuck_after)
    # The apps above add theirs (returns: stock moved and money given back), by dotted path.
    for path in settings.O2O_INTEGRITY_CHECKS:
        import_string(path)(report)
    return report


def _check_stock(report):
    # Units the open fulfilments hold, per (stock location, product); lines of deleted products
    # hold nothing.
    held = {
        (row["fulfilment__stock_location_id"], row["order_line__product_id"]): row["units"]
        for row in FulfilmentLine.objects.filter(
            fulfilment__status__in=FULFILMENT_STATUSES_HOLDING_STOCK, order_line__product__isnull=False
        )
        .values("fulfilment__stock_location_id", "order_line__product_id")
        .annotate(units=Sum("quantity"))
    }
    # Units reserved or awaited otherwise (the apps above: a transfer reserves its units at its
    # source, and a fulfilment's units on their way are not at its location yet).
    for path in settings.O2O_STOCK_RESERVED_OTHERWISE:
        for key, units in import_string(path)().items():
            held[key] = held.get(key, 0) + units
    held = {key: units for key, units in held.items() if units}
    report.open_orders = Order.objects.filter(status__in=STATUSES_HOLDING_STOCK).count()
    seen = set()
    for level in StockLevel.objects.values("store_id", "product_id", "on_hand", "reserved").iterator():
        report.stock_levels += 1
        key = (level["store_id"], level["product_id"])
        seen.add(key)
        expected = held.get(key, 0)
        where = f"store {key[0]}, product {key[1]}"
        if level["reserved"] != expected:
            report.problems.append(f"stock: {where}: reserved {level['reserved']}, but open orders hold {expected}")
        if level["reserved"] < 0 or level["on_hand"] < level["reserved"]:
            report.problems.append(
                f"stock: {where}: on hand {level['on_hand']}, reserved {level['reserved']} "
                "(needs on hand >= reserved >= 0)"
            )
    for key in sorted(set(held) - seen):
        report.problems.append(
            f"stock: store {key[0]}, product {key[1]}: open orders hold {held[key]} but there is no stock record"
        )


def _check_ready_notifications(report):
    missing = (
        Order.objects.filter(status__in=(OrderStatus.READY_FOR_PICKUP, OrderStatus.COLLECTED))
        .exclude(notifications__kind=NotificationKind.READY_FOR_PICKUP)
        .values_list("number", flat=True)
        .order_by("number")
    )
    for number in missing:
        report.problems.append(f"notifications: order {number} was made ready but has no ready-for-pickup e-mail")


def _check_line_readiness(report):
    """Line-level readiness (pickup.services.mark_lines_ready, collect_order): nothing was handed
    over that was not ready, a placed order with every item ready would have been made ready, and
    a shopper told of ready items was told by e-mail. Three queries whatever the number of orders."""
    handed_over_unready = (
        FulfilmentLine.objects.filter(
            fulfilment__status=FulfilmentStatus.FULFILLED,
            fulfilment__order__status=OrderStatus.PLACED,
            # A split order's delivered or shipped part is handed over without being "ready".
            fulfilment__method__in=PICKUP_METHODS,
            ready_at__isnull=True,
        )
        .values_list("fulfilment__order__number", flat=True)
        .distinct()
        .order_by("fulfilment__order__number")
    )
    for number in handed_over_unready:
        report.problems.append(f"readiness: order {number} had items handed over that were not marked ready")
    placed_lines = FulfilmentLine.objects.filter(
        fulfilment__order__status=OrderStatus.PLACED, fulfilment__status=FulfilmentStatus.PENDING
    )
    counts = (
        placed_lines.values("fulfilment__order__number")
        .annotate(lines=Count("pk"), ready=Count("pk", filter=Q(ready_at__isnull=False)))
        .order_by("fulfilment__order__number")
    )
    for row in counts:
        if row["lines"] and row["ready"] == row["lines"]:
            report.problems.append(
                f"readiness: order {row['fulfilment__order__number']} is placed with every item ready, "
                "but not ready for pickup"
            )
    untold = (
        Order.objects.filter(
            status=OrderStatus.PLACED,
            fulfilments__status=FulfilmentStatus.PENDING,
            fulfilments__lines__ready_at__isnull=False,
        )
        .exclude(notifications__kind=NotificationKind.PARTLY_READY)
        .values_list("number", flat=True)
        .distinct()
        .order_by("number")
    )
    for number in untold:
        report.problems.append(f'readiness: order {number} has items ready but no "items ready" e-mail')


def _check_fulfilment_coverage(report):
    """Every line of an order not cancelled is carried, unit for unit, exactly once by its
    fulfilments not cancelled (one part, or the parts of a split order, or a ready part collected
    before the rest). One query whatever the number of orders."""
    uncovered = (
        OrderLine.objects.exclude(order__status=OrderStatus.CANCELLED)
        .annotate(
            carried=Sum(
                "fulfilment_lines__quantity",
                filter=~Q(fulfilment_lines__fulfilment__status=FulfilmentStatus.CANCELLED),
                default=0,
            )
        )
        .exclude(carried=F("quantity"))
        .values_list("order__number", "sku", "quantity", "carried")
        .order_by("order__number", "pk")
    )
    for number, sku, quantity, carried in uncovered:
        report.problems.append(
            f"fulfilment: order {number}, line {sku}: {quantity} units ordered, {carried} in its fulfilments"
        )


def _check_split_orders(report):
    """A split order's status is the one its parts give it (orders.services.split_order_status),
    and no two parts are collected at one counter (one pickup part each). Two queries."""
    orders = {order.pk: order for order in Order.objects.filter(is_split=True).exclude(status=OrderStatus.CANCELLED)}
    parts: dict[int, list] = {}
    for fulfilment in Fulfilment.objects.filter(order__is_split=True).exclude(order__status=OrderStatus.CANCELLED):
        parts.setdefault(fulfilment.order_id, []).append(fulfilment)
    for pk, order in orders.items():
        fulfilments = parts.get(pk, [])
        if len({f.stock_location_id for f in fulfilments if f.is_pickup}) > 1:
            report.problems.append(f"split: order {order.number} is to be collected at more than one store")
        derived = split_order_status(order, fulfilments)
        if derived != order.status:
            report.problems.append(f"split: order {order.number} is {order.status}, but its parts make it {derived}")


def _check_notifications_moving(report, *, stuck_before):
    report.notifications = Notification.objects.count()
    stuck = (
        Notification.objects.filter(
            Q(status=NotificationStatus.PENDING, created_at__lt=stuck_before)
            & (Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stuck_before))
            | Q(status=NotificationStatus.SENDING, claimed_at__lt=stuck_before)
        )
        .select_related("order")
        .order_by("pk")
    )
    for notification in stuck:
        report.problems.append(
            f"notifications: {notification.kind} for order {notification.order.number} is {notification.status} "
            f"since {notification.created_at:%Y-%m-%d %H:%M} UTC (attempts {notification.attempts})"
        )
    for notification in (
        Notification.objects.filter(status__in=(NotificationStatus.FAILED, NotificationStatus.UNCONFIRMED))
        .select_related("order")
        .order_by("pk")
    ):
        report.problems.append(
            f"notifications: {notification.kind} for order {notification.order.number} is {notification.status} "
            f"and needs a person (resend it in the admin): {notification.last_error[:200]}"
        )
    sent_without_time = Notification.objects.filter(status=NotificationStatus.SENT, sent_at__isnull=True).count()
    if sent_without_time:
        report.problems.append(f"notifications: {sent_without_time} marked sent without a sending time")
