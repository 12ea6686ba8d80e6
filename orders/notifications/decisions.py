"""What store managers decide about e-mails in the admin, for the stores they manage only."""

from functools import partial

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from orders.models import Notification, NotificationStatus
from stores.models import Store

from .delivery import add_to_timeline
from .outbox import dispatch


def resend_notifications(*, notifications: list[Notification], by: User) -> int:
    """Send failed or unconfirmed notifications again, for the stores `by` manages only.

    A fresh set of tries; the previous error stays on record until the e-mail goes out.
    Returns how many were queued again; sent and pending ones are left alone.
    """
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update(of=("self",))
            .filter(pk__in=[notification.pk for notification in notifications])
            .filter(status__in=(NotificationStatus.FAILED, NotificationStatus.UNCONFIRMED))
            .filter(order__store__in=Store.objects.managed_by(by).values("pk"))
            .values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=ids).update(
            status=NotificationStatus.PENDING,
            attempts=0,
            claim_token="",
            claimed_at=None,
            send_started_at=None,
            dispatched_at=None,
        )
        for notification_id in ids:
            transaction.on_commit(partial(dispatch, notification_id=notification_id))
    return len(ids)


def confirm_notifications_sent(*, notifications: list[Notification], by: User) -> int:
    """A manager checked with the shopper: unconfirmed e-mails did arrive. Returns how many.

    Each goes on its order's timeline as sent, as a delivery would have put it."""
    with transaction.atomic():
        confirmed = list(
            Notification.objects.select_for_update(of=("self",))
            .select_related("order")
            .filter(pk__in=[notification.pk for notification in notifications])
            .filter(status=NotificationStatus.UNCONFIRMED)
            .filter(order__store__in=Store.objects.managed_by(by).values("pk"))
            .order_by("pk")
        )
        Notification.objects.filter(pk__in=[notification.pk for notification in confirmed]).update(
            status=NotificationStatus.SENT, sent_at=timezone.now(), claim_token="", claimed_at=None
        )
        for notification in confirmed:
            add_to_timeline(notification)
    return len(confirmed)
