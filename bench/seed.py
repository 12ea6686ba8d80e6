"""A chain-sized shop, fast: categories, stores and orders with bulk_create, the stock table
(every store × product) with one INSERT … SELECT over the stores × the products, made inside
PostgreSQL with the table's secondary indexes built afterwards (30 million rows in minutes).

Run inside the bench process after django.setup() against the (empty, migrated) bench database.
"""

import datetime
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from catalog.models import Category, Product
from o2o_site.vat import vat_included, vat_rate
from orders.models import (
    Fulfilment,
    FulfilmentLine,
    FulfilmentMethod,
    FulfilmentStatus,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
)
from pickup.models import Pickup
from stores.models import OpeningHours, PostcodeLocation, StockLevel, Store
from stores.services import stores_changed

from .delivery import seed_delivery

WORDS = [
    "wool",
    "lopi",
    "knitted",
    "rain",
    "warm",
    "arctic",
    "fjord",
    "lava",
    "birch",
    "moss",
    "puffin",
    "herring",
    "salt",
    "smoked",
    "skyr",
    "oat",
    "rye",
    "linen",
    "cotton",
    "waxed",
    "leather",
    "glacier",
    "aurora",
    "midnight",
    "sun",
    "harbour",
    "stone",
    "oak",
    "pine",
    "copper",
    "enamel",
    "ceramic",
    "wooden",
    "heavy",
    "light",
    "travel",
    "kitchen",
    "garden",
    "winter",
    "summer",
]
NOUNS = [
    "sweater",
    "mittens",
    "hat",
    "scarf",
    "jacket",
    "boots",
    "socks",
    "blanket",
    "mug",
    "bowl",
    "kettle",
    "lamp",
    "candle",
    "rug",
    "backpack",
    "tent",
    "map",
    "knife",
    "spoon",
    "plate",
    "jam",
    "tea",
    "coffee",
    "chocolate",
    "soap",
    "towel",
]
# Where the chain's stores are scattered: Iceland and southern Norway.
REGIONS = ((63.3, 66.5, -24.0, -13.5), (58.0, 63.5, 5.0, 12.0))
HOT_PRODUCTS = 5
HOT_STORES = 3
HOT_UNITS = 40
# Stores whose stock rows one INSERT makes (30 000 products: 1.5 million rows, sorted in memory).
STOCK_STORES_PER_STATEMENT = 50


@dataclass
class Size:
    products: int
    categories: int
    stores: int
    past_orders: int

    @classmethod
    def full(cls):
        return cls(products=10_000, categories=50, stores=300, past_orders=5_000)

    @classmethod
    def large(cls):
        """Issue 16's growth: 30 000 products × 1 000 stores, 30 million stock rows."""
        return cls(products=30_000, categories=50, stores=1_000, past_orders=5_000)

    @classmethod
    def small(cls):
        return cls(products=1_000, categories=50, stores=30, past_orders=500)


@dataclass
class Seeded:
    size: Size
    seconds: float
    stock_rows: int
    postcodes: int
    category_slug: str
    product_slug: str
    product_sku: str
    hot_product_ids: list
    hot_store_ids: list
    cold_product_ids: list


