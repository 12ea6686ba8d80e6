"""Reads about stores: the shopper's store, nearest stores, availability across stores."""

import copy
import datetime
import math
import time
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, connections, router
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from catalog.models import Product
from o2o_site.cache import stamps

from .models import OpeningHours, PostcodeLocation, SpecialOpeningHours, StockLevel, Store, home_country
from .opening import hours_on

MY_STORE_SESSION_KEY = "my_store_id"
EARTH_RADIUS_KM = 6371.0


def distance_km(lat1: float | Decimal, lon1: float | Decimal, lat2: float | Decimal, lon2: float | Decimal) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, map(float, (lat1, lon1, lat2, lon2)))
    a = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


@dataclass
class StoreDistance:
    store: Store
    distance_km: float


# The locator's first circle reaches this far (a city's stores); it grows until it holds enough.
FIRST_SEARCH_RADIUS_KM = 10.0
KM_PER_DEGREE_LATITUDE = 111.19


def nearest_stores(
    *,
    latitude: float | Decimal,
    longitude: float | Decimal,
    limit: int | None = 10,
    country: str | None = None,
    directory: "StoreDirectory | None" = None,
) -> list[StoreDistance]:
    """The `limit` stores nearest to a point, exactly, without looking at every store; with
    `country` (an ISO code), only that country's stores.

    A bounding box around the point (a range of the directory's stores sorted by latitude, then
    longitude) picks the candidates; haversine ranks them. The box holds the whole circle of its
    radius, so once at least `limit` candidates lie within the radius, no store outside the box
    can be nearer; with too few, the radius grows fourfold. No query: the stores come from the
    store directory.
    """
    directory = directory or store_directory()
    latitude, longitude = float(latitude), float(longitude)
    radius = FIRST_SEARCH_RADIUS_KM if limit is not None else math.pi * EARTH_RADIUS_KM
    while True:
        whole_earth = radius >= math.pi * EARTH_RADIUS_KM
        candidates = (
            directory.everywhere() if whole_earth else directory.in_box(*_bounding_box(latitude, longitude, radius))
        )
        if country is not None:
            candidates = [entry for entry in candidates if entry[3].country == country]
        ranked = sorted(
            (distance_km(latitude, longitude, store_latitude, store_longitude), pk, store)
            for store_latitude, store_longitude, pk, store in candidates
        )
        within = [item for item in ranked if item[0] <= radius]
        if whole_earth or len(within) >= limit:
            chosen = (ranked if whole_earth else within)[:limit]
            break
        # Grow the circle to about the area that should hold enough stores at the density seen.
        radius *= min(4.0, max(1.5, 1.3 * math.sqrt(limit / max(len(within), 1))))
    return [StoreDistance(store, distance) for distance, _pk, store in chosen]


def country_near(
    *, latitude: float | Decimal, longitude: float | Decimal, directory: "StoreDirectory | None" = None
) -> str | None:
    """The country of the store nearest to a point (None without stores): where a shopper the
    browser located shops, as far as the shop can tell without a map of borders."""
    found = nearest_stores(latitude=latitude, longitude=longitude, limit=1, directory=directory)
    return found[0].store.country if found else None


def _bounding_box(latitude, longitude, radius_km):
    """(south, north, longitude ranges) of a box holding the circle; no ranges: every longitude."""
    delta_latitude = radius_km / KM_PER_DEGREE_LATITUDE
    south, north = latitude - delta_latitude, latitude + delta_latitude
    if south <= -90 or north >= 90:  # the box holds a pole: every longitude
        return max(south, -90), min(north, 90), None
    # A degree of longitude is shortest at the box's edge furthest from the equator.
    narrowest = math.cos(math.radians(max(abs(south), abs(north))))
    delta_longitude = radius_km / (KM_PER_DEGREE_LATITUDE * narrowest)
    if delta_longitude >= 180:
        return south, north, None
    west, east = longitude - delta_longitude, longitude + delta_longitude
    if west < -180:  # across the date line: two longitude ranges
        return south, north, ((west + 360, 180), (-180, east))
    if east > 180:
        return south, north, ((west, 180), (-180, east - 360))
    return south, north, ((west, east),)


