"""An order that costs nothing (a coupon or points cover it all) needs no payment step, whatever way
to pay the shopper chose: it is placed and e-mailed at once, shown as "Nothing to pay" on its page,
in its e-mail and in the admin, and handed over with the pickup code alone, no till receipt. The
pickup code is checked, and a wrong one said, whether or not a till receipt was typed."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import StoreManagerFactory
from checkout import handover
from checkout.services import place_pickup_order
from checkout.tests.test_checkout import fill_cart, place
from coupons.models import CouponKind
from coupons.tests.factories import CouponCodeFactory, CouponFactory
from coupons.tests.test_checkout import checkout, providers, world  # noqa: F401 — fixtures
from orders.models import FulfilmentMethod, NotificationKind, Order, OrderStatus, PaymentChoice
from orders.services import Contact, LineSpec, create_order
from payment.models import Payment
from pickup.models import PickupCodeAttempt
from pickup.selectors import pickup_of
from pickup.services import WrongPickupCode, mark_ready_for_pickup

pytestmark = pytest.mark.django_db


@pytest.fixture
def free_order(world, django_capture_on_commit_callbacks):  # noqa: F811
    # a coupon that covers the whole order, and the shopper chose to pay online
    CouponCodeFactory(code="GJOF", coupon=CouponFactory(kind=CouponKind.PERCENT, value=Decimal("100")))
    with django_capture_on_commit_callbacks(execute=True):
        return place_pickup_order(checkout=checkout(world, [(world["sweater"], 1)], "GJOF", payment="dummy"))


def test_an_order_of_nothing_paid_online_is_placed_at_once_with_no_payment(free_order):
    # then it is placed, not awaiting a payment of 0, nothing is held for a payment, no attempt made
    order = Order.objects.get(pk=free_order.pk)
    assert order.total == 0
    assert (order.status, order.payment_choice, order.payment_hold_until) == (
        OrderStatus.PLACED,
        PaymentChoice.NOTHING_TO_PAY,
        None,
    )
    assert free_order.new_payment is None and not Payment.objects.exists()
    # and the shopper is e-mailed that it was received, saying there is nothing to pay
    assert order.notifications.filter(kind=NotificationKind.ORDER_RECEIVED).count() == 1
    [received] = [message for message in mail.outbox if order.number in message.subject]
    assert "Nothing to pay" in received.body and "pay online" not in received.body
    assert "you pay only when you pick up" not in received.body


def test_any_order_with_a_total_of_0_is_placed_with_nothing_to_pay(world):  # noqa: F811
    # every checkout (pickup, delivery, shipping, the kiosk) places through create_order (in parts:
    # create_split_order, the same rule); one held for an online payment and costing nothing is
    # placed at once, with nothing held
    product = world["sweater"]
    placed = create_order(
        lines=[LineSpec(product=product, quantity=1, discount=product.price)],
        store=world["store"],
        contact=Contact(name="Anna", email="anna@example.com", phone=""),
        method=FulfilmentMethod.LOCAL_DELIVERY,
        payment_hold_until=timezone.now() + datetime.timedelta(minutes=15),
    )
    assert (placed.order.status, placed.order.payment_choice) == (OrderStatus.PLACED, PaymentChoice.NOTHING_TO_PAY)
    assert placed.order.payment_hold_until is None


def test_the_checkout_page_takes_the_shopper_to_the_order_not_to_a_payment_of_0(client, world):  # noqa: F811
    # given a coupon covering everything
    CouponCodeFactory(code="GJOF", coupon=CouponFactory(kind=CouponKind.PERCENT, value=Decimal("100")))
    fill_cart(client, {world["sweater"]: 1})
    # when the shopper places the order choosing to pay online
    store = world["store"]
    response = place(client, store, coupon_code="GJOF", **{f"payment-{store.pk}": "dummy"})
    # then she lands on her order, placed, and no payment was started
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == order.get_absolute_url()
    assert order.status == OrderStatus.PLACED and not Payment.objects.exists()


def test_the_order_page_says_nothing_to_pay_and_no_card_or_withdrawal_text(client, free_order):
    page = client.get(free_order.get_absolute_url()).content.decode()
    assert 'data-testid="nothing-to-pay"' in page and "Nothing to pay" in page
    assert "You paid online" not in page
    assert "authorised" not in page
    # and a line that costs nothing shows no VAT: no "of which VAT 24% ISK 0"
    assert "of which VAT" not in page


def test_the_collect_screen_asks_for_no_till_receipt_and_hands_over_with_the_code(client, world, free_order):  # noqa: F811
    manager = StoreManagerFactory(stores=[world["store"]])
    client.force_login(manager)
    mark_ready_for_pickup(order=free_order, by=manager)
    url = reverse("admin:orders_order_collect", args=[free_order.pk])
    screen = client.get(url).content.decode()
    assert "Nothing to pay" in screen
    assert "take the payment at the till" not in screen and 'data-testid="till-receipt"' not in screen
    response = client.post(url, {"code": pickup_of(free_order).code})
    assert response.status_code == 302
    assert Order.objects.get(pk=free_order.pk).status == OrderStatus.COLLECTED
    assert not Payment.objects.exists()


def test_a_till_receipt_for_an_order_with_nothing_to_pay_is_refused(world, free_order):  # noqa: F811
    mark_ready_for_pickup(order=free_order)
    with pytest.raises(handover.HandOverError, match="nothing to pay"):
        handover.hand_over(order=free_order, code=pickup_of(free_order).code, by=None, till_receipt_number="T-1")
    assert Order.objects.get(pk=free_order.pk).status == OrderStatus.READY_FOR_PICKUP


def test_a_wrong_code_is_said_even_without_a_till_receipt(client, world):  # noqa: F811
    # given an order paid at pickup, ready
    order = place_pickup_order(checkout=checkout(world, [(world["mittens"], 1)], ""))
    manager = StoreManagerFactory(stores=[world["store"]])
    client.force_login(manager)
    mark_ready_for_pickup(order=order, by=manager)
    wrong = "000000" if pickup_of(order).code != "000000" else "111111"
    url = reverse("admin:orders_order_collect", args=[order.pk])
    # when staff type a wrong code and no receipt number
    response = client.post(url, {"code": wrong})
    # then the code's error is shown (and counted), beside the receipt's
    errors = response.context["form"].errors
    assert errors["code"] == ["The pickup code does not match this order. 4 tries left before the order is locked."]
    assert PickupCodeAttempt.objects.filter(order=order, succeeded=False).count() == 1
    # and with the right code and no receipt, only the receipt is asked for
    response = client.post(url, {"code": pickup_of(order).code})
    errors = response.context["form"].errors
    assert "code" not in errors
    assert errors["till_receipt_number"] == [
        "This order is paid at pickup: take the payment at the till and enter the till's receipt number."
    ]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.READY_FOR_PICKUP
    # the service says the same to the curbside queue
    with pytest.raises(WrongPickupCode):
        handover.hand_over(order=order, code=wrong, by=manager)
