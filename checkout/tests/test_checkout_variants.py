"""A size bought for pickup: the checkout, the order, its page and its e-mail name the size."""

from decimal import Decimal

import pytest
from django.urls import reverse

from catalog import services
from catalog.tests.factories import ProductFactory, sizes
from checkout.tests.test_checkout import cart_in, choose_store, fill_cart, level, place
from orders.models import Order
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


def test_a_size_is_checked_out_named_and_reserved_as_itself(client, mailoutbox, django_capture_on_commit_callbacks):
    # given Lopapeysa in M (2 at Laugavegur, dearer than the sweater) and in L, and 1 M in my cart
    laugavegur = StoreFactory(name="Laugavegur")
    sweater = ProductFactory(name="Lopapeysa", name_is="Lopapeysa", sku="LOPI", price=Decimal("24990"))
    medium_size, large_size = sizes("M", "L")
    medium = services.create_variant(parent=sweater, sku="LOPI-M", values=[medium_size], price=Decimal("25990"))
    services.create_variant(parent=sweater, sku="LOPI-L", values=[large_size])
    StockLevelFactory(store=laugavegur, product=medium, on_hand=2)
    choose_store(client, laugavegur)
    fill_cart(client, {medium: 1})

    # when the checkout shows the line and I place the order
    checkout = client.get(reverse("checkout:checkout")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = place(client, laugavegur)

    # then the checkout named the size, and the order holds it at its own price, reserved
    assert "Lopapeysa — M" in checkout
    order = Order.objects.get()
    assert response["Location"] == order.get_absolute_url()
    assert [(line.product_name, line.sku, line.unit_price) for line in order.lines.all()] == [
        ("Lopapeysa — M", "LOPI-M", Decimal("25990"))
    ]
    assert level(laugavegur, medium).reserved == 1
    assert cart_in(client) == {}
    # and the order page and the e-mail name it too
    assert "Lopapeysa — M" in client.get(order.get_absolute_url()).content.decode()
    assert mailoutbox and "Lopapeysa — M" in mailoutbox[0].body
