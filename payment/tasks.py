"""Celery tasks of the payment app: thin, they take ids and call payment.services."""

import logging

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model

from orders.models import Order

from . import services

logger = logging.getLogger(__name__)


class SettlementIncomplete(Exception):
    """A provider failed while settling; the task is retried with backoff."""


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def settle_order_payments(self, *, order_id: int, by_id: int | None = None) -> int:
    """Settle an order's payments (payment.services.settle_order_payments): after a cancellation,
    or a payment for an order that no longer needs it. Retried with backoff while a provider
    fails (PAYMENT_SETTLE_MAX_RETRIES); beat's sweep (payment.scheduled) picks up any left after
    that. Returns how many changes it made."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return 0
    user = get_user_model().objects.filter(pk=by_id).first() if by_id else None
    by = None
    if user is not None:
        by = services.Actor.staff(user) if user.is_staff else services.Actor.shopper(user)
    settled = services.settle_order_payments(order=order, by=by)
    if settled.failed:
        error = SettlementIncomplete(f"order {order.number}: {settled.failed}")
        countdown = min(settings.PAYMENT_SETTLE_RETRY_BACKOFF * 2**self.request.retries, 3600)
        if self.request.is_eager:
            # In-process (no broker): nothing waits for a countdown; the beat sweep (or the
            # next cancellation's task) settles it later.
            logger.warning("%s; left for the sweep", error)
            return len(settled.events)
        raise self.retry(exc=error, countdown=countdown, max_retries=settings.PAYMENT_SETTLE_MAX_RETRIES)
    return len(settled.events)
