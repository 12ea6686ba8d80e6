"""Catalog reads from a real PostgreSQL streaming replica, with its replay paused (o2o_site/replica.py).

The module starts a replica of the test run's server with pg_basebackup (tests/replica_cluster.py)
once; each test adds it as the "replica" database for its duration. With replay paused the replica
is as late as a replica can be: the shop still never oversells, a shopper always sees her own new
order, and no page shows (or caches) stock older than what its version stamps stand for.
"""

import copy
import re
import time
from contextlib import contextmanager
from decimal import Decimal

import psycopg
import pytest
from django.conf import settings
from django.db import connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import Product
from catalog.tests.factories import ProductFactory
from checkout.tests.test_checkout_busy_database import checkout_form
from conftest import _missing
from o2o_site import replica as routing
from o2o_site.cache import stamps
from orders.models import Order
from orders.tests.test_outbox_faults import free_port
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

from .replica_cluster import ReplicaCluster, ReplicaUnavailable

# "replica" is a mirror of "default" (TEST MIRROR, as settings make it from DATABASE_REPLICA_URL):
# the test may query it, and its data is the primary's, so only "default" is emptied after a test.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, databases=["default", "replica"])]


@pytest.fixture(scope="module")
def replica_server(django_db_setup, django_db_blocker):
    """A streaming replica of the server the test database is on, started once for the module."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        _missing("needs PostgreSQL: set DATABASE_URL=postgres://…")
    db = connections["default"].settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as primary:
        cluster = None
        try:
            cluster = ReplicaCluster(primary=primary)
            cluster.start()
            cluster.wait_until_caught_up()
        except ReplicaUnavailable as error:
            if cluster is not None:
                cluster.stop()
            _missing(f"cannot run a read replica here: {error}")
        # The replica as the "replica" database, as DATABASE_REPLICA_URL makes it, for this module.
        connections.settings[routing.REPLICA] = {
            **copy.deepcopy(connections.settings["default"]),
            "HOST": "127.0.0.1",
            "PORT": str(cluster.port),
            "TEST": {"MIRROR": "default"},
        }
        try:
            yield cluster
        finally:
            connections[routing.REPLICA].close()
            del connections[routing.REPLICA]
            del connections.settings[routing.REPLICA]
            cluster.stop()


class Replica:
    def __init__(self, cluster):
        self.cluster = cluster

    def pause(self):
        with connections[routing.REPLICA].cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_pause()")

    def resume(self):
        with connections[routing.REPLICA].cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")

    def wait_until_caught_up(self):
        self.cluster.wait_until_caught_up()


@pytest.fixture
def replica(replica_server):
    helper = Replica(replica_server)
    try:
        yield helper
    finally:
        helper.resume()


@contextmanager
def queries_on(alias):
    with CaptureQueriesContext(connections[alias]) as captured:
        yield captured


def tables(captured):
    return {name for query in captured for name in re.findall(r'(?:FROM|JOIN) "(\w+)"', query["sql"])}


def test_with_replay_paused_nothing_is_oversold_and_the_shopper_sees_her_new_order(replica):
    # given the last Lopapeysa at Laugavegur, and a replica that has replayed it
    laugavegur = StoreFactory(name="Laugavegur")
    sweater = ProductFactory(name="Lopapeysa", price=Decimal("24990"))
    StockLevelFactory(store=laugavegur, product=sweater, on_hand=1)
    page = reverse("catalog:product_detail", args=[sweater.slug])
    # (the version stamps the page is cached under exist, as they do in a shop that has run a
    # while: a stamp made by a request stands for everything up to then, so until the replica
    # has replayed that far the request that made it reads the primary)
    stamps.versions(
        stamps.CATALOG,
        stamps.STORES,
        stamps.product_stock_key(sweater.pk),
        stamps.store_stock_key(laugavegur.pk),
    )
    replica.wait_until_caught_up()

    # when a shopper opens its page
    browsing = Client()
    with queries_on("replica") as on_replica, queries_on("default") as on_primary:
        response = browsing.get(page)

    # then the catalog and the stock are read from the replica, and the page says one is left
    assert response.status_code == 200
    assert "1 available" in response.content.decode()
    assert {"catalog_product", "stores_stocklevel"} <= tables(on_replica)
    assert not {"catalog_product", "stores_stocklevel"} & tables(on_primary)

    # when the replica stops replaying, and Anna buys the last one
    replica.pause()
    anna = Client()
    anna.post(reverse("checkout:cart_add"), {"product_id": sweater.pk, "quantity": "1"})
    placed = anna.post(reverse("checkout:checkout"), checkout_form(anna, store=laugavegur))
    assert placed.status_code == 302
    order = Order.objects.get()

    # then the replica has not seen the sale
    assert StockLevel.objects.using(routing.REPLICA).get(product=sweater).reserved == 0
    assert not Order.objects.using(routing.REPLICA).exists()

    # and Anna sees her new order (order pages read the primary)
    shown = anna.get(placed.url)
    assert shown.status_code == 200
    assert order.number in shown.content.decode()

    # and the product's page, for Anna (she wrote) and for Björn (the page's stamps are newer than
    # the replica), says there are none: rendered from the primary (and then served to Björn
    # from the cache under the new stamps), never from the replica
    björn = Client()
    for shopper in (anna, björn):
        with queries_on("replica") as on_replica, queries_on("default") as on_primary:
            response = shopper.get(page)
        assert "Out of stock" in response.content.decode()
        assert "1 available" not in response.content.decode()
        assert not {"catalog_product", "stores_stocklevel"} & tables(on_replica)
        # (the replica, behind, is asked where it is at most once per position the page needs,
        # not again for every query: the shopper's mark, then a stamp's)
        assert sum("pg_last_wal_replay_lsn" in query["sql"] for query in on_replica) <= 2
        if shopper is anna:
            assert "stores_stocklevel" in tables(on_primary)

    # when Björn tries to buy one anyway (a cart from before, a form sent twice)
    björn.post(reverse("checkout:cart_add"), {"product_id": sweater.pk, "quantity": "1"})
    checkout_page = björn.get(reverse("checkout:checkout"))
    if checkout_page.status_code == 200 and "checkout_token" in checkout_page.content.decode():
        björn.post(reverse("checkout:checkout"), checkout_form(björn, store=laugavegur))

    # then nothing more is sold: one order, one unit reserved of the one there is
    assert Order.objects.count() == 1
    stock = StockLevel.objects.get(product=sweater)
    assert (stock.on_hand, stock.reserved) == (1, 1)

    # when the replica catches up, Björn's pages are read from it again (his cart's write replayed)
    replica.resume()
    replica.wait_until_caught_up()
    with queries_on("replica") as on_replica:
        response = björn.get(reverse("stores:store_detail", args=[laugavegur.slug]))
    assert response.status_code == 200
    assert "stores_store" in tables(on_replica)
    assert "Out of stock" in björn.get(page).content.decode()


def test_the_router_reads_the_primary_in_a_transaction_for_other_apps_and_outside_replica_views(replica):
    router = routing.ReplicaRouter()
    replica.wait_until_caught_up()
    # outside a request (tasks, commands) and outside a @reads_from_replica view: the primary
    assert router.db_for_read(Product) == "default"
    token = routing._state.set(routing._RequestState(allowed=True))
    try:
        # in a replica view, caught up: the catalog's tables from the replica, orders never
        assert router.db_for_read(Product) == routing.REPLICA
        assert router.db_for_read(StockLevel) == routing.REPLICA
        assert router.db_for_read(Order) == "default"
        # in a transaction: the primary
        with transaction.atomic():
            assert router.db_for_read(Product) == "default"
        # behind what the request needs (a stamp's write it has not replayed; far ahead, as other
        # databases on the server keep writing and the replica replays them too): the primary
        routing.require_lsn(routing.primary_lsn() + 2**40)
        assert router.db_for_read(Product) == "default"
        # and any write goes to the primary, and is remembered (the browser gets the mark)
        assert router.db_for_write(Product) == "default"
        assert routing._state.get().wrote
    finally:
        routing._state.reset(token)


def test_with_the_replica_down_catalog_pages_read_the_primary_and_do_not_wait(replica):
    # given two Lopapeysa at Laugavegur, and the replica unreachable (nothing listens at its port)
    laugavegur = StoreFactory(name="Laugavegur")
    sweater = ProductFactory(name="Lopapeysa", price=Decimal("24990"))
    StockLevelFactory(store=laugavegur, product=sweater, on_hand=2)
    replica_db = connections[routing.REPLICA]
    port = replica_db.settings_dict["PORT"]
    replica_db.close()
    replica_db.settings_dict["PORT"] = str(free_port())
    try:
        # when a shopper opens its page
        response = Client().get(reverse("catalog:product_detail", args=[sweater.slug]))

        # then the primary answered, and the process leaves the replica alone for a while
        assert response.status_code == 200
        assert "2 available" in response.content.decode()
        assert routing._down_until > time.monotonic()
    finally:
        replica_db.close()
        replica_db.settings_dict["PORT"] = port
        routing._down_until = 0.0
