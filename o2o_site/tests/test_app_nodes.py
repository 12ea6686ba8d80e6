"""Two app nodes on one PostgreSQL and one Redis: what one changes, the other shows at once.

Each node is a gunicorn with a worker process of its own (its own process-local caches: the
product-id map of catalog.selectors, the store directories of stores.selectors and
delivery.selectors), on the test database and one Redis (CACHE_URL, as production runs it). The
test warms every cache on both nodes, then changes stock through node A (a checkout), a price and
a store's name from a third process (this one, as an admin or an import would), and reads both
nodes again.
"""

import os
import re
import subprocess
import sys
import time
import uuid
from decimal import Decimal

import pytest
import requests
from django.db import transaction
from django.urls import reverse

from catalog.services import catalog_changed
from catalog.tests.factories import ProductFactory
from checkout.tests.test_checkout_busy_database import _FormFields
from orders.models import Order
from orders.tests.test_outbox_faults import free_port
from orders.tests.test_worker import REPO_ROOT, database_url_of_this_test_run
from stores.models import StockLevel
from stores.services import stores_changed
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

START_TIMEOUT = 30


class Node:
    """`gunicorn o2o_site.wsgi` on a port of its own, as the Procfile's web process runs it."""

    def __init__(self, *, name, cache_url, cache_prefix, log_path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "o2o_site.settings",
            "ENV_FILE": "",
            "DATABASE_URL": database_url_of_this_test_run(),
            "CACHE_URL": cache_url,
            "CACHE_KEY_PREFIX": cache_prefix,
            # DEBUG on only for the development SECRET_KEY and static files without collectstatic;
            # the caches are production's (CACHE_URL).
            "DEBUG": "true",
            "CELERY_BROKER_URL": "memory://",
            "PYTHONUNBUFFERED": "1",
        }
        self._log = open(log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "o2o_site.wsgi",
                f"--bind=127.0.0.1:{self.port}",
                "--workers=1",
                f"--name={name}",
                "--timeout=30",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"node {name} exited:\n{self.log()}")
            try:
                requests.get(f"{self.url}/health/live/", timeout=5)
                return
            except requests.RequestException:  # not listening yet, or its worker still booting
                time.sleep(0.2)
        pytest.fail(f"node {name} did not start within {START_TIMEOUT} s:\n{self.log()}")

    def log(self):
        return self.log_path.read_text(errors="replace")

    def get(self, path):
        response = requests.get(f"{self.url}{path}", timeout=10)
        assert response.status_code == 200, response.text[:2000]
        return response.text

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()


@pytest.fixture
def shared_cache(redis_broker_url, settings):
    """This process and both nodes on one Redis (CACHE_URL), under a prefix of the test's own."""
    prefix = f"o2o-nodes-{uuid.uuid4().hex[:8]}"
    redis_cache = {"BACKEND": "o2o_site.redis_cache.RedisCache", "LOCATION": redis_broker_url, "KEY_PREFIX": prefix}
    settings.CACHES = {
        "default": redis_cache,
        "template_fragments": {**redis_cache, "KEY_PREFIX": prefix + "fragments", "TIMEOUT": 300},
    }
    yield redis_broker_url, prefix
    import redis

    client = redis.Redis.from_url(redis_broker_url)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def nodes(require_postgres, transactional_db, shared_cache, tmp_path):
    cache_url, prefix = shared_cache
    started = []
    try:
        for name in ("a", "b"):
            started.append(Node(name=name, cache_url=cache_url, cache_prefix=prefix, log_path=tmp_path / f"{name}.log"))
        yield started
    finally:
        for node in started:
            node.stop()


def checkout_through(node, *, product, store):
    """A shopper buys one of `product` at `store` through `node`'s pages, as a browser does."""
    with requests.Session() as browser:
        browser.get(f"{node.url}{reverse('catalog:product_list')}", timeout=10)
        token = browser.cookies["csrftoken"]
        added = browser.post(
            f"{node.url}{reverse('checkout:cart_add')}",
            data={"product_id": product.pk, "quantity": "1", "csrfmiddlewaretoken": token},
            headers={"Referer": node.url + "/"},
            timeout=10,
        )
        assert added.status_code == 200, added.text[:2000]
        form = _FormFields()
        form.feed(browser.get(f"{node.url}{reverse('checkout:checkout')}", timeout=10).text)
        fields = {name: value for name, value in form.fields.items() if value is not None}
        fields.update(name="Anna Jónsdóttir", email="anna@example.com", phone="+354 555 1234", store=str(store.pk))
        placed = browser.post(
            f"{node.url}{reverse('checkout:checkout')}", data=fields, headers={"Referer": node.url + "/"}, timeout=30
        )
        assert placed.status_code == 200 and "/orders/" in placed.url, placed.text[:2000]


def test_what_one_node_changes_the_other_shows_at_once(nodes):
    # given Lopapeysa at 24 990 kr. with 3 at Laugavegur, and both nodes having shown its page and
    # the store list (every process-local cache and the shared pages filled)
    node_a, node_b = nodes
    laugavegur = StoreFactory(name="Laugavegur", city="Reykjavík")
    sweater = ProductFactory(name="Lopapeysa", price=Decimal("24990"))
    StockLevelFactory(store=laugavegur, product=sweater, on_hand=3)
    page, stores_page = reverse("catalog:product_detail", args=[sweater.slug]), reverse("stores:store_list")
    for node in nodes:
        html = node.get(page)
        assert "3 available" in html and "24,990" in html
        assert "Laugavegur" in node.get(stores_page)

    # when a shopper buys one through node A
    checkout_through(node_a, product=sweater, store=laugavegur)
    assert Order.objects.count() == 1
    assert StockLevel.objects.get(product=sweater).reserved == 1

    # then node B shows 2 left at once
    html = node_b.get(page)
    assert "2 available" in html and "3 available" not in html

    # when the price changes and the store is renamed (an admin's save on another process)
    with transaction.atomic():
        sweater.price = Decimal("19990")
        sweater.save()
        catalog_changed()
    with transaction.atomic():
        laugavegur.name = "Laugavegur 12"
        laugavegur.save()
        stores_changed()

    # then both nodes show the new price and the store's new name at once
    for node in nodes:
        html = node.get(page)
        assert "19,990" in html and "24,990" not in html
        assert re.search(r"Laugavegur 12\b", node.get(stores_page))
