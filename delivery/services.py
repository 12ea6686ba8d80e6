"""Local delivery: booking a window at checkout, the delivery's details, and its journey.

Booking runs inside the checkout's transaction (checkout.services): it reads the store's zones
and windows as they are now, and takes the store's DeliveryRound row for the day with a row
lock, so checkouts booking the same day of the same store take turns: the count of deliveries
overlapping the window and the new order are decided one checkout at a time, and a window never
takes more orders than its capacity however many shoppers press at once.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models.constants import OnConflict
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from o2o_site.cache import stamps
from o2o_site.dates import format_date, format_time_range, format_weekday_date
from o2o_site.money import format_money
from o2o_site.rows import columns, from_row, insert
from orders.models import Fulfilment, FulfilmentStatus, NotificationKind, OrderActivity, OrderLine, OrderStatus
from orders.notifications.outbox import notify
from orders.services import hand_over_fulfilment, record_order_activity, transition_part
from stores.models import SpecialOpeningHours, Store

from .models import (
    DELIVERY_TRANSITIONS,
    Delivery,
    DeliveryRound,
    DeliveryState,
    DeliveryWindow,
    DeliveryZone,
    FailureReason,
)
from .selectors import LocatedPostcode, ZoneRule, check_postcode
from .windows import Window, WindowRule, window_grid


class DeliveryUnavailable(Exception):
    """A shopper-facing reason the delivery cannot be booked (in the active language)."""


class WindowUnavailable(DeliveryUnavailable):
    """The window is not offered: past, beyond the days offered, after its cut-off, a closed day."""


class WindowFull(WindowUnavailable):
    pass


@dataclass(frozen=True)
class DeliveryAddress:
    street: str
    postcode: str
    city: str
    country: str
    phone: str


@dataclass(frozen=True)
class BookedWindow:
    """A place held in a window for the order about to be created in the caller's transaction,
    with what the delivery keeps of its zone (copied, not referred to)."""

    store: Store
    zone_id: int
    zone_name: str
    fee: Decimal
    window: Window
    located: LocatedPostcode


def delivery_changed() -> None:
    """Zones or windows changed (the admin's saves, the demo seeding): the delivery directory
    (delivery.selectors) is built again once this transaction commits."""
    stamps.bump(stamps.DELIVERY)


@dataclass(frozen=True)
class StoreDeliveryRules:
    """What booking a window at a store reads of it, as it is now: its active zones, its weekly
    windows and its closed dates from today for as many days as a zone may offer (30)."""

    zones: tuple[ZoneRule, ...]
    windows: tuple[WindowRule, ...]
    closed: frozenset[datetime.date]


# DeliveryZone.days_ahead is at most this: the closed dates a booking may need.
MOST_DAYS_AHEAD = 30


def store_delivery_rules(store: Store, *, today: datetime.date) -> StoreDeliveryRules:
    """The store's active zones, windows and closed dates from `today` (its local date), as
    DeliveryZone.objects.filter(store=store, is_active=True), DeliveryWindow.objects.filter(
    store=store) and its SpecialOpeningHours closed all day read them. Every delivery placing
    reads them, so the statements are written here, not compiled by the ORM each time (~3 ms;
    delivery/tests/test_booking.py compares them)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns(DeliveryZone, 'z')} FROM {quote(DeliveryZone._meta.db_table)} z "
            "WHERE z.store_id = %s AND z.is_active",
            [store.pk],
        )
        zones = tuple(ZoneRule.of(from_row(DeliveryZone, row), country=store.country) for row in cursor.fetchall())
        cursor.execute(
            f"SELECT {columns(DeliveryWindow, 'w')} FROM {quote(DeliveryWindow._meta.db_table)} w "
            "WHERE w.store_id = %s",
            [store.pk],
        )
        windows = tuple(
            WindowRule(window.weekday, window.starts, window.ends, window.cutoff, window.capacity)
            for window in (from_row(DeliveryWindow, row) for row in cursor.fetchall())
        )
        ops = connection.ops
        cursor.execute(
            f"SELECT {quote('date')} FROM {quote(SpecialOpeningHours._meta.db_table)} "
            f"WHERE store_id = %s AND opens IS NULL AND {quote('date')} BETWEEN %s AND %s",
            [
                store.pk,
                ops.adapt_datefield_value(today),
                ops.adapt_datefield_value(today + datetime.timedelta(days=MOST_DAYS_AHEAD)),
            ],
        )
        closed = frozenset(_date(value) for (value,) in cursor.fetchall())
    return StoreDeliveryRules(zones=zones, windows=windows, closed=closed)


