"""locate.js in a real browser: "Use my location" fills the coordinates and finds the nearest stores."""

from decimal import Decimal

import pytest
from django.urls import reverse

from stores.tests.factories import StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OSLO_CENTRAL_STATION = {"latitude": 59.9111, "longitude": 10.7528}


def test_a_shopper_in_oslo_uses_their_location_and_sees_the_oslo_store_first(browser, live_server):
    # given
    StoreFactory(name="Laugavegur", city="Reykjavík", latitude=Decimal("64.1458"), longitude=Decimal("-21.9290"))
    StoreFactory(
        name="Karl Johan",
        city="Oslo",
        time_zone="Europe/Oslo",
        latitude=Decimal("59.9127"),
        longitude=Decimal("10.7461"),
    )
    context = browser.new_context(geolocation=OSLO_CENTRAL_STATION, permissions=["geolocation"])
    page = context.new_page()
    page.goto(live_server.url + reverse("stores:store_list"))

    # when
    page.get_by_test_id("use-my-location").click()
    page.wait_for_url("**lat=*")

    # then
    assert page.locator("#stores-heading").inner_text() == "Stores nearest to your location"
    assert page.locator("[data-testid=store-card] h3").all_inner_texts() == ["Karl Johan", "Laugavegur"]
    assert page.get_by_test_id("distance").first.inner_text() == "0.4 km"
    context.close()


def test_when_the_location_is_refused_the_shopper_is_told_to_use_a_postcode(browser, live_server):
    # given: the shopper did not allow the page to know where they are
    StoreFactory(name="Laugavegur")
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_server.url + reverse("stores:store_list"))

    # when
    page.get_by_test_id("use-my-location").click()

    # then
    status = page.locator("[data-locate-status]")
    status.filter(has_text="postcode").wait_for()
    assert status.inner_text() == "We could not get your location. Enter a postcode instead."
    assert page.url == live_server.url + reverse("stores:store_list")
    context.close()
