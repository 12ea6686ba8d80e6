"""Receipts issued on capture (payment.receipts.issue_receipt, called after capture_payment in the
capture's transaction): numbered from the shop's one sequence, for exactly what was captured,
with the VAT of every line, and e-mailed to the shopper once."""

from decimal import Decimal

import pytest
from django.db import transaction

from catalog.tests.factories import ProductFactory
from orders.models import Notification, NotificationKind
from orders.tests.factories import place_order
from payment.models import Payment, PaymentStatus, Receipt, ReceiptSequence
from payment.receipts import CapturedLine, ReceiptRefused, issue_receipt
from payment.services import Actor, capture_payment
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

STAFF = Actor.staff(None)


def authorise(client, payment):
    """The shopper authorises `payment` (an order's placed paying online) on the Dummy provider's form."""
    page = f"/payments/{payment.token}/"
    client.get(page)
    client.post(page, {"status": "preauth", "fraud_status": "accept", "gateway_response": "3ds-disabled"})
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PREAUTH
    return payment


def hand_over(payment, units):
    """What the hand-over does: capture the units handed over and issue their receipt, in one
    transaction. `units` is [(order line, quantity)]."""
    lines = [CapturedLine(order_line=line, quantity=quantity) for line, quantity in units]
    with transaction.atomic():
        capture_payment(payment=payment, amount=sum(line.unit_price * q for line, q in units), by=STAFF)
        return issue_receipt(payment=payment, lines=lines)


@pytest.fixture
def reykjavik_order():
    """Anna's order at Laugavegur: a sweater (ISK 24,990, standard rate) and two bags of
    liquorice (ISK 1,290 each, food: reduced rate)."""
    store = StoreFactory(name="Laugavegur", country="IS", address="Laugavegur 12", postcode="101", city="Reykjavík")
    sweater = ProductFactory(name="Hekla lopapeysa", sku="PEY-1", price=Decimal("24990"))
    liquorice = ProductFactory(name="Lakkrís", sku="LAK-1", price=Decimal("1290"), vat_class="reduced")
    StockLevelFactory(store=store, product=sweater, on_hand=5)
    StockLevelFactory(store=store, product=liquorice, on_hand=5)
    return place_order(store=store, products_and_quantities=[(sweater, 1), (liquorice, 2)], payment="dummy")


@pytest.fixture
def authorised(client, reykjavik_order):
    return authorise(client, reykjavik_order.payments.get())


def lines_of(order):
    sweater, liquorice = order.lines.order_by("pk")
    return sweater, liquorice


def test_capturing_the_lines_handed_over_issues_a_receipt_with_their_vat(
    authorised, reykjavik_order, settings, django_capture_on_commit_callbacks
):
    # given the Icelandic seller's details in the settings
    settings.RECEIPT_SELLERS = {
        **settings.RECEIPT_SELLERS,
        "IS": {"name": "Norðurbúð ehf.", "address": "Laugavegur 1, 101 Reykjavík", "kennitala": "550123-4560"}
        | {"vat_number": "123456"},
    }
    sweater, liquorice = lines_of(reykjavik_order)

    # when the sweater and one bag are handed over (the second bag is not) and captured
    with django_capture_on_commit_callbacks(execute=True):
        receipt = hand_over(authorised, [(sweater, 1), (liquorice, 1)])

    # then the receipt is number 1, for exactly what was captured, each line with its own VAT
    assert receipt.number == 1
    assert (receipt.total, receipt.currency) == (Decimal("26280"), "ISK") == (authorised.captured_amount, "ISK")
    lines = receipt.lines.all()
    assert [(line.sku, line.quantity, line.line_total, line.vat_rate, line.vat_amount) for line in lines] == [
        ("PEY-1", 1, Decimal("24990"), Decimal("24"), Decimal("4837")),  # 24 990 × 24/124 = 4 836.77
        ("LAK-1", 1, Decimal("1290"), Decimal("11"), Decimal("128")),  # 1 290 × 11/111 = 127.84
    ]
    assert receipt.vat_amount == Decimal("4965")
    # and it names the seller as Icelandic documents do, the store and how it was paid
    assert (receipt.seller_name, receipt.seller_registration) == ("Norðurbúð ehf.", "Kt. 550123-4560 · VSK-nr. 123456")
    assert (receipt.store_name, receipt.store_address) == ("Laugavegur", "Laugavegur 12, 101 Reykjavík")
    assert (receipt.provider, receipt.time_zone, receipt.country) == ("dummy", "Atlantic/Reykjavik", "IS")
    # and the shopper's receipt e-mail is queued once
    assert Notification.objects.filter(order=reykjavik_order, kind=NotificationKind.RECEIPT).count() == 1


