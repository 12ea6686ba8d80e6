"""Celery beat's order jobs: the outbox relay and the payment holds (CELERY_BEAT_SCHEDULE; the
worker imports this module through CELERY_IMPORTS)."""

from celery import shared_task
from django.utils import timezone

from . import services
from .notifications import relay


@shared_task(ignore_result=True, acks_late=False)
def relay_notifications() -> None:
    """Queue notifications the broker never got, and take over abandoned claims."""
    relay.relay_notifications()


@shared_task(ignore_result=True, acks_late=False)
def expire_payment_holds() -> int:
    """Cancel orders whose payment hold ended unpaid (orders.services.expire_payment_holds)."""
    return len(services.expire_payment_holds(now=timezone.now()))
