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

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from o2o_site.cache import stamps
from o2o_site.dates import format_date, format_time_range, format_weekday_date
from o2o_site.money import format_money
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


def _store_grid(*, store: Store, zone: ZoneRule, now: datetime.datetime) -> tuple[list[Window], set[datetime.date]]:
    rules = [
        WindowRule(window.weekday, window.starts, window.ends, window.cutoff, window.capacity)
        for window in DeliveryWindow.objects.filter(store=store)
    ]
    today = now.astimezone(store.zone).date()
    closed = set(
        SpecialOpeningHours.objects.filter(
            store=store, opens__isnull=True, date__range=(today, today + datetime.timedelta(days=zone.days_ahead))
        ).values_list("date", flat=True)
    )
    grid = window_grid(
        rules=rules, zone=store.zone, closed=closed, lead_time=zone.lead_time, days_ahead=zone.days_ahead, now=now
    )
    return grid, closed


def zone_for(*, store: Store, located: LocatedPostcode, order_value: Decimal) -> ZoneRule:
    """The store's zone that delivers to `located` for an order of `order_value` (the cheapest,
    as the checkout showed it), read as the zones are now. Raises DeliveryUnavailable."""
    names = {"store": store.name, "postcode": located.postcode, "place": located.place_name}
    covering = [
        rule
        for rule in (
            ZoneRule.of(zone, country=store.country)
            for zone in DeliveryZone.objects.filter(store=store, is_active=True)
        )
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


def book_window(
    *,
    store: Store,
    address: DeliveryAddress,
    starts_at: datetime.datetime,
    order_value: Decimal,
    now: datetime.datetime | None = None,
) -> BookedWindow:
    """Hold a place in the window starting at `starts_at` at `store` for a delivery to `address`.

    Must run inside transaction.atomic (the checkout's): the store's round for the day stays
    locked until the order is committed, so the next checkout counts it. Raises PostcodeProblem
    (the address), DeliveryUnavailable (the store does not deliver there, or not for so small an
    order), WindowUnavailable (not offered: why) or WindowFull.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("book_window must run inside the checkout's transaction")
    now = now or timezone.now()
    located = check_postcode(address.postcode, country=address.country)
    zone = zone_for(store=store, located=located, order_value=order_value)
    grid, closed = _store_grid(store=store, zone=zone, now=now)
    window = next((window for window in grid if window.starts_at == starts_at), None)
    if window is None:
        raise WindowUnavailable(_why_not_offered(store=store, zone=zone, starts_at=starts_at, closed=closed, now=now))
    day = window.starts_at.astimezone(store.zone).date()
    DeliveryRound.objects.bulk_create([DeliveryRound(store=store, date=day)], ignore_conflicts=True)
    # Only the round's row: DeliveryRound is ordered by its store, and a FOR UPDATE over that join
    # locked the store's row too, which every other checkout of the store needs (KEY SHARE, for
    # its foreign keys) when it commits, while holding stock rows this one waits for: a deadlock
    # in the bench's rush. Hence of=("self",) and no ordering.
    DeliveryRound.objects.select_for_update(of=("self",)).filter(store=store, date=day).order_by().values_list(
        "pk", flat=True
    ).first()
    booked = (
        Delivery.objects.filter(store=store, window_start__lt=window.ends_at, window_end__gt=window.starts_at)
        .exclude(fulfilment__status=FulfilmentStatus.CANCELLED)
        .count()
    )
    if booked >= window.capacity:
        raise WindowFull(
            _(
                "Sorry, the delivery window you chose from %(store)s has just been fully booked. Nothing was "
                "reserved and your cart is unchanged. Please choose another window."
            )
            % {"store": store.name}
        )
    return BookedWindow(
        store=store,
        zone_id=zone.zone_id,
        zone_name=zone.name,
        fee=zone.fee_for(order_value),
        window=Window(
            starts_at=window.starts_at,
            ends_at=window.ends_at,
            cutoff_at=window.cutoff_at,
            capacity=window.capacity,
            booked=booked + 1,
        ),
        located=located,
    )


def _why_not_offered(*, store, zone, starts_at, closed, now) -> str:
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
    window = DeliveryWindow.objects.filter(store=store, weekday=local.weekday(), starts=local.time()).first()
    if window is not None:
        return _("Orders for that delivery window are no longer taken. Please choose a later one.")
    return _("%(store)s does not deliver at that time. Please choose one of the windows offered.") % names


def create_delivery(*, fulfilment: Fulfilment, booking: BookedWindow, address: DeliveryAddress) -> Delivery:
    """The delivery details of a new local-delivery fulfilment, inside the caller's transaction
    (checkout.services): the address, the window booked and the zone's name and fee as they are
    now (kept, whatever becomes of the zone)."""
    return Delivery.objects.create(
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
