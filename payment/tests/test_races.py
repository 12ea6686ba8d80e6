"""Payments moved by several hands at the same moment, on PostgreSQL: the row lock in
payment.services lets one change through and the rest find it made."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import StoreManagerFactory
from checkout.handover import hand_over
from payment.models import Payment, PaymentEvent, PaymentStatus, Refund, RefundReason
from payment.services import (
    Actor,
    NothingToDo,
    RefundRefused,
    capture_payment,
    create_payment,
    refund_order,
    refund_payment,
)
from pickup.selectors import pickup_of
from pickup.services import mark_ready_for_pickup

from .factories import authorised_payment
from .test_vipps import send_webhook

pytestmark = pytest.mark.postgres


def run_together(count, work):
    """`work(index)` in `count` threads released at once; their results (or errors)."""
    barrier = threading.Barrier(count, timeout=30)
    results = [None] * count

    def run(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except BaseException as error:  # reported by the caller
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_webhooks_and_the_shoppers_return_at_the_same_moment_change_the_payment_once(
    require_postgres, transactional_db, vipps, nok_order
):
    # given the shopper approved in the Vipps app
    payment = create_payment(order=nok_order, variant="vipps")
    assert Client().get(reverse("payment_page", kwargs={"token": payment.token})).status_code == 302
    vipps.approve(payment.token)
    callback = reverse("process_payment", kwargs={"token": payment.token})

    # when three webhooks and three returns of her browser arrive together
    def arrive(index):
        client = Client()
        if index % 2:
            return send_webhook(client, vipps, payment, "AUTHORIZED").status_code
        return client.get(callback).status_code

    results = run_together(6, arrive)

    # then each was answered, and the payment was authorised once
    assert sorted(results) == [200, 200, 200, 302, 302, 302], results
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PREAUTH
    assert list(PaymentEvent.objects.filter(payment=payment).values_list("from_status", "to_status")) == [
        ("waiting", "input"),
        ("input", "preauth"),
    ]


def test_two_refunds_at_the_same_moment_never_give_back_more_than_was_captured(
    require_postgres, transactional_db, order, client
):
    # given a payment of ISK 32,970, captured
    payment = create_payment(order=order, variant="dummy")
    page = reverse("payment_page", kwargs={"token": payment.token})
    client.get(page)
    client.post(page, {"status": "preauth", "fraud_status": "accept", "gateway_response": "3ds-disabled"})
    capture_payment(payment=payment, amount=Decimal("32970"), by=Actor.shop())

    # when two members of staff each refund ISK 20,000 at once
    def refund(index):
        return refund_payment(payment=Payment.objects.get(pk=payment.pk), amount=Decimal("20000"), by=Actor.staff(None))

    results = run_together(2, refund)

    # then one refund went through and the other was refused
    assert sum(isinstance(result, Payment) for result in results) == 1, results
    assert sum(isinstance(result, NothingToDo) for result in results) == 1, results
    payment.refresh_from_db()
    assert (payment.refunded_amount, payment.status) == (Decimal("20000"), PaymentStatus.CONFIRMED)
    assert PaymentEvent.objects.filter(payment=payment, kind="refund").count() == 1


def test_two_managers_refunding_the_same_lines_at_once_refund_them_once(require_postgres, transactional_db, order):
    # given Anna's order, paid online and handed over in full (ISK 32,970 captured)
    payment = authorised_payment(order)
    mark_ready_for_pickup(order=order)
    managers = [StoreManagerFactory(stores=[order.store]) for _ in range(2)]
    hand_over(order=order, code=pickup_of(order).code, by=managers[0])
    sweater = order.lines.get(product_name="Hekla lopapeysa")

    # when two managers refund the one sweater at the same moment
    def refund(index):
        return refund_order(order=order, lines={sweater.pk: 1}, reason=RefundReason.RETURNED, by=managers[index])

    results = run_together(2, refund)

    # then one refund went through, the other was refused, and the sweater was refunded once
    assert sum(isinstance(result, Refund) for result in results) == 1, results
    assert sum(isinstance(result, RefundRefused) for result in results) == 1, results
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("24990")
    assert Refund.objects.get().lines.get().quantity == 1


def test_two_managers_refunding_amounts_at_once_never_exceed_what_was_taken(require_postgres, transactional_db, order):
    # given ISK 32,970 taken at hand-over
    payment = authorised_payment(order)
    mark_ready_for_pickup(order=order)
    manager = StoreManagerFactory(stores=[order.store])
    hand_over(order=order, code=pickup_of(order).code, by=manager)

    # when three managers each refund ISK 15,000 at once
    def refund(index):
        return refund_order(order=order, amount=Decimal("15000"), reason=RefundReason.GOODWILL, by=manager)

    results = run_together(3, refund)

    # then two went through and the third was refused: ISK 30,000 of 32,970 given back
    assert sum(isinstance(result, Refund) for result in results) == 2, results
    assert sum(isinstance(result, RefundRefused) for result in results) == 1, results
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("30000")
