"""Lighthouse, a client we did not write, audits the shop a phone shopper goes through: home, a
category, a search, a product, a store page, the cart and the checkout each score 100 for
accessibility, best practices and SEO.

Lighthouse is pinned in lighthouse/package-lock.json (`npm ci --prefix lighthouse`, as `make test`
does) and drives Debian's chromium. The data is the demo shop itself (seed_demo), pictures and all.
"""

import json
import os
import subprocess

import pytest
from django.test import Client
from PIL import Image

from catalog.models import Product
from demo.services import seed_demo
from stores.models import Store

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CATEGORIES = ("accessibility", "best-practices", "seo")


def lighthouse_reports(script, chromium_path, urls, *, cookies, tmp_path):
    """Lighthouse's JSON report of each page, as a phone sees it (lighthouse/audit.mjs)."""
    subprocess.run(
        ["node", str(script), str(tmp_path), *urls],
        env={**os.environ, "CHROME_PATH": chromium_path, "LIGHTHOUSE_COOKIES": json.dumps(cookies)},
        check=True,
        timeout=60 + 30 * len(urls),
        capture_output=True,
    )
    return [json.loads((tmp_path / f"{index}.json").read_text()) for index in range(len(urls))]


def describe(item):
    """An audit's item as a reader finds it: the element, the URL, or the console message."""
    if node := item.get("node"):
        return node.get("snippet", "")
    where = item.get("url") or (item.get("sourceLocation") or {}).get("url", "")
    return " ".join(part for part in (item.get("description"), where) if part)


def shortfalls(report):
    """Each category below 100, with the audits that cost it points and the first elements."""
    lines = []
    for category in report["categories"].values():
        if category["score"] == 1:
            continue
        lines.append(f"{category['id']}: {round(category['score'] * 100)}")
        for reference in category["auditRefs"]:
            audit = report["audits"][reference["id"]]
            if reference["weight"] and audit["score"] is not None and audit["score"] < 1:
                items = (audit.get("details") or {}).get("items") or []
                where = [describe(item) for item in items[:3]]
                lines.append(f"  {audit['id']}: {audit['title']} {where}")
    return lines


@pytest.fixture
def demo_shop(settings, live_server, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    seed_demo(country="IS")
    # Map tiles from the live server itself (the test needs no network): one 512 px tile, sharp
    # on a phone's screen as real tiles are.
    Image.new("RGB", (512, 512), "#dde8d0").save(tmp_path / "media" / "tile.png")
    settings.MAP_TILES_URL = live_server.url + "/media/tile.png?z={z}&x={x}&y={y}"
    store = Store.objects.get(slug="laugavegur")
    product = (
        # a product sold as it is, or one size of one (a product with sizes is not put in a cart)
        Product.objects.filter(
            stock_levels__store=store, stock_levels__on_hand__gt=0, category__slug="knitwear", variants__isnull=True
        )
        .order_by("pk")
        .first()
    )
    # a shopper who chose the store and put the product in the cart
    shopper = Client()
    shopper.post("/stores/choose/", {"store_id": store.pk, "next": "/"})
    shopper.post("/cart/add/", {"product_id": product.pk, "quantity": 1, "next": "/cart/"})
    assert "Cart (1 item)" in shopper.get("/cart/").content.decode()
    return {
        "url": live_server.url,
        "store": store,
        "product": product,
        "cookies": {"sessionid": shopper.cookies["sessionid"].value},
    }


def test_every_shopper_page_scores_100_in_lighthouse(demo_shop, lighthouse_script, chromium_path, tmp_path):
    pages = [
        "/",
        "/?category=knitwear",
        "/?q=sweater",
        demo_shop["product"].get_absolute_url(),
        demo_shop["store"].get_absolute_url(),
        "/cart/",
        "/checkout/",
    ]
    urls = [demo_shop["url"] + path for path in pages]
    reports = lighthouse_reports(
        lighthouse_script, chromium_path, urls, cookies=demo_shop["cookies"], tmp_path=tmp_path
    )

    failures = {}
    for url, report in zip(urls, reports, strict=True):
        # the page Lighthouse saw is the one asked for, as a phone, in all three categories (the
        # checkout, not a redirect to an empty cart: the shopper's session came along)
        assert report["finalDisplayedUrl"] == url
        assert not report.get("runtimeError"), report.get("runtimeError")
        assert report["configSettings"]["formFactor"] == "mobile"
        assert set(report["categories"]) == set(CATEGORIES)
        if lines := shortfalls(report):
            failures[url] = lines
    assert not failures, "\n".join(f"{url}\n  " + "\n  ".join(lines) for url, lines in failures.items())
