"""Reads for the cart, the checkout and the shopper's order pages.

Each page's query count is decided here: a fixed number of queries whatever the number of
lines, stores or orders.
"""

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    prefetch_related_objects,
)
from django.utils.module_loading import import_string

from accounts.models import User
from catalog.models import Product
from o2o_site.rows import columns, from_joined_row, from_row, width
from stores.models import OpeningHours, StockLevel, Store, StoreKind, home_country

from .models import PICKUP_METHODS, Fulfilment, FulfilmentLine, FulfilmentStatus, Order, OrderLine

# A chain has hundreds of stores able to supply a cart; the checkout lists this many of them,
# each with its pickup times, not every one (the form still accepts any pickup store).
CHECKOUT_STORES_SHOWN = 5


def stores_able_to_supply(
    quantities: dict[int, int], *, near: Store | None = None, limit: int | None = None
) -> QuerySet[Store]:
    """Active stores offering pickup that hold enough units of EVERY line ({product_id: units}).

    With `near` (the shopper's store): that store first, then the others of its country nearest
    to it (a store abroad is not near); else every country's, the shop's home country's first
    (stores.models.home_country), by city and name. `limit` keeps the
    first so many. One query for the stores (the stock check is a subquery) and one for their
    opening hours, however many stores or lines there are.
    """
    if not quantities:
        return Store.objects.none()
    enough = Q()
    for product_id, units in quantities.items():
        enough |= Q(product_id=product_id, on_hand__gte=F("reserved") + units)
    supplying = (
        StockLevel.objects.filter(enough)
        .values("store_id")
        .annotate(lines_in_stock=Count("pk"))
        # A store has one row per product (stock_level_unique_store_product), so ">=" is "every
        # line". Written as "=", PostgreSQL guessed one store would pass and joined the stores
        # to each of the ~250 groups in a nested loop: 34 ms a checkout page; ">=": 1.5-6 ms.
        .filter(lines_in_stock__gte=len(quantities))
        .values("store_id")
    )
    stores = (
        Store.objects.offering_pickup()
        .filter(pk__in=supplying)
        .select_related("pickup_settings")
        .prefetch_related("opening_hours")
    )
    if near is not None:
        stores = stores.filter(country=near.country).annotate(
            mine=Case(When(pk=near.pk, then=0), default=1), nearness=_nearness_to(near)
        )
        stores = stores.order_by("mine", "nearness", "city", "name", "pk")
    else:
        abroad = Case(When(country=home_country(), then=0), default=1)
        stores = stores.annotate(abroad=abroad).order_by("abroad", "city", "name", "pk")
    return stores[:limit] if limit is not None else stores


