"""The checkout places exactly what the shopper confirmed, once.

The page signs what it shows (lines, units, unit prices, the stores and their pickup methods);
a submit places that or nothing. Whatever changed meanwhile (a price, a product withdrawn, the
stock, a pickup method) is named on the page shown again, with the new total, the cart and what
was typed kept; confirming that page places the order. The same page submitted twice at once
gives one order, and both answers lead to it.
"""

import re
import threading
import time
from decimal import Decimal
from http.cookies import SimpleCookie

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from catalog.tests.factories import ProductFactory
from checkout import views
from checkout.cart import SESSION_KEY
from checkout.forms import ShownCheckout
from checkout.services import (
    ChangeKind,
    CheckoutChanged,
    ConfirmedCheckout,
    ConfirmedLine,
    place_pickup_order,
)
from orders.models import FulfilmentMethod, Order
from orders.services import Contact
from pickup.selectors import pickup_of
from pickup.slots import available_slots
from pickup.tests.factories import PickupSettingsFactory
from stores import services as stock_services
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

CONTACT = {"name": "Anna Jónsdóttir", "email": "anna@example.com", "phone": "+354 555 1234"}
TOKEN_FIELD = re.compile(r'name="checkout_token" value="([^"]+)"')


def fill_cart(client, quantities):
    session = client.session
    session[SESSION_KEY] = {str(product.pk): units for product, units in quantities.items()}
    session.save()


def cart_in(client):
    return {int(pk): units for pk, units in client.session.get(SESSION_KEY, {}).items()}


