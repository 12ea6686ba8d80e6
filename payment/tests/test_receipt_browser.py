"""The receipt page in a real browser: from the order page on a 390 px phone, and printed."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client

from catalog.tests.factories import ProductFactory
from orders.tests.factories import place_order
from pickup.selectors import pickup_of
from pickup.services import collect_order, mark_ready_for_pickup
from stores.tests.factories import StockLevelFactory, StoreFactory

from .test_receipts import authorise, hand_over

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def wider_than_the_phone(page):
    """The elements that reach past the phone's right edge, as 'tag.class (right edge px)'."""
    return page.evaluate(
        """(width) => [...document.querySelectorAll('body *')]
            .map((element) => [element, Math.round(element.getBoundingClientRect().right)])
            .filter(([element, right]) => right > width)
            .map(([element, right]) => `${element.tagName.toLowerCase()}.${element.className} (${right})`)""",
        PHONE["width"],
    )


@pytest.fixture
def receipted_order(settings, live_server):
    # an order with long names, paid online, collected and captured: its receipt issued
    store = StoreFactory(name="Laugavegur", address="Laugavegur 12", postcode="101", city="Reykjavík")
    sweater = ProductFactory(name="Hekla lopapeysa úr íslenskri ull, náttúruhvít, stærð XL", price=Decimal("24990"))
    liquorice = ProductFactory(name="Lakkrísreimar með súkkulaði", price=Decimal("1290"), vat_class="reduced")
    StockLevelFactory(store=store, product=sweater, on_hand=5)
    StockLevelFactory(store=store, product=liquorice, on_hand=5)
    order = place_order(store=store, products_and_quantities=[(sweater, 1), (liquorice, 3)], payment="dummy")
    payment = authorise(Client(), order.payments.get())
    mark_ready_for_pickup(order=order)
    collect_order(order=order, code=pickup_of(order).code, by=None, now=datetime.datetime.now(datetime.UTC))
    sweater_line, liquorice_line = order.lines.order_by("pk")
    receipt = hand_over(payment, [(sweater_line, 1), (liquorice_line, 3)])
    return live_server.url, order, receipt


def test_the_shopper_opens_the_receipt_from_the_order_page_on_a_phone_and_prints_it(browser, receipted_order):
    url, order, receipt = receipted_order
    page = browser.new_context(viewport=PHONE).new_page()

    # when the shopper opens their order page on a phone and follows the receipt link
    page.goto(url + order.get_absolute_url())
    with page.expect_navigation(wait_until="load"):  # the receipt's own stylesheet applied
        page.get_by_test_id("receipt-link").click()

    # then the receipt is shown whole, without sideways scrolling
    assert page.get_by_test_id("receipt-number").inner_text().strip() == str(receipt.number)
    assert page.get_by_test_id("receipt-total").is_visible()
    assert page.get_by_test_id("receipt-vat-total").is_visible()
    assert page.get_by_test_id("withdrawal").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], wider_than_the_phone(page)

    # when it is printed: the shop's header, navigation and links are left out, the receipt is not
    page.emulate_media(media="print")
    assert not page.locator("header.site-header").is_visible()
    assert not page.locator("footer.site-footer").is_visible()
    assert not page.locator(".receipt-actions").is_visible()
    assert page.get_by_test_id("receipt").is_visible()
    assert page.get_by_test_id("receipt-seller").is_visible()
    assert page.locator(".receipt-lines thead").is_visible()  # columns back as a table on paper
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
