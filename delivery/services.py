"""Local delivery: booking a window at checkout, the delivery's details, and its journey.

Booking runs inside the checkout's transaction (checkout.services): it reads the store's zones
and windows as they are now, and takes the store's DeliveryRound row for the day with a row
lock, so checkouts booking the same day of the same store take turns: the count of deliveries
overlapping the window and the new order are decided one checkout at a time, and a window never
takes more orders than its capacity however many shoppers press at once.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from o2o_site.cache import stamps
from o2o_site.money import format_money
from orders.models import Fulfilment, FulfilmentStatus
from stores.models import SpecialOpeningHours, Store

from .models import Delivery, DeliveryRound, DeliveryWindow, DeliveryZone
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
    DeliveryRound.objects.select_for_update().filter(store=store, date=day).values_list("pk", flat=True).first()
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
        "date": formats.date_format(local.date(), "DATE_FORMAT"),
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