# --- the store directory ----------------------------------------------------------------------

# A store changed without stores.services.stores_changed() (a shell, a data migration) shows in
# the locator within this long.
DIRECTORY_SECONDS = 60
_directory = {"stamp": None, "directory": None}
# Stores whose neighbours by distance a directory keeps (StoreDirectory.arranged_for).
ARRANGED_KEPT = 500


class StoreDirectory:
    """Every active store with its opening hours, in this process's memory, sorted by latitude.

    A chain's stores change a few times a day and the locator reads them on every visit, so it
    ranks and shows them from here without a query. Built from three queries (the stores, their
    week's hours, their special dates around today) once per version of
    the stores (stores.services.stores_changed stamps a new one: the admin's saves, the demo
    seeding) and at most DIRECTORY_SECONDS old.
    """

    def __init__(self, stores, weekly, specials, *, stamp=None):
        """`weekly`: the stores' OpeningHours; `specials`: their SpecialOpeningHours around today."""
        self.stamp, self.built_at = stamp, time.monotonic()
        self._by_latitude = sorted((float(store.latitude), float(store.longitude), store.pk, store) for store in stores)
        self._latitudes = [entry[0] for entry in self._by_latitude]
        self.by_city_and_name = sorted(stores, key=lambda store: (store.city, store.name, store.pk))
        self.by_city_and_name_pks = [(store, store.pk) for store in self.by_city_and_name]
        self._weekly, self._specials = {}, {}
        for interval in weekly:
            self._weekly.setdefault(interval.store_id, []).append(interval)
        for special in specials:
            self._specials.setdefault(special.store_id, {})[special.date] = special
        self._zones = {store.pk: store.zone for store in stores}
        self._by_pk = {store.pk: store for store in stores}
        # Hours given to the minute (as the admin takes them): every moment of a minute has the
        # same stores open, so open_now() works it out once a minute.
        times = [time for interval in (*weekly, *specials) for time in (interval.opens, interval.closes) if time]
        self._whole_minutes = all(time.second == 0 and time.microsecond == 0 for time in times)
        self._open_now = (None, frozenset())
        self._arranged = {}

    def everywhere(self):
        return self._by_latitude

    def store(self, pk: int) -> Store | None:
        """The active store with this id, or None (shared: copy it before changing it)."""
        return self._by_pk.get(pk)

    def in_box(self, south, north, longitude_ranges):
        """(latitude, longitude, pk, store) of the stores in the box."""
        entries = self._by_latitude[bisect_left(self._latitudes, south) : bisect_right(self._latitudes, north)]
        if longitude_ranges is None:
            return entries
        if len(longitude_ranges) == 1:  # a chain's latitude band holds thousands of stores: keep this loop tight
            ((west, east),) = longitude_ranges
            return [entry for entry in entries if west <= entry[1] <= east]
        return [entry for entry in entries if any(west <= entry[1] <= east for west, east in longitude_ranges)]

    def open_now(self, now) -> frozenset[int]:
        """The ids of every store open at `now` (open_ids), worked out once a minute."""
        if not self._whole_minutes:
            return frozenset(self.open_ids(self._zones, now))
        minute = now.replace(second=0, microsecond=0)
        if self._open_now[0] != minute:
            self._open_now = (minute, frozenset(self.open_ids(self._zones, minute)))
        return self._open_now[1]

    def arranged_for(self, my_store) -> list[tuple]:
        """(store, km from my store, its pk) for the stores of my store's country: my store first, then
        by distance, ties in city and name order. Kept per store while the directory lives (the
        last ARRANGED_KEPT stores asked for)."""
        key = (my_store.pk, my_store.latitude, my_store.longitude, my_store.country)
        found = self._arranged.get(key)
        if found is None:
            found = [
                (store, distance_km(my_store.latitude, my_store.longitude, store.latitude, store.longitude))
                for store in self.by_city_and_name
                if store.country == my_store.country
            ]
            # Stable sort: ties in distance keep the city/name order.
            found.sort(key=lambda row: (row[0].pk != my_store.pk, row[1]))
            # With each store's pk read once (a model's pk is a property): a product page lists
            # every store of the country from these.
            found = [(store, distance, store.pk) for store, distance in found]
            if len(self._arranged) >= ARRANGED_KEPT:
                self._arranged.clear()
            self._arranged[key] = found
        return found

    def open_ids(self, store_ids, now) -> set[int]:
        """Those of `store_ids` open at `now`, each judged in its own time zone by the one rule of
        stores.opening: a special date's hours on that date (a holiday, stock-taking), else the week's."""
        found = set()
        for store_id in store_ids:
            zone = self._zones.get(store_id)
            if zone is None:
                continue
            local = now.astimezone(zone)
            at = local.time()
            intervals = hours_on(local.date(), self._weekly.get(store_id, ()), self._specials.get(store_id, {}))
            if any(opens <= at < closes for opens, closes in intervals):
                found.add(store_id)
        return found


