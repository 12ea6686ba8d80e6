"""Which stores deliver to an address, for what fee, and their earliest windows.

The checkout asks this for every shopper who chooses delivery, so the answer comes from a
directory in this process's memory (the postcode table, the active zones with their stores, the
windows and the closed dates), built again when any of them changed (version stamps:
stores.postcodes.import_postcodes, delivery.services.delivery_changed,
stores.services.stores_changed) and at most DIRECTORY_SECONDS old. A lookup then costs one
query whatever the number of stores, zones and postcodes: the bookings of the stores that cover
the address, to find each one's earliest window with room; none when no store covers it.
"""

import datetime
import time
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from o2o_site.cache import stamps
from o2o_site.rows import converted
from orders.models import Fulfilment, FulfilmentStatus
from orders.selectors import stores_able_to_supply
from stores.models import PostcodeLocation, SpecialOpeningHours, Store
from stores.postcodes import normalise_postcode
from stores.selectors import KM_PER_DEGREE_LATITUDE, distance_km, nearest_stores, store_directory

from .models import Delivery, DeliveryState, DeliveryWindow, DeliveryZone, ZoneKind
from .windows import Window, WindowRule, window_grid, with_bookings
from .zones import PostcodeRange, parse_postcode_ranges, postcode_format

# A zone or window changed without a stamp (a shell, a data migration) shows within this long.
DIRECTORY_SECONDS = 60
# Window grids kept per directory (zones × the minutes they were asked in) before starting afresh.
GRIDS_KEPT = 5000
# Closed dates are read this far ahead (DeliveryZone.days_ahead is at most 30).
CLOSED_DATES_AHEAD_DAYS = 32

COUNTRY_NAMES = {"IS": gettext_lazy("Iceland"), "NO": gettext_lazy("Norway")}


def country_name(country: str) -> str:
    return str(COUNTRY_NAMES.get(country, country))


@dataclass(frozen=True)
class ZoneRule:
    """A DeliveryZone as plain values: what a lookup and a booking need of it."""

    zone_id: int
    store_id: int
    name: str
    kind: str
    ranges: tuple[PostcodeRange, ...]
    radius_km: float | None
    fee: Decimal
    free_above: Decimal | None
    minimum_order: Decimal
    lead_time: datetime.timedelta
    days_ahead: int

    @classmethod
    def of(cls, zone: DeliveryZone, *, country: str) -> "ZoneRule":
        ranges = ()
        if zone.kind == ZoneKind.POSTCODES:
            try:
                ranges = parse_postcode_ranges(zone.postcodes, country=country)
            except ValidationError:  # a row written around the admin's check covers nothing, breaks nothing
                ranges = ()
        return cls(
            zone_id=zone.pk,
            store_id=zone.store_id,
            name=zone.name,
            kind=zone.kind,
            ranges=ranges,
            radius_km=float(zone.radius_km) if zone.radius_km is not None else None,
            fee=zone.fee,
            free_above=zone.free_above,
            minimum_order=zone.minimum_order,
            lead_time=datetime.timedelta(minutes=zone.lead_time_minutes),
            days_ahead=zone.days_ahead,
        )

    def covers(self, *, store: Store, postcode: str, latitude: float | None, longitude: float | None) -> bool:
        if self.kind == ZoneKind.RADIUS:
            if latitude is None or self.radius_km is None:
                return False
            return distance_km(store.latitude, store.longitude, latitude, longitude) <= self.radius_km
        return any(postcode in item for item in self.ranges)

    def fee_for(self, order_value: Decimal | None) -> Decimal:
        if self.free_above is not None and order_value is not None and order_value >= self.free_above:
            return Decimal("0")
        return self.fee

    def takes(self, order_value: Decimal | None) -> bool:
        return order_value is None or order_value >= self.minimum_order


@dataclass(frozen=True)
class LocatedPostcode:
    country: str
    postcode: str
    place_name: str
    latitude: float
    longitude: float


class PostcodeProblem(Exception):
    """A shopper-facing reason a postcode cannot be delivered to (in the active language)."""


