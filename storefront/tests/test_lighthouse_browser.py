"""Lighthouse, a client we did not write, audits the shop a phone shopper goes through: home, a
category, a search, a product, a store page, the cart and the checkout each score 100 for
accessibility, best practices and SEO.

Lighthouse is pinned in lighthouse/package-lock.json (`npm ci --prefix lighthouse`, as .ci/run
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
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking "
    "--disable-component-update --disable-sync --no-first-run"
)


def lighthouse_report(lighthouse_path, chromium_path, url, *, cookie, tmp_path):
    """Lighthouse's JSON report of one page, as a phone (its default form factor) sees it."""
    output = tmp_path / "report.json"
    subprocess.run(
        [
            str(lighthouse_path),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={output}",
            f"--only-categories={','.join(CATEGORIES)}",
            "--form-factor=mobile",
            f"--chrome-flags={CHROME_FLAGS}",
            f"--extra-headers={json.dumps({'Cookie': cookie})}",
        ],
        env={**os.environ, "CHROME_PATH": chromium_path},
        check=True,
        timeout=90,
        capture_output=True,
    )
    return json.loads(output.read_text())


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
        "cookie": f"sessionid={shopper.cookies['sessionid'].value}",
    }


def test_every_shopper_page_scores_100_in_lighthouse(demo_shop, lighthouse_path, chromium_path, tmp_path):
    pages = [
        "/",
        "/?category=knitwear",
        "/?q=sweater",
        demo_shop["product"].get_absolute_url(),
        demo_shop["store"].get_absolute_url(),
        "/cart/",
        "/checkout/",
    ]
    failures = {}
    for path in pages:
        report = lighthouse_report(
            lighthouse_path, chromium_path, demo_shop["url"] + path, cookie=demo_shop["cookie"], tmp_path=tmp_path
        )
        # the page Lighthouse saw is the one asked for, with the cart in it (not an error page)
        assert report["finalDisplayedUrl"] == demo_shop["url"] + path
        assert not report.get("runtimeError"), report.get("runtimeError")
        if lines := shortfalls(report):
            failures[path] = lines
    assert not failures, "\n".join(f"{path}\n  " + "\n  ".join(lines) for path, lines in failures.items())
