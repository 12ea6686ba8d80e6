"""Celery beat's pickup jobs (CELERY_BEAT_SCHEDULE): thin, they call pickup.reminders.

The worker imports this module at start (CELERY_IMPORTS in settings).
"""

from celery import shared_task

from . import reminders


@shared_task(ignore_result=True)
def send_pickup_reminders() -> int:
    return len(reminders.send_pickup_reminders().done)


@shared_task(ignore_result=True)
def expire_uncollected_orders() -> int:
    return len(reminders.expire_uncollected_orders().done)
