"""Pickup time slots: laid out from opening hours in the store's time zone, offered while free."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.db.models import Count

from catalog.tests.factories import ProductFactory
from orders.models import CancelReason, FulfilmentStatus, OrderStatus
from orders.services import OrderError, cancel_order
from orders.tests.factories import place_order
from pickup import slots
from pickup.models import Pickup, PickupSlot
from pickup.selectors import pickup_of
from pickup.slots import SlotFull, SlotUnavailable, available_slots, book_slot, slot_grid
from pickup.tests.factories import PickupSettingsFactory
from stores.models import OpeningHours, SpecialOpeningHours, Store
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")


def local(zone, *args):
    return datetime.datetime(*args, tzinfo=zone)


def oslo_store(**rules):
    store = StoreFactory(name="Karl Johan", city="Oslo", country="NO", time_zone="Europe/Oslo", open_every_day=False)
    OpeningHours.objects.bulk_create(
        OpeningHours(store=store, weekday=day, opens=datetime.time(10), closes=datetime.time(12)) for day in range(6)
    )  # Monday to Saturday 10–12, closed on Sunday
    PickupSettingsFactory(store=store, **rules)
    return store


def starts(slots, zone):
    return [slot.starts_at.astimezone(zone).strftime("%a %H:%M") for slot in slots]


def test_slots_follow_opening_hours_in_store_time_after_the_lead_time():
    # given a store open 10–12 in Oslo, 30-minute slots, a 60-minute lead time, 2 days ahead
    store = oslo_store(slot_minutes=30, lead_time_minutes=60, days_ahead=2)

    # when a shopper checks out at 09:45 Oslo time on a Saturday
    now = local(OSLO, 2026, 11, 21, 9, 45)
    slots = available_slots(store, now=now)

    # then the first slot is 11:00 (10:45 is off the grid), the last ends at closing, and
    # Sunday (closed) offers nothing
    assert starts(slots, OSLO) == ["Sat 11:00", "Sat 11:30"]
    assert slots[-1].ends_at == local(OSLO, 2026, 11, 21, 12, 0)


def test_slots_keep_local_times_across_the_dst_change():
    # given an Oslo store and the night clocks go back (Sunday 25 October 2026)
    store = oslo_store(slot_minutes=60, lead_time_minutes=0, days_ahead=3)
    OpeningHours.objects.create(store=store, weekday=6, opens=datetime.time(10), closes=datetime.time(12))

    # when slots are laid out from Saturday morning
    grid = slot_grid(store, now=local(OSLO, 2026, 10, 24, 8, 0))

    # then every day's slots start at 10:00 and 11:00 local, though UTC moved by an hour
    local_starts = [start.astimezone(OSLO).strftime("%a %H:%M") for start, _end in grid]
    assert local_starts == ["Sat 10:00", "Sat 11:00", "Sun 10:00", "Sun 11:00", "Mon 10:00", "Mon 11:00"]
    first_utc_hour = {}
    for start, _end in grid:
        first_utc_hour.setdefault(start.strftime("%a"), start.hour)
    assert first_utc_hour == {"Sat": 8, "Sun": 9, "Mon": 9}  # CEST (UTC+2), then CET (UTC+1)


def test_a_slot_in_a_dst_gap_is_not_offered():
    # given a store open through the night the clocks go forward (Sunday 29 March 2026, 02:00 → 03:00)
    store = StoreFactory(time_zone="Europe/Oslo", open_every_day=False)
    OpeningHours.objects.create(store=store, weekday=6, opens=datetime.time(1), closes=datetime.time(4))
    PickupSettingsFactory(store=store, slot_minutes=60, lead_time_minutes=0, days_ahead=1)

    grid = slot_grid(store, now=local(OSLO, 2026, 3, 29, 0, 30))

    # then 02:00 (which does not exist that night) is skipped
    assert [start.astimezone(OSLO).strftime("%H:%M") for start, _end in grid] == ["01:00", "03:00"]


def test_full_slots_are_not_offered_and_cancelled_orders_free_their_place():
    # given a slot that takes 2 orders, booked twice
    store = oslo_store(slot_minutes=30, lead_time_minutes=0, days_ahead=1, orders_per_slot=2)
    sweater = ProductFactory()
    StockLevelFactory(store=store, product=sweater, on_hand=10)
    now = local(OSLO, 2026, 11, 21, 9, 0)
    first = available_slots(store, now=now)[0]
    placed = [place_order(store=store, products_and_quantities=[(sweater, 1)]) for _ in range(2)]
    Pickup.objects.filter(fulfilment__order__in=placed).update(slot_start=first.starts_at, slot_end=first.ends_at)

    # then it is no longer offered, and booking it is refused
    assert first.starts_at not in [slot.starts_at for slot in available_slots(store, now=now)]
    with pytest.raises(SlotFull), transaction.atomic():
        book_slot(store=store, starts_at=first.starts_at, now=now)

    # when one of the orders is cancelled, its place is free again
    cancel_order(order=placed[0], reason=CancelReason.STORE)
    assert available_slots(store, now=now)[0].starts_at == first.starts_at
    assert available_slots(store, now=now)[0].remaining == 1


def test_past_and_closed_hours_slots_are_refused():
    store = oslo_store(slot_minutes=30, lead_time_minutes=60, days_ahead=2)
    now = local(OSLO, 2026, 11, 21, 10, 40)
    for refused in (
        local(OSLO, 2026, 11, 21, 10, 0),  # past
        local(OSLO, 2026, 11, 21, 11, 0),  # inside the lead time
        local(OSLO, 2026, 11, 21, 14, 0),  # after closing
        local(OSLO, 2026, 11, 22, 10, 0),  # Sunday, closed
        local(OSLO, 2026, 11, 23, 10, 15),  # off the grid
    ):
        with pytest.raises(SlotUnavailable), transaction.atomic():
            book_slot(store=store, starts_at=refused.astimezone(datetime.UTC), now=now)


def test_the_order_keeps_the_slot_it_booked(monkeypatch):
    store = StoreFactory()
    sweater = ProductFactory()
    StockLevelFactory(store=store, product=sweater, on_hand=3)
    slot = available_slots(store)[0]
    order = place_order(store=store, products_and_quantities=[(sweater, 1)], pickup_slot=slot.starts_at)
    assert (pickup_of(order).slot_start, pickup_of(order).slot_end) == (slot.starts_at, slot.ends_at)
    assert order.status == OrderStatus.PLACED


def test_a_slot_no_longer_offered_refuses_the_order_and_reserves_nothing():
    store = StoreFactory()
    sweater = ProductFactory()
    level = StockLevelFactory(store=store, product=sweater, on_hand=3)
    yesterday = available_slots(store)[0].starts_at - datetime.timedelta(days=1)
    with pytest.raises(OrderError, match="no longer offered"):
        place_order(store=store, products_and_quantities=[(sweater, 1)], pickup_slot=yesterday)
    level.refresh_from_db()
    assert level.reserved == 0


def test_the_booked_counts_are_the_ones_the_orm_counts():
    # given a store's pickups in three slots (one of them cancelled, one without a time), and
    # another store's pickup in the same slot
    store = oslo_store(slot_minutes=30, lead_time_minutes=0, days_ahead=2, orders_per_slot=5)
    other = oslo_store(slot_minutes=30, lead_time_minutes=0, days_ahead=2)
    sweater = ProductFactory()
    StockLevelFactory(store=store, product=sweater, on_hand=10)
    StockLevelFactory(store=other, product=sweater, on_hand=10)
    now = local(OSLO, 2026, 11, 21, 9, 0)
    grid = [starts for starts, _ends in slot_grid(store, now=now)]
    placed = [place_order(store=store, products_and_quantities=[(sweater, 1)]) for _ in range(5)]
    for order, starts in zip(placed, [grid[0], grid[0], grid[1], grid[-1], None], strict=True):
        Pickup.objects.filter(fulfilment__order=order).update(slot_start=starts)
    cancel_order(order=placed[1], reason=CancelReason.STORE)
    elsewhere = place_order(store=other, products_and_quantities=[(sweater, 1)])
    Pickup.objects.filter(fulfilment__order=elsewhere).update(slot_start=grid[0])

    def as_the_orm_counts(starts):
        return dict(
            Pickup.objects.filter(store=store, slot_start__gte=min(starts), slot_start__lte=max(starts))
            .exclude(fulfilment__status=FulfilmentStatus.CANCELLED)
            .values("slot_start")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("slot_start", "n")
        )

    # then the statement written by hand counts as the ORM's does, for every range of starts
    for starts in ([grid[0]], [grid[1]], grid[:2], grid[1:], grid, [grid[2]], [grid[-1]]):
        assert slots._booked_counts(store, starts) == as_the_orm_counts(starts)
    assert slots._booked_counts(store, grid) == {grid[0]: 1, grid[1]: 1, grid[-1]: 1}
    assert slots._booked_counts(store, []) == {}


def test_the_special_dates_read_for_a_store_are_the_orms():
    # given a store's special dates (closed, shorter hours, a reason in two languages), one before
    # and one after the days asked for, and another store's on a day asked for
    store, other = oslo_store(), oslo_store()
    first = datetime.date(2026, 12, 20)
    SpecialOpeningHours.objects.create(store=store, date=first, reason_en="Stock-taking", reason_nb="Varetelling")
    SpecialOpeningHours.objects.create(
        store=store, date=datetime.date(2026, 12, 24), opens=datetime.time(10), closes=datetime.time(13, 30)
    )
    SpecialOpeningHours.objects.create(store=store, date=datetime.date(2026, 12, 19), reason_en="Before")
    SpecialOpeningHours.objects.create(store=store, date=datetime.date(2026, 12, 28), reason_en="After")
    SpecialOpeningHours.objects.create(store=other, date=datetime.date(2026, 12, 21), reason_en="Elsewhere")
    last = datetime.date(2026, 12, 27)

    # when they are read for the days asked for, then they are what the ORM reads, in the same types
    read = list(SpecialOpeningHours.objects.filter(store_id=store.pk, date__gte=first, date__lte=last))
    found = slots._special_hours_between(store, first, last)
    names = [field.attname for field in SpecialOpeningHours._meta.concrete_fields]
    assert [[getattr(row, name) for name in names] for row in found] == [
        [getattr(row, name) for name in names] for row in read
    ]
    assert [[type(getattr(row, name)) for name in names] for row in found] == [
        [type(getattr(row, name)) for name in names] for row in read
    ]
    assert len(found) == 2


def test_the_opening_hours_read_for_a_store_are_the_orms():
    # given a store open in two intervals on some days, and another store
    store, other = oslo_store(), oslo_store()
    OpeningHours.objects.create(store=store, weekday=0, opens=datetime.time(14, 30), closes=datetime.time(18))
    OpeningHours.objects.create(store=other, weekday=0, opens=datetime.time(8), closes=datetime.time(9))

    # when they are read for laying out its times, then they are what the ORM reads, in its order and types
    read = list(OpeningHours.objects.filter(store_id=store.pk))
    found = slots._opening_hours(Store.objects.get(pk=store.pk))
    names = [field.attname for field in OpeningHours._meta.concrete_fields]
    assert [[getattr(row, name) for name in names] for row in found] == [
        [getattr(row, name) for name in names] for row in read
    ]
    assert [[type(getattr(row, name)) for name in names] for row in found] == [
        [type(getattr(row, name)) for name in names] for row in read
    ]
    assert len(found) == 7


def test_booking_creates_the_slot_rows_it_locks_once():
    # given a store with one slot row already made by an earlier booking
    store = oslo_store(slot_minutes=30, lead_time_minutes=0, days_ahead=2)
    grid = [starts for starts, _ends in slot_grid(store, now=local(OSLO, 2026, 11, 21, 9, 0))]
    PickupSlot.objects.create(store=store, starts_at=grid[1])

    # when the first three are locked for a booking, twice
    for _ in range(2):
        with transaction.atomic():
            slots._lock_slot_rows(store, grid[:3])

    # then each has one row, the earlier one kept
    assert sorted(PickupSlot.objects.filter(store=store).values_list("starts_at", flat=True)) == grid[:3]
