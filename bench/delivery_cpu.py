"""CPU, queries and lock-held time of the delivery checkout, in-process: the options page (the
address posted, "find") and the placing (the order posted, "place"), as the rush's delivery
shoppers send them (bench/rush.py), on a seeded bench database (bench/run --only none).

    .venv/bin/python -m bench.delivery_cpu --database-url postgres://postgres@127.0.0.1:5432/o2o_bench \
        --redis-url redis://127.0.0.1:6379/12 [--placings 40] [--profile find|place] [--queries]

The placings take places in the hot stores' windows and units for a moment: while a bench run's
rush may be running on that database, use a database of your own instead, created empty
(createdb) and seeded small by --seed-small (1 000 products, 30 stores: the placing's reads are
by index, so its figures are the large shop's).

Runs Django's test Client with the bench's settings. Each shopper has a session with one or two
of the rush's hot products in the cart, posts an address near a hot store, chooses that store's
earliest window and places the order (paid online with the Dummy provider, left awaiting
payment); the order is then cancelled (not measured), which gives its units and its place in the
window back, so the database's stock and windows are as before.

Figures per request: CPU milliseconds of this process (its CPU clock, so they can be read on a
busy machine), the wall time, the queries; for the placing also how long the rows other shoppers
fight over were held: from the statement taking the delivery window's lock (the store's round
for the day) to the commit, and from the statement locking the stock rows to the commit (wall
time: alone in the process, what the next shopper of that window or those products would wait),
with the CPU this process spent and the statements it ran meanwhile (the part a busy machine
stretches). --profile KIND prints cProfile's costliest functions for that request.
"""

import argparse
import cProfile
import pstats
import random
import statistics
import time
from urllib.parse import urlencode

# The bench's production settings on its database and Redis, as the page misses are measured.
from .miss_cpu import configure

KINDS = ("find", "place")


class Meter:
    """Counts the queries of a request, and notes when the window's and the stock's locks were
    taken and when the transaction holding them committed."""

    def __init__(self, connection):
        self.connection = connection
        self.queries = 0
        self.log = []  # (ms since the request began, ms taken, SQL) when --queries
        self.keep_log = False
        self.began = 0.0
        self.window_locked = self.stock_locked = self.committed = None
        # The process's CPU clock when the window's lock was taken and at the commit, and the
        # statements run while it was held (the commit not counted).
        self.window_locked_cpu = self.committed_cpu = None
        self.held_queries = 0

    def __call__(self, execute, sql, params, many, context):
        self.queries += 1
        began = time.perf_counter()
        if self.window_locked is not None and self.committed is None:
            self.held_queries += 1
        if "FOR UPDATE" in sql:
            if "delivery_deliveryround" in sql and self.window_locked is None:
                self.window_locked, self.window_locked_cpu = began, time.process_time()
            elif "stores_stocklevel" in sql and self.stock_locked is None:
                self.stock_locked = began
        try:
            return execute(sql, params, many, context)
        finally:
            if self.keep_log:
                self.log.append(((began - self.began) * 1000, (time.perf_counter() - began) * 1000, sql))

    def commit(self, original):
        def _commit():
            result = original()
            if (self.window_locked or self.stock_locked) and self.committed is None:
                self.committed, self.committed_cpu = time.perf_counter(), time.process_time()
            return result

        return _commit

    def held_ms(self, since):
        if since is None or self.committed is None:
            return None
        return (self.committed - since) * 1000


