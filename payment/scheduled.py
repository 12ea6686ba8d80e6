"""Celery beat's payment job (CELERY_BEAT_SCHEDULE; the worker imports it through CELERY_IMPORTS)."""

import logging

from celery import shared_task

from orders.models import Order

from . import services

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, acks_late=False)
def settle_cancelled_payments() -> int:
    """Settle the payments of cancelled orders that still hold something: a settlement task that
    was lost (the broker was down at the cancellation) or gave up on a provider. Returns how many
    orders it settled."""
    order_ids = sorted(set(services.payments_to_settle().values_list("order_id", flat=True)))
    settled = 0
    for order in Order.objects.filter(pk__in=order_ids).order_by("pk"):
        result = services.settle_order_payments(order=order)
        settled += not result.failed
        if result.failed:
            logger.warning("order %s: payments not settled yet: %s", order.number, result.failed)
    return settled
