"""Rotating SECRET_KEY keeps the links already e-mailed working (SECRET_KEY_FALLBACKS), and a link
signed with any other key still opens nothing."""

from decimal import Decimal

import pytest
from django.core import signing
from django.test import override_settings
from django.urls import reverse

from catalog.tests.factories import ProductFactory
from orders.models import ORDER_LINK_SALT
from orders.tests.factories import place_order
from pickup.curbside import check_in_path
from pickup.services import mark_ready_for_pickup
from pickup.tests.factories import PickupSettingsFactory, place_curbside_order
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

OLD_KEY = "old-key-that-signed-the-e-mails-0123456789abcdefghijklmnopqrstuvwxyz"
NEW_KEY = "new-key-after-the-rotation-0123456789abcdefghijklmnopqrstuvwxyzABCDEF"
ATTACKERS_KEY = "a-key-nobody-in-the-shop-ever-used-0123456789abcdefghijklmnopqrstu"


@pytest.fixture
def store():
    store = StoreFactory(name="Laugavegur")
    PickupSettingsFactory(store=store, offers_curbside=True)
    return store


@pytest.fixture
def mittens(store):
    product = ProductFactory(name="Lopi mittens", price=Decimal("4990"))
    StockLevelFactory(store=store, product=product, on_hand=50)
    return product


def test_an_order_link_e_mailed_before_the_rotation_still_opens_after_it(client, store, mittens):
    # given an order whose link was e-mailed while the old key was the shop's key
    with override_settings(SECRET_KEY=OLD_KEY, SECRET_KEY_FALLBACKS=[]):
        order = place_order(store=store, products_and_quantities=[(mittens, 1)])
        e_mailed = order.get_absolute_url()

    # when the key is rotated, the old one kept as a fallback
    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[OLD_KEY]):
        opened = client.get(e_mailed)
        # and new links are signed with the new key
        fresh = order.get_absolute_url()

    # then the e-mailed link opens the order
    assert opened.status_code == 200 and order.number in opened.content.decode()
    assert fresh != e_mailed

    # and once the old key is dropped, it no longer does
    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[]):
        assert client.get(e_mailed).status_code == 404
        assert client.get(fresh).status_code == 200


def test_an_order_link_signed_with_any_other_key_opens_nothing(client, store, mittens):
    # given the shop rotated its key
    with override_settings(SECRET_KEY=OLD_KEY):
        order = place_order(store=store, products_and_quantities=[(mittens, 1)])

    # when someone signs the order's number with a key of their own
    forged = signing.Signer(key=ATTACKERS_KEY, salt=ORDER_LINK_SALT, fallback_keys=[]).sign(order.number)
    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[OLD_KEY]):
        response = client.get(reverse("checkout:order_detail", kwargs={"token": forged}))

    # then the page is not found
    assert response.status_code == 404


def test_a_curbside_check_in_link_e_mailed_before_the_rotation_still_opens_after_it(client, store, mittens):
    # given the ready e-mail's check-in link, signed with the old key
    with override_settings(SECRET_KEY=OLD_KEY, SECRET_KEY_FALLBACKS=[]):
        order = mark_ready_for_pickup(order=place_curbside_order(store=store, products_and_quantities=[(mittens, 1)]))
        e_mailed = check_in_path(order)

    # when the key is rotated, the old one kept as a fallback, it opens; without it, it does not
    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[OLD_KEY]):
        assert client.get(e_mailed).status_code == 200
    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[]):
        assert client.get(e_mailed).status_code == 404