def store_directory() -> StoreDirectory:
    """This process's directory of the current stores, built again when they changed."""
    stamp = stamps.versions(stamps.STORES)[stamps.STORES]
    directory = _directory["directory"]
    if _directory["stamp"] != stamp or time.monotonic() - directory.built_at > DIRECTORY_SECONDS:
        stores = list(Store.objects.for_shoppers())
        directory = StoreDirectory(stores, *_directory_hours(), stamp=stamp)
        _directory.update(stamp=stamp, directory=directory)
    return directory


def _directory_hours():
    """(the week's hours of every active store, their special dates around today), so "open now"
    knows a holiday."""
    fields = ("store", "opens", "closes")
    week = OpeningHours.objects.filter(store__is_active=True).order_by().only("weekday", *fields)
    # A day either side of today in UTC covers every store's own today while the directory lives.
    today = timezone.now().date()
    around_today = (today - datetime.timedelta(days=1), today + datetime.timedelta(days=2))
    specials = (
        SpecialOpeningHours.objects.filter(store__is_active=True, date__range=around_today)
        .order_by()
        .only("date", *fields)
    )
    return list(week), list(specials)


def locate_postcode(postcode: str | None, country: str | None = None) -> PostcodeLocation | None:
    """Coordinates of a postcode from the imported table, or None."""
    lookup = PostcodeLocation.objects.filter(postcode=(postcode or "").strip().replace(" ", ""))
    if country:
        lookup = lookup.filter(country=country.upper())
    return lookup.first()


def my_store(request: HttpRequest, *, from_directory: bool = False) -> Store | None:
    """The shopper's chosen store: from the session, else from their account. Cached per request.

    With `from_directory` (the catalog's pages, which every shopper asks for, a whole-page cache
    hit too): a copy of the store directory's, so no query (the query was 1.7 ms of a page's
    CPU); a store the directory does not hold yet (added since it was built, without
    stores_changed) is read. The copy keeps what a request sets on it from reaching another.
    Pages that change things (the cart) read the row; the checkout only orders its stores by it
    (checkout.views._stores_to_offer), and reads the stores it lists."""
    if not hasattr(request, "_my_store"):
        request._my_store = _load_my_store(request, from_directory=from_directory)
    return request._my_store


def _load_my_store(request, *, from_directory):
    store_id = request.session.get(MY_STORE_SESSION_KEY)
    if store_id is None and getattr(request, "user", None) is not None and request.user.is_authenticated:
        store_id = request.user.preferred_store_id
    if store_id is None:
        return None
    if from_directory and (store := store_directory().store(store_id)) is not None:
        return copy.copy(store)
    return Store.objects.for_shoppers().filter(pk=store_id).first()


