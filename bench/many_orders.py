"""A year of a chain's orders, in bulk: 1 000 000 orders (issue 15's analytics dashboard) in minutes.

Every order is made inside PostgreSQL by INSERT … SELECT over generate_series, nothing per row in
Python: its lines, its one fulfilment (and its lines), the pickup or curbside visit of a pickup,
and the events of its timeline with their times (placed, ready, on the way, arrived, collected,
out for delivery, delivered, shipped, cancelled). Orders are in every channel (web, in store,
kiosk), every method (pickup in store, curbside, local delivery, shipping) and every status;
those still open were placed in the last two days, the rest 9 days to `days` ago (an
uncollected pickup is cancelled 7 days after it was ready), all within the last `days` - 1 days.

Run inside the bench process after django.setup(), against a database seeded by bench/seed.py
(its stores and products): the bench's own database, never the shop's.
"""

import random
import time
from contextlib import ExitStack
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from catalog.models import Product
from instore.models import SaleAttribution, ShelfScan
from orders.models import Fulfilment, FulfilmentLine, Order, OrderEvent, OrderLine
from pickup.models import CurbsideVisit, Pickup
from returns.models import Return
from stores.models import Store

from .seed import without_secondary_indexes

# How an order's channel, method and status are drawn: cumulative shares, tried in order.
CHANNELS = (("web", 0.80), ("kiosk", 0.88), ("in_store", 1.0))
# Web and kiosk orders; an in-store channel order is bought and taken at the till (in_store, collected).
METHODS = (("in_store", 0.55), ("curbside", 0.70), ("local_delivery", 0.90), ("shipping", 1.0))
# Per method: the statuses still open (placed in the last two days) and closed, with their shares.
STATUSES = {
    "in_store": (
        ("awaiting_payment", 0.005),
        ("placed", 0.025),
        ("ready_for_pickup", 0.055),
        ("cancelled", 0.135),
        ("collected", 1.0),
    ),
    "curbside": (
        ("awaiting_payment", 0.005),
        ("placed", 0.025),
        ("ready_for_pickup", 0.055),
        ("cancelled", 0.115),
        ("collected", 1.0),
    ),
    "local_delivery": (
        ("placed", 0.02),
        ("out_for_delivery", 0.04),
        ("cancelled", 0.08),
        ("delivered", 1.0),
    ),
    "shipping": (("placed", 0.03), ("cancelled", 0.06), ("shipped", 1.0)),
}
# Online orders handed over that come back to a store, and of them the share returned to another store.
RETURN_SHARE = 0.03
RETURNED_ELSEWHERE = 0.3
# Shelf-label scans made in the stores, per order; and web orders placed soon after a scan.
SCANS_PER_ORDER = 0.25
SCANNED_SHARE = 0.05
OPEN_STATUSES = ("awaiting_payment", "placed", "ready_for_pickup", "out_for_delivery")
# The fulfilment's status for the order's (orders.models.FULFILMENT_STATUS_OF_ORDER).
FULFILMENT_STATUS = {
    "awaiting_payment": "pending",
    "placed": "pending",
    "ready_for_pickup": "ready",
    "out_for_delivery": "ready",
    "collected": "fulfilled",
    "delivered": "fulfilled",
    "shipped": "fulfilled",
    "cancelled": "cancelled",
}


@dataclass
class SeededOrders:
    orders: int
    lines: int
    fulfilments: int
    events: int
    pickups: int
    curbside_visits: int
    returns: int
    shelf_scans: int
    orders_after_scan: int
    seconds: float
    by_status: dict
    by_channel: dict


def _case(column: str, shares) -> str:
    """SQL choosing a value by a random number in `column` against cumulative `shares`."""
    whens = " ".join(f"WHEN {column} < {share} THEN '{value}'" for value, share in shares[:-1])
    return f"CASE {whens} ELSE '{shares[-1][0]}' END"


def _status_case() -> str:
    arms = " ".join(f"WHEN method = '{method}' THEN {_case('r_status', shares)}" for method, shares in STATUSES.items())
    return f"CASE WHEN channel = 'in_store' THEN 'collected' {arms} END"


