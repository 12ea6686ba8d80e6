"""Settling a cancelled order's payment in a real Celery worker (Redis, PostgreSQL) while Vipps
is down: the task retries with backoff, and the authorisation is voided once, with one event."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import CancelReason, OrderStatus
from orders.services import cancel_order
from orders.tests.factories import place_order
from orders.tests.test_worker import WORKER_START_TIMEOUT, Worker, delete_queue, sending_to
from payment.models import Payment, PaymentEvent, PaymentStatus

from .test_vipps import send_webhook

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def queue(redis_broker_url):
    name = f"o2o-settle-{uuid.uuid4().hex[:12]}"
    yield name
    delete_queue(broker_url=redis_broker_url, queue=name)


def test_a_real_worker_retries_the_void_while_vipps_is_down_and_voids_once(
    require_postgres, redis_broker_url, transactional_db, queue, vipps, nok_order, monkeypatch, tmp_path
):
    # given an Oslo order paid online with Vipps: authorised, so placed
    line = nok_order.lines.select_related("product").first()
    order = place_order(
        store=nok_order.store, products_and_quantities=[(line.product, 1)], payment="vipps", checkout_token="w"
    )
    payment = Payment.objects.get(order=order)
    client = Client()
    client.get(reverse("payment_page", kwargs={"token": payment.token}))
    vipps.approve(payment.token)
    assert send_webhook(client, vipps, payment, "AUTHORIZED").status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED

    # and a worker whose shop talks to the same Vipps stand-in, retrying quickly
    for name, value in {
        "PAYMENT_PROVIDERS": "vipps",
        "VIPPS_CLIENT_ID": "test-client",
        "VIPPS_CLIENT_SECRET": "test-secret",
        "VIPPS_SUBSCRIPTION_KEY": "test-subscription",
        "VIPPS_MERCHANT_SERIAL_NUMBER": "123456",
        "VIPPS_WEBHOOK_SECRET": "test-webhook-secret",
        "VIPPS_API_URL": vipps.url,
        "PAYMENT_SETTLE_RETRY_BACKOFF": "0.3",
        "SHOP_CURRENCY": "NOK",
    }.items():
        monkeypatch.setenv(name, value)
    worker = Worker(broker_url=redis_broker_url, queue=queue, mail_dir=tmp_path, log_path=tmp_path / "worker.log")
    try:
        worker.wait_until(lambda: " ready." in worker.log(), timeout=WORKER_START_TIMEOUT, what="worker start-up")

        # when Vipps answers 503 to the next two cancels, and the store cancels the order
        vipps.fail_next("cancel", times=2)
        with sending_to(broker_url=redis_broker_url, queue=queue):
            cancel_order(order=order, reason=CancelReason.STORE)

            # then the worker retries until Vipps is back, and the authorisation is voided
            worker.wait_until(
                lambda: Payment.objects.get(pk=payment.pk).status == PaymentStatus.CANCELLED,
                timeout=30,
                what="the authorisation voided",
            )
    finally:
        worker.stop()

    # once: one release event by the shop, three cancel requests with one Idempotency-Key
    assert list(PaymentEvent.objects.filter(payment=payment, kind="release").values_list("to_status", "source")) == [
        ("cancelled", "shop")
    ]
    cancels = [headers for method, path, headers in vipps.requests if path.endswith("/cancel")]
    assert len(cancels) == 3
    assert len({headers["Idempotency-Key"] for headers in cancels}) == 1
    assert "Retry in" in worker.log()
    assert vipps.payments[payment.token]["state"] == "TERMINATED"