def stores_to_offer(quantities: dict[int, int], *, near: Store | None = None, limit: int) -> list[Store]:
    """stores_able_to_supply(quantities, near=near, limit=limit) as a list, each store with its
    pickup settings and opening hours (prefetched): the stores a checkout page lists, for every
    checkout page and every refused order (a flash sale's hundreds of sold-out shoppers a second).

    One statement written here, not compiled by the ORM (compiling stores_able_to_supply's took
    ~4 ms of the ~6 ms these cost), and the stores' opening hours; the same stores in the same
    order (checkout/tests/test_checkout_reads.py compares them)."""
    if not quantities:
        return []
    table, pickup_settings = Store._meta.db_table, Store._meta.get_field("pickup_settings").related_model
    quote = connection.ops.quote_name
    enough = " OR ".join(["(product_id = %s AND on_hand >= reserved + %s)"] * len(quantities))
    params = [StoreKind.STORE.value, *[value for line in quantities.items() for value in line], len(quantities)]
    if near is not None:
        squeeze = Decimal(str(round(math.cos(math.radians(float(near.latitude))), 6)))
        where, order = (
            "AND s.country = %s",
            (
                "CASE WHEN s.id = %s THEN 0 ELSE 1 END, "
                "(s.latitude - %s) * (s.latitude - %s) + ((s.longitude - %s) * %s) * ((s.longitude - %s) * %s), "
            ),
        )
        params += [
            near.country,
            near.pk,
            near.latitude,
            near.latitude,
            near.longitude,
            squeeze,
            near.longitude,
            squeeze,
        ]
    else:
        where, order = "", "CASE WHEN s.country = %s THEN 0 ELSE 1 END, "
        params.append(home_country())
    sql = (
        f"SELECT {columns(Store, 's')}, {columns(pickup_settings, 'p')} FROM {quote(table)} s "
        f"LEFT OUTER JOIN {quote(pickup_settings._meta.db_table)} p ON p.store_id = s.id "
        "WHERE s.is_active AND s.kind = %s AND s.offers_pickup AND s.id IN ("
        f"SELECT store_id FROM {quote(StockLevel._meta.db_table)} WHERE {enough} "
        # ">=", as stores_able_to_supply says why.
        f"GROUP BY store_id HAVING COUNT(id) >= %s) {where} "
        f"ORDER BY {order}s.city, s.name, s.id LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        rows = cursor.fetchall()
    stores = [_store_from_row(row) for row in rows]
    prefetch_related_objects(stores, "opening_hours")
    return stores


def store_to_place_at(pk: int) -> Store:
    """The store `pk` as it is now, with its pickup settings, as
    Store.objects.select_related("pickup_settings").get(pk=pk) reads them (Store.DoesNotExist
    when there is none): every placing reads them again inside its transaction, so the statement
    is written here, not compiled by the ORM each time (~1 ms; checkout/tests/test_checkout_reads.py
    compares them)."""
    quote = connection.ops.quote_name
    pickup_settings = Store._meta.get_field("pickup_settings").related_model
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns(Store, 's')}, {columns(pickup_settings, 'p')} FROM {quote(Store._meta.db_table)} s "
            f"LEFT OUTER JOIN {quote(pickup_settings._meta.db_table)} p ON p.store_id = s.id WHERE s.id = %s",
            [pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise Store.DoesNotExist(f"store {pk} does not exist")
    return _store_from_row(row)


def _store_from_row(row) -> Store:
    """A store from a row of its columns then its pickup settings' (LEFT OUTER JOINed), as the
    ORM's select_related("pickup_settings") leaves it: the settings None when the store has none."""
    relation = Store._meta.get_field("pickup_settings")
    store = from_row(Store, row[: width(Store)])
    settings = from_joined_row(relation.related_model, row[width(Store) :])
    relation.set_cached_value(store, settings)
    if settings is not None:
        relation.field.set_cached_value(settings, store)
    return store


def _nearness_to(store):
    """Squared distance in degrees of latitude on a flat map around `store` (equirectangular):
    ranks stores by distance like the haversine does at the scale of a country, in SQL."""
    squeeze = Decimal(str(round(math.cos(math.radians(float(store.latitude))), 6)))
    north = F("latitude") - Value(store.latitude)
    east = (F("longitude") - Value(store.longitude)) * Value(squeeze)
    return ExpressionWrapper(north * north + east * east, output_field=DecimalField())


def available_units_at(store: Store | None, product_ids: Iterable[int]) -> dict[int, int]:
    """Units a shopper can still buy at `store`, per product (0 when the store has none)."""
    product_ids = list(product_ids)
    if store is None or not product_ids:
        return {}
    found = dict(
        StockLevel.objects.at_store(store)
        .filter(product_id__in=product_ids)
        .with_available()
        .values_list("product_id", "available_quantity")
    )
    return {product_id: max(found.get(product_id, 0), 0) for product_id in product_ids}


def for_sale_with_units_at(store: Store, product_ids: Iterable[int]) -> dict[int, Product]:
    """The products of `product_ids` a shopper can buy ({pk: product}; those no longer sold are
    missing), each with `units_here`: the units a shopper can still buy at `store`, as
    available_units_at reads them (no lock; may be below 0). One query: placing an order reads
    its products and looks for lines already short together.

    Its SQL is written here, as Product.objects.for_sale() with the units as a subquery would
    write it (checkout/tests/test_checkout_reads.py compares them): every placing and every
    refusal (a flash sale's hundreds a second) reads it, and the ORM took ~2.5 ms to compile it."""
    product_ids = list(dict.fromkeys(product_ids))
    if not product_ids:
        return {}
    quote = connection.ops.quote_name
    table, levels = quote(Product._meta.db_table), quote(StockLevel._meta.db_table)
    sql = (
        f"SELECT {columns(Product, 'p')}, COALESCE((SELECT l.on_hand - l.reserved FROM {levels} l "
        "WHERE l.store_id = %s AND l.product_id = p.id), 0) "
        f"FROM {table} p LEFT OUTER JOIN {table} parent ON p.parent_id = parent.id "
        # ProductQuerySet.for_sale: active, and a variant's product too.
        "WHERE p.is_active AND (p.parent_id IS NULL OR parent.is_active) "
        f"AND p.id IN ({', '.join(['%s'] * len(product_ids))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [store.pk, *product_ids])
        rows = cursor.fetchall()
    found = {}
    for row in rows:
        product = from_row(Product, row[:-1])
        product.units_here = row[-1]
        found[product.pk] = product
    return found


@dataclass(frozen=True)
class Availability:
    store: Store | None
    units: int


def best_pickup_availability(product_id: int) -> Availability:
    """The pickup store of the shop's home country with the most units of the product, for
    shoppers who chose no store (a guest in an Icelandic shop is not sent to Oslo). The store
    is read with its name only (what the cart's messages say)."""
    home = Store.objects.offering_pickup().filter(country=home_country())
    level = (
        StockLevel.objects.filter(product_id=product_id, store__in=home)
        .with_available()
        .select_related("store")
        .only("store__name")
        .order_by("-available_quantity", "store__name")
        .first()
    )
    if level is None:
        return Availability(store=None, units=0)
    return Availability(store=level.store, units=max(level.available_quantity, 0))


def orders_for_page() -> QuerySet[Order]:
    """Orders with everything their page shows: lines, timeline, store and its hours. The page
    (checkout.views.order_detail) adds how each fulfilment reaches the shopper."""
    return Order.objects.select_related("store", "store__pickup_settings").prefetch_related(
        "lines", "events", "store__opening_hours"
    )


def order_history(user: User) -> QuerySet[Order]:
    """A shopper's own orders, newest first, with their store and number of items: one query."""
    # Explicit: an aggregate's GROUP BY query does not apply Meta.ordering.
    return (
        Order.objects.for_customer(user)
        .select_related("store")
        # Goods only: a delivery or shipping fee is a line without a product, not an item.
        .annotate(item_count=Sum("lines__quantity", filter=Q(lines__product__isnull=False)))
        .order_by("-created_at", "-pk")
    )


@dataclass(frozen=True)
class OpeningDay:
    weekday: int
    label: str
    intervals: list


def opening_week(store: Store) -> list[OpeningDay]:
    """Monday to Sunday with the store's opening intervals (in its own local time); none = closed.

    Uses the prefetched opening hours when there are any.
    """
    by_day = {}
    for interval in store.opening_hours.all():
        by_day.setdefault(interval.weekday, []).append(interval)
    return [
        OpeningDay(weekday=day, label=label, intervals=sorted(by_day.get(day, []), key=lambda i: i.opens))
        for day, label in OpeningHours.Weekday.choices
    ]


def store_ids_holding(quantities: dict[int, int], *, among: Iterable[int]) -> set[int]:
    """Which of the stores `among` (ids) hold enough units of every line ({product id: units}) right
    now: one query, however many stores or lines (the stores that could deliver a cart).

    Every delivery options page asks it, so its SQL is written here, as StockLevel.objects.filter(
    <a line's product and units or …>, store_id__in=among).values("store_id").annotate(Count) would
    write it, not compiled by the ORM each time (~1.5 ms; checkout/tests/test_checkout_reads.py
    compares them)."""
    among = list(among)
    if not quantities or not among:
        return set()
    lines = sorted(quantities.items())
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT store_id FROM {connection.ops.quote_name(StockLevel._meta.db_table)} "
            f"WHERE store_id IN ({', '.join(['%s'] * len(among))}) "
            f"AND ({' OR '.join(['(product_id = %s AND on_hand >= reserved + %s)'] * len(lines))}) "
            "GROUP BY store_id HAVING COUNT(*) >= %s",
            [*among, *(value for line in lines for value in line), len(lines)],
        )
        return {store_id for (store_id,) in cursor.fetchall()}


@dataclass(frozen=True)
class Readiness:
    """How much of an order staff have put aside: units ready (or already collected) of all the
    units its fulfilments carry, and which order lines are ready in full."""

    ready: int
    total: int
    ready_line_ids: frozenset[int]
    collected_line_ids: frozenset[int]
    collected: int = 0  # units already handed over (counted in `ready` too)

    @property
    def partly(self) -> bool:
        """Some items are ready (or collected), not all."""
        return 0 < self.ready < self.total

    @property
    def to_collect(self) -> int:
        """Units ready and not handed over yet: what the shopper may collect now."""
        return self.ready - self.collected

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.ready == self.total


def readiness_of(order: Order) -> Readiness:
    """One query. A line counts as ready when staff marked it ready, or its fulfilment is ready or
    handed over (an order made ready as a whole before lines had their own readiness). Only the
    parts to be picked up count (PICKUP_METHODS): the delivered or shipped part of a split order
    is never "ready" at a counter."""
    ready = total = handed_over_units = 0
    ready_lines: dict[int, bool] = {}
    collected: set[int] = set()
    rows = (
        FulfilmentLine.objects.filter(fulfilment__order=order, fulfilment__method__in=PICKUP_METHODS)
        .exclude(fulfilment__status=FulfilmentStatus.CANCELLED)
        .values_list("order_line_id", "quantity", "ready_at", "fulfilment__status", "handed_over")
    )
    for line_id, quantity, ready_at, status, handed_over in rows:
        is_ready = ready_at is not None or status in (FulfilmentStatus.READY, FulfilmentStatus.FULFILLED)
        total += quantity
        ready += quantity if is_ready else 0
        if handed_over is not None:
            handed_over_units += min(handed_over, quantity)
        elif status == FulfilmentStatus.FULFILLED:
            handed_over_units += quantity
        ready_lines[line_id] = ready_lines.get(line_id, True) and is_ready
        if status == FulfilmentStatus.FULFILLED:
            collected.add(line_id)
    return Readiness(
        ready=ready,
        total=total,
        ready_line_ids=frozenset(line_id for line_id, is_ready in ready_lines.items() if is_ready),
        collected_line_ids=frozenset(collected),
        collected=handed_over_units,
    )


def units_on_the_way(fulfilment_ids: Collection[int]) -> dict[int, dict[int, int]]:
    """{fulfilment id: {product id: units}}: units those fulfilments carry that are not at their
    stock location yet (a transfer is bringing them), as the apps above say
    (settings.O2O_UNITS_ON_THE_WAY: dotted paths of callables taking the ids and answering the
    same shape). Such units are not reserved there: cancelling releases none of them there
    (services.cancel_order), and the fulfilment cannot be got ready until they arrive. One query
    per hook; none for no ids."""
    on_the_way: dict[int, dict[int, int]] = {}
    if not fulfilment_ids:
        return on_the_way
    for path in settings.O2O_UNITS_ON_THE_WAY:
        for fulfilment_id, units in import_string(path)(list(fulfilment_ids)).items():
            mine = on_the_way.setdefault(fulfilment_id, {})
            for product_id, count in units.items():
                mine[product_id] = mine.get(product_id, 0) + count
    return on_the_way


@dataclass(frozen=True)
class OrderPart:
    """One part of a split order as its pages show it: the fulfilment (method, stock location,
    status, stage), the order lines it carries with their units, and what they come to."""

    number: int
    fulfilment: Fulfilment
    lines: tuple[tuple[OrderLine, int], ...]  # (order line, units this part carries)
    total: Decimal


def order_parts(order: Order) -> list[OrderPart]:
    """The parts of a split order, in the order they were placed ([] for an order placed whole):
    two queries (the fulfilments with their stock locations, the lines), however many parts or
    lines."""
    if not order.is_split:
        return []
    fulfilments = list(Fulfilment.objects.filter(order=order).select_related("stock_location").order_by("pk"))
    carried: dict[int, list] = {}
    for line in FulfilmentLine.objects.filter(fulfilment__order=order).select_related("order_line").order_by("pk"):
        carried.setdefault(line.fulfilment_id, []).append((line.order_line, line.quantity))
    return [
        OrderPart(
            number=index,
            fulfilment=fulfilment,
            lines=tuple(carried.get(fulfilment.pk, ())),
            total=sum((line.unit_price * units for line, units in carried.get(fulfilment.pk, ())), Decimal("0")),
        )
        for index, fulfilment in enumerate(fulfilments, start=1)
    ]
