"""bench/rush.py still places and pays for orders: it reads the checkout page and echoes its signed
checkout_token field as a browser does, double submits included, pays with the Dummy provider, and
the books reconcile. Its delivery shoppers (bench/delivery.py's zones and windows) place and pay
for deliveries into windows with few places, and no window ends up holding more than its places."""

import datetime
import random
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from payments.core import PROVIDER_CACHE

from bench import delivery as bench_delivery
from bench import rush
from bench.seed import REGIONS
from catalog.tests.factories import ProductFactory
from delivery.models import Delivery, DeliveryWindow
from delivery.selectors import forget_directory
from delivery.tests.factories import next_monday, place_delivery
from orders.models import FulfilmentMethod, Order, OrderStatus
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
        # shoppers 4 and 7 type the bench's coupon code (10 % off)
        coupon=rush.CouponRush(code=rush.bench_coupon_code(), every=3),
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
    # and the two who typed the coupon got 10 % off, each use recorded with its order
    assert [attempt.placed for attempt in result.attempts if attempt.coupon] == [True, True]
    assert rush.redemptions_since(0) == 2
    discounted = Order.objects.filter(coupon_redemptions__isnull=False)
    assert all(order.total % Decimal("22491") == 0 for order in discounted)


def test_a_small_rush_with_deliveries_fills_windows_without_overbooking_them(
    require_postgres, transactional_db, live_server, monkeypatch, settings
):
    # given two stores delivering to every Icelandic postcode of a 10 000-postcode table in windows
    # of one place each (bench.delivery.seed_delivery), and shoppers who do not dawdle
    monkeypatch.setattr(rush, "THINK_SECONDS", (0.0, 0.05))
    monkeypatch.setattr(rush, "FORM_SECONDS", (0.0, 0.05))
    monkeypatch.setattr(rush, "PAY_SECONDS", (0.0, 0.05))
    monkeypatch.setattr(bench_delivery, "RUSH_WINDOW_PLACES", 1)
    settings.PAYMENT_VARIANTS = {"dummy": ("payments.dummy.DummyProvider", {"capture": False})}
    PROVIDER_CACHE.clear()
    stores = [StoreFactory(name="Laugavegur"), StoreFactory(name="Kringlan")]
    products = [ProductFactory(name=f"Lopapeysa {n}", price=Decimal("24990")) for n in range(3)]
    for store in stores:
        for product in products:
            StockLevelFactory(store=store, product=product, on_hand=50)
    assert bench_delivery.seed_delivery(stores, hot_stores=stores, regions=REGIONS, rng=random.Random(1)) == 10_000
    forget_directory()
    store_ids, product_ids = [store.pk for store in stores], [product.pk for product in products]
    before = rush.stock_snapshot(store_ids=store_ids, product_ids=product_ids)
    address = urlsplit(live_server.url)
    # every other shopper has it delivered, each to the earliest window of one of the two stores;
    # one told their window has just filled chooses again (a refusal per order placed meanwhile)
    delivering = rush.DeliveryRush(
        store_ids=store_ids, addresses=bench_delivery.rush_addresses(stores, count=3), every=2
    )
    monkeypatch.setattr(rush, "DELIVERY_TRIES", 8)

    # when eight shoppers check out at once, two of them double-submitting a pickup
    result = rush.run_rush(
        host=address.hostname,
        port=address.port,
        products=[{"id": product.pk, "slug": product.slug} for product in products],
        store_ids=store_ids,
        shoppers=8,
        double_submitters=2,
        delivery=delivering,
    )

    # then the three delivery shoppers (3, 5, 7) each placed and paid for one delivery
    assert not result.errors, result.errors
    assert result.delivery_shoppers == 3
    delivered = [attempt for attempt in result.attempts if attempt.delivery]
    assert sum(attempt.placed for attempt in delivered) == 3
    assert {attempt.refusal for attempt in delivered if not attempt.placed} <= {"delivery window full"}
    assert Order.objects.filter(fulfilments__method=FulfilmentMethod.LOCAL_DELIVERY).count() == 3
    assert sum(attempt.paid for attempt in result.attempts) == 8
    assert not Order.objects.filter(status=OrderStatus.AWAITING_PAYMENT).exists()
    # and no window holds more than its one place, and the stock adds up for both kinds of order
    assert bench_delivery.overbooked_windows() == []
    assert Delivery.objects.values("store", "window_start").distinct().count() == 3
    oversold, mismatches, orders = rush.reconcile(
        before=before, store_ids=store_ids, product_ids=product_ids, since_order_pk=0
    )
    assert (oversold, mismatches, orders) == (0, [], 8)


