"""Amounts shown on any page or e-mail add up: the lines shown sum to the total shown.

The fault this guards against: a line total or an order total worked out from a price the currency
cannot be paid in (100.50 ISK), then rounded only when shown — ISK 101 + ISK 101 = total ISK 201.
Prices are now checked against the currency's minor unit (catalog/tests/test_prices.py); a price
saved before that check is charged, line by line, at the whole króna it is shown as.
"""

import html
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from catalog.models import Product
from catalog.tests.factories import ProductFactory
from checkout.cart import SESSION_KEY as CART_SESSION_KEY
from checkout.services import ConfirmedCheckout, place_pickup_order
from orders.models import Order
from orders.services import Contact
from pickup.services import mark_ready_for_pickup
from stores.selectors import MY_STORE_SESSION_KEY
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

CONTACT = {"name": "Anna Jónsdóttir", "email": "anna@example.com", "phone": "+354 555 1234"}


def amounts(fragment: str, currency: str) -> list[Decimal]:
    """Every amount of money in `fragment`, as the English pages write it: ISK 1,299 / NOK 89.90."""
    written = re.findall(re.escape(currency) + "\u00a0" + r"(\d[\d,]*(?:\.\d+)?)", html.unescape(fragment))
    return [Decimal(amount.replace(",", "")) for amount in written]


def shown_lines_and_total(rows: list[str], currency: str) -> tuple[list[Decimal], Decimal]:
    """The rows of an order table, the total's last: each line's amount is the last in its row."""
    *lines, total = rows
    line_totals = [amounts(row, currency)[-1] for row in lines]
    (shown_total,) = amounts(total, currency)
    return line_totals, shown_total


def page_table(page: str, total_testid: str) -> list[str]:
    """The body rows and the footer of the table on `page` whose total has `total_testid`."""
    at = page.index(f'data-testid="{total_testid}"')
    table = page[page.rindex("<table", 0, at) : page.index("</table>", at)]
    body = table[table.index("<tbody") : table.index("</tbody>")]
    footer = table[table.index("<tfoot") : table.index("</tfoot>")]
    # The footer's total row (the order page adds rows for the VAT included below it).
    (total,) = [row for row in re.findall(r"<tr\b.*?</tr>", footer, re.S) if total_testid in row] or [footer]
    return [*re.findall(r"<tr\b.*?</tr>", body, re.S), total]


def email_html_table(body: str) -> list[str]:
    table = body[body.index("<table", body.index("What you ordered")) :]
    return re.findall(r"<tr\b.*?</tr>", table[: table.index("</table>")], re.S)


def email_text_lines(body: str) -> list[str]:
    section = body[body.index("What you ordered") :].split("\n\n")[0]
    return [line for line in section.splitlines()[1:] if line.strip()]


@pytest.fixture
def shop():
    return StoreFactory(name="Laugavegur")


def stocked(store, *, price, name):
    product = ProductFactory(name=name)
    # Saved before prices were checked (or by a bulk update that skips the model's checks).
    Product.objects.filter(pk=product.pk).update(price=price)
    StockLevelFactory(store=store, product=product, on_hand=10)
    product.refresh_from_db()
    return product


def shop_at(client, store, quantities):
    session = client.session
    session[MY_STORE_SESSION_KEY] = store.pk
    session[CART_SESSION_KEY] = {str(product.pk): units for product, units in quantities.items()}
    session.save()


def what_every_page_and_email_shows(client, store, currency, capture):
    """(line totals, total) as shown on the cart, the checkout, the order page and each e-mail."""
    shown = {}
    cart = client.get(reverse("checkout:cart")).content.decode()
    shown["cart"] = shown_lines_and_total(page_table(cart, "cart-total"), currency)
    checkout = client.get(reverse("checkout:checkout")).content.decode()
    shown["checkout"] = shown_lines_and_total(page_table(checkout, "checkout-total"), currency)
    token = re.search(r'name="checkout_token" value="([^"]+)"', checkout).group(1)
    placed = client.post(reverse("checkout:checkout"), {**CONTACT, "store": store.pk, "checkout_token": token})
    assert placed.status_code == 302
    order_page = client.get(placed["Location"]).content.decode()
    shown["order page"] = shown_lines_and_total(page_table(order_page, "order-total"), currency)
    order = Order.objects.get()
    with capture(execute=True):
        mark_ready_for_pickup(order=order)
    emails = [message for message in mail.outbox if order.number in message.subject]
    assert emails
    for number, email in enumerate(emails):
        shown[f"e-mail {number} text"] = shown_lines_and_total(email_text_lines(email.body), currency)
        shown[f"e-mail {number} html"] = shown_lines_and_total(email_html_table(email.alternatives[0][0]), currency)
    return order, shown


