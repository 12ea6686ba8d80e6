"""Exchanges at the returning store (returns.services.receive_return with resolution EXCHANGE):
the unit comes back and another variant or product leaves that store's stock in one step; the
difference is paid at the till (its receipt number recorded) or refunded to how the shopper paid;
an item the store does not have refuses the whole exchange and leaves nothing behind."""

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from zeal import zeal_ignore

from catalog.tests.factories import ProductFactory
from orders.integrity import IntegrityReport
from orders.models import OrderActivity, OrderEvent
from orders.tests.factories import place_order
from payment.models import Payment, Refund, RefundLine
from payment.services import units_given_back_otherwise
from returns.integrity import check_returns
from returns.models import (
    ExchangeLine,
    MovementKind,
    Resolution,
    Return,
    ReturnLine,
    ReturnReceipt,
    ReturnStatus,
    StockMovement,
)
from returns.services import ExchangeItem, LineToReturn, ReturnRefused, receive_return, request_return
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory

from .conftest import collect, line_of

pytestmark = pytest.mark.django_db

# The check-in screen: session, user, permissions (2), the order, what was handed over, returned
# and refunded (4), the lines with their products, the payment, the window, the other sizes of
# every line at once, and the manager's stores for the form's choice (2).
CHECK_IN_QUERIES = 15


@pytest.fixture
def swaps(products, pickup_store, returns_store):
    """At Kringlan: the sweater in L (a variant of it, the same price), a hooded one (dearer) and a
    vest (cheaper), one of each; the XL only at Laugavegur."""
    sweater = products["sweater"]
    made = {
        "L": ProductFactory(parent=sweater, name="Hekla lopapeysa L", sku="HEKLA-L", price=Decimal("24990")),
        "XL": ProductFactory(parent=sweater, name="Hekla lopapeysa XL", sku="HEKLA-XL", price=Decimal("24990")),
        "hooded": ProductFactory(name="Hekla hooded lopapeysa", sku="HEKLA-HOOD", price=Decimal("29990")),
        "vest": ProductFactory(name="Esja vest", sku="ESJA-VEST", price=Decimal("19990")),
    }
    for key in ("L", "hooded", "vest"):
        StockLevelFactory(store=returns_store, product=made[key], on_hand=1)
    StockLevelFactory(store=returns_store, product=made["XL"], on_hand=0)
    StockLevelFactory(store=pickup_store, product=made["XL"], on_hand=5)
    return made


def on_hand(store, product):
    return StockLevel.objects.filter(store=store, product=product).values_list("on_hand", flat=True).first() or 0


def the_sweater(order):
    return LineToReturn(
        order_line_id=line_of(order, "Hekla lopapeysa").pk, quantity=1, reason="does_not_fit", resellable=1
    )


def exchange(order, store, by, product, **extra):
    return receive_return(
        order=order,
        store=store,
        lines=[the_sweater(order)],
        by=by,
        resolution=Resolution.EXCHANGE,
        exchange=[ExchangeItem(product_id=product.pk, quantity=1)],
        **extra,
    )


