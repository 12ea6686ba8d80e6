"""Celery tasks of the returns app: thin, they take ids and call returns.services."""

from celery import shared_task

from . import services
from .models import Return


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def retry_return_refund(self, *, return_id: int) -> str:
    """Try again a return's refund the payment provider failed (queued by returns.services with a
    doubling countdown, RETURN_REFUND_RETRY_BACKOFF, up to RETURN_REFUND_MAX_RETRIES times; beat's
    sweep, returns.scheduled, picks up what is left). Returns the return's status."""
    order_return = Return.objects.filter(pk=return_id).select_related("order").first()
    if order_return is None:
        return ""
    return services.refund_return(order_return=order_return).status