def test_two_products_at_half_a_krona_show_lines_that_add_up_everywhere(
    client, shop, settings, django_capture_on_commit_callbacks
):
    # given an Icelandic shop with two products priced 100.50 ISK, saved before prices were checked,
    # and a shopper with one of each in the cart
    settings.SHOP_CURRENCY = "ISK"
    candle = stocked(shop, price=Decimal("100.50"), name="Candle")
    soap = stocked(shop, price=Decimal("100.50"), name="Soap")
    shop_at(client, shop, {candle: 1, soap: 1})

    # when they go through the cart, the checkout, the order page and the ready e-mail
    order, shown = what_every_page_and_email_shows(client, shop, "ISK", django_capture_on_commit_callbacks)

    # then everywhere the lines are ISK 101 each and the total ISK 202 — not 101 + 101 = 201
    for where, (line_totals, total) in shown.items():
        assert (line_totals, total) == ([Decimal("101"), Decimal("101")], Decimal("202")), where
    # and the order charges what was shown: the unit prices, the lines and a total that is their sum
    assert [(line.unit_price, line.line_total) for line in order.lines.all()] == [(Decimal("101"), Decimal("101"))] * 2
    assert order.total == Decimal("202")


@pytest.mark.parametrize(
    ("currency", "prices", "units"),
    [
        ("ISK", ["4990", "100.49", "100.50", "3500"], [2, 3, 1, 7]),
        ("NOK", ["89.90", "1299.00", "0.10", "249.50"], [3, 1, 7, 2]),
    ],
)
def test_the_lines_shown_always_sum_to_the_total_shown(
    client, shop, settings, django_capture_on_commit_callbacks, currency, prices, units
):
    # given a shop in ISK or NOK, and a cart of several lines, some with more than one unit
    settings.SHOP_CURRENCY = currency
    products = [stocked(shop, price=Decimal(price), name=f"Product {n}") for n, price in enumerate(prices)]
    shop_at(client, shop, dict(zip(products, units, strict=True)))

    # when the shopper checks out and the order is made ready
    order, shown = what_every_page_and_email_shows(client, shop, currency, django_capture_on_commit_callbacks)

    # then on every page and in every e-mail the line amounts shown sum exactly to the total shown
    for where, (line_totals, total) in shown.items():
        assert len(line_totals) == len(prices), where
        assert sum(line_totals) == total, where
    assert sum(line.line_total for line in order.lines.all()) == order.total


def test_an_order_placed_by_the_service_is_charged_at_the_prices_shown(shop, settings):
    # given an Icelandic shop whose price list still has half krónur
    settings.SHOP_CURRENCY = "ISK"
    candle = stocked(shop, price=Decimal("10.50"), name="Candle")
    soap = stocked(shop, price=Decimal("10.50"), name="Soap")

    # when a shopper orders one of each
    order = place_pickup_order(
        checkout=ConfirmedCheckout.at_current_prices(
            quantities={candle.pk: 1, soap.pk: 1},
            store=shop,
            contact=Contact(name="Anna", email="anna@example.com", phone="+354 555 1234"),
        )
    )

    # then each line is charged at the whole króna shown (11) and the total is their sum
    order.refresh_from_db()
    assert [(line.unit_price, line.line_total) for line in order.lines.all()] == [(Decimal("11"), Decimal("11"))] * 2
    assert order.total == Decimal("22")
    assert order.currency == "ISK"


def test_a_norwegian_order_keeps_its_ore(shop, settings):
    # given a Norwegian shop
    settings.SHOP_CURRENCY = "NOK"
    jam = stocked(shop, price=Decimal("89.90"), name="Jam")

    # when three jars are ordered
    order = place_pickup_order(
        checkout=ConfirmedCheckout.at_current_prices(
            quantities={jam.pk: 3},
            store=shop,
            contact=Contact(name="Kari", email="kari@example.com", phone="+47 22 00 00 00"),
            language="nb",
        )
    )

    # then
    order.refresh_from_db()
    assert order.total == Decimal("269.70")
    assert order.currency == "NOK"