@dataclass
class StoreListing:
    """A store as shown in lists: whether it is open (in its own time zone) and how far away it is."""

    store: Store
    is_open: bool
    distance_km: float | None = None


def store_listings(
    *,
    latitude: float | Decimal | None = None,
    longitude: float | Decimal | None = None,
    limit: int | None = None,
    country: str | None = None,
    now: datetime.datetime | None = None,
    directory: StoreDirectory | None = None,
) -> list[StoreListing]:
    """Active stores with "open now": nearest first when a location is given (with `country`,
    that country's only), else the shop's home country's first (stores.models.home_country), by
    city and name. No query: from the store directory."""
    now = now or timezone.now()
    directory = directory or store_directory()
    if latitude is not None and longitude is not None:
        ranked = nearest_stores(
            latitude=latitude, longitude=longitude, limit=limit, country=country, directory=directory
        )
        open_now = directory.open_ids([item.store.pk for item in ranked], now)
        return [
            StoreListing(store=item.store, is_open=item.store.pk in open_now, distance_km=item.distance_km)
            for item in ranked
        ]
    stores = home_country_first(directory.by_city_and_name)
    stores = stores[:limit] if limit is not None else stores
    open_now = directory.open_ids([store.pk for store in stores], now)
    return [StoreListing(store=store, is_open=store.pk in open_now) for store in stores]


def home_country_first(stores: list[Store]) -> list[Store]:
    """`stores` with the shop's home country's first, each country's in the order given."""
    home = home_country()
    return sorted(stores, key=lambda store: store.country != home)


def store_with_hours(slug: str, *, now: datetime.datetime | None = None) -> Store | None:
    """An active store by slug, or None; with its opening hours prefetched and, as
    `upcoming_special_hours`, its special dates from yesterday on (the store's "today" may still
    be yesterday in UTC)."""
    since = (now or timezone.now()).date() - datetime.timedelta(days=1)
    return (
        Store.objects.for_shoppers()
        .prefetch_related(
            "opening_hours",
            Prefetch(
                "special_hours",
                queryset=SpecialOpeningHours.objects.filter(date__gte=since).order_by("date"),
                to_attr="upcoming_special_hours",
            ),
        )
        .filter(slug=slug)
        .first()
    )


@dataclass
class DayHours:
    weekday: int
    label: str
    intervals: list[OpeningHours]
    is_today: bool


def weekly_hours(store: Store, now: datetime.datetime | None = None) -> list[DayHours]:
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


@dataclass(slots=True)
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


def product_availability(
    *, product: Product, my_store: Store | None = None, now: datetime.datetime | None = None
) -> list[StoreAvailability]:
    """The product's availability in every active store, "my store" first, then the others of its
    country nearest to it (or every store by city and name when no store is chosen).

    One query whatever the number of stores: the product's stock rows, by the (product, store)
    index; the stores and "open now" come from the store directory.
    """
    units = _units_per_store([product.pk])[product.pk]
    return arranged_availability(units=units, my_store=my_store, now=now or timezone.now())


def cached_product_availability(
    *, product: Product, my_store: Store | None = None, stock_stamp: str | None = None
) -> list[StoreAvailability]:
    """product_availability with the units from the cache while the product's stock version stamp
    holds (any stock change of the product, anywhere, makes a new one); "open now" is judged
    afresh. For shop pages only: checkout reserves against the locked stock rows, never this."""
    if stock_stamp is None:
        stock_key = stamps.product_stock_key(product.pk)
        stock_stamp = stamps.versions(stock_key)[stock_key]
    units = cached_units_per_store({product.pk: stock_stamp})[product.pk]
    return arranged_availability(units=units, my_store=my_store, now=timezone.now())


