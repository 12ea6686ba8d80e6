"""Beat's heartbeat: a beat-scheduled task that records when it last ran (README, "Health and metrics")."""

import logging

from celery import shared_task
from django.utils import timezone

from .models import Heartbeat

logger = logging.getLogger(__name__)

BEAT = "beat"


@shared_task(name="ops.tasks.beat_heartbeat", ignore_result=True)
def beat_heartbeat() -> None:
    """Record now as beat's last run (row `beat` of ops.Heartbeat); scheduled every
    OPS_BEAT_HEARTBEAT_INTERVAL seconds by CELERY_BEAT_SCHEDULE["ops-beat-heartbeat"]."""
    beat_at = timezone.now()
    Heartbeat.objects.update_or_create(name=BEAT, defaults={"beat_at": beat_at})
    logger.info("beat heartbeat recorded at %s", beat_at.isoformat())