def test_a_size_swap_at_the_same_price_moves_both_units_and_no_money(
    collected, sigga, returns_store, products, swaps, django_capture_on_commit_callbacks
):
    # given Anna's sweater (M) is too small; Kringlan has one L
    # when Sigga swaps it for the L at Kringlan
    with django_capture_on_commit_callbacks(execute=True):
        order_return = exchange(collected, returns_store, sigga, swaps["L"], expected_amount=Decimal(0))

    # then the M is on sale at Kringlan and the L left with Anna, each with its movement row
    assert on_hand(returns_store, products["sweater"]) == 1
    assert on_hand(returns_store, swaps["L"]) == 0
    assert sorted(StockMovement.objects.values_list("kind", "product__sku", "quantity")) == [
        (MovementKind.EXCHANGED_OUT, "HEKLA-L", 1),
        (MovementKind.RESTOCKED, products["sweater"].sku, 1),
    ]
    # and no money moved; the exchange is recorded and closed, with its receipt
    order_return.refresh_from_db()
    assert (order_return.status, order_return.refund_amount, order_return.difference_paid) == (
        ReturnStatus.CLOSED,
        Decimal(0),
        Decimal(0),
    )
    assert order_return.exchange_total == Decimal("24990")
    assert not Refund.objects.exists() and Payment.objects.get(order=collected).refunded_amount == 0
    assert list(ExchangeLine.objects.values_list("sku", "quantity", "line_total")) == [("HEKLA-L", 1, Decimal("24990"))]
    assert ReturnReceipt.objects.get().order_return == order_return
    # and the order's timeline tells what came back, what went out, and that nothing was paid
    notes = list(OrderEvent.objects.filter(order=collected).order_by("pk").values_list("kind", "note"))
    assert (
        OrderActivity.RETURN_RECEIVED,
        f"Exchange {order_return.code} at Kringlan: 1 × Hekla lopapeysa back, 1 × Hekla lopapeysa L out.",
    ) in notes
    assert (
        OrderActivity.RETURN_REFUNDED,
        f"Exchange {order_return.code}: nothing to pay or refund, return receipt 1.",
    ) in notes
    # and the admin's refund screen will not refund the sweater again
    assert units_given_back_otherwise(order=collected) == {line_of(collected, "Hekla lopapeysa").pk: 1}
    assert [m.subject for m in mail.outbox if "return receipt" in m.subject] == [
        f"Your return receipt for order {collected.number}"
    ]


def test_a_dearer_item_is_paid_at_the_till_with_its_receipt_number(collected, sigga, returns_store, swaps):
    # when Sigga gives the hooded sweater (ISK 5,000 more) without the till's receipt number
    with pytest.raises(ReturnRefused, match="The shopper pays ISK\u00a05,000 more: take it at the till"):
        exchange(collected, returns_store, sigga, swaps["hooded"])

    # then nothing was written and the hooded sweater is still at Kringlan
    assert not Return.objects.exists() and not ExchangeLine.objects.exists() and not StockMovement.objects.exists()
    assert on_hand(returns_store, swaps["hooded"]) == 1

    # with the till's receipt for the difference, it goes through
    order_return = exchange(
        collected, returns_store, sigga, swaps["hooded"], expected_amount=Decimal("-5000"), till_receipt_number="k7-311"
    )
    assert (order_return.difference_paid, order_return.difference_receipt_number, order_return.refund_amount) == (
        Decimal("5000"),
        "K7-311",
        Decimal(0),
    )
    assert order_return.status == ReturnStatus.CLOSED
    assert on_hand(returns_store, swaps["hooded"]) == 0
    assert not Refund.objects.exists()
    assert OrderEvent.objects.filter(
        order=collected, note__contains="ISK\u00a05,000 paid at the till, receipt K7-311"
    ).exists()


def test_a_cheaper_item_refunds_the_difference_to_the_card(collected, sigga, returns_store, swaps):
    # when Sigga swaps the sweater for the vest (ISK 5,000 less)
    order_return = exchange(collected, returns_store, sigga, swaps["vest"], expected_amount=Decimal("5000"))

    # then ISK 5,000 went back to the Dummy payment, for the sweater's line, once
    assert order_return.refund_amount == Decimal("5000") and order_return.status == ReturnStatus.CLOSED
    assert Payment.objects.get(order=collected).refunded_amount == Decimal("5000")
    assert list(RefundLine.objects.values_list("order_line__product_name", "quantity", "amount")) == [
        ("Hekla lopapeysa", 1, Decimal("5000"))
    ]
    assert order_return.refund == Refund.objects.get()
    assert on_hand(returns_store, swaps["vest"]) == 0
    # and the refunded sweater counts as refunded, not again as given back otherwise
    assert units_given_back_otherwise(order=collected) == {}


