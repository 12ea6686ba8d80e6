"""Celery tasks: thin, they take ids and call pickup.notifications (which explains the guarantees)."""

import logging

from celery import shared_task
from django.conf import settings

from . import notifications

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    # The row's attempts count is what decides "failed"; this only stops a runaway retry loop.
    max_retries=None,
    # Acknowledged only when it finished, and given back to the queue when its worker process
    # dies: the next delivery of the same task (same id) recognises its own claim on the row.
    acks_late=True,
    reject_on_worker_lost=True,
)
def send_notification(self, *, notification_id):
    """Deliver one notification; retried with backoff until NOTIFICATION_MAX_ATTEMPTS, then failed."""
    while True:
        try:
            notifications.deliver_notification(notification_id=notification_id, claim_token=self.request.id)
            return
        except notifications.DeliveryFailed as failure:
            if failure.retry_in is None:
                return  # marked failed, with the error, for a manager to resend
            if not self.request.is_eager:
                raise self.retry(
                    countdown=failure.retry_in, max_retries=settings.NOTIFICATION_MAX_ATTEMPTS
                ) from failure
            # In-process (no broker, the embedded defaults): nothing to wait with, so the next
            # try runs at once; the row's attempts still bound the loop.


@shared_task(ignore_result=True, acks_late=False)
def relay_notifications():
    """Queue notifications the broker never got, and take over abandoned claims (Celery beat)."""
    notifications.relay_notifications()
from . import scheduled  # noqa: E402, F401  (HA: the beat tasks for reminders and expiry)
