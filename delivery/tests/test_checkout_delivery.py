"""Checking out for delivery: the address first, then the stores that deliver there with fee and
windows; bad addresses each say what is wrong and keep what was typed; placing books the window,
adds the fee to the total and sends the shopper to pay; a window that filled meanwhile is refused
with the cart kept."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from payments.core import PROVIDER_CACHE

from catalog.tests.factories import ProductFactory
from checkout.cart import SESSION_KEY
from coupons.models import CouponKind
from coupons.tests.factories import CouponCodeFactory, CouponFactory
from delivery.models import Delivery, DeliveryRound
from delivery.selectors import delivery_options, forget_directory
from delivery.tests.factories import DeliveryZoneFactory, evening_windows, place_delivery
from orders.models import Notification, NotificationKind, Order, OrderStatus
from payment.models import Payment
from stores import services as stock
from stores.models import StockLevel
from stores.selectors import MY_STORE_SESSION_KEY
from stores.tests.factories import PostcodeLocationFactory, StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

DUMMY = ("payments.dummy.DummyProvider", {"capture": False})
ADDRESS = {
    "street": "Bergstaðastræti 12",
    "postcode": "101",
    "city": "Reykjavík",
    "country": "IS",
    "phone": "+354 555 1234",
}


@pytest.fixture(autouse=True)
def providers(settings):
    settings.PAYMENT_VARIANTS = {"dummy": DUMMY}
    settings.SHOP_PAYMENT_OPTIONS = "both"
    PROVIDER_CACHE.clear()
    yield
    PROVIDER_CACHE.clear()


@pytest.fixture
def world():
    PostcodeLocationFactory(country="IS", postcode="101", place_name="Reykjavík")
    PostcodeLocationFactory(
        country="IS", postcode="600", place_name="Akureyri", latitude=Decimal("65.6835"), longitude=Decimal("-18.1002")
    )
    PostcodeLocationFactory(
        country="NO", postcode="0150", place_name="Oslo", latitude=Decimal("59.91"), longitude=Decimal("10.75")
    )
    store = StoreFactory(name="Laugavegur")
    DeliveryZoneFactory(store=store, name="Miðbær", postcodes="101-108", fee=Decimal("990"), lead_time_minutes=30)
    evening_windows(store, capacity=1, starts=datetime.time(20), ends=datetime.time(22), cutoff=datetime.time(20))
    sweater = ProductFactory(name="Hekla lopapeysa", price=Decimal("24990"))
    StockLevelFactory(store=store, product=sweater, on_hand=3)
    return {"store": store, "sweater": sweater}


def fill_cart(client, product, units=1):
    session = client.session
    session[SESSION_KEY] = {str(product.pk): units}
    session.save()


def find(client, **address):
    return client.post(reverse("checkout:delivery"), {**ADDRESS, **address, "action": "find"})


def hidden(html, name):
    return re.search(rf'name="{name}" value="([^"]+)"', html).group(1)


def place(client, html, *, store, window_key, **extra):
    return client.post(
        reverse("checkout:delivery"),
        {
            **ADDRESS,
            "action": "place",
            "checkout_token": hidden(html, "checkout_token"),
            "quote": hidden(html, "quote"),
            "store": store.pk,
            f"window-{store.pk}": window_key,
            f"payment-{store.pk}": "dummy",
            "name": "Anna Jónsdóttir",
            "email": "anna@example.com",
            **extra,
        },
    )


def earliest(store):
    forget_directory()
    (option,) = delivery_options(postcode="101", country="IS").options
    return option.earliest


def test_the_address_comes_first_then_the_stores_with_fee_and_earliest_window(client, world):
    fill_cart(client, world["sweater"])
    page = client.get(reverse("checkout:delivery")).content.decode()
    assert 'name="postcode"' in page
    assert 'data-testid="delivery-options"' not in page

    html = find(client).content.decode()

    assert 'data-testid="delivery-options"' in html
    assert "Laugavegur" in html
    assert "Delivery ISK\u00a0990" in html
    window = earliest(world["store"])
    assert f'value="{window.key}"' in html
    assert 'data-testid="earliest-window"' in html


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ({"postcode": ""}, "Enter the postcode of the delivery address."),
        ({"postcode": "1O1"}, "is not an Icelandic postcode: they have 3 digits."),
        ({"postcode": "0150"}, "0150 is a postcode in Norway, not in Iceland."),
        ({"postcode": "101", "country": "NO"}, "101 is a postcode in Iceland, not in Norway."),
        ({"postcode": "199"}, "We do not know the postcode 199 in Iceland."),
        ({"postcode": "600"}, "No store delivers to 600 Akureyri yet. You can pick up your order at Laugavegur"),
        ({"street": ""}, "Enter the street and house number"),
        ({"phone": "12"}, "Enter a phone number with 7 to 15 digits"),
        ({"country": "SE"}, "We deliver in Iceland and Norway only."),
    ],
)
def test_a_bad_address_says_what_is_wrong_and_keeps_what_was_typed(client, world, typed, message):
    fill_cart(client, world["sweater"])
    response = find(client, **typed)
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html.replace("&#x27;", "'")
    assert 'data-testid="delivery-options"' not in html
    assert 'value="Bergstaðastræti 12"' in html or typed.get("street") == ""
    assert 'value="Reykjavík"' in html


def postcode_error(html):
    return re.search(r'id="id_postcode_error"[^>]*>(.*?)</ul>', html, re.S).group(1)


@pytest.mark.parametrize("postcode", ["199", "600"], ids=["unknown-postcode", "outside-every-zone"])
def test_the_postcode_message_names_only_stores_that_have_the_whole_cart(client, world, postcode):
    # given mittens that Laugavegur, the nearest store, does not have, but Glerártorg (Akureyri),
    # which delivers in its own town and offers pickup, does
    glerartorg = StoreFactory(name="Glerártorg", latitude=Decimal("65.6885"), longitude=Decimal("-18.1100"))
    DeliveryZoneFactory(store=glerartorg, postcodes="603")
    mittens = ProductFactory(name="Lopi mittens", price=Decimal("3990"))
    StockLevelFactory(store=glerartorg, product=mittens, on_hand=4)
    StockLevelFactory(store=world["store"], product=mittens, on_hand=0)
    forget_directory()
    fill_cart(client, mittens, units=2)
    # when she types a postcode no store delivers to (or one not in the table)
    message = postcode_error(find(client, postcode=postcode).content.decode())
    # then only Glerártorg is named, for pickup
    assert "Laugavegur" not in message
    assert "You can pick up your order at Glerártorg" in message


def test_an_unknown_postcode_names_no_distance_and_offers_my_own_store_first(client, world):
    # given Laugavegur is my store and has the sweater; Glerártorg, nearer the postcode guessed, has it too
    glerartorg = StoreFactory(name="Glerártorg", latitude=Decimal("65.6885"), longitude=Decimal("-18.1100"))
    StockLevelFactory(store=glerartorg, product=world["sweater"], on_hand=5)
    session = client.session
    session[MY_STORE_SESSION_KEY] = world["store"].pk
    session.save()
    fill_cart(client, world["sweater"])

    # when she types 699, not in the table (600, Akureyri, is the nearest number known)
    message = postcode_error(find(client, postcode="699", city="Akureyri").content.decode())

    # then the postcode is questioned, her own store is offered, and no distance from a guess is named
    assert "We do not know the postcode 699 in Iceland. Please check it." in message
    assert "You can pick up your order at Laugavegur." in message
    assert "km" not in message
    assert "Glerártorg" not in message


def test_a_postcode_no_store_delivers_to_does_not_name_a_store_that_delivers(client, world):
    fill_cart(client, world["sweater"])

    message = postcode_error(find(client, postcode="600", city="Akureyri").content.decode())

    assert message.startswith("<li>No store delivers to 600 Akureyri yet.")
    assert "The nearest store that delivers" not in message
    assert "You can pick up your order at Laugavegur (249 km away)." in message


def test_a_free_delivery_coupon_is_shown_where_the_fee_is(client, world):
    # given a coupon for free delivery
    CouponCodeFactory(code="FRITT", coupon=CouponFactory(kind=CouponKind.FREE_DELIVERY, value=0))
    fill_cart(client, world["sweater"])

    # when she types it with the address
    html = find(client, coupon_code="fritt").content.decode()

    # then the delivery fee is shown waived, and the code accepted
    fee = re.search(r'data-testid="delivery-fee">(.*?)</span>', html, re.S).group(1)
    assert "<del>Delivery ISK\u00a0990</del> Free delivery" in fee
    assert 'data-testid="coupon-applied"' in html
    assert "Coupon FRITT accepted: ISK\u00a0990 off." in html


def test_a_coupon_refused_here_says_why_where_the_fee_is(client, world):
    fill_cart(client, world["sweater"])

    html = find(client, coupon_code="NOSUCH").content.decode()

    assert "Delivery ISK\u00a0990" in html
    assert 'data-testid="coupon-refused"' in html


def test_when_no_store_has_the_whole_cart_the_postcode_message_says_so_naming_none(client, world):
    # given a cart of more sweaters than any store has
    fill_cart(client, world["sweater"], units=4)
    # when she types a postcode not in the table
    message = postcode_error(find(client, postcode="199").content.decode())
    # then no store is named, and the message says why
    assert message.count("We do not know the postcode 199 in Iceland.") == 1
    assert "No store that could serve this address has everything in your cart right now." in message
    assert "Laugavegur" not in message


def test_no_store_that_delivers_has_the_cart(client, world):
    StockLevel.objects.update(on_hand=0)
    fill_cart(client, world["sweater"])
    html = find(client).content.decode()
    assert "No store that delivers to 101 Reykjavík has everything in your cart." in html


def test_placing_books_the_window_adds_the_fee_and_sends_the_shopper_to_pay(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    fill_cart(client, world["sweater"])
    html = find(client).content.decode()
    window = earliest(world["store"])

    response = place(client, html, store=world["store"], window_key=window.key)

    # then the order awaits payment of the goods and the fee, its window and stock held
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("payment_page", kwargs={"token": Payment.objects.get().token})
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert order.total == Decimal("25980")
    assert list(order.lines.values_list("product_name", "line_total")) == [
        ("Hekla lopapeysa", Decimal("24990")),
        ("Delivery", Decimal("990")),
    ]
    assert Payment.objects.get().total == Decimal("25980")
    delivery = Delivery.objects.get()
    assert (delivery.window_start, delivery.fee, delivery.street) == (
        window.starts_at,
        Decimal("990"),
        "Bergstaðastræti 12",
    )
    assert StockLevel.objects.get(product=world["sweater"]).reserved == 1
    assert not client.session.get(SESSION_KEY)

    # when she pays, the order is placed and the "order received" e-mail is the delivery one
    page = reverse("payment_page", kwargs={"token": Payment.objects.get().token})
    client.get(page)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(page, {"status": "preauth", "fraud_status": "accept", "gateway_response": "3ds-disabled"})
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    assert Notification.objects.filter(order=order, kind=NotificationKind.ORDER_RECEIVED).count() == 1
    (email,) = mailoutbox
    assert "Bergstaðastræti 12, 101 Reykjavík" in email.body
    assert "pickup code" not in email.body.lower()

    # and the order page shows the delivery, not a pickup
    page = client.get(order.get_absolute_url()).content.decode()
    assert 'data-testid="delivery-plan"' in page
    assert 'data-testid="pickup-code"' not in page
    assert "Bergstaðastræti 12" in page


def test_a_window_that_filled_meanwhile_is_refused_with_the_cart_kept(client, world):
    fill_cart(client, world["sweater"])
    html = find(client).content.decode()
    window = earliest(world["store"])
    # another shopper takes the window's only place meanwhile
    other = ProductFactory(price=Decimal("1000"))
    StockLevelFactory(store=world["store"], product=other, on_hand=1)
    place_delivery(store=world["store"], products_and_quantities=[(other, 1)], starts_at=window.starts_at, now=None)

    response = place(client, html, store=world["store"], window_key=window.key)

    assert response.status_code == 200
    body = response.content.decode()
    assert "has just been fully booked" in body
    assert "your cart is unchanged" in body
    assert client.session[SESSION_KEY] == {str(world["sweater"].pk): 1}
    assert Order.objects.count() == 1
    assert 'value="Bergstaðastræti 12"' in body


def checked_store(html):
    return [
        int(pk)
        for pk in re.findall(r'<input type="radio" name="store" id="delivery-store-(\d+)" value="\d+" checked', html)
    ]


def selected_window(html, store):
    select = re.search(rf'<select name="window-{store.pk}".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="([^"]+)" selected>', select)


def windows_of(store):
    forget_directory()
    return next(o for o in delivery_options(postcode="101", country="IS").options if o.store == store).windows


def test_a_store_that_no_longer_has_the_cart_gives_way_to_the_nearest_that_delivers_it(client, world):
    # given Kringlan delivering there too, chosen with its second window
    kringlan = StoreFactory(name="Kringlan")
    DeliveryZoneFactory(store=kringlan, name="Miðbær", postcodes="101-108", fee=Decimal("990"), lead_time_minutes=30)
    evening_windows(kringlan, capacity=5, starts=datetime.time(20), ends=datetime.time(22), cutoff=datetime.time(20))
    StockLevelFactory(store=kringlan, product=world["sweater"], on_hand=1)
    fill_cart(client, world["sweater"])
    html = find(client).content.decode()
    second = windows_of(kringlan)[1]
    assert second.key in [window.key for window in windows_of(world["store"])]  # the same times at both

    # when another shopper buys Kringlan's last sweater before "Place order"
    stock.reserve_stock(store=kringlan, quantities={world["sweater"].pk: 1})
    response = place(client, html, store=kringlan, window_key=second.key)

    # then Laugavegur, the only store offered, is chosen with its earliest window, and the page says so
    body = response.content.decode()
    assert Order.objects.count() == 0
    assert checked_store(body) == [world["store"].pk]
    assert selected_window(body, world["store"]) == []  # none selected: the first, the earliest, shows
    assert (
        "Kringlan can no longer deliver your order; Laugavegur, the nearest store that can, is chosen instead. "
        "Check the delivery window." in body
    )


def test_a_store_still_offered_after_a_refusal_keeps_its_window(client, world):
    # given Laugavegur chosen with its second window
    evening_windows(
        world["store"], capacity=5, starts=datetime.time(18), ends=datetime.time(20), cutoff=datetime.time(18)
    )
    fill_cart(client, world["sweater"])
    html = find(client).content.decode()
    second = windows_of(world["store"])[1]

    # when the delivery fee changes before "Place order"
    world["store"].delivery_zones.update(fee=Decimal("1490"))
    response = place(client, html, store=world["store"], window_key=second.key)

    # then Laugavegur and that window stay chosen
    body = response.content.decode()
    assert Order.objects.count() == 0
    assert checked_store(body) == [world["store"].pk]
    assert selected_window(body, world["store"]) == [second.key]
    assert "the nearest store that can" not in body


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("2020-01-06T17:00Z", "That delivery window has already begun."),
        ("2099-01-05T20:00Z", "takes delivery orders for the next 7 days only"),
        ("not-a-window", "Choose one of the delivery windows listed."),
    ],
)
def test_a_window_in_the_past_or_beyond_the_days_offered_is_refused(client, world, key, message):
    fill_cart(client, world["sweater"])
    html = find(client).content.decode()
    response = place(client, html, store=world["store"], window_key=key)
    assert message in response.content.decode()
    assert not Order.objects.exists()


def test_a_fee_changed_meanwhile_is_named_and_nothing_is_placed(client, world):
    fill_cart(client, world["sweater"])
    html = find(client).content.decode()
    world["store"].delivery_zones.update(fee=Decimal("1490"))
    response = place(client, html, store=world["store"], window_key=earliest(world["store"]).key)
    body = response.content.decode()
    assert "The delivery fee is now ISK\u00a01,490 (it was ISK\u00a0990)." in body
    assert not Order.objects.exists()


def test_a_price_changed_meanwhile_is_named_and_nothing_is_placed(client, world):
    """A changed price refuses the order before any window is booked, so there is no fee to
    charge yet: the page names the change (it was a 500: the fee read from no booking)."""
    fill_cart(client, world["sweater"])
    html = find(client).content.decode()
    type(world["sweater"]).objects.filter(pk=world["sweater"].pk).update(price=Decimal("9990"))
    response = place(client, html, store=world["store"], window_key=earliest(world["store"]).key)
    assert response.status_code == 200
    assert "is now ISK\u00a09,990" in response.content.decode()
    assert not Order.objects.exists()


def _queries_for_the_options_page(client, stores, product):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for index in range(stores):
        store = StoreFactory(name=f"Extra {index}")
        DeliveryZoneFactory(store=store, postcodes="101")
        evening_windows(store)
        StockLevelFactory(store=store, product=product, on_hand=3)
    forget_directory()
    find(client)  # the directories are built once
    with CaptureQueriesContext(connection) as queries:
        html = find(client).content.decode()
    return len(queries), html.count('data-testid="delivery-option"')


def test_the_options_page_costs_the_same_queries_whatever_the_number_of_stores(client, world):
    from orders.selectors import CHECKOUT_STORES_SHOWN

    fill_cart(client, world["sweater"])
    few, shown = _queries_for_the_options_page(client, 1, world["sweater"])
    assert shown == 2
    # 11 stores deliver there: the nearest few are offered, as the pickup checkout lists its stores
    many, shown = _queries_for_the_options_page(client, 9, world["sweater"])
    assert shown == CHECKOUT_STORES_SHOWN == 5
    assert many == few


def test_the_card_payment_is_taken_at_the_door_with_the_fee(client, world, django_capture_on_commit_callbacks):
    from checkout.handover import hand_over_delivery
    from delivery.services import mark_packed, send_out

    # given a delivery placed and authorised online
    fill_cart(client, world["sweater"])
    html = find(client).content.decode()
    place(client, html, store=world["store"], window_key=earliest(world["store"]).key)
    payment = Payment.objects.get()
    page = reverse("payment_page", kwargs={"token": payment.token})
    client.get(page)
    client.post(page, {"status": "preauth", "fraud_status": "accept", "gateway_response": "3ds-disabled"})
    delivery = Delivery.objects.select_related("fulfilment__order").get()
    mark_packed(delivery=delivery)
    send_out(delivery=delivery)

    # when the driver hands it over
    handed = hand_over_delivery(delivery=delivery, by=None)

    # then the goods and the fee are captured, and the order is delivered
    payment.refresh_from_db()
    assert handed.value == Decimal("25980")
    assert payment.captured_amount == Decimal("25980")
    assert handed.order.status == OrderStatus.DELIVERED


def test_an_order_below_every_stores_minimum_offers_no_place_button(client, world):
    # given the only store that delivers there takes orders of ISK 30 000 or more
    from delivery.models import DeliveryZone

    DeliveryZone.objects.filter(store=world["store"]).update(minimum_order=Decimal("30000"))
    fill_cart(client, world["sweater"])  # ISK 24 990

    # when the shopper asks for the options
    html = find(client).content.decode()

    # then the store says why, its choice is off, and there is no button to press for a refusal
    assert 'data-testid="below-minimum"' in html
    assert 'data-testid="place-delivery"' not in html
    assert 'data-testid="no-delivery-choosable"' in html

    # and with the goods above it, the button is back
    fill_cart(client, world["sweater"], units=2)
    assert 'data-testid="place-delivery"' in find(client).content.decode()


# Placing a delivery of one line, no coupon: the session and the cart; the checkout page's lock
# and token; the store, the products with their units here, the zones, windows and closed dates,
# the window's room as committed (no lock: every check made before a lock others wait for); the
# order's rows (a savepoint around the order for its number) and its payment; the window's day
# locked (with a booking on it already), then under that lock only its count, the delivery and
# the stock's lock and reserve (the stock rows held for the last two only); after the commit,
# the session. The test's own transaction adds two savepoints (4 statements).
PLACING_QUERIES = 27


def _kind(sql):
    for kind, marks in (
        ("lock window", ('"delivery_deliveryround"', "FOR UPDATE")),
        ("count window", ("COUNT(*)", '"delivery_delivery" d')),
        ("lock stock", ('"stores_stocklevel"', "FOR UPDATE")),
        ("reserve stock", ("UPDATE stores_stocklevel",)),
        ("write delivery", ('INSERT INTO "delivery_delivery"',)),
        ("write order", ('INSERT INTO "orders_order"',)),
        ("write payment", ('INSERT INTO "payment_payment"',)),
    ):
        if all(mark in sql for mark in marks):
            return kind
    return "other"


@pytest.mark.postgres
def test_placing_holds_the_windows_lock_only_to_count_write_the_delivery_and_reserve(
    require_postgres, client, world, django_assert_num_queries
):
    fill_cart(client, world["sweater"])
    html = find(client).content.decode()
    window = earliest(world["store"])
    # the day has its round already (another window of it booked: the day's first booking makes it)
    DeliveryRound.objects.create(store=world["store"], date=window.starts_at.astimezone(world["store"].zone).date())

    with django_assert_num_queries(PLACING_QUERIES) as captured:
        response = place(client, html, store=world["store"], window_key=window.key)

    assert response.status_code == 302
    kinds = [_kind(query["sql"]) for query in captured.captured_queries]
    locked = kinds.index("lock window")
    assert kinds[locked:][:5] == ["lock window", "count window", "write delivery", "lock stock", "reserve stock"]
    assert {"write order", "write payment"} <= set(kinds[:locked])


def test_with_a_coupon_the_order_is_written_after_the_stock_is_locked(client, world, django_assert_num_queries):
    """The coupon's row is locked as the order is written (coupons.services.hold_for_order): after
    the window's and the stock's, the order every checkout takes them in."""
    CouponCodeFactory(coupon=CouponFactory(kind=CouponKind.PERCENT, value=10, limit_total=100), code="SUMAR")
    fill_cart(client, world["sweater"])
    html = find(client, coupon_code="SUMAR").content.decode()

    response = place(client, html, store=world["store"], window_key=earliest(world["store"]).key, coupon_code="SUMAR")

    assert response.status_code == 302
    assert Order.objects.get().lines.get(product=world["sweater"]).discount == Decimal("2499")