class DeliveryDirectory:
    """The postcode table and every active delivery zone, window and closed date, in memory."""

    def __init__(self, *, postcodes, zones, windows, closed, stamp=None):
        """`postcodes`: (country, postcode, place, latitude, longitude) rows; `zones`: DeliveryZone
        rows with their store; `windows`: DeliveryWindow rows; `closed`: (store id, date) rows."""
        self.stamp, self.built_at = stamp, time.monotonic()
        self.postcodes = {
            (country, postcode): LocatedPostcode(country, postcode, place, float(latitude), float(longitude))
            for country, postcode, place, latitude, longitude in postcodes
        }
        self._numbered: dict[tuple[str, int], list[tuple[int, LocatedPostcode]]] = {}
        for (country, postcode), located in self.postcodes.items():
            if postcode.isdigit():
                self._numbered.setdefault((country, len(postcode)), []).append((int(postcode), located))
        for numbered in self._numbered.values():
            numbered.sort(key=lambda item: item[0])
        self.stores: dict[int, Store] = {}
        self.zones: list[ZoneRule] = []
        # Per country: the postcode zones, and the radius zones with their store's coordinates as
        # floats (a lookup checks every zone of the country: a few hundred, with no Decimal maths).
        self._by_postcode: dict[str, list[ZoneRule]] = {}
        self._by_radius: dict[str, list[tuple[float, float, float, ZoneRule]]] = {}
        for zone in zones:
            self.stores[zone.store_id] = zone.store
            rule = ZoneRule.of(zone, country=zone.store.country)
            self.zones.append(rule)
            if rule.kind == ZoneKind.RADIUS and rule.radius_km:
                self._by_radius.setdefault(zone.store.country, []).append(
                    (float(zone.store.latitude), float(zone.store.longitude), rule.radius_km, rule)
                )
            elif rule.ranges:
                self._by_postcode.setdefault(zone.store.country, []).append(rule)
        # Window grids per (zone, minute): shoppers looking up addresses in the same minute share them.
        self._grids: dict[tuple[int, datetime.datetime], list[Window]] = {}
        self.windows: dict[int, list[WindowRule]] = {}
        for window in windows:
            self.windows.setdefault(window.store_id, []).append(
                WindowRule(window.weekday, window.starts, window.ends, window.cutoff, window.capacity)
            )
        self.closed: dict[int, set[datetime.date]] = {}
        for store_id, date in closed:
            self.closed.setdefault(store_id, set()).add(date)

    def locate(self, country: str, postcode: str) -> LocatedPostcode | None:
        return self.postcodes.get((country, postcode))

    def nearest_known(self, country: str, postcode: str) -> LocatedPostcode | None:
        """The known postcode of `country` numerically nearest to `postcode` (of its length)."""
        known = self._numbered.get((country, len(postcode)))
        if not known or not postcode.isdigit():
            return None
        number = int(postcode)
        index = bisect_left(known, (number,))
        candidates = known[max(index - 1, 0) : index + 1]
        return min(candidates, key=lambda item: abs(item[0] - number))[1]

    def zones_covering(self, located: LocatedPostcode) -> list[ZoneRule]:
        postcode = located.postcode
        found = [
            zone for zone in self._by_postcode.get(located.country, ()) if any(postcode in item for item in zone.ranges)
        ]
        found += [
            zone
            for latitude, longitude, radius_km, zone in self._by_radius.get(located.country, ())
            # A degree of latitude is 111 km: most stores are ruled out before the haversine.
            if abs(latitude - located.latitude) * KM_PER_DEGREE_LATITUDE <= radius_km
            and distance_km(latitude, longitude, located.latitude, located.longitude) <= radius_km
        ]
        return found

    def grid(self, zone: ZoneRule, *, now: datetime.datetime) -> list[Window]:
        """The zone's windows from `now`, laid out once per minute (window_grid to the minute:
        cut-offs and lead times are whole minutes, and booking checks again to the second)."""
        minute = now.replace(second=0, microsecond=0)
        key = (zone.zone_id, minute)
        if key not in self._grids:
            if len(self._grids) > GRIDS_KEPT:
                self._grids.clear()
            store = self.stores[zone.store_id]
            self._grids[key] = window_grid(
                rules=self.windows.get(zone.store_id, ()),
                zone=store.zone,
                closed=self.closed.get(zone.store_id, ()),
                lead_time=zone.lead_time,
                days_ahead=zone.days_ahead,
                now=minute,
            )
        return self._grids[key]


_directory = {"stamp": None, "directory": None}


