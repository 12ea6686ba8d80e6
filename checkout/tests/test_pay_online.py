"""Paying online at checkout: the stock and the pickup time held while the shopper pays, the
authorisation that places the order, what the order page says when a payment fails, trying again,
and the hold that ends unpaid (issue 10)."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from payments.core import PROVIDER_CACHE

from catalog.tests.factories import ProductFactory
from checkout.services import PAY_AT_PICKUP, payment_methods_at, retry_payment
from orders.models import CancelReason, Notification, NotificationKind, Order, OrderStatus, PaymentChoice
from orders.notifications.messages import build_message
from orders.services import OrderError, expire_payment_holds
from orders.tests.factories import place_order
from payment.models import Payment, PaymentEvent, PaymentStatus
from payment.services import Actor, capture_payment, release_payment
from pickup.models import Pickup
from pickup.slots import available_slots
from stores.models import PaymentOptions, StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

from .test_checkout import fill_cart, place

pytestmark = pytest.mark.django_db

DUMMY = ("payments.dummy.DummyProvider", {"capture": False})


@pytest.fixture(autouse=True)
def providers(settings):
    """The Dummy provider, as `make run` has it, and the shop's defaults: both ways to pay."""
    settings.PAYMENT_VARIANTS = {"dummy": DUMMY}
    settings.SHOP_PAYMENT_OPTIONS = "both"
    settings.PAYMENT_HOLD_MINUTES = 15
    PROVIDER_CACHE.clear()
    yield settings.PAYMENT_VARIANTS
    PROVIDER_CACHE.clear()


@pytest.fixture
def laugavegur():
    return StoreFactory(name="Laugavegur", address="Laugavegur 12")


@pytest.fixture
def sweater(laugavegur):
    product = ProductFactory(name="Hekla lopapeysa", sku="HEK-1", price=Decimal("24990"))
    StockLevelFactory(store=laugavegur, product=product, on_hand=3)
    return product


def reserved(store, product):
    return StockLevel.objects.get(store=store, product=product).reserved


def dummy(status, gateway_response="3ds-disabled", **extra):
    return {"status": status, "fraud_status": "accept", "gateway_response": gateway_response, **extra}


def pay(client, payment, status, **extra):
    """The shopper on the Dummy provider's page, choosing the outcome; returns where she is sent."""
    page = reverse("payment_page", kwargs={"token": payment.token})
    client.get(page)
    response = client.post(page, dummy(status, **extra))
    assert response.status_code == 302
    return response["Location"]


def pay_online(client, store, sweater):
    """A shopper checks out one sweater at `store` choosing to pay online with the Dummy provider."""
    fill_cart(client, {sweater: 1})
    return place(client, store, **{f"payment-{store.pk}": "dummy"})


def outcome_on(client, order):
    html = client.get(order.get_absolute_url()).content.decode()
    found = re.search(r'data-outcome="([a-z_]+)"', html)
    return found.group(1) if found else None, html


# --- what a store offers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shop", "store", "variants", "offered"),
    [
        ("both", "", {"dummy": DUMMY}, (PAY_AT_PICKUP, "dummy")),
        ("both", "at_pickup", {"dummy": DUMMY}, (PAY_AT_PICKUP,)),
        ("at_pickup", "online", {"dummy": DUMMY}, ("dummy",)),
        ("online", "", {"dummy": DUMMY}, ("dummy",)),
        # no provider configured: every order is paid at pickup, whatever the store says
        ("online", "", {}, (PAY_AT_PICKUP,)),
        ("both", "online", {}, (PAY_AT_PICKUP,)),
    ],
)
def test_a_store_offers_the_ways_to_pay_it_allows_with_the_providers_configured(
    settings, laugavegur, shop, store, variants, offered
):
    settings.SHOP_PAYMENT_OPTIONS = shop
    settings.PAYMENT_VARIANTS = variants
    laugavegur.payment_options = store

    assert payment_methods_at(laugavegur) == offered


