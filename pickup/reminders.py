"""Ready orders nobody collects: a reminder e-mail, and in the end cancellation.

Each store sets when (PickupSettings.remind_after_hours, .expire_after_days), counted from the
moment the order became ready (its "ready for pickup" event). Celery beat runs both every few
minutes (pickup.scheduled, CELERY_BEAT_SCHEDULE) and `manage.py send_pickup_reminders` /
`manage.py expire_uncollected_orders` run them on demand.

Both are idempotent. Each order is handled in its own transaction with its row locked, and
re-checked under the lock: a reminder is a Notification unique per (order, kind), written only
if there is none; expiry is the transition ready → cancelled, which the transition table allows
once, so the stock goes back on sale once and the shopper gets one e-mail, however many runs
overlap or repeat.
"""

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from orders.models import Order, OrderActivity, OrderEvent, OrderStatus
from orders.services import IllegalTransition, cancel_order, record_order_activity

from .models import Notification, NotificationKind, PickupSettings
from .notifications import message_for, notify

logger = logging.getLogger(__name__)


@dataclass
class RunReport:
    """What one run did, for the command's summary and the task's log."""

    done: list = field(default_factory=list)  # order numbers
    skipped: int = 0  # due, but changed meanwhile (collected, already done by another run)


def _ready_orders(*, without_kind):
    became_ready = (
        OrderEvent.objects.filter(order=OuterRef("pk"), to_status=OrderStatus.READY_FOR_PICKUP, kind="status")
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    return (
        Order.objects.filter(status=OrderStatus.READY_FOR_PICKUP)
        .exclude(notifications__kind=without_kind)
        .annotate(ready_at=Subquery(became_ready))
        .select_related("store", "store__pickup_settings")
        .order_by("pk")
    )


def _rules(order):
    return PickupSettings.for_store(order.store)


def _expires_at(order):
    return order.ready_at + datetime.timedelta(days=_rules(order).expire_after_days)


def _remind_at(order):
    return order.ready_at + datetime.timedelta(hours=_rules(order).remind_after_hours)


def orders_due_a_reminder(*, now):
    """Ready orders past their store's reminder time, not reminded yet, not yet due to expire."""
    return [
        order
        for order in _ready_orders(without_kind=NotificationKind.PICKUP_REMINDER)
        if order.ready_at is not None and _remind_at(order) <= now < _expires_at(order)
    ]


def orders_due_to_expire(*, now):
    return [
        order
        for order in _ready_orders(without_kind=NotificationKind.ORDER_EXPIRED)
        if order.ready_at is not None and _expires_at(order) <= now
    ]


def _lock_if_still_ready(order):
    locked = Order.objects.select_for_update().filter(pk=order.pk, status=OrderStatus.READY_FOR_PICKUP).first()
    return locked


def send_pickup_reminders(*, now=None) -> RunReport:
    """E-mail every shopper whose ready order waits longer than their store's reminder time."""
    now = now or timezone.now()
    report = RunReport()
    for order in orders_due_a_reminder(now=now):
        with transaction.atomic():
            locked = _lock_if_still_ready(order)
            if locked is None or Notification.objects.filter(
                order=order, kind=NotificationKind.PICKUP_REMINDER
            ).exists():
                report.skipped += 1
                continue
            notify(order=locked, kind=NotificationKind.PICKUP_REMINDER)
            hours = _rules(order).remind_after_hours
            record_order_activity(
                order=locked,
                kind=OrderActivity.REMINDED,
                note=lambda hours=hours: ngettext(
                    "Not collected after %(hours)s hour: reminder e-mailed.",
                    "Not collected after %(hours)s hours: reminder e-mailed.",
                    hours,
                )
                % {"hours": hours},
            )
        report.done.append(order.number)
    if report.done:
        logger.info("pickup reminders sent for %s", ", ".join(report.done))
    return report


def expire_uncollected_orders(*, now=None) -> RunReport:
    """Cancel ready orders left longer than their store allows: the units go back on sale and the
    shopper is told."""
    now = now or timezone.now()
    report = RunReport()
    for order in orders_due_to_expire(now=now):
        days = _rules(order).expire_after_days

        def note(days=days):  # written in the order's language by cancel_order
            return ngettext(
                "Not collected within %(days)s day: cancelled automatically.",
                "Not collected within %(days)s days: cancelled automatically.",
                days,
            ) % {"days": days}

        try:
            with transaction.atomic():
                cancelled = cancel_order(order=order, note=note)
                notify(order=cancelled, kind=NotificationKind.ORDER_EXPIRED)
        except IllegalTransition:
            report.skipped += 1  # collected or cancelled meanwhile (or by an overlapping run)
            continue
        report.done.append(order.number)
    if report.done:
        logger.info("uncollected orders cancelled: %s", ", ".join(report.done))
    return report


# --- the e-mails ------------------------------------------------------------------------------


def _email(order, *, template, subject, extra=None):
    store = order.store
    with translation.override(order.language):
        context = {
            "order": order,
            "store": store,
            "rules": _rules(order),
            "opening_hours": list(store.opening_hours.all()),
            "order_link": order.absolute_link(),
            "shop_name": settings.SHOP_NAME,
            **(extra or {}),
        }
        text = render_to_string(f"pickup/email/{template}.txt", context)
        html = render_to_string(f"pickup/email/{template}.html", context)
        subject = subject()
    message = EmailMultiAlternatives(subject=subject, body=text, to=[order.contact_email])
    message.attach_alternative(html, "text/html")
    return message


@message_for(NotificationKind.PICKUP_REMINDER)
def pickup_reminder_email(order) -> EmailMultiAlternatives:
    ready_at = (
        OrderEvent.objects.filter(order=order, to_status=OrderStatus.READY_FOR_PICKUP, kind="status")
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    ) or timezone.now()
    expires_at = ready_at + datetime.timedelta(days=_rules(order).expire_after_days)
    return _email(
        order,
        template="pickup_reminder",
        subject=lambda: _("Reminder: your order %(number)s is waiting for you at %(store)s")
        % {"number": order.number, "store": order.store.name},
        extra={"expires_at": expires_at},
    )


@message_for(NotificationKind.ORDER_EXPIRED)
def order_expired_email(order) -> EmailMultiAlternatives:
    return _email(
        order,
        template="order_expired",
        subject=lambda: _("Your order %(number)s was cancelled: it was not collected")
        % {"number": order.number},
    )
