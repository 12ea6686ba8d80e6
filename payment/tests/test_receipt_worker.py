"""The receipt e-mail, delivered by a real Celery worker through Redis: once, in the order's
language, however often its task arrives (the worker harness of orders/tests/test_worker.py)."""

from decimal import Decimal

import pytest
from django.utils import translation

from catalog.tests.factories import ProductFactory
from orders import tasks
from orders.models import Notification, NotificationKind, NotificationStatus
from orders.tests.factories import place_order
from orders.tests.test_worker import (
    DELIVERY_TIMEOUT,
    WORKER_START_TIMEOUT,
    Worker,
    delivered_emails,
    sending_to,
    text_of,
    worker_queue,  # noqa: F401 (a fixture)
)
from stores.tests.factories import StockLevelFactory, StoreFactory

from .test_receipts import authorise, hand_over

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def status_of(notification):
    return Notification.objects.filter(pk=notification.pk).values_list("status", flat=True).get()


def test_a_real_worker_emails_the_receipt_once_in_the_orders_language(
    require_postgres,
    redis_broker_url,
    transactional_db,
    worker_queue,  # noqa: F811 (the fixture imported above)
    tmp_path,
    client,
    settings,
):
    # given an order placed in Norwegian at an Oslo store, paid online, and a worker on its own queue
    settings.SHOP_CURRENCY = "NOK"
    oslo = StoreFactory(name="Grünerløkka", country="NO", time_zone="Europe/Oslo")
    coffee = ProductFactory(name_en="Coffee", name_nb="Kaffe", price=Decimal("89.90"), vat_class="reduced")
    StockLevelFactory(store=oslo, product=coffee, on_hand=5)
    with translation.override("nb"):
        order = place_order(
            store=oslo, products_and_quantities=[(coffee, 2)], email="ola@example.no", language="nb", payment="dummy"
        )
    payment = authorise(client, order.payments.get())
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    worker = Worker(
        broker_url=redis_broker_url, queue=worker_queue, mail_dir=mail_dir, log_path=tmp_path / "worker.log"
    )
    try:
        worker.wait_until(lambda: " ready." in worker.log(), timeout=WORKER_START_TIMEOUT, what="worker start-up")
        with sending_to(broker_url=redis_broker_url, queue=worker_queue):
            # when the order is handed over: captured and its receipt issued (on_commit queues the task)
            receipt = hand_over(payment, [(order.lines.get(), 2)])

            # then the worker sends one receipt e-mail, in Norwegian, with the number and the VAT
            notification = Notification.objects.get(order=order, kind=NotificationKind.RECEIPT)
            worker.wait_until(
                lambda: status_of(notification) == NotificationStatus.SENT, timeout=DELIVERY_TIMEOUT, what="receipt"
            )
            [sent] = delivered_emails(mail_dir)
            assert sent["To"] == "ola@example.no"
            assert sent["Subject"] == f"Kvittering for bestilling {order.number}"
            body = text_of(sent)
            assert f"Kvittering {receipt.number}" in body
            assert "2 × Kaffe" in body
            assert "herav MVA 15\u00a0%: 23,45\u00a0kr" in body  # 179,80 × 15/115
            assert "Angrerett" in body

            # when the same task reaches the worker twice more (a duplicate delivery, a retry)
            duplicates = [tasks.send_notification.delay(notification_id=notification.pk) for _ in range(2)]
            worker.wait_until(
                lambda: all(f"[{result.id}] succeeded" in worker.log() for result in duplicates),
                timeout=DELIVERY_TIMEOUT,
                what="the duplicate tasks to finish",
            )

        # then still exactly one e-mail
        assert len(delivered_emails(mail_dir)) == 1
    finally:
        worker.stop()