def test_an_item_this_store_does_not_have_refuses_the_exchange_and_writes_nothing(
    collected, sigga, returns_store, pickup_store, products, swaps
):
    # given the XL is only at Laugavegur
    # when Sigga tries to swap the sweater for the XL at Kringlan
    with pytest.raises(ReturnRefused) as refused:
        exchange(collected, returns_store, sigga, swaps["XL"], expected_amount=Decimal(0))

    # then she is told why, and nothing moved: no return, no stock, no money
    assert str(refused.value) == (
        "Not in stock at Kringlan: Hekla lopapeysa XL (0 for sale, 1 asked). Nothing was recorded; choose another item."
    )
    assert (Return.objects.count(), ReturnLine.objects.count(), ExchangeLine.objects.count()) == (0, 0, 0)
    assert not StockMovement.objects.exists() and not ReturnReceipt.objects.exists()
    assert on_hand(returns_store, products["sweater"]) == 0
    assert (on_hand(returns_store, swaps["XL"]), on_hand(pickup_store, swaps["XL"])) == (0, 5)


def test_a_tampered_difference_or_an_exchange_without_items_is_refused(collected, sigga, returns_store, swaps):
    with pytest.raises(ReturnRefused, match="The refund for these items is ISK\u00a05,000, not ISK\u00a024,990"):
        exchange(collected, returns_store, sigga, swaps["vest"], expected_amount=Decimal("24990"))
    with pytest.raises(ReturnRefused, match="Choose what the shopper takes in exchange"):
        receive_return(
            order=collected,
            store=returns_store,
            lines=[the_sweater(collected)],
            by=sigga,
            resolution=Resolution.EXCHANGE,
            exchange=[],
        )
    with pytest.raises(ReturnRefused, match="Choose “exchange”"):
        receive_return(
            order=collected,
            store=returns_store,
            lines=[the_sweater(collected)],
            by=sigga,
            exchange=[ExchangeItem(product_id=swaps["L"].pk, quantity=1)],
        )
    assert not Return.objects.exists() and on_hand(returns_store, swaps["vest"]) == 1


def test_the_shopper_asks_for_an_exchange_online_and_the_store_swaps_it(collected, sigga, returns_store, swaps):
    # given Anna chose "exchange" when she started her return online
    requested = request_return(
        order=collected,
        lines=[LineToReturn(order_line_id=line_of(collected, "Hekla lopapeysa").pk, quantity=1, reason="does_not_fit")],
        resolution=Resolution.EXCHANGE,
    )

    # when she brings it to Kringlan and takes the L
    order_return = exchange(collected, returns_store, sigga, swaps["L"], requested=requested)

    # then her own return became the exchange
    assert order_return.pk == requested.pk
    assert (order_return.resolution, order_return.status) == (Resolution.EXCHANGE, ReturnStatus.CLOSED)
    assert order_return.exchange_lines.get().sku == "HEKLA-L"


