"""Two members of staff hand over the ready part of an order at the same moment, on PostgreSQL,
while a third marks another line ready: never more is handed over than was ready, the ready units
leave the store once, and their money is captured once."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from payments.core import PROVIDER_CACHE

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from checkout import handover
from orders.integrity import check_integrity
from orders.models import FulfilmentLine, OrderLine, OrderStatus
from orders.tests.factories import place_order
from payment.tests.factories import DUMMY, authorised_payment
from pickup.selectors import pickup_of
from pickup.services import mark_lines_ready
from pickup.tests.factories import PickupSettingsFactory
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

STAFF = 4


@pytest.fixture(autouse=True)
def payment_variants(settings):
    settings.PAYMENT_VARIANTS = {"dummy": DUMMY}
    PROVIDER_CACHE.clear()
    yield
    PROVIDER_CACHE.clear()


@pytest.mark.postgres
def test_simultaneous_hand_overs_of_the_ready_part_hand_over_what_was_ready_once(require_postgres, transactional_db):
    # given Anna's order of a sweater, mittens and a hat, paid online; the mittens are ready
    store = StoreFactory(name="Laugavegur")
    PickupSettingsFactory(store=store)
    sweater = ProductFactory(sku="HEKLA-1", price=Decimal("24990"))
    mittens = ProductFactory(sku="LOPI-1", price=Decimal("3990"))
    hat = ProductFactory(sku="HUFA-1", price=Decimal("2990"))
    for product in (sweater, mittens, hat):
        StockLevelFactory(store=store, product=product, on_hand=5)
    order = place_order(store=store, products_and_quantities=[(sweater, 1), (mittens, 2), (hat, 1)])
    payment = authorised_payment(order)
    line = {ol.product_id: ol.pk for ol in OrderLine.objects.filter(order=order)}
    mark_lines_ready(order=order, order_line_ids=[line[mittens.pk]])
    code = pickup_of(order).code
    staff = [StoreManagerFactory(stores=[store]) for _ in range(STAFF)]
    barrier = threading.Barrier(STAFF + 1, timeout=30)
    outcomes = []

    def hand_over(member):
        try:
            barrier.wait()
            # when each of them hands over the ready part with the shopper's code
            handed = handover.hand_over(order=order, code=code, by=member)
            outcomes.append(("handed", handed.value))
        except Exception as error:  # noqa: BLE001 — what each refused one saw is the point
            outcomes.append(("refused", type(error).__name__))
        finally:
            connection.close()

    def mark_hat_ready():
        try:
            barrier.wait()
            # while another marks the hat ready
            mark_lines_ready(order=order, order_line_ids=[line[hat.pk]])
        finally:
            connection.close()

    threads = [threading.Thread(target=hand_over, args=(member,)) for member in staff]
    threads.append(threading.Thread(target=mark_hat_ready))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then every hand-over handed over only lines that were ready, each unit once
    handed = [value for outcome, value in outcomes if outcome == "handed"]
    assert len(outcomes) == STAFF
    assert 1 <= len(handed) <= 2
    assert all(outcome == ("refused", "NotReady") for outcome in outcomes if outcome[0] == "refused")
    taken = dict(
        FulfilmentLine.objects.filter(fulfilment__order=order, handed_over__isnull=False).values_list(
            "order_line__product_id", "handed_over"
        )
    )
    assert taken.get(sweater.pk) is None  # never ready, never handed over
    assert taken[mittens.pk] == 2
    assert sum(handed) == Decimal("7980") + (Decimal("2990") if hat.pk in taken else 0)
    levels = dict(StockLevel.objects.filter(store=store).values_list("product_id", "on_hand"))
    assert levels[mittens.pk] == 3 and levels[sweater.pk] == 5
    payment.refresh_from_db()
    assert payment.captured_amount == sum(handed)
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    assert check_integrity().ok
