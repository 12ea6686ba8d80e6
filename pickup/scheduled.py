"""Celery beat's pickup jobs (CELERY_BEAT_SCHEDULE): thin, they call pickup.reminders.

Imported by pickup.tasks so the worker registers them; pickup.reminders is imported when a task
runs (it imports pickup.notifications, which imports pickup.tasks).
"""

from celery import shared_task


@shared_task(ignore_result=True)
def send_pickup_reminders():
    from .reminders import send_pickup_reminders as run

    return len(run().done)


@shared_task(ignore_result=True)
def expire_uncollected_orders():
    from .reminders import expire_uncollected_orders as run

    return len(run().done)