def test_staff_swap_a_size_in_the_admin_and_the_shopper_sees_it_on_the_order_page_and_receipt(
    client, collected, sigga, returns_store, products, swaps, django_capture_on_commit_callbacks
):
    # given Anna chose "exchange" when she started her return of the sweater online
    sweater = line_of(collected, "Hekla lopapeysa")
    started = client.post(
        reverse("returns:start", args=[collected.access_token]),
        {f"line-{sweater.pk}-quantity": 1, f"line-{sweater.pk}-reason": "does_not_fit", "resolution": "exchange"},
    )
    assert started.status_code == 302
    code = Return.objects.get().code

    # when Sigga at Kringlan scans the return's code, and the form offers the other sizes
    client.force_login(sigga)
    receive = client.post(reverse("admin:returns_return_find"), {"query": code, "contact": ""})["Location"]
    screen = client.get(receive).content.decode()
    assert '<option value="HEKLA-L">Hekla lopapeysa L' in screen and 'value="exchange" selected' in screen
    form = {
        "store": returns_store.pk,
        "resolution": "exchange",
        "till_receipt_number": "",
        "override_reason": "",
        f"line-{sweater.pk}-quantity": 1,
        f"line-{sweater.pk}-reason": "does_not_fit",
        f"line-{sweater.pk}-note": "",
        f"line-{sweater.pk}-resellable": 1,
        f"line-{sweater.pk}-damaged": 0,
        f"line-{sweater.pk}-to_inspect": 0,
        f"line-{sweater.pk}-exchange": "hekla-hood",
    }
    # she types the hooded one's SKU: the screen shows the difference Anna pays at the till
    shown = client.post(receive, form).content.decode()
    assert "The shopper pays ISK\u00a05,000 at the till: enter the till's receipt number." in shown
    # a SKU that is nothing is refused on its field, with what was typed kept
    unknown = client.post(receive, form | {f"line-{sweater.pk}-exchange": "NOPE-1"}).content.decode()
    assert "No product has the SKU NOPE-1." in unknown and 'value="NOPE-1"' in unknown
    # confirming without the till's number is refused, nothing written
    refused = client.post(receive, form | {"amount": "-5000", "confirm": "1"}).content.decode()
    assert "The shopper pays ISK\u00a05,000 more" in refused
    assert Return.objects.get().status == ReturnStatus.REQUESTED and not ExchangeLine.objects.exists()
    # with it, the exchange is recorded
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(receive, form | {"amount": "-5000", "confirm": "1", "till_receipt_number": "7311"})
    assert confirmed.status_code == 302

    # then Anna's order page and her return receipt show what came back, what went out, and the difference
    client.logout()
    page = client.get(collected.get_absolute_url()).content.decode()
    assert "Given in exchange" in page and "Hekla hooded lopapeysa" in page
    assert "You paid the difference of ISK\u00a05,000 at the till." in page
    receipt = client.get(reverse("returns:receipt", args=[collected.access_token, code])).content.decode()
    assert "Value of the items returned" in receipt and "Difference paid at the till (receipt 7311)" in receipt
    assert 'data-testid="return-receipt-exchange-line"' in receipt
    assert on_hand(returns_store, swaps["hooded"]) == 0 and on_hand(returns_store, products["sweater"]) == 1
    # and the e-mail with the receipt tells the exchange
    [message] = [m for m in mail.outbox if "return receipt" in m.subject]
    assert "Here is the receipt of your exchange" in message.body and "Hekla hooded lopapeysa" in message.body


def test_check_integrity_finds_an_exchanged_item_that_never_left_the_stock(collected, sigga, returns_store, swaps):
    # given a size swap recorded properly: nothing to report
    order_return = exchange(collected, returns_store, sigga, swaps["L"])
    report = IntegrityReport()
    check_returns(report)
    assert report.problems == []

    # when its "exchanged out" movement is lost
    StockMovement.objects.filter(kind=MovementKind.EXCHANGED_OUT).delete()

    # then the check names the exchange and the item
    report = IntegrityReport()
    check_returns(report)
    assert report.problems == [
        f"returns: {order_return.code}, Hekla lopapeysa L: 1 given in exchange, 0 moved out of the store's stock"
    ]


@pytest.mark.parametrize("styles", [1, 4])
def test_the_check_in_screen_offers_the_sizes_at_a_fixed_number_of_queries(
    client, pickup_store, pickup_manager, sigga, styles, django_assert_num_queries
):
    # given an order of 1 or 4 styles, each sold in a size that has two other sizes
    bought = []
    for index in range(styles):
        style = ProductFactory(name=f"Style {index}")
        sizes = [ProductFactory(parent=style, name=f"Style {index} {size}", sku=f"ST{index}-{size}") for size in "SML"]
        StockLevelFactory(store=pickup_store, product=sizes[0], on_hand=2)
        bought.append((sizes[0], 1))
    with zeal_ignore():
        order = collect(
            place_order(store=pickup_store, products_and_quantities=bought, payment="dummy"), pickup_manager
        )
    client.force_login(sigga)
    receive = client.post(
        reverse("admin:returns_return_find"), {"query": order.number, "contact": order.contact_email}
    )["Location"]
    client.get(receive)  # the admin's own first-visit reads are not the screen's

    # then the screen costs the same for 4 lines as for 1, and offers each line's other sizes
    with django_assert_num_queries(CHECK_IN_QUERIES):
        page = client.get(receive).content.decode()
    assert page.count('<option value="ST') == 2 * styles
