"""Pickup time slots: which ones a store offers, and booking one at checkout.

Slots are laid out in the store's own time zone from its opening hours (zoneinfo, so a DST change
moves nothing: 10:00 local stays 10:00 local), every `slot_minutes`, each ending by closing time.
A slot is offered when it starts at least `lead_time_minutes` from now, lies within `days_ahead`
days and still has room. Its capacity is counted from the store's pickups holding it (their
fulfilment not cancelled).

Booking (inside the checkout's transaction) locks one PickupSlot row per (store, start): two
checkouts of the same slot take turns, so the count and the new order are decided one at a time
and a slot can never take more orders than its capacity, however many shoppers press at once.
"""

import datetime
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models.constants import OnConflict
from django.utils import timezone
from django.utils.translation import gettext as _

from o2o_site.rows import columns, from_row
from orders.models import Fulfilment, FulfilmentStatus
from stores.models import OpeningHours, SpecialOpeningHours, Store
from stores.opening import hours_on, specials_by_date

from .models import Pickup, PickupSettings, PickupSlot

# The checkout says how many places are left in a slot from this many down (pickup.forms).
FEW_PLACES_LEFT = 3


class SlotUnavailable(Exception):
    """A shopper-facing reason why a slot cannot be booked (full, past, outside opening hours)."""


class SlotFull(SlotUnavailable):
    pass


class NoFreeSlots(SlotUnavailable):
    """The store has no slot with room in the days it takes orders for."""


@dataclass(frozen=True)
class Slot:
    starts_at: datetime.datetime  # aware, UTC
    ends_at: datetime.datetime
    capacity: int
    booked: int

    @property
    def remaining(self):
        return max(self.capacity - self.booked, 0)

    @property
    def key(self):
        """The value a form posts for this slot: its start as an ISO 8601 UTC timestamp."""
        return self.key_of(self.starts_at)

    @staticmethod
    def key_of(starts_at: datetime.datetime) -> str:
        return starts_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%MZ")


def parse_slot_key(value: str | None) -> datetime.datetime | None:
    try:
        parsed = datetime.datetime.strptime((value or "").strip(), "%Y-%m-%dT%H:%MZ")
    except ValueError:
        return None
    return parsed.replace(tzinfo=datetime.UTC)


def _local(zone, day, at):
    """`day` at wall-clock time `at` in `zone`, or None when that time does not exist (DST gap)."""
    moment = datetime.datetime.combine(day, at, tzinfo=zone)
    round_trip = moment.astimezone(datetime.UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None) != moment.replace(tzinfo=None):
        return None
    return moment


def _opening_hours(store):
    """The store's hours: the prefetched ones when the caller prefetched them, else one query
    (every placing's: as OpeningHours.objects.filter(store_id=store.pk) reads them, in SQL
    written here, not compiled by the ORM each time, ~0.8 ms; pickup/tests/test_slots.py
    compares them)."""
    if "opening_hours" in getattr(store, "_prefetched_objects_cache", {}):
        return list(store.opening_hours.all())
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns(OpeningHours, 'h')} FROM {quote(OpeningHours._meta.db_table)} h "
            "WHERE h.store_id = %s ORDER BY h.weekday, h.opens",
            [store.pk],
        )
        rows = cursor.fetchall()
    return [from_row(OpeningHours, row) for row in rows]


def _special_hours(store, first_day, last_day):
    """The store's special dates (holidays, stock-taking) from first_day to last_day: the
    prefetched ones when the caller prefetched them, else one query."""
    if "special_hours" in getattr(store, "_prefetched_objects_cache", {}):
        specials = store.special_hours.all()
    else:
        specials = _special_hours_between(store, first_day, last_day)
    return specials_by_date(special for special in specials if first_day <= special.date <= last_day)


def _special_hours_between(store, first_day, last_day):
    """SpecialOpeningHours.objects.filter(store_id=store.pk, date__gte=first_day,
    date__lte=last_day), in SQL written here: every placing lays out its store's pickup times,
    and the ORM took ~0.8 ms to compile it (pickup/tests/test_slots.py compares them)."""
    ops, table = connection.ops, SpecialOpeningHours._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns(SpecialOpeningHours, 'h')} FROM {ops.quote_name(table)} h "
            "WHERE h.store_id = %s AND h.date >= %s AND h.date <= %s ORDER BY h.date",
            [store.pk, ops.adapt_datefield_value(first_day), ops.adapt_datefield_value(last_day)],
        )
        rows = cursor.fetchall()
    return [from_row(SpecialOpeningHours, row) for row in rows]


