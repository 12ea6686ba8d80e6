"""The whole buy-online-pick-up-in-store loop, clicked through in a real browser."""

import re

import pytest

from accounts.tests.factories import DEMO_PASSWORD, StoreManagerFactory
from catalog.tests.factories import ProductFactory
from orders.models import Order, OrderStatus
from pickup.selectors import pickup_of
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(settings, live_server):
    # The e-mail's link must lead back to the server the browser is talking to.
    settings.SITE_URL = live_server.url
    laugavegur = StoreFactory(name="Laugavegur", slug="laugavegur")
    StoreFactory(name="Karl Johans gate", slug="karl-johan", city="Oslo", country="NO", time_zone="Europe/Oslo")
    sweater = ProductFactory(name="Lopapeysa wool sweater", slug="lopapeysa", sku="LOPI-001")
    ProductFactory(name="Merino base layer", slug="merino-base-layer", sku="MER-002")
    StockLevelFactory(store=laugavegur, product=sweater, on_hand=3)
    manager = StoreManagerFactory(username="manager-laugavegur", stores=[laugavegur])
    return {"url": live_server.url, "store": laugavegur, "product": sweater, "manager": manager}


def test_shopper_buys_for_pickup_and_the_store_hands_it_over(browser, shop, mailoutbox):
    url = shop["url"]
    shopper = browser.new_context().new_page()

    # given a shopper who searches the catalog for a sweater
    shopper.goto(url + "/")
    shopper.fill("#site-search", "Lopapeysa")
    shopper.press("#site-search", "Enter")
    shopper.get_by_test_id("product-link").filter(has_text="Lopapeysa wool sweater").click()
    assert shopper.get_by_test_id("sku").inner_text().strip() == "LOPI-001"

    # and picks Laugavegur as their store
    shopper.goto(url + "/stores/")
    shopper.locator("[data-testid=store-card][data-store=laugavegur]").get_by_test_id("choose-store").click()
    assert "Laugavegur" in shopper.locator("header.site-header").inner_text()

    # when they add one to the cart and check out for pickup there
    shopper.goto(url + "/products/lopapeysa/")
    assert "3" in shopper.get_by_test_id("availability").first.inner_text()
    shopper.get_by_test_id("quantity").fill("1")
    shopper.get_by_test_id("add-to-cart").click()
    shopper.get_by_test_id("cart-link").click()
    shopper.get_by_test_id("checkout-link").click()
    shopper.fill("input[name=name]", "Anna Jónsdóttir")
    shopper.fill("input[name=email]", "anna@example.com")
    shopper.fill("input[name=phone]", "+354 555 1234")
    shopper.get_by_test_id("store-choice").filter(has_text="Laugavegur").locator("input[name=store]").check()
    shopper.get_by_test_id("place-order").click()

    # then they see their order with a pickup code, and one unit is reserved for them
    code = shopper.get_by_test_id("pickup-code").inner_text().strip()
    assert re.fullmatch(r"\d{6}", code)
    assert shopper.get_by_test_id("pickup-qr").is_visible()
    order = Order.objects.get()
    assert pickup_of(order).code == code
    assert StockLevel.objects.get(store=shop["store"]).reserved == 1
    # and an "order received" e-mail with the same code
    [received] = mailoutbox
    assert received.subject == f"We have received your order {order.number}" and code in received.body
    mailoutbox.clear()

    # when the store's manager logs into the admin and marks the order ready
    staff = browser.new_context().new_page()
    staff.goto(url + "/admin/")
    staff.fill("#id_username", "manager-laugavegur")
    staff.fill("#id_password", DEMO_PASSWORD)
    staff.click("input[type=submit]")
    staff.goto(url + "/admin/orders/order/")
    staff.locator(f"tr:has-text('{order.number}') input.action-select").check()
    staff.select_option("select[name=action]", "mark_ready_for_pickup")
    staff.click("button[name=index]")
    assert "ready for pickup" in staff.locator("ul.messagelist").inner_text()

    # then the worker's e-mail reaches the shopper with the code and a link to the order
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == ["anna@example.com"]
    assert order.number in email.subject
    assert code in email.body
    link = re.search(r"(http://\S+/orders/\S+/)", email.body).group(1)
    shopper.goto(link)
    assert "Ready for pickup" in shopper.get_by_test_id("order-status").inner_text()

    # when the shopper shows the code and the manager hands the order over with it
    staff.goto(url + f"/admin/orders/order/{order.pk}/change/")
    staff.get_by_test_id("collect-order").click()
    staff.fill("input[name=code]", "000000" if code != "000000" else "111111")
    staff.get_by_test_id("till-receipt-input").fill("4711")  # paid at pickup: at the till
    staff.get_by_test_id("collect-submit").click()
    assert "does not match" in staff.get_by_test_id("collect-form").inner_text()
    staff.fill("input[name=code]", code)
    staff.get_by_test_id("collect-submit").click()
    assert "handed over" in staff.locator("ul.messagelist").inner_text()

    # then the shopper's order page says it was collected, and the unit has left the store
    shopper.reload()
    assert "Collected" in shopper.get_by_test_id("order-status").inner_text()
    order.refresh_from_db()
    assert order.status == OrderStatus.COLLECTED
    assert pickup_of(order).fulfilment.fulfilled_by == shop["manager"]
    stock = StockLevel.objects.get(store=shop["store"])
    assert (stock.on_hand, stock.reserved) == (2, 0)
