"""Curbside pickup clicked through in real browsers: the shopper on a phone, staff at the queue."""

import re

import pytest

from accounts.tests.factories import DEMO_PASSWORD, StoreManagerFactory
from catalog.tests.factories import ProductFactory
from orders.models import Order, OrderStatus
from pickup.models import CurbsideVisit
from pickup.selectors import pickup_of
from pickup.services import mark_ready_for_pickup
from pickup.tests.factories import PickupSettingsFactory
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
# The queue polls every few seconds; allow a few rounds.
QUEUE_UPDATE_TIMEOUT_MS = 15_000


@pytest.fixture
def shop(settings, live_server):
    settings.SITE_URL = live_server.url
    store = StoreFactory(name="Laugavegur", slug="laugavegur")
    PickupSettingsFactory(
        store=store, curbside_bays=6, curbside_instructions="Park in the green bays by the side entrance."
    )
    sweater = ProductFactory(name="Lopapeysa wool sweater", slug="lopapeysa", sku="LOPI-001")
    StockLevelFactory(store=store, product=sweater, on_hand=3)
    manager = StoreManagerFactory(username="manager-laugavegur", stores=[store])
    return {"url": live_server.url, "store": store, "manager": manager}


def test_curbside_from_checkout_to_the_car(browser, shop, mailoutbox):
    url = shop["url"]
    # The shopper's phone has JavaScript off: every step is a plain form.
    phone = browser.new_context(**PHONE, java_script_enabled=False).new_page()

    # given a shopper on a phone who buys a sweater for curbside pickup at Laugavegur
    phone.goto(url + "/products/lopapeysa/")
    phone.get_by_test_id("quantity").fill("1")
    phone.get_by_test_id("add-to-cart").click()
    phone.goto(url + "/checkout/")
    phone.fill("input[name=name]", "Anna Jónsdóttir")
    phone.fill("input[name=email]", "anna@example.com")
    phone.fill("input[name=phone]", "+354 555 1234")
    phone.get_by_test_id("store-choice").filter(has_text="Laugavegur").locator("input[name=store]").check()
    assert phone.get_by_test_id("slot-select").locator("option").count() > 0
    phone.get_by_test_id("fulfilment-curbside").check()
    phone.fill("input[name=vehicle_description]", "Red Toyota Yaris, AB-123")
    phone.get_by_test_id("place-order").click()
    code = phone.get_by_test_id("pickup-code").inner_text().strip()
    order = Order.objects.get()
    assert pickup_of(order).is_curbside and pickup_of(order).slot_start is not None
    [received] = mailoutbox  # "order received"
    assert order.number in received.subject and code in received.body
    mailoutbox.clear()

    # and a member of staff with the curbside queue open, nobody waiting yet
    staff = browser.new_context().new_page()
    staff.goto(url + "/admin/orders/order/curbside/")
    staff.fill("#id_username", "manager-laugavegur")
    staff.fill("#id_password", DEMO_PASSWORD)
    staff.click("input[type=submit]")
    assert staff.get_by_test_id("no-arrivals").is_visible()

    # when the store marks the order ready, the e-mail carries the check-in link
    mark_ready_for_pickup(order=order, by=shop["manager"])
    [email] = mailoutbox
    link = re.search(r"(http://\S+/pickup/check-in/\S+/)", email.body).group(1)

    # and the shopper opens it on the phone: it fits the screen and says what happens next
    phone.goto(link)
    assert "What happens next" in phone.get_by_test_id("check-in-state").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert phone.get_by_test_id("curbside-instructions").inner_text() == "Park in the green bays by the side entrance."

    # when they tap "On my way", the queue shows them coming without a reload
    phone.get_by_test_id("eta-input").fill("5")
    phone.get_by_test_id("on-the-way").click()
    row = staff.locator(f".queue-row--on_the_way[data-order='{order.number}']")
    row.wait_for(timeout=QUEUE_UPDATE_TIMEOUT_MS)
    assert "Expected around" in row.inner_text()

    # when they park in bay 4 and tap "I'm here" (twice: an impatient thumb)
    phone.get_by_test_id("bay-input").fill("4")
    phone.get_by_test_id("im-here").click()
    assert "You are checked in" in phone.get_by_test_id("check-in-state").inner_text()
    phone.get_by_test_id("im-here").click()

    # then the queue moves them to the curb, once, with bay, car, the line and since when
    row = staff.locator(f".queue-row--arrived[data-order='{order.number}']")
    row.wait_for(timeout=QUEUE_UPDATE_TIMEOUT_MS)
    assert staff.locator(f"[data-order='{order.number}']").count() == 1
    text = row.inner_text()
    assert "Bay 4" in text and "Red Toyota Yaris, AB-123" in text and "Lopapeysa wool sweater" in text
    assert "Waiting since" in text
    assert CurbsideVisit.objects.count() == 1

    # when staff bring it out and hand it over with the shopper's code
    row.get_by_test_id("hand-over-code").fill(code)
    row.get_by_test_id("hand-over-till-receipt").fill("4711")  # paid at pickup: at the till
    row.get_by_test_id("hand-over").click()
    assert "handed over to Anna Jónsdóttir" in staff.locator("ul.messagelist").inner_text()
    assert staff.locator(f"[data-order='{order.number}']").count() == 0

    # then the shopper's pages say it is done, and the sweater has left the store
    phone.reload()
    assert phone.get_by_test_id("handed-over").is_visible()
    phone.goto(url + order.get_absolute_url())
    assert "Collected" in phone.get_by_test_id("order-status").inner_text()
    assert phone.get_by_test_id("curbside-state").get_attribute("data-step") == "handed_over"
    order.refresh_from_db()
    assert order.status == OrderStatus.COLLECTED and pickup_of(order).fulfilment.fulfilled_by == shop["manager"]
    visit = CurbsideVisit.objects.get(fulfilment__order=order)
    assert visit.wait_seconds is not None
    stock = StockLevel.objects.get(store=shop["store"])
    assert (stock.on_hand, stock.reserved) == (2, 0)


def test_the_queue_keeps_a_half_typed_code_while_it_refreshes(browser, shop):
    # given two ready curbside orders, the first one's shopper waiting at the curb
    from pickup import curbside
    from pickup.tests.factories import place_curbside_order

    sweater = StockLevel.objects.get(store=shop["store"]).product
    first, second = (
        mark_ready_for_pickup(
            order=place_curbside_order(store=shop["store"], products_and_quantities=[(sweater, 1)], email=email),
            by=shop["manager"],
        )
        for email in ("anna@example.com", "bjorn@example.com")
    )
    curbside.check_in(order=first, bay=1)
    staff = browser.new_context().new_page()
    staff.goto(shop["url"] + "/admin/orders/order/curbside/")
    staff.fill("#id_username", "manager-laugavegur")
    staff.fill("#id_password", DEMO_PASSWORD)
    staff.click("input[type=submit]")

    # when staff start typing the first shopper's code and the second shopper checks in meanwhile
    staff.locator(f"[data-order='{first.number}']").get_by_test_id("hand-over-code").fill("12")
    curbside.check_in(order=second, bay=2)

    # then the second shopper appears, and the half-typed code is still there
    staff.locator(f".queue-row--arrived[data-order='{second.number}']").wait_for(timeout=QUEUE_UPDATE_TIMEOUT_MS)
    assert staff.locator(f"[data-order='{first.number}']").get_by_test_id("hand-over-code").input_value() == "12"
    assert staff.get_by_test_id("arrived-count").inner_text() == "2"