def seed_orders(count: int, *, days: int = 365, rng: random.Random | None = None) -> SeededOrders:
    """`count` orders placed over the past `days` at the bench's stores, of its products, with
    their lines, fulfilments, pickups, curbside visits and events; returns the counts made and the
    seconds taken. Raises ValueError when the database holds no stores or products (seed first)."""
    rng = rng or random.Random(20261201)
    started = time.monotonic()
    store_ids = list(Store.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    product_ids = list(Product.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    if not store_ids or not product_ids:
        raise ValueError("seed the stores and products first (bench.seed.seed)")
    vat = [
        (country, vat_class, rate) for country, rates in settings.VAT_RATES.items() for vat_class, rate in rates.items()
    ]
    tables = [
        model._meta.db_table
        for model in (
            Order,
            OrderLine,
            Fulfilment,
            FulfilmentLine,
            OrderEvent,
            Pickup,
            CurbsideVisit,
            Return,
            ShelfScan,
            SaleAttribution,
        )
    ]
    with transaction.atomic(), connection.cursor() as cursor, ExitStack() as indexes:
        cursor.execute("SELECT setseed(%s)", [rng.random() * 2 - 1])
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SELECT coalesce(max(id), 0) FROM orders_order")
        order_base = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(id), 0) FROM orders_fulfilment")
        fulfilment_base = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(id), 0) FROM orders_orderline")
        line_base = cursor.fetchone()[0]
        # Every random draw is made once, into a table of its own, and read from there: a volatile
        # random() left in a subquery may be evaluated again wherever the planner moves it.
        cursor.execute(
            """
            CREATE TEMP TABLE bench_draws ON COMMIT DROP AS
            SELECT g, random() AS r_channel, random() AS r_method, random() AS r_status, random() AS r_ready,
                   random() AS r_done, random() AS r_when, random() AS r_store, random() AS r_lines,
                   random() AS r_online
              FROM generate_series(1, %(count)s) AS g
            """,
            {"count": count},
        )
        # The plan: one row per order.
        cursor.execute(
            f"""
            CREATE TEMP TABLE bench_plan ON COMMIT DROP AS
            -- Numbered in the order they were placed, as a shop's ids and rows are: a range of
            -- days then reads neighbouring rows, not one row from every page of the table.
            SELECT row_number() OVER (ORDER BY created_at, g) AS g, channel, method, status, store_id,
                   created_at, ready_at, done_at, line_count, online, r_done, r_ready
              FROM (
            SELECT g, channel, method, status, store_id, created_at, line_count, online,
                   created_at + make_interval(mins => 30 + (r_ready * 360)::int) AS ready_at,
                   created_at + make_interval(mins => 30 + (r_ready * 360)::int)
                              + make_interval(mins => 20 + (r_done * 2880)::int) AS done_at,
                   r_done, r_ready
              FROM (
                SELECT *, {_status_case()} AS status
                  FROM (
                    SELECT *, CASE WHEN channel = 'in_store' THEN 'in_store' ELSE {_case("r_method", METHODS)} END
                                  AS method
                      FROM (
                        SELECT *, {_case("r_channel", CHANNELS)} AS channel,
                               (%(stores)s::bigint[])[1 + floor(r_store * %(store_count)s)::int] AS store_id,
                               1 + floor(power(r_lines, 2) * 4)::int AS line_count,
                               r_online < 0.7 AS online
                          FROM bench_draws
                      ) drawn
                  ) with_method
              ) with_status,
              LATERAL (
                SELECT now() - CASE WHEN status IN {OPEN_STATUSES}
                                    THEN make_interval(mins => (r_when * 2880)::int)
                                    ELSE make_interval(mins => 12960 + (r_when * (%(days)s - 10) * 1440)::int) END
                           AS created_at
              ) placed
              ) unnumbered
            """,
            {"stores": store_ids, "store_count": len(store_ids), "days": days},
        )
        cursor.execute("CREATE UNIQUE INDEX ON bench_plan (g)")
        cursor.execute(
            """
            CREATE TEMP TABLE bench_line_draws ON COMMIT DROP AS
            SELECT g, n, random() AS r_product, random() AS r_quantity
              FROM bench_plan CROSS JOIN generate_series(1, line_count) AS n
            """
        )
        cursor.execute(
            f"""
            CREATE TEMP TABLE bench_lines ON COMMIT DROP AS
            SELECT {line_base} + row_number() OVER (ORDER BY plan.g, drawn.n) AS id, plan.g, drawn.n,
                   product.id AS product_id, product.name, product.sku, product.price,
                   1 + floor(power(drawn.r_quantity, 3) * 3)::int AS quantity, vat.rate
              FROM bench_line_draws drawn
              JOIN bench_plan plan USING (g)
              JOIN catalog_product product
                ON product.id = (%(products)s::bigint[])[1 + floor(drawn.r_product * %(product_count)s)::int]
              JOIN stores_store store ON store.id = plan.store_id
              JOIN (VALUES {", ".join(f"('{c}', '{v}', {r})" for c, v, r in vat)}) AS vat(country, vat_class, rate)
                ON vat.country = store.country AND vat.vat_class = product.vat_class
            """,
            {"products": product_ids, "product_count": len(product_ids)},
        )
        cursor.execute("CREATE INDEX ON bench_lines (g)")
        for table in tables:
            indexes.enter_context(without_secondary_indexes(cursor, table))
        cursor.execute("SET LOCAL session_replication_role = replica")  # ids made here: no FK triggers
        cursor.execute(
            f"""
            INSERT INTO orders_order (id, number, contact_name, contact_email, contact_phone, status, currency,
                                      total, language, created_at, store_id, channel, cancel_reason,
                                      payment_choice, payment_hold_until, is_split)
            SELECT {order_base} + plan.g, 'Y' || lpad(({order_base} + plan.g)::text, 9, '0'),
                   'Shopper ' || plan.g, 'shopper-' || plan.g || '@bench.example', '+354 555 0000',
                   plan.status, 'ISK', totals.total,
                   (ARRAY['is', 'nb', 'en'])[1 + plan.g % 3], plan.created_at, plan.store_id, plan.channel,
                   CASE WHEN plan.status <> 'cancelled' THEN ''
                        WHEN plan.method IN ('in_store', 'curbside') AND plan.r_done < 0.6 THEN 'not_collected'
                        WHEN plan.r_done < 0.85 THEN 'shopper' ELSE 'store' END,
                   CASE WHEN plan.online OR plan.status = 'awaiting_payment' THEN 'online' ELSE 'at_pickup' END,
                   CASE WHEN plan.status = 'awaiting_payment' THEN plan.created_at + interval '15 minutes' END,
                   false
              FROM bench_plan plan
              JOIN (SELECT g, sum(price * quantity) AS total FROM bench_lines GROUP BY g) totals USING (g)
             ORDER BY plan.g
            """
        )
        orders = cursor.rowcount
        cursor.execute(
            f"""
            INSERT INTO orders_orderline (id, order_id, product_id, product_name, sku, unit_price, quantity,
                                          line_total, discount, vat_rate, vat_amount)
            SELECT id, {order_base} + g, product_id, name, sku, price, quantity, price * quantity, 0, rate,
                   round(price * quantity * rate / (100 + rate))
              FROM bench_lines ORDER BY id
            """
        )
        lines = cursor.rowcount
        cursor.execute(
            f"""
            INSERT INTO orders_fulfilment (id, order_id, method, stock_location_id, status, created_at, fulfilled_at)
            SELECT {fulfilment_base} + g, {order_base} + g, method, store_id,
                   CASE status {" ".join(f"WHEN '{key}' THEN '{value}'" for key, value in FULFILMENT_STATUS.items())}
                   END,
                   created_at,
                   CASE WHEN status IN ('collected', 'delivered', 'shipped') THEN done_at END
              FROM bench_plan ORDER BY g
            """
        )
        fulfilments = cursor.rowcount
        cursor.execute(
            f"""
            INSERT INTO orders_fulfilmentline (fulfilment_id, order_line_id, quantity, handed_over, ready_at)
            SELECT {fulfilment_base} + line.g, line.id, line.quantity,
                   CASE WHEN plan.status IN ('collected', 'delivered', 'shipped') THEN line.quantity END,
                   CASE WHEN plan.status IN ('ready_for_pickup', 'collected')
                          OR (plan.status = 'cancelled' AND plan.method IN ('in_store', 'curbside')
                              AND plan.r_done < 0.6)
                        THEN plan.ready_at END
              FROM bench_lines line JOIN bench_plan plan USING (g) ORDER BY line.id
            """
        )
        cursor.execute(
            f"""
            INSERT INTO pickup_pickup (fulfilment_id, store_id, code, vehicle_description, collector_name)
            SELECT {fulfilment_base} + g, store_id, lpad(floor(random() * 1000000)::int::text, 6, '0'), '', ''
              FROM bench_plan WHERE method IN ('in_store', 'curbside') ORDER BY g
            """
        )
        pickups = cursor.rowcount
        # The curbside shoppers who came: told the store they were on the way, checked in at a
        # bay, waited (1-15 minutes) and were handed their goods.
        cursor.execute(
            f"""
            INSERT INTO pickup_curbsidevisit (fulfilment_id, state, on_the_way_at, arrived_at, bay, vehicle,
                                              handed_over_at, wait_seconds)
            SELECT {fulfilment_base} + g, 'handed_over',
                   done_at - make_interval(secs => wait + 600), done_at - make_interval(secs => wait),
                   1 + g % 4, 'Blue estate car', done_at, wait
              FROM (SELECT *, 60 + (r_done * 840)::int AS wait FROM bench_plan
                     WHERE method = 'curbside' AND status = 'collected') came
             ORDER BY g
            """
        )
        curbside = cursor.rowcount
        cursor.execute(
            f"""
            INSERT INTO orders_orderevent (order_id, fulfilment_id, kind, from_status, to_status, note, created_at)
            SELECT {order_base} + g, {fulfilment_base} + g, kind, from_status, to_status, '', at
              FROM (
                SELECT g, 'status' AS kind, '' AS from_status,
                       CASE WHEN status = 'awaiting_payment' THEN 'awaiting_payment' ELSE 'placed' END AS to_status,
                       created_at AS at
                  FROM bench_plan
                UNION ALL
                SELECT g, 'status', 'placed', 'ready_for_pickup', ready_at FROM bench_plan
                 WHERE status IN ('ready_for_pickup', 'collected')
                    OR (status = 'cancelled' AND method IN ('in_store', 'curbside') AND r_done < 0.6)
                UNION ALL
                SELECT g, 'on_the_way', 'ready_for_pickup', 'ready_for_pickup',
                       done_at - make_interval(secs => 60 + (r_done * 840)::int + 600)
                  FROM bench_plan WHERE method = 'curbside' AND status = 'collected'
                UNION ALL
                SELECT g, 'arrived', 'ready_for_pickup', 'ready_for_pickup',
                       done_at - make_interval(secs => 60 + (r_done * 840)::int)
                  FROM bench_plan WHERE method = 'curbside' AND status = 'collected'
                UNION ALL
                SELECT g, 'status', 'ready_for_pickup', 'collected', done_at FROM bench_plan
                 WHERE status = 'collected'
                UNION ALL
                SELECT g, 'status', 'placed', 'out_for_delivery', ready_at FROM bench_plan
                 WHERE status IN ('out_for_delivery', 'delivered')
                UNION ALL
                SELECT g, 'status', 'out_for_delivery', 'delivered', done_at FROM bench_plan
                 WHERE status = 'delivered'
                UNION ALL
                SELECT g, 'status', 'placed', 'shipped', done_at FROM bench_plan WHERE status = 'shipped'
                UNION ALL
                SELECT g, 'status',
                       CASE WHEN method IN ('in_store', 'curbside') AND r_done < 0.6 THEN 'ready_for_pickup'
                            ELSE 'placed' END,
                       'cancelled',
                       CASE WHEN method IN ('in_store', 'curbside') AND r_done < 0.6
                            THEN ready_at + interval '7 days' ELSE done_at END
                  FROM bench_plan WHERE status = 'cancelled'
              ) timeline
             ORDER BY at, g
            """
        )
        events = cursor.rowcount
        # RETURN_SHARE of the online orders handed over come back to a store, 1-14 days later: their
        # own store mostly, another one in RETURNED_ELSEWHERE of them; refunded to how they paid.
        cursor.execute(
            f"""
            INSERT INTO returns_return (order_id, store_id, code, status, resolution, created_at, received_at,
                                        refund_amount, refunded_at, till_receipt_number, refund_attempts,
                                        last_refund_error, window_override_reason, difference_paid,
                                        difference_receipt_number, exchange_total)
            SELECT {order_base} + g,
                   CASE WHEN r_where < %(elsewhere)s
                        THEN (%(stores)s::bigint[])[1 + floor(r_where / %(elsewhere)s * %(store_count)s)::int]
                        ELSE store_id END,
                   'BR' || lpad(({order_base} + g)::text, 10, '0'), 'refunded', 'original_payment',
                   came_back - interval '1 day', came_back, total, came_back, '', 0, '', '', 0, '', 0
              FROM (
                SELECT plan.g, plan.store_id, orders.total, plan.r_done AS r_where,
                       least(plan.done_at + make_interval(hours => 24 + (plan.r_ready * 312)::int),
                             now() - interval '1 hour') AS came_back
                  FROM bench_plan plan JOIN orders_order orders ON orders.id = {order_base} + plan.g
                 WHERE plan.channel <> 'in_store' AND plan.status IN ('collected', 'delivered', 'shipped')
                   AND (plan.g * 7919) %% 1000 < %(returned)s
              ) returned
             ORDER BY g
            """,
            {
                "elsewhere": RETURNED_ELSEWHERE,
                "stores": store_ids,
                "store_count": len(store_ids),
                "returned": int(RETURN_SHARE * 1000),
            },
        )
        returns = cursor.rowcount
        # Shelf-label QR scans: SCANS_PER_ORDER for every order, at random stores and moments of
        # the year; and SCANNED_SHARE of the web orders placed 5-30 minutes after a scan of their
        # first line's product at their store, attributed to it (instore.SaleAttribution).
        cursor.execute(
            """
            INSERT INTO instore_shelfscan (store_id, product_id, scanned_at)
            SELECT (%(stores)s::bigint[])[1 + floor(random() * %(store_count)s)::int],
                   (%(products)s::bigint[])[1 + floor(random() * %(product_count)s)::int],
                   now() - make_interval(mins => (random() * %(days)s * 1440)::int)
              FROM generate_series(1, %(scans)s)
            """,
            {
                "stores": store_ids,
                "store_count": len(store_ids),
                "products": product_ids,
                "product_count": len(product_ids),
                "days": days,
                "scans": int(count * SCANS_PER_ORDER),
            },
        )
        scans = cursor.rowcount
        cursor.execute(
            """
            CREATE TEMP TABLE bench_scanned ON COMMIT DROP AS
            SELECT plan.g, plan.store_id, line.product_id,
                   plan.created_at - make_interval(mins => 5 + (plan.r_ready * 25)::int) AS scanned_at,
                   nextval(pg_get_serial_sequence('instore_shelfscan', 'id')) AS scan_id
              FROM bench_plan plan JOIN bench_lines line ON line.g = plan.g AND line.n = 1
             WHERE plan.channel = 'web' AND plan.status <> 'awaiting_payment'
               AND (plan.g * 104729) %% 1000 < %(scanned)s
            """,
            {"scanned": int(SCANNED_SHARE * 1000)},
        )
        cursor.execute(
            """
            INSERT INTO instore_shelfscan (id, store_id, product_id, scanned_at)
            SELECT scan_id, store_id, product_id, scanned_at FROM bench_scanned ORDER BY scan_id
            """
        )
        scans += cursor.rowcount
        cursor.execute(
            f"""
            INSERT INTO instore_saleattribution (order_id, store_id, scan_id, created_at)
            SELECT {order_base} + g, store_id, scan_id, scanned_at + interval '5 minutes'
              FROM bench_scanned ORDER BY g
            """
        )
        after_scan = cursor.rowcount
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        cursor.execute("SELECT status, count(*) FROM bench_plan GROUP BY status ORDER BY status")
        by_status = dict(cursor.fetchall())
        cursor.execute("SELECT channel, count(*) FROM bench_plan GROUP BY channel ORDER BY channel")
        by_channel = dict(cursor.fetchall())
    with connection.cursor() as cursor:
        for table in tables:
            if table in ("pickup_pickup", "pickup_curbsidevisit"):  # keyed by their fulfilment
                continue
            cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT max(id) FROM {table}))", [table])
        for table in tables:
            cursor.execute(f"ANALYZE {table}")
    return SeededOrders(
        orders=orders,
        lines=lines,
        fulfilments=fulfilments,
        events=events,
        pickups=pickups,
        curbside_visits=curbside,
        returns=returns,
        shelf_scans=scans,
        orders_after_scan=after_scan,
        seconds=time.monotonic() - started,
        by_status=by_status,
        by_channel=by_channel,
    )
