"""The relay: every committed notification goes out once the broker is back.

Run by Celery beat every NOTIFICATION_RELAY_INTERVAL seconds (orders.scheduled) and by
`manage.py relay_notifications`. It picks pending rows that were never queued, or whose task got
lost, with SELECT … FOR UPDATE SKIP LOCKED (two relays never wait for each other, nor queue the
same row twice at once) and queues them again; and it settles "sending" claims older than
NOTIFICATION_CLAIM_TIMEOUT, whose worker is gone (delivery.recover_abandoned_claim).
"""

import datetime
import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from orders.models import Notification, NotificationStatus

from .delivery import claim_timeout, recover_abandoned_claim
from .outbox import dispatch

logger = logging.getLogger(__name__)

# Rows the relay leaves to the on_commit dispatch of the request that wrote them.
DISPATCH_GRACE = datetime.timedelta(seconds=5)
# A task handed to the broker that has not claimed its row by then is taken as lost (a broker
# restarted without persistence, a purged queue): the relay queues it again. Duplicates are harmless.
REDISPATCH_AFTER = datetime.timedelta(seconds=30)


@dataclass(frozen=True)
class RelayReport:
    queued: int
    waiting: int
    recovered: int
    broker_down: bool


def relay_notifications(*, limit: int = 500) -> RelayReport:
    """Queue every pending notification that is due and not queued; take over abandoned claims."""
    now = timezone.now()
    recovered, to_send_again = _recover_stale_claims(now=now, limit=limit)
    queued, broker_down = [], False
    with transaction.atomic():
        due = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=NotificationStatus.PENDING)
            .filter(
                Q(dispatched_at__isnull=True, created_at__lte=now - DISPATCH_GRACE)
                | Q(dispatched_at__lte=now - REDISPATCH_AFTER)
                | Q(pk__in=to_send_again)
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        for notification_id in due:
            # The row stays locked until commit: a worker picking the task up meanwhile waits
            # for the lock, then claims the row as usual.
            if not dispatch(notification_id=notification_id, during_outage=True):
                broker_down = True
                break
            queued.append(notification_id)
    report = RelayReport(
        queued=len(queued), waiting=len(due) - len(queued), recovered=recovered, broker_down=broker_down
    )
    if due:
        logger.info("notification relay: %s", report)
    return report


def _recover_stale_claims(*, now: datetime.datetime, limit: int) -> tuple[int, list[int]]:
    """Settle claims whose worker is gone; returns how many, and the ids to send again now."""
    recovered, to_send_again = 0, []
    with transaction.atomic():
        stale = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("order")
            .filter(status=NotificationStatus.SENDING, claimed_at__lt=now - claim_timeout())
            .order_by("pk")[:limit]
        )
        for notification in stale:
            if recover_abandoned_claim(notification):
                notification.status = NotificationStatus.PENDING
                notification.claim_token = ""
                notification.claimed_at = None
                notification.send_started_at = None
                notification.dispatched_at = None
                notification.save(
                    update_fields=["status", "claim_token", "claimed_at", "send_started_at", "dispatched_at"]
                )
                to_send_again.append(notification.pk)
            recovered += 1
    return recovered, to_send_again