def open_checkout(client, language="en"):
    """The checkout page as the shopper sees it, and the signed field their browser posts back."""
    response = client.get(reverse("checkout:checkout"), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    html = response.content.decode()
    return html, TOKEN_FIELD.search(html).group(1)


def submit(client, store, token, language="en", **fields):
    return client.post(
        reverse("checkout:checkout"),
        {**CONTACT, "store": store.pk, "checkout_token": token, **fields},
        HTTP_ACCEPT_LANGUAGE=language,
    )


def errors_on(html):
    """The text of the refusal box above the form."""
    return html.split('data-testid="checkout-errors"')[1].split("</div>")[0]


def reserved(store, product):
    return StockLevel.objects.get(store=store, product=product).reserved


@pytest.fixture
def laugavegur(db):
    store = StoreFactory(name="Laugavegur")
    PickupSettingsFactory(store=store, offers_curbside=True)
    return store


@pytest.fixture
def sweater(laugavegur):
    product = ProductFactory(name="Lopapeysa", price=Decimal("2990"))
    StockLevelFactory(store=laugavegur, product=product, on_hand=5)
    return product


@pytest.fixture
def candle(laugavegur):
    product = ProductFactory(name="Kerti", price=Decimal("1500"))
    StockLevelFactory(store=laugavegur, product=product, on_hand=5)
    return product


# Failing input 3: the price changes while the checkout is open.


@pytest.mark.parametrize(
    ("language", "old", "new", "says"),
    [
        ("en", "ISK\u00a02,990", "ISK\u00a07,990", "The price of Lopapeysa is now"),
        ("is", "2.990\u00a0kr.", "7.990\u00a0kr.", "Verð á Lopapeysa er nú"),
    ],
)
def test_a_price_raised_while_the_checkout_was_open_places_nothing_until_confirmed_again(
    client, laugavegur, sweater, language, old, new, says
):
    # given the checkout shows the sweater at 2,990
    fill_cart(client, {sweater: 1})
    html, token = open_checkout(client, language=language)
    assert escape(old) in html

    # when an admin raises the price to 7,990 and the shopper submits
    sweater.price = Decimal("7990")
    sweater.save(update_fields=["price"])
    response = submit(client, laugavegur, token, language=language)

    # then nothing is placed; the page names the change and shows the new total; the cart is kept
    assert response.status_code == 200
    page = response.content.decode()
    box = errors_on(page)
    assert escape(f"{says} {new}") in box and escape(old) in box
    assert ".." not in box  # an amount ending in "kr." is never followed by a second full stop
    assert re.search(r'data-testid="checkout-total">\s*' + re.escape(escape(new)), page)
    assert Order.objects.count() == 0
    assert reserved(laugavegur, sweater) == 0
    assert cart_in(client) == {sweater.pk: 1}
    assert 'value="Anna Jónsdóttir"' in page

    # when they confirm the page shown again
    again = submit(client, laugavegur, TOKEN_FIELD.search(page).group(1), language=language)

    # then the order is placed at 7,990
    assert again.status_code == 302
    order = Order.objects.get()
    assert order.total == Decimal("7990")
    assert order.lines.get().unit_price == Decimal("7990")
    assert cart_in(client) == {}


def test_a_price_lowered_meanwhile_is_also_named_before_anything_is_placed(client, laugavegur, sweater, candle):
    fill_cart(client, {sweater: 2, candle: 1})
    _html, token = open_checkout(client)
    sweater.price = Decimal("1990")
    sweater.save(update_fields=["price"])

    box = errors_on(submit(client, laugavegur, token).content.decode())

    assert escape("The price of Lopapeysa is now ISK\u00a01,990 (it was ISK\u00a02,990).") in box
    assert escape("The total is now ISK\u00a05,480 (it was ISK\u00a07,480).") in box
    assert "Kerti" not in box
    assert Order.objects.count() == 0


# Failing input 2: a product is withdrawn while the checkout is open.


def test_a_product_withdrawn_while_the_checkout_was_open_places_nothing_and_is_named(
    client, laugavegur, sweater, candle
):
    # given the checkout shows the sweater and the candle
    fill_cart(client, {sweater: 1, candle: 2})
    _html, token = open_checkout(client)

    # when an admin stops selling the candle and the shopper submits
    candle.is_active = False
    candle.save(update_fields=["is_active"])
    response = submit(client, laugavegur, token)

    # then nothing is placed, the page says the candle is no longer sold, with the new total, and
    # the cart still holds both (the candle shown as leaving it)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Thank you" not in page
    box = errors_on(page)
    assert "Kerti is no longer sold." in box
    assert escape("The total is now ISK\u00a02,990 (it was ISK\u00a05,990).") in box
    assert 'data-testid="withdrawn-line"' in page and "<s>Kerti</s>" in page
    assert re.search(r'data-testid="checkout-total">\s*' + re.escape(escape("ISK\u00a02,990")), page)
    assert Order.objects.count() == 0
    assert reserved(laugavegur, sweater) == 0
    assert cart_in(client) == {sweater.pk: 1, candle.pk: 2}

    # when the shopper confirms the page without the candle
    again = submit(client, laugavegur, TOKEN_FIELD.search(page).group(1))

    # then the sweater alone is ordered, and the candle has left the cart with it
    assert again.status_code == 302
    order = Order.objects.get()
    assert [(line.product_id, line.quantity) for line in order.lines.all()] == [(sweater.pk, 1)]
    assert cart_in(client) == {}


def test_every_change_is_named_at_once(client, laugavegur, sweater, candle):
    # given a checkout for 2 sweaters and a candle
    fill_cart(client, {sweater: 2, candle: 1})
    _html, token = open_checkout(client)

    # when the candle is withdrawn, the sweater's price changes and only 1 sweater is left
    candle.is_active = False
    candle.save(update_fields=["is_active"])
    sweater.price = Decimal("3490")
    sweater.save(update_fields=["price"])
    stock_services.reserve_stock(store=laugavegur, quantities={sweater.pk: 4})
    box = errors_on(submit(client, laugavegur, token).content.decode())

    # then the page names all three
    assert "Kerti is no longer sold." in box
    assert "The price of Lopapeysa is now" in box
    assert "Only 1 of &#x27;Lopapeysa&#x27; left at Laugavegur (you asked for 2)." in box
    assert Order.objects.count() == 0
    assert reserved(laugavegur, sweater) == 4


# The store's pickup methods.


def test_curbside_withdrawn_while_the_checkout_was_open_is_named(client, laugavegur, sweater):
    # given the checkout offered curbside pickup at Laugavegur
    fill_cart(client, {sweater: 1})
    html, token = open_checkout(client)
    assert 'data-testid="fulfilment-curbside"' in html

    # when the store stops offering curbside and the shopper submits a curbside order
    laugavegur.pickup_settings.offers_curbside = False
    laugavegur.pickup_settings.save()
    response = submit(client, laugavegur, token, fulfilment="curbside", vehicle_description="Red Yaris")

    # then nothing is placed, the change is named, and the page now offers pickup in store only
    page = response.content.decode()
    assert "Laugavegur no longer offers curbside pickup." in errors_on(page)
    assert 'data-testid="fulfilment-curbside"' not in page
    assert Order.objects.count() == 0

    # when they confirm pickup in store on the page shown again
    again = submit(client, laugavegur, TOKEN_FIELD.search(page).group(1))

    # then it is placed
    assert again.status_code == 302
    assert pickup_of(Order.objects.get()).fulfilment.method == FulfilmentMethod.IN_STORE


def test_a_store_that_stopped_offering_pickup_meanwhile_is_named(client, laugavegur, sweater):
    fill_cart(client, {sweater: 1})
    _html, token = open_checkout(client)
    laugavegur.offers_pickup = False
    laugavegur.save(update_fields=["offers_pickup"])

    response = submit(client, laugavegur, token)

    page = response.content.decode()
    assert "Laugavegur no longer offers pickup." in errors_on(page)
    assert Order.objects.count() == 0
    assert cart_in(client) == {sweater.pk: 1}


# The comparison is made where the order is placed, not only in the view.


def test_a_change_landing_after_the_view_read_everything_is_still_caught(client, laugavegur, sweater, monkeypatch):
    # given the price changes after the view checked the form and the cart, just before placing
    fill_cart(client, {sweater: 1})
    _html, token = open_checkout(client)
    place = views.place_pickup_order

    def price_changes_first(*, checkout):
        type(sweater).objects.filter(pk=sweater.pk).update(price=Decimal("7990"))
        return place(checkout=checkout)

    monkeypatch.setattr(views, "place_pickup_order", price_changes_first)

    # when the shopper submits
    response = submit(client, laugavegur, token)

    # then nothing is placed and the new price is named
    assert "The price of Lopapeysa is now" in errors_on(response.content.decode())
    assert Order.objects.count() == 0


def test_the_service_refuses_what_the_shopper_did_not_confirm(laugavegur, sweater, candle):
    # given a confirmation of the sweater at 2,990 and a candle, as a page showed them
    confirmed = ConfirmedCheckout(
        lines=(
            ConfirmedLine(product_id=sweater.pk, name="Lopapeysa", quantity=1, unit_price=Decimal("2990")),
            ConfirmedLine(product_id=candle.pk, name="Kerti", quantity=1, unit_price=Decimal("1500")),
        ),
        store=laugavegur,
        contact=Contact(name="Anna", email="anna@example.com", phone="+354 555 1234"),
        fulfilment=FulfilmentMethod.CURBSIDE,
        methods_shown=frozenset({FulfilmentMethod.IN_STORE, FulfilmentMethod.CURBSIDE}),
    )

    # when the price, the candle and curbside all change before it is placed
    type(sweater).objects.filter(pk=sweater.pk).update(price=Decimal("7990"))
    type(candle).objects.filter(pk=candle.pk).update(is_active=False)
    laugavegur.pickup_settings.offers_curbside = False
    laugavegur.pickup_settings.save()
    with pytest.raises(CheckoutChanged) as raised:
        place_pickup_order(checkout=confirmed)

    # then each change is reported and nothing is placed or reserved
    assert [(change.kind, change.product_id) for change in raised.value.changes] == [
        (ChangeKind.PRICE, sweater.pk),
        (ChangeKind.NOT_SOLD, candle.pk),
        (ChangeKind.PICKUP_METHOD, None),
    ]
    assert Order.objects.count() == 0
    assert reserved(laugavegur, sweater) == reserved(laugavegur, candle) == 0


# The signed summary.


def test_a_tampered_summary_places_nothing_and_the_page_is_shown_again(client, laugavegur, sweater):
    # given the page's summary, with the price in it changed to 1 krónu and signed by nobody
    fill_cart(client, {sweater: 1})
    _html, token = open_checkout(client)
    shown = ShownCheckout.from_signed(token)
    assert shown.lines[0].unit_price == Decimal("2990")
    forged = token.replace(token.split(":")[0], token.split(":")[0][:-2] + "AA")

    # when it is submitted
    response = submit(client, laugavegur, forged)

    # then nothing is placed; a fresh page is shown to confirm
    assert "Your checkout page had expired" in response.content.decode()
    assert ShownCheckout.from_signed(forged) is None
    assert Order.objects.count() == 0


def test_the_summary_is_compact_and_says_what_the_page_showed(client, laugavegur, sweater, candle):
    fill_cart(client, {sweater: 2, candle: 1})

    _html, token = open_checkout(client)

    shown = ShownCheckout.from_signed(token)
    assert [(line.product_id, line.quantity, line.unit_price) for line in shown.lines] == [
        (sweater.pk, 2, Decimal("2990")),
        (candle.pk, 1, Decimal("1500")),
    ]
    assert shown.total == Decimal("7480")
    assert shown.methods == {laugavegur.pk: frozenset({"in_store", "curbside"})}
    assert len(token) < 300


# Failing input 1: the same checkout submitted twice at the same moment.


def twin_clients(client):
    """Two browsers sharing one session (a double click sends the same cookie twice)."""
    twin = Client()
    twin.cookies = SimpleCookie(client.cookies.output(header="", sep=";"))
    return client, twin


@pytest.fixture
def first_placing_is_slow(monkeypatch):
    """The first placing holds its transaction a moment after reserving, so the twin arrives while
    the first is still placing (the moment the twin used to be told "sold out")."""
    reserve = stock_services.reserve_stock
    calls = []

    def reserve_then_linger(**kwargs):
        reserve(**kwargs)
        calls.append(kwargs)
        if len(calls) == 1:
            time.sleep(0.5)

    monkeypatch.setattr(stock_services, "reserve_stock", reserve_then_linger)
    return calls


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("limit", "tabs"), [("stock", "one page"), ("slot", "one page"), ("stock", "two tabs"), ("slot", "two tabs")]
)
def test_the_same_checkout_posted_twice_at_once_gives_one_order_and_both_land_on_it(
    require_postgres, transactional_db, first_placing_is_slow, limit, tabs
):
    # given a cart with 2 sweaters, and exactly 2 available at the store (or: room for one more
    # order in the chosen pickup time)
    store = StoreFactory(name="Laugavegur")
    PickupSettingsFactory(store=store, orders_per_slot=1 if limit == "slot" else 10)
    sweater = ProductFactory(name="Lopapeysa", price=Decimal("2990"))
    StockLevelFactory(store=store, product=sweater, on_hand=2 if limit == "stock" else 10)
    client = Client()
    fill_cart(client, {sweater: 2})
    _html, token = open_checkout(client)
    slot = available_slots(store)[0]
    form = {**CONTACT, "store": store.pk, "checkout_token": token, f"slot-{store.pk}": slot.key}
    browsers = twin_clients(client)
    forms = [form, form]
    if tabs == "two tabs":
        # (the same cart's checkout opened again in a second tab: a page of its own, the same cart)
        forms[1] = {**form, "checkout_token": open_checkout(browsers[1])[1]}
    barrier = threading.Barrier(2, timeout=30)
    answers = [None, None]

    def post(index, browser):
        try:
            barrier.wait()
            response = browser.post(reverse("checkout:checkout"), forms[index])
            location = response.get("Location")
            # (each browser follows its answer)
            page = browser.get(location) if location else response
            answers[index] = (response.status_code, location, page.content.decode())
        except BaseException as error:  # reported in the main thread
            answers[index] = error
            barrier.abort()
        finally:
            connection.close()

    # when the same checkout POST is sent twice at the same moment
    threads = [threading.Thread(target=post, args=pair) for pair in enumerate(browsers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then one order exists, both answers lead to it, one says "placed" and the other "already placed"
    assert not [answer for answer in answers if isinstance(answer, BaseException)], answers
    order = Order.objects.get()
    refusals = [errors_on(page) for status, _location, page in answers if status != 302]
    assert not refusals
    assert {location for _status, location, _page in answers} == {order.get_absolute_url()}
    pages = [page for _status, _location, page in answers]
    assert sum("Your order was already placed" in page for page in pages) == 1
    assert sum(f"Your order {order.number} is placed" in page for page in pages) == 1
    assert not any("sold out" in page or "fully booked" in page for page in pages)
    assert len(first_placing_is_slow) == 1  # the twin never tried to reserve
    assert reserved(store, sweater) == 2
    assert pickup_of(order).slot_start == slot.starts_at
    assert cart_in(client) == {}


def test_every_checkout_page_of_one_cart_carries_its_token_and_an_order_retires_it(client, laugavegur, sweater):
    # given the same cart's checkout opened in two tabs
    fill_cart(client, {sweater: 1})
    first = ShownCheckout.from_signed(open_checkout(client)[1])
    second = ShownCheckout.from_signed(open_checkout(client)[1])

    # then both pages carry the cart's one token
    assert first.token == second.token

    # when one of them places the order, and the shopper fills a new cart
    assert submit(client, laugavegur, open_checkout(client)[1]).status_code == 302
    fill_cart(client, {sweater: 1})

    # then the new cart's checkout has a token of its own, and placing it gives a second order
    third = ShownCheckout.from_signed(open_checkout(client)[1])
    assert third.token != first.token
    assert submit(client, laugavegur, open_checkout(client)[1]).status_code == 302
    assert Order.objects.count() == 2
