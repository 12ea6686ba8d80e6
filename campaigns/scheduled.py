"""Celery beat's campaign job (CELERY_BEAT_SCHEDULE; the worker imports it through CELERY_IMPORTS)."""

from celery import shared_task

from . import sending, tasks


@shared_task(ignore_result=True, acks_late=False)
def restart_lost_campaigns() -> int:
    """Start the pacer again for campaigns whose chain of ticks was lost (a killed worker), and
    the preparation of campaigns whose task was lost. Returns how many were started."""
    lost = sending.lost_pacers()
    for campaign_id in lost:
        tasks.pace_campaign.delay(campaign_id=campaign_id)
    preparing = sending.lost_preparations()
    for campaign_id in preparing:
        tasks.prepare_campaign.delay(campaign_id=campaign_id)  # goes on from what is written
    return len(lost) + len(preparing)