def delivery_directory() -> DeliveryDirectory:
    """This process's delivery directory, built again (four queries) when it changed."""
    found = stamps.versions(stamps.POSTCODES, stamps.DELIVERY, stamps.STORES)
    stamp = "/".join(found[key] for key in (stamps.POSTCODES, stamps.DELIVERY, stamps.STORES))
    directory = _directory["directory"]
    if _directory["stamp"] != stamp or time.monotonic() - directory.built_at > DIRECTORY_SECONDS:
        directory = _build_directory(stamp)
        _directory.update(stamp=stamp, directory=directory)
    return directory


def forget_directory() -> None:
    """The next lookup builds the directory again (tests that change rows behind the stamps)."""
    _directory.update(stamp=None, directory=None)


def _build_directory(stamp):
    zones = list(DeliveryZone.objects.filter(is_active=True, store__is_active=True).select_related("store"))
    store_ids = {zone.store_id for zone in zones}
    today = timezone.now().date()
    closed = SpecialOpeningHours.objects.filter(
        store_id__in=store_ids,
        opens__isnull=True,
        date__range=(today - datetime.timedelta(days=1), today + datetime.timedelta(days=CLOSED_DATES_AHEAD_DAYS)),
    ).values_list("store_id", "date")
    return DeliveryDirectory(
        postcodes=PostcodeLocation.objects.values_list("country", "postcode", "place_name", "latitude", "longitude"),
        zones=zones,
        windows=DeliveryWindow.objects.filter(store_id__in=store_ids),
        closed=closed,
        stamp=stamp,
    )


def check_postcode(
    postcode: str | None,
    *,
    country: str,
    directory: DeliveryDirectory | None = None,
    cart: Mapping[int, int] | None = None,
    my_store: Store | None = None,
) -> LocatedPostcode:
    """The postcode as the postcode table knows it, or PostcodeProblem saying what is wrong: none
    given, not a postcode of `country` (with the country it belongs to, if another), unknown (with
    the stores to turn to: nearest_stores_message, for `cart` at a checkout, the shopper's own
    store first when it can serve)."""
    directory = directory or delivery_directory()
    country = (country or "").upper()
    typed = (postcode or "").strip()
    normalised = normalise_postcode(typed)
    names = {"postcode": typed, "country": country_name(country)}
    if not normalised:
        raise PostcodeProblem(_("Enter the postcode of the delivery address."))
    if not postcode_format(country).fullmatch(normalised):
        for other in COUNTRY_NAMES:
            if other != country and directory.locate(other, normalised) is not None:
                raise PostcodeProblem(
                    _("%(postcode)s is a postcode in %(other)s, not in %(country)s. Check the postcode or the country.")
                    % {**names, "other": country_name(other)}
                )
        if country == "IS":
            raise PostcodeProblem(_("“%(postcode)s” is not an Icelandic postcode: they have 3 digits.") % names)
        if country == "NO":
            raise PostcodeProblem(_("“%(postcode)s” is not a Norwegian postcode: they have 4 digits.") % names)
        raise PostcodeProblem(_("“%(postcode)s” is not a postcode of %(country)s.") % names)
    located = directory.locate(country, normalised)
    if located is None:
        message = _("We do not know the postcode %(postcode)s in %(country)s. Please check it.") % names
        # Postcodes are numbered by region in both countries: the nearest number known is
        # somewhere near, enough to point the shopper to a store.
        # Where the postcode is is only guessed, so no distance is named.
        nearby = directory.nearest_known(country, normalised)
        turn_to = (
            nearest_stores_message(nearby, directory, cart=cart, approximate=True, my_store=my_store) if nearby else ""
        )
        raise PostcodeProblem(" ".join(filter(None, (message, turn_to))))
    return located


@dataclass(frozen=True)
class DeliveryOption:
    """A store that delivers to the address: its zone, the fee for this order, its earliest
    window with room (None: every window in the days offered is full), and whether the order is
    big enough for the zone."""

    store: Store
    zone: ZoneRule
    fee: Decimal
    earliest: Window | None
    windows: tuple[Window, ...]
    distance_km: float
    below_minimum: bool

    @property
    def can_deliver(self) -> bool:
        return self.earliest is not None and not self.below_minimum


@dataclass(frozen=True)
class DeliveryLookup:
    located: LocatedPostcode
    options: tuple[DeliveryOption, ...]


