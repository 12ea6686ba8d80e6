"""Ten shoppers order the last 3 boots at Smáralind sent to their stores, at the same moment, on
PostgreSQL: each a thread with its own connection, released together by a barrier. Exactly 3
transfers are made; the others are told Smáralind is sold out, and nothing of theirs is left."""

import threading

import pytest
from django.db import connection

from checkout.services import CheckoutChanged
from orders.integrity import check_integrity
from orders.models import Order
from stores.models import StockLevel
from transfers.models import Transfer

from .factories import order_by_transfer, reykjavik_shop

SHOPPERS = 10
UNITS = 3


@pytest.mark.postgres
def test_ten_shoppers_race_for_the_last_three_units_at_a_source(require_postgres, transactional_db):
    # given 3 boots at Smáralind, none at Kringlan
    kringlan, smaralind, boots = reykjavik_shop(units_at_smaralind=UNITS)
    barrier = threading.Barrier(SHOPPERS, timeout=60)
    results = [None] * SHOPPERS

    def shopper(index):
        try:
            barrier.wait()
            # when they all order one sent from Smáralind to Kringlan at once
            order_by_transfer(destination=kringlan, product=boots, source=smaralind, email=f"s{index}@example.com")
            results[index] = "placed"
        except CheckoutChanged as refused:
            results[index] = "sold out" if "sold out at Smáralind" in str(refused) else refused
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

    # then exactly 3 were placed, 7 refused, and nothing of the refused ones is left
    errors = [result for result in results if result not in ("placed", "sold out")]
    assert not errors, errors
    assert results.count("placed") == UNITS
    assert (Order.objects.count(), Transfer.objects.count()) == (UNITS, UNITS)
    level = StockLevel.objects.get(store=smaralind, product=boots)
    assert (level.on_hand, level.reserved) == (UNITS, UNITS)
    assert check_integrity().problems == []
