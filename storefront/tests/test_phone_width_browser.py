"""The pages of issue 17's storefront part on a 390 × 844 phone in Chromium: search results, a
store page (with its map drawn by Leaflet, and without JavaScript), and the account pages
(log in, password reset, e-mail change, order history with "Order again"). Each fits the screen
and no button is covered."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import DEMO_PASSWORD, UserFactory
from catalog.tests.factories import ProductFactory
from orders.tests.factories import place_order
from pickup.tests.factories import PickupSettingsFactory
from stores.models import SpecialOpeningHours
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
# Tiles from the live server itself: the test needs no network, and the page's CSP allows them.
LOCAL_TILES = "/static/vendor/leaflet-1.9.4/images/marker-shadow.png?z={z}&x={x}&y={y}"

COVERED_BUTTONS = """() => {
  const covered = [];
  for (const element of document.querySelectorAll("main button, main a.button")) {
    const box = element.getBoundingClientRect();
    if (!box.width || !box.height) continue;
    element.scrollIntoView({block: "center"});
    const moved = element.getBoundingClientRect();
    const hit = document.elementFromPoint(moved.left + moved.width / 2, moved.top + moved.height / 2);
    if (!hit || !(element === hit || element.contains(hit))) covered.push(element.outerHTML.slice(0, 80));
  }
  return covered;
}"""


def assert_fits_a_phone(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.url
    assert page.evaluate(COVERED_BUTTONS) == [], page.url


@pytest.fixture
def shop(settings, live_server):
    settings.MAP_TILES_URL = LOCAL_TILES
    store = StoreFactory(
        name="Norðurbúð Kringlan",
        slug="kringlan",
        address="Kringlan 4–12",
        parking="Free parking in the garage under the mall, and on the roof on weekdays.",
        latitude=Decimal("64.130000"),
        longitude=Decimal("-21.895000"),
    )
    PickupSettingsFactory(store=store, offers_curbside=True, curbside_instructions="Bays 1–4 by door 3.")
    SpecialOpeningHours.objects.create(
        store=store,
        date=store.local_now().date() + datetime.timedelta(days=2),
        reason="Stock-taking, the whole store is counted",
    )
    sweater = ProductFactory(name="Hekla wool sweater", name_is="Hekla lopapeysa")
    StockLevelFactory(store=store, product=sweater, on_hand=3)
    anna = UserFactory(username="anna")
    place_order(store=store, products_and_quantities=[(sweater, 2)], customer=anna)
    return {"url": live_server.url, "store": store, "shopper": anna}


def test_search_and_the_store_page_fit_a_phone_and_the_map_is_drawn(browser, shop):
    phone = browser.new_context(**PHONE).new_page()

    # a misspelt search finds the sweater
    phone.goto(shop["url"] + "/?q=sweter")
    assert phone.get_by_test_id("product-card").count() == 1
    assert_fits_a_phone(phone)

    # the store page draws its map with Leaflet, its tiles and a marker
    phone.goto(shop["url"] + shop["store"].get_absolute_url())
    phone.wait_for_selector(".leaflet-tile-loaded")
    phone.wait_for_selector(".leaflet-marker-icon")
    assert phone.get_by_test_id("store-map").is_visible()
    assert phone.get_by_test_id("special-hours").is_visible()
    assert phone.get_by_test_id("parking").is_visible()
    assert_fits_a_phone(phone)


def test_the_store_page_works_without_javascript(browser, shop):
    phone = browser.new_context(**PHONE, java_script_enabled=False).new_page()

    phone.goto(shop["url"] + shop["store"].get_absolute_url())

    assert not phone.get_by_test_id("store-map").is_visible()
    assert phone.get_by_test_id("directions").is_visible()
    assert phone.get_by_test_id("curbside-instructions").inner_text() == "Bays 1–4 by door 3."
    assert_fits_a_phone(phone)


def test_the_account_pages_fit_a_phone(browser, shop):
    phone = browser.new_context(**PHONE).new_page()

    for path in (reverse("accounts:login"), reverse("accounts:password_reset")):
        phone.goto(shop["url"] + path)
        assert_fits_a_phone(phone)

    # when Anna logs in, her history offers to order again, and the e-mail page fits too
    phone.goto(shop["url"] + reverse("accounts:login"))
    phone.fill("input[name=username]", "anna")
    phone.fill("input[name=password]", DEMO_PASSWORD)
    phone.get_by_test_id("login-submit").click()
    phone.wait_for_url("**/account/orders/")
    assert phone.get_by_test_id("order-again").is_visible()
    assert_fits_a_phone(phone)
    phone.goto(shop["url"] + reverse("accounts:email_change"))
    assert_fits_a_phone(phone)

    # and ordering again puts the sweaters in her cart
    phone.goto(shop["url"] + reverse("accounts:orders"))
    phone.get_by_test_id("order-again").click()
    phone.wait_for_url("**/cart/")
    assert "Cart (2 items)" in phone.get_by_test_id("cart-link").inner_text()
    assert_fits_a_phone(phone)