def slot_grid(
    store: Store,
    *,
    now: datetime.datetime | None = None,
    rules: PickupSettings | None = None,
    hours: list[OpeningHours] | None = None,
    specials: Mapping[datetime.date, SpecialOpeningHours] | None = None,
) -> list[tuple[datetime.datetime, datetime.datetime]]:
    """Every slot the rules lay out from now on (start, end), ignoring capacity, in time order.

    A day's hours are the store's week's, unless a special date (SpecialOpeningHours, by date)
    gives others or closes the store: stores.opening.hours_on."""
    found = {}
    for day in _grid_by_day(store, now=now, rules=rules, hours=hours, specials=specials):
        for starts, ends in day:
            found.setdefault(starts, ends)
    return sorted(found.items())


def _grid_by_day(store, *, now=None, rules=None, hours=None, specials=None):
    """slot_grid a day at a time, each day's slots in time order (a day's all come after the day
    before's), laid out only as far as the caller reads: booking the earliest free time needs
    the first day or two of the week, not all of it."""
    now = now or timezone.now()
    rules = rules or PickupSettings.for_store(store)
    hours = _opening_hours(store) if hours is None else hours
    zone = store.zone
    earliest = now + datetime.timedelta(minutes=rules.lead_time_minutes)
    length = datetime.timedelta(minutes=rules.slot_minutes)
    today = now.astimezone(zone).date()
    if specials is None:
        specials = _special_hours(store, today, today + datetime.timedelta(days=rules.days_ahead))
    for offset in range(rules.days_ahead):
        day = today + datetime.timedelta(days=offset)
        found = {}
        for opens, closes in hours_on(day, hours, specials):
            for starts, ends in _interval_slots(zone, day, opens, closes, length):
                if starts >= earliest:
                    found.setdefault(starts, ends)
        if found:
            yield sorted(found.items())


@functools.lru_cache(maxsize=8192)
def _interval_slots(
    zone: datetime.tzinfo, day: datetime.date, opens: datetime.time, closes: datetime.time, length: datetime.timedelta
) -> tuple[tuple[datetime.datetime, datetime.datetime], ...]:
    """The slots (start, end, in UTC) of one opening interval of one day: the same for every
    page asking that day, so worked out once per process (the checkout lists five stores with a
    week each: some 800 slots, each with two time-zone conversions, every page)."""
    slots = []
    # Walk the wall clock, not UTC: slots start at the same local times every day.
    wall = datetime.datetime.combine(day, opens)
    closing = datetime.datetime.combine(day, closes)
    while wall + length <= closing:
        starts = _local(zone, day, wall.time())
        if starts is not None:
            # The length in real time: a slot over a DST change still lasts slot_minutes.
            starts = starts.astimezone(datetime.UTC)
            slots.append((starts, starts + length))
        wall += length
    return tuple(slots)


def _booked_counts(store, starts):
    """{slot start: pickups holding it} at `store` from the first of `starts` to the last (a range
    on the (store, slot_start) index rather than a list of a week's starts), their fulfilment not
    cancelled. Booking a time counts two or three times a placing: in _booked_by_store's SQL, not
    a statement the ORM compiles each time (~0.9 ms; pickup/tests/test_slots.py compares them)."""
    if not starts:
        return {}
    return {start: n for (_store_id, start), n in _booked_by_store([store.pk], min(starts), max(starts)).items()}


def available_slots(
    store: Store, *, now: datetime.datetime | None = None, rules: PickupSettings | None = None
) -> list[Slot]:
    """The slots a shopper may choose at `store`: in opening hours, after the lead time, not full.

    Three queries (opening hours and special dates, when not prefetched, and the booked counts),
    however many slots.
    """
    rules = rules or PickupSettings.for_store(store)
    grid = slot_grid(store, now=now, rules=rules)
    booked = _booked_counts(store, [starts for starts, _ends in grid])
    slots = [
        Slot(starts_at=starts, ends_at=ends, capacity=rules.orders_per_slot, booked=booked.get(starts, 0))
        for starts, ends in grid
    ]
    return [slot for slot in slots if slot.remaining > 0]


