"""Line-level readiness in a real browser, at the counter on a phone (390 × 844): the manager ticks
the line that is ready, the shopper's page on her phone says "1 of 2 items are ready", and the
ready part is handed over with her code while the rest stays reserved; later the rest."""

from decimal import Decimal

import pytest
from django.urls import reverse
from payments.core import PROVIDER_CACHE

from accounts.tests.factories import DEMO_PASSWORD, StoreManagerFactory
from catalog.tests.factories import ProductFactory
from orders.models import OrderStatus
from orders.tests.factories import place_order
from payment.tests.factories import DUMMY, authorised_payment
from pickup.selectors import pickup_of
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}}


@pytest.fixture
def shop(settings, live_server):
    settings.SITE_URL = live_server.url
    settings.PAYMENT_VARIANTS = {"dummy": DUMMY}
    settings.SHOP_PAYMENT_OPTIONS = "both"
    PROVIDER_CACHE.clear()
    laugavegur = StoreFactory(name="Laugavegur", slug="laugavegur")
    sweater = ProductFactory(name="Hekla lopapeysa", sku="HEKLA-1", price=Decimal("24990"))
    mittens = ProductFactory(name="Lopi mittens", sku="LOPI-1", price=Decimal("3990"))
    for product in (sweater, mittens):
        StockLevelFactory(store=laugavegur, product=product, on_hand=5)
    StoreManagerFactory(username="manager-laugavegur", stores=[laugavegur])
    yield {"url": live_server.url, "store": laugavegur, "sweater": sweater, "mittens": mittens}
    PROVIDER_CACHE.clear()


def fits(page):
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]


def test_the_ready_part_is_marked_told_and_handed_over_on_phones(browser, shop):
    # given Anna's order of a sweater and mittens, paid online
    order = place_order(
        store=shop["store"], products_and_quantities=[(shop["sweater"], 1), (shop["mittens"], 1)], payment="dummy"
    )
    payment = authorised_payment(order)

    # when the manager, on a phone, ticks the mittens as ready on the order's page
    staff = browser.new_context(**PHONE).new_page()
    staff.goto(shop["url"] + reverse("admin:index"))
    staff.fill("#id_username", "manager-laugavegur")
    staff.fill("#id_password", DEMO_PASSWORD)
    staff.click("input[type=submit]")
    staff.goto(shop["url"] + reverse("admin:orders_order_change", args=[order.pk]))
    form = staff.get_by_test_id("mark-lines-ready-form")
    form.get_by_label("1 × Lopi mittens").check()
    assert fits(staff)
    form.get_by_test_id("mark-lines-ready").click()

    # then the page says 1 of 2 items are ready and offers the hand-over of that part
    assert "1 of 2 items of order" in staff.locator("ul.messagelist").inner_text()
    assert staff.get_by_test_id("hand-over-form").is_visible()
    assert fits(staff)

    # and Anna's page on her phone says so, line by line, with her code
    shopper = browser.new_context(**PHONE).new_page()
    shopper.goto(shop["url"] + order.get_absolute_url())
    assert "1 of 2 items are ready at Laugavegur" in shopper.get_by_test_id("order-readiness").inner_text()
    assert shopper.get_by_test_id("pickup-code").inner_text() == pickup_of(order).code
    assert fits(shopper)

    # when the manager hands over the ready part with her code
    staff.get_by_test_id("pickup-code-input").fill(pickup_of(order).code)
    staff.get_by_test_id("hand-over").click()

    # then the mittens are hers and paid, the sweater still reserved, the order still placed
    assert "the rest stays reserved" in staff.locator("ul.messagelist").inner_text()
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    assert payment.captured_amount == Decimal("3990")
    assert StockLevel.objects.get(product=shop["sweater"]).reserved == 1
    shopper.reload()
    assert "(collected)" in shopper.content() and "(being got ready)" in shopper.content()