def test_the_checkout_shows_each_store_only_what_it_allows(client, laugavegur, sweater):
    # given Laugavegur (shop default: both) and Kringlan, which takes payment at pickup only
    kringlan = StoreFactory(name="Kringlan", payment_options=PaymentOptions.AT_PICKUP)
    StockLevelFactory(store=kringlan, product=sweater, on_hand=3)
    fill_cart(client, {sweater: 1})

    # when the shopper opens the checkout
    html = client.get(reverse("checkout:checkout")).content.decode()

    # then Laugavegur offers both ways to pay, Kringlan only paying at pickup
    assert f'name="payment-{laugavegur.pk}" id="payment-{laugavegur.pk}-dummy" value="dummy"' in html
    assert f'name="payment-{laugavegur.pk}" id="payment-{laugavegur.pk}-at_pickup" value="at_pickup" checked' in html
    assert f'name="payment-{kringlan.pk}" value="at_pickup"' in html
    assert f'name="payment-{kringlan.pk}" id="payment-{kringlan.pk}-dummy"' not in html
    assert "Test payment (Dummy provider)" in html


def test_paying_online_at_a_store_that_takes_payment_at_pickup_only_places_nothing(client, laugavegur, sweater):
    laugavegur.payment_options = PaymentOptions.AT_PICKUP
    laugavegur.save()

    response = pay_online(client, laugavegur, sweater)

    assert response.status_code == 200
    assert "Laugavegur does not take payment online now" in response.content.decode()
    assert not Order.objects.exists()
    assert reserved(laugavegur, sweater) == 0


def test_a_provider_the_shop_does_not_have_is_refused(client, laugavegur, sweater):
    fill_cart(client, {sweater: 1})

    response = place(client, laugavegur, **{f"payment-{laugavegur.pk}": "paypal"})

    assert "Choose one of the ways to pay listed." in response.content.decode()
    assert not Order.objects.exists()


def test_paying_at_pickup_is_the_old_flow_placed_at_once_and_emailed(client, laugavegur, sweater):
    fill_cart(client, {sweater: 1})

    response = place(client, laugavegur, **{f"payment-{laugavegur.pk}": PAY_AT_PICKUP})

    order = Order.objects.get()
    assert response["Location"] == order.get_absolute_url()
    assert (order.status, order.payment_choice, order.payment_hold_until) == (
        OrderStatus.PLACED,
        PaymentChoice.AT_PICKUP,
        None,
    )
    assert not order.payments.exists()
    assert Notification.objects.filter(order=order, kind=NotificationKind.ORDER_RECEIVED).exists()


# --- paying online -----------------------------------------------------------------------------


def test_paying_online_holds_the_stock_and_the_pickup_time_and_sends_the_shopper_to_pay(client, laugavegur, sweater):
    # when the shopper checks out choosing to pay online
    before = timezone.now()
    response = pay_online(client, laugavegur, sweater)

    # then the order awaits payment, holding its stock and pickup time for 15 minutes
    order = Order.objects.get()
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert order.payment_choice == PaymentChoice.ONLINE
    assert before + datetime.timedelta(minutes=15) <= order.payment_hold_until
    assert order.payment_hold_until <= timezone.now() + datetime.timedelta(minutes=15)
    assert reserved(laugavegur, sweater) == 1
    assert Pickup.objects.get(fulfilment__order=order).slot_start is not None
    assert [(e.from_status, e.to_status) for e in order.events.all()] == [("", OrderStatus.AWAITING_PAYMENT)]
    # and a payment for exactly the order's total, to which she is sent
    payment = Payment.objects.get(order=order)
    assert (payment.variant, payment.total, payment.currency, payment.status) == (
        "dummy",
        Decimal("24990"),
        "ISK",
        PaymentStatus.WAITING,
    )
    assert response["Location"] == reverse("payment_page", kwargs={"token": payment.token})
    # and no "order received" e-mail yet: nothing is ordered until it is paid
    assert not Notification.objects.filter(order=order).exists()


