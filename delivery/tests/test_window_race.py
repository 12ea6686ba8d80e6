"""12 shoppers book the last 3 places of a delivery window at the same moment, on PostgreSQL.

Each shopper is a thread with its own database connection; a barrier releases them together.
The store's round for the day (delivery.services.book_window) is locked, so exactly 3 deliveries
are placed; the other 9 are told the window is full and nothing of theirs is left behind.
"""

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from catalog.tests.factories import ProductFactory
from delivery.models import Delivery
from delivery.services import DeliveryAddress, WindowFull, book_window, create_delivery
from delivery.tests.factories import DeliveryWindowFactory, DeliveryZoneFactory, next_monday
from orders.models import FulfilmentMethod, Order
from orders.services import Contact, LineSpec, create_order
from stores import services as stock
from stores.models import StockLevel
from stores.tests.factories import PostcodeLocationFactory, StockLevelFactory, StoreFactory

SHOPPERS = 12
PLACES = 3


@pytest.mark.postgres
def test_twelve_shoppers_race_for_the_last_three_places_in_a_window(require_postgres, transactional_db):
    # given a Monday evening window with room for 3
    PostcodeLocationFactory(country="IS", postcode="101")
    store = StoreFactory(name="Laugavegur")
    DeliveryZoneFactory(store=store, postcodes="101-108", fee=Decimal("990"))
    now = next_monday(10)
    DeliveryWindowFactory(store=store, weekday=0, capacity=PLACES)
    mittens = ProductFactory(name="Lopi mittens", price=Decimal("4990"))
    StockLevelFactory(store=store, product=mittens, on_hand=100)
    barrier = threading.Barrier(SHOPPERS, timeout=60)
    results = [None] * SHOPPERS

    def shopper(index):
        address = DeliveryAddress(
            street=f"Bergstaðastræti {index}", postcode="101", city="Reykjavík", country="IS", phone="+354 555 1234"
        )
        try:
            barrier.wait()
            # when they all place their delivery for 17:00-19:00 at once
            with transaction.atomic():
                booking = book_window(
                    store=store, address=address, starts_at=now.replace(hour=17), order_value=Decimal("4990"), now=now
                )
                stock.reserve_stock(store=store, quantities={mittens.pk: 1})
                placed = create_order(
                    lines=[LineSpec(product=mittens, quantity=1)],
                    store=store,
                    contact=Contact(name=f"Shopper {index}", email=f"s{index}@example.com", phone=address.phone),
                    method=FulfilmentMethod.LOCAL_DELIVERY,
                )
                create_delivery(fulfilment=placed.fulfilment, booking=booking, address=address)
            results[index] = "placed"
        except WindowFull:
            results[index] = "full"
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

    # then exactly 3 were placed, 9 refused, and nothing of the refused ones is left
    errors = [result for result in results if isinstance(result, BaseException)]
    assert not errors, errors
    assert results.count("placed") == PLACES
    assert results.count("full") == SHOPPERS - PLACES
    assert Delivery.objects.filter(window_start=now.replace(hour=17)).count() == PLACES
    assert Order.objects.count() == PLACES
    assert StockLevel.objects.get(store=store, product=mittens).reserved == PLACES
