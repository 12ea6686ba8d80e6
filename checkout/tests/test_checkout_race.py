"""24 shoppers check out the last 5 units at one store at the same moment, on PostgreSQL.

Each shopper is a thread with its own browser session and database connection; a barrier
releases their POSTs together. Row locks in stores.services.reserve_stock must let exactly 5
through, and everyone else must be told the product is sold out.
"""

import re
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from catalog.tests.factories import ProductFactory
from checkout.services import ConfirmedCheckout, place_pickup_order
from orders.models import Order
from orders.services import AlreadyPlaced, Contact
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

SHOPPERS = 24
UNITS_ON_HAND = 5


@pytest.mark.postgres
def test_twenty_four_shoppers_race_for_five_units(require_postgres, transactional_db):
    # given one store with 5 lopapeysur and 24 shoppers, each with one in the cart and the checkout open
    store = StoreFactory(name="Laugavegur")
    sweater = ProductFactory(name="Lopapeysa", price=Decimal("24990"))
    StockLevelFactory(store=store, product=sweater, on_hand=UNITS_ON_HAND)
    barrier = threading.Barrier(SHOPPERS, timeout=60)
    results = [None] * SHOPPERS

    def shopper(index):
        try:
            client = Client()
            added = client.post(reverse("checkout:cart_add"), {"product_id": sweater.pk, "quantity": "1"})
            assert added.status_code == 302
            page = client.get(reverse("checkout:checkout")).content.decode()
            token = re.search(r'name="checkout_token" value="([^"]+)"', page).group(1)
            barrier.wait()
            # when they all place their order at once
            response = client.post(
                reverse("checkout:checkout"),
                {
                    "name": f"Shopper {index}",
                    "email": f"shopper{index}@example.com",
                    "phone": "+354 555 1234",
                    "store": store.pk,
                    "checkout_token": token,
                },
            )
            results[index] = (response.status_code, response.content.decode(), response.get("Location"))
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

    # then exactly 5 got an order, the other 19 were told it is sold out, and stock adds up
    errors = [result for result in results if isinstance(result, BaseException)]
    assert not errors, errors
    placed = [result for result in results if result[0] == 302]
    refused = [result for result in results if result[0] == 200]
    assert len(placed) == UNITS_ON_HAND
    assert len(refused) == SHOPPERS - UNITS_ON_HAND
    for _status, html, _location in refused:
        assert "&#x27;Lopapeysa&#x27; is sold out at Laugavegur." in html
    assert Order.objects.count() == UNITS_ON_HAND
    assert {location for _status, _html, location in placed} == {
        order.get_absolute_url() for order in Order.objects.all()
    }
    level = StockLevel.objects.get(store=store, product=sweater)
    assert (level.on_hand, level.reserved, level.available) == (UNITS_ON_HAND, UNITS_ON_HAND, 0)


@pytest.mark.postgres
def test_the_same_checkout_submitted_twice_at_once_places_one_order(require_postgres, transactional_db):
    # given one checkout page whose token two requests carry at the same moment (a double click)
    store = StoreFactory(name="Laugavegur")
    sweater = ProductFactory(name="Lopapeysa")
    StockLevelFactory(store=store, product=sweater, on_hand=UNITS_ON_HAND)
    barrier = threading.Barrier(2, timeout=30)
    placed, already = [], []

    def submit():
        try:
            barrier.wait()
            placed.append(
                place_pickup_order(
                    checkout=ConfirmedCheckout.at_current_prices(
                        quantities={sweater.pk: 1},
                        store=store,
                        contact=Contact(name="Anna", email="anna@example.com", phone="+354 555 1234"),
                        checkout_token="one-checkout-page",
                    )
                )
            )
        except AlreadyPlaced as twin:
            already.append(twin.order)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then one request placed the order and the other was handed that same order, one unit reserved
    assert len(placed) == len(already) == 1
    assert placed[0].pk == already[0].pk
    assert Order.objects.count() == 1
    assert StockLevel.objects.get(store=store, product=sweater).reserved == 1
