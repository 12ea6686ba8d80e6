"""The shopper cancels their own order from its page, until the store has it ready.

Only through the signed order link, by a POST with the CSRF token after a confirmation page; the
units go back on sale at once; once ready, collected or cancelled it is refused with the reason.
"""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from checkout.cart import SESSION_KEY
from orders.models import CancelReason, Order, OrderActivity, OrderEvent, OrderStatus
from orders.services import cancel_order
from orders.tests.factories import place_order
from pickup.selectors import pickup_of
from pickup.services import collect_order, mark_ready_for_pickup
from stores.models import StockLevel
from stores.selectors import MY_STORE_SESSION_KEY
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

CONTACT = {"name": "Anna Jónsdóttir", "email": "anna@example.com", "phone": "+354 555 1234"}


@pytest.fixture
def laugavegur():
    return StoreFactory(name="Laugavegur")


@pytest.fixture
def sweater(laugavegur):
    product = ProductFactory(name="Lopapeysa", slug="lopapeysa", price=Decimal("24990"))
    StockLevelFactory(store=laugavegur, product=product, on_hand=2)
    return product


@pytest.fixture
def order(laugavegur, sweater):
    return place_order(store=laugavegur, products_and_quantities=[(sweater, 2)])


def cancel_url(order):
    return reverse("checkout:order_cancel", args=[order.access_token])


def available(store, product):
    return StockLevel.objects.get(store=store, product=product).available


def shop_at(client, store, quantities=None):
    session = client.session
    session[MY_STORE_SESSION_KEY] = store.pk
    if quantities:
        session[SESSION_KEY] = {str(product.pk): units for product, units in quantities.items()}
    session.save()


def test_the_shopper_cancels_from_the_order_page_and_the_units_are_on_sale_again_at_once(
    client, laugavegur, sweater, order, mailoutbox, django_capture_on_commit_callbacks
):
    # given another shopper saw (and the shop cached) the sweater sold out at Laugavegur
    other = Client()
    shop_at(other, laugavegur)
    assert "2 in stock at Laugavegur" not in other.get(sweater.get_absolute_url()).content.decode()
    assert available(laugavegur, sweater) == 0

    # when the shopper follows "Cancel this order" from the order page, then confirms
    page = client.get(order.get_absolute_url()).content.decode()
    assert f'href="{cancel_url(order)}"' in page
    confirmation = client.get(cancel_url(order))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(cancel_url(order), follow=True)

    # then the order is cancelled, the page says so, and the history says who cancelled it
    order.refresh_from_db()
    assert confirmation.status_code == 200
    assert order.status == OrderStatus.CANCELLED
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == order.get_absolute_url()
    assert f"Order {order.number} is cancelled. The items reserved for you are back on sale." in html
    assert 'data-testid="cancel-order"' not in html
    event = OrderEvent.objects.filter(order=order, kind=OrderActivity.STATUS).last()
    assert (event.to_status, event.note) == (OrderStatus.CANCELLED, "Cancelled by the shopper on the order page.")
    # and the shopper is e-mailed that they cancelled it, once, with the reason kept on the order
    [email] = mailoutbox
    assert f"You cancelled your order {order.number}." in email.body
    assert order.cancel_reason == CancelReason.SHOPPER

    # and the two sweaters are on sale again at once: the product page shows them and the other
    # shopper can order them
    assert available(laugavegur, sweater) == 2
    assert "2 in stock at Laugavegur" in other.get(sweater.get_absolute_url()).content.decode()
    shop_at(other, laugavegur, {sweater: 2})
    token = re.search(
        r'name="checkout_token" value="([^"]+)"', other.get(reverse("checkout:checkout")).content.decode()
    ).group(1)
    placed = other.post(reverse("checkout:checkout"), {**CONTACT, "store": laugavegur.pk, "checkout_token": token})
    assert placed.status_code == 302
    assert Order.objects.filter(status=OrderStatus.PLACED).count() == 1


def test_the_confirmation_page_asks_first_and_changes_nothing(client, order):
    # when the shopper opens the cancel page
    response = client.get(cancel_url(order))

    # then it names the order and what happens, offers both ways, and nothing has changed yet
    html = response.content.decode()
    assert f"Cancel order {order.number}?" in html
    assert "2 × Lopapeysa" in html
    assert "go back on sale. This cannot be undone." in html
    assert 'data-testid="confirm-cancel"' in html and 'name="csrfmiddlewaretoken"' in html
    assert 'data-testid="keep-order"' in html and order.get_absolute_url() in html
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED


def test_a_post_without_the_csrf_token_cancels_nothing(order):
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(cancel_url(order))

    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED


def test_the_confirmation_form_posts_with_its_csrf_token(order):
    # given a browser that checks CSRF, on the confirmation page
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(cancel_url(order)).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    # when it submits the form
    response = browser.post(cancel_url(order), {"csrfmiddlewaretoken": csrf})

    # then the order is cancelled
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(
    "tampered",
    [
        lambda order: order.access_token[:-1] + ("A" if order.access_token[-1] != "A" else "B"),
        lambda order: order.number,
        lambda order: order.access_token.split(":")[0] + ":",
        lambda order: "AAAAAAAA:" + order.access_token.split(":")[1],
    ],
    ids=["bad signature", "bare number", "no signature", "another number"],
)
def test_without_the_signed_link_nothing_is_cancelled(client, order, method, tampered):
    response = getattr(client, method)(reverse("checkout:order_cancel", args=[tampered(order)]))

    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED


def _ready(order):
    mark_ready_for_pickup(order=order)


def _collected(order):
    mark_ready_for_pickup(order=order)
    collect_order(order=order, code=pickup_of(order).code, by=StoreManagerFactory(stores=[order.store]))


def _cancelled(order):
    cancel_order(order=order, reason=CancelReason.STORE)


@pytest.mark.parametrize(
    ("make", "status", "says"),
    [
        (_ready, OrderStatus.READY_FOR_PICKUP, "is ready for pickup, so it can no longer be cancelled here. "),
        (_collected, OrderStatus.COLLECTED, "was collected, so it can no longer be cancelled."),
        (_cancelled, OrderStatus.CANCELLED, "is already cancelled."),
    ],
    ids=["ready", "collected", "cancelled"],
)
def test_once_ready_collected_or_cancelled_it_is_refused_with_the_reason(
    client, laugavegur, sweater, order, make, status, says
):
    # given the order page was opened while the order was still placed
    client.get(order.get_absolute_url())

    # when the store moves it on before the shopper confirms
    make(order)
    units = available(laugavegur, sweater)
    response = client.post(cancel_url(order), follow=True)

    # then nothing changes, and the order page says why
    order.refresh_from_db()
    assert order.status == status
    assert available(laugavegur, sweater) == units
    html = response.content.decode()
    assert f"Order {order.number} {says}" in html
    assert 'data-testid="cancel-order"' not in html
    # and the confirmation page is not offered either
    again = client.get(cancel_url(order), follow=True)
    assert 'data-testid="confirm-cancel"' not in again.content.decode()
    assert f"Order {order.number} {says}" in again.content.decode()
