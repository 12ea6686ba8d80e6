"""The beat jobs for reminders and expiry, run by a real Celery worker on Redis and PostgreSQL.

Each job is sent twice, as beat would on two ticks (or two beats by mistake): one reminder
e-mail, one cancellation with its e-mail, and the reserved units released exactly once.
"""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from orders.models import Notification, NotificationKind, NotificationStatus, OrderActivity, OrderEvent, OrderStatus
from orders.tests.factories import place_order
from orders.tests.test_worker import (
    DELIVERY_TIMEOUT,
    WORKER_START_TIMEOUT,
    Worker,
    delete_queue,
    delivered_emails,
    sending_to,
    text_of,
)
from pickup import scheduled
from pickup.selectors import pickup_of
from pickup.services import mark_ready_for_pickup
from pickup.tests.factories import PickupSettingsFactory
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def beat_queue(redis_broker_url, monkeypatch):
    queue = f"o2o-beat-{uuid.uuid4().hex[:12]}"
    # The worker sends the e-mail tasks it queues itself (after the job's commit) to this queue too.
    monkeypatch.setenv("CELERY_TASK_DEFAULT_QUEUE", queue)
    yield queue
    delete_queue(broker_url=redis_broker_url, queue=queue)


def _ready_since(order, *, manager, ago):
    mark_ready_for_pickup(order=order, by=manager)
    OrderEvent.objects.filter(order=order, to_status=OrderStatus.READY_FOR_PICKUP).update(
        created_at=timezone.now() - ago
    )
    return order


def test_beat_jobs_through_a_real_worker_remind_once_and_cancel_once(
    require_postgres, redis_broker_url, transactional_db, beat_queue, tmp_path
):
    # given a store that reminds after 24 hours and cancels after 5 days, an order ready for 26 hours
    # and one ready for 6 days holding 2 of the store's 5 sweaters
    store = StoreFactory(name="Laugavegur")
    PickupSettingsFactory(store=store, remind_after_hours=24, expire_after_days=5)
    sweater = ProductFactory(name="Lopapeysa")
    StockLevelFactory(store=store, product=sweater, on_hand=5)
    manager = StoreManagerFactory(stores=[store])
    late = _ready_since(
        place_order(store=store, products_and_quantities=[(sweater, 1)], email="anna@example.com"),
        manager=manager,
        ago=timedelta(hours=26),
    )
    forgotten = _ready_since(
        place_order(store=store, products_and_quantities=[(sweater, 2)], email="bjorn@example.com"),
        manager=manager,
        ago=timedelta(days=6),
    )
    # (the ready e-mails ran in-process when the orders were marked ready; start counting now)
    assert StockLevel.objects.get(store=store, product=sweater).reserved == 3
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    worker = Worker(broker_url=redis_broker_url, queue=beat_queue, mail_dir=mail_dir, log_path=tmp_path / "worker.log")
    try:
        worker.wait_until(lambda: " ready." in worker.log(), timeout=WORKER_START_TIMEOUT, what="worker start-up")
        with sending_to(broker_url=redis_broker_url, queue=beat_queue):
            # when beat's two jobs reach the worker, twice each
            for _tick in range(2):
                sent = [scheduled.send_pickup_reminders.delay(), scheduled.expire_uncollected_orders.delay()]
                worker.wait_until(
                    lambda sent=sent: all(f"[{result.id}] succeeded" in worker.log() for result in sent),
                    timeout=DELIVERY_TIMEOUT,
                    what="the beat jobs to finish",
                )
            worker.wait_until(
                lambda: (
                    len(delivered_emails(mail_dir)) >= 2
                    and Notification.objects.filter(
                        kind__in=[NotificationKind.PICKUP_REMINDER, NotificationKind.ORDER_CANCELLED],
                        status=NotificationStatus.SENT,
                    ).count()
                    == 2
                ),
                timeout=DELIVERY_TIMEOUT,
                what="the reminder and cancellation e-mails",
            )
    finally:
        worker.stop()

    # then one reminder to Anna, one cancellation to Björn, nothing more
    emails = delivered_emails(mail_dir)
    assert sorted(message["To"] for message in emails) == ["anna@example.com", "bjorn@example.com"]
    reminder = next(message for message in emails if message["To"] == "anna@example.com")
    cancellation = next(message for message in emails if message["To"] == "bjorn@example.com")
    assert late.number in reminder["Subject"] and pickup_of(late).code in text_of(reminder)
    assert forgotten.number in cancellation["Subject"] and "cancelled" in cancellation["Subject"]
    # and the forgotten order is cancelled once, its 2 units released once; the late one still waits
    forgotten.refresh_from_db()
    late.refresh_from_db()
    assert (forgotten.status, late.status) == (OrderStatus.CANCELLED, OrderStatus.READY_FOR_PICKUP)
    assert (
        OrderEvent.objects.filter(order=forgotten, to_status=OrderStatus.CANCELLED, kind=OrderActivity.STATUS).count()
        == 1
    )
    level = StockLevel.objects.get(store=store, product=sweater)
    assert (level.on_hand, level.reserved) == (5, 1)