def _date(value) -> datetime.date:
    """A date column's value: SQLite gives it as text."""
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def zone_for(*, store: Store, located: LocatedPostcode, order_value: Decimal, zones: tuple[ZoneRule, ...]) -> ZoneRule:
    """The zone of `zones` (the store's active ones, store_delivery_rules) that delivers to
    `located` for an order of `order_value`: the cheapest, as the checkout showed it. Raises
    DeliveryUnavailable."""
    names = {"store": store.name, "postcode": located.postcode, "place": located.place_name}
    covering = [
        rule
        for rule in zones
        if store.is_active
        and store.country == located.country
        and rule.covers(store=store, postcode=located.postcode, latitude=located.latitude, longitude=located.longitude)
    ]
    if not covering:
        raise DeliveryUnavailable(_("%(store)s does not deliver to %(postcode)s %(place)s.") % names)
    taking = [rule for rule in covering if rule.takes(order_value)]
    if not taking:
        minimum = min(rule.minimum_order for rule in covering)
        raise DeliveryUnavailable(
            _("%(store)s delivers to %(postcode)s for orders of %(minimum)s or more.")
            % {**names, "minimum": format_money(minimum)}
        )
    return min(taking, key=lambda rule: (rule.fee_for(order_value), rule.lead_time, rule.zone_id))


@dataclass(frozen=True)
class WindowPlan:
    """The window a checkout is about to book, as read without a lock (plan_window): the address
    located, the store's zone delivering it for the order's value and the window as the store's
    windows lay it out now. hold_window books it under the day's lock."""

    store: Store
    zone: ZoneRule
    window: Window
    located: LocatedPostcode
    order_value: Decimal

    @property
    def fee(self) -> Decimal:
        return self.zone.fee_for(self.order_value)

    @property
    def day(self) -> datetime.date:
        """The store's local date of the window: the round its booking locks."""
        return self.window.starts_at.astimezone(self.store.zone).date()


def plan_window(
    *,
    store: Store,
    address: DeliveryAddress,
    starts_at: datetime.datetime,
    order_value: Decimal,
    now: datetime.datetime | None = None,
) -> WindowPlan:
    """The window starting at `starts_at` at `store` for a delivery to `address`, read as the
    zones, windows and closed dates are now, with no lock: a checkout reads it before taking any,
    so the day's lock (hold_window) is held only to count and book. Raises PostcodeProblem (the
    address), DeliveryUnavailable (the store does not deliver there, or not for so small an
    order) or WindowUnavailable (not offered: why)."""
    now = now or timezone.now()
    located = check_postcode(address.postcode, country=address.country)
    rules = store_delivery_rules(store, today=now.astimezone(store.zone).date())
    zone = zone_for(store=store, located=located, order_value=order_value, zones=rules.zones)
    grid = window_grid(
        rules=rules.windows,
        zone=store.zone,
        closed=rules.closed,
        lead_time=zone.lead_time,
        days_ahead=zone.days_ahead,
        now=now,
    )
    window = next((window for window in grid if window.starts_at == starts_at), None)
    if window is None:
        raise WindowUnavailable(
            _why_not_offered(store=store, zone=zone, starts_at=starts_at, closed=rules.closed, now=now, rules=rules)
        )
    return WindowPlan(store=store, zone=zone, window=window, located=located, order_value=order_value)


def check_room_now(plan: WindowPlan) -> None:
    """WindowFull when the planned window is full as its bookings are committed now, read without
    a lock: a shopper too late for it is refused without queueing on the day's round behind the
    shoppers who filled it. A window with room here may still fill before hold_window counts."""
    if _booked(plan.store, plan.window) >= plan.window.capacity:
        raise _window_full(plan.store)


