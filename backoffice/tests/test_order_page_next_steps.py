"""The order page's buttons for the next step: "Mark ready", "Hand over" with the pickup code and
"Cancel" with a reason. Only the steps the transition table allows are offered; each is a POST
with its CSRF token, through the services, and only for the manager's own stores."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from payments.core import PROVIDER_CACHE

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from orders.models import CancelReason, OrderActivity, OrderEvent, OrderStatus
from orders.services import cancel_order
from orders.tests.factories import place_order
from payment.models import PaymentEvent, PaymentStatus
from payment.tests.factories import DUMMY, authorised_payment
from pickup.selectors import pickup_of
from pickup.services import mark_ready_for_pickup
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def payment_variants(settings):
    settings.PAYMENT_VARIANTS = {"dummy": DUMMY}
    PROVIDER_CACHE.clear()
    yield
    PROVIDER_CACHE.clear()


@pytest.fixture
def laugavegur():
    return StoreFactory(name="Laugavegur", slug="laugavegur")


@pytest.fixture
def grunerlokka():
    return StoreFactory(name="Grünerløkka", slug="grunerlokka", country="NO", time_zone="Europe/Oslo")


@pytest.fixture
def sweater(laugavegur, grunerlokka):
    product = ProductFactory(name="Hekla lopapeysa", sku="HEKLA-1", price=Decimal("24990"))
    for store in (laugavegur, grunerlokka):
        StockLevelFactory(store=store, product=product, on_hand=5)
    return product


@pytest.fixture
def order(laugavegur, sweater):
    return place_order(store=laugavegur, products_and_quantities=[(sweater, 2)])


@pytest.fixture
def manager(client, laugavegur):
    gudrun = StoreManagerFactory(username="gudrun", first_name="Guðrún", last_name="Jónsdóttir", stores=[laugavegur])
    client.force_login(gudrun)
    return gudrun


def change_page(client, order):
    response = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert response.status_code == 200
    return response.content.decode()


def url(name, order):
    return reverse(f"admin:orders_order_{name}", args=[order.pk])


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def stock(store, product):
    level = StockLevel.objects.get(store=store, product=product)
    return level.on_hand, level.reserved


def test_only_the_steps_the_order_can_take_are_offered(manager, client, laugavegur, sweater, order):
    # given orders in each status
    awaiting = place_order(store=laugavegur, products_and_quantities=[(sweater, 1)], payment="dummy")
    ready = place_order(store=laugavegur, products_and_quantities=[(sweater, 1)])
    mark_ready_for_pickup(order=ready)
    cancelled = place_order(store=laugavegur, products_and_quantities=[(sweater, 1)])
    cancel_order(order=cancelled, reason=CancelReason.SHOPPER)

    # when the manager opens each order's page
    pages = {
        status: change_page(client, shown)
        for status, shown in [
            ("awaiting", awaiting),
            ("placed", order),
            ("ready", ready),
            ("cancelled", cancelled),
        ]
    }

    # then a placed order can be marked ready or cancelled, a ready one handed over or cancelled,
    # one awaiting payment only cancelled, and a cancelled one has no next step at all
    offered = {
        status: {
            step
            for step, testid in [
                ("ready", "mark-ready-form"),
                ("hand over", "hand-over-form"),
                ("cancel", "cancel-form"),
            ]
            if f'data-testid="{testid}"' in page
        }
        for status, page in pages.items()
    }
    assert offered == {
        "awaiting": {"cancel"},
        "placed": {"ready", "cancel"},
        "ready": {"hand over", "cancel"},
        "cancelled": set(),
    }
    assert 'data-testid="order-next-steps"' not in pages["cancelled"]
    # each is a form posting with its token
    assert pages["placed"].count('name="csrfmiddlewaretoken"') >= 2
    assert f'action="{url("mark_ready", order)}"' in pages["placed"]
    assert f'action="{url("cancel", order)}"' in pages["placed"]
    assert f'action="{url("collect", ready)}"' in pages["ready"]


def test_mark_ready_from_the_order_page(manager, client, order, mailoutbox, django_capture_on_commit_callbacks):
    # when the manager presses "Mark ready" on the order's page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("mark_ready", order), follow=True)

    # then the order is ready, recorded as the manager's doing, the shopper e-mailed, and the
    # manager is back on the order's page, now offered the hand-over
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP
    event = OrderEvent.objects.filter(order=order, kind=OrderActivity.STATUS).last()
    assert (event.to_status, event.actor) == (OrderStatus.READY_FOR_PICKUP, manager)
    assert [message.to for message in mailoutbox] == [[order.contact_email]]
    assert response.redirect_chain == [(url("change", order), 302)]
    assert f"Order {order.number} is ready for pickup; the shopper will get an e-mail." in messages_of(response)
    assert 'data-testid="hand-over-form"' in response.content.decode()


def test_mark_ready_is_a_post_and_refused_twice(manager, client, order):
    # when the button's address is opened (a link, a prefetch) rather than posted
    opened = client.get(url("mark_ready", order))

    # then nothing moves
    assert opened.status_code == 405
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED

    # and when it is posted twice (a double click, a second member of staff), the second is refused
    client.post(url("mark_ready", order))
    again = client.post(url("mark_ready", order), follow=True)
    assert f"Order {order.number} was not marked ready for pickup: it is “Ready for pickup”." in messages_of(again)
    assert OrderEvent.objects.filter(order=order, to_status=OrderStatus.READY_FOR_PICKUP).count() == 1


def test_hand_over_with_the_pickup_code_from_the_order_page(manager, client, laugavegur, sweater, order):
    # given the order is ready, to be paid at the till
    mark_ready_for_pickup(order=order)
    page = change_page(client, order)
    assert 'data-testid="till-receipt-input"' in page  # paid at pickup: the till's receipt is asked for

    # when the manager types the shopper's code and the till's receipt number on the order's page
    response = client.post(
        url("collect", order),
        {"code": pickup_of(order).code, "till_receipt_number": "T-4711"},
        follow=True,
    )

    # then the order is collected, the two sweaters have left the store, and the page says so
    order.refresh_from_db()
    assert order.status == OrderStatus.COLLECTED
    assert stock(laugavegur, sweater) == (3, 0)
    assert response.redirect_chain == [(url("change", order), 302)]
    assert f"Order {order.number} handed over by Guðrún Jónsdóttir." in messages_of(response)[0]
    assert 'data-testid="order-next-steps"' not in response.content.decode()


def test_a_wrong_code_on_the_order_page_hands_nothing_over_and_keeps_what_was_typed(manager, client, order):
    mark_ready_for_pickup(order=order)
    wrong = "000000" if pickup_of(order).code != "000000" else "111111"

    response = client.post(url("collect", order), {"code": wrong, "till_receipt_number": "T-4711"})

    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP
    page = response.content.decode()
    assert response.status_code == 200
    assert "errorlist" in page
    assert 'value="T-4711"' in page  # what was typed is kept


def test_hand_over_of_an_order_paid_online_captures_the_payment(manager, client, laugavegur, sweater):
    # given an order authorised online, ready
    paid = place_order(store=laugavegur, products_and_quantities=[(sweater, 1)], payment="dummy")
    payment = authorised_payment(paid)
    paid.refresh_from_db()
    mark_ready_for_pickup(order=paid)
    page = change_page(client, paid)
    assert 'data-testid="till-receipt-input"' not in page  # nothing to take at the till

    # when the manager hands it over from the order's page
    response = client.post(url("collect", paid), {"code": pickup_of(paid).code}, follow=True)

    # then the authorisation is captured, through checkout.handover as at the counter
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount) == (PaymentStatus.CONFIRMED, Decimal("24990"))
    paid.refresh_from_db()
    assert paid.status == OrderStatus.COLLECTED
    assert "ISK\u00a024,990 was captured from the card payment." in messages_of(response)[0]


def test_cancel_with_a_reason_from_the_order_page(
    manager, client, laugavegur, sweater, order, mailoutbox, django_capture_on_commit_callbacks
):
    # when the manager cancels with a reason and a note
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("cancel", order), {"reason": CancelReason.SHOPPER, "note": "Rang on the phone"}, follow=True
        )

    # then the order is cancelled for that reason, the note is on the timeline with the manager,
    # the units are back on sale and the shopper is told
    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == (OrderStatus.CANCELLED, CancelReason.SHOPPER)
    event = OrderEvent.objects.get(order=order, kind=OrderActivity.STATUS, to_status=OrderStatus.CANCELLED)
    assert (event.note, event.actor) == ("Rang on the phone", manager)
    assert stock(laugavegur, sweater) == (5, 0)
    assert [message.to for message in mailoutbox] == [[order.contact_email]]
    assert response.redirect_chain == [(url("change", order), 302)]
    assert f"Order {order.number} cancelled; its units are back on sale." in messages_of(response)


def test_cancelling_an_order_paid_online_releases_the_authorisation(
    manager, client, laugavegur, sweater, django_capture_on_commit_callbacks
):
    paid = place_order(store=laugavegur, products_and_quantities=[(sweater, 1)], payment="dummy")
    payment = authorised_payment(paid)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("cancel", paid), {"reason": CancelReason.STORE, "note": ""}, follow=True)

    # then the order_cancelled signal settled the payment: the authorisation is voided, by the manager
    payment.refresh_from_db()
    assert (payment.status, payment.released_amount) == (PaymentStatus.CANCELLED, Decimal("24990"))
    assert PaymentEvent.objects.get(payment=payment, kind="release").actor == manager
    assert "What the shopper paid online is released or refunded." in messages_of(response)[0]


def test_cancelling_without_a_reason_shows_what_is_wrong_and_keeps_the_note(manager, client, order):
    response = client.post(url("cancel", order), {"reason": "", "note": "Damaged in the store"})

    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    page = response.content.decode()
    assert response.status_code == 200
    assert "Choose why the order is cancelled." in page
    assert 'value="Damaged in the store"' in page


def test_another_stores_manager_cannot_act_on_the_order_even_by_a_crafted_post(
    client, grunerlokka, sweater, order, django_capture_on_commit_callbacks
):
    # given a manager of Grünerløkka only, and Laugavegur's order ready and another placed
    client.force_login(StoreManagerFactory(username="ola", stores=[grunerlokka]))
    ready = place_order(store=order.store, products_and_quantities=[(sweater, 1)])
    mark_ready_for_pickup(order=ready)

    # when they post each next step for Laugavegur's orders, with the right code even
    with django_capture_on_commit_callbacks(execute=True):
        answers = [
            client.get(url("change", order)).status_code,
            client.post(url("mark_ready", order)).status_code,
            client.post(url("cancel", order), {"reason": CancelReason.STORE}).status_code,
            client.get(url("cancel", order)).status_code,
            client.post(url("collect", ready), {"code": pickup_of(ready).code, "till_receipt_number": "1"}).status_code,
        ]

    # then the change page is not theirs (the admin redirects), every step is 404, nothing moved
    assert answers == [302, 404, 404, 404, 404]
    order.refresh_from_db()
    ready.refresh_from_db()
    assert (order.status, ready.status) == (OrderStatus.PLACED, OrderStatus.READY_FOR_PICKUP)


def test_the_next_steps_refuse_a_post_without_the_csrf_token(laugavegur, order):
    manager = StoreManagerFactory(stores=[laugavegur])
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(manager)

    answers = [
        strict.post(url("mark_ready", order)).status_code,
        strict.post(url("cancel", order), {"reason": CancelReason.STORE}).status_code,
    ]

    assert answers == [403, 403]
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED
