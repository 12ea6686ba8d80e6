"""bench/seed.py's stock rows and bench/many_orders.py's year of orders are made in bulk inside
PostgreSQL with the tables' indexes dropped and built again: every row is there and consistent,
the indexes and unique constraints come back, and the shop's own code goes on writing after them.
And `bench/run --large` compares its p95s with a 3-million-row run's (bench/__main__.py)."""

import datetime
import json
import random
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.db.models import Count, F, Sum
from django.utils import timezone

import bench.__main__ as bench_main
from analytics.models import DailyStoreFigures
from bench import many_orders
from bench import seed as seeding
from bench.__main__ import GROWTH_P95_RATIO_MAX, find_baseline, growth, growth_lines, verdicts
from catalog.tests.factories import ProductFactory
from instore.models import SaleAttribution, ShelfScan
from orders.models import (
    FULFILMENT_STATUS_OF_ORDER,
    Channel,
    Fulfilment,
    FulfilmentLine,
    FulfilmentMethod,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
)
from pickup.models import CurbsideVisit, Pickup
from returns.models import Return
from stores.models import StockLevel
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.postgres


def _indexes(table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY indexname", [table])
        return cursor.fetchall()


def test_the_stock_rows_are_every_store_times_every_product_with_the_indexes_back(require_postgres, db):
    # given three stores and seven products
    stores = [StoreFactory() for _ in range(3)]
    products = [ProductFactory() for _ in range(7)]
    indexes_before = _indexes(StockLevel._meta.db_table)

    # when the bench makes their stock rows
    rows = seeding._stock(stores, products, random.Random(1))

    # then there is one row per store × product, the hot ones with HOT_UNITS, none reserved
    assert rows == 21
    assert StockLevel.objects.count() == 21
    assert StockLevel.objects.values("store", "product").distinct().count() == 21
    hot = StockLevel.objects.filter(
        store__in=stores[: seeding.HOT_STORES], product__in=products[: seeding.HOT_PRODUCTS]
    )
    assert set(hot.values_list("on_hand", flat=True)) == {seeding.HOT_UNITS}
    assert all(0 <= level.on_hand < 40 for level in StockLevel.objects.exclude(pk__in=hot))
    assert not StockLevel.objects.filter(reserved__gt=0).exists()
    # and the same indexes and unique constraint as before, which hold again
    assert _indexes(StockLevel._meta.db_table) == indexes_before
    with pytest.raises(Exception, match="stock_level_unique_store_product"):
        StockLevel.objects.create(store=stores[0], product=products[0], on_hand=1)


def test_a_year_of_orders_is_consistent_in_every_channel_method_and_status(require_postgres, db):
    # given the bench's stores and products
    stores = [StoreFactory(country="IS"), StoreFactory(country="NO", time_zone="Europe/Oslo")]
    for n in range(5):
        ProductFactory(price=Decimal(1000 * (n + 1)))
    tables = [
        model._meta.db_table
        for model in (Order, OrderLine, Fulfilment, FulfilmentLine, OrderEvent, Pickup, Return, ShelfScan)
    ]
    indexes_before = {table: _indexes(table) for table in tables}

    # when 2 000 orders are seeded
    seeded = many_orders.seed_orders(2_000, days=365, rng=random.Random(3))

    # then there are 2 000 orders, each with lines adding up to its total and one fulfilment
    assert seeded.orders == Order.objects.count() == 2_000
    assert seeded.lines == OrderLine.objects.count() >= 2_000
    assert seeded.fulfilments == Fulfilment.objects.count() == 2_000
    assert FulfilmentLine.objects.count() == seeded.lines
    mismatched = Order.objects.annotate(lines_total=Sum("lines__line_total")).exclude(total=F("lines_total"))
    assert not mismatched.exists()
    assert not Order.objects.annotate(parts=Count("fulfilments")).exclude(parts=1).exists()
    # in every channel, method and status, the fulfilment's status the order's
    assert set(seeded.by_channel) == set(Channel.values)
    assert set(seeded.by_status) == set(OrderStatus.values)
    assert set(Fulfilment.objects.values_list("method", flat=True)) == set(FulfilmentMethod.values)
    for fulfilment in Fulfilment.objects.select_related("order"):
        assert fulfilment.status == FULFILMENT_STATUS_OF_ORDER[fulfilment.order.status]
    assert not Order.objects.filter(channel=Channel.IN_STORE).exclude(status=OrderStatus.COLLECTED).exists()
    # the open ones placed in the last two days, all within the year
    now = timezone.now()
    handed_over = (OrderStatus.COLLECTED, OrderStatus.DELIVERED, OrderStatus.SHIPPED)
    open_statuses = [OrderStatus.AWAITING_PAYMENT, OrderStatus.PLACED, OrderStatus.READY_FOR_PICKUP]
    assert not Order.objects.filter(status__in=open_statuses, created_at__lt=now - datetime.timedelta(days=2)).exists()
    assert not Order.objects.filter(created_at__lt=now - datetime.timedelta(days=366)).exists()
    # pickups for the pickups, curbside visits for the curbside collections, with their waits
    assert Pickup.objects.count() == Fulfilment.objects.filter(method__in=["in_store", "curbside"]).count()
    came = Fulfilment.objects.filter(method="curbside", status="fulfilled")
    assert CurbsideVisit.objects.count() == seeded.curbside_visits == came.count()
    assert all(60 <= visit.wait_seconds <= 900 for visit in CurbsideVisit.objects.all())
    # returns of online orders handed over, at their store or another; shelf scans, some followed
    # by an order attributed to them
    returned = Return.objects.select_related("order")
    assert returned.count() == seeded.returns > 0
    assert all(r.order.channel != Channel.IN_STORE and r.order.status in handed_over for r in returned)
    assert all(r.received_at <= now and r.store_id for r in returned)
    assert ShelfScan.objects.count() == seeded.shelf_scans > seeded.orders_after_scan > 0
    for attribution in SaleAttribution.objects.select_related("scan", "order")[:50]:
        assert attribution.scan.store_id == attribution.order.store_id
        assert attribution.scan.scanned_at < attribution.order.created_at
    # each order's timeline starts with its placing and ends in its status, in time order
    assert seeded.events == OrderEvent.objects.count()
    for order in Order.objects.prefetch_related("events")[:300]:
        timeline = list(order.events.all())
        assert timeline[0].from_status == ""
        assert timeline[-1].to_status == order.status
        assert [event.created_at for event in timeline] == sorted(event.created_at for event in timeline)
    # and the indexes are back, and the shop's code goes on numbering rows after the seeded ones
    assert {table: _indexes(table) for table in tables} == indexes_before
    order = Order.objects.create(
        number="LATER", contact_name="A", contact_email="a@example.com", contact_phone="1", store=stores[0], total=1
    )
    assert order.pk > Order.objects.exclude(pk=order.pk).order_by("-pk").first().pk


def _report(*, product_ms, search_ms, locator_ms, checkout_ms, products=10_000, stores=300):
    return {
        "size": {"products": products, "stores": stores},
        "stock_rows": products * stores,
        "pages": {
            "product page": {"p95_ms": product_ms},
            "search": {"p95_ms": search_ms},
            "store locator": {"p95_ms": locator_ms},
            "home": {"p95_ms": 1.0},
        },
        "rush": [{"p95_ms": ms} for ms in checkout_ms],
    }


def test_growth_passes_within_twenty_per_cent_and_fails_beyond():
    # given a 3-million-row run and a large one
    baseline = _report(product_ms=10.0, search_ms=20.0, locator_ms=5.0, checkout_ms=[100.0, 200.0, 150.0])
    large = _report(
        product_ms=10.0 * GROWTH_P95_RATIO_MAX,
        search_ms=25.0,
        locator_ms=4.0,
        checkout_ms=[170.0, 190.0, 500.0],
        products=30_000,
        stores=1_000,
    )

    # when they are compared
    found = growth(large, baseline)

    # then each figure is the large p95 beside the baseline's, checkout the rounds' median
    assert found["product page"] == {"baseline_ms": 10.0, "large_ms": 12.0, "ratio": 1.2, "ok": True}
    assert found["search"]["ok"] is False and found["search"]["ratio"] == 1.25
    assert found["store locator"]["ok"] is True
    assert found["checkout"] == {"baseline_ms": 150.0, "large_ms": 190.0, "ratio": 190.0 / 150.0, "ok": False}
    assert "home" not in found
    # and the table and the verdicts carry them
    report = {"growth": found, "stock_rows": 30_000_000, "baseline": {"file": "base.json", "stock_rows": 3_000_000}}
    lines = growth_lines(report)
    assert lines[0].startswith("growth: 30000000 stock rows beside the 3000000 of base.json")
    assert lines[2].split() == ["product", "page", "10.00", "12.00", "1.20", "PASS"]
    assert lines[-1].split() == ["checkout", "150.00", "190.00", "1.27", "FAIL"]
    assert growth_lines({}) == []
    judged = verdicts({"growth": found})
    assert [ok for name, ok in judged.items() if name.startswith("growth: search")] == [False]
    assert [ok for name, ok in judged.items() if name.startswith("growth: product page")] == [True]


def test_the_baseline_is_the_newest_run_at_the_default_size(tmp_path):
    # given an older default-size run, a newer small one, a newer large one and a broken file
    (tmp_path / "20261130T100000Z.json").write_text(
        json.dumps(_report(product_ms=1, search_ms=1, locator_ms=1, checkout_ms=[1]))
    )
    (tmp_path / "20261130T110000Z.json").write_text(
        json.dumps(_report(product_ms=2, search_ms=2, locator_ms=2, checkout_ms=[2]))
    )
    small = _report(product_ms=3, search_ms=3, locator_ms=3, checkout_ms=[3], products=1_000, stores=30)
    (tmp_path / "20261130T120000Z-small.json").write_text(json.dumps(small))
    large = _report(product_ms=4, search_ms=4, locator_ms=4, checkout_ms=[4], products=30_000, stores=1_000)
    (tmp_path / "20261130T130000Z-large.json").write_text(json.dumps(large))
    (tmp_path / "20261130T140000Z.json").write_text("{not json")

    # then the newest default-size run is the baseline; none when there is none
    assert find_baseline(tmp_path) == tmp_path / "20261130T110000Z.json"
    assert find_baseline(tmp_path / "nothing") is None


def test_the_analytics_part_seeds_rolls_up_and_times_the_dashboard(require_postgres, db, monkeypatch, settings):
    # given the bench's stores and products, and two requests per dashboard view
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    for number in range(2):
        StoreFactory(slug=f"bench-store-{number:05d}")
    for _ in range(3):
        ProductFactory()
    monkeypatch.setattr(bench_main, "DASHBOARD_REQUESTS", 2)

    # when the analytics part runs for 400 orders
    figures = bench_main.measure_analytics(SimpleNamespace(orders=400))

    # then it seeded them, rolled up a year for both stores and timed each view of the dashboard
    assert figures["orders"] == Order.objects.count() == 400
    assert figures["roll_up"]["rows"] == 2 * bench_main.ANALYTICS_DAYS
    assert DailyStoreFigures.objects.count() == 2 * bench_main.ANALYTICS_DAYS
    placed = Order.objects.exclude(status=OrderStatus.AWAITING_PAYMENT).count()
    rolled = DailyStoreFigures.objects.aggregate(
        orders=Sum("orders_web") + Sum("orders_kiosk") + Sum("orders_in_store")
    )["orders"]
    assert rolled == placed
    assert set(figures["dashboard"]) == {"chain, 28 days", "chain, a year", "one store, a year"}
    assert all(0 < timed["p50_ms"] <= timed["p95_ms"] for timed in figures["dashboard"].values())
    # and the verdicts judge them against 500 ms
    judged = verdicts({"analytics": {"dashboard": {"chain, a year": {"p95_ms": 499.0}, "x": {"p95_ms": 501.0}}}})
    assert judged == {"analytics dashboard, chain, a year": True, "analytics dashboard, x": False}