def cached_units_per_store(stock_stamps: dict[int, str]) -> dict[int, dict[int, int]]:
    """{product id: {store id: units a shopper can buy}} for the products of `stock_stamps`
    ({product id: its stock version stamp}), from the cache while each stamp holds: one cache
    round trip, and one query for those it does not hold. For shop pages only, as
    cached_product_availability."""
    # Numbers, the same in every language.
    keys = {pk: stamps.key("stores:units", pk, stamp, neutral=True) for pk, stamp in stock_stamps.items()}
    found = stamps.fragments().get_many(list(keys.values())) if keys else {}
    units = {pk: found[key] for pk, key in keys.items() if key in found}
    missing = [pk for pk in keys if pk not in units]
    if missing:
        read = _units_per_store(missing)
        stamps.fragments().set_many({keys[pk]: read[pk] for pk in missing}, stamps.FRAGMENT_SECONDS)
        units.update(read)
    return units


def _units_per_store(product_ids: list[int]) -> dict[int, dict[int, int]]:
    """{product id: {store id: units a shopper can buy}} for the products, from their stock rows
    only (by the (product, store) index), in SQL written here: the ORM took longer to compile this
    read than PostgreSQL to answer it (0.9 ms of a product page's miss, now 0.3)."""
    units = {pk: {} for pk in product_ids}
    database = connections[router.db_for_read(StockLevel)]
    field, quote = StockLevel._meta.get_field, database.ops.quote_name
    sql = (
        f"SELECT {quote(field('product').column)}, {quote(field('store').column)}, "
        f"{quote(field('on_hand').column)} - {quote(field('reserved').column)} "
        f"FROM {quote(StockLevel._meta.db_table)} "
        f"WHERE {quote(field('product').column)} IN ({', '.join(['%s'] * len(product_ids))})"
    )
    with database.cursor() as cursor:
        cursor.execute(sql, list(product_ids))
        for product_id, store_id, available in cursor.fetchall():
            units[product_id][store_id] = available
    return units


def arranged_availability(
    *, units: dict[int, int], my_store: Store | None, now: datetime.datetime
) -> list[StoreAvailability]:
    """Fresh rows for this shopper: with a store, mine marked and first, then the other stores of
    my store's country by distance from it; without one, every store by city and name. A store
    abroad is never "near": the shopper picks up in the country they shop in (and a border can be
    1,700 km of sea away). The order and "open now" come from the store directory."""
    directory = store_directory()
    open_now = directory.open_now(now)
    # Positional and with each pk read once: a row for each of a country's hundreds of stores.
    if my_store is None:
        return [
            StoreAvailability(store, max(units.get(pk, 0), 0), pk in open_now)
            for store, pk in directory.by_city_and_name_pks
        ]
    mine = my_store.pk
    return [
        StoreAvailability(store, max(units.get(pk, 0), 0), pk in open_now, pk == mine, distance)
        for store, distance, pk in directory.arranged_for(my_store)
    ]


def nearest_that_have_it(rows: Iterable[StoreAvailability], *, limit: int) -> list[StoreAvailability]:
    """Of a product's availability arranged for my store (product_availability), the `limit`
    other stores nearest to mine that have a unit to sell and hand orders over: where a shopper
    whose store has sold out can pick it up instead."""
    found = [row for row in rows if not row.is_my_store and row.in_stock and row.store.offers_pickup]
    return found[:limit]


def only_available_at(products: QuerySet[Product], *, store: Store) -> QuerySet[Product]:
    """`products` narrowed to those with at least one unit a shopper can buy at `store`: of their
    own, or of one of their variants (a sweater is in stock when a size of it is)."""
    at_store = StockLevel.objects.filter(store=store).available().order_by()
    return products.filter(
        Exists(at_store.filter(product=OuterRef("pk")))
        | Exists(at_store.filter(product__parent=OuterRef("pk"), product__is_active=True))
    )