def delivery_options(
    *,
    postcode: str | None,
    country: str,
    order_value: Decimal | None = None,
    store_ids: Iterable[int] | None = None,
    now: datetime.datetime | None = None,
    cart: Mapping[int, int] | None = None,
) -> DeliveryLookup:
    """The stores that deliver to `postcode` (limited to `store_ids` if given: those with the
    cart in stock), nearest first, each by its cheapest zone covering it for `order_value`, with
    its windows and their room. Raises PostcodeProblem for a postcode that is missing, of another
    country or unknown, and for one no store delivers to (naming the nearest store that offers
    pickup; at a checkout, with `cart`, only stores that have all of it). One query (the
    bookings), none when no store covers the address."""
    now = now or timezone.now()
    directory = delivery_directory()
    located = check_postcode(postcode, country=country, directory=directory, cart=cart)
    covering = directory.zones_covering(located)
    if not covering:
        raise PostcodeProblem(_no_store_delivers_message(located, directory, cart=cart))
    if store_ids is not None:
        wanted = set(store_ids)
        covering = [zone for zone in covering if zone.store_id in wanted]
    best: dict[int, ZoneRule] = {}
    for zone in sorted(
        covering,
        key=lambda zone: (not zone.takes(order_value), zone.fee_for(order_value), zone.lead_time, zone.zone_id),
    ):
        best.setdefault(zone.store_id, zone)
    grids = {store_id: directory.grid(zone, now=now) for store_id, zone in best.items()}
    bookings = _bookings(grids)
    options = []
    for store_id, zone in best.items():
        store = directory.stores[store_id]
        windows = tuple(
            window for window in with_bookings(grids[store_id], bookings.get(store_id, ())) if window.remaining
        )
        options.append(
            DeliveryOption(
                store=store,
                zone=zone,
                fee=zone.fee_for(order_value),
                earliest=windows[0] if windows else None,
                windows=windows,
                distance_km=distance_km(store.latitude, store.longitude, located.latitude, located.longitude),
                below_minimum=not zone.takes(order_value),
            )
        )
    options.sort(key=lambda option: (option.distance_km, option.store.pk))
    return DeliveryLookup(located=located, options=tuple(options))


def _bookings(grids: dict[int, list[Window]]) -> dict[int, list[tuple[datetime.datetime, datetime.datetime, int]]]:
    """(start, end, count) of the deliveries booked at each store over its windows: one query.

    Every delivery options page asks it, so its SQL is written here, as Delivery.objects.filter(
    …).exclude(fulfilment__status=CANCELLED).values(…).annotate(Count("pk")) would write it, not
    compiled by the ORM each time (~2 ms; delivery/tests/test_options.py compares them)."""
    windows = [window for grid in grids.values() for window in grid]
    if not windows:
        return {}
    store_ids = [store_id for store_id, grid in grids.items() if grid]
    ops, quote = connection.ops, connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT d.store_id, d.window_start, d.window_end, COUNT(*) FROM {quote(Delivery._meta.db_table)} d "
            f"INNER JOIN {quote(Fulfilment._meta.db_table)} f ON d.fulfilment_id = f.id "
            f"WHERE d.store_id IN ({', '.join(['%s'] * len(store_ids))}) AND d.window_start < %s "
            "AND d.window_end > %s AND NOT (f.status = %s) GROUP BY d.store_id, d.window_start, d.window_end",
            [
                *store_ids,
                ops.adapt_datetimefield_value(max(window.ends_at for window in windows)),
                ops.adapt_datetimefield_value(min(window.starts_at for window in windows)),
                FulfilmentStatus.CANCELLED.value,
            ],
        )
        rows = cursor.fetchall()
    found: dict[int, list] = {}
    for store_id, starts_at, ends_at, count in rows:
        found.setdefault(store_id, []).append(
            (converted(Delivery, "window_start", starts_at), converted(Delivery, "window_end", ends_at), count)
        )
    return found


def _no_store_delivers_message(
    located: LocatedPostcode, directory: DeliveryDirectory, *, cart: Mapping[int, int] | None = None
) -> str:
    """No zone covers the address: say so, and name the nearest stores (nearest_stores_message)."""
    names = {"postcode": located.postcode, "place": located.place_name}
    message = _("No store delivers to %(postcode)s %(place)s yet.") % names
    return " ".join(filter(None, (message, nearest_stores_message(located, directory, cart=cart))))