def test_an_authorisation_places_the_order_and_only_then_emails_it(client, laugavegur, sweater):
    # given a shopper sent to pay
    pay_online(client, laugavegur, sweater)
    order = Order.objects.get()
    payment = order.payments.get()

    # when the Dummy provider authorises the payment
    before = timezone.now()
    landed = pay(client, payment, "preauth")

    # then she is back on her order, which is placed, and the e-mail is queued once
    assert landed == "http://testserver" + order.get_absolute_url()
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    assert payment.status == PaymentStatus.PREAUTH
    assert Notification.objects.filter(order=order, kind=NotificationKind.ORDER_RECEIVED).count() == 1
    placed = order.events.order_by("pk").last()
    assert (placed.from_status, placed.to_status) == (OrderStatus.AWAITING_PAYMENT, OrderStatus.PLACED)
    assert placed.note == "Paid online: ISK\u00a024,990 authorised, taken when you pick up."
    # the authorisation lasts the provider's 7 days from now
    assert before + datetime.timedelta(days=7) <= payment.authorisation_expires_at
    assert payment.authorisation_expires_at <= timezone.now() + datetime.timedelta(days=7)
    # and the order page says what was authorised
    outcome, html = outcome_on(client, order)
    assert outcome == "authorised"
    assert "is authorised on your card: reserved, not taken" in html
    assert 'data-testid="payment-authorised">ISK\u00a024,990<' in html
    assert 'data-testid="pay-again"' not in html


@pytest.mark.parametrize(
    ("choice", "outcome", "said"),
    [
        (dummy("rejected"), "declined", "Your payment was declined, so nothing was charged."),
        (
            dummy("input", gateway_response="3ds-redirect", verification_result="rejected"),
            "verification_failed",
            "The card check with your bank (3-D Secure) did not succeed",
        ),
        (
            # the card answered first, then the bank's check failed: still not a payment
            dummy("preauth", gateway_response="3ds-redirect", verification_result="rejected"),
            "verification_failed",
            "The card check with your bank (3-D Secure) did not succeed",
        ),
        (dummy("input"), "in_progress", "you left the payment page before paying"),
        (dummy("error"), "failed", "The payment provider reported an error"),
    ],
    ids=["declined", "3-d-secure-failed", "3-d-secure-failed-after-the-card-answered", "abandoned", "error"],
)
def test_a_payment_that_fails_is_explained_and_the_shopper_tries_again_successfully(
    client, laugavegur, sweater, choice, outcome, said
):
    # given a shopper sent to pay
    pay_online(client, laugavegur, sweater)
    order = Order.objects.get()
    first = order.payments.get()

    # when the payment fails as `choice` says (a 3-D Secure failure comes back through the return)
    page = reverse("payment_page", kwargs={"token": first.token})
    client.get(page)
    response = client.post(page, choice)
    if "/payments/process/" in response["Location"]:  # 3-D Secure, then back through the callback
        response = client.get(response["Location"])
    assert response["Location"] == "http://testserver" + order.get_absolute_url()

    # then her order page says plainly what happened, and offers to try again
    shown, html = outcome_on(client, order)
    assert shown == outcome
    assert said in html
    assert 'data-testid="pay-again"' in html
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert reserved(laugavegur, sweater) == 1

    # when she tries again, and this time the payment is authorised
    retry = client.post(reverse("checkout:order_pay", kwargs={"token": order.access_token}))
    second = order.payments.exclude(pk=first.pk).get()
    assert retry["Location"] == reverse("payment_page", kwargs={"token": second.token})
    pay(client, second, "preauth")

    # then the order is placed; an attempt she left open was cancelled, as an event
    order.refresh_from_db()
    first.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    assert first.status != PaymentStatus.PREAUTH
    if outcome == "in_progress":
        assert first.status == PaymentStatus.CANCELLED
        assert first.events.filter(to_status=PaymentStatus.CANCELLED).count() == 1
    assert Notification.objects.filter(order=order, kind=NotificationKind.ORDER_RECEIVED).count() == 1


