"""Celery tasks of the outbox: thin, they take ids and call orders.notifications.delivery.

The guarantees (at most once per order and kind, lost workers, backoff) are explained there.
The relay's beat task is in orders.scheduled (it imports the outbox, which imports this module).
"""

from celery import shared_task
from celery.exceptions import Retry
from django.conf import settings

from .notifications import delivery


@shared_task(
    bind=True,
    # Acknowledged only when it finished, and given back to the queue when its worker process
    # dies: the next delivery of the same task (same id) recognises its own claim on the row.
    acks_late=True,
    reject_on_worker_lost=True,
)
def send_notification(self, *, notification_id: int) -> Retry | None:
    """Deliver one notification; Celery retries it with the delivery's backoff until the row's
    NOTIFICATION_MAX_ATTEMPTS are used up, then the row is failed (for a manager to resend).
    """
    try:
        delivery.deliver_notification(notification_id=notification_id, claim_token=self.request.id)
    except delivery.DeliveryFailed as failure:
        if failure.retry_in is None:
            return None  # marked failed, with the error, for a manager to resend
        retry = self.retry(
            exc=failure, countdown=failure.retry_in, max_retries=settings.NOTIFICATION_MAX_ATTEMPTS, throw=False
        )
        if self.request.is_eager:
            # In-process (no broker, the embedded defaults): Celery's apply() runs the retry it is
            # handed back at once (there is no countdown to wait with). Raised, it would escape
            # to the caller, as CELERY_TASK_EAGER_PROPAGATES lets every task error do.
            return retry
        raise retry from failure
    return None