def available_at_condition(store: Store) -> tuple[str, list]:
    """only_available_at's condition as SQL on the product `p`, with its parameters, for
    catalog.selectors.PlainListing and SearchListing (stores/tests/test_available_at_condition.py
    compares them)."""
    quote = connection.ops.quote_name
    table, levels = quote(Product._meta.db_table), quote(StockLevel._meta.db_table)
    # The variants' branch starts from the variants (the parent_id index), not from the store's
    # stock: as `EXISTS (… v.parent_id = p.id)` PostgreSQL hashed it by joining every stock row
    # of the store to every product (a sequential scan of the catalogue, ~25 ms of a list's 37 on
    # the bench's 10 000 products, and its cost estimate sent the home page's count to JIT).
    # The product's own branch is left for PostgreSQL to hash (it reads the store's stock rows
    # once: ~8 ms for a page of 10 000 products in stock, ~20 ms of 30 000) or to look up product
    # by product. Forcing the look-ups (OFFSET 0 in the EXISTS) made a page of a store that has
    # most products 1-4 ms whatever the catalogue's size, but one of a store that has few of them
    # walked the whole catalogue a look-up at a time: 70-100 ms of 10 000 products, 300-480 ms of
    # 30 000 (hashed: 9-19 and 30-67 ms), and a price sort (which reads every product) twice as
    # slow. The count is capped instead (PlainListing's count_at_most).
    return (
        f"EXISTS (SELECT 1 FROM {levels} l WHERE l.store_id = %s AND l.on_hand > l.reserved AND l.product_id = p.id) "
        f"OR p.id IN (SELECT v.parent_id FROM {table} v INNER JOIN {levels} l ON l.product_id = v.id "
        "WHERE v.parent_id IS NOT NULL AND v.is_active AND l.store_id = %s AND l.on_hand > l.reserved)",
        [store.pk, store.pk],
    )


def units_at(store: Store, product_ids: Iterable[int]) -> dict[int, int]:
    """{product id: the units a shopper can buy at `store`} for the cards of a list page (0 when
    none; a product with variants has the units of its variants for sale, a variant shown on its
    own counting to itself): one query reading the page's rows only, whatever the catalogue's
    size, its SQL written here because the ORM took longer to compile it (~1.5 ms) than
    PostgreSQL to answer it. Read for the page shown only: a subquery per row would run for every
    row an OFFSET skips, ten thousand of them on a deep page. Read on every list page shown, a
    whole-page cache hit too (storefront/listing_html.fill_store_parts)."""
    product_ids = list(dict.fromkeys(product_ids))
    if not product_ids:
        return {}
    quote = connection.ops.quote_name
    table, levels = quote(Product._meta.db_table), quote(StockLevel._meta.db_table)
    marks = ", ".join(["%s"] * len(product_ids))
    # Two branches, each answered by an index: the products shown by (store, product), their
    # variants by the variants' parent. One condition with an OR across the join made PostgreSQL
    # read every stock row of the store and every product (27 ms with 10 000 products; growing
    # with the catalogue), for the page's 24 rows (0.5 ms).
    sql = (
        f"SELECT l.product_id, NULL, l.on_hand - l.reserved FROM {levels} l "
        f"WHERE l.store_id = %s AND l.product_id IN ({marks}) "
        f"UNION ALL "
        f"SELECT l.product_id, p.parent_id, l.on_hand - l.reserved FROM {table} p "
        f"INNER JOIN {levels} l ON l.product_id = p.id AND l.store_id = %s "
        f"WHERE p.parent_id IN ({marks}) AND p.is_active AND p.id NOT IN ({marks})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [store.pk, *product_ids, store.pk, *product_ids, *product_ids])
        rows = cursor.fetchall()
    shown = set(product_ids)
    units = dict.fromkeys(product_ids, 0)
    for product_id, parent_id, available in rows:
        owner = product_id if product_id in shown else parent_id
        units[owner] += max(available, 0)
    return units
