"""Reads behind the shopper's pages: availability across stores, store listings, weekly hours."""

import datetime
from decimal import Decimal

import pytest

from catalog.tests.factories import ProductFactory
from stores.models import OpeningHours
from stores.selectors import StoreDirectory, product_availability, store_listings, weekly_hours
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

# A Sunday, 23:30 in Reykjavík and already Monday 00:30 in Oslo.
SUNDAY_2330_UTC = datetime.datetime(2026, 1, 4, 23, 30, tzinfo=datetime.UTC)


def test_availability_counts_units_on_hand_less_those_reserved_and_zero_where_never_stocked():
    # given
    product = ProductFactory()
    busy = StoreFactory(name="Busy")
    sold_out = StoreFactory(name="Sold out")
    StoreFactory(name="Never stocked")
    StockLevelFactory(store=busy, product=product, on_hand=10, reserved=4)
    StockLevelFactory(store=sold_out, product=product, on_hand=2, reserved=2)
    StockLevelFactory(store=busy, on_hand=50)  # another product's stock does not count

    # when
    rows = product_availability(product=product)

    # then
    assert [(row.store.name, row.available, row.in_stock) for row in rows] == [
        ("Busy", 6, True),
        ("Never stocked", 0, False),
        ("Sold out", 0, False),
    ]
    assert all(row.distance_km is None and not row.is_my_store for row in rows)


def test_my_store_comes_first_even_when_another_store_is_at_the_same_spot():
    # given
    product = ProductFactory()
    twin = StoreFactory(name="A twin next door", latitude=Decimal("64.1"), longitude=Decimal("-21.9"))
    mine = StoreFactory(name="Mine", latitude=Decimal("64.1"), longitude=Decimal("-21.9"))
    far = StoreFactory(name="Far", latitude=Decimal("65.0"), longitude=Decimal("-18.0"))
    StoreFactory(name="Gone", is_active=False)

    # when
    rows = product_availability(product=product, my_store=mine)

    # then
    assert [row.store for row in rows] == [mine, twin, far]
    assert [row.is_my_store for row in rows] == [True, False, False]
    assert rows[1].distance_km == 0
    assert rows[2].distance_km == pytest.approx(211.5, abs=0.1)


def test_open_now_uses_the_stores_own_clock_across_midnight():
    # given: both open 10:00–18:00 except Oslo, which also opens Monday 00:00–02:00
    StoreFactory(name="Laugavegur", time_zone="Atlantic/Reykjavik")
    oslo = StoreFactory(name="Night owl", city="Oslo", time_zone="Europe/Oslo")
    oslo.opening_hours.create(weekday=0, opens=datetime.time(0), closes=datetime.time(2))

    # when
    listings = store_listings(now=SUNDAY_2330_UTC)

    # then
    assert [(item.store.name, item.is_open) for item in listings] == [("Night owl", True), ("Laugavegur", False)]


def test_store_listings_near_a_point_are_nearest_first_and_limited():
    # given
    for km_north in (30, 10, 20):
        StoreFactory(name=f"{km_north} km", latitude=Decimal("64") + Decimal(km_north) / 111, longitude=Decimal("-21"))

    # when
    listings = store_listings(latitude=Decimal("64"), longitude=Decimal("-21"), limit=2)

    # then
    assert [item.store.name for item in listings] == ["10 km", "20 km"]
    assert [round(item.distance_km) for item in listings] == [10, 20]


def test_weekly_hours_lists_every_day_and_marks_today_in_the_stores_time_zone():
    # given
    store = StoreFactory(time_zone="Europe/Oslo", open_every_day=False)
    store.opening_hours.create(weekday=0, opens=datetime.time(14), closes=datetime.time(18))
    store.opening_hours.create(weekday=0, opens=datetime.time(9), closes=datetime.time(12))

    # when
    week = weekly_hours(store, now=SUNDAY_2330_UTC)

    # then: already Monday in Oslo
    assert [day.is_today for day in week] == [True] + [False] * 6
    assert [(i.opens.hour, i.closes.hour) for i in week[0].intervals] == [(9, 12), (14, 18)]
    assert all(day.intervals == [] for day in week[1:])


def test_open_now_is_worked_out_once_a_minute_and_right_at_each_minute(django_assert_num_queries):
    # given a store open 09:00-17:00 (Reykjavík, UTC all year) in the store directory
    dt = datetime
    store = StoreFactory(name="Laugavegur", time_zone="Atlantic/Reykjavik")
    OpeningHours.objects.filter(store=store).delete()
    monday = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    OpeningHours.objects.create(store=store, weekday=0, opens=dt.time(9), closes=dt.time(17))
    directory = StoreDirectory([store], list(OpeningHours.objects.filter(store=store)), [])

    # when asked at moments around opening and closing
    # then a minute's answer holds for all of it, and the next minute's is its own
    assert store.pk not in directory.open_now(monday.replace(hour=8, minute=59, second=59))
    assert store.pk in directory.open_now(monday.replace(hour=9, minute=0, second=0))
    assert store.pk in directory.open_now(monday.replace(hour=9, minute=0, second=59))
    assert store.pk in directory.open_now(monday.replace(hour=16, minute=59, second=30))
    assert store.pk not in directory.open_now(monday.replace(hour=17, minute=0, second=1))
    with django_assert_num_queries(0):
        directory.open_now(monday.replace(hour=12))


def test_units_at_counts_the_shown_products_and_their_active_variants_at_that_store_only(django_assert_num_queries):
    # given a plain product, a product with variants (one taken off sale) and a variant shown on
    # its own beside its product: each row counts once, to itself where it is shown on its own
    from stores.selectors import units_at

    store, other = StoreFactory(), StoreFactory()
    plain = ProductFactory()
    style = ProductFactory()
    small = ProductFactory(parent=style)
    large = ProductFactory(parent=style)
    withdrawn = ProductFactory(parent=style, is_active=False)
    never_stocked = ProductFactory()
    StockLevelFactory(store=store, product=plain, on_hand=5, reserved=2)
    StockLevelFactory(store=store, product=small, on_hand=4, reserved=1)
    StockLevelFactory(store=store, product=large, on_hand=2, reserved=0)
    StockLevelFactory(store=store, product=withdrawn, on_hand=9, reserved=0)
    StockLevelFactory(store=other, product=plain, on_hand=50, reserved=0)
    StockLevelFactory(store=other, product=small, on_hand=50, reserved=0)

    # when
    with django_assert_num_queries(1):
        units = units_at(store, [plain.pk, style.pk, large.pk, never_stocked.pk, plain.pk])

    # then
    assert units == {plain.pk: 3, style.pk: 3, large.pk: 2, never_stocked.pk: 0}
