"""check_integrity reconciles deliveries: each delivery fulfilment has its details, states agree,
and no window holds more deliveries than its places."""

from decimal import Decimal

import pytest
from django.db import transaction

from catalog.tests.factories import ProductFactory
from delivery.models import DeliveryWindow
from delivery.services import mark_delivered, mark_packed, send_out
from delivery.tests.factories import DeliveryZoneFactory, evening_windows, next_monday, place_delivery
from orders.integrity import check_integrity
from orders.models import FulfilmentMethod
from orders.services import Contact, LineSpec, create_order
from stores import services as stock
from stores.models import StockLevel
from stores.tests.factories import PostcodeLocationFactory, StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    PostcodeLocationFactory(country="IS", postcode="101")
    store = StoreFactory(name="Laugavegur")
    DeliveryZoneFactory(store=store)
    evening_windows(store, capacity=2)
    sweater = ProductFactory(price=Decimal("4990"))
    StockLevelFactory(store=store, product=sweater, on_hand=10)
    return {"store": store, "sweater": sweater}


def two_deliveries(world):
    now = next_monday(10)
    return [
        place_delivery(
            store=world["store"],
            products_and_quantities=[(world["sweater"], 1)],
            starts_at=now.replace(hour=17),
            now=now,
        )
        for _ in range(2)
    ]


def test_deliveries_as_booked_and_delivered_reconcile(world):
    first, _second = two_deliveries(world)
    mark_packed(delivery=first)
    send_out(delivery=first)
    mark_delivered(delivery=first)
    report = check_integrity()
    assert report.problems == []


def test_a_window_holding_more_than_its_places_is_reported(world):
    two_deliveries(world)
    DeliveryWindow.objects.filter(store=world["store"]).update(capacity=1)
    problems = check_integrity().problems
    assert len(problems) == 1
    assert "Laugavegur: the delivery window" in problems[0]
    assert "17:00 holds 2 deliveries, 1 places" in problems[0]


def test_a_delivery_fulfilment_without_its_details_is_reported(world):
    with transaction.atomic():
        stock.reserve_stock(store=world["store"], quantities={world["sweater"].pk: 1})
        placed = create_order(
            lines=[LineSpec(product=world["sweater"], quantity=1)],
            store=world["store"],
            contact=Contact(name="Anna", email="anna@example.com", phone="5551234"),
            method=FulfilmentMethod.LOCAL_DELIVERY,
        )
    assert check_integrity().problems == [f"order {placed.order.number}: a local delivery without its delivery details"]


@pytest.mark.parametrize("deliveries", [1, 12])
def test_the_delivery_check_is_three_queries_whatever_the_number_of_deliveries(
    world, deliveries, django_assert_num_queries
):
    from delivery.integrity import check_deliveries
    from orders.integrity import IntegrityReport

    DeliveryWindow.objects.filter(store=world["store"]).update(capacity=20)
    StockLevel.objects.filter(product=world["sweater"]).update(on_hand=100)
    now = next_monday(10)
    for _ in range(deliveries):
        place_delivery(
            store=world["store"],
            products_and_quantities=[(world["sweater"], 1)],
            starts_at=now.replace(hour=17),
            now=now,
        )
    report = IntegrityReport()
    with django_assert_num_queries(3):
        check_deliveries(report)
    assert report.problems == []
