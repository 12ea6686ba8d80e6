"""An order paid online while its payment hold ends, and an order's payment reported twice at
once: the order's row lock decides, and the order ends consistent (issue 10).

Either the authorisation came first (the order is placed, its stock and pickup time kept, e-mailed
once), or the hold's end came first (the order is cancelled, its stock released, and no money is
held for it: the attempt was cancelled, or its authorisation voided)."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.models import Notification, NotificationKind, Order, OrderEvent, OrderLine, OrderStatus
from orders.services import expire_payment_holds
from orders.tests.factories import place_order
from payment.models import Payment, PaymentEvent, PaymentStatus
from stores.models import StockLevel

from .flaky_provider import FlakyProvider
from .test_races import run_together
from .test_vipps import send_webhook

pytestmark = pytest.mark.postgres


def awaiting_payment(order, *, variant="dummy", token):
    """A second order for Anna's sweater, paid online with `variant`, its shopper on the payment page."""
    line = order.lines.select_related("product").first()
    awaiting = place_order(
        store=order.store, products_and_quantities=[(line.product, 1)], payment=variant, checkout_token=token
    )
    payment = Payment.objects.get(order=awaiting)
    response = Client().get(reverse("payment_page", kwargs={"token": payment.token}))
    assert response.status_code in (200, 302)
    return awaiting, payment


def reserved_for(order):
    line = OrderLine.objects.filter(order=order).first()
    return StockLevel.objects.get(store=order.store, product_id=line.product_id).reserved


@pytest.mark.parametrize("round_", range(4))
def test_an_authorisation_at_the_moment_the_hold_ends_leaves_the_order_consistent(
    require_postgres, transactional_db, order, round_
):
    # given an order awaiting payment whose hold has just ended, its shopper on the 3-D Secure page
    reserved_before = reserved_for(order)
    awaiting, payment = awaiting_payment(order, token=f"race-{round_}")
    Order.objects.filter(pk=awaiting.pk).update(payment_hold_until=timezone.now() - datetime.timedelta(seconds=1))
    returned = reverse("process_payment", kwargs={"token": payment.token}) + "?verification_result=preauth"

    # when beat's expiry and the shopper's successful return arrive together
    def arrive(index):
        if index == 0:
            return expire_payment_holds(now=timezone.now())
        return Client().get(returned).status_code

    results = run_together(2, arrive)

    # then the order is placed, or cancelled with nothing held for it
    assert not any(isinstance(result, BaseException) for result in results), results
    awaiting.refresh_from_db()
    payment.refresh_from_db()
    if awaiting.status == OrderStatus.PLACED:
        assert payment.status == PaymentStatus.PREAUTH
        assert reserved_for(awaiting) == reserved_before + 1
        assert Notification.objects.filter(order=awaiting, kind=NotificationKind.ORDER_RECEIVED).count() == 1
        assert results[0] == []
    else:
        assert awaiting.status == OrderStatus.CANCELLED
        assert payment.status == PaymentStatus.CANCELLED
        # nothing authorised is left: never authorised, or authorised and then voided in full
        assert payment.released_amount in (Decimal("0"), payment.total)
        assert reserved_for(awaiting) == reserved_before
        assert not Notification.objects.filter(order=awaiting, kind=NotificationKind.ORDER_RECEIVED).exists()
        assert results[0] == [awaiting.number]
    assert OrderEvent.objects.filter(order=awaiting, kind="status").count() == 2  # awaiting → one end


def test_an_authorisation_arriving_after_the_order_was_cancelled_is_voided(
    require_postgres, transactional_db, order, payment_variants
):
    # given the hold ended and the order was cancelled, but the gateway was down when the shop
    # tried to cancel the payment attempt (it is still open at the provider)
    payment_variants["dummy"] = ("payment.tests.flaky_provider.FlakyProvider", {"capture": False})
    awaiting, payment = awaiting_payment(order, token="late")
    FlakyProvider.failures = 1
    try:
        expire_payment_holds(now=awaiting.payment_hold_until + datetime.timedelta(seconds=1))
    finally:
        FlakyProvider.failures = 0
    assert Order.objects.get(pk=awaiting.pk).status == OrderStatus.CANCELLED
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.INPUT

    # when the authorisation arrives after all
    returned = reverse("process_payment", kwargs={"token": payment.token}) + "?verification_result=preauth"
    Client().get(returned)

    # then it is recorded and voided at once: the order stays cancelled and holds no money
    assert Order.objects.get(pk=awaiting.pk).status == OrderStatus.CANCELLED
    assert list(PaymentEvent.objects.filter(payment=payment).values_list("kind", "to_status")) == [
        ("status", "input"),
        ("status", "preauth"),
        ("release", "cancelled"),
    ]
    assert not Notification.objects.filter(order=awaiting, kind=NotificationKind.ORDER_RECEIVED).exists()


def test_webhooks_and_returns_at_the_same_moment_place_the_order_once(
    require_postgres, transactional_db, vipps, nok_order
):
    # given an order awaiting payment with Vipps, approved in the app
    awaiting, payment = awaiting_payment(nok_order, variant="vipps", token="vipps-race")
    vipps.approve(payment.token)
    callback = reverse("process_payment", kwargs={"token": payment.token})

    # when three webhooks and three returns of her browser arrive together
    def arrive(index):
        client = Client()
        if index % 2:
            return send_webhook(client, vipps, payment, "AUTHORIZED").status_code
        return client.get(callback).status_code

    results = run_together(6, arrive)

    # then the payment was authorised once, and the order placed and e-mailed once
    assert sorted(results) == [200, 200, 200, 302, 302, 302], results
    assert PaymentEvent.objects.filter(payment=payment, to_status=PaymentStatus.PREAUTH).count() == 1
    assert Order.objects.get(pk=awaiting.pk).status == OrderStatus.PLACED
    assert OrderEvent.objects.filter(order=awaiting, kind="status", to_status=OrderStatus.PLACED).count() == 1
    assert Notification.objects.filter(order=awaiting, kind=NotificationKind.ORDER_RECEIVED).count() == 1
