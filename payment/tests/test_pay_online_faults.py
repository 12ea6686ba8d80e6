"""Refused callbacks for an order awaiting payment change nothing on the order either: a bad
signature (400), a tampered amount or currency (400), an unknown payment (404). The order stays
awaiting payment, holding its stock, with no "order received" e-mail; the payment's own
tests (test_vipps.py, test_stripe_webhook.py) check the payment side."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import Notification, Order, OrderStatus
from orders.tests.factories import place_order
from payment.models import Payment, PaymentEvent, PaymentStatus

from .test_vipps import send_webhook

pytestmark = pytest.mark.django_db


@pytest.fixture
def awaiting(client, vipps, nok_order):
    """A second Oslo order, paid online with Vipps: the shopper sent to Vipps, the hold running."""
    line = nok_order.lines.select_related("product").first()
    order = place_order(
        store=nok_order.store, products_and_quantities=[(line.product, 1)], payment="vipps", checkout_token="vipps"
    )
    payment = Payment.objects.get(order=order)
    assert client.get(reverse("payment_page", kwargs={"token": payment.token})).status_code == 302
    payment.refresh_from_db()
    return order, payment


def unchanged(order, payment):
    assert Order.objects.get(pk=order.pk).status == OrderStatus.AWAITING_PAYMENT
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.INPUT
    assert not PaymentEvent.objects.filter(payment=payment, to_status=PaymentStatus.PREAUTH).exists()
    assert not Notification.objects.filter(order=order).exists()
    return True


def test_a_webhook_with_a_bad_signature_leaves_the_order_awaiting_payment(client, vipps, awaiting):
    order, payment = awaiting
    vipps.approve(payment.token)

    response = send_webhook(client, vipps, payment, "AUTHORIZED", secret="not-the-secret")

    assert response.status_code == 400
    assert unchanged(order, payment)


@pytest.mark.parametrize(
    ("field", "value"),
    [("value", 100), ("currency", "SEK")],
    ids=["amount", "currency"],
)
def test_an_authorisation_for_another_amount_or_currency_places_nothing(client, vipps, awaiting, field, value):
    # given someone changed what Vipps holds (amount or currency) before approving
    order, payment = awaiting
    vipps.payments[payment.token]["amount"][field] = value
    vipps.approve(payment.token)

    # when the webhook, and the shopper's return, report it authorised
    webhook = send_webhook(client, vipps, payment, "AUTHORIZED")
    returned = client.get(reverse("process_payment", kwargs={"token": payment.token}))

    # then both are refused: the order's amount is the only amount
    assert (webhook.status_code, returned.status_code) == (400, 400)
    assert unchanged(order, payment)
    assert Payment.objects.get(pk=payment.pk).total == order.total == Decimal("1299.50")


def test_a_webhook_for_an_unknown_payment_is_404_and_the_order_waits(client, vipps, awaiting):
    order, payment = awaiting
    body = {"msn": "123456", "reference": "7d5b2d63-2d63-4e0c-8d4c-000000000000", "name": "AUTHORIZED"}

    assert send_webhook(client, vipps, payment, "AUTHORIZED", body=body).status_code == 404
    assert unchanged(order, payment)