def test_an_order_is_placed_only_when_the_shopper_comes_back_verified_from_3_d_secure(client, laugavegur, sweater):
    # given a shopper whose card answers, then sends her to her bank's 3-D Secure check
    pay_online(client, laugavegur, sweater)
    order = Order.objects.get()
    check = pay(client, order.payments.get(), "preauth", gateway_response="3ds-redirect", verification_result="preauth")

    # then while she is at the check, the order still awaits her payment and nothing is e-mailed
    order.refresh_from_db()
    assert "/payments/process/" in check
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert not Notification.objects.filter(order=order, kind=NotificationKind.ORDER_RECEIVED).exists()

    # when she comes back verified
    back = client.get(check)

    # then the order is placed and e-mailed, once
    order.refresh_from_db()
    assert back["Location"] == "http://testserver" + order.get_absolute_url()
    assert order.status == OrderStatus.PLACED
    assert Notification.objects.filter(order=order, kind=NotificationKind.ORDER_RECEIVED).count() == 1


@pytest.mark.parametrize("asked", ["confirmed", "refunded", "rejected", "preauth"])
def test_a_return_link_opened_by_hand_never_takes_or_refunds_money(client, laugavegur, sweater, asked):
    # given an order paid online: the card authorised, nothing taken
    pay_online(client, laugavegur, sweater)
    order = Order.objects.get()
    payment = order.payments.get()
    pay(client, payment, "preauth")
    events = PaymentEvent.objects.filter(payment=payment).count()

    # when anyone opens the payment's return address by hand, asking for another status
    process = reverse("process_payment", kwargs={"token": payment.token})
    response = client.get(process, {"verification_result": asked}, follow=True)

    # then they land on the order page, told that nothing changed, and nothing did
    payment.refresh_from_db()
    order.refresh_from_db()
    assert response.redirect_chain[-1][0].endswith(order.get_absolute_url())
    assert (
        "This payment was already finished, or its order was cancelled, so nothing was changed."
        in (response.content.decode())
        or asked == "preauth"
    )
    assert (payment.status, payment.captured_amount, payment.refunded_amount) == (
        PaymentStatus.PREAUTH,
        Decimal("0"),
        Decimal("0"),
    )
    assert order.status == OrderStatus.PLACED
    assert PaymentEvent.objects.filter(payment=payment).count() == events


def test_a_shopper_back_from_the_provider_after_the_hold_ended_gets_her_order_page_not_an_error(
    client, laugavegur, sweater, django_capture_on_commit_callbacks
):
    # given an order whose hold ended (and its payment attempt was cancelled) before the shopper
    # came back from her bank
    pay_online(client, laugavegur, sweater)
    order = Order.objects.get()
    payment = order.payments.get()
    check = pay(client, payment, "input", gateway_response="3ds-redirect", verification_result="preauth")
    with django_capture_on_commit_callbacks(execute=True):
        expire_payment_holds(now=timezone.now() + datetime.timedelta(minutes=16))

    # when she comes back, verified
    response = client.get(check, follow=True)

    # then her order page says the order was cancelled and nothing was taken; no JSON, no 409
    order.refresh_from_db()
    payment.refresh_from_db()
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].endswith(order.get_absolute_url())
    assert order.status == OrderStatus.CANCELLED
    assert payment.status == PaymentStatus.CANCELLED and payment.captured_amount == 0
    assert "nothing was changed" in response.content.decode()


def test_the_emails_of_orders_paid_online_speak_of_the_card_not_of_paying_at_pickup(client, laugavegur, sweater):
    # given one order paid online, and one whose hold ended unpaid
    pay_online(client, laugavegur, sweater)
    paid = Order.objects.get()
    pay(client, paid.payments.get(), "preauth")
    pay_online(client, laugavegur, sweater)
    unpaid = Order.objects.exclude(pk=paid.pk).get()
    expire_payment_holds(now=timezone.now() + datetime.timedelta(minutes=16))

    # when their e-mails are written
    received = build_message(Notification.objects.get(order=paid, kind=NotificationKind.ORDER_RECEIVED)).body
    cancelled = build_message(Notification.objects.get(order=unpaid, kind=NotificationKind.ORDER_CANCELLED)).body

    # then neither says she pays at pickup, and the cancellation gives its real reason
    assert "You chose to pay online" in received
    assert "you pay only when you pick up" not in received
    assert f"Your order {unpaid.number} was not paid for within the time it was held for you" in cancelled
    assert "Any amount reserved on your card for this order is released" in cancelled
    assert "has cancelled your order" not in cancelled
    assert "you pay only when you pick up" not in cancelled


