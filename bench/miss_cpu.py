"""CPU per page miss, in-process: what a whole-page cache miss costs the shop's Python, measured
with the process's CPU clock (not the wall clock), so it can be read on a busy machine.

Runs Django's test Client against a seeded bench database (bench/run --only none) with the
bench's settings, in a session holding a store, a language and a cart, and asks for pages no
request asked for before (distinct addresses: every one a whole-page miss), beside the bare view:

    .venv/bin/python -m bench.miss_cpu --database-url postgres://postgres@127.0.0.1:5432/o2o_bench \
        --redis-url redis://127.0.0.1:6379/12 [--profile category] [--cold]

--cold flushes the cache's Redis database before every request (no shared fragment either: the
worst case); without it the shared fragments (cards, menu, tree) fill as in a run of misses.
--profile KIND prints cProfile's costliest functions for that kind of page. The figures are CPU
milliseconds per request and × the bare view's; queries per request are counted too, and the
CPU the PostgreSQL backend spent on them (a mean: /proc's clock ticks in 10 ms).
"""

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

BASE_DIR = Path(__file__).resolve().parent.parent
KINDS = ("bare", "product", "category", "search", "home")


def configure(args):
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "o2o_site.settings",
            "DATABASE_URL": args.database_url,
            "CONN_MAX_AGE": "600",
            "CACHE_URL": args.redis_url,
            "CELERY_BROKER_URL": args.redis_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DEBUG": "false",
            "HTTPS": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdefghijklmnop",
            "PAYMENT_PROVIDERS": "dummy",
            "BENCH_BARE_VIEW": "true",
            "SERVE_MEDIA": "false",
            "LOG_LEVEL": "WARNING",
        }
    )
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


class Addresses:
    """Distinct addresses of each kind, drawn uniformly as the bench's misses are."""

    def __init__(self, rng, store_id):
        from .mix import read_catalogue

        self.rng, self.store_id = rng, store_id
        self.catalogue = read_catalogue()
        self.seen = set()

    def _fresh(self, make):
        while True:
            address = make()
            if address not in self.seen:
                self.seen.add(address)
                return address

    def product(self):
        return self._fresh(lambda: f"/products/{self.rng.choice(self.catalogue.products)[1]}/")

    def _listing(self, query):
        from .mix import SORTS

        rng = self.rng
        if rng.random() < 0.5:
            query["sort"] = rng.choice(SORTS)
        if rng.random() < 0.15:
            query["available"] = "1"
        if rng.random() < 0.1:
            low = rng.choice((0, 1000, 5000, 10000))
            query.update(min_price=low, max_price=low + rng.choice((5000, 20000)))
        page = rng.randint(1, 8)
        if page > 1:
            query["page"] = page
        return "/?" + urlencode(query)

    def category(self):
        return self._fresh(lambda: self._listing({"category": self.rng.choice(self.catalogue.categories)}))

    def search(self):
        def make():
            words = self.rng.choice(self.catalogue.products)[2].split()
            return self._listing({"q": f"{words[0]} {words[-2]}".lower() if len(words) > 2 else words[0].lower()})

        return self._fresh(make)

    def home(self):
        return "/"

    def bare(self):
        return "/bench/bare/"


def database_clock():
    """A clock of the CPU this process's PostgreSQL backend spent (ms; /proc, the database on this
    machine): what a page's queries cost the machine beside the page's Python. Its ticks are
    10 ms, so only a mean over many requests says anything."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    ticks = os.sysconf("SC_CLK_TCK")

    def read():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / ticks

    return read


def client_for(store_id, cart, language):
    from django.conf import settings
    from django.test import Client

    from .mix import new_session

    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies[settings.SESSION_COOKIE_NAME] = new_session(store_id=store_id, cart=cart)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", required=True, help="a Redis database of its own: it is flushed")
    parser.add_argument("--requests", type=int, default=40, help="of each kind")
    parser.add_argument("--warm", type=int, default=30, help="misses of each kind first, not measured")
    parser.add_argument("--cold", action="store_true", help="flush the cache before every request")
    parser.add_argument("--profile", choices=KINDS, help="cProfile this kind and print its costliest calls")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--language", default="is")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--top", type=int, default=35)
    args = parser.parse_args()
    configure(args)

    from django.core.cache import caches
    from django.db import connection

    from stores.models import Store

    rng = random.Random(args.seed)
    store = Store.objects.for_shoppers().filter(country="IS").order_by("pk").first()
    addresses = Addresses(rng, store.pk)
    cart = {product[0]: 1 for product in rng.sample(addresses.catalogue.products, 2)}
    client = client_for(store.pk, cart, args.language)
    caches["default"].clear()
    kinds = args.kinds.split(",")

    def ask(kind):
        if args.cold:
            caches["default"].clear()
        address = getattr(addresses, kind)()
        queries = []

        def count(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            started, database_started = time.process_time(), database_cpu()
            response = client.get(address)
            spent = time.process_time() - started
        database_ms.setdefault(kind, []).append(database_cpu() - database_started)
        assert response.status_code == 200, (address, response.status_code)
        if kind not in ("bare", "home"):
            assert response.get("X-Page-Cache") == "miss", address
        return spent * 1000, len(queries)

    database_ms = {}
    database_cpu = database_clock()
    for kind in kinds:  # the process warmed up: imports, templates, connections, fragments
        for _number in range(args.warm if kind != "home" else 1):
            ask(kind)
    if args.profile:
        profiler = cProfile.Profile(time.process_time)  # CPU, not waiting on the database
        profiler.enable()
        for _number in range(args.requests):
            ask(args.profile)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.top)
        return
    figures = {}
    database_ms.clear()
    for _round in range(args.requests):  # interleaved, so a burst of load hits every kind alike
        for kind in kinds:
            figures.setdefault(kind, []).append(ask(kind))
    bare = statistics.median(ms for ms, _queries in figures.get("bare", [(1, 0)]))
    mode = "cold cache before each" if args.cold else "distinct addresses, shared fragments warm"
    print(f"CPU ms per request ({args.requests} each, {mode}; language {args.language}, a store, a cart)")
    for kind, rows in figures.items():
        cpu = [ms for ms, _queries in rows]
        queries = sorted({count for _ms, count in rows})
        print(
            f"  {kind:9} median {statistics.median(cpu):6.2f}  mean {statistics.fmean(cpu):6.2f}  "
            f"× bare {statistics.median(cpu) / bare:5.1f}  queries {queries}  "
            f"PostgreSQL's CPU mean {statistics.fmean(database_ms[kind]):6.2f}"
        )


if __name__ == "__main__":
    main()
