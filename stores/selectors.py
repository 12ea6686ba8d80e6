"""Reads about stores: the shopper's store, nearest stores, availability across stores."""

import math
from dataclasses import dataclass, replace

from django.db.models import IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog import fragment_cache

from .models import OpeningHours, PostcodeLocation, StockLevel, Store

MY_STORE_SESSION_KEY = "my_store_id"
EARTH_RADIUS_KM = 6371.0


def distance_km(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, map(float, (lat1, lon1, lat2, lon2)))
    a = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


@dataclass
class StoreDistance:
    store: Store
    distance_km: float


# The locator's first box reaches this far; it grows fourfold until it holds enough stores.
FIRST_SEARCH_RADIUS_KM = 50.0
KM_PER_DEGREE_LATITUDE = 111.19


def nearest_stores(*, latitude, longitude, limit=10, queryset=None) -> list[StoreDistance]:
    """The `limit` stores nearest to a point, exactly, without reading every store.

    A bounding box around the point (an indexed range on latitude, then longitude) picks the
    candidates; haversine ranks them. The box holds the whole circle of its radius, so once at
    least `limit` candidates lie within the radius, no store outside the box can be nearer; with
    too few, the radius grows fourfold. Then one query reads the chosen stores.
    """
    stores = queryset if queryset is not None else Store.objects.active()
    latitude, longitude = float(latitude), float(longitude)
    radius = FIRST_SEARCH_RADIUS_KM if limit is not None else math.pi * EARTH_RADIUS_KM
    while True:
        whole_earth = radius >= math.pi * EARTH_RADIUS_KM
        candidates = stores if whole_earth else stores.filter(_bounding_box(latitude, longitude, radius))
        # Only the coordinates of the candidates: ranking needs no more.
        ranked = sorted(
            (
                (distance_km(latitude, longitude, store_latitude, store_longitude), pk)
                for pk, store_latitude, store_longitude in candidates.order_by().values_list(
                    "pk", "latitude", "longitude"
                )
            ),
        )
        within = [item for item in ranked if item[0] <= radius]
        if whole_earth or len(within) >= limit:
            chosen = (ranked if whole_earth else within)[:limit]
            break
        radius *= 4
    by_pk = Store.objects.in_bulk([pk for _distance, pk in chosen])
    return [StoreDistance(by_pk[pk], distance) for distance, pk in chosen]


def _bounding_box(latitude, longitude, radius_km) -> Q:
    delta_latitude = radius_km / KM_PER_DEGREE_LATITUDE
    south, north = latitude - delta_latitude, latitude + delta_latitude
    box = Q(latitude__gte=max(south, -90), latitude__lte=min(north, 90))
    if south <= -90 or north >= 90:  # the box holds a pole: every longitude
        return box
    # A degree of longitude is shortest at the box's edge furthest from the equator.
    narrowest = math.cos(math.radians(max(abs(south), abs(north))))
    delta_longitude = radius_km / (KM_PER_DEGREE_LATITUDE * narrowest)
    if delta_longitude >= 180:
        return box
    west, east = longitude - delta_longitude, longitude + delta_longitude
    if west < -180:  # across the date line: two longitude ranges
        return box & (Q(longitude__gte=west + 360) | Q(longitude__lte=east))
    if east > 180:
        return box & (Q(longitude__gte=west) | Q(longitude__lte=east - 360))
    return box & Q(longitude__gte=west, longitude__lte=east)


def locate_postcode(postcode, country=None):
    """Coordinates of a postcode from the imported table, or None."""
    lookup = PostcodeLocation.objects.filter(postcode=(postcode or "").strip().replace(" ", ""))
    if country:
        lookup = lookup.filter(country=country.upper())
    return lookup.first()


def my_store(request):
    """The shopper's chosen store: from the session, else from their account. Cached per request."""
    if not hasattr(request, "_my_store"):
        request._my_store = _load_my_store(request)
    return request._my_store


def _load_my_store(request):
    store_id = request.session.get(MY_STORE_SESSION_KEY)
    if store_id is None and getattr(request, "user", None) is not None and request.user.is_authenticated:
        store_id = request.user.preferred_store_id
    if store_id is None:
        return None
    return Store.objects.active().filter(pk=store_id).first()


@dataclass
class StoreListing:
    """A store as shown in lists: whether it is open (in its own time zone) and how far away it is."""

    store: Store
    is_open: bool
    distance_km: float | None = None


