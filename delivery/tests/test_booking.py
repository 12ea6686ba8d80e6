"""Booking a delivery window: what is refused and why, capacity over overlapping windows, and
deliveries keeping their fee and window when the zone changes or goes."""

import datetime
from dataclasses import astuple
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from catalog.tests.factories import ProductFactory
from delivery.models import Delivery, DeliveryWindow, DeliveryZone
from delivery.selectors import PostcodeProblem, ZoneRule, delivery_options, forget_directory
from delivery.services import (
    DeliveryAddress,
    DeliveryUnavailable,
    WindowFull,
    WindowUnavailable,
    _booked,
    book_window,
    create_delivery,
    store_delivery_rules,
)
from delivery.tests.factories import DeliveryWindowFactory, DeliveryZoneFactory, evening_windows, next_monday
from delivery.windows import Window, WindowRule
from orders.models import CancelReason, FulfilmentMethod, FulfilmentStatus
from orders.services import Contact, LineSpec, cancel_order, create_order
from stores import services as stock
from stores.models import SpecialOpeningHours
from stores.tests.factories import PostcodeLocationFactory, StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

HOME = DeliveryAddress(
    street="Bergstaðastræti 12", postcode="101", city="Reykjavík", country="IS", phone="+354 555 1234"
)


@pytest.fixture
def store():
    PostcodeLocationFactory(country="IS", postcode="101")
    PostcodeLocationFactory(country="NO", postcode="0150", place_name="Oslo")
    laugavegur = StoreFactory(name="Laugavegur")
    DeliveryZoneFactory(store=laugavegur, name="Miðbær", postcodes="101-108", fee=Decimal("990"))
    evening_windows(laugavegur, capacity=2)
    return laugavegur


def deliver(*, store, starts_at, now, address=HOME, order_value=Decimal("4990")):
    """A whole delivery checkout: book, place the order, keep the delivery details."""
    product = ProductFactory(price=order_value)
    StockLevelFactory(store=store, product=product, on_hand=1)
    with transaction.atomic():
        # The window first, then the stock: the order every checkout takes its locks in.
        booking = book_window(store=store, address=address, starts_at=starts_at, order_value=order_value, now=now)
        stock.reserve_stock(store=store, quantities={product.pk: 1})
        placed = create_order(
            lines=[LineSpec(product=product, quantity=1)],
            store=store,
            contact=Contact(name="Anna", email="anna@example.com", phone=address.phone),
            method=FulfilmentMethod.LOCAL_DELIVERY,
        )
        return create_delivery(fulfilment=placed.fulfilment, booking=booking, address=address)


def test_a_booked_window_is_kept_on_the_delivery_with_the_zones_fee(store):
    now = next_monday(10)
    delivery = deliver(store=store, starts_at=now.replace(hour=17), now=now)
    delivery.refresh_from_db()
    assert (delivery.window_start, delivery.window_end) == (now.replace(hour=17), now.replace(hour=19))
    assert delivery.fee == Decimal("990")
    assert delivery.zone_name == "Miðbær"
    assert (delivery.street, delivery.postcode, delivery.city, delivery.country) == (
        "Bergstaðastræti 12",
        "101",
        "Reykjavík",
        "IS",
    )
    assert delivery.latitude is not None


def test_a_full_window_is_refused_and_nothing_is_placed(store):
    now = next_monday(10)
    deliver(store=store, starts_at=now.replace(hour=17), now=now)
    deliver(store=store, starts_at=now.replace(hour=17), now=now)
    with pytest.raises(WindowFull, match="has just been fully booked"):
        deliver(store=store, starts_at=now.replace(hour=17), now=now)
    assert Delivery.objects.count() == 2
    # and the lookup no longer offers it
    (option,) = delivery_options(postcode="101", country="IS", now=now).options
    assert option.earliest.starts_at == now.replace(hour=17) + datetime.timedelta(days=1)


def test_a_cancelled_delivery_gives_its_place_back(store):
    now = next_monday(10)
    first = deliver(store=store, starts_at=now.replace(hour=17), now=now)
    deliver(store=store, starts_at=now.replace(hour=17), now=now)
    cancel_order(order=first.fulfilment.order, reason=CancelReason.STORE)
    deliver(store=store, starts_at=now.replace(hour=17), now=now)
    assert Delivery.objects.count() == 3


