"""Celery tasks of campaigns: thin, they take ids and call campaigns.sending / messages.

prepare_campaign → pace_campaign (at the start of every CAMPAIGN_TICK_SECONDS slot while sending)
→ send_campaign_chunk per claimed chunk. Without a broker (`make run`, tasks in-process) there is
no clock to pace by: the pacer then runs its ticks one after the other until everything is sent.
"""

import datetime

from celery import current_app, shared_task
from django.conf import settings
from django.utils import timezone

from . import sending
from .messages import build_confirmation
from .models import ConsentState, EmailConsent


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def prepare_campaign(*, campaign_id: int, after: int | None = None) -> None:
    """One step of writing the recipients; the next step, or the pacer once all are written."""
    step = sending.prepare(campaign_id=campaign_id, after=after)
    if step is None:
        return
    if step.done:
        pace_campaign.delay(campaign_id=campaign_id)
    else:
        prepare_campaign.delay(campaign_id=campaign_id, after=step.through)


@shared_task(acks_late=False, ignore_result=True)
def pace_campaign(*, campaign_id: int) -> None:
    """One tick; then the next one after CAMPAIGN_TICK_SECONDS, until the campaign is sent."""
    if current_app.conf.task_always_eager:
        _pace_in_process(campaign_id=campaign_id)
        return
    tick = sending.pace(campaign_id=campaign_id)
    if tick is None:
        return
    for token in tick.chunks:
        send_campaign_chunk.delay(campaign_id=campaign_id, token=token)
    if not tick.finished:
        # At the start of the next slot, not a tick after this one ended: the time this tick
        # took (its queries, waiting for a free process) is not added to every interval.
        pace_campaign.apply_async(kwargs={"campaign_id": campaign_id}, eta=tick.next_at)


def _pace_in_process(*, campaign_id: int) -> None:
    now = timezone.now()
    while True:
        tick = sending.pace(campaign_id=campaign_id, now=now)
        if tick is None or tick.finished:
            return
        for token in tick.chunks:
            sending.send_chunk(campaign_id=campaign_id, token=token)
        now += datetime.timedelta(seconds=settings.CAMPAIGN_TICK_SECONDS)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def send_campaign_chunk(*, campaign_id: int, token: str) -> int:
    # Given back to the queue when its worker dies: delivered again, it settles what was left.
    return sending.send_chunk(campaign_id=campaign_id, token=token)


@shared_task(
    bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=5, default_retry_delay=60
)
def send_confirmation(self, *, consent_id: int) -> bool:
    """The double opt-in e-mail, if the address still waits for it; retried when the mail server fails."""
    consent = EmailConsent.objects.filter(pk=consent_id, state=ConsentState.PENDING).first()
    if consent is None:
        return False
    try:
        build_confirmation(consent).send()
    except OSError as error:
        raise self.retry(exc=error) from error
    return True
