"""A manager works an order from its admin page in a real browser: signs in, opens the order,
marks it ready, then hands it over with the shopper's pickup code; the order is collected and
the card payment captured. On a laptop, and on a phone at the counter (390 × 844)."""

from decimal import Decimal

import pytest
from django.urls import reverse
from payments.core import PROVIDER_CACHE

from accounts.tests.factories import DEMO_PASSWORD, StoreManagerFactory
from catalog.tests.factories import ProductFactory
from orders.models import OrderStatus
from orders.tests.factories import place_order
from payment.models import PaymentStatus
from payment.tests.factories import DUMMY, authorised_payment
from pickup.selectors import pickup_of
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(settings, live_server):
    settings.SITE_URL = live_server.url
    settings.PAYMENT_VARIANTS = {"dummy": DUMMY}
    settings.SHOP_PAYMENT_OPTIONS = "both"
    PROVIDER_CACHE.clear()
    laugavegur = StoreFactory(name="Laugavegur", slug="laugavegur")
    sweater = ProductFactory(name="Hekla lopapeysa", sku="HEKLA-1", price=Decimal("24990"))
    StockLevelFactory(store=laugavegur, product=sweater, on_hand=5)
    StoreManagerFactory(username="manager-laugavegur", stores=[laugavegur])
    yield {"url": live_server.url, "store": laugavegur, "sweater": sweater}
    PROVIDER_CACHE.clear()


def signed_in(browser, url, **context):
    page = browser.new_context(**context).new_page()
    page.goto(url + reverse("admin:index"))
    page.fill("#id_username", "manager-laugavegur")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("input[type=submit]")
    return page


def test_a_manager_marks_ready_and_hands_over_from_the_order_page(browser, shop):
    # given an order the shopper paid online (authorised, nothing taken yet)
    order = place_order(store=shop["store"], products_and_quantities=[(shop["sweater"], 1)], payment="dummy")
    payment = authorised_payment(order)
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED

    # when the manager signs in and opens the order from the order list
    staff = signed_in(browser, shop["url"])
    staff.goto(shop["url"] + reverse("admin:orders_order_changelist"))
    staff.get_by_role("link", name=order.number).click()
    staff.wait_for_url(f"**{reverse('admin:orders_order_change', args=[order.pk])}")

    # then the page offers marking it ready and cancelling, not handing over yet
    steps = staff.get_by_test_id("order-next-steps")
    assert steps.get_by_test_id("mark-ready").is_visible()
    assert steps.get_by_test_id("cancel-order").is_visible()
    assert steps.get_by_test_id("hand-over").count() == 0

    # when they mark it ready from the order's page
    steps.get_by_test_id("mark-ready").click()

    # then the page says so, and now offers the hand-over with the pickup code
    assert f"Order {order.number} is ready for pickup" in staff.locator("ul.messagelist").inner_text()
    assert staff.locator(".field-status .readonly").inner_text() == "Ready for pickup"
    assert staff.get_by_test_id("mark-ready").count() == 0
    assert "the card payment is captured when you hand over" in staff.get_by_test_id("hand-over-form").inner_text()
    assert staff.get_by_test_id("till-receipt-input").count() == 0  # paid online: nothing for the till

    # when they type the shopper's code on the order's page and hand over
    staff.get_by_test_id("pickup-code-input").fill(pickup_of(order).code)
    staff.get_by_test_id("hand-over").click()

    # then the order is collected, the card payment captured, and the page has no next step left
    assert "ISK\u00a024,990 was captured from the card payment." in staff.locator("ul.messagelist").inner_text()
    assert staff.locator(".field-status .readonly").inner_text() == "Collected"
    assert staff.get_by_test_id("order-next-steps").count() == 0
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == OrderStatus.COLLECTED
    assert (payment.status, payment.captured_amount) == (PaymentStatus.CONFIRMED, Decimal("24990"))
    level = StockLevel.objects.get(store=shop["store"], product=shop["sweater"])
    assert (level.on_hand, level.reserved) == (4, 0)


def test_on_a_phone_the_next_steps_fit_and_a_wrong_code_keeps_what_was_typed(browser, shop):
    # given an order paid at pickup, on a phone at the counter
    order = place_order(store=shop["store"], products_and_quantities=[(shop["sweater"], 2)])
    staff = signed_in(browser, shop["url"], viewport={"width": 390, "height": 844})
    staff.goto(shop["url"] + reverse("admin:orders_order_change", args=[order.pk]))

    # when they mark it ready
    staff.get_by_test_id("mark-ready").click()

    # then the next steps fit the phone's width, each button reachable on screen
    steps = staff.get_by_test_id("order-next-steps")
    box = steps.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    for button in ("hand-over", "cancel-order"):
        target = staff.get_by_test_id(button)
        target.scroll_into_view_if_needed()
        button_box = target.bounding_box()
        assert button_box["x"] >= 0 and button_box["x"] + button_box["width"] <= 390, button

    # when they type a wrong code with the till's receipt number
    wrong = "000000" if pickup_of(order).code != "000000" else "111111"
    staff.get_by_test_id("pickup-code-input").fill(wrong)
    staff.get_by_test_id("till-receipt-input").fill("T-4711")
    staff.get_by_test_id("hand-over").click()

    # then nothing is handed over, the collect screen says why and keeps the receipt number
    assert staff.locator(".errorlist").first.is_visible()
    assert staff.get_by_test_id("till-receipt-input").input_value() == "T-4711"
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP

    # and with the right code, it is handed over and paid at the till
    staff.get_by_test_id("pickup-code-input").fill(pickup_of(order).code)
    staff.get_by_test_id("collect-submit").click()
    assert "paid at the till, receipt T-4711" in staff.locator("ul.messagelist").inner_text()
    order.refresh_from_db()
    assert order.status == OrderStatus.COLLECTED