def nearest_stores_message(
    located: LocatedPostcode,
    directory: DeliveryDirectory,
    *,
    cart: Mapping[int, int] | None = None,
    approximate: bool = False,
    my_store: Store | None = None,
) -> str:
    """Where the shopper can turn when no store delivers to `located`: the nearest store of the
    postcode's country that offers pickup ("" when there is none). No store that delivers
    elsewhere is named: it does not deliver here, and naming it read as a contradiction ("No store
    delivers to 270… The nearest store that delivers is…").

    `approximate`: `located` is only the nearest postcode known to one the shop does not know, so
    no distance is named, and the shopper's own store (`my_store`) comes first when it can serve.

    At a checkout, with `cart` ({product id: units}), a store is named only if it can supply all
    of it (orders.selectors.stores_able_to_supply, as the checkout lists them): the nearest store
    is no help when it lacks half the cart. When none can, the message says so and names none.
    One query then, on this refusal only; none without `cart` (the directories are in memory)."""

    def nearest_first(stores: Iterable[Store]) -> list[tuple[float, Store]]:
        ranked = sorted(
            (distance_km(store.latitude, store.longitude, located.latitude, located.longitude), store.pk, store)
            for store in stores
            if store.country == located.country
        )
        return [(distance, store) for distance, _pk, store in ranked]

    if cart is None:
        pickup = [
            (nearby.distance_km, nearby.store)
            for nearby in nearest_stores(
                latitude=located.latitude, longitude=located.longitude, limit=5, directory=store_directory()
            )
            if nearby.store.offers_pickup and nearby.store.country == located.country
        ]
    else:
        pickup = nearest_first(stores_able_to_supply(dict(cart)).filter(country=located.country))
        if not pickup:
            return _("No store that could serve this address has everything in your cart right now.")
    if not pickup:
        return ""
    distance, store = pickup[0]
    if approximate:
        mine = next((store for _distance, store in pickup if my_store is not None and store.pk == my_store.pk), None)
        return _("You can pick up your order at %(store)s.") % {"store": (mine or store).name}
    return _("You can pick up your order at %(store)s (%(km)s km away).") % {"store": store.name, "km": round(distance)}


def delivery_of(order) -> Delivery | None:
    """The delivery of `order` (its local-delivery fulfilment's), or None: one query."""
    delivery = Delivery.objects.select_related("fulfilment", "store").filter(fulfilment__order=order).first()
    if delivery is not None:
        delivery.fulfilment.order = order
    return delivery


@dataclass(frozen=True)
class RoundStop:
    delivery: Delivery
    distance_km: float | None  # from the previous stop (the store for the first), None: unknown


def delivery_round(*, store: Store, day: datetime.date | None = None) -> list[RoundStop]:
    """The store's deliveries whose window is on `day` (the store's local date; None: today), in a
    driving order: from the store, always to the nearest stop not yet visited (by the postcodes'
    coordinates); those done (delivered or failed) after the rest, stops without coordinates
    last. One query."""
    day = day or timezone.now().astimezone(store.zone).date()
    starts = datetime.datetime.combine(day, datetime.time(0), tzinfo=store.zone)
    deliveries = list(
        Delivery.objects.filter(
            store=store, window_start__gte=starts, window_start__lt=starts + datetime.timedelta(days=1)
        )
        .exclude(fulfilment__status=FulfilmentStatus.CANCELLED)
        .select_related("fulfilment__order")
        .order_by("window_start", "pk")
    )
    to_visit = [
        delivery
        for delivery in deliveries
        if delivery.state not in (DeliveryState.DELIVERED, DeliveryState.FAILED, DeliveryState.TO_COLLECT)
    ]
    done = [delivery for delivery in deliveries if delivery not in to_visit]
    located = [delivery for delivery in to_visit if delivery.latitude is not None]
    stops, here = [], (store.latitude, store.longitude)
    while located:
        # Nearest next; an earlier window first between two stops at the same distance.
        distance, nearest = min(
            ((distance_km(*here, delivery.latitude, delivery.longitude), delivery) for delivery in located),
            key=lambda item: (item[0], item[1].window_start, item[1].pk),
        )
        stops.append(RoundStop(nearest, distance))
        located.remove(nearest)
        here = (nearest.latitude, nearest.longitude)
    stops += [RoundStop(delivery, None) for delivery in to_visit if delivery.latitude is None]
    return stops + [RoundStop(delivery, None) for delivery in done]
