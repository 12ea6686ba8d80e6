"""The checkout's curbside choice in Chromium on a phone: offered only at the stores that offer it
(with JavaScript it follows the store chosen; without, the form refuses and says so at the top,
keeping what was typed)."""

import pytest

from catalog.tests.factories import ProductFactory
from orders.models import FulfilmentMethod, Order
from pickup.selectors import pickup_of
from pickup.tests.factories import PickupSettingsFactory
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


@pytest.fixture
def shop(live_server):
    kringlan = StoreFactory(name="Kringlan", slug="kringlan")
    laugavegur = StoreFactory(name="Laugavegur", slug="laugavegur")
    PickupSettingsFactory(store=kringlan, offers_curbside=True)
    PickupSettingsFactory(store=laugavegur, offers_curbside=False)
    sweater = ProductFactory(name="Lopapeysa wool sweater", slug="lopapeysa")
    for store in (kringlan, laugavegur):
        StockLevelFactory(store=store, product=sweater, on_hand=3)
    return {"url": live_server.url, "kringlan": kringlan, "laugavegur": laugavegur}


def checkout_with_a_sweater(browser, shop, **context):
    page = browser.new_context(**PHONE, **context).new_page()
    page.goto(shop["url"] + "/products/lopapeysa/")
    page.get_by_test_id("add-to-cart").click()
    page.goto(shop["url"] + "/checkout/")
    page.fill("input[name=name]", "Anna Jónsdóttir")
    page.fill("input[name=email]", "anna@example.com")
    page.fill("input[name=phone]", "+354 555 1234")
    return page


def choose_store(page, name):
    page.get_by_role("radio", name=name, exact=True).check()


def test_with_javascript_curbside_is_offered_only_at_a_store_that_offers_it(browser, shop):
    page = checkout_with_a_sweater(browser, shop)

    # when the shopper chooses curbside, then Laugavegur, which does not offer it
    page.get_by_test_id("fulfilment-curbside").check()
    choose_store(page, "Laugavegur")

    # then curbside and the car field are gone, pickup in store is chosen, and a note says why
    assert not page.get_by_test_id("fulfilment-curbside").is_visible()
    assert page.get_by_test_id("fulfilment-curbside").is_disabled()
    assert not page.locator("input[name=vehicle_description]").is_visible()
    assert page.get_by_test_id("fulfilment-in-store").is_checked()
    assert page.get_by_test_id("curbside-not-here").is_visible()

    # when they choose Kringlan instead, curbside is back, and the order is placed for the curb
    choose_store(page, "Kringlan")
    assert not page.get_by_test_id("curbside-not-here").is_visible()
    page.get_by_test_id("fulfilment-curbside").check()
    page.fill("input[name=vehicle_description]", "Red Yaris")
    page.get_by_test_id("place-order").click()
    page.get_by_test_id("pickup-code").wait_for()
    pickup = pickup_of(Order.objects.get())
    assert (pickup.store, pickup.fulfilment.method, pickup.vehicle_description) == (
        shop["kringlan"],
        FulfilmentMethod.CURBSIDE,
        "Red Yaris",
    )


def test_without_javascript_curbside_at_a_store_without_it_is_refused_at_the_top(browser, shop):
    page = checkout_with_a_sweater(browser, shop, java_script_enabled=False)

    # when the shopper chooses Laugavegur and curbside (both shown without JavaScript) with their car
    choose_store(page, "Laugavegur")
    assert page.get_by_test_id("curbside-stores").inner_text() == "Offered at Kringlan."
    page.get_by_test_id("fulfilment-curbside").check()
    page.fill("input[name=vehicle_description]", "Red Yaris")
    page.get_by_test_id("place-order").click()

    # then nothing is placed, and the refusal is on the first screen, not far down the page
    errors = page.get_by_test_id("checkout-errors")
    assert "Laugavegur does not offer curbside pickup." in errors.inner_text()
    assert errors.bounding_box()["y"] + errors.bounding_box()["height"] <= PHONE["viewport"]["height"]
    assert not Order.objects.exists()
    # and everything typed and chosen is still there; its link leads to the choice to change
    assert page.locator("input[name=vehicle_description]").input_value() == "Red Yaris"
    assert page.locator("input[name=name]").input_value() == "Anna Jónsdóttir"
    assert page.get_by_test_id("fulfilment-curbside").is_checked()
    errors.get_by_role("link").click()
    assert page.locator("#fulfilment-errors").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
