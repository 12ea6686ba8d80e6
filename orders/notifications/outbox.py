"""The outbox: a notification is a row written with the change that causes it, queued after commit.

`notify(order=…, kind=…)` writes a Notification row in the caller's transaction (the status change
that causes it) and, after commit, hands a delivery task to the broker, bounded: a broker that is
down, unreachable or hung costs the request under a second, never a hang, and the row simply stays
pending; for BROKER_RETRY_AFTER seconds after such a failure the process does not try again (an
action marking twenty orders ready pays once, not twenty times). The relay (relay.py) queues the
rows the broker never got once it is back.
"""

import logging
import time
from functools import partial

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from orders import tasks
from orders.models import Notification, NotificationKind, NotificationStatus, Order

logger = logging.getLogger(__name__)

# Publishing from a web request: one quick reconnect (a pooled connection may be stale after a
# broker restart), then give up; the row stays pending for the relay.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1}
# A broker that hangs rather than refuses costs a publish up to three socket timeouts
# (CELERY_BROKER_SOCKET_TIMEOUT); after one failure, requests leave their rows to the relay for a while.
BROKER_RETRY_AFTER = 10.0  # seconds


def notify(
    *, order: Order, kind: NotificationKind, order_is_new: bool = False, known_new: bool = False, reference: str = ""
) -> Notification:
    """Write the shopper's notification in the caller's transaction; queue it after commit.

    Unique per (order, kind, reference): notifying twice returns the first row and queues nothing
    more. `reference` names what within the order it is about when an order may have several
    (a return's code); its e-mail builder is then called with it.
    `order_is_new`: the order was created in the caller's transaction, so it has no notification
    yet and the row is simply inserted (one statement instead of a lookup and a savepoint).
    `known_new`: the same for an order that has just made, under its row lock, the one move this
    notification announces (awaiting payment → placed: "order received"), which it makes once;
    the unique constraint still refuses a second row (the caller's transaction then fails).
    The task is bound to the row's id now (partial), not looked up when the hook runs. The row is
    written as queued (`dispatched_at`), so the usual outcome costs no second write after commit;
    if the broker cannot take it, the hook clears `dispatched_at` and the relay queues it later.
    """
    fields = {"recipient": order.contact_email, "dispatched_at": timezone.now()}
    if order_is_new or known_new:
        notification, created = Notification.objects.create(order=order, kind=kind, reference=reference, **fields), True
    else:
        notification, created = Notification.objects.get_or_create(
            order=order, kind=kind, reference=reference, defaults=fields
        )
    if created:
        transaction.on_commit(partial(_queue_written, notification_id=notification.pk))
    return notification


def _queue_written(*, notification_id: int) -> None:
    if not _publish(notification_id=notification_id, during_outage=False):
        Notification.objects.filter(pk=notification_id, status=NotificationStatus.PENDING).update(dispatched_at=None)


class _BrokerOutage:
    """When this process last found the broker unavailable; requests skip it until `until`."""

    until = 0.0

    def noticed(self) -> None:
        self.until = time.monotonic() + BROKER_RETRY_AFTER

    def over(self) -> None:
        self.until = 0.0

    @property
    def ongoing(self) -> bool:
        return time.monotonic() < self.until


broker_outage = _BrokerOutage()


def dispatch(*, notification_id: int, during_outage: bool = False) -> bool:
    """Hand the delivery task to the broker, bounded in time, and record the row as queued.
    Returns whether it was queued.

    Never raises for an unreachable broker: the notification stays pending and the relay queues
    it once the broker is back. (Without CELERY_TASK_ALWAYS_EAGER the bound comes from the
    broker's connect and socket timeouts in settings and PUBLISH_RETRY_POLICY.) Within
    BROKER_RETRY_AFTER of a failure it does not try at all, unless `during_outage` (the relay).
    """
    if not _publish(notification_id=notification_id, during_outage=during_outage):
        return False
    Notification.objects.filter(pk=notification_id, status=NotificationStatus.PENDING).update(
        dispatched_at=timezone.now()
    )
    return True


def _publish(*, notification_id: int, during_outage: bool) -> bool:
    if broker_outage.ongoing and not during_outage:
        logger.info("notification %s stays queued in the database: the broker was unavailable", notification_id)
        return False
    try:
        tasks.send_notification.apply_async(
            kwargs={"notification_id": notification_id}, retry=True, retry_policy=PUBLISH_RETRY_POLICY
        )
    except (BrokerUnavailable, OSError) as error:
        broker_outage.noticed()
        logger.warning("notification %s stays queued in the database: broker unavailable (%s)", notification_id, error)
        return False
    broker_outage.over()
    return True


def waiting_for_the_broker(*, orders: QuerySet[Order] | list[Order], kind: NotificationKind) -> int:
    """How many of these orders' notifications of `kind` could not be queued yet (the broker is down)."""
    return Notification.objects.filter(
        order__in=orders, kind=kind, status=NotificationStatus.PENDING, dispatched_at__isnull=True
    ).count()
