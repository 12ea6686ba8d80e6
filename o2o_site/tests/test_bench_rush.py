"""bench/rush.py still places and pays for orders: it reads the checkout page and echoes its signed
checkout_token field as a browser does, double submits included, pays with the Dummy provider, and
the books reconcile."""

from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from payments.core import PROVIDER_CACHE

from bench import rush
from catalog.tests.factories import ProductFactory
from orders.models import Order, OrderStatus
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.postgres


def test_a_small_rush_places_orders_once_each_and_reconciles(
    require_postgres, transactional_db, live_server, monkeypatch, settings
):
    # given two stores with three hot products, and shoppers who do not dawdle
    monkeypatch.setattr(rush, "THINK_SECONDS", (0.0, 0.05))
    monkeypatch.setattr(rush, "FORM_SECONDS", (0.0, 0.05))
    monkeypatch.setattr(rush, "PAY_SECONDS", (0.0, 0.05))
    # the Dummy provider the bench's shoppers pay with (bench/run sets PAYMENT_PROVIDERS=dummy)
    settings.PAYMENT_VARIANTS = {"dummy": ("payments.dummy.DummyProvider", {"capture": False})}
    PROVIDER_CACHE.clear()
    stores = [StoreFactory(name="Laugavegur"), StoreFactory(name="Kringlan")]
    products = [ProductFactory(name=f"Lopapeysa {n}", price=Decimal("24990")) for n in range(3)]
    for store in stores:
        for product in products:
            StockLevelFactory(store=store, product=product, on_hand=50)
    store_ids, product_ids = [store.pk for store in stores], [product.pk for product in products]
    before = rush.stock_snapshot(store_ids=store_ids, product_ids=product_ids)
    address = urlsplit(live_server.url)

    # when eight shoppers check out at once, three of them double-submitting
    result = rush.run_rush(
        host=address.hostname,
        port=address.port,
        products=[{"id": product.pk, "slug": product.slug} for product in products],
        store_ids=store_ids,
        shoppers=8,
        double_submitters=3,
    )

    # then every shopper got an order, each double submit one order, and the stock adds up
    assert not result.errors, result.errors
    assert [attempt.refusal for attempt in result.attempts if not attempt.placed] == []
    assert Order.objects.count() == 8
    # and each shopper paid online once (the Dummy provider), so no order is left awaiting payment
    assert sum(attempt.paid for attempt in result.attempts) == 8
    assert [attempt.pay_seconds is not None for attempt in result.attempts].count(True) == 8
    assert not Order.objects.filter(status=OrderStatus.AWAITING_PAYMENT).exists()
    oversold, mismatches, orders = rush.reconcile(
        before=before, store_ids=store_ids, product_ids=product_ids, since_order_pk=0
    )
    assert (oversold, mismatches, orders) == (0, [], 8)