def seed(size: Size, *, rng=None) -> Seeded:
    rng = rng or random.Random(20261123)
    started = time.monotonic()
    with transaction.atomic():
        categories = _categories(size.categories)
        products = _products(size.products, categories, rng)
        stores = add_stores(size.stores, rng, prefix="store")
    stock_rows = _stock(stores, products, rng)
    hot_products, hot_stores = products[:HOT_PRODUCTS], stores[:HOT_STORES]
    postcodes = seed_delivery(stores, hot_stores=hot_stores, regions=REGIONS, rng=rng)
    _past_orders(size.past_orders, stores, products, rng)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # What autovacuum does to a live catalogue (it may be off where the bench runs): the
            # rows just written leave the GIN indexes' pending lists (the search's full-text and
            # trigram indexes) for the indexes, which every search would otherwise read through,
            # a list as long as the catalogue (10 000 entries: ~0.5 ms a lookup, 7 a search).
            cursor.execute(
                "SELECT gin_clean_pending_list(i.indexrelid::regclass) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'gin'"
            )
        cursor.execute("ANALYZE")
    middle = products[len(products) // 2]
    return Seeded(
        size=size,
        seconds=time.monotonic() - started,
        stock_rows=stock_rows,
        postcodes=postcodes,
        category_slug=categories[len(categories) // 2].slug,
        product_slug=middle.slug,
        product_sku=middle.sku,
        hot_product_ids=[product.pk for product in hot_products],
        hot_store_ids=[store.pk for store in hot_stores],
        cold_product_ids=[product.pk for product in products[-50:]],
    )


def disk_use() -> dict:
    """What the bench database takes on disk, whole and its stock table with its indexes, as
    PostgreSQL's pg_size_pretty reads ("3214 MB"), and the database's size in bytes."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_database_size(current_database()), pg_size_pretty(pg_database_size(current_database())), "
            "pg_size_pretty(pg_total_relation_size(%s))",
            [StockLevel._meta.db_table],
        )
        in_bytes, database, stock = cursor.fetchone()
    return {"bytes": in_bytes, "database": database, "stock_table": stock}


def seeded_already(size: Size) -> Seeded:
    """What seed() returned, found again in a database seeded by an earlier run (--reuse)."""
    products = list(Product.objects.order_by("pk"))
    stores = list(Store.objects.filter(slug__startswith="bench-store-").order_by("pk"))
    categories = list(Category.objects.order_by("pk"))
    middle = products[len(products) // 2]
    return Seeded(
        size=Size(products=len(products), categories=len(categories), stores=len(stores), past_orders=size.past_orders),
        seconds=0.0,
        stock_rows=StockLevel.objects.count(),
        postcodes=PostcodeLocation.objects.count(),
        category_slug=categories[len(categories) // 2].slug,
        product_slug=middle.slug,
        product_sku=middle.sku,
        hot_product_ids=[product.pk for product in products[:HOT_PRODUCTS]],
        hot_store_ids=[store.pk for store in stores[:HOT_STORES]],
        cold_product_ids=[product.pk for product in products[-50:]],
    )


def _categories(count):
    # A two-level tree: a root for every fifth category, the others its children.
    roots, categories = [], []
    for number in range(count):
        parent = None if number % 5 == 0 else roots[-1]
        category = Category.objects.create(
            name=f"Department {number:02d}" if parent is None else f"Aisle {number:02d}",
            slug=f"bench-category-{number:02d}",
            parent=parent,
            position=number,
        )
        categories.append(category)
        if parent is None:
            roots.append(category)
    return categories


def _products(count, categories, rng):
    products = []
    for number in range(count):
        name = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} {rng.choice(NOUNS)} {number:05d}"
        products.append(
            Product(
                category=categories[number % len(categories)],
                name=name,
                slug=slugify(name),
                sku=f"BEN-{number:05d}",
                description=" ".join(rng.choice(WORDS) for _ in range(30)),
                price=Decimal(rng.randrange(500, 50_000, 100)),
                is_active=True,
            )
        )
    return Product.objects.bulk_create(products, batch_size=2000)


def add_stores(count, rng, *, prefix):
    """`count` active pickup stores with opening hours, scattered over the chain's regions."""
    stores = []
    for number in range(count):
        south, north, west, east = REGIONS[number % len(REGIONS)]
        norway = number % len(REGIONS) == 1
        stores.append(
            Store(
                name=f"Bench {prefix} {number:05d}",
                slug=f"bench-{prefix}-{number:05d}",
                address=f"Aðalgata {number}",
                postcode=f"{100 + number % 900}",
                city="Oslo" if norway else "Reykjavík",
                country="NO" if norway else "IS",
                latitude=Decimal(f"{rng.uniform(south, north):.6f}"),
                longitude=Decimal(f"{rng.uniform(west, east):.6f}"),
                time_zone="Europe/Oslo" if norway else "Atlantic/Reykjavik",
                offers_pickup=True,
                is_active=True,
            )
        )
    stores = Store.objects.bulk_create(stores, batch_size=2000)
    OpeningHours.objects.bulk_create(
        (
            OpeningHours(store=store, weekday=day, opens=datetime.time(9), closes=datetime.time(21))
            for store in stores
            for day in range(7)
        ),
        batch_size=5000,
    )
    stores_changed()  # the locator's store directory (stores.selectors) is built again
    return stores


def _stock(stores, products, rng) -> int:
    """Every store carries every product: one row per store × product, made inside PostgreSQL.

    Python sends nothing per row: INSERT … SELECT statements, STOCK_STORES_PER_STATEMENT stores
    each, cross those stores with the products in the order of the unique (store, product) index,
    15 % of the rows at 0 units, the rest 1-39 (the hot products at the hot stores: HOT_UNITS).
    The secondary indexes are dropped and built again afterwards (one sort each instead of 30
    million random insertions) and the foreign-key triggers are off while inserting (the ids come
    from the tables themselves).
    Returns the number of rows."""
    table = StockLevel._meta.db_table
    hot_stores = [store.pk for store in stores[:HOT_STORES]]
    hot_products = [product.pk for product in products[:HOT_PRODUCTS]]
    store_ids = [store.pk for store in stores]
    product_ids = [product.pk for product in products]
    rows = 0
    with transaction.atomic(), connection.cursor() as cursor, without_secondary_indexes(cursor, table):
        cursor.execute("SELECT setseed(%s)", [rng.random()])
        cursor.execute("SET LOCAL session_replication_role = replica")  # no per-row FK triggers
        cursor.execute("SET LOCAL work_mem = '256MB'")  # each batch sorted in memory
        for first in range(0, len(store_ids), STOCK_STORES_PER_STATEMENT):
            cursor.execute(
                f"""
                INSERT INTO {table} (store_id, product_id, on_hand, reserved, updated_at)
                SELECT s.id, p.id,
                       CASE WHEN s.id = ANY(%(hot_stores)s) AND p.id = ANY(%(hot_products)s) THEN %(hot_units)s
                            WHEN random() < 0.15 THEN 0
                            ELSE 1 + floor(random() * 39)::int END,
                       0, now()
                  FROM unnest(%(stores)s::bigint[]) AS s(id)
                 CROSS JOIN unnest(%(products)s::bigint[]) AS p(id)
                 ORDER BY s.id, p.id
                """,
                {
                    "hot_stores": hot_stores,
                    "hot_products": hot_products,
                    "hot_units": HOT_UNITS,
                    "stores": store_ids[first : first + STOCK_STORES_PER_STATEMENT],
                    "products": product_ids,
                },
            )
            rows += cursor.rowcount
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    return rows


@contextmanager
def without_secondary_indexes(cursor, table):
    """Drop `table`'s unique constraints and indexes other than its primary key, and make them
    again on leaving: a bulk insert then appends to the heap and the primary key only, and each
    index is built by one sort. Run it inside a transaction: after an error, its rollback brings
    the dropped ones back."""
    cursor.execute(
        """
        SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
         WHERE conrelid = %s::regclass AND contype = 'u'
        """,
        [table],
    )
    constraints = cursor.fetchall()
    for name, _definition in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
         WHERE i.tablename = %s AND i.schemaname = current_schema()
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.contype = 'p')
        """,
        [table],
    )
    indexes = cursor.fetchall()
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    yield
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    for name, definition in constraints:
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for _name, definition in indexes:
        cursor.execute(definition)


def _past_orders(count, stores, products, rng):
    """Collected orders from the past months, so order tables are not empty."""
    now = timezone.now()
    orders, lines_by_number = [], {}
    for number in range(count):
        chosen = rng.sample(products, rng.randint(1, 3))
        store = rng.choice(stores)
        lines = []
        for product in chosen:
            units = rng.randint(1, 3)
            rate = vat_rate(country=store.country, vat_class=product.vat_class)
            lines.append(
                OrderLine(
                    product=product,
                    product_name=product.name,
                    sku=product.sku,
                    unit_price=product.price,
                    quantity=units,
                    line_total=product.price * units,
                    vat_rate=rate,
                    vat_amount=vat_included(product.price * units, rate=rate, currency="ISK"),
                )
            )
        order_number = f"P{number:07d}"
        orders.append(
            Order(
                number=order_number,
                contact_name=f"Past shopper {number}",
                contact_email=f"past-{number}@bench.example",
                contact_phone="+354 555 0000",
                store=store,
                status=OrderStatus.COLLECTED,
                currency="ISK",
                total=sum((line.line_total for line in lines), Decimal("0")),
            )
        )
        lines_by_number[order_number] = lines
    with transaction.atomic():
        orders = Order.objects.bulk_create(orders, batch_size=2000)
        all_lines, events = [], []
        for order in orders:
            for line in lines_by_number[order.number]:
                line.order = order
                all_lines.append(line)
            events.append(OrderEvent(order=order, from_status="", to_status=OrderStatus.PLACED))
            events.append(
                OrderEvent(order=order, from_status=OrderStatus.READY_FOR_PICKUP, to_status=OrderStatus.COLLECTED)
            )
        OrderLine.objects.bulk_create(all_lines, batch_size=5000)
        # Each past order was one pickup, collected at its store.
        fulfilments = Fulfilment.objects.bulk_create(
            [
                Fulfilment(
                    order=order,
                    method=FulfilmentMethod.IN_STORE,
                    stock_location_id=order.store_id,
                    status=FulfilmentStatus.FULFILLED,
                    fulfilled_at=now - datetime.timedelta(days=rng.randint(1, 120)),
                )
                for order in orders
            ],
            batch_size=2000,
        )
        fulfilment_of = {fulfilment.order_id: fulfilment for fulfilment in fulfilments}
        FulfilmentLine.objects.bulk_create(
            [
                FulfilmentLine(fulfilment=fulfilment_of[line.order_id], order_line=line, quantity=line.quantity)
                for line in all_lines
            ],
            batch_size=5000,
        )
        Pickup.objects.bulk_create(
            [
                Pickup(fulfilment=fulfilment, store_id=fulfilment.stock_location_id, code=f"{rng.randrange(10**6):06d}")
                for fulfilment in fulfilments
            ],
            batch_size=5000,
        )
        for event in events:
            event.fulfilment = fulfilment_of[event.order_id]
        OrderEvent.objects.bulk_create(events, batch_size=5000)
