"""Issue 17's journey on a 390 × 844 phone in Chromium, in Icelandic: a shopper finds a product by
a misspelt word, sees it sold out at their store, and buys it at the nearest store that has it,
through to a placed order."""

import re
from decimal import Decimal

import pytest

from catalog.tests.factories import ProductFactory
from orders.models import Order
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def assert_fits_a_phone(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.url


@pytest.fixture
def shop(settings, live_server):
    settings.SITE_URL = live_server.url
    laugavegur = StoreFactory(
        name="Laugavegur", slug="laugavegur", latitude=Decimal("64.1458"), longitude=Decimal("-21.9290")
    )
    smaralind = StoreFactory(
        name="Smáralind", slug="smaralind", latitude=Decimal("64.1010"), longitude=Decimal("-21.8840")
    )
    akureyri = StoreFactory(
        name="Glerártorg",
        slug="glerartorg",
        city="Akureyri",
        latitude=Decimal("65.6885"),
        longitude=Decimal("-18.1262"),
    )
    oslo = StoreFactory(
        name="Karl Johan",
        slug="karl-johan",
        city="Oslo",
        country="NO",
        time_zone="Europe/Oslo",
        latitude=Decimal("59.9127"),
        longitude=Decimal("10.7461"),
    )
    sweater = ProductFactory(
        name_en="Wool sweater", name_is="Lopapeysa", name_nb="Ullgenser", slug="lopapeysa", sku="LOPI-001"
    )
    ProductFactory(name_en="Wool scarf", name_is="Ullartrefill", name_nb="Ullskjerf", slug="ullartrefill")
    StockLevelFactory(store=laugavegur, product=sweater, on_hand=2, reserved=2)  # sold out: all held for others
    StockLevelFactory(store=smaralind, product=sweater, on_hand=3)
    StockLevelFactory(store=akureyri, product=sweater, on_hand=8)
    StockLevelFactory(store=oslo, product=sweater, on_hand=50)
    return {"url": live_server.url, "mine": laugavegur, "nearest": smaralind, "product": sweater}


def test_a_shopper_finds_a_misspelt_sweater_sold_out_at_her_store_and_buys_it_at_the_nearest(browser, shop):
    url = shop["url"]
    page = browser.new_context(locale="is-IS", **PHONE).new_page()

    # given a shopper in Reykjavík whose store is Laugavegur
    page.goto(url + "/stores/")
    page.locator("[data-testid=store-card][data-store=laugavegur]").get_by_test_id("choose-store").click()

    # when she searches for "lopapeisa" (misspelt)
    page.goto(url + "/")
    page.fill("#site-search", "lopapeisa")
    page.press("#site-search", "Enter")

    # then she finds the sweater, and only it
    links = page.get_by_test_id("product-link")
    assert links.count() == 1
    assert "Lopapeysa" in links.first.inner_text()
    assert_fits_a_phone(page)
    links.first.click()

    # and its page says it is sold out at Laugavegur, with "Add to cart" not active
    assert page.get_by_test_id("product-name").inner_text() == "Lopapeysa"
    assert "Laugavegur" in page.get_by_test_id("availability").first.inner_text()
    assert page.get_by_test_id("add-to-cart").is_disabled()
    # but the nearest stores of Iceland that have it, nearest first, never Oslo
    nearby = page.get_by_test_id("pickup-elsewhere-store")
    assert [nearby.nth(n).get_attribute("data-store") for n in range(nearby.count())] == ["smaralind", "glerartorg"]
    first = nearby.first.inner_text()
    assert "5,4 km" in first and "3" in page.get_by_test_id("pickup-elsewhere-units").first.inner_text()
    assert "Karl Johan" not in page.locator("main").inner_text()
    assert_fits_a_phone(page)

    # when she picks it up at the nearest, Smáralind, in one step
    page.get_by_test_id("pickup-elsewhere-add").first.click()

    # then it is in her cart and Smáralind is her store
    assert page.url.endswith("/cart/")
    assert "Smáralind" in page.locator("header.site-header").inner_text()
    assert "Lopapeysa" in page.locator("main").inner_text()
    assert_fits_a_phone(page)

    # when she checks out and places the order at Smáralind
    page.get_by_test_id("checkout-link").click()
    page.fill("input[name=name]", "Anna Jónsdóttir")
    page.fill("input[name=email]", "anna@example.com")
    page.fill("input[name=phone]", "+354 555 1234")
    assert page.get_by_test_id("store-choice").filter(has_text="Smáralind").locator("input[name=store]").is_checked()
    assert page.get_by_test_id("store-choice").filter(has_text="Karl Johan").count() == 0
    assert_fits_a_phone(page)
    page.get_by_test_id("place-order").click()

    # then the order is placed there, and the unit is held at Smáralind, not at Laugavegur
    assert re.fullmatch(r"\d{6}", page.get_by_test_id("pickup-code").inner_text().strip())
    order = Order.objects.get()
    assert order.store == shop["nearest"]
    assert [(line.product_id, line.quantity) for line in order.lines.all()] == [(shop["product"].pk, 1)]
    held = dict(StockLevel.objects.filter(product=shop["product"]).values_list("store__slug", "reserved"))
    assert held == {"laugavegur": 2, "smaralind": 1, "glerartorg": 0, "karl-johan": 0}
    assert_fits_a_phone(page)


def test_the_lists_order_and_price_range_work_without_javascript_on_a_phone(browser, shop):
    # given a shopper on a phone with JavaScript off, and three more products
    for name, price in (("Ullarvettlingar", "3990"), ("Kúlutjald", "45990"), ("Bývaxkerti", "1490")):
        ProductFactory(name_en=name, name_is=name, price=Decimal(price))
    page = browser.new_context(locale="is-IS", java_script_enabled=False, **PHONE).new_page()
    page.goto(shop["url"] + "/")

    # when she sorts by price, high to low, from 2 000 up, typing the upper bound wrong
    page.get_by_test_id("sort").select_option("-price")
    page.get_by_test_id("min_price").fill("2000")
    page.get_by_test_id("max_price").fill("fimmtíu")
    page.get_by_test_id("min_price").press("Enter")

    # then the error is by its box with what she typed, and the rest applies
    assert page.get_by_test_id("max_price-error").is_visible()
    assert page.get_by_test_id("max_price").input_value() == "fimmtíu"
    assert page.get_by_test_id("min_price").input_value() == "2000"
    names = [name.strip() for name in page.get_by_test_id("product-link").all_inner_texts()]
    assert names == ["Kúlutjald", "Ullartrefill", "Lopapeysa", "Ullarvettlingar"]
    assert_fits_a_phone(page)

    # when she corrects it
    page.get_by_test_id("max_price").fill("25000")
    page.get_by_test_id("max_price").press("Enter")

    # then the list keeps to the range, dearest first (the same price: the newest first)
    names = [name.strip() for name in page.get_by_test_id("product-link").all_inner_texts()]
    assert names == ["Ullartrefill", "Lopapeysa", "Ullarvettlingar"]
    assert page.get_by_test_id("max_price-error").count() == 0
    assert_fits_a_phone(page)


def test_the_other_stores_table_shows_open_or_closed_within_a_phones_width(browser, shop):
    # given a shopper on a phone whose store, Laugavegur, has the sweater sold out
    page = browser.new_context(locale="is-IS", **PHONE).new_page()
    page.goto(shop["url"] + "/stores/")
    page.locator("[data-testid=store-card][data-store=laugavegur]").get_by_test_id("choose-store").click()

    # when she opens the sweater's page
    page.goto(shop["url"] + shop["product"].get_absolute_url())

    # then every other store's row (those offered for pickup, then the table of the rest, each
    # store once) says whether it is open now, inside the screen, with no sideways scroll
    rows = page.locator("[data-testid=pickup-elsewhere-store], [data-testid=store-availability-row]")
    statuses = page.locator(
        "[data-testid=pickup-elsewhere-store] [data-testid=open-status],"
        " [data-testid=store-availability-row] [data-testid=open-status]"
    )
    assert statuses.count() == rows.count() >= 2
    for status in statuses.all():
        assert status.is_visible()
        box = status.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_fits_a_phone(page)
