"""A campaign sent by real Celery workers through Redis: a worker is SIGKILLed in the middle of a
chunk, a second one takes over, and every recipient ends with exactly one e-mail, at the rate.

E-mails go to orders.tests.mail_backends.RecordingBackend (one file per Message-ID, a second copy
kept apart so a duplicate would be counted; it can say whether it took a message, and can pause
right after the first one so the test kills the worker there).
"""

import datetime
import email
import email.policy
import uuid

import pytest

from campaigns.models import Campaign, CampaignRecipient, CampaignStatus, RecipientStatus
from campaigns.services import queue_campaign
from orders.tests.test_outbox_faults import START_TIMEOUT, Worker
from orders.tests.test_worker import delete_queue, sending_to

from .factories import CampaignFactory, EmailConsentFactory

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

RECIPIENTS = 40
RATE_PER_MINUTE = 600  # 10 a second
SEND_TIMEOUT = 60


@pytest.fixture
def queue(redis_broker_url):
    name = f"o2o-test-{uuid.uuid4().hex[:12]}"
    yield name
    delete_queue(broker_url=redis_broker_url, queue=name)


def status_of(campaign):
    return Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True).get()


def test_a_killed_worker_s_chunk_is_resumed_and_each_recipient_gets_exactly_one_email(
    require_postgres, redis_broker_url, transactional_db, queue, tmp_path
):
    # given 40 subscribed shoppers and a campaign at 10 e-mails a second, in chunks of 5
    for number in range(RECIPIENTS):
        EmailConsentFactory(email=f"shopper{number}@example.com", language=("en", "is", "nb")[number % 3])
    campaign = CampaignFactory(rate_per_minute=RATE_PER_MINUTE)
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    settings_env = {"CAMPAIGN_CHUNK_SIZE": "5", "CAMPAIGN_TICK_SECONDS": "0.5", "CAMPAIGN_CLAIM_TIMEOUT": "2"}
    first = Worker(
        broker_url=redis_broker_url,
        queue=queue,
        mail_dir=mail_dir,
        log_path=tmp_path / "first.log",
        beat=False,
        MAIL_PAUSE="after",
        **settings_env,
    )
    second = None
    try:
        with sending_to(broker_url=redis_broker_url, queue=queue):
            # when the manager sends it, and the worker's mail server hangs right after taking the first e-mail
            queue_campaign(campaign=campaign)
            first.wait_until(
                lambda: (mail_dir / "paused-after").exists(), timeout=START_TIMEOUT, what="the first e-mail"
            )
            # and the worker is SIGKILLed there, its chunk claimed, one e-mail handed over and not marked
            first.kill_everything()
            assert CampaignRecipient.objects.filter(campaign=campaign).count() == RECIPIENTS
            handed_over = CampaignRecipient.objects.get(campaign=campaign, send_started_at__isnull=False)
            assert handed_over.status == RecipientStatus.SENDING
            assert len(list(mail_dir.glob("*.eml"))) == 1

            # when another worker runs, with beat (which starts the lost pacer again)
            second = Worker(
                broker_url=redis_broker_url,
                queue=queue,
                mail_dir=mail_dir,
                log_path=tmp_path / "second.log",
                CAMPAIGN_RESTART_INTERVAL="1",
                **settings_env,
            )
            second.wait_until(
                lambda: status_of(campaign) == CampaignStatus.SENT, timeout=SEND_TIMEOUT, what="the campaign to end"
            )

        # then every recipient has exactly one e-mail: the one handed over was not sent again
        files = sorted(mail_dir.glob("*.eml"))
        assert len(files) == RECIPIENTS
        messages = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default) for path in files]
        assert sorted(message["To"] for message in messages) == sorted(
            f"shopper{number}@example.com" for number in range(RECIPIENTS)
        )
        for message in messages:
            assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            assert message["List-Unsubscribe"].strip().startswith("<http")
        rows = CampaignRecipient.objects.filter(campaign=campaign)
        assert set(rows.values_list("status", flat=True)) == {RecipientStatus.SENT}
        handed_over.refresh_from_db()
        assert handed_over.attempts == 1

        # and the second worker kept to the rate: 39 e-mails at 10 a second take over 3 s
        times = sorted(rows.exclude(pk=handed_over.pk).values_list("sent_at", flat=True))
        assert times[-1] - times[0] >= datetime.timedelta(seconds=(RECIPIENTS - 1) / 10 - 1)
    finally:
        for worker in (first, second):
            if worker is not None:
                worker.stop()
