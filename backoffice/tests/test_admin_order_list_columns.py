"""The orders list and the collect screen as staff read them: goods counted as items, each row's
time with its zone where the list spans zones, and the pickup slot as a range."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import StoreManagerFactory, UserFactory
from catalog.tests.factories import ProductFactory
from orders.models import OrderLine
from orders.selectors import order_history
from orders.tests.factories import place_order
from pickup.selectors import pickup_of
from pickup.services import mark_ready_for_pickup
from pickup.slots import available_slots
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

ORDERS = reverse("admin:orders_order_changelist")


@pytest.fixture
def laugavegur():
    return StoreFactory(name="Laugavegur", slug="laugavegur")


@pytest.fixture
def oslo():
    return StoreFactory(name="Grünerløkka", slug="grunerlokka", city="Oslo", country="NO", time_zone="Europe/Oslo")


@pytest.fixture
def coffee(laugavegur, oslo):
    product = ProductFactory(name="Kaffi", price=Decimal("1990"))
    StockLevelFactory(store=laugavegur, product=product, on_hand=50)
    StockLevelFactory(store=oslo, product=product, on_hand=50)
    return product


def add_delivery_fee(order):
    OrderLine.objects.create(
        order=order,
        product=None,
        product_name="Delivery",
        sku="DELIVERY",
        unit_price=Decimal("990"),
        quantity=1,
        line_total=Decimal("990"),
        vat_rate=Decimal("24"),
        vat_amount=Decimal("192"),
    )


def row_of(response, order):
    return next(row for row in response.context["cl"].result_list if row.pk == order.pk)


def test_items_count_the_goods_not_the_delivery_fee(admin_client, laugavegur, coffee):
    # given 2 coffees and a delivery fee line
    customer = UserFactory()
    order = place_order(store=laugavegur, products_and_quantities=[(coffee, 2)], customer=customer)
    add_delivery_fee(order)

    # then the admin's list and the shopper's order history both say 2 items
    response = admin_client.get(ORDERS)
    assert response.context["cl"].model_admin.items(row_of(response, order)) == 2
    assert order_history(customer).get(pk=order.pk).item_count == 2


def test_a_list_spanning_time_zones_says_each_rows_zone(admin_client, client, laugavegur, oslo, coffee):
    # given an order at Laugavegur (Reykjavík) and one at Grünerløkka (Oslo), placed at the same moment
    iceland = place_order(store=laugavegur, products_and_quantities=[(coffee, 1)])
    norway = place_order(store=oslo, products_and_quantities=[(coffee, 1)])
    moment = datetime.datetime(2026, 12, 1, 12, 18, tzinfo=datetime.UTC)
    type(iceland).objects.filter(pk__in=[iceland.pk, norway.pk]).update(created_at=moment)

    # when the superuser lists every store's orders
    page = admin_client.get(ORDERS).content.decode()

    # then each store time names its zone
    assert "12:18 GMT" in page
    assert "13:18 CET" in page

    # while a manager of one store reads their store's time without it
    client.force_login(StoreManagerFactory(stores=[oslo]))
    own = client.get(ORDERS).content.decode()
    assert "13:18" in own and "13:18 CET" not in own


def test_the_collect_screen_shows_the_pickup_slot_as_a_range(admin_client, laugavegur, coffee):
    slot = available_slots(laugavegur)[0]
    order = mark_ready_for_pickup(
        order=place_order(store=laugavegur, products_and_quantities=[(coffee, 1)], pickup_slot=slot.starts_at)
    )
    pickup = pickup_of(order)
    start, end = pickup.slot_start.astimezone(laugavegur.zone), pickup.slot_end.astimezone(laugavegur.zone)

    page = admin_client.get(reverse("admin:orders_order_collect", args=[order.pk])).content.decode()

    assert f"{start:%H:%M}–{end:%H:%M}" in page