@pytest.mark.parametrize(
    ("taken", "said"),
    [
        (Decimal("20000"), "ISK\u00a020,000 was taken from your card."),
        (None, "The amount reserved on your card was released: nothing was taken."),
    ],
    ids=["part-taken", "all-released"],
)
def test_the_order_page_says_what_was_taken_not_what_was_authorised(client, laugavegur, sweater, taken, said):
    # given an authorised order, of which the store took part and released the rest, or nothing
    pay_online(client, laugavegur, sweater)
    order = Order.objects.get()
    payment = order.payments.get()
    pay(client, payment, "preauth")
    if taken:
        capture_payment(payment=payment, amount=taken, by=Actor.staff(None))
    release_payment(payment=payment, by=Actor.staff(None))

    # when the shopper looks at her order
    _outcome, html = outcome_on(client, order)

    # then it says what happened to her money, never that she paid the whole amount
    assert said in html
    assert "You paid ISK" not in html


def test_the_payment_page_ends_a_hold_that_ended_before_beat_came_round(
    client, laugavegur, sweater, django_capture_on_commit_callbacks
):
    # given a shopper whose hold ended a minute ago, with no sweep run since
    pay_online(client, laugavegur, sweater)
    order = Order.objects.get()
    Order.objects.filter(pk=order.pk).update(payment_hold_until=timezone.now() - datetime.timedelta(minutes=1))

    # when she opens the payment page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("payment_page", kwargs={"token": order.payments.get().token}))

    # then she is sent to her order page: cancelled, its units back on sale, nothing to pay
    order.refresh_from_db()
    assert response["Location"] == "http://testserver" + order.get_absolute_url()
    assert (order.status, order.cancel_reason) == (OrderStatus.CANCELLED, CancelReason.PAYMENT_NOT_COMPLETED)
    assert reserved(laugavegur, sweater) == 0
    assert order.payments.get().status == PaymentStatus.CANCELLED


