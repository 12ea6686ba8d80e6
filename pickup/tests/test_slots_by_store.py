"""The checkout's pickup times of several stores at once (available_slots_by_store, its counts in
SQL of its own) are each store's own available_slots (counted by the ORM)."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from catalog.tests.factories import ProductFactory
from orders.models import CancelReason
from orders.services import cancel_order
from orders.tests.factories import place_order
from pickup.models import Pickup
from pickup.slots import _booked_by_store, _booked_counts, available_slots, available_slots_by_store
from pickup.tests.factories import PickupSettingsFactory
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


def test_several_stores_slots_are_each_stores_own():
    # given two stores taking 2 and 3 orders a slot, in Reykjavík and Oslo
    now = datetime.datetime(2026, 11, 21, 9, 0, tzinfo=ZoneInfo("Atlantic/Reykjavik"))
    reykjavik = StoreFactory()
    oslo = StoreFactory(time_zone="Europe/Oslo", country="NO")
    PickupSettingsFactory(store=reykjavik, orders_per_slot=2, lead_time_minutes=0, days_ahead=2, slot_minutes=30)
    PickupSettingsFactory(store=oslo, orders_per_slot=3, lead_time_minutes=60, days_ahead=3, slot_minutes=15)
    sweater = ProductFactory()
    for store in (reykjavik, oslo):
        StockLevelFactory(store=store, product=sweater, on_hand=20)

    # and orders booked: one slot full, one with a place left, one freed by a cancelled order,
    # and one at the other store at the same time
    def book(store, slot, count):
        orders = [place_order(store=store, products_and_quantities=[(sweater, 1)]) for _ in range(count)]
        Pickup.objects.filter(fulfilment__order__in=orders).update(slot_start=slot.starts_at, slot_end=slot.ends_at)
        return orders

    first, second, third = available_slots(reykjavik, now=now)[:3]
    book(reykjavik, first, 2)
    book(reykjavik, second, 1)
    cancel_order(order=book(reykjavik, third, 2)[0], reason=CancelReason.STORE)
    book(oslo, first, 2)

    # when the checkout reads both stores' times at once
    stores = [reykjavik, oslo]
    for store in stores:
        store.refresh_from_db()
    found = available_slots_by_store(stores, now=now)

    # then they are each store's own, as the ORM counts them
    assert found == {store.pk: available_slots(store, now=now) for store in stores}
    offered = {slot.starts_at: slot.remaining for slot in found[reykjavik.pk]}
    assert first.starts_at not in offered and offered[second.starts_at] == 1 and offered[third.starts_at] == 1
    grid = [slot.starts_at for slot in available_slots(oslo, now=now)]
    counted = _booked_by_store([reykjavik.pk, oslo.pk], min(grid + [first.starts_at]), max(grid))
    assert {key: n for key, n in counted.items() if key[0] == reykjavik.pk} == {
        (reykjavik.pk, start): n for start, n in _booked_counts(reykjavik, [first.starts_at, third.starts_at]).items()
    } | {(reykjavik.pk, second.starts_at): 1}
