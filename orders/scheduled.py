"""Celery beat's outbox job (CELERY_BEAT_SCHEDULE; the worker imports it through CELERY_IMPORTS)."""

from celery import shared_task

from .notifications import relay


@shared_task(ignore_result=True, acks_late=False)
def relay_notifications() -> None:
    """Queue notifications the broker never got, and take over abandoned claims."""
    relay.relay_notifications()
