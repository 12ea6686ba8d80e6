"""Split checkouts at the same moment, on PostgreSQL: eight shoppers each place a cart in parts
(two lines picked up at Kringlan, the boots delivered from Laugavegur) with a barrier releasing
them together. Each part's units are reserved under the same row locks as any checkout, so no
location is oversold and no window overbooked; a refused shopper has nothing reserved anywhere."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection

from catalog.tests.factories import ProductFactory
from checkout.services import CheckoutChanged, place_split_order
from delivery.models import Delivery
from delivery.tests.factories import DeliveryZoneFactory, evening_windows
from orders.integrity import check_integrity
from orders.models import Order
from orders.services import OrderError
from pickup.tests.factories import PickupSettingsFactory
from stores.models import StockLevel
from stores.tests.factories import PostcodeLocationFactory, StockLevelFactory, StoreFactory

from .test_split_order import earliest_window, split_checkout

SHOPPERS = 8


def _world(*, boots_on_hand: int, capacity: int):
    PostcodeLocationFactory(country="IS", postcode="101", place_name="Reykjavík")
    kringlan = StoreFactory(name="Kringlan", slug="kringlan")
    PickupSettingsFactory(store=kringlan, orders_per_slot=50)
    laugavegur = StoreFactory(name="Laugavegur", slug="laugavegur")
    DeliveryZoneFactory(store=laugavegur, name="Miðbær", postcodes="101-108", fee=Decimal("990"), lead_time_minutes=30)
    evening_windows(
        laugavegur, capacity=capacity, starts=datetime.time(20), ends=datetime.time(22), cutoff=datetime.time(20)
    )
    sweater = ProductFactory(name="Hekla lopapeysa", sku="HEKLA-1", price=Decimal("24990"))
    mittens = ProductFactory(name="Lopi mittens", sku="LOPI-1", price=Decimal("3990"))
    boots = ProductFactory(name="Gúmmístígvél", sku="BOOT-1", price=Decimal("12990"))
    StockLevelFactory(store=kringlan, product=sweater, on_hand=50)
    StockLevelFactory(store=kringlan, product=mittens, on_hand=50)
    StockLevelFactory(store=laugavegur, product=boots, on_hand=boots_on_hand)
    return {"kringlan": kringlan, "laugavegur": laugavegur, "sweater": sweater, "mittens": mittens, "boots": boots}


def _race(world):
    window = earliest_window(world["laugavegur"])
    checkouts = [split_checkout(world, token=f"page-{index}", window=window) for index in range(SHOPPERS)]
    barrier = threading.Barrier(SHOPPERS, timeout=60)
    results = [None] * SHOPPERS

    def shopper(index):
        try:
            barrier.wait()
            results[index] = place_split_order(checkout=checkouts[index])
        except (CheckoutChanged, OrderError) as refused:
            results[index] = refused
        except BaseException as error:  # reported in the main thread
            results[index] = error
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=shopper, args=(index,)) for index in range(SHOPPERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    unexpected = [r for r in results if isinstance(r, BaseException) and not isinstance(r, OrderError)]
    assert not unexpected, unexpected
    return [r for r in results if isinstance(r, Order)], [r for r in results if isinstance(r, OrderError)]


def _units(store, product):
    level = StockLevel.objects.get(store=store, product=product)
    return level.on_hand, level.reserved


@pytest.mark.postgres
def test_eight_split_checkouts_race_for_three_boots(require_postgres, transactional_db, split_payment_provider):
    world = _world(boots_on_hand=3, capacity=20)

    placed, refused = _race(world)

    assert (len(placed), len(refused)) == (3, SHOPPERS - 3), [str(error) for error in refused]
    assert all("'Gúmmístígvél' is sold out at Laugavegur." in str(error) for error in refused)
    assert _units(world["laugavegur"], world["boots"]) == (3, 3)
    # the refused shoppers' pickup parts reserved nothing at Kringlan either
    assert _units(world["kringlan"], world["mittens"]) == (50, 2 * 3)
    assert _units(world["kringlan"], world["sweater"]) == (50, 3)
    assert Order.objects.count() == 3
    assert check_integrity().ok


@pytest.mark.postgres
def test_eight_split_checkouts_race_for_a_window_of_two(require_postgres, transactional_db, split_payment_provider):
    world = _world(boots_on_hand=20, capacity=2)

    placed, refused = _race(world)

    assert (len(placed), len(refused)) == (2, SHOPPERS - 2), [str(error) for error in refused]
    assert all("has just been fully booked" in str(error) for error in refused)
    assert Delivery.objects.count() == 2
    assert _units(world["laugavegur"], world["boots"]) == (20, 2)
    assert _units(world["kringlan"], world["mittens"]) == (50, 2 * 2)
    assert check_integrity().ok
