"""A shopper taps "I'm here" on two devices at the same moment, on PostgreSQL: one queue entry."""

import threading

import pytest
from django.db import connection
from django.test import Client

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from orders.models import OrderActivity, OrderEvent
from pickup import curbside
from pickup.models import CurbsideVisit
from pickup.services import mark_ready_for_pickup
from pickup.tests.factories import PickupSettingsFactory, place_curbside_order
from stores.tests.factories import StockLevelFactory, StoreFactory

TAPS = 6


@pytest.mark.postgres
def test_simultaneous_check_ins_make_one_visit_and_one_event(require_postgres, transactional_db):
    # given a ready curbside order and its check-in link open on several devices
    store = StoreFactory()
    PickupSettingsFactory(store=store)
    product = ProductFactory()
    StockLevelFactory(store=store, product=product, on_hand=1)
    order = mark_ready_for_pickup(
        order=place_curbside_order(store=store, products_and_quantities=[(product, 1)]),
        by=StoreManagerFactory(stores=[store]),
    )
    url = curbside.check_in_path(order)
    barrier = threading.Barrier(TAPS, timeout=30)
    statuses = []

    def tap():
        try:
            client = Client()
            barrier.wait()
            # when every device taps "I'm here" at once
            statuses.append(client.post(url, {"action": "arrived", "bay": "2"}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=tap) for _ in range(TAPS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then all are answered, and there is one visit with one "checked in" event
    assert statuses == [302] * TAPS
    assert CurbsideVisit.objects.filter(fulfilment__order=order).count() == 1
    assert OrderEvent.objects.filter(order=order, kind=OrderActivity.ARRIVED).count() == 1