def test_capacity_counts_overlapping_windows_not_equal_starts(store):
    # given Monday 17:00-19:00 holding two orders, and then a Monday 18:00-20:00 window added
    now = next_monday(10)
    deliver(store=store, starts_at=now.replace(hour=17), now=now)
    deliver(store=store, starts_at=now.replace(hour=17), now=now)
    DeliveryWindowFactory(store=store, weekday=0, starts=datetime.time(18), ends=datetime.time(20), capacity=2)

    # then 18:00-20:00 is full too (the van is out with two orders then), and the lookup agrees
    with pytest.raises(WindowFull):
        deliver(store=store, starts_at=now.replace(hour=18), now=now)
    forget_directory()
    (option,) = delivery_options(postcode="101", country="IS", now=now).options
    assert now.replace(hour=18) not in [window.starts_at for window in option.windows]

    # and a window touching but not overlapping (19:00-21:00) is free
    DeliveryWindowFactory(store=store, weekday=0, starts=datetime.time(19), ends=datetime.time(21), capacity=2)
    deliver(store=store, starts_at=now.replace(hour=19), now=now)


def test_a_window_changed_under_booked_orders_still_counts_them(store):
    now = next_monday(10)
    deliver(store=store, starts_at=now.replace(hour=17), now=now)
    deliver(store=store, starts_at=now.replace(hour=17), now=now)
    DeliveryWindow.objects.filter(store=store, weekday=0).update(
        starts=datetime.time(17, 30), ends=datetime.time(19, 30)
    )
    with pytest.raises(WindowFull):
        deliver(store=store, starts_at=now.replace(hour=17, minute=30), now=now)


def test_a_zone_changed_or_deleted_under_orders_leaves_their_fee_and_window(store):
    now = next_monday(10)
    delivery = deliver(store=store, starts_at=now.replace(hour=17), now=now)
    zone = store.delivery_zones.get()
    zone.fee = Decimal("2990")
    zone.name = "Renamed"
    zone.save()
    DeliveryWindow.objects.filter(store=store).delete()
    zone.delete()

    delivery.refresh_from_db()
    assert delivery.zone_id is None
    assert (delivery.fee, delivery.zone_name) == (Decimal("990"), "Miðbær")
    assert (delivery.window_start, delivery.window_end) == (now.replace(hour=17), now.replace(hour=19))
    # and a new delivery there is refused: the store no longer delivers to 101
    with pytest.raises(DeliveryUnavailable, match="does not deliver to 101"):
        deliver(store=store, starts_at=now.replace(hour=17), now=now)


@pytest.mark.parametrize(
    ("starts_at", "message"),
    [
        (lambda now: now.replace(hour=9), "That delivery window has already begun."),
        (lambda now: now - datetime.timedelta(days=1), "That delivery window has already begun."),
        (
            lambda now: now.replace(hour=17) + datetime.timedelta(days=7),
            "Laugavegur takes delivery orders for the next 7 days only.",
        ),
        (lambda now: now.replace(hour=17) + datetime.timedelta(days=60), "for the next 7 days only"),
        (lambda now: now.replace(hour=12), "does not deliver at that time"),
        (lambda now: now.replace(hour=17, minute=1), "does not deliver at that time"),
    ],
)
def test_a_window_not_offered_is_refused_saying_why(store, starts_at, message):
    now = next_monday(10)
    with pytest.raises(WindowUnavailable, match=message):
        deliver(store=store, starts_at=starts_at(now), now=now)
    assert not Delivery.objects.exists()


def test_a_window_after_its_cut_off_is_refused(store):
    now = next_monday(15, 1)
    with pytest.raises(WindowUnavailable, match="no longer taken"):
        deliver(store=store, starts_at=now.replace(hour=17, minute=0), now=now)


def test_no_delivery_on_the_stores_closed_day(store):
    now = next_monday(10)
    tuesday = now.date() + datetime.timedelta(days=1)
    SpecialOpeningHours.objects.create(store=store, date=tuesday, reason="Stock-taking")
    with pytest.raises(WindowUnavailable, match="is closed on"):
        deliver(store=store, starts_at=now.replace(hour=17) + datetime.timedelta(days=1), now=now)


@pytest.mark.parametrize(
    ("postcode", "country", "message"),
    [
        ("", "IS", "Enter the postcode"),
        ("1O1", "IS", "is not an Icelandic postcode"),
        ("0150", "IS", "is a postcode in Norway"),
    ],
)
def test_a_bad_address_is_refused_before_anything_is_booked(store, postcode, country, message):
    now = next_monday(10)
    address = DeliveryAddress(
        street="Bergstaðastræti 12", postcode=postcode, city="Reykjavík", country=country, phone="1"
    )
    with pytest.raises(PostcodeProblem, match=message):
        deliver(store=store, starts_at=now.replace(hour=17), now=now, address=address)
    assert not Delivery.objects.exists()


def test_an_order_below_the_minimum_is_refused(store):
    store.delivery_zones.update(minimum_order=Decimal("5000"))
    now = next_monday(10)
    with pytest.raises(DeliveryUnavailable, match="for orders of"):
        deliver(store=store, starts_at=now.replace(hour=17), now=now, order_value=Decimal("4990"))