def test_trying_again_is_refused_once_the_order_is_paid_or_the_hold_has_ended(client, laugavegur, sweater):
    pay_online(client, laugavegur, sweater)
    order = Order.objects.get()

    # the hold ends
    Order.objects.filter(pk=order.pk).update(payment_hold_until=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(OrderError, match="has run out"):
        retry_payment(order=order)
    assert order.payments.count() == 1

    # an order already paid
    paid = place_order(
        store=laugavegur, products_and_quantities=[(sweater, 1)], payment="dummy", checkout_token="other"
    )
    pay(client, paid.payments.get(), "preauth")
    with pytest.raises(OrderError, match="already paid"):
        retry_payment(order=paid)


# --- the hold ends unpaid ----------------------------------------------------------------------


def test_an_order_whose_hold_ended_unpaid_is_cancelled_and_releases_everything(
    client, laugavegur, sweater, django_capture_on_commit_callbacks
):
    # given an order awaiting payment, the shopper on the payment page, its pickup time booked
    pay_online(client, laugavegur, sweater)
    order = Order.objects.get()
    payment = order.payments.get()
    client.get(reverse("payment_page", kwargs={"token": payment.token}))
    slot_start = Pickup.objects.get(fulfilment__order=order).slot_start
    places_before = {s.starts_at: s.remaining for s in available_slots(laugavegur)}.get(slot_start)

    # when beat's job runs before the hold ends, nothing happens
    with django_capture_on_commit_callbacks(execute=True):
        assert expire_payment_holds(now=timezone.now()) == []

    # and when it runs after the hold ended
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = expire_payment_holds(now=order.payment_hold_until + datetime.timedelta(seconds=1))

    # then the order is cancelled, "payment not completed", on its timeline too
    assert cancelled == [order.number]
    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == (OrderStatus.CANCELLED, CancelReason.PAYMENT_NOT_COMPLETED)
    last = order.events.filter(kind="status").order_by("pk").last()
    assert last.to_status == OrderStatus.CANCELLED
    assert "The payment was not completed in time" in last.note
    # the stock and the pickup time are free again
    assert reserved(laugavegur, sweater) == 0
    places_after = {s.starts_at: s.remaining for s in available_slots(laugavegur)}.get(slot_start)
    assert places_after == (places_before or 0) + 1
    # the open attempt is cancelled, as an event
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELLED
    assert list(payment.events.values_list("from_status", "to_status", "source")) == [
        ("waiting", "input", "shopper"),
        ("input", "cancelled", "shop"),
    ]
    # and a second run does nothing
    assert expire_payment_holds(now=timezone.now() + datetime.timedelta(hours=1)) == []

    # the order page says so, with no "try again"; the payment page sends her there
    html = client.get(order.get_absolute_url()).content.decode()
    assert "Payment not completed" in html
    assert 'data-testid="pay-again"' not in html
    response = client.get(reverse("payment_page", kwargs={"token": payment.token}))
    assert response["Location"] == "http://testserver" + order.get_absolute_url()


def test_the_order_page_cancels_an_ended_hold_itself_when_beat_has_not_come_round(
    client, laugavegur, sweater, django_capture_on_commit_callbacks
):
    pay_online(client, laugavegur, sweater)
    order = Order.objects.get()
    Order.objects.filter(pk=order.pk).update(payment_hold_until=timezone.now() - datetime.timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        html = client.get(order.get_absolute_url()).content.decode()

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert 'data-testid="pay-again"' not in html
    assert reserved(laugavegur, sweater) == 0


def test_without_a_broker_the_checkout_page_expires_ended_holds(settings, client, laugavegur, sweater):
    # given `make run` (no broker, no beat) and an order whose hold ended
    settings.PAYMENT_HOLDS_EXPIRED_BY_CHECKOUT = True
    held = place_order(store=laugavegur, products_and_quantities=[(sweater, 3)], payment="dummy")
    Order.objects.filter(pk=held.pk).update(payment_hold_until=timezone.now() - datetime.timedelta(seconds=1))
    assert reserved(laugavegur, sweater) == 3

    # when another shopper opens the checkout
    fill_cart(client, {sweater: 1})
    html = client.get(reverse("checkout:checkout")).content.decode()

    # then the held sweaters are back on sale for her
    assert Order.objects.get(pk=held.pk).status == OrderStatus.CANCELLED
    assert f'value="{laugavegur.pk}"' in html


def test_beat_runs_the_hold_expiry_and_the_settlement_sweep(settings):
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"orders.scheduled.expire_payment_holds", "payment.scheduled.settle_cancelled_payments"} <= schedule
    assert "payment.scheduled" in settings.CELERY_IMPORTS


# --- the pickup time must fall within the authorisation ------------------------------------------


def test_paying_online_a_pickup_time_after_the_authorisation_would_expire_is_refused(
    settings, client, laugavegur, sweater
):
    # given authorisations last 1 day with this provider, and a pickup time 3 days away
    settings.PAYMENT_AUTHORISATION_DAYS = {"dummy": 1}
    later = [s for s in available_slots(laugavegur) if s.starts_at > timezone.now() + datetime.timedelta(days=3)]
    fill_cart(client, {sweater: 1})

    # when the shopper pays online for it
    response = place(client, laugavegur, **{f"payment-{laugavegur.pk}": "dummy", f"slot-{laugavegur.pk}": later[0].key})

    # then nothing is placed and she is told by when to pick up
    assert response.status_code == 200
    assert "Paying online, choose a pickup time by" in response.content.decode()
    assert not Order.objects.exists()
    assert reserved(laugavegur, sweater) == 0

    # paying at pickup, the same time is fine
    response = place(
        client, laugavegur, **{f"payment-{laugavegur.pk}": PAY_AT_PICKUP, f"slot-{laugavegur.pk}": later[0].key}
    )
    assert Order.objects.get().status == OrderStatus.PLACED


def test_paying_online_with_no_time_chosen_books_the_earliest_within_the_authorisation(settings, laugavegur, sweater):
    settings.PAYMENT_AUTHORISATION_DAYS = {"dummy": 2}

    order = place_order(store=laugavegur, products_and_quantities=[(sweater, 1)], payment="dummy", first_free_slot=True)

    pickup = Pickup.objects.get(fulfilment__order=order)
    assert pickup.slot_end <= timezone.now() + datetime.timedelta(days=2)


def test_the_checkout_says_by_when_to_pick_up_when_paying_online(client, laugavegur, sweater):
    fill_cart(client, {sweater: 1})

    html = client.get(reverse("checkout:checkout")).content.decode()

    assert "Paying online, choose a pickup time by" in html
    assert "we hold the items and your pickup time for 15 minutes while you pay" in html


# --- query counts ------------------------------------------------------------------------------


def test_the_order_page_of_an_order_paid_online_has_a_fixed_number_of_queries(
    client, laugavegur, sweater, django_assert_max_num_queries
):
    pay_online(client, laugavegur, sweater)
    order = Order.objects.get()
    for _attempt in range(3):  # three failed attempts, then one that paid
        pay(client, order.payments.order_by("-pk").first(), "rejected")
        client.post(reverse("checkout:order_pay", kwargs={"token": order.access_token}))
    pay(client, order.payments.order_by("-pk").first(), "preauth")

    # the page of an order paid at pickup takes at most 7 (test_order_page, with the timeline's
    # payment history); online adds two, however many attempts: the payments and their events;
    # and this shopper has a session; and the returns' part of a collected order's page adds two,
    # its returns and its hand-overs (returns.panels); a placed order's page asks which of its
    # items are ready (orders.selectors.readiness_of) and whether a transfer still brings units of
    # its pickup (orders.selectors.units_on_the_way)
    with django_assert_max_num_queries(14):
        response = client.get(order.get_absolute_url())
    assert response.status_code == 200
    assert PaymentEvent.objects.filter(payment__order=order).count() == 8


# Paying (the Dummy provider's form posted, authorised): the session; the payment with its order;
# the order's row locked, then the payment's with the order read again; the payment written and
# its event; the order's fulfilments locked (their methods for the note); the order placed, its
# event; its outbox row. 23 before the provider's own saves and the order's second read went, 18
# before the order's placing took no savepoint and its outbox row no look-up and no savepoint, 13
# before its fulfilments were read once, not twice (1 December 2026).
PAYING_QUERIES = 12


def test_paying_takes_a_fixed_number_of_queries(client, laugavegur, sweater, django_assert_num_queries):
    # given an order placed paying online, and its payment page opened
    pay_online(client, laugavegur, sweater)
    payment = Order.objects.get().payments.get()
    page = reverse("payment_page", kwargs={"token": payment.token})
    client.get(page)

    # when the shopper authorises the payment
    with django_assert_num_queries(PAYING_QUERIES):
        response = client.post(page, dummy("preauth"))

    # then the order is placed and she is sent to its page
    assert response.status_code == 302
    assert Order.objects.get().status == OrderStatus.PLACED


def test_a_second_submit_of_the_same_checkout_paying_online_lands_on_the_same_payment(client, laugavegur, sweater):
    # given a checkout page, paying online
    fill_cart(client, {sweater: 1})
    token = re.search(
        r'name="checkout_token" value="([^"]+)"', client.get(reverse("checkout:checkout")).content.decode()
    ).group(1)
    data = {
        "name": "Anna Jónsdóttir",
        "email": "anna@example.com",
        "phone": "+354 555 1234",
        "store": laugavegur.pk,
        f"payment-{laugavegur.pk}": "dummy",
        "checkout_token": token,
    }

    # when it is submitted twice (a double click)
    first = client.post(reverse("checkout:checkout"), data)
    second = client.post(reverse("checkout:checkout"), data)

    # then one order, one payment, and both submits go to its payment page
    payment = Payment.objects.get()
    assert first["Location"] == second["Location"] == reverse("payment_page", kwargs={"token": payment.token})
    assert Order.objects.count() == 1
