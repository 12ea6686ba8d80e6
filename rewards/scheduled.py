"""Celery beat's daily rewards job (CELERY_BEAT_SCHEDULE "rewards-daily"; the worker imports this
module through CELERY_IMPORTS). Thin: rewards.expiry decides."""

from celery import shared_task

from . import expiry


@shared_task(ignore_result=True, acks_late=False)
def rewards_daily() -> dict:
    """Expire due points, e-mail members whose points expire within REWARDS_EXPIRY_NOTICE_DAYS,
    and earn or give back for orders whose signal was lost. Returns the counts of each."""
    return expiry.run_daily()


@shared_task(ignore_result=True, bind=True, max_retries=6)
def send_expiry_notice(self, *, notice_id: int) -> bool:
    """Send one expiry notice (once: a notice already sent is skipped); retried with backoff."""
    try:
        return expiry.send_notice(notice_id=notice_id)
    except OSError as error:  # the mail server is unreachable
        raise self.retry(exc=error, countdown=60 * 2**self.request.retries) from error