def seed_small():
    """Migrate, then seed as bench/run --small does, unless the database has stores already."""
    from django.core.management import call_command

    from stores.models import Store

    from .seed import Size, seed

    call_command("migrate", verbosity=0, interactive=False)
    if not Store.objects.exists():
        seed(Size.small())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", required=True, help="a Redis database of its own: it is flushed")
    parser.add_argument("--placings", type=int, default=40, help="shoppers measured")
    parser.add_argument("--warm", type=int, default=10, help="shoppers first, not measured")
    parser.add_argument("--profile", choices=KINDS, help="cProfile this request and print its costliest calls")
    parser.add_argument(
        "--seed-small",
        action="store_true",
        help="migrate and seed the database first if it has no store (bench/seed.py's small size)",
    )
    parser.add_argument("--queries", action="store_true", help="print the SQL of the last shopper's requests")
    parser.add_argument("--language", default="is")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    configure(args)

    from django.conf import settings
    from django.core.cache import caches
    from django.db import connection
    from django.test import Client

    from catalog.models import Product
    from orders.models import CancelReason, Order
    from orders.services import cancel_order
    from stores.models import Store

    from .delivery import rush_addresses
    from .mix import new_session
    from .rush import CHECKOUT_TOKEN_FIELD, QUOTE_FIELD, WINDOW_SELECT
    from .seed import HOT_PRODUCTS, HOT_STORES

    if args.seed_small:
        seed_small()
    rng = random.Random(args.seed)
    hot_stores = list(Store.objects.filter(slug__startswith="bench-store-").order_by("pk")[:HOT_STORES])
    hot_products = list(Product.objects.order_by("pk").values_list("pk", flat=True)[:HOT_PRODUCTS])
    addresses = rush_addresses(hot_stores)
    caches["default"].clear()
    meter = Meter(connection)

    def shopper(number, profiler=None):
        address = addresses[number % len(addresses)]
        cart = {pk: 1 for pk in rng.sample(hot_products, rng.randint(1, 2))}
        client = Client(HTTP_HOST="127.0.0.1")
        client.cookies[settings.SESSION_COOKIE_NAME] = new_session(store_id=None, cart=cart)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = args.language
        details = {
            "street": address.street,
            "postcode": address.postcode,
            "city": address.city,
            "country": address.country,
            "phone": "+354 555 1234",
            "name": f"Profiled shopper {number}",
            "email": f"profiled-{number}@bench.example",
        }
        client.get("/checkout/delivery/")
        find, page = measured("find", lambda: post(client, {"action": "find", **details}), profiler)
        page = page.content.decode()
        windows = {int(store): key for store, key in WINDOW_SELECT.findall(page)}
        store = next(store.pk for store in hot_stores if store.pk in windows)
        form = {
            "checkout_token": CHECKOUT_TOKEN_FIELD.search(page).group(1),
            "quote": QUOTE_FIELD.search(page).group(1),
            "action": "place",
            **details,
            "store": store,
            f"window-{store}": windows[store],
            f"payment-{store}": "dummy",
        }
        place, response = measured("place", lambda: post(client, form), profiler)
        assert response.status_code == 302 and "/payments/" in response["Location"], (
            response.status_code,
            response.content.decode()[:2000],
        )
        order = Order.objects.filter(contact_email=details["email"]).latest("pk")
        cancel_order(order=order, reason=CancelReason.SHOPPER, note="bench.delivery_cpu: given back")
        return find, place

    def post(client, form):
        # Encoded as a browser sends a form (the test client's default is multipart).
        return client.post("/checkout/delivery/", urlencode(form), content_type="application/x-www-form-urlencoded")

    def measured(kind, request, profiler):
        meter.queries, meter.window_locked, meter.stock_locked, meter.committed = 0, None, None, None
        meter.window_locked_cpu, meter.committed_cpu, meter.held_queries = None, None, 0
        meter.log, meter.keep_log, meter.began = [], args.queries, time.perf_counter()
        if profiler is not None and args.profile == kind:
            profiler.enable()
        with connection.execute_wrapper(meter):
            began_cpu, began = time.process_time(), time.perf_counter()
            response = request()
            cpu, wall = time.process_time() - began_cpu, time.perf_counter() - began
        if profiler is not None:
            profiler.disable()
        figures = {
            "cpu": cpu * 1000,
            "wall": wall * 1000,
            "queries": meter.queries,
            "window held": meter.held_ms(meter.window_locked),
            "stock held": meter.held_ms(meter.stock_locked),
            "window held CPU": (meter.committed_cpu - meter.window_locked_cpu) * 1000
            if meter.window_locked_cpu is not None and meter.committed_cpu is not None
            else None,
            "held statements": meter.held_queries if meter.window_locked is not None else None,
        }
        if args.queries:
            figures["log"] = meter.log
        return figures, response

    connection.ensure_connection()
    original_commit = connection._commit
    connection._commit = meter.commit(original_commit)
    try:
        for number in range(args.warm):
            shopper(number)
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        rows = [shopper(args.warm + number, profiler) for number in range(args.placings)]
    finally:
        connection._commit = original_commit
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.top)
        return
    print(f"Delivery checkout, {args.placings} shoppers (language {args.language}; medians, p95 in brackets)")
    for kind, index in (("find", 0), ("place", 1)):
        figures = [row[index] for row in rows]
        parts = []
        for name in ("cpu", "wall", "window held", "stock held", "window held CPU"):
            values = sorted(value[name] for value in figures if value[name] is not None)
            if values:
                p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
                parts.append(f"{name} {statistics.median(values):6.2f} ms ({p95:6.2f})")
        queries = sorted({value["queries"] for value in figures})
        held = sorted({value["held statements"] for value in figures if value["held statements"] is not None})
        print(
            f"  {kind:6} "
            + "  ".join(parts)
            + f"  queries {queries}"
            + (f", under the window's lock {held}" if held else "")
        )
    if args.queries:
        for kind, index in (("find", 0), ("place", 1)):
            print(f"\n{kind}, the last shopper's queries (ms into the request, ms taken, SQL):")
            for at, took, sql in rows[-1][index]["log"]:
                print(f"  {at:7.2f} {took:6.2f}  {sql[:160]}")


if __name__ == "__main__":
    main()
