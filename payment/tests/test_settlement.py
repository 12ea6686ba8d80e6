"""Cancelling an order paid online settles its payments, whichever way it was cancelled: the
authorisation is voided, money taken is refunded, attempts still open are cancelled, each step a
PaymentEvent (orders.signals.order_cancelled → payment.receivers → payment.tasks)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from payments.core import PROVIDER_CACHE

from accounts.tests.factories import StoreManagerFactory
from checkout.services import cancel_by_shopper
from orders.models import CancelReason, Order, OrderStatus
from orders.services import cancel_order, expire_payment_holds
from orders.tests.factories import place_order
from payment import scheduled
from payment.models import Payment, PaymentEvent, PaymentStatus
from payment.services import Actor, capture_payment, payments_to_settle, settle_order_payments
from pickup.reminders import expire_uncollected_orders
from pickup.services import mark_ready_for_pickup

from .flaky_provider import FlakyProvider
from .test_dummy_payments import dummy_choice, pay_page

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def flaky(payment_variants):
    """The Dummy provider, able to fail like a gateway that is down (FlakyProvider.failures)."""
    payment_variants["dummy"] = ("payment.tests.flaky_provider.FlakyProvider", {"capture": False})
    PROVIDER_CACHE.clear()
    FlakyProvider.failures = 0
    yield
    FlakyProvider.failures = 0


@pytest.fixture
def paid(client, order):
    """Anna's order (ISK 32,970) paid online: placed by its authorisation."""
    online = place_order(
        store=order.store,
        products_and_quantities=[(line.product, line.quantity) for line in order.lines.select_related("product")],
        payment="dummy",
        checkout_token="paid-online",
    )
    payment = online.payments.get()
    client.get(pay_page(payment))
    client.post(pay_page(payment), dummy_choice("preauth"))
    online.refresh_from_db()
    assert online.status == OrderStatus.PLACED
    return online


def settlement(order, source="shop"):
    return list(
        PaymentEvent.objects.filter(payment__order=order, source=source)
        .order_by("pk")
        .values_list("kind", "from_status", "to_status", "amount")
    )


VOIDED = [("release", "preauth", "cancelled", Decimal("32970.00"))]


