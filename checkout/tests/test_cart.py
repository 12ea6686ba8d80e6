"""The session cart: what a shopper may put in it, and the messages when they may not."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from catalog.services import catalog_changed
from catalog.tests.factories import ProductFactory
from checkout.cart import SESSION_KEY
from stores.models import StockLevel
from stores.selectors import MY_STORE_SESSION_KEY
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


def choose_store(client, store):
    session = client.session
    session[MY_STORE_SESSION_KEY] = store.pk
    session.save()


def cart_in(client):
    return {int(pk): quantity for pk, quantity in client.session.get(SESSION_KEY, {}).items()}


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def add(client, product, quantity, next_url="/somewhere/"):
    return client.post(reverse("checkout:cart_add"), {"product_id": product.pk, "quantity": quantity, "next": next_url})


@pytest.fixture
def laugavegur():
    return StoreFactory(name="Laugavegur")


@pytest.fixture
def mittens(laugavegur):
    product = ProductFactory(name="Lopi mittens", price=Decimal("4990"))
    StockLevelFactory(store=laugavegur, product=product, on_hand=3)
    return product


def test_a_shopper_puts_mittens_in_the_cart_and_goes_back_to_the_product(client, laugavegur, mittens):
    # given a shopper whose store has 3 pairs
    choose_store(client, laugavegur)

    # when they add 2
    response = add(client, mittens, "2", next_url="/products/lopi-mittens/")

    # then the cart holds 2 and they are back where they were, told what happened
    assert response.status_code == 302
    assert response["Location"] == "/products/lopi-mittens/"
    assert cart_in(client) == {mittens.pk: 2}
    assert any("Lopi mittens" in message for message in messages_of(response))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("0", "at least 1"),
        ("-1", "at least 1"),
        ("abc", "whole number"),
        ("2.5", "whole number"),
        ("", "how many"),
        ("1000", "at most 99"),
    ],
)
def test_a_quantity_that_is_not_a_whole_number_of_at_least_one_is_refused(client, laugavegur, mittens, typed, expected):
    # given a cart with one pair already
    choose_store(client, laugavegur)
    add(client, mittens, "1")

    # when the shopper types a quantity that makes no sense
    response = add(client, mittens, typed, next_url="/products/lopi-mittens/")

    # then they are sent back with a message saying what is wrong, and the cart is as it was
    assert response["Location"] == "/products/lopi-mittens/"
    assert any(expected in message for message in messages_of(response)), messages_of(response)
    assert cart_in(client) == {mittens.pk: 1}


def test_more_than_the_store_has_is_refused_with_the_number_available(client, laugavegur, mittens):
    # given the shopper's store has 3 pairs
    choose_store(client, laugavegur)

    # when they ask for 4
    response = add(client, mittens, "4")

    # then they learn only 3 are there, and nothing was added
    assert messages_of(response) == ["Only 3 of 'Lopi mittens' available at Laugavegur; you asked for 4."]
    assert cart_in(client) == {}


def test_what_is_already_in_the_cart_counts_towards_what_is_available(client, laugavegur, mittens):
    # given 2 of the 3 pairs are in the cart
    choose_store(client, laugavegur)
    add(client, mittens, "2")

    # when the shopper adds 2 more
    response = add(client, mittens, "2")

    # then the message says how many they already have, and the cart keeps 2
    assert messages_of(response)[-1] == (
        "Only 3 of 'Lopi mittens' available at Laugavegur, and you already have 2 in your cart."
    )
    assert cart_in(client) == {mittens.pk: 2}


def test_a_product_sold_out_at_my_store_cannot_be_added(client, laugavegur):
    # given the store's last units are reserved for other shoppers
    choose_store(client, laugavegur)
    scarf = ProductFactory(name="Wool scarf")
    StockLevelFactory(store=laugavegur, product=scarf, on_hand=2, reserved=2)

    # when the shopper adds one
    response = add(client, scarf, "1")

    # then it is sold out there
    assert messages_of(response) == ["'Wool scarf' is sold out at Laugavegur."]
    assert cart_in(client) == {}


def test_without_a_chosen_store_the_best_pickup_store_of_the_home_country_sets_the_limit(
    client, settings, laugavegur, mittens
):
    # given a guest with no store chosen in an Icelandic shop, Smáralind with 5 pairs, Oslo with 28
    settings.SHOP_CURRENCY = "ISK"
    StockLevelFactory(store=StoreFactory(name="Smáralind", city="Kópavogur"), product=mittens, on_hand=5)
    oslo = StoreFactory(name="Majorstuen", city="Oslo", country="NO", postcode="0367", time_zone="Europe/Oslo")
    StockLevelFactory(store=oslo, product=mittens, on_hand=28)
    closed_for_pickup = StoreFactory(name="Warehouse", offers_pickup=False)
    StockLevelFactory(store=closed_for_pickup, product=mittens, on_hand=500)

    # when they ask for 6, then 5, then 1 more
    too_many = add(client, mittens, "6")
    accepted = add(client, mittens, "5")
    refused = add(client, mittens, "1")

    # then 5 fit (the best Icelandic store has them), no more; Oslo and the warehouse do not count,
    # and no store the guest did not choose is named
    assert messages_of(too_many)[-1] == (
        "No store has more than 5 of 'Lopi mittens'; you asked for 6. Choose your store to see what it has."
    )
    assert "Added" in messages_of(accepted)[-1]
    assert messages_of(refused)[-1] == (
        "No store has more than 5 of 'Lopi mittens', and you already have 5 in your cart."
    )
    assert cart_in(client) == {mittens.pk: 5}


def test_a_product_no_longer_sold_cannot_be_added(client, laugavegur):
    # given a product taken out of the catalog (with stock left on the shelf)
    choose_store(client, laugavegur)
    old = ProductFactory(name="Last year's hat", is_active=False)
    StockLevelFactory(store=laugavegur, product=old, on_hand=10)

    # when a shopper posts it anyway
    response = add(client, old, "1")

    # then it is refused
    assert messages_of(response) == ["Sorry, this product is no longer sold."]
    assert cart_in(client) == {}


def test_an_unknown_product_or_missing_id_is_refused(client, laugavegur):
    choose_store(client, laugavegur)

    for product_id in ["999999", "x", "", "99999999999999999999999"]:
        response = client.post(reverse("checkout:cart_add"), {"product_id": product_id, "quantity": "1"})

        assert response.status_code == 302
        assert messages_of(response)
    assert cart_in(client) == {}


def test_next_pointing_to_another_site_is_ignored(client, laugavegur, mittens):
    choose_store(client, laugavegur)

    response = add(client, mittens, "1", next_url="https://evil.example.com/")

    assert response["Location"] == reverse("checkout:cart")


def test_adding_needs_a_post(client, mittens):
    assert client.get(reverse("checkout:cart_add"), {"product_id": mittens.pk, "quantity": 1}).status_code == 405


def test_the_shopper_changes_a_quantity_and_removes_a_line(client, laugavegur, mittens):
    # given 1 pair in the cart
    choose_store(client, laugavegur)
    add(client, mittens, "1")

    # when they set it to 3, then to 4 (too many), then to 0
    client.post(reverse("checkout:cart_update"), {"product_id": mittens.pk, "quantity": "3"})
    after_three = cart_in(client)
    too_many = client.post(reverse("checkout:cart_update"), {"product_id": mittens.pk, "quantity": "4"})
    after_four = cart_in(client)
    client.post(reverse("checkout:cart_update"), {"product_id": mittens.pk, "quantity": "0"})

    # then 3 is taken, 4 is refused with the number available, and 0 empties the cart
    assert after_three == {mittens.pk: 3}
    assert messages_of(too_many)[-1] == "Only 3 of 'Lopi mittens' available at Laugavegur; you asked for 4."
    assert after_four == {mittens.pk: 3}
    assert cart_in(client) == {}


@pytest.mark.parametrize("typed", ["-1", "abc", "1.5"])
def test_a_bad_quantity_in_the_cart_page_changes_nothing(client, laugavegur, mittens, typed):
    choose_store(client, laugavegur)
    add(client, mittens, "2")

    response = client.post(reverse("checkout:cart_update"), {"product_id": mittens.pk, "quantity": typed})

    assert response["Location"] == reverse("checkout:cart")
    assert messages_of(response)
    assert cart_in(client) == {mittens.pk: 2}


def test_the_cart_page_shows_prices_from_the_catalog_totals_and_availability(client, laugavegur, mittens):
    # given 2 pairs of mittens and 1 hat in the cart, the hat sold out at my store since
    choose_store(client, laugavegur)
    hat = ProductFactory(name="Fisherman's hat", price=Decimal("3500"))
    hat_stock = StockLevelFactory(store=laugavegur, product=hat, on_hand=1)
    add(client, mittens, "2")
    add(client, hat, "1")
    hat_stock.reserved = 1
    hat_stock.save()

    # when they open the cart
    response = client.get(reverse("checkout:cart"))

    # then prices, line totals and the total are formatted money, and the hat shows sold out
    html = response.content.decode()
    assert response.status_code == 200
    assert "ISK\u00a04,990" in html  # unit price
    assert "ISK\u00a09,980" in html  # line total
    assert "ISK\u00a013,480" in html  # total
    assert "3 available" in html
    assert "Sold out" in html
    assert reverse("checkout:checkout") in html


def test_a_product_taken_out_of_the_catalog_leaves_the_cart_with_a_note(client, laugavegur, mittens):
    choose_store(client, laugavegur)
    add(client, mittens, "1")
    mittens.is_active = False
    mittens.save()

    response = client.get(reverse("checkout:cart"))

    assert "no longer sold" in response.content.decode()
    assert cart_in(client) == {}


@pytest.mark.parametrize("page", ["home", "product"])
def test_the_header_counts_the_cart_as_the_cart_page_does(
    client, laugavegur, mittens, page, django_capture_on_commit_callbacks
):
    # given a shopper with 2 mittens, 1 hat and 3 scarves in the cart
    choose_store(client, laugavegur)
    hat = ProductFactory(name="Hat", price=Decimal("2990"))
    scarf = ProductFactory(name="Scarf", price=Decimal("3990"))
    sweater = ProductFactory(name="Sweater", price=Decimal("19990"))
    for product in (hat, scarf, sweater):
        StockLevelFactory(store=laugavegur, product=product, on_hand=5)
    session = client.session
    session[SESSION_KEY] = {str(mittens.pk): 2, str(hat.pk): 1, str(scarf.pk): 3}
    session.save()
    url = "/" if page == "home" else sweater.get_absolute_url()
    assert "Cart (6 items)" in client.get(url).content.decode()

    # when the hat is taken off sale, the scarf deleted, and the mittens sell out (the catalog's
    # stamp moving once that commits, as every catalog write's does)
    with django_capture_on_commit_callbacks(execute=True):
        hat.is_active = False
        hat.save()
        scarf.delete()
        StockLevel.objects.filter(product=mittens).update(on_hand=0)
        catalog_changed()

    # then every page's header counts the 2 mittens the cart page still shows, before /cart/ is opened
    assert "Cart (2 items)" in client.get(url).content.decode()
    assert "Cart (2 items)" in client.get(reverse("checkout:cart")).content.decode()


@pytest.mark.parametrize("typed", ["1000", "0", "abc"])
def test_the_product_page_keeps_a_refused_quantity_as_typed(client, laugavegur, mittens, typed):
    # given a shopper on the product page
    choose_store(client, laugavegur)
    page = mittens.get_absolute_url()
    assert 'name="quantity" value="1"' in client.get(page).content.decode()

    # when they add a quantity the cart refuses, and are sent back
    response = add(client, mittens, typed, next_url=page)
    html = client.get(response["Location"]).content.decode()

    # then the page says what is wrong and the field holds what they typed, marked invalid
    assert f'name="quantity" value="{typed}"' in html and 'aria-invalid="true"' in html
    assert "Lopi mittens" in html
    # and once seen, the page is as it was
    assert 'name="quantity" value="1"' in client.get(page).content.decode()
