"""A shopper has her cart delivered in an evening window, in a real browser on a 390 × 844
phone: the address first, the store and window, paying online; the driver, on a phone too, packs
it, sets off and marks it delivered; the shopper's order page then says it was delivered."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from payments.core import PROVIDER_CACHE

from accounts.tests.factories import DEMO_PASSWORD, StoreManagerFactory
from catalog.tests.factories import ProductFactory
from delivery.models import Delivery, DeliveryState
from delivery.tests.factories import DeliveryZoneFactory, evening_windows
from orders.models import Order, OrderStatus
from payment.models import Payment, PaymentStatus
from payment.tests.factories import DUMMY
from stores.models import StockLevel
from stores.tests.factories import PostcodeLocationFactory, StockLevelFactory, StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def shop(settings, live_server):
    settings.SITE_URL = live_server.url
    settings.PAYMENT_VARIANTS = {"dummy": DUMMY}
    settings.SHOP_PAYMENT_OPTIONS = "both"
    PROVIDER_CACHE.clear()
    PostcodeLocationFactory(country="IS", postcode="101", place_name="Reykjavík")
    laugavegur = StoreFactory(name="Laugavegur", slug="laugavegur")
    DeliveryZoneFactory(store=laugavegur, name="Miðbær", postcodes="101-108", fee=Decimal("990"))
    # The van goes out every evening, 17:00-19:00, ordered by 15:00 the same day.
    evening_windows(laugavegur)
    sweater = ProductFactory(name="Lopapeysa wool sweater", slug="lopapeysa", sku="LOPI-001", price=Decimal("24990"))
    StockLevelFactory(store=laugavegur, product=sweater, on_hand=3)
    StoreManagerFactory(username="driver-laugavegur", stores=[laugavegur])
    yield {"url": live_server.url, "store": laugavegur}
    PROVIDER_CACHE.clear()


def fits(page):
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]


def test_a_cart_is_delivered_in_an_evening_window_and_the_shopper_sees_it_delivered(browser, shop, mailoutbox):
    url = shop["url"]
    shopper = browser.new_context(**PHONE).new_page()

    # given a sweater in her cart
    shopper.goto(url + "/products/lopapeysa/")
    shopper.get_by_test_id("quantity").fill("1")
    shopper.get_by_test_id("add-to-cart").click()
    shopper.goto(url + reverse("checkout:cart"))

    # when she chooses delivery and gives her address first
    shopper.get_by_test_id("delivery-link").click()
    shopper.fill("input[name=street]", "Bergstaðastræti 12")
    shopper.fill("input[name=postcode]", "1O1")  # a typo first
    shopper.fill("input[name=city]", "Reykjavík")
    shopper.fill("input[name=phone]", "+354 555 1234")
    shopper.get_by_test_id("find-delivery").click()
    assert "is not an Icelandic postcode" in shopper.content()
    assert shopper.input_value("input[name=street]") == "Bergstaðastræti 12"
    shopper.fill("input[name=postcode]", "101")
    shopper.get_by_test_id("find-delivery").click()

    # then Laugavegur delivers for ISK 990 in an evening window
    option = shopper.get_by_test_id("delivery-option").filter(has_text="Laugavegur")
    assert "990" in option.get_by_test_id("delivery-fee").inner_text()
    window = option.get_by_test_id("window-select")
    chosen = window.locator("option").first
    assert "17:00–19:00" in chosen.inner_text()
    assert fits(shopper)

    # when she places the order and pays online
    shopper.fill("input[name=name]", "Anna Jónsdóttir")
    shopper.fill("input[name=email]", "anna@example.com")
    shopper.get_by_test_id("place-delivery").click()
    assert "Pay for order" in shopper.locator("h1").inner_text()
    shopper.select_option("select[name=status]", "preauth")
    shopper.select_option("select[name=fraud_status]", "accept")
    shopper.select_option("select[name=gateway_response]", "3ds-disabled")
    shopper.get_by_role("button", name="Pay").click()

    # then her order page shows the delivery, placed, with the fee in the total
    assert shopper.get_by_test_id("order-status").inner_text().strip() == "Placed"
    assert "17:00–19:00" in shopper.get_by_test_id("delivery-window").inner_text()
    assert "ISK\xa025,980" in shopper.get_by_test_id("order-total").inner_text()
    assert "It is taken when the order is delivered." in shopper.get_by_test_id("order-payment").inner_text()
    assert fits(shopper)
    order = Order.objects.get()
    delivery = Delivery.objects.get()
    day = delivery.window_start.astimezone(shop["store"].zone).date()

    # when the driver, on his phone, opens the round of that day and packs, sets off, delivers
    driver = browser.new_context(**PHONE).new_page()
    driver.goto(url + reverse("admin:index"))
    driver.fill("#id_username", "driver-laugavegur")
    driver.fill("#id_password", DEMO_PASSWORD)
    driver.click("input[type=submit]")
    driver.goto(url + reverse("admin:orders_order_driver_round") + f"?date={day.isoformat()}")
    stop = driver.get_by_test_id("stop").filter(has_text="Bergstaðastræti 12")
    assert "17:00–19:00" in stop.inner_text()
    assert "+354 555 1234" in stop.inner_text()
    assert fits(driver)
    driver.get_by_test_id("mark-packed").click()
    driver.get_by_test_id("send-out").click()
    assert driver.get_by_test_id("stop-state").inner_text() == "Out for delivery"
    driver.get_by_test_id("mark-delivered").click()
    assert driver.get_by_test_id("stop-state").inner_text() == "Delivered"
    assert fits(driver)

    # then the shopper sees it delivered, the card payment was taken for goods and fee, and she
    # was e-mailed when it left the store and when it arrived
    shopper.reload()
    assert shopper.get_by_test_id("order-status").inner_text().strip() == "Delivered"
    assert shopper.get_by_test_id("delivery-state").inner_text().strip() == "Delivered"
    assert fits(shopper)
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    payment = Payment.objects.get(order=order)
    assert payment.status == PaymentStatus.CONFIRMED
    assert payment.captured_amount == Decimal("25980")
    assert Delivery.objects.get().state == DeliveryState.DELIVERED
    assert StockLevel.objects.values_list("on_hand", "reserved").get() == (2, 0)
    subjects = [message.subject for message in mailoutbox]
    assert f"Your order {order.number} is on its way" in subjects
    assert f"Your order {order.number} has been delivered" in subjects
    assert isinstance(day, datetime.date)