def test_a_norwegian_store_names_the_norwegian_seller_with_org_number_and_mva(client, settings):
    # given an Oslo store and the Norwegian company's details
    settings.SHOP_CURRENCY = "NOK"
    settings.RECEIPT_SELLERS = {
        **settings.RECEIPT_SELLERS,
        "NO": {"name": "Norðurbúð AS", "organisasjonsnummer": "923 456 789", "vat_registered": True}
        | {"foretaksregisteret": True},
    }
    oslo = StoreFactory(name="Grünerløkka", country="NO", time_zone="Europe/Oslo")
    coffee = ProductFactory(price=Decimal("89.90"), vat_class="reduced")
    StockLevelFactory(store=oslo, product=coffee, on_hand=5)
    order = place_order(store=oslo, products_and_quantities=[(coffee, 3)], payment="dummy")
    payment = authorise(client, order.payments.get())

    receipt = hand_over(payment, [(order.lines.get(), 3)])

    assert receipt.seller_registration == "Org.nr. 923 456 789 MVA · Foretaksregisteret"
    assert receipt.lines.get().vat_rate == Decimal(15)
    assert receipt.vat_amount == Decimal("35.18")  # 269.70 × 15/115 = 35.178


def test_numbers_run_on_from_one_series_for_the_whole_shop(client, authorised, reykjavik_order):
    # given a receipt at Laugavegur
    sweater, liquorice = lines_of(reykjavik_order)
    first = hand_over(authorised, [(sweater, 1)])

    # when another store's order is captured, and then the rest of the first order
    other_store = StoreFactory(name="Akureyri")
    mittens = ProductFactory(price=Decimal("4990"))
    StockLevelFactory(store=other_store, product=mittens, on_hand=5)
    other = place_order(store=other_store, products_and_quantities=[(mittens, 1)], payment="dummy")
    second = hand_over(authorise(client, other.payments.get()), [(other.lines.get(), 1)])
    third = hand_over(authorised, [(liquorice, 2)])

    # then the numbers follow on, whatever the store
    assert [first.number, second.number, third.number] == [1, 2, 3]
    assert ReceiptSequence.objects.get(name=ReceiptSequence.SHOP).last_number == 3


def test_a_capture_that_rolls_back_takes_its_receipt_number_with_it(client, authorised, reykjavik_order):
    sweater, liquorice = lines_of(reykjavik_order)

    # given a hand-over that fails after the receipt was issued (the transaction rolls back)
    with pytest.raises(RuntimeError), transaction.atomic():
        hand_over(authorised, [(sweater, 1)])
        raise RuntimeError("the till printer jammed")

    # then nothing of it is left, and the next receipt is number 1
    assert not Receipt.objects.exists()
    authorised.refresh_from_db()
    assert authorised.captured_amount == 0
    assert hand_over(authorised, [(sweater, 1)]).number == 1


def test_receipts_never_cover_more_than_the_money_captured(authorised, reykjavik_order):
    sweater, liquorice = lines_of(reykjavik_order)
    capture_payment(payment=authorised, amount=Decimal("24990"), by=STAFF)

    # a receipt for more than was captured is refused, and uses no number
    with pytest.raises(ReceiptRefused, match="only 24990.00 of the 24990.00 captured"):
        issue_receipt(
            payment=authorised,
            lines=[CapturedLine(order_line=sweater, quantity=1), CapturedLine(order_line=liquorice, quantity=1)],
        )
    assert not Receipt.objects.exists()

    # the right one is number 1; once it covers the capture, there is nothing left to receipt
    assert issue_receipt(payment=authorised, lines=[CapturedLine(order_line=sweater, quantity=1)]).number == 1
    with pytest.raises(ReceiptRefused, match="only 0.00 of the 24990.00 captured"):
        issue_receipt(payment=authorised, lines=[CapturedLine(order_line=liquorice, quantity=1)])


def test_a_payment_charged_in_full_gets_a_receipt_for_the_units_handed_over(authorised, reykjavik_order):
    # given the whole order charged (as Stripe Checkout does), and only the sweater handed over
    sweater, _liquorice = lines_of(reykjavik_order)
    capture_payment(payment=authorised, amount=reykjavik_order.total, by=STAFF)

    receipt = issue_receipt(payment=authorised, lines=[CapturedLine(order_line=sweater, quantity=1)])

    # then the receipt is for the sweater only (the liquorice's money is refunded, not receipted)
    assert (receipt.total, receipt.vat_amount) == (Decimal("24990"), Decimal("4837"))


def test_a_line_is_never_receipted_beyond_its_quantity_nor_for_another_order(client, authorised, reykjavik_order):
    sweater, liquorice = lines_of(reykjavik_order)
    capture_payment(payment=authorised, amount=Decimal("3870"), by=STAFF)
    with pytest.raises(ReceiptRefused, match="has 2 units"):
        issue_receipt(payment=authorised, lines=[CapturedLine(order_line=liquorice, quantity=3)])

    other = place_order(store=reykjavik_order.store, products_and_quantities=[(sweater.product, 1)])
    with pytest.raises(ReceiptRefused, match="not a line of order"):
        issue_receipt(payment=authorised, lines=[CapturedLine(order_line=other.lines.get(), quantity=1)])
    assert not Receipt.objects.exists()