def test_booking_locks_the_days_round_and_not_the_stores_row(store):
    # given a window with room
    now = next_monday(10)

    # when a checkout books it
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        book_window(store=store, address=HOME, starts_at=now.replace(hour=17), order_value=Decimal("4990"), now=now)

    # then the one row locked is the round's: a lock on the store's row (a join through the round's
    # ordering) made two checkouts of the store deadlock at commit, one needing the store's row
    # for its foreign keys while holding the stock rows the other waited for
    # (tried once before the day's first booking makes the row, and again after)
    locking = [query["sql"] for query in captured.captured_queries if "FOR UPDATE" in query["sql"]]
    assert len(locking) == 2
    assert all('"delivery_deliveryround"' in sql and '"stores_store"' not in sql for sql in locking), locking


def test_the_rules_a_booking_reads_are_the_orms(store, django_assert_num_queries):
    # given a zone by distance with a minimum and free delivery, one switched off, a window with
    # an early cut-off, closed dates near and far and a day open on special hours, and another
    # store's zone, window and closed date
    DeliveryZoneFactory(
        store=store,
        name="Around",
        kind="radius",
        postcodes="",
        radius_km=Decimal("12.5"),
        fee=Decimal("1490.00"),
        free_above=Decimal("20000"),
        minimum_order=Decimal("3000"),
        lead_time_minutes=45,
        days_ahead=3,
    )
    DeliveryZoneFactory(store=store, name="Off", is_active=False)
    DeliveryWindowFactory(
        store=store, weekday=2, starts=datetime.time(9, 30), ends=datetime.time(11), cutoff=datetime.time(7)
    )
    today = datetime.date(2026, 12, 7)
    for days, opens in ((0, None), (4, None), (30, None), (31, None), (-1, None), (2, datetime.time(12))):
        SpecialOpeningHours.objects.create(
            store=store,
            date=today + datetime.timedelta(days=days),
            opens=opens,
            closes=datetime.time(16) if opens else None,
        )
    other = StoreFactory(name="Kringlan")
    DeliveryZoneFactory(store=other)
    DeliveryWindowFactory(store=other, weekday=4)
    SpecialOpeningHours.objects.create(store=other, date=today + datetime.timedelta(days=1))

    # when a booking reads them
    with django_assert_num_queries(3):
        rules = store_delivery_rules(store, today=today)

    # then the zones, windows and closed dates are the ORM's
    assert sorted(rules.zones, key=lambda zone: zone.zone_id) == [
        ZoneRule.of(zone, country=store.country)
        for zone in DeliveryZone.objects.filter(store=store, is_active=True).order_by("pk")
    ]
    assert sorted(rules.windows, key=astuple) == sorted(
        (
            WindowRule(window.weekday, window.starts, window.ends, window.cutoff, window.capacity)
            for window in DeliveryWindow.objects.filter(store=store)
        ),
        key=astuple,
    )
    assert rules.closed == {today, today + datetime.timedelta(days=4), today + datetime.timedelta(days=30)}
    assert [type(value) for zone in rules.zones for value in (zone.fee, zone.minimum_order)] == [Decimal] * 4


def test_the_window_counted_is_the_orms(store):
    # given deliveries in the window, overlapping it, next to it, cancelled, and at another store
    now = next_monday(10)
    evening = now.replace(hour=17)
    deliver(store=store, starts_at=evening, now=now)
    cancelled = deliver(store=store, starts_at=evening, now=now)
    cancel_order(order=cancelled.fulfilment.order, reason=CancelReason.SHOPPER)
    DeliveryWindowFactory(store=store, weekday=0, starts=datetime.time(18), ends=datetime.time(20), capacity=5)
    deliver(store=store, starts_at=now.replace(hour=18), now=now)
    DeliveryWindowFactory(store=store, weekday=0, starts=datetime.time(19), ends=datetime.time(21), capacity=5)
    deliver(store=store, starts_at=now.replace(hour=19), now=now)
    other = StoreFactory(name="Kringlan")
    DeliveryZoneFactory(store=other, postcodes="101-108")
    evening_windows(other)
    deliver(store=other, starts_at=evening, now=now)

    for starts, ends in ((17, 19), (18, 20), (19, 21), (12, 14)):
        window = Window(starts_at=now.replace(hour=starts), ends_at=now.replace(hour=ends), cutoff_at=now, capacity=9)
        # when a booking counts the window, then it counts what the ORM counts
        expected = (
            Delivery.objects.filter(store=store, window_start__lt=window.ends_at, window_end__gt=window.starts_at)
            .exclude(fulfilment__status=FulfilmentStatus.CANCELLED)
            .count()
        )
        assert _booked(store, window) == expected
    assert [_booked(store, Window(now.replace(hour=h), now.replace(hour=h + 2), now, 9)) for h in (17, 18, 19, 12)] == [
        2,
        3,
        2,
        0,
    ]
