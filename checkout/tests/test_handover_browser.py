"""Paid online, handed over in part, in a real browser: the shopper authorises with the Dummy
provider, the store hands over one line and not the other, the card is charged for the line
handed over only, the shopper's order page tells each step, and her receipt arrives."""

from decimal import Decimal

import pytest
from django.urls import reverse
from payments.core import PROVIDER_CACHE

from accounts.tests.factories import DEMO_PASSWORD, StoreManagerFactory
from catalog.tests.factories import ProductFactory
from orders.models import OrderStatus
from orders.tests.factories import place_order
from payment.models import Payment, PaymentStatus
from payment.tests.factories import DUMMY
from pickup.selectors import pickup_of
from pickup.services import mark_ready_for_pickup
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
    mittens = ProductFactory(name="Lopi mittens", sku="LOPI-1", price=Decimal("3990"))
    for product in (sweater, mittens):
        StockLevelFactory(store=laugavegur, product=product, on_hand=5)
    StoreManagerFactory(username="manager-laugavegur", stores=[laugavegur])
    # Placed paying online: the stock and the pickup time are held while she pays.
    order = place_order(store=laugavegur, products_and_quantities=[(sweater, 1), (mittens, 2)], payment="dummy")
    yield {"url": live_server.url, "store": laugavegur, "order": order, "sweater": sweater, "mittens": mittens}
    PROVIDER_CACHE.clear()


def test_the_shopper_pays_online_and_is_charged_only_for_what_is_handed_over(browser, shop, mailoutbox):
    url, order = shop["url"], shop["order"]
    shopper = browser.new_context().new_page()

    # given the shopper pays for her order on the Dummy provider's page: authorised, nothing taken
    assert order.status == OrderStatus.AWAITING_PAYMENT
    payment = order.payments.get()
    shopper.goto(url + reverse("payment_page", kwargs={"token": payment.token}))
    shopper.select_option("select[name=status]", "preauth")
    shopper.select_option("select[name=fraud_status]", "accept")
    shopper.select_option("select[name=gateway_response]", "3ds-disabled")
    shopper.get_by_role("button", name="Pay", exact=True).click()
    assert "Paid online: ISK\u00a032,970 authorised" in shopper.get_by_test_id("order-timeline").inner_text()
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, order.status) == (PaymentStatus.PREAUTH, OrderStatus.PLACED)

    # when the store hands over the sweater, but the mittens are not taken
    mark_ready_for_pickup(order=order)
    staff = browser.new_context().new_page()
    staff.goto(url + "/admin/")
    staff.fill("#id_username", "manager-laugavegur")
    staff.fill("#id_password", DEMO_PASSWORD)
    staff.click("input[type=submit]")
    staff.goto(url + reverse("admin:orders_order_change", args=[order.pk]))
    staff.get_by_test_id("collect-order").click()
    assert "ISK\u00a032,970 is authorised" in staff.get_by_test_id("collect-payment").inner_text()
    assert staff.get_by_test_id("till-receipt").count() == 0
    staff.get_by_test_id("hand-over-quantity-LOPI-1").fill("0")
    staff.get_by_test_id("pickup-code-input").fill(pickup_of(order).code)
    staff.get_by_test_id("collect-submit").click()

    # then the sweater's ISK 24,990 is captured and the mittens' ISK 7,980 released
    assert (
        "ISK\u00a024,990 was captured from the card payment; the rest was released."
        in staff.locator("ul.messagelist").inner_text()
    )
    history = staff.get_by_test_id("admin-payment-history").inner_text()
    assert "Payment taken: ISK\u00a024,990" in history and "Released, not charged: ISK\u00a07,980" in history
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount, payment.released_amount) == (
        PaymentStatus.CONFIRMED,
        Decimal("24990"),
        Decimal("7980"),
    )
    assert not Payment.objects.filter(order=order, variant="till").exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.COLLECTED
    mittens = StockLevel.objects.get(store=shop["store"], product=shop["mittens"])
    assert (mittens.on_hand, mittens.reserved) == (5, 0)  # back on sale

    # and the shopper's order page tells her what was taken and what was let go
    shopper.reload()
    timeline = shopper.get_by_test_id("order-timeline").inner_text()
    assert "Payment taken: ISK\u00a024,990" in timeline
    assert "Released, not charged: ISK\u00a07,980" in timeline
    assert "Not handed over, back on sale: 2 × Lopi mittens." in timeline

    # and her receipt arrives by e-mail, for the sweater only, and is on her order page
    [email] = [message for message in mailoutbox if "receipt" in message.subject.lower()]
    assert email.subject == f"Your receipt for order {order.number}"
    assert email.to == ["anna@example.com"]
    assert "Hekla lopapeysa" in email.body and "Lopi mittens" not in email.body
    shopper.get_by_test_id("receipt-link").click()
    page = shopper.locator("main").inner_text()
    assert "Hekla lopapeysa" in page and "24,990" in page and "Lopi mittens" not in page
