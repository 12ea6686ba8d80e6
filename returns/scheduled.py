"""Celery beat's returns job (CELERY_BEAT_SCHEDULE; the worker imports it through CELERY_IMPORTS)."""

import logging

from celery import shared_task

from . import services
from .models import Return, ReturnStatus

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, acks_late=False)
def retry_pending_refunds() -> int:
    """Refund the returns still "refund pending" (a provider that was down, a retry task that was
    lost). Each is decided under its locks, so a retry running at the same moment refunds once.
    Returns how many were refunded now."""
    refunded = 0
    for order_return in (
        Return.objects.filter(status=ReturnStatus.REFUND_PENDING).select_related("order").order_by("pk")
    ):
        done = services.refund_return(order_return=order_return)
        refunded += done.status != ReturnStatus.REFUND_PENDING
        if done.status == ReturnStatus.REFUND_PENDING:
            logger.warning("return %s: refund still pending: %s", done.code, done.last_refund_error)
    return refunded
