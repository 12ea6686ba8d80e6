"""Tampering with the cart and checkout forms: every trick is refused with a clear message, and
prices, totals, codes and owners always come from the server."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory
from checkout.tests.test_cart import add, cart_in, choose_store, messages_of
from checkout.tests.test_checkout import CONTACT, checkout_token, fill_cart, level, place
from o2o_site.money import format_money
from orders.models import Order, OrderStatus
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def laugavegur():
    return StoreFactory(name="Laugavegur")


@pytest.fixture
def mittens(laugavegur):
    product = ProductFactory(name="Lopi mittens", sku="MIT-1", price=Decimal("4990"))
    StockLevelFactory(store=laugavegur, product=product, on_hand=5)
    return product


@pytest.mark.parametrize(
    "quantity",
    ["-5", "0", "-0", str(10**12), str(10**30), "1e3", "0x10", "NaN", "inf", "1/2", "1,5", "2.5", " ", "one", "٣٣٣"],
)
def test_a_tampered_quantity_is_refused_and_the_cart_stays_as_it_was(client, laugavegur, mittens, quantity):
    # given one pair in the cart
    choose_store(client, laugavegur)
    add(client, mittens, "1")

    # when a tampered quantity is posted
    response = add(client, mittens, quantity)

    # then the shopper is told what is wrong, and the cart still holds one pair
    assert response.status_code == 302
    assert messages_of(response) and all(message.strip() for message in messages_of(response))
    assert cart_in(client) == {mittens.pk: 1}


def test_a_quantity_posted_twice_is_judged_by_the_value_used(client, laugavegur, mittens):
    choose_store(client, laugavegur)

    response = client.post(reverse("checkout:cart_add"), {"product_id": mittens.pk, "quantity": ["1", "1000000"]})

    assert any("at most 99" in message for message in messages_of(response))
    assert cart_in(client) == {}


@pytest.mark.parametrize("product_id", ["inactive", "missing", "-1", "0", str(10**12), str(2**64), "1 OR 1=1", "1;--"])
def test_a_tampered_or_unsold_product_is_refused(client, laugavegur, product_id):
    inactive = ProductFactory(is_active=False)
    StockLevelFactory(store=laugavegur, product=inactive, on_hand=5)
    ids = {"inactive": inactive.pk, "missing": inactive.pk + 1000}
    choose_store(client, laugavegur)

    response = client.post(
        reverse("checkout:cart_add"), {"product_id": ids.get(product_id, product_id), "quantity": "1"}
    )

    assert messages_of(response)
    assert cart_in(client) == {}


def test_setting_a_huge_quantity_in_the_cart_page_is_refused(client, laugavegur, mittens):
    choose_store(client, laugavegur)
    add(client, mittens, "1")

    response = client.post(reverse("checkout:cart_update"), {"product_id": mittens.pk, "quantity": str(10**12)})

    assert any("at most 99" in message for message in messages_of(response))
    assert cart_in(client) == {mittens.pk: 1}


def test_a_price_posted_to_the_cart_is_ignored(client, laugavegur, mittens):
    choose_store(client, laugavegur)
    client.post(
        reverse("checkout:cart_add"),
        {"product_id": mittens.pk, "quantity": "2", "price": "1", "unit_price": "1", "total": "1"},
    )

    page = client.get(reverse("checkout:cart")).content.decode()

    assert cart_in(client) == {mittens.pk: 2}
    assert escape(format_money(Decimal("9980"))) in page
    assert escape(format_money(Decimal("2"))) not in page


@pytest.mark.parametrize("store", ["inactive", "no-pickup", "-1", str(10**30), "1.5", "1 OR 1=1", "list", ""])
def test_a_tampered_store_is_refused_and_nothing_is_reserved(client, laugavegur, mittens, store):
    stores = {
        "inactive": StoreFactory(is_active=False).pk,
        "no-pickup": StoreFactory(offers_pickup=False).pk,
        "list": [laugavegur.pk, StoreFactory(is_active=False).pk],
    }
    fill_cart(client, {mittens: 1})

    response = client.post(
        reverse("checkout:checkout"),
        {**CONTACT, "store": stores.get(store, store), "checkout_token": checkout_token(client)},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Choose one of the stores listed." in html or "Choose the store where you will pick up" in html
    assert Order.objects.count() == 0
    assert level(laugavegur, mittens).reserved == 0


def test_another_stores_id_that_has_nothing_is_refused_by_name(client, laugavegur, mittens):
    akureyri = StoreFactory(name="Akureyri")
    fill_cart(client, {mittens: 1})

    response = place(client, akureyri)

    assert "sold out at Akureyri" in response.content.decode()
    assert Order.objects.count() == 0


def test_every_field_an_attacker_adds_to_the_checkout_is_ignored(client, laugavegur, mittens):
    # given a cart with one pair, and another shopper's account and another product
    fill_cart(client, {mittens: 1})
    victim = UserFactory(username="victim")
    other = ProductFactory(price=Decimal("1"))
    StockLevelFactory(store=laugavegur, product=other, on_hand=5)

    # when the checkout is posted with fields the form does not have
    place(
        client,
        laugavegur,
        price="1",
        unit_price="1",
        total="0",
        currency="EUR",
        status="collected",
        pickup_code="000000",
        number="AAAAAAAA",
        customer=victim.pk,
        quantity="99",
        product_id=other.pk,
        **{"lines-0-unit_price": "1"},
    )

    # then the order is exactly what the cart and the catalog say
    order = Order.objects.get()
    assert order.total == Decimal("4990")
    assert order.currency == settings.SHOP_CURRENCY
    assert order.status == OrderStatus.PLACED
    assert order.number != "AAAAAAAA"
    assert order.customer is None
    assert [(line.product_id, line.quantity, line.unit_price) for line in order.lines.all()] == [
        (mittens.pk, 1, Decimal("4990"))
    ]
    assert level(laugavegur, other).reserved == 0


def test_a_price_changed_after_the_cart_is_charged_as_the_catalog_says_now(client, laugavegur, mittens):
    fill_cart(client, {mittens: 2})
    mittens.price = Decimal("5490")
    mittens.save(update_fields=["price"])

    place(client, laugavegur)

    assert Order.objects.get().total == Decimal("10980")


def test_a_product_withdrawn_before_checkout_is_taken_out_with_a_note(client, laugavegur, mittens):
    fill_cart(client, {mittens: 1})
    mittens.is_active = False
    mittens.save(update_fields=["is_active"])

    response = client.get(reverse("checkout:checkout"), follow=True)

    assert "no longer sold" in response.content.decode()
    assert cart_in(client) == {}
    assert Order.objects.count() == 0
