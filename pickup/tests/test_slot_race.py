"""16 shoppers check out for the last 3 places in one pickup slot at the same moment, on PostgreSQL.

Each shopper is a thread with its own session and database connection; a barrier releases their
POSTs together. The slot's row lock (pickup.slots.book_slot) must let exactly 3 through; the
others are told the time is fully booked, nothing is reserved for them, and their carts are kept.
"""

import re
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from catalog.tests.factories import ProductFactory
from checkout.cart import SESSION_KEY
from orders.models import Order
from pickup.slots import available_slots
from pickup.tests.factories import PickupSettingsFactory
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

SHOPPERS = 16
PLACES = 3


@pytest.mark.postgres
def test_sixteen_shoppers_race_for_the_last_three_places_in_a_slot(require_postgres, transactional_db):
    # given a slot that takes 3 orders, plenty of stock, and 16 shoppers with the checkout open on it
    store = StoreFactory(name="Laugavegur")
    PickupSettingsFactory(store=store, orders_per_slot=PLACES)
    mittens = ProductFactory(name="Lopi mittens")
    StockLevelFactory(store=store, product=mittens, on_hand=100)
    slot = available_slots(store)[0]
    barrier = threading.Barrier(SHOPPERS, timeout=60)
    results = [None] * SHOPPERS

    def shopper(index):
        try:
            client = Client()
            assert (
                client.post(reverse("checkout:cart_add"), {"product_id": mittens.pk, "quantity": "1"}).status_code
                == 302
            )
            page = client.get(reverse("checkout:checkout")).content.decode()
            assert f'value="{slot.key}"' in page
            token = re.search(r'name="checkout_token" value="([^"]+)"', page).group(1)
            barrier.wait()
            # when they all place their order for that slot at once
            response = client.post(
                reverse("checkout:checkout"),
                {
                    "name": f"Shopper {index}",
                    "email": f"shopper{index}@example.com",
                    "phone": "+354 555 1234",
                    "store": store.pk,
                    f"slot-{store.pk}": slot.key,
                    "checkout_token": token,
                },
            )
            results[index] = (response.status_code, response.content.decode(), client.session.get(SESSION_KEY))
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

    # then exactly 3 got the slot; the other 13 were told it is full and still have their cart
    errors = [result for result in results if isinstance(result, BaseException)]
    assert not errors, errors
    placed = [result for result in results if result[0] == 302]
    refused = [result for result in results if result[0] == 200]
    assert len(placed) == PLACES
    assert len(refused) == SHOPPERS - PLACES
    for _status, html, cart in refused:
        assert "has just been fully booked" in html
        assert "your cart is unchanged" in html
        assert cart == {str(mittens.pk): 1}
    for _status, _html, cart in placed:
        assert not cart
    assert Order.objects.filter(fulfilments__pickup__slot_start=slot.starts_at).count() == PLACES
    assert Order.objects.count() == PLACES
    assert StockLevel.objects.get(store=store, product=mittens).reserved == PLACES
