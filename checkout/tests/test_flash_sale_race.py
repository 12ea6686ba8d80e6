"""A flash sale on PostgreSQL: 36 shoppers check out the last units of two products at three
stores at the same moment (issue 16's "flash sale", the bench's `flash` part in small).

Each shopper is a thread with its own database connection; a barrier releases them together.
Carts hold one product or both, listed in either order, so two checkouts at a store want the same
rows in opposite orders: the locks must still be taken in one order (the store's pickup slots,
then its stock rows by id) and never deadlock. Half the shoppers book no pickup time, so they
take no slot lock and only the stock rows' lock stands between them and the others. Nothing may
be oversold, every unit reserved must be on an order, and a shopper too late must be told which
product is sold out (no error).
"""

import logging
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from catalog.tests.factories import ProductFactory
from checkout.services import ChangeKind, CheckoutChanged, ConfirmedCheckout, ConfirmedLine, place_pickup_order
from orders.models import Order, OrderLine
from orders.services import Contact
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

SHOPPERS = 36
# Units on hand: (lopapeysa, vettlingar) at each of the three stores.
UNITS = ((2, 2), (2, 1), (1, 1))


def _deadlocks_so_far():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def _wait_for_backends_to_end(pids):
    """A backend counts its deadlocks in pg_stat_database when it ends: wait until the shoppers'
    connections (`pids`) are gone (each thread closed its own). Only theirs: other tests of the
    suite may hold connections of their own (a worker, a live server) meanwhile."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [list(pids)])
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.05)
    raise AssertionError("the shoppers' database connections did not end")


def _cart(index, sweater, mittens):
    """Shopper `index`'s cart: a sweater, mittens, both (in either order), two sweaters, or two
    sweaters and mittens; each store's twelve shoppers have each cart twice."""
    one_each = [(sweater, 1), (mittens, 1)]
    carts = ([(sweater, 1)], [(mittens, 1)], one_each, one_each[::-1], [(sweater, 2)], [(mittens, 1), (sweater, 2)])
    return tuple(
        ConfirmedLine(product_id=product.pk, name=product.name, quantity=units, unit_price=product.price)
        for product, units in carts[index // 3 % len(carts)]
    )


@pytest.mark.postgres
def test_a_flash_sale_at_three_stores_never_oversells_or_deadlocks(require_postgres, transactional_db, caplog):
    # given three stores with the last few units of a sweater and of mittens, and 36 shoppers
    # with their checkout confirmed, twelve at each store
    stores = [StoreFactory(name=name) for name in ("Laugavegur", "Kringlan", "Akureyri")]
    sweater = ProductFactory(name="Lopapeysa", price=Decimal("24990"))
    mittens = ProductFactory(name="Vettlingar", price=Decimal("4990"))
    for store, (sweaters, pairs) in zip(stores, UNITS, strict=True):
        StockLevelFactory(store=store, product=sweater, on_hand=sweaters)
        StockLevelFactory(store=store, product=mittens, on_hand=pairs)
    checkouts = [
        ConfirmedCheckout(
            lines=_cart(index, sweater, mittens),
            store=stores[index % len(stores)],
            contact=Contact(name=f"Shopper {index}", email=f"shopper{index}@example.com", phone="+354 555 1234"),
            # Half book the earliest pickup time (the web checkout), half none (a kiosk through
            # the API): those take no pickup-slot lock, so only the stock rows' lock keeps them apart.
            first_free_slot=index % 2 == 0,
            checkout_token=f"flash-{index}",
        )
        for index in range(SHOPPERS)
    ]
    deadlocks_before = _deadlocks_so_far()
    barrier = threading.Barrier(SHOPPERS, timeout=60)
    results = [None] * SHOPPERS
    pids = set()

    def shopper(index):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pids.add(cursor.fetchone()[0])
            barrier.wait()
            # when they all place their order at once
            results[index] = place_pickup_order(checkout=checkouts[index])
        except BaseException as outcome:  # a refusal, or an error reported below
            results[index] = outcome
            if isinstance(outcome, threading.BrokenBarrierError):
                barrier.abort()
        finally:
            connection.close()

    caplog.set_level(logging.WARNING, logger="o2o_site.database_errors")
    threads = [threading.Thread(target=shopper, args=(index,)) for index in range(SHOPPERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then every shopper got an order or was told what is sold out: no error, no deadlock
    placed = [result for result in results if isinstance(result, Order)]
    refused = [result for result in results if isinstance(result, CheckoutChanged)]
    assert len(placed) + len(refused) == SHOPPERS, [r for r in results if not isinstance(r, Order | CheckoutChanged)]
    assert placed and refused
    for refusal in refused:
        assert {change.kind for change in refusal.changes} == {ChangeKind.STOCK}
        assert all(" is sold out at " in c.message or " left at " in c.message for c in refusal.changes)
    _wait_for_backends_to_end(pids)
    assert _deadlocks_so_far() == deadlocks_before
    assert not [record for record in caplog.records if "deadlock" in record.getMessage()]
    # and at every store nothing is oversold and every unit reserved is on one of its orders
    for store in stores:
        for level in StockLevel.objects.filter(store=store):
            assert 0 <= level.reserved <= level.on_hand
            ordered = OrderLine.objects.filter(order__store=store, product=level.product_id).aggregate(
                units=Sum("quantity")
            )["units"]
            assert level.reserved == (ordered or 0)
    # and the sweaters, wanted by far more shoppers than there are, are all sold
    assert StockLevel.objects.filter(product=sweater).aggregate(left=Sum("on_hand") - Sum("reserved"))["left"] == 0
    assert Order.objects.count() == len(placed)
