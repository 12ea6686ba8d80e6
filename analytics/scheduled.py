"""Celery beat's analytics job: the roll-up rows of yesterday and today (CELERY_BEAT_SCHEDULE
"roll-up-daily-figures"; the worker imports this module through CELERY_IMPORTS)."""

import logging

from celery import shared_task

from . import rollups

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, acks_late=False)
def roll_up_recent_days() -> int:
    """Rewrite every store's DailyStoreFigures for yesterday and today in its own calendar
    (rollups.recent_days) and return the rows written. Idempotent: a run repeated, or two runs
    overlapping, leave the same rows (each is computed whole and upserted)."""
    start, end = rollups.recent_days()
    written = rollups.roll_up(start=start, end=end)
    logger.info("daily figures rolled up for %s to %s: %s rows", start.isoformat(), end.isoformat(), written)
    return written