def test_a_store_cancelling_voids_the_authorisation(paid, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        cancel_order(order=paid, reason=CancelReason.STORE)

    assert settlement(paid) == VOIDED
    assert paid.payments.get().released_amount == Decimal("32970")


def test_a_manager_cancelling_in_the_admin_voids_the_authorisation(client, paid, django_capture_on_commit_callbacks):
    manager = StoreManagerFactory(stores=[paid.store])
    client.force_login(manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:orders_order_changelist"),
            {"action": "cancel_orders", "_selected_action": [paid.pk], "confirm": "yes"},
        )

    assert response.status_code == 302
    assert Order.objects.get(pk=paid.pk).status == OrderStatus.CANCELLED
    # recorded as the manager's doing, as the order's own history records the cancellation
    assert settlement(paid, source="staff") == VOIDED
    assert PaymentEvent.objects.get(payment__order=paid, kind="release").actor == manager


def test_the_shopper_cancelling_voids_the_authorisation(paid, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        cancel_by_shopper(order=paid)

    assert settlement(paid) == VOIDED


def test_the_shopper_may_cancel_while_paying_and_the_open_attempt_is_cancelled(
    client, order, django_capture_on_commit_callbacks
):
    awaiting = place_order(
        store=order.store, products_and_quantities=[(order.lines.first().product, 1)], payment="dummy"
    )
    client.get(pay_page(awaiting.payments.get()))  # she is on the payment page

    with django_capture_on_commit_callbacks(execute=True):
        cancel_by_shopper(order=awaiting)

    assert Order.objects.get(pk=awaiting.pk).cancel_reason == CancelReason.SHOPPER
    assert settlement(awaiting) == [("status", "input", "cancelled", Decimal("24990.00"))]


def test_not_collected_in_time_voids_the_authorisation(paid, django_capture_on_commit_callbacks):
    mark_ready_for_pickup(order=paid)

    with django_capture_on_commit_callbacks(execute=True):
        report = expire_uncollected_orders(now=timezone.now() + datetime.timedelta(days=30))

    assert report.done == [paid.number]
    assert settlement(paid) == VOIDED


def test_an_ended_hold_cancels_the_attempt_left_open(client, order, django_capture_on_commit_callbacks):
    awaiting = place_order(
        store=order.store, products_and_quantities=[(order.lines.first().product, 1)], payment="dummy"
    )

    with django_capture_on_commit_callbacks(execute=True):
        expire_payment_holds(now=awaiting.payment_hold_until + datetime.timedelta(seconds=1))

    assert settlement(awaiting) == [("status", "waiting", "cancelled", Decimal("24990.00"))]


def test_money_taken_is_refunded_and_what_was_left_released(paid, django_capture_on_commit_callbacks):
    # given staff took part of the authorisation
    payment = paid.payments.get()
    capture_payment(payment=payment, amount=Decimal("24990"), by=Actor.staff(None))

    # when the order is cancelled
    with django_capture_on_commit_callbacks(execute=True):
        cancel_order(order=paid, reason=CancelReason.STORE)

    # then the rest of the authorisation is released and what was taken refunded
    assert settlement(paid) == [
        ("release", "confirmed", "confirmed", Decimal("7980.00")),
        ("refund", "confirmed", "refunded", Decimal("24990.00")),
    ]
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount, payment.released_amount) == (
        PaymentStatus.REFUNDED,
        Decimal("24990"),
        Decimal("7980"),
    )


def test_settling_twice_changes_nothing_the_second_time(paid, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        cancel_order(order=paid, reason=CancelReason.STORE)

    again = settle_order_payments(order=Order.objects.get(pk=paid.pk))

    assert (again.events, again.failed) == ((), ())
    assert settlement(paid) == VOIDED


def test_an_order_paid_at_pickup_queues_no_settlement(order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        cancel_order(order=order, reason=CancelReason.STORE)

    assert not Payment.objects.filter(order=order).exists()
    assert len(callbacks) >= 1  # the signal was sent; nothing to settle


def test_a_provider_down_leaves_it_to_the_sweep_which_settles_it_later(paid, django_capture_on_commit_callbacks):
    # given the gateway fails the void once
    FlakyProvider.failures = 1

    # when the order is cancelled (the task, in-process, meets the failure)
    with django_capture_on_commit_callbacks(execute=True):
        cancel_order(order=paid, reason=CancelReason.STORE)

    # then the authorisation is still held and nothing was recorded
    assert settlement(paid) == []
    assert list(payments_to_settle().values_list("order_id", flat=True)) == [paid.pk]

    # when beat's sweep runs, with the gateway back
    assert scheduled.settle_cancelled_payments() == 1

    # then it is voided, once
    assert settlement(paid) == VOIDED
    assert not payments_to_settle().exists()
    assert scheduled.settle_cancelled_payments() == 0


def test_a_second_payment_for_an_order_already_paid_is_voided(client, paid, django_capture_on_commit_callbacks):
    # given a second attempt made before the first one paid (two tabs), paid after it
    second = Payment.objects.create(
        order=paid, variant="dummy", total=paid.total, currency=paid.currency, description="second tab"
    )

    with django_capture_on_commit_callbacks(execute=True):
        client.get(pay_page(second))
        client.post(pay_page(second), dummy_choice("preauth"))

    # then the order keeps the first payment; the second is voided
    second.refresh_from_db()
    assert second.status == PaymentStatus.CANCELLED
    assert paid.payments.filter(status=PaymentStatus.PREAUTH).count() == 1
    assert Order.objects.get(pk=paid.pk).status == OrderStatus.PLACED
