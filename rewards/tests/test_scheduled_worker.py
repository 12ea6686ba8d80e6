"""Beat's daily rewards job run by a real Celery worker on Redis and PostgreSQL, sent twice as two
beat ticks would: the points past their time expire once, and the member whose points expire
within a month gets one e-mail."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.tests.test_worker import (
    DELIVERY_TIMEOUT,
    WORKER_START_TIMEOUT,
    Worker,
    delete_queue,
    delivered_emails,
    sending_to,
    text_of,
)
from rewards import scheduled, services
from rewards.models import EntryKind, ExpiryNotice, RewardAccount, RewardEntry
from stores.tests.factories import StoreFactory

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def beat_queue(redis_broker_url, monkeypatch):
    queue = f"o2o-beat-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("CELERY_TASK_DEFAULT_QUEUE", queue)
    yield queue
    delete_queue(broker_url=redis_broker_url, queue=queue)


def test_the_daily_job_through_a_real_worker_expires_once_and_warns_once(
    require_postgres, redis_broker_url, transactional_db, beat_queue, tmp_path
):
    # given Anna earned 500 points two years ago (past their time) and Björn 200 that expire in 20 days
    store = StoreFactory(name="Laugavegur")
    anna = services.join(email="anna@example.com")
    bjorn = services.join(email="bjorn@example.is", language="is")
    old = services.earn_in_store(account=anna, store=store, till_receipt_number="T-1", amount="10000", by=None)
    soon = services.earn_in_store(account=bjorn, store=store, till_receipt_number="T-2", amount="4000", by=None)
    RewardEntry.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=1))
    RewardEntry.objects.filter(pk=soon.pk).update(expires_at=timezone.now() + timedelta(days=20))
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    worker = Worker(broker_url=redis_broker_url, queue=beat_queue, mail_dir=mail_dir, log_path=tmp_path / "worker.log")
    try:
        worker.wait_until(lambda: " ready." in worker.log(), timeout=WORKER_START_TIMEOUT, what="worker start-up")
        with sending_to(broker_url=redis_broker_url, queue=beat_queue):
            # when beat's daily job reaches the worker, twice
            for _tick in range(2):
                sent = scheduled.rewards_daily.delay()
                worker.wait_until(
                    lambda sent=sent: f"[{sent.id}] succeeded" in worker.log(),
                    timeout=DELIVERY_TIMEOUT,
                    what="the daily job to finish",
                )
            worker.wait_until(
                lambda: (
                    ExpiryNotice.objects.filter(sent_at__isnull=False).count() == 1
                    and len(delivered_emails(mail_dir)) >= 1
                ),
                timeout=DELIVERY_TIMEOUT,
                what="the expiry notice",
            )
    finally:
        worker.stop()

    # then Anna's 500 expired once, Björn keeps his 200 and got one e-mail, in Icelandic
    assert RewardEntry.objects.filter(kind=EntryKind.EXPIRE).count() == 1
    assert RewardEntry.objects.get(kind=EntryKind.EXPIRE).points == Decimal("-500")
    assert RewardAccount.objects.get(pk=anna.pk).balance == 0
    assert RewardAccount.objects.get(pk=bjorn.pk).balance == Decimal("200")
    emails = delivered_emails(mail_dir)
    assert [message["To"] for message in emails] == ["bjorn@example.is"]
    assert "falla úr gildi" in emails[0]["Subject"] and bjorn.number in text_of(emails[0])
