"""Ready orders nobody collects: a reminder e-mail, and in the end cancellation.

Each store sets when (PickupSettings.remind_after_hours, .expire_after_days), counted from the
later of the moment the order became ready (its "ready for pickup" event) and the end of the
pickup time the shopper booked: an order ready days before its booked time is not chased, let
alone cancelled, before that time (uncollected_deadlines, the one place these times are
computed; the reminder's "collect by" is the cancellation time). Celery beat runs both every few
minutes (pickup.scheduled, CELERY_BEAT_SCHEDULE) and `manage.py send_pickup_reminders` /
`manage.py expire_uncollected_orders` run them on demand.

Both are idempotent. Each order is handled in its own transaction with its row locked, and
re-checked under the lock: a reminder is a Notification unique per (order, kind), written only
if there is none; expiry is the transition ready → cancelled, which the transition table allows
once, so the stock goes back on sale once and the shopper gets one e-mail (orders.services.
cancel_order queues it), however many runs overlap or repeat.
"""

import datetime
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import ngettext

from orders.models import CancelReason, Notification, NotificationKind, Order, OrderActivity, OrderEvent, OrderStatus
from orders.notifications.outbox import notify
from orders.services import IllegalTransition, cancel_order, record_order_activity
from stores.models import Store

from .models import Pickup, PickupSettings

logger = logging.getLogger(__name__)


@dataclass
class RunReport:
    """What one run did, for the command's summary and the task's log."""

    done: list = field(default_factory=list)  # order numbers
    skipped: int = 0  # due, but changed meanwhile (collected, already done by another run)


@dataclass(frozen=True)
class UncollectedDeadlines:
    remind_at: datetime.datetime
    collect_by: datetime.datetime  # the order is cancelled at this time if still not collected


def uncollected_deadlines(
    *, store: Store, ready_at: datetime.datetime, booked_until: datetime.datetime | None
) -> UncollectedDeadlines:
    """When a ready order not collected is reminded and cancelled: `store`'s hours and days,
    counted from the later of `ready_at` and `booked_until` (the end of the booked pickup time)."""
    counted_from = max(ready_at, booked_until) if booked_until else ready_at
    rules = PickupSettings.for_store(store)
    return UncollectedDeadlines(
        remind_at=counted_from + datetime.timedelta(hours=rules.remind_after_hours),
        collect_by=counted_from + datetime.timedelta(days=rules.expire_after_days),
    )


def _deadlines(order: Order) -> UncollectedDeadlines:
    return uncollected_deadlines(store=order.store, ready_at=order.ready_at, booked_until=order.booked_until)


def _became_ready():
    return (
        OrderEvent.objects.filter(
            order=OuterRef("pk"), to_status=OrderStatus.READY_FOR_PICKUP, kind=OrderActivity.STATUS
        )
        .order_by("-created_at")
        .values("created_at")[:1]
    )


def ready_at_of(order: Order) -> datetime.datetime:
    """When the order last became ready (now, if it never did)."""
    ready_at = (
        OrderEvent.objects.filter(order=order, to_status=OrderStatus.READY_FOR_PICKUP, kind=OrderActivity.STATUS)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return ready_at or timezone.now()


def _booked_until():
    return Pickup.objects.filter(fulfilment__order=OuterRef("pk")).order_by("pk").values("slot_end")[:1]


def _ready_orders() -> QuerySet[Order]:
    return (
        Order.objects.filter(status=OrderStatus.READY_FOR_PICKUP)
        .annotate(ready_at=Subquery(_became_ready()), booked_until=Subquery(_booked_until()))
        .filter(ready_at__isnull=False)
        .select_related("store", "store__pickup_settings")
        .order_by("pk")
    )


def orders_due_a_reminder(*, now: datetime.datetime) -> list[Order]:
    """Ready orders past their reminder time, not reminded yet, not yet due to be cancelled."""
    due = []
    for order in _ready_orders().exclude(notifications__kind=NotificationKind.PICKUP_REMINDER):
        deadlines = _deadlines(order)
        if deadlines.remind_at <= now < deadlines.collect_by:
            due.append(order)
    return due


def orders_due_to_expire(*, now: datetime.datetime) -> list[Order]:
    return [order for order in _ready_orders() if _deadlines(order).collect_by <= now]


def _lock_if_still_ready(order: Order) -> Order | None:
    return Order.objects.select_for_update().filter(pk=order.pk, status=OrderStatus.READY_FOR_PICKUP).first()


def send_pickup_reminders(*, now: datetime.datetime | None = None) -> RunReport:
    """E-mail every shopper whose ready order waits longer than their store's reminder time."""
    now = now or timezone.now()
    report = RunReport()
    for order in orders_due_a_reminder(now=now):
        with transaction.atomic():
            locked = _lock_if_still_ready(order)
            if (
                locked is None
                or Notification.objects.filter(order=order, kind=NotificationKind.PICKUP_REMINDER).exists()
            ):
                report.skipped += 1
                continue
            notify(order=locked, kind=NotificationKind.PICKUP_REMINDER)
            hours = PickupSettings.for_store(order.store).remind_after_hours
            record_order_activity(
                order=locked,
                kind=OrderActivity.REMINDED,
                note=lambda hours=hours: (
                    ngettext(
                        "Not collected after %(hours)s hour: reminder e-mailed.",
                        "Not collected after %(hours)s hours: reminder e-mailed.",
                        hours,
                    )
                    % {"hours": hours}
                ),
            )
        report.done.append(order.number)
    if report.done:
        logger.info("pickup reminders sent for %s", ", ".join(report.done))
    return report


def expire_uncollected_orders(*, now: datetime.datetime | None = None) -> RunReport:
    """Cancel ready orders left longer than their store allows: the units go back on sale and the
    shopper is told."""
    now = now or timezone.now()
    report = RunReport()
    for order in orders_due_to_expire(now=now):
        days = PickupSettings.for_store(order.store).expire_after_days

        def note(days=days):  # written in the order's language by cancel_order
            return ngettext(
                "Not collected within %(days)s day: cancelled automatically.",
                "Not collected within %(days)s days: cancelled automatically.",
                days,
            ) % {"days": days}

        try:
            # cancel_order queues the shopper's "order cancelled" e-mail, with this reason.
            cancel_order(order=order, reason=CancelReason.NOT_COLLECTED, note=note)
        except IllegalTransition:
            report.skipped += 1  # collected or cancelled meanwhile (or by an overlapping run)
            continue
        report.done.append(order.number)
    if report.done:
        logger.info("uncollected orders cancelled: %s", ", ".join(report.done))
    return report