def store_listings(*, latitude=None, longitude=None, limit=None, now=None) -> list[StoreListing]:
    """Active stores with "open now": nearest first when a location is given, else by city and name.

    Two queries whatever the number of stores (the stores, then all their opening hours), and the
    locator's box before them when a location is given.
    """
    now = now or timezone.now()
    if latitude is not None and longitude is not None:
        ranked = nearest_stores(latitude=latitude, longitude=longitude, limit=limit)
        open_now = open_store_ids([item.store for item in ranked], now)
        return [
            StoreListing(store=item.store, is_open=item.store.pk in open_now, distance_km=item.distance_km)
            for item in ranked
        ]
    stores = Store.objects.active().order_by("city", "name", "pk")
    stores = list(stores[:limit] if limit is not None else stores)
    open_now = open_store_ids(stores, now)
    return [StoreListing(store=store, is_open=store.pk in open_now) for store in stores]


def open_store_ids(stores, now) -> set[int]:
    """The ids of those of `stores` open at `now`, each judged in its own time zone, as
    Store.is_open_at does: one query reading their opening hours as plain values (a chain's
    thousands of OpeningHours instances would cost milliseconds to build)."""
    local_now = {store.pk: now.astimezone(store.zone) for store in stores}
    hours = OpeningHours.objects.filter(store_id__in=list(local_now)).values_list(
        "store_id", "weekday", "opens", "closes"
    )
    return {
        store_id
        for store_id, weekday, opens, closes in hours
        if weekday == local_now[store_id].weekday() and opens <= local_now[store_id].time() < closes
    }


def store_with_hours(slug):
    """An active store by slug with its opening hours prefetched, or None."""
    return Store.objects.active().prefetch_related("opening_hours").filter(slug=slug).first()


@dataclass
class DayHours:
    weekday: int
    label: str
    intervals: list[OpeningHours]
    is_today: bool


def weekly_hours(store, now=None) -> list[DayHours]:
    """Monday to Sunday with each day's opening intervals (empty: closed), today marked in the
    store's own time zone. Uses prefetched hours when present."""
    today = store.local_now(now).weekday()
    by_day = {}
    for interval in store.opening_hours.all():
        by_day.setdefault(interval.weekday, []).append(interval)
    return [
        DayHours(
            weekday=day,
            label=label,
            intervals=sorted(by_day.get(day, []), key=lambda interval: interval.opens),
            is_today=day == today,
        )
        for day, label in OpeningHours.Weekday.choices
    ]


@dataclass
class StoreAvailability:
    """How many units of one product a store can sell now."""

    store: Store
    available: int
    is_open: bool
    is_my_store: bool = False
    distance_km: float | None = None

    @property
    def in_stock(self):
        return self.available > 0


def product_availability(*, product, my_store=None, now=None) -> list[StoreAvailability]:
    """The product's availability in every active store, "my store" first, then the others
    nearest to my store (or by city and name when no store is chosen).

    Two queries whatever the number of stores: stores annotated with the available units
    (a subquery on StockLevel, by its (product, store) index), then all their opening hours.
    """
    return _arranged(_availability_rows(product=product, now=now or timezone.now()), my_store)


def cached_product_availability(*, product, my_store=None, stock_stamp=None) -> list[StoreAvailability]:
    """product_availability from the cache while the product's stock version stamp holds (any
    stock change of the product, anywhere, makes a new one) and within the minute ("open now").
    For shop pages only: checkout reserves against the locked stock rows, never this."""
    if stock_stamp is None:
        stock_key = fragment_cache.product_stock_key(product.pk)
        stock_stamp = fragment_cache.versions(stock_key)[stock_key]
    key = f"stores:availability:{product.pk}:{stock_stamp}:{fragment_cache.minute_bucket()}"
    rows = fragment_cache.fragments().get(key)
    if rows is None:
        rows = _availability_rows(product=product, now=timezone.now())
        fragment_cache.fragments().set(key, rows, fragment_cache.FRAGMENT_SECONDS)
    return _arranged(rows, my_store)


def _availability_rows(*, product, now):
    available = (
        StockLevel.objects.filter(store=OuterRef("pk"), product=product).with_available().values("available_quantity")
    )
    stores = list(
        Store.objects.active()
        .annotate(available_units=Coalesce(Subquery(available[:1], output_field=IntegerField()), Value(0)))
        .order_by("city", "name", "pk")
    )
    open_now = open_store_ids(stores, now)
    return [
        StoreAvailability(store=store, available=max(store.available_units, 0), is_open=store.pk in open_now)
        for store in stores
    ]


def _arranged(rows, my_store):
    """Fresh rows for this shopper: my store marked and first, the others by distance from it."""
    if my_store is None:
        return [replace(row) for row in rows]
    arranged = [
        replace(
            row,
            is_my_store=row.store.pk == my_store.pk,
            distance_km=distance_km(my_store.latitude, my_store.longitude, row.store.latitude, row.store.longitude),
        )
        for row in rows
    ]
    # Stable sort: ties in distance keep the city/name order from the database.
    arranged.sort(key=lambda row: (not row.is_my_store, row.distance_km))
    return arranged