def test_nothing_captured_or_paid_at_the_till_gets_no_receipt_from_us(authorised, reykjavik_order):
    sweater, _liquorice = lines_of(reykjavik_order)

    # an authorisation that took no money yet
    with pytest.raises(ReceiptRefused, match="captured nothing"):
        issue_receipt(payment=authorised, lines=[CapturedLine(order_line=sweater, quantity=1)])

    # a payment at the store's till: the till's receipt is the record
    till = Payment.objects.create(
        order=reykjavik_order,
        variant="till",
        status=PaymentStatus.CONFIRMED,
        total=reykjavik_order.total,
        currency="ISK",
        captured_amount=reykjavik_order.total,
    )
    with pytest.raises(ReceiptRefused, match="not taken online"):
        issue_receipt(payment=till, lines=[CapturedLine(order_line=sweater, quantity=1)])
    assert not Receipt.objects.exists()


def test_the_receipt_e_mail_goes_once_per_order_in_its_language(
    client, reykjavik_order, mailoutbox, django_capture_on_commit_callbacks
):
    # given an order placed in Icelandic, paid online
    reykjavik_order.language = "is"
    reykjavik_order.save(update_fields=["language"])
    payment = authorise(client, reykjavik_order.payments.get())
    sweater, liquorice = lines_of(reykjavik_order)

    # when its receipt is issued, and a later capture issues a second one
    with django_capture_on_commit_callbacks(execute=True):
        receipt = hand_over(payment, [(sweater, 1)])
    with django_capture_on_commit_callbacks(execute=True):
        hand_over(payment, [(liquorice, 2)])

    # then one e-mail went, in Icelandic, with the receipt's number, VAT and printable link
    [sent] = [message for message in mailoutbox if reykjavik_order.number in message.subject]
    assert sent.subject == f"Kvittun fyrir pöntun {reykjavik_order.number}"
    assert sent.to == [reykjavik_order.contact_email]
    assert f"Kvittun {receipt.number}" in sent.body
    assert "þar af VSK 24%: 4.837\u00a0kr." in sent.body
    assert "Virðisaukaskattur alls: 4.837\u00a0kr." in sent.body
    assert f"/payments/receipts/{reykjavik_order.access_token}/{receipt.number}/" in sent.body
    assert "14 daga" in sent.body and "Lög nr. 16/2016 um neytendasamninga" in sent.body


def test_the_receipt_e_mail_and_page_show_each_lines_unit_price_and_discount(
    client, reykjavik_order, mailoutbox, django_capture_on_commit_callbacks
):
    # given Anna's two bags of liquorice (ISK 1,290 each) were ISK 500 off (a coupon's share)
    payment = authorise(client, reykjavik_order.payments.get())
    sweater, liquorice = lines_of(reykjavik_order)
    type(liquorice).objects.filter(pk=liquorice.pk).update(discount=Decimal("500"), line_total=Decimal("2080"))
    liquorice.refresh_from_db()

    # when both lines are handed over and receipted
    with django_capture_on_commit_callbacks(execute=True):
        receipt = hand_over(payment, [(sweater, 1), (liquorice, 2)])

    # then the e-mail says what each unit cost and the discount, so 2 × 1,290 − 500 = 2,080 adds up
    [sent] = [message for message in mailoutbox if "receipt" in message.subject]
    assert "2 × Lakkrís (LAK-1), VAT 11%: ISK\u00a02,080 (ISK\u00a01,290 each, discount −ISK\u00a0500)" in sent.body
    assert "1 × Hekla lopapeysa (PEY-1), VAT 24%: ISK\u00a024,990 (ISK\u00a024,990 each)\n" in sent.body
    assert "discount −ISK\u00a0500" in sent.alternatives[0][0]
    # and so does the printable receipt
    page = client.get(f"/payments/receipts/{reykjavik_order.access_token}/{receipt.number}/").content.decode()
    assert page.count('data-testid="line-discount"') == 1 and "−ISK\u00a0500" in page


def test_the_receipt_e_mail_names_the_orders_coupon_and_points(
    client, reykjavik_order, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    # given an order whose discount came from a coupon and points (as checkout.selectors says)
    discounts = {"before_discounts": Decimal("27570"), "coupon_code": "FRESH1000", "coupon_amount": Decimal("1000")}
    monkeypatch.setattr("orders.emails._order_discounts", lambda: lambda order: {**discounts, "points": Decimal("500")})
    payment = authorise(client, reykjavik_order.payments.get())
    sweater, _liquorice = lines_of(reykjavik_order)

    with django_capture_on_commit_callbacks(execute=True):
        hand_over(payment, [(sweater, 1)])

    # then its receipt e-mail names them, as the order e-mails do
    [sent] = [message for message in mailoutbox if "receipt" in message.subject]
    assert "The order's discounts: Coupon FRESH1000 −ISK\u00a01,000; Reward points used −ISK\u00a0500" in sent.body
    assert "Coupon FRESH1000" in sent.alternatives[0][0]