def test_overbooked_windows_are_found(require_postgres, transactional_db):
    # given a rush store with two deliveries booked into Monday's 18:00 window
    store = StoreFactory(name="Laugavegur")
    bench_delivery.seed_delivery([store], hot_stores=[store], regions=REGIONS, rng=random.Random(1))
    product = ProductFactory(price=Decimal("24990"))
    StockLevelFactory(store=store, product=product, on_hand=5)
    starts_at = next_monday(18)
    for _ in range(2):
        place_delivery(
            store=store,
            products_and_quantities=[(product, 1)],
            starts_at=starts_at,
            now=starts_at - datetime.timedelta(days=1),
        )
    assert bench_delivery.overbooked_windows() == []

    # when the manager cuts its places to one under the orders booked
    DeliveryWindow.objects.filter(store=store, starts=datetime.time(18)).update(capacity=1)

    # then the bench's count names that window, and only it
    found = bench_delivery.overbooked_windows()
    assert len(found) == 1 and "holds 2 deliveries, 1 places" in found[0], found


def test_a_small_rush_with_members_using_points_places_and_pays_less(
    require_postgres, transactional_db, live_server, monkeypatch, settings
):
    # given a store with a hot product, shoppers who do not dawdle, and signed-in rewards members
    # (bench.rewards) for every fourth shopper, each using 100 points
    from bench import rewards as bench_rewards
    from rewards.models import EntryKind, RewardEntry

    monkeypatch.setattr(rush, "THINK_SECONDS", (0.0, 0.05))
    monkeypatch.setattr(rush, "FORM_SECONDS", (0.0, 0.05))
    monkeypatch.setattr(rush, "PAY_SECONDS", (0.0, 0.05))
    settings.PAYMENT_VARIANTS = {"dummy": ("payments.dummy.DummyProvider", {"capture": False})}
    PROVIDER_CACHE.clear()
    store = StoreFactory(name="Laugavegur")
    products = [ProductFactory(name=f"Lopapeysa {n}", price=Decimal("24990")) for n in range(2)]
    for product in products:
        StockLevelFactory(store=store, product=product, on_hand=50)
    members = bench_rewards.prepare_members(shoppers=8, store_id=store.pk)
    address = urlsplit(live_server.url)

    # when eight shoppers check out at once (numbers 1 and 5 are members)
    result = rush.run_rush(
        host=address.hostname,
        port=address.port,
        products=[{"id": product.pk, "slug": product.slug} for product in products],
        store_ids=[store.pk],
        shoppers=8,
        double_submitters=0,
        rewards=members,
    )

    # then all eight placed and paid; the two members each used 100 points on their order
    assert not result.errors, result.errors
    assert [(attempt.status, attempt.refusal) for attempt in result.attempts if not attempt.placed] == []
    assert sum(attempt.points for attempt in result.attempts) == 2
    assert sum(attempt.paid for attempt in result.attempts) == 8
    redeemed = (
        RewardEntry.objects.filter(kind=EntryKind.REDEEM)
        .select_related("order__customer")
        .prefetch_related("order__lines")
    )
    assert sorted(entry.points for entry in redeemed) == [Decimal("-100"), Decimal("-100")]
    for entry in redeemed:
        assert sum(line.line_total for line in entry.order.lines.all()) == entry.order.total
        assert entry.order.customer.username.startswith("rush-member-")
    # and preparing the members again (a reused database) tops nobody up twice over what is needed
    again = bench_rewards.prepare_members(shoppers=8, store_id=store.pk)
    assert len(again.sessions) == len(members.sessions) == 3
