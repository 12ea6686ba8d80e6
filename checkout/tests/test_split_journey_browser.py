"""A split cart is half collected and half delivered (issue 11), in a real browser on 390 × 844
phones: no store has the whole cart, so the checkout offers it in parts — the sweater and the
mittens picked up at Kringlan, the boots delivered from Laugavegur in an evening window — with
each part's lines, fee, time and total; Anna pays once online. Kringlan's manager marks the
pickup part ready and hands it over with her code; Laugavegur's driver delivers the boots; her
order page shows both parts' states, and each part's money was taken when it was handed over."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from payments.core import PROVIDER_CACHE

from accounts.tests.factories import DEMO_PASSWORD, StoreManagerFactory
from catalog.tests.factories import ProductFactory
from delivery.models import Delivery
from delivery.tests.factories import DeliveryZoneFactory, evening_windows
from orders.models import Order, OrderStatus
from payment.models import Payment
from payment.tests.factories import DUMMY
from pickup.selectors import pickup_of
from pickup.tests.factories import PickupSettingsFactory
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
    kringlan = StoreFactory(name="Kringlan", slug="kringlan")
    PickupSettingsFactory(store=kringlan)
    laugavegur = StoreFactory(name="Laugavegur", slug="laugavegur")
    DeliveryZoneFactory(store=laugavegur, name="Miðbær", postcodes="101-108", fee=Decimal("990"))
    # The van goes out every evening, 17:00-19:00, ordered by 15:00 the same day.
    evening_windows(laugavegur, starts=datetime.time(17), ends=datetime.time(19), cutoff=datetime.time(15))
    products = {
        "sweater": ProductFactory(name="Hekla lopapeysa", slug="hekla", sku="HEKLA-1", price=Decimal("24990")),
        "mittens": ProductFactory(name="Lopi mittens", slug="mittens", sku="LOPI-1", price=Decimal("3990")),
        "boots": ProductFactory(name="Gúmmístígvél", slug="boots", sku="BOOT-1", price=Decimal("12990")),
    }
    StockLevelFactory(store=kringlan, product=products["sweater"], on_hand=3)
    StockLevelFactory(store=kringlan, product=products["mittens"], on_hand=3)
    StockLevelFactory(store=laugavegur, product=products["boots"], on_hand=2)
    StoreManagerFactory(username="manager-kringlan", stores=[kringlan])
    StoreManagerFactory(username="driver-laugavegur", stores=[laugavegur])
    yield {"url": live_server.url, "kringlan": kringlan, "laugavegur": laugavegur, **products}
    PROVIDER_CACHE.clear()


def fits(page):
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]


def sign_in(browser, url, username):
    page = browser.new_context(**PHONE).new_page()
    page.goto(url + reverse("admin:index"))
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("input[type=submit]")
    return page


def test_a_split_cart_is_half_collected_and_half_delivered(browser, shop, mailoutbox):
    url = shop["url"]
    shopper = browser.new_context(**PHONE).new_page()

    # given a sweater, two pairs of mittens and boots in Anna's cart: no store has all three
    for slug, units in (("hekla", "1"), ("mittens", "2"), ("boots", "1")):
        shopper.goto(url + f"/products/{slug}/")
        shopper.get_by_test_id("quantity").fill(units)
        shopper.get_by_test_id("add-to-cart").click()
        shopper.wait_for_load_state("load")

    # when she goes to the checkout, it offers the cart in parts
    shopper.goto(url + reverse("checkout:checkout"))
    assert shopper.get_by_test_id("no-store-can-supply").is_visible()
    shopper.get_by_test_id("offer-split").click()
    shopper.fill("input[name=street]", "Bergstaðastræti 12")
    shopper.fill("input[name=postcode]", "101")
    shopper.fill("input[name=city]", "Reykjavík")
    shopper.fill("input[name=phone]", "+354 555 1234")
    shopper.get_by_test_id("find-split").click()

    # then each part is shown with its lines, place, fee, time and total, and the order total
    pickup_part = shopper.get_by_test_id("split-part").filter(has_text="Collect at Kringlan")
    delivered_part = shopper.get_by_test_id("split-part").filter(has_text="Delivered from Laugavegur")
    assert "Hekla lopapeysa" in pickup_part.inner_text() and "Lopi mittens" in pickup_part.inner_text()
    assert pickup_part.get_by_test_id("part-total").inner_text() == "ISK\xa032,970"
    assert pickup_part.get_by_test_id("part-time").is_visible()
    assert "Gúmmístígvél" in delivered_part.inner_text()
    assert delivered_part.get_by_test_id("part-fee").inner_text() == "ISK\xa0990"
    assert delivered_part.get_by_test_id("part-total").inner_text() == "ISK\xa013,980"
    assert "17:00–19:00" in delivered_part.get_by_test_id("window-select").locator("option").first.inner_text()
    assert shopper.get_by_test_id("split-total").inner_text() == "ISK\xa046,950"
    assert fits(shopper)

    # when she places it in an evening window and pays once online
    shopper.fill("input[name=name]", "Anna Jónsdóttir")
    shopper.fill("input[name=email]", "anna@example.com")
    shopper.get_by_test_id("place-split").click()
    assert "Pay for order" in shopper.locator("h1").inner_text()
    shopper.select_option("select[name=status]", "preauth")
    shopper.select_option("select[name=fraud_status]", "accept")
    shopper.select_option("select[name=gateway_response]", "3ds-disabled")
    shopper.get_by_role("button", name="Pay").click()

    # then her order page shows both parts waiting, and her pickup code
    shopper.wait_for_load_state("load")
    order = Order.objects.get()
    assert order.is_split and order.status == OrderStatus.PLACED
    parts = shopper.get_by_test_id("order-part")
    assert parts.count() == 2
    assert [parts.nth(i).get_attribute("data-stage") for i in range(2)] == ["placed", "placed"]
    assert shopper.get_by_test_id("pickup-code").inner_text() == pickup_of(order).code
    assert fits(shopper)

    # when Kringlan's manager, on a phone, marks the pickup part ready and hands it over with her code
    staff = sign_in(browser, url, "manager-kringlan")
    staff.goto(url + reverse("admin:orders_order_change", args=[order.pk]))
    assert staff.get_by_test_id("admin-order-part").count() == 2
    staff.get_by_test_id("mark-ready").click()
    staff.wait_for_load_state("load")
    assert "ready for pickup" in staff.locator("ul.messagelist").inner_text()
    assert fits(staff)
    staff.get_by_test_id("pickup-code-input").fill(pickup_of(order).code)
    staff.get_by_test_id("hand-over").click()
    staff.wait_for_load_state("load")

    # then the pickup part is collected and paid; the boots are still reserved, the order waits
    order.refresh_from_db()
    payment = Payment.objects.get(order=order)
    assert order.status == OrderStatus.PLACED
    assert payment.captured_amount == Decimal("32970")
    assert StockLevel.objects.get(store=shop["laugavegur"], product=shop["boots"]).reserved == 1
    shopper.reload()
    stages = shopper.get_by_test_id("order-part")
    assert [stages.nth(i).get_attribute("data-stage") for i in range(2)] == ["collected", "placed"]

    # when Laugavegur's driver, on his phone, packs, sets off and delivers the boots
    delivery = Delivery.objects.get()
    day = delivery.window_start.astimezone(shop["laugavegur"].zone).date()
    driver = sign_in(browser, url, "driver-laugavegur")
    driver.goto(url + reverse("admin:orders_order_driver_round") + f"?date={day.isoformat()}")
    stop = driver.get_by_test_id("stop").filter(has_text="Bergstaðastræti 12")
    stop.get_by_test_id("mark-packed").click()
    driver.wait_for_load_state("load")
    driver.get_by_test_id("stop").filter(has_text="Bergstaðastræti 12").get_by_test_id("send-out").click()
    driver.wait_for_load_state("load")
    driver.get_by_test_id("stop").filter(has_text="Bergstaðastræti 12").get_by_test_id("mark-delivered").click()
    driver.wait_for_load_state("load")
    assert (
        driver.get_by_test_id("stop").filter(has_text="Bergstaðastræti 12").get_by_test_id("stop-state").inner_text()
        == "Delivered"
    )
    assert fits(driver)

    # then her order page shows one part collected and the other delivered, the order delivered,
    # and the whole amount was taken, each part's when it was handed over
    shopper.reload()
    stages = shopper.get_by_test_id("order-part")
    assert [stages.nth(i).get_attribute("data-stage") for i in range(2)] == ["collected", "delivered"]
    assert [stages.nth(i).get_by_test_id("part-status").inner_text() for i in range(2)] == ["Collected", "Delivered"]
    assert shopper.get_by_test_id("order-status").inner_text().strip() == "Delivered"
    assert fits(shopper)
    payment.refresh_from_db()
    assert payment.captured_amount == Decimal("46950")
    assert StockLevel.objects.get(store=shop["laugavegur"], product=shop["boots"]).reserved == 0
    subjects = [message.subject for message in mailoutbox]
    assert f"Your order {order.number} is ready for pickup at Kringlan" in subjects
    assert f"Your order {order.number} has been delivered" in subjects
