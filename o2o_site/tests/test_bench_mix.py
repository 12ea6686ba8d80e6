"""bench/mix.py's traffic mix still asks the shop what a shopper would, and is answered: every
generated request (product pages, sorted and filtered lists, searches, add to cart with the
session's CSRF secret) gets a page or a redirect, the whole-page cache says hit or miss, the
popularity is Zipf-like, and its checkouts beside place and pay for orders."""

import http.client
import random
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from payments.core import PROVIDER_CACHE

from bench import mix, rush
from catalog.tests.factories import CategoryFactory, ProductFactory
from orders.models import Order, OrderStatus
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.postgres


def test_popularity_is_zipf_like_and_uniform_when_s_is_zero():
    # given a thousand items
    items = list(range(1000))

    # when 20 000 are drawn with s = 1, and with s = 0
    zipf = mix.Popularity(items, s=1.0)
    uniform = mix.Popularity(items, s=0.0)
    rng = random.Random(1)
    zipf_draws = [zipf.draw(rng) for _ in range(20_000)]
    uniform_draws = [uniform.draw(rng) for _ in range(20_000)]

    # then with s = 1 the first is drawn about twice as often as the second and ~13 % of the time
    # (1 / H(1000) = 0.134), while uniformly no item has more than a fraction of a percent
    first, second = zipf_draws.count(0), zipf_draws.count(1)
    assert 0.11 < first / 20_000 < 0.16 and 1.6 < first / second < 2.5
    assert max(uniform_draws.count(item) for item in items) < 60


def test_the_mix_is_answered_and_its_checkouts_place_and_pay(
    require_postgres, transactional_db, live_server, tmp_path, monkeypatch, settings
):
    # given a small shop: two categories, 30 products, two stores carrying them all
    monkeypatch.setattr(rush, "PAY_SECONDS", (0.0, 0.05))
    settings.PAYMENT_VARIANTS = {"dummy": ("payments.dummy.DummyProvider", {"capture": False})}
    PROVIDER_CACHE.clear()
    categories = [CategoryFactory(slug=f"aisle-{n}") for n in range(2)]
    products = [
        ProductFactory(name=f"Lava wool sweater {n:05d}", category=categories[n % 2], price=Decimal("9900"))
        for n in range(30)
    ]
    stores = [StoreFactory(name="Laugavegur", country="IS"), StoreFactory(name="Bryggen", country="NO")]
    for store in stores:
        for product in products:
            StockLevelFactory(store=store, product=product, on_hand=20)
    params = mix.Params(shoppers=12, add_to_cart_share=0.5)
    catalogue = mix.read_catalogue()
    shoppers = mix.make_shoppers(catalogue, params, random.Random(2))
    plan = mix.Plan(catalogue, shoppers, params, seed=3)
    requests_file = tmp_path / "mix.requests"

    # when 150 of the generated requests are sent as bench/mix.lua sends them
    plan.write(requests_file, lines=150)
    address = urlsplit(live_server.url)
    answers = []
    for line in requests_file.read_text().splitlines():
        method, path, cookie, body = line.split("\t")
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        headers = {"Cookie": cookie}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        response.read()
        answers.append((method, response.status, response.getheader("X-Page-Cache")))
        connection.close()

    # then every page was shown (a shared one says hit or miss) and every add to cart redirected
    assert {status for method, status, _cache in answers if method == "GET"} == {200}
    assert {status for method, status, _cache in answers if method == "POST"} == {302}
    assert all(cache in ("hit", "miss") for method, _status, cache in answers if method == "GET")
    assert any(cache == "hit" for _method, _status, cache in answers)
    # and no more were hits than the pages asked for before in the run (the hit rate's ceiling
    # the report prints beside it)
    views = sum(method == "GET" for method, _status, _cache in answers)
    hits = sum(cache == "hit" for _method, _status, cache in answers)
    repeats = plan.repeat_share(requests_file, lines=150) * views
    assert 0 < hits <= round(repeats) < views
    assert {"product page", "category", "search", "add to cart"} <= set(plan.kinds)
    # and a shopper checking out beside places an order at their store and pays for it
    checkouts = mix.Checkouts(
        host=address.hostname, port=address.port, catalogue=catalogue, params=params, rng=random.Random(4)
    )
    checkouts._check_out(0, stores[0].pk, "is", [products[0].pk, products[1].pk])
    assert checkouts.figures()["outcomes"] == {"placed and paid": 1}, checkouts.figures()
    assert Order.objects.get().status == OrderStatus.PLACED
