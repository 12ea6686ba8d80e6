"""Paying online at checkout in a real browser, on a 390 px phone and at laptop width: the Dummy
provider authorises, or declines and the second try authorises (issue 10)."""

from decimal import Decimal

import pytest
from payments.core import PROVIDER_CACHE

from catalog.tests.factories import ProductFactory
from orders.models import Order, OrderStatus
from payment.models import Payment, PaymentStatus
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "laptop": {"viewport": {"width": 1366, "height": 768}},
}


@pytest.fixture
def shop(settings, live_server):
    # The provider sends the shopper back to SITE_URL: the server the browser is talking to.
    settings.SITE_URL = live_server.url
    settings.PAYMENT_VARIANTS = {"dummy": ("payments.dummy.DummyProvider", {"capture": False})}
    settings.SHOP_PAYMENT_OPTIONS = "both"
    PROVIDER_CACHE.clear()
    laugavegur = StoreFactory(name="Laugavegur", slug="laugavegur")
    sweater = ProductFactory(name="Lopapeysa wool sweater", slug="lopapeysa", sku="LOPI-001", price=Decimal("24990"))
    StockLevelFactory(store=laugavegur, product=sweater, on_hand=3)
    yield {"url": live_server.url, "store": laugavegur}
    PROVIDER_CACHE.clear()


def check_out_paying_online(page, url):
    page.goto(url + "/products/lopapeysa/")
    page.get_by_test_id("quantity").fill("1")
    page.get_by_test_id("add-to-cart").click()
    page.goto(url + "/checkout/")
    page.fill("input[name=name]", "Anna Jónsdóttir")
    page.fill("input[name=email]", "anna@example.com")
    page.fill("input[name=phone]", "+354 555 1234")
    store = page.get_by_test_id("store-choice").filter(has_text="Laugavegur")
    store.locator("input[name=store]").check()
    store.get_by_test_id("payment-dummy").check()
    page.get_by_test_id("place-order").click()


def pay_with_dummy(page, outcome):
    """On the Dummy provider's form: the outcome, no 3-D Secure."""
    page.select_option("select[name=status]", outcome)
    page.select_option("select[name=fraud_status]", "accept")
    page.select_option("select[name=gateway_response]", "3ds-disabled")
    page.get_by_role("button", name="Pay").click()


def fits(page, width):
    page.wait_for_load_state("load")  # measured with every stylesheet applied, not mid-navigation
    return page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", WIDTHS, ids=list(WIDTHS))
def test_the_shopper_pays_online_and_the_order_page_says_what_was_authorised(browser, shop, mailoutbox, width):
    page = browser.new_context(**WIDTHS[width]).new_page()

    # when the shopper checks out choosing to pay online
    check_out_paying_online(page, shop["url"])

    # then she is on the payment page, the sweater held for her while she pays
    assert "Pay for order" in page.locator("h1").inner_text()
    order = Order.objects.get()
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert StockLevel.objects.get(store=shop["store"]).reserved == 1
    assert mailoutbox == []

    # when the Dummy provider authorises the payment
    pay_with_dummy(page, "preauth")

    # then her order page says it is placed and what was authorised
    assert page.get_by_test_id("order-status").inner_text().strip() == "Placed"
    payment_panel = page.get_by_test_id("order-payment")
    assert payment_panel.get_attribute("data-outcome") == "authorised"
    assert "is authorised on your card: reserved, not taken" in payment_panel.inner_text()
    assert page.get_by_test_id("payment-authorised").inner_text().strip() == "ISK\xa024,990"
    assert page.get_by_test_id("pickup-code").is_visible()
    assert fits(page, WIDTHS[width]["viewport"]["width"])
    # and the "order received" e-mail came only now, once
    assert [message.subject for message in mailoutbox] == [f"We have received your order {order.number}"]
    assert Payment.objects.get(order=order).status == PaymentStatus.PREAUTH


@pytest.mark.parametrize("width", WIDTHS, ids=list(WIDTHS))
def test_a_declined_payment_is_explained_and_the_second_try_succeeds(browser, shop, mailoutbox, width):
    page = browser.new_context(**WIDTHS[width]).new_page()
    check_out_paying_online(page, shop["url"])

    # when the card is declined
    pay_with_dummy(page, "rejected")

    # then the order page says so plainly, still awaiting payment, and offers to try again
    assert page.get_by_test_id("order-status").inner_text().strip() == "Awaiting payment"
    said = page.get_by_test_id("payment-outcome").inner_text()
    assert "Your payment was declined, so nothing was charged." in said
    assert not page.get_by_test_id("pickup-code").is_visible()
    assert fits(page, WIDTHS[width]["viewport"]["width"])
    assert mailoutbox == []

    # when she tries again and this time it is authorised
    page.get_by_test_id("pay-again").click()
    assert "Pay for order" in page.locator("h1").inner_text()
    pay_with_dummy(page, "preauth")

    # then the order is placed, paid by the second attempt
    assert page.get_by_test_id("order-status").inner_text().strip() == "Placed"
    assert page.get_by_test_id("order-payment").get_attribute("data-outcome") == "authorised"
    order = Order.objects.get()
    assert list(Payment.objects.filter(order=order).order_by("pk").values_list("status", flat=True)) == [
        PaymentStatus.REJECTED,
        PaymentStatus.PREAUTH,
    ]
    assert len(mailoutbox) == 1