def hold_window(plan: WindowPlan) -> BookedWindow:
    """Hold a place in the planned window: the store's round for the day locked, then the
    deliveries overlapping the window counted. Must run inside transaction.atomic (the
    checkout's): the round stays locked until the order is committed, so the next checkout
    counts it. Raises WindowFull."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("book_window must run inside the checkout's transaction")
    store, window = plan.store, plan.window
    _lock_round(store, plan.day)
    # A statement of its own after the lock, never a subquery of the locking statement: under
    # READ COMMITTED that statement's snapshot is taken before it waits for the lock, so it would
    # not count the booking of the checkout it waited for.
    booked = _booked(store, window)
    if booked >= window.capacity:
        raise _window_full(store)
    return BookedWindow(
        store=store,
        zone_id=plan.zone.zone_id,
        zone_name=plan.zone.name,
        fee=plan.fee,
        window=Window(
            starts_at=window.starts_at,
            ends_at=window.ends_at,
            cutoff_at=window.cutoff_at,
            capacity=window.capacity,
            booked=booked + 1,
        ),
        located=plan.located,
    )


def book_window(
    *,
    store: Store,
    address: DeliveryAddress,
    starts_at: datetime.datetime,
    order_value: Decimal,
    now: datetime.datetime | None = None,
) -> BookedWindow:
    """Hold a place in the window starting at `starts_at` at `store` for a delivery to `address`
    (plan_window, then hold_window). Must run inside transaction.atomic (the checkout's): the
    store's round for the day stays locked until the order is committed, so the next checkout
    counts it. Raises PostcodeProblem (the address), DeliveryUnavailable (the store does not
    deliver there, or not for so small an order), WindowUnavailable (not offered: why) or
    WindowFull.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("book_window must run inside the checkout's transaction")
    return hold_window(plan_window(store=store, address=address, starts_at=starts_at, order_value=order_value, now=now))


def _window_full(store: Store) -> WindowFull:
    return WindowFull(
        _(
            "Sorry, the delivery window you chose from %(store)s has just been fully booked. Nothing was "
            "reserved and your cart is unchanged. Please choose another window."
        )
        % {"store": store.name}
    )


def _lock_round(store: Store, day: datetime.date) -> None:
    """Lock the store's DeliveryRound row for `day`, made first if there is none (only its row: a
    FOR UPDATE over a join to the store locked the store's row too, which every other checkout of
    the store needs, KEY SHARE, for its foreign keys when it commits, while holding stock rows
    this one waits for: a deadlock in the bench's rush). Every delivery placing runs it, so its
    SQL is written here, as select_for_update(of=("self",)) and bulk_create(ignore_conflicts=True)
    would write it, not compiled by the ORM each time; the day's first booking only makes the row
    (one statement for the others)."""
    ops, quote = connection.ops, connection.ops.quote_name
    table = quote(DeliveryRound._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    date = ops.adapt_datefield_value(day)
    select = f"SELECT id FROM {table} WHERE store_id = %s AND {quote('date')} = %s{lock}"
    with connection.cursor() as cursor:
        cursor.execute(select, [store.pk, date])
        if cursor.fetchone() is not None:
            return
        fields = [DeliveryRound._meta.get_field("store"), DeliveryRound._meta.get_field("date")]
        cursor.execute(
            f"{ops.insert_statement(on_conflict=OnConflict.IGNORE)} {table} (store_id, {quote('date')}) "
            f"VALUES (%s, %s) {ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None)}",
            [store.pk, date],
        )
        # Made here, or by a checkout that got there first (its insert waited for it to commit).
        cursor.execute(select, [store.pk, date])
        cursor.fetchone()


def _booked(store: Store, window: Window) -> int:
    """The deliveries of `store` not cancelled whose window overlaps `window` (what counts against
    its places: windows may overlap, or change under orders booked), as
    Delivery.objects.filter(...).exclude(fulfilment__status=CANCELLED).count() counts them; written
    here, as every placing counts once or twice."""
    ops, quote = connection.ops, connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {quote(Delivery._meta.db_table)} d "
            f"INNER JOIN {quote(Fulfilment._meta.db_table)} f ON d.fulfilment_id = f.id "
            "WHERE d.store_id = %s AND d.window_start < %s AND d.window_end > %s AND NOT (f.status = %s)",
            [
                store.pk,
                ops.adapt_datetimefield_value(window.ends_at),
                ops.adapt_datetimefield_value(window.starts_at),
                FulfilmentStatus.CANCELLED.value,
            ],
        )
        return cursor.fetchone()[0]


def _why_not_offered(*, store, zone, starts_at, closed, now, rules: StoreDeliveryRules) -> str:
    local = starts_at.astimezone(store.zone)
    names = {
        "store": store.name,
        "days": zone.days_ahead,
        "date": format_date(local.date()),
    }
    if starts_at <= now:
        return _("That delivery window has already begun. Please choose a later one.")
    if local.date() > now.astimezone(store.zone).date() + datetime.timedelta(days=zone.days_ahead - 1):
        return (
            _("%(store)s takes delivery orders for the next %(days)s days only. Please choose an earlier window.")
            % names
        )
    if local.date() in closed:
        return _("%(store)s is closed on %(date)s and does not deliver that day.") % names
    if any(rule.weekday == local.weekday() and rule.starts == local.time() for rule in rules.windows):
        return _("Orders for that delivery window are no longer taken. Please choose a later one.")
    return _("%(store)s does not deliver at that time. Please choose one of the windows offered.") % names


def create_delivery(*, fulfilment: Fulfilment, booking: BookedWindow, address: DeliveryAddress) -> Delivery:
    """The delivery details of a new local-delivery fulfilment, inside the caller's transaction
    (checkout.services): the address, the window booked and the zone's name and fee as they are
    now (kept, whatever becomes of the zone)."""
    # Written in SQL not compiled each time (o2o_site.rows.insert): the last statement under the
    # window's lock but the stock's.
    (delivery,) = insert(
        [
            Delivery(
                fulfilment=fulfilment,
                store=booking.store,
                zone_id=booking.zone_id,
                zone_name=booking.zone_name,
                fee=booking.fee,
                window_start=booking.window.starts_at,
                window_end=booking.window.ends_at,
                street=" ".join(address.street.split()),
                postcode=booking.located.postcode,
                city=" ".join(address.city.split()),
                country=booking.located.country,
                phone=address.phone.strip(),
                latitude=Decimal(str(booking.located.latitude)),
                longitude=Decimal(str(booking.located.longitude)),
            )
        ]
    )
    return delivery


# --- the delivery's journey: packed → out for delivery → delivered, or failed → rebooked ---------


class IllegalDeliveryStep(Exception):
    """A staff-facing reason the delivery cannot take that step now (in the active language)."""


def _locked(delivery: Delivery, to_state: DeliveryState) -> Delivery:
    """The delivery's row, locked, once DELIVERY_TRANSITIONS allows the step (else refused)."""
    locked = Delivery.objects.select_for_update().select_related("fulfilment__order").get(pk=delivery.pk)
    if to_state not in DELIVERY_TRANSITIONS[DeliveryState(locked.state)]:
        raise IllegalDeliveryStep(
            _("Order %(number)s is “%(state)s”; it cannot be marked “%(to)s”.")
            % {
                "number": locked.fulfilment.order.number,
                "state": locked.get_state_display(),
                "to": DeliveryState(to_state).label,
            }
        )
    return locked


def _moved(locked: Delivery, to_state: DeliveryState, delivery: Delivery, **fields) -> Delivery:
    locked.state = to_state
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save(update_fields=["state", *fields])
    delivery.state = locked.state
    for name, value in fields.items():
        setattr(delivery, name, value)
    return locked


def mark_packed(*, delivery: Delivery, by: User | None = None) -> Delivery:
    """The store has packed the order for its window (on the timeline; the shopper is told when
    it leaves the store)."""
    with transaction.atomic():
        locked = _locked(delivery, DeliveryState.PACKED)
        record_order_activity(
            order=locked.fulfilment.order,
            fulfilment=locked.fulfilment,
            kind=OrderActivity.PACKED,
            by=by,
            note=lambda: _("Packed for delivery."),
        )
        return _moved(locked, DeliveryState.PACKED, delivery)


def send_out(*, delivery: Delivery, by: User | None = None) -> Delivery:
    """The van has left the store with the order: the order is out for delivery and the shopper
    is e-mailed with the window (through the outbox: once per attempt, in the order's language;
    a delivery rebooked after a failure is announced again when it goes out again)."""
    with transaction.atomic():
        locked = _locked(delivery, DeliveryState.OUT_FOR_DELIVERY)
        order = transition_part(fulfilment=locked.fulfilment, to_status=OrderStatus.OUT_FOR_DELIVERY, by=by)
        notify(order=order, kind=NotificationKind.OUT_FOR_DELIVERY, reference=str(locked.attempt))
        return _moved(locked, DeliveryState.OUT_FOR_DELIVERY, delivery)


def mark_delivered(
    *,
    delivery: Delivery,
    by: User | None = None,
    now: datetime.datetime | None = None,
    settle: Callable[[object], object] | None = None,
) -> Delivery:
    """Handed over at the door: the order is delivered, its units leave the store's stock, and the
    shopper is e-mailed. `settle(order)`, when given, runs last in the same transaction (a higher
    layer takes an online payment there, as at a pickup counter); if it raises, nothing changes."""
    with transaction.atomic():
        locked = _locked(delivery, DeliveryState.DELIVERED)
        order = transition_part(
            fulfilment=locked.fulfilment,
            to_status=OrderStatus.DELIVERED,
            by=by,
            note=lambda: (
                _("Delivered to %(street)s, %(postcode)s %(city)s.")
                % {"street": locked.street, "postcode": locked.postcode, "city": locked.city}
            ),
        )
        fulfilment = locked.fulfilment
        fulfilment.order = order
        hand_over_fulfilment(fulfilment=fulfilment, quantities=None, by=by, at=now or timezone.now())
        notify(order=order, kind=NotificationKind.DELIVERED)
        moved = _moved(locked, DeliveryState.DELIVERED, delivery, failure_reason="")
        if settle is not None:
            settle(order)
        return moved


def mark_failed(*, delivery: Delivery, reason: FailureReason, by: User | None = None, note: str = "") -> Delivery:
    """The delivery could not be made (no one home, …): the order is back to placed, its units
    still held, waiting for another window (rebook_delivery) or a pickup; the reason is kept and
    written on the timeline."""
    reason = FailureReason(reason)
    note = " ".join((note or "").split())[:150]
    with transaction.atomic():
        locked = _locked(delivery, DeliveryState.FAILED)
        order = transition_part(
            fulfilment=locked.fulfilment,
            to_status=OrderStatus.PLACED,
            by=by,
            note=lambda: _("Delivery failed: %(reason)s.") % {"reason": reason.label} + (f" {note}" if note else ""),
        )
        record_order_activity(
            order=order,
            fulfilment=locked.fulfilment,
            kind=OrderActivity.DELIVERY_FAILED,
            by=by,
            note=lambda: str(reason.label),
        )
        return _moved(locked, DeliveryState.FAILED, delivery, failure_reason=reason)


def rebook_delivery(
    *, delivery: Delivery, starts_at: datetime.datetime, by: User | None = None, now: datetime.datetime | None = None
) -> Delivery:
    """Deliver a failed delivery again in another window (booked like a checkout's, with room
    counted under the day's lock); the fee agreed stays as it was. Raises DeliveryUnavailable."""
    with transaction.atomic():
        locked = _locked(delivery, DeliveryState.PACKED)
        order = locked.fulfilment.order
        goods = sum(
            OrderLine.objects.filter(order=order, product__isnull=False).values_list("line_total", flat=True),
            Decimal("0"),
        )
        booking = book_window(
            store=locked.store,
            address=DeliveryAddress(
                street=locked.street,
                postcode=locked.postcode,
                city=locked.city,
                country=locked.country,
                phone=locked.phone,
            ),
            starts_at=starts_at,
            order_value=goods,
            now=now,
        )
        record_order_activity(
            order=order,
            fulfilment=locked.fulfilment,
            kind=OrderActivity.DELIVERY_REBOOKED,
            by=by,
            note=lambda: (
                _("Delivery rebooked for %(window)s.")
                % {"window": window_label(booking.window.starts_at, booking.window.ends_at, store=locked.store)}
            ),
        )
        return _moved(
            locked,
            DeliveryState.PACKED,
            delivery,
            window_start=booking.window.starts_at,
            window_end=booking.window.ends_at,
            attempt=locked.attempt + 1,
        )


def window_label(starts_at: datetime.datetime, ends_at: datetime.datetime, *, store: Store) -> str:
    """ "Monday 7 December, 17:00–19:00" in the store's time, in the active language."""
    return (
        f"{format_weekday_date(starts_at, zone=store.zone)}, {format_time_range(starts_at, ends_at, zone=store.zone)}"
    )


def hand_back_to_store(*, delivery: Delivery) -> Delivery:
    """A failed delivery will be collected at its store instead: the delivery is closed as such
    (its row kept, with the fee and window agreed). Inside the caller's transaction, which makes
    the fulfilment a pickup (checkout.services.collect_failed_delivery_at_store)."""
    locked = _locked(delivery, DeliveryState.TO_COLLECT)
    return _moved(locked, DeliveryState.TO_COLLECT, delivery)