def _special_hours_of(stores, *, now):
    """Every store's special dates in the days any of them offers slots: one query for all."""
    if not stores:
        return {}
    if all("special_hours" in getattr(store, "_prefetched_objects_cache", {}) for store in stores):
        rows = [special for store in stores for special in store.special_hours.all()]
    else:
        # A day either side: the stores' own dates differ from UTC's by a time zone.
        first_day = now.date() - datetime.timedelta(days=1)
        days = max(PickupSettings.for_store(store).days_ahead for store in stores)
        rows = SpecialOpeningHours.objects.filter(
            store__in=stores, date__gte=first_day, date__lte=first_day + datetime.timedelta(days=days + 2)
        )
    found = {}
    for special in rows:
        found.setdefault(special.store_id, {})[special.date] = special
    return found


def available_slots_by_store(stores: Iterable[Store], *, now: datetime.datetime | None = None) -> dict[int, list[Slot]]:
    """available_slots for several stores (the checkout page) with one query for the counts.

    Opening hours and pickup settings should be prefetched/selected with the stores.
    """
    stores = list(stores)
    specials_of = _special_hours_of(stores, now=now or timezone.now())
    grids, rules_of = {}, {}
    for store in stores:
        rules_of[store.pk] = PickupSettings.for_store(store)
        grids[store.pk] = slot_grid(store, now=now, rules=rules_of[store.pk], specials=specials_of.get(store.pk, {}))
    starts = {starts for grid in grids.values() for starts, _ends in grid}
    booked = _booked_by_store(list(grids), min(starts), max(starts)) if starts else {}
    found = {}
    for store_id, grid in grids.items():
        capacity, free = rules_of[store_id].orders_per_slot, []
        # Only the slots with room are made (a page's stores have some 800 slots): Slot.remaining > 0.
        for starts, ends in grid:
            taken = booked.get((store_id, starts), 0)
            if taken < capacity:
                free.append(Slot(starts, ends, capacity, taken))
        found[store_id] = free
    return found


def _booked_by_store(store_ids, first, last):
    """{(store id, slot start): orders not cancelled} of the stores' slots from `first` to `last`:
    _booked_counts for several stores, in SQL written here (every checkout page asks, and the
    ORM took ~1.5 ms to compile it; pickup/tests/test_slots_by_store.py compares them)."""
    quote = connection.ops.quote_name
    start = Pickup._meta.get_field("slot_start")
    sql = (
        f"SELECT p.store_id, p.{quote(start.column)}, COUNT(*) FROM {quote(Pickup._meta.db_table)} p "
        f"INNER JOIN {quote(Fulfilment._meta.db_table)} f ON p.fulfilment_id = f.id "
        f"WHERE p.store_id IN ({', '.join(['%s'] * len(store_ids))}) "
        f"AND p.{quote(start.column)} >= %s AND p.{quote(start.column)} <= %s AND NOT (f.status = %s) "
        "GROUP BY 1, 2"
    )
    with connection.cursor() as cursor:
        adapt = connection.ops.adapt_datetimefield_value  # as the ORM passes them (SQLite: text)
        cursor.execute(sql, [*store_ids, adapt(first), adapt(last), FulfilmentStatus.CANCELLED.value])
        rows = cursor.fetchall()
    # Converted as the ORM converts them (SQLite's datetimes are text; PostgreSQL's need nothing).
    column = start.get_col(Pickup._meta.db_table)
    converters = [*connection.ops.get_db_converters(column), *start.get_db_converters(connection)]
    found = {}
    for store_id, starts, n in rows:
        for convert in converters:
            starts = convert(starts, column, connection)
        found[(store_id, starts)] = n
    return found


def book_slot(*, store: Store, starts_at: datetime.datetime, now: datetime.datetime | None = None) -> Slot:
    """Hold a place in the slot for the order about to be created in the caller's transaction.

    Must run inside transaction.atomic (the checkout's): the slot row stays locked until the order
    is committed, so the next checkout of this slot counts it. Raises SlotUnavailable / SlotFull.
    """
    return book_first_free_slot(store=store, starts=[starts_at], now=now)


