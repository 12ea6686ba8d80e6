"""Checkout for pickup: the shopper's details, the store, and stock reserved in one go."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory
from checkout.cart import SESSION_KEY
from checkout.views import CHECKOUT_TOKENS_KEY
from coupons.models import CouponKind
from coupons.tests.factories import CouponCodeFactory, CouponFactory
from orders.models import Order, OrderStatus
from orders.selectors import CHECKOUT_STORES_SHOWN, stores_able_to_supply
from pickup.slots import available_slots
from stores import services as stock
from stores.models import StockLevel, StoreKind
from stores.selectors import MY_STORE_SESSION_KEY
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

CONTACT = {"name": "Anna Jónsdóttir", "email": "anna@example.com", "phone": "+354 555 1234"}


def choose_store(client, store):
    session = client.session
    session[MY_STORE_SESSION_KEY] = store.pk
    session.save()


def fill_cart(client, quantities):
    session = client.session
    session[SESSION_KEY] = {str(product.pk): units for product, units in quantities.items()}
    session.save()


def cart_in(client):
    return {int(pk): quantity for pk, quantity in client.session.get(SESSION_KEY, {}).items()}


def checkout_token(client):
    response = client.get(reverse("checkout:checkout"))
    assert response.status_code == 200
    return re.search(r'name="checkout_token" value="([^"]+)"', response.content.decode()).group(1)


def place(client, store, **overrides):
    data = {**CONTACT, "store": store.pk, "checkout_token": checkout_token(client), **overrides}
    return client.post(reverse("checkout:checkout"), data)


def level(store, product):
    return StockLevel.objects.get(store=store, product=product)


@pytest.fixture
def laugavegur():
    return StoreFactory(name="Laugavegur", address="Laugavegur 12")


@pytest.fixture
def mittens(laugavegur):
    product = ProductFactory(name="Lopi mittens", sku="MIT-1", price=Decimal("4990"))
    StockLevelFactory(store=laugavegur, product=product, on_hand=3)
    return product


@pytest.fixture
def hat(laugavegur):
    product = ProductFactory(name="Fisherman's hat", sku="HAT-1", price=Decimal("3500"))
    StockLevelFactory(store=laugavegur, product=product, on_hand=5)
    return product


def test_a_guest_checks_out_and_lands_on_the_order_page(client, laugavegur, mittens, hat):
    # given a guest with 2 mittens and a hat in the cart
    fill_cart(client, {mittens: 2, hat: 1})

    # when they place the order for pickup at Laugavegur
    response = place(client, laugavegur)

    # then the order is placed with catalog prices, the units are reserved, the cart is empty
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == order.get_absolute_url()
    assert order.status == OrderStatus.PLACED
    assert order.store == laugavegur
    assert (order.contact_name, order.contact_email, order.contact_phone) == (
        "Anna Jónsdóttir",
        "anna@example.com",
        "+354 555 1234",
    )
    assert order.customer is None
    assert order.language == "en"
    assert order.total == Decimal("13480")
    assert [(line.sku, line.quantity, line.unit_price) for line in order.lines.all()] == [
        ("MIT-1", 2, Decimal("4990")),
        ("HAT-1", 1, Decimal("3500")),
    ]
    assert level(laugavegur, mittens).reserved == 2
    assert level(laugavegur, hat).reserved == 1
    assert cart_in(client) == {}
    confirmation = client.get(response["Location"])
    assert f"Your order {order.number} is placed" in confirmation.content.decode()


def test_the_checkout_offers_only_stores_that_have_every_line_and_preselects_mine(client, laugavegur, mittens, hat):
    # given the shopper's store has everything, Oslo lacks the hat, and a store not offering pickup has all
    choose_store(client, laugavegur)
    oslo = StoreFactory(name="Grünerløkka", city="Oslo")
    StockLevelFactory(store=oslo, product=mittens, on_hand=10)
    no_pickup = StoreFactory(name="Warehouse", offers_pickup=False)
    StockLevelFactory(store=no_pickup, product=mittens, on_hand=10)
    StockLevelFactory(store=no_pickup, product=hat, on_hand=10)
    fill_cart(client, {mittens: 1, hat: 1})

    # when they open the checkout
    html = client.get(reverse("checkout:checkout")).content.decode()

    # then only Laugavegur is offered, checked, with its address and hours
    assert f'value="{laugavegur.pk}" checked' in html
    assert "Laugavegur 12" in html
    assert "10:00–18:00" in html
    assert "Grünerløkka" not in html
    assert "Warehouse" not in html


def test_a_chain_checkout_lists_my_store_and_the_nearest_others_not_every_store(client, laugavegur, mittens):
    # given my store in Reykjavík, 12 more stores with mittens from there up the coast, and Oslo
    laugavegur.latitude, laugavegur.longitude = Decimal("64.145800"), Decimal("-21.929000")
    laugavegur.save()
    coast = [
        StoreFactory(name=f"Coast {number:02d}", latitude=Decimal(64.15 + number / 10), longitude=Decimal("-21.9"))
        for number in range(1, 13)
    ]
    oslo = StoreFactory(name="Grünerløkka", city="Oslo", latitude=Decimal("59.92"), longitude=Decimal("10.76"))
    for store in [*coast, oslo]:
        StockLevelFactory(store=store, product=mittens, on_hand=5)
    choose_store(client, laugavegur)
    fill_cart(client, {mittens: 1})

    # when they open the checkout
    html = client.get(reverse("checkout:checkout")).content.decode()

    # then my store comes first and checked, then the nearest, up to the limit, and a note says there are more
    offered = re.findall(r'<label for="pickup-store-\d+">([^<]+)</label>', html)
    assert offered == ["Laugavegur", *[f"Coast {number:02d}" for number in range(1, CHECKOUT_STORES_SHOWN)]]
    assert f'value="{laugavegur.pk}" checked' in html
    assert 'data-testid="more-stores"' in html and "these are the nearest to Laugavegur" in html
    # and a store further away can still be chosen by a shopper who posts it
    response = place(client, oslo)
    assert response.status_code == 302
    assert Order.objects.get().store == oslo


@pytest.mark.parametrize(
    ("currency", "expected"),
    [
        ("ISK", ["Smáralind", "Kringlan", "Laugavegur", "Grünerløkka", "Karl Johans gate"]),
        ("NOK", ["Grünerløkka", "Karl Johans gate", "Majorstuen", "Smáralind", "Kringlan"]),
    ],
)
def test_a_guest_checkout_lists_the_shops_own_country_first(client, settings, laugavegur, mittens, currency, expected):
    # given three stores in Iceland and three in Oslo with mittens, and a guest who chose no store
    settings.SHOP_CURRENCY = currency
    iceland = [StoreFactory(name="Smáralind", city="Kópavogur"), StoreFactory(name="Kringlan")]  # and Laugavegur
    norway = [
        StoreFactory(name=name, city="Oslo", country="NO", postcode="0150", time_zone="Europe/Oslo")
        for name in ("Majorstuen", "Grünerløkka", "Karl Johans gate")
    ]
    for store in [*iceland, *norway]:
        StockLevelFactory(store=store, product=mittens, on_hand=5)
    fill_cart(client, {mittens: 1})

    # when they open the checkout
    html = client.get(reverse("checkout:checkout")).content.decode()

    # then the home country's stores come first (by town and name), and a note says there are more
    offered = re.findall(r'<label for="pickup-store-\d+">([^<]+)</label>', html)
    assert offered == expected
    assert 'data-testid="more-stores"' in html


def test_no_store_with_everything_means_no_order_button(client, laugavegur, mittens):
    fill_cart(client, {mittens: 4})

    html = client.get(reverse("checkout:checkout")).content.decode()

    assert 'data-testid="no-store-can-supply"' in html
    assert re.search(r'data-testid="place-order"\s+disabled', html)


def test_a_logged_in_shopper_finds_their_details_filled_in_and_the_order_on_their_account(client, laugavegur, mittens):
    # given a shopper with an account
    shopper = UserFactory(first_name="Kári", last_name="Stefánsson", email="kari@example.com", phone="+354 699 0000")
    client.force_login(shopper)
    fill_cart(client, {mittens: 1})

    # when they open the checkout, then place the order
    html = client.get(reverse("checkout:checkout")).content.decode()
    place(client, laugavegur, name="Kári Stefánsson", email="kari@example.com", phone="+354 699 0000")

    # then the form was prefilled and the order belongs to their account
    assert 'value="Kári Stefánsson"' in html
    assert 'value="kari@example.com"' in html
    assert 'value="+354 699 0000"' in html
    assert Order.objects.get().customer == shopper


def test_a_line_taken_meanwhile_is_named_and_nothing_is_reserved(client, laugavegur, mittens, hat):
    # given the shopper opened the checkout for 2 mittens and a hat
    fill_cart(client, {mittens: 2, hat: 1})
    token = checkout_token(client)

    # when someone else takes 2 of the 3 mittens before they submit
    stock.reserve_stock(store=laugavegur, quantities={mittens.pk: 2})
    response = client.post(reverse("checkout:checkout"), {**CONTACT, "store": laugavegur.pk, "checkout_token": token})

    # then the page names the short line, no order exists, nothing more is reserved, the cart is kept
    html = response.content.decode()
    assert response.status_code == 200
    assert "Only 1 of &#x27;Lopi mittens&#x27; left at Laugavegur (you asked for 2)." in html
    assert "Fisherman" not in html.split('data-testid="checkout-errors"')[1].split("</div>")[0]
    assert Order.objects.count() == 0
    assert level(laugavegur, mittens).reserved == 2
    assert level(laugavegur, hat).reserved == 0
    assert cart_in(client) == {mittens.pk: 2, hat.pk: 1}
    assert 'value="Anna Jónsdóttir"' in html  # what they typed is still there


def test_the_last_unit_gone_shows_sold_out(client, laugavegur, mittens):
    fill_cart(client, {mittens: 1})
    token = checkout_token(client)
    stock.reserve_stock(store=laugavegur, quantities={mittens.pk: 3})

    response = client.post(reverse("checkout:checkout"), {**CONTACT, "store": laugavegur.pk, "checkout_token": token})

    assert "&#x27;Lopi mittens&#x27; is sold out at Laugavegur." in response.content.decode()
    assert Order.objects.count() == 0
    assert cart_in(client) == {mittens.pk: 1}


# A sold-out refusal (a flash sale's late shoppers: hundreds a second), counted as above: the
# session; the store as the form reads it; the savepoint; the page's token lock with the look-up
# of its order; the store with its pickup settings; the products with their units at the store;
# the rollback; the look for a twin's order; then the page shown again: the stores able to supply
# the cart (the shopper's store as the store directory holds it). Neither the store's opening
# hours, the cart's products nor the shopper's store are read again (13 before).
SOLD_OUT_REFUSAL_QUERIES = 10


def test_a_sold_out_refusal_reads_the_products_once(client, laugavegur, mittens, hat, django_assert_num_queries):
    # given a cart whose mittens sell out at the shopper's store while its page is open
    choose_store(client, laugavegur)
    fill_cart(client, {mittens: 1, hat: 2})
    token = checkout_token(client)
    stock.reserve_stock(store=laugavegur, quantities={mittens.pk: 3})
    data = {**CONTACT, "store": laugavegur.pk, "checkout_token": token}

    # when the shopper places it
    with django_assert_num_queries(SOLD_OUT_REFUSAL_QUERIES):
        response = client.post(reverse("checkout:checkout"), data)

    # then the page names the line sold out and lists the cart's lines as the page's own read does
    html = response.content.decode()
    assert "&#x27;Lopi mittens&#x27; is sold out at Laugavegur." in html
    summary = re.compile(r'<section aria-labelledby="summary-heading".*?</section>', re.S)
    page = client.get(reverse("checkout:checkout")).content.decode()
    assert summary.search(html).group(0) == summary.search(page).group(0)
    assert Order.objects.count() == 0


def checked_store(html):
    found = re.findall(r'<input type="radio" name="store" id="pickup-store-(\d+)" value="\d+" checked', html)
    return int(found[0]) if found else None


def selected_time(html, store):
    select = re.search(rf'<select name="slot-{store.pk}".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="([^"]+)" selected>', select)


@pytest.mark.parametrize("taken", [3, 2], ids=["sold out", "fewer left"])
def test_a_store_that_can_no_longer_supply_the_cart_gives_way_to_the_nearest_that_can(
    client, laugavegur, mittens, taken
):
    # given a shopper who chose Smáralind, its second pickup time and a coupon, while Laugavegur
    # also has the mittens
    smaralind = StoreFactory(name="Smáralind", address="Hagasmári 1")
    StockLevelFactory(store=smaralind, product=mittens, on_hand=3)
    CouponCodeFactory(code="SUMAR", coupon=CouponFactory(kind=CouponKind.PERCENT, value=Decimal("10")))
    fill_cart(client, {mittens: 2})
    token = checkout_token(client)
    later = available_slots(smaralind)[1]

    # when another shopper takes Smáralind's mittens before "Place order"
    stock.reserve_stock(store=smaralind, quantities={mittens.pk: taken})
    data = {**CONTACT, "store": smaralind.pk, f"slot-{smaralind.pk}": later.key, "coupon_code": "SUMAR"}
    response = client.post(reverse("checkout:checkout"), {**data, "checkout_token": token})

    # then Laugavegur, the only store listed, is chosen with its earliest time, the shopper is
    # told, and the coupon is previewed there
    html = response.content.decode()
    assert Order.objects.count() == 0
    assert checked_store(html) == laugavegur.pk
    assert selected_time(html, laugavegur) == []  # none selected: the first, the earliest, shows
    assert (
        "Smáralind can no longer have your order ready; Laugavegur, the nearest store that can, is chosen "
        "instead. Check the pickup time." in html
    )
    assert "Coupon SUMAR (at Laugavegur)" in html

    # and placing again places it there
    response = client.post(
        reverse("checkout:checkout"), {**data, "store": checked_store(html), "checkout_token": token}
    )
    assert response.status_code == 302
    assert Order.objects.get().store == laugavegur


def test_a_store_still_listed_after_a_refusal_stays_chosen_with_its_time(client, laugavegur, mittens, hat):
    # given a shopper who chose Smáralind and its second time, for mittens and a hat
    smaralind = StoreFactory(name="Smáralind", address="Hagasmári 1")
    StockLevelFactory(store=smaralind, product=mittens, on_hand=3)
    StockLevelFactory(store=smaralind, product=hat, on_hand=5)
    fill_cart(client, {mittens: 1, hat: 1})
    token = checkout_token(client)
    later = available_slots(smaralind)[1]

    # when the hat's price changes before "Place order"
    hat.price = Decimal("3900")
    hat.save()
    response = client.post(
        reverse("checkout:checkout"),
        {**CONTACT, "store": smaralind.pk, f"slot-{smaralind.pk}": later.key, "checkout_token": token},
    )

    # then Smáralind and that time stay chosen, and no other store is put forward
    html = response.content.decode()
    assert Order.objects.count() == 0
    assert checked_store(html) == smaralind.pk
    assert selected_time(html, smaralind) == [later.key]
    assert "the nearest store that can" not in html


def test_a_price_posted_with_the_form_is_ignored(client, laugavegur, mittens):
    fill_cart(client, {mittens: 1})

    place(client, laugavegur, price="1", total="1", unit_price="1")

    order = Order.objects.get()
    assert order.total == Decimal("4990")
    assert order.lines.get().unit_price == Decimal("4990")


def test_a_store_id_that_cannot_supply_the_cart_is_refused(client, laugavegur, mittens):
    # given a store with no mittens at all, which the page never offered
    empty_store = StoreFactory(name="Akureyri")
    fill_cart(client, {mittens: 1})

    # when the form is posted with that store's id
    response = place(client, empty_store)

    # then nothing is placed or reserved, and the shopper is told why
    assert "&#x27;Lopi mittens&#x27; is sold out at Akureyri." in response.content.decode()
    assert Order.objects.count() == 0
    assert level(laugavegur, mittens).reserved == 0


@pytest.mark.parametrize("store_id", ["closed", "no-pickup", "999999", "abc"])
def test_a_store_that_is_closed_or_unknown_is_not_a_valid_choice(client, laugavegur, mittens, store_id):
    ids = {
        "closed": StoreFactory(is_active=False).pk,
        "no-pickup": StoreFactory(offers_pickup=False).pk,
    }
    fill_cart(client, {mittens: 1})

    response = client.post(
        reverse("checkout:checkout"),
        {**CONTACT, "store": ids.get(store_id, store_id), "checkout_token": checkout_token(client)},
    )

    assert "Choose one of the stores listed." in response.content.decode()
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("name", "   ", "Enter your name"),
        ("email", "anna-at-example", "Enter an e-mail address such as anna@example.com."),
        ("phone", "call me", "Enter a phone number with 7 to 15 digits"),
        ("phone", "12345", "Enter a phone number with 7 to 15 digits"),
        ("phone", "", "Enter a phone number the store can call"),
    ],
)
def test_contact_details_are_checked_and_what_was_typed_is_kept(client, laugavegur, mittens, field, typed, message):
    fill_cart(client, {mittens: 1})

    response = place(client, laugavegur, **{field: typed})

    html = response.content.decode()
    assert message in html
    assert 'value="anna@example.com"' in html or field == "email"
    assert Order.objects.count() == 0
    assert level(laugavegur, mittens).reserved == 0


def test_a_double_submit_places_one_order_and_shows_it_twice(client, laugavegur, mittens):
    # given the shopper filled in the checkout once
    fill_cart(client, {mittens: 1})
    data = {**CONTACT, "store": laugavegur.pk, "checkout_token": checkout_token(client)}

    # when the same form is posted twice (a double click, or back and submit again)
    first = client.post(reverse("checkout:checkout"), data)
    second = client.post(reverse("checkout:checkout"), data)

    # then there is one order, one unit reserved, and both answers lead to it
    order = Order.objects.get()
    assert first["Location"] == second["Location"] == order.get_absolute_url()
    assert level(laugavegur, mittens).reserved == 1


def test_a_second_click_racing_the_first_still_finds_the_first_order(client, laugavegur, mittens):
    # given the first submit placed the order, but the second request read the session before
    # the first one saved it (so the session does not know the token was used)
    fill_cart(client, {mittens: 1})
    data = {**CONTACT, "store": laugavegur.pk, "checkout_token": checkout_token(client)}
    first = client.post(reverse("checkout:checkout"), data)
    session = client.session
    session[CHECKOUT_TOKENS_KEY] = [data["checkout_token"]]
    session[SESSION_KEY] = {str(mittens.pk): 1}
    session.save()

    # when the second request arrives
    second = client.post(reverse("checkout:checkout"), data)

    # then it is sent to the first order instead of placing another
    assert second.status_code == 302
    assert second["Location"] == first["Location"]
    assert Order.objects.count() == 1
    assert level(laugavegur, mittens).reserved == 1


def test_a_form_without_a_token_from_this_session_places_nothing(client, laugavegur, mittens):
    fill_cart(client, {mittens: 1})

    response = client.post(
        reverse("checkout:checkout"), {**CONTACT, "store": laugavegur.pk, "checkout_token": "made-up"}
    )

    assert "Your checkout page had expired" in response.content.decode()
    assert Order.objects.count() == 0
    # the page carries a fresh token: submitting it again works
    token = re.search(r'name="checkout_token" value="([^"]+)"', response.content.decode()).group(1)
    retry = client.post(reverse("checkout:checkout"), {**CONTACT, "store": laugavegur.pk, "checkout_token": token})
    assert retry.status_code == 302
    assert Order.objects.count() == 1


def test_an_empty_cart_goes_back_to_the_cart(client):
    response = client.get(reverse("checkout:checkout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("checkout:cart")


def test_after_a_failed_attempt_the_shopper_can_lower_the_quantity_and_succeed(client, laugavegur, mittens):
    # given a checkout that failed because only 1 of 2 mittens was left
    fill_cart(client, {mittens: 2})
    token = checkout_token(client)
    stock.reserve_stock(store=laugavegur, quantities={mittens.pk: 2})
    client.post(reverse("checkout:checkout"), {**CONTACT, "store": laugavegur.pk, "checkout_token": token})

    # when they lower the quantity to 1 and submit the same page again
    client.post(reverse("checkout:cart_update"), {"product_id": mittens.pk, "quantity": "1"})
    stale = client.post(reverse("checkout:checkout"), {**CONTACT, "store": laugavegur.pk, "checkout_token": token})

    # then that page showed 2 pairs, so nothing is placed: the page shows the cart as it is now
    assert stale.status_code == 200
    assert "Your cart changed after this page was shown" in stale.content.decode()
    assert Order.objects.count() == 0

    # when they place the order from that page
    fresh = re.search(r'name="checkout_token" value="([^"]+)"', stale.content.decode()).group(1)
    response = client.post(reverse("checkout:checkout"), {**CONTACT, "store": laugavegur.pk, "checkout_token": fresh})

    # then the order is placed
    assert response.status_code == 302
    assert Order.objects.get().lines.get().quantity == 1
    assert level(laugavegur, mittens).reserved == 3


class TestStoresAbleToSupply:
    def test_a_store_short_on_one_line_or_not_offering_pickup_is_left_out(self):
        mittens, hat = ProductFactory(), ProductFactory()
        has_all = StoreFactory(name="A")
        StockLevelFactory(store=has_all, product=mittens, on_hand=2)
        StockLevelFactory(store=has_all, product=hat, on_hand=1)
        short_on_hats = StoreFactory(name="B")
        StockLevelFactory(store=short_on_hats, product=mittens, on_hand=9)
        StockLevelFactory(store=short_on_hats, product=hat, on_hand=1, reserved=1)
        no_hats = StoreFactory(name="C")
        StockLevelFactory(store=no_hats, product=mittens, on_hand=9)
        inactive = StoreFactory(name="D", is_active=False)
        StockLevelFactory(store=inactive, product=mittens, on_hand=9)
        StockLevelFactory(store=inactive, product=hat, on_hand=9)

        assert list(stores_able_to_supply({mittens.pk: 2, hat.pk: 1})) == [has_all]
        assert list(stores_able_to_supply({mittens.pk: 3})) == [short_on_hats, no_hats]
        assert list(stores_able_to_supply({})) == []

    @pytest.mark.parametrize("store_count", [3, 40])
    @pytest.mark.parametrize("near_mine", [False, True], ids=["by name", "nearest to mine"])
    def test_two_queries_however_many_stores(self, django_assert_num_queries, store_count, near_mine):
        products = ProductFactory.create_batch(3)
        stores = StoreFactory.create_batch(store_count)
        for store in stores:
            for product in products:
                StockLevelFactory(store=store, product=product, on_hand=5)
        near = stores[-1] if near_mine else None

        with django_assert_num_queries(2):
            found = list(stores_able_to_supply({product.pk: 2 for product in products}, near=near, limit=10))
            hours = [list(store.opening_hours.all()) for store in found]

        assert len(found) == min(store_count, 10)
        assert all(len(week) == 7 for week in hours)
        assert (found[0] == near) if near_mine else found == sorted(found, key=lambda s: (s.city, s.name, s.pk))


def test_a_store_with_no_free_pickup_time_says_so_instead_of_an_empty_picker(client, laugavegur, mittens):
    # given a second store with the mittens whose opening hours are gone (no time to offer)
    closed = StoreFactory(name="Kringlan")
    StockLevelFactory(store=closed, product=mittens, on_hand=3)
    closed.opening_hours.all().delete()
    fill_cart(client, {mittens: 1})

    # when the shopper opens the checkout
    html = client.get(reverse("checkout:checkout")).content.decode()

    # then the open store has its picker, the other says it has no free times and cannot be chosen
    assert f'name="slot-{laugavegur.pk}"' in html
    assert f'name="slot-{closed.pk}"' not in html
    assert html.count('data-testid="no-slots"') == 1

    def radio(store):
        return re.search(rf'<input type="radio"[^>]*id="pickup-store-{store.pk}"[^>]*>', html).group(0)

    assert " disabled" in radio(closed) and " disabled" not in radio(laugavegur)


# Placing an order (the POST of a checkout page, paid at pickup, with no time chosen), counted in a
# test's transaction (each atomic block a savepoint): the session; the store as the form reads it;
# the page's token lock with the look-up of its order; the store with its pickup settings; the
# products with their units at the store; the order (in a savepoint: two more), its lines,
# fulfilment, their lines, event and outbox row (written before any lock others wait for); the
# store's opening hours; the special dates; the free times counted; their slot rows created,
# locked, counted again; the pickup; the stock rows locked, then updated in one statement for
# every line; the session saved. 31 for one line before the checkout's token look-up, unlocked
# stock read, savepoints and slot rows went; a query more a line before the stock was updated in
# one statement (1 December 2026).
PLACING_QUERIES = 27


@pytest.mark.parametrize("lines", [1, 2])
def test_placing_an_order_takes_a_fixed_number_of_queries(
    client, laugavegur, mittens, hat, lines, django_assert_num_queries
):
    # given a cart of one or two products and its checkout page
    fill_cart(client, dict(list({mittens: 1, hat: 1}.items())[:lines]))
    data = {**CONTACT, "store": laugavegur.pk, "checkout_token": checkout_token(client)}

    # when the shopper places it, then it costs as many queries whatever the lines
    with django_assert_num_queries(PLACING_QUERIES) as captured:
        response = client.post(reverse("checkout:checkout"), data)
    assert response.status_code == 302
    assert Order.objects.get().lines.count() == lines
    # and the slot's lock is held to count it again, write the pickup and reserve the stock, the
    # stock rows only to be reserved: the order's rows were written before
    sqls = [query["sql"] for query in captured.captured_queries]
    locked = next(n for n, sql in enumerate(sqls) if "FOR UPDATE" in sql and "pickup_pickupslot" in sql)
    assert any('INSERT INTO "orders_order"' in sql for sql in sqls[:locked])
    after = sqls[locked + 1 : locked + 5]
    assert 'INSERT INTO "pickup_pickup"' in after[1], after
    assert '"stores_stocklevel"' in after[2] and "FOR UPDATE" in after[2], after
    assert after[3].startswith("UPDATE stores_stocklevel"), after


@pytest.mark.parametrize("chosen", ["no such store", "a warehouse"])
def test_a_store_id_no_page_lists_is_refused_without_naming_a_store(client, laugavegur, mittens, chosen):
    # given a shopper's page whose store radio was changed (dev tools) to a made-up id or a
    # warehouse's, which shoppers are never shown
    warehouse = StoreFactory(
        name="Vöruhús Hafnarfirði", kind=StoreKind.WAREHOUSE, offers_pickup=False, accepts_returns=False
    )
    StockLevelFactory(store=warehouse, product=mittens, on_hand=3)
    fill_cart(client, {mittens: 1})
    token = checkout_token(client)
    store_id = 999999 if chosen == "no such store" else warehouse.pk

    # when the order is placed
    data = {**CONTACT, "store": store_id, "checkout_token": token}
    html = client.post(reverse("checkout:checkout"), data).content.decode()

    # then nothing is placed, the page says to choose a store listed, and names neither "None"
    # nor the warehouse as a store gone from the list
    assert Order.objects.count() == 0
    assert "Choose one of the stores listed." in html
    assert "can no longer have your order ready" not in html
    assert "Vöruhús" not in html and "None" not in html
