"""A driver's phone page marks a delivery failed and then delivered (issue 11), in a real browser
at 390 × 844: packed, out, failed with a reason (no one home), rebooked into the next window from
the round, out again and delivered; the shopper's order page then says it was delivered."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import DEMO_PASSWORD, StoreManagerFactory
from catalog.tests.factories import ProductFactory
from delivery.models import DeliveryState, FailureReason
from delivery.selectors import delivery_options, forget_directory
from delivery.tests.factories import DeliveryZoneFactory, evening_windows, place_delivery
from orders.models import OrderStatus
from stores.models import StockLevel
from stores.tests.factories import PostcodeLocationFactory, StockLevelFactory, StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def fits(page):
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]


def test_a_drivers_phone_page_marks_a_delivery_failed_and_then_delivered(browser, settings, live_server):
    # given a delivery from Laugavegur in its earliest evening window, and its driver
    settings.SITE_URL = live_server.url
    PostcodeLocationFactory(country="IS", postcode="101", place_name="Reykjavík")
    store = StoreFactory(name="Laugavegur", slug="laugavegur")
    DeliveryZoneFactory(store=store, name="Miðbær", postcodes="101-108", fee=Decimal("990"))
    evening_windows(store)
    sweater = ProductFactory(name="Lopapeysa", sku="LOPI-001", price=Decimal("24990"))
    StockLevelFactory(store=store, product=sweater, on_hand=3)
    StoreManagerFactory(username="driver-laugavegur", stores=[store])
    forget_directory()
    (option,) = delivery_options(postcode="101", country="IS").options
    delivery = place_delivery(
        store=store, products_and_quantities=[(sweater, 1)], starts_at=option.earliest.starts_at, now=timezone.now()
    )
    order = delivery.fulfilment.order
    url = live_server.url

    def round_of(page, delivery):
        day = delivery.window_start.astimezone(store.zone).date()
        page.goto(url + reverse("admin:orders_order_driver_round") + f"?date={day.isoformat()}")
        return page.get_by_test_id("stop").filter(has_text=order.number)

    driver = browser.new_context(**PHONE).new_page()
    driver.goto(url + reverse("admin:index"))
    driver.fill("#id_username", "driver-laugavegur")
    driver.fill("#id_password", DEMO_PASSWORD)
    driver.click("input[type=submit]")

    # when the driver packs it, sets off, and finds no one home
    stop = round_of(driver, delivery)
    stop.get_by_test_id("mark-packed").click()
    driver.wait_for_load_state("load")
    round_of(driver, delivery).get_by_test_id("send-out").click()
    driver.wait_for_load_state("load")
    stop = round_of(driver, delivery)
    stop.get_by_test_id("failure-reason").select_option(FailureReason.NO_ONE_HOME.value)
    stop.get_by_test_id("mark-failed").click()
    driver.wait_for_load_state("load")

    # then the stop says it failed and why, the units are still held, the order waits again
    stop = round_of(driver, delivery)
    assert stop.get_by_test_id("stop-state").inner_text() == "Delivery failed"
    assert "No one home" in stop.inner_text()
    assert fits(driver)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED
    assert StockLevel.objects.get(store=store, product=sweater).reserved == 1

    # when the driver rebooks it into the next window offered and delivers it then
    stop.get_by_test_id("rebook").click()
    driver.wait_for_load_state("load")
    assert fits(driver)
    driver.get_by_test_id("deliver-again").click()
    driver.wait_for_load_state("load")
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PACKED and delivery.attempt == 2
    round_of(driver, delivery).get_by_test_id("send-out").click()
    driver.wait_for_load_state("load")
    round_of(driver, delivery).get_by_test_id("mark-delivered").click()
    driver.wait_for_load_state("load")

    # then it is delivered, its unit has left the store, and the shopper's page says so
    assert round_of(driver, delivery).get_by_test_id("stop-state").inner_text() == "Delivered"
    assert fits(driver)
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    level = StockLevel.objects.get(store=store, product=sweater)
    assert (level.on_hand, level.reserved) == (2, 0)
    shopper = browser.new_context(**PHONE).new_page()
    shopper.goto(url + order.get_absolute_url())
    assert shopper.get_by_test_id("order-status").inner_text() == "Delivered"
    assert fits(shopper)
