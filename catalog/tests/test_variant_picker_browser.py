"""A shopper on a 390 px phone picks a size, puts it in the cart and checks out, with JavaScript
(the picker reloads on the choice) and without it (the picker's "Show" button)."""

import re
from decimal import Decimal

import pytest

from catalog import services
from catalog.tests.factories import ProductFactory, sizes
from orders.models import Order
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def shop(settings, live_server):
    settings.SITE_URL = live_server.url
    laugavegur = StoreFactory(name="Laugavegur", slug="laugavegur")
    StoreFactory(name="Akureyri", slug="akureyri", city="Akureyri")
    sweater = ProductFactory(name="Lopapeysa", slug="lopapeysa", sku="LOPI", price=Decimal("24990"))
    small, medium, large = sizes("S", "M", "L")
    services.create_variant(parent=sweater, sku="LOPI-S", values=[small])
    medium_sweater = services.create_variant(parent=sweater, sku="LOPI-M", values=[medium])
    services.create_variant(parent=sweater, sku="LOPI-L", values=[large], price=Decimal("26990"))
    StockLevelFactory(store=laugavegur, product=medium_sweater, on_hand=2)
    return {"url": live_server.url, "store": laugavegur, "medium": medium_sweater}


def choose_store(page, url):
    page.goto(url + "/stores/")
    page.locator("[data-testid=store-card][data-store=laugavegur]").get_by_test_id("choose-store").click()


def fits(page):
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]


@pytest.mark.parametrize("javascript", [True, False], ids=["with JavaScript", "without JavaScript"])
def test_a_shopper_picks_a_size_on_a_phone_and_checks_it_out(browser, shop, javascript):
    page = browser.new_context(**PHONE, java_script_enabled=javascript).new_page()
    url = shop["url"]
    choose_store(page, url)

    # given the sweater's page, which asks for a size before anything can go in the cart
    page.goto(url + "/products/lopapeysa/")
    assert page.get_by_test_id("add-to-cart").is_disabled()
    assert page.get_by_test_id("choose-variant-notice").is_visible()
    assert fits(page)
    # (the "Show" button is for pages without JavaScript; the script reloads on the choice)
    assert page.get_by_test_id("show-variant").is_visible() != javascript

    # when the shopper taps M
    page.locator("label.variant-option:has(input[data-sku='LOPI-M'])").click()
    if not javascript:
        page.get_by_test_id("show-variant").click()
    page.wait_for_url(re.compile(r"variant="))

    # then the page shows the medium's stock at her store and lets her add it
    assert page.get_by_test_id("sku").inner_text().strip() == "LOPI-M"
    assert "2 in stock at Laugavegur" in page.get_by_test_id("availability").first.inner_text()
    assert page.locator("input[data-sku='LOPI-M']").is_checked()
    assert fits(page)
    page.get_by_test_id("quantity").fill("1")
    page.get_by_test_id("add-to-cart").click()

    # and the cart names the size
    page.goto(url + "/cart/")
    assert "Lopapeysa — M" in page.locator("main").inner_text()
    assert fits(page)

    # when she checks out for pickup at Laugavegur
    page.get_by_test_id("checkout-link").click()
    assert "Lopapeysa — M" in page.locator("main").inner_text()
    page.fill("input[name=name]", "Anna Jónsdóttir")
    page.fill("input[name=email]", "anna@example.com")
    page.fill("input[name=phone]", "+354 555 1234")
    page.get_by_test_id("store-choice").filter(has_text="Laugavegur").locator("input[name=store]").check()
    page.get_by_test_id("place-order").click()

    # then the order holds the medium, reserved at Laugavegur, and its page names it
    page.get_by_test_id("pickup-code").wait_for()
    order = Order.objects.get()
    assert [(line.product_name, line.sku, line.quantity) for line in order.lines.all()] == [
        ("Lopapeysa — M", "LOPI-M", 1)
    ]
    assert StockLevel.objects.get(store=shop["store"], product=shop["medium"]).reserved == 1
    assert "Lopapeysa — M" in page.locator("main").inner_text()