def book_first_free_slot(
    *, store: Store, starts: Iterable[datetime.datetime], now: datetime.datetime | None = None
) -> Slot:
    """book_slot for the first of `starts` (slot starts, earliest first) that still has room.

    Their rows are locked together, in time order, then counted in one query. Raises
    SlotUnavailable when none is offered, SlotFull when none has room.
    """
    rules = PickupSettings.for_store(store)
    wanted = set(starts)
    latest = max(wanted, default=None)
    grid = {}
    for day in _grid_by_day(store, now=now, rules=rules):
        grid.update(day)
        if latest is None or day[-1][0] >= latest:
            break  # the days after it cannot offer any of them
    offered = sorted(starts_at for starts_at in wanted if starts_at in grid)
    if not offered:
        raise SlotUnavailable(
            _("That pickup time is no longer offered at %(store)s. Please choose another time.") % {"store": store.name}
        )
    return _book_first_with_room(store=store, offered=offered, grid=grid, rules=rules)


def book_earliest_free_slot(
    *, store: Store, tries: int, now: datetime.datetime | None = None, ends_by: datetime.datetime | None = None
) -> Slot:
    """book_slot for a shopper who chose no time: the earliest slot with room, trying the `tries`
    earliest free ones, so a checkout is not refused because one filled up while it was placed.
    With `ends_by`, only slots ending by then (an online payment's authorisation must outlast it).

    Raises NoFreeSlots when the store has none in the coming days, SlotFull when all the tried
    ones filled up meanwhile. Lays the grid out once, and only as far as it needs to (opening
    hours prefetched with the store save their query).
    """
    rules = PickupSettings.for_store(store)
    days = (
        [(starts, ends) for starts, ends in day if ends_by is None or ends <= ends_by]
        for day in _grid_by_day(store, now=now, rules=rules)
    )
    # The first days holding `tries` times are laid out and counted first: the free ones are
    # usually there, and the rest of the week is then neither laid out nor counted. When they
    # are not, the rest of the week is counted in one more query.
    first = []
    for day in days:
        first += day
        if len(first) >= tries:
            break
    grid = dict(first)
    free = _free_of(store, first, rules=rules)
    if len(free) < tries:
        rest = [slot for day in days for slot in day]
        grid.update(rest)
        free += _free_of(store, rest, rules=rules)
    if not free:
        raise NoFreeSlots(
            _("%(store)s has no free pickup times in the coming days. Please choose another store.")
            % {"store": store.name}
        )
    return _book_first_with_room(store=store, offered=free[:tries], grid=grid, rules=rules)


def _free_of(store, slots, *, rules):
    """The starts of `slots` ((start, end), in time order) with room, as counted now (no lock)."""
    booked = _booked_counts(store, [starts for starts, _ends in slots])
    return [starts for starts, _ends in slots if booked.get(starts, 0) < rules.orders_per_slot]


def _lock_slot_rows(store, offered) -> None:
    """Create the PickupSlot rows of `offered` (slot starts, in time order) that do not exist yet,
    then lock them all in time order. Every placing runs these two statements, so they are
    written here, as bulk_create(ignore_conflicts=True) and select_for_update() would write them,
    not compiled by the ORM each time (~1.5 ms)."""
    ops, quote = connection.ops, connection.ops.quote_name
    table = quote(PickupSlot._meta.db_table)
    starts = [ops.adapt_datetimefield_value(starts_at) for starts_at in offered]
    fields = [PickupSlot._meta.get_field("store"), PickupSlot._meta.get_field("starts_at")]
    on_conflict = ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"{ops.insert_statement(on_conflict=OnConflict.IGNORE)} {table} (store_id, starts_at) "
            f"VALUES {', '.join(['(%s, %s)'] * len(starts))} {on_conflict}",
            [value for start in starts for value in (store.pk, start)],
        )
        cursor.execute(
            f"SELECT id FROM {table} WHERE store_id = %s AND starts_at IN ({', '.join(['%s'] * len(starts))}) "
            f"ORDER BY starts_at{lock}",
            [store.pk, *starts],
        )
        cursor.fetchall()


def _book_first_with_room(*, store, offered, grid, rules) -> Slot:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("book_slot must run inside the checkout's transaction")
    _lock_slot_rows(store, offered)
    booked = _booked_counts(store, offered)
    for starts_at in offered:
        if booked.get(starts_at, 0) < rules.orders_per_slot:
            return Slot(
                starts_at=starts_at,
                ends_at=grid[starts_at],
                capacity=rules.orders_per_slot,
                booked=booked.get(starts_at, 0) + 1,
            )
    raise SlotFull(
        _(
            "Sorry, the pickup time you chose at %(store)s has just been fully booked. Nothing was "
            "reserved and your cart is unchanged. Please choose another time."
        )
        % {"store": store.name}
    )
