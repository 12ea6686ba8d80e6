"""The shopper's printable receipt, reached from the order page through the order's signed link,
and the right of withdrawal an order paid online carries (not one paid at pickup)."""

import datetime
import html
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from catalog.tests.factories import ProductFactory
from o2o_site.tests.po import english_left_in
from orders.models import FulfilmentMethod, FulfilmentStatus
from orders.tests.factories import place_order
from pickup.selectors import pickup_of
from pickup.services import collect_order, mark_ready_for_pickup
from stores.tests.factories import StockLevelFactory, StoreFactory

from .test_receipts import authorise, hand_over

pytestmark = pytest.mark.django_db

# 23:30 UTC on 30 November is already 00:30 on 1 December in Oslo: the store's date counts.
COLLECTED_AT = datetime.datetime(2026, 11, 30, 23, 30, tzinfo=datetime.UTC)


@pytest.fixture
def oslo_order(settings):
    """Ola's order at Grünerløkka, in kroner: a blanket (standard, 25 %) and two bags of coffee (food, 15 %)."""
    settings.SHOP_CURRENCY = "NOK"
    settings.RECEIPT_SELLERS = {
        **settings.RECEIPT_SELLERS,
        "NO": {
            "name": "Norðurbúð AS",
            "address": "Thorvald Meyers gate 40, 0555 Oslo",
            "organisasjonsnummer": "923 456 789",
            "vat_registered": True,
            "foretaksregisteret": True,
        },
    }
    store = StoreFactory(
        name="Grünerløkka",
        address="Thorvald Meyers gate 40",
        postcode="0555",
        city="Oslo",
        country="NO",
        time_zone="Europe/Oslo",
    )
    blanket = ProductFactory(name="Ullpledd", sku="PLE-1", price=Decimal("1299.90"))
    coffee = ProductFactory(name="Kaffe", sku="KAF-1", price=Decimal("89.90"), vat_class="reduced")
    StockLevelFactory(store=store, product=blanket, on_hand=5)
    StockLevelFactory(store=store, product=coffee, on_hand=5)
    return place_order(
        store=store, products_and_quantities=[(blanket, 1), (coffee, 2)], email="ola@example.no", payment="dummy"
    )


@pytest.fixture
def collected_and_captured(client, oslo_order):
    """Paid online, collected just after midnight Oslo time, and captured in full at the hand-over."""
    payment = authorise(client, oslo_order.payments.get())
    mark_ready_for_pickup(order=oslo_order)
    collect_order(order=oslo_order, code=pickup_of(oslo_order).code, by=None, now=COLLECTED_AT)
    blanket, coffee = oslo_order.lines.order_by("pk")
    return hand_over(payment, [(blanket, 1), (coffee, 2)])


def receipt_page(order, number):
    return reverse("payment_receipt", kwargs={"token": order.access_token, "number": number})


def test_the_receipt_page_shows_everything_the_receipt_must_say(client, oslo_order, collected_and_captured):
    receipt = collected_and_captured

    response = client.get(receipt_page(oslo_order, receipt.number))

    html = response.content.decode()
    assert response.status_code == 200
    # number, seller with organisasjonsnummer and MVA, the order, the store, how it was paid
    assert 'data-testid="receipt-number">1<' in html
    assert "Norðurbúð AS" in html and "Org.nr. 923 456 789 MVA · Foretaksregisteret" in html
    assert f'data-testid="receipt-order">{oslo_order.number}<' in html
    assert "Test payment (Dummy provider)" in html
    # the date in the store's time zone (Oslo), not UTC
    assert "+01:00" in html  # <time datetime> in the store's zone
    # the lines, VAT per rate and in total
    assert html.count('data-testid="receipt-line"') == 2
    assert 'data-testid="receipt-total">NOK\u00a01,479.70<' in html
    rates = html[html.index('data-testid="receipt-vat"') :]
    assert "25%" in rates and "NOK\u00a0259.98" in rates  # 1 299.90 × 25/125
    assert "15%" in rates and "NOK\u00a023.45" in rates  # 179.80 × 15/115 = 23.452
    assert 'data-testid="receipt-vat-total">NOK\u00a0283.43<' in html
    # and the right of withdrawal, 14 days from the Oslo date it was collected (1 December)
    assert 'data-testid="withdrawal"' in html
    assert "You collected it on 1 December 2026: the last day to withdraw is 15 December 2026." in html
    assert "Angrerettloven (LOV-2014-06-20-27) §§ 20–22" in html
    # and a print stylesheet, no caching, not indexed
    assert "css/receipt.css" in html
    assert "no-store" in response["Cache-Control"] and response["X-Robots-Tag"] == "noindex, nofollow"


def test_the_receipt_page_in_norwegian(client, oslo_order, collected_and_captured):
    client.cookies["django_language"] = "nb"

    html = client.get(receipt_page(oslo_order, collected_and_captured.number), HTTP_ACCEPT_LANGUAGE="nb").content
    html = html.decode()

    assert "Kvittering" in html and "Betalt med" in html and "Angrerett" in html
    assert "herav" not in html  # the receipt's VAT is its own table
    assert "Merverdiavgift inkludert" in html
    assert "1.\u00a0desember 2026" in html or "1. desember 2026" in html


def test_only_the_orders_signed_link_opens_its_receipt(client, oslo_order, collected_and_captured):
    other = place_order(store=oslo_order.store, products_and_quantities=[(oslo_order.lines.first().product, 1)])
    forged = oslo_order.access_token[:-2] + ("AA" if not oslo_order.access_token.endswith("AA") else "BB")
    links = [
        receipt_page(other, collected_and_captured.number),  # another order's link
        receipt_page(oslo_order, collected_and_captured.number + 1),  # no such receipt
        reverse("payment_receipt", kwargs={"token": forged, "number": collected_and_captured.number}),
    ]

    responses = [client.get(link) for link in links]

    assert [response.status_code for response in responses] == [404, 404, 404]
    assert len({response.content for response in responses}) == 1


def test_the_receipt_page_has_a_fixed_number_of_queries(
    client, oslo_order, collected_and_captured, django_assert_max_num_queries
):
    # receipt with order and store, its lines, the order's fulfilments; the session
    with django_assert_max_num_queries(4):
        assert client.get(receipt_page(oslo_order, collected_and_captured.number)).status_code == 200


def test_the_order_page_links_its_receipts_and_states_the_withdrawal_period(
    client, oslo_order, collected_and_captured, django_assert_max_num_queries
):
    # an order paid online: the order page's queries with its payments and their events
    # (checkout/tests/test_pay_online.py), one of them for its receipts, one for the timeline's
    # payment history (payment.history); and two for the returns' part of a collected order's
    # page, its returns and its hand-overs (returns.panels), and while its return window is open
    # one for what was refunded (no "Return items" for units paid back); one for the transfers'
    # part, the order's transfers to its store (transfers.panels)
    with django_assert_max_num_queries(13):
        response = client.get(oslo_order.get_absolute_url())

    html = response.content.decode()
    assert 'data-testid="receipt-link"' in html
    assert receipt_page(oslo_order, collected_and_captured.number) in html
    assert "the last day to withdraw is 15 December 2026" in html


def test_an_order_paid_online_but_not_collected_says_the_period_starts_at_pickup(client, oslo_order):
    authorise(client, oslo_order.payments.get())

    html = client.get(oslo_order.get_absolute_url()).content.decode()

    assert 'data-testid="withdrawal"' in html
    assert "The 14 days start on the day after you collect the order." in html
    assert 'data-testid="order-receipts"' not in html


@pytest.mark.parametrize("method", [FulfilmentMethod.LOCAL_DELIVERY, FulfilmentMethod.SHIPPING])
def test_an_order_delivered_or_shipped_counts_withdrawal_from_receiving_it_not_collecting(client, oslo_order, method):
    # given the order is paid online and comes to Ola's door (by the store's van, or by post)
    authorise(client, oslo_order.payments.get())
    oslo_order.fulfilments.update(method=method)

    # when it is on its way
    html = client.get(oslo_order.get_absolute_url()).content.decode()

    # then the period counts from its delivery, and nothing says he collects it
    assert "within 14 days of receiving it. The 14 days start on the day after the order is delivered to you." in html
    assert "collect" not in html.split('data-testid="withdrawal"')[1].split("</section>")[0]

    # when it has been delivered (just after midnight, Oslo time)
    oslo_order.fulfilments.update(status=FulfilmentStatus.FULFILLED, fulfilled_at=COLLECTED_AT)
    html = client.get(oslo_order.get_absolute_url()).content.decode()

    # then the date he received it and the last day are named
    assert "You received it on 1 December 2026: the last day to withdraw is 15 December 2026." in html
    # and in Icelandic and Norwegian alike
    for language, received in (("is", "Þú fékkst þær"), ("nb", "Du mottok dem")):
        html = client.get(oslo_order.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert received in html


def test_an_order_paid_at_pickup_has_no_withdrawal_notice(client, oslo_order):
    # given an order the shopper pays for at the store's till, collected
    at_pickup = place_order(store=oslo_order.store, products_and_quantities=[(oslo_order.lines.first().product, 1)])
    mark_ready_for_pickup(order=at_pickup)
    collect_order(order=at_pickup, code=pickup_of(at_pickup).code, by=None, now=COLLECTED_AT)

    html = client.get(at_pickup.get_absolute_url()).content.decode()

    # then the order page states no right of withdrawal (a sale in the store) and has no receipt
    assert 'data-testid="withdrawal"' not in html
    assert "withdraw" not in html
    assert 'data-testid="order-receipts"' not in html


def test_an_order_still_awaiting_its_payment_has_no_withdrawal_notice(client, oslo_order):
    # the shopper chose to pay online but has not paid (yet)
    html = client.get(oslo_order.get_absolute_url()).content.decode()

    assert 'data-testid="withdrawal"' not in html


@pytest.mark.parametrize("language", ["is", "nb"])
def test_the_receipt_page_and_e_mail_are_wholly_in_the_shoppers_language(
    client, oslo_order, language, django_capture_on_commit_callbacks, mailoutbox
):
    # given the order placed in Icelandic or Norwegian, paid online, collected and captured
    oslo_order.language = language
    oslo_order.save(update_fields=["language"])
    payment = authorise(client, oslo_order.payments.get())
    mark_ready_for_pickup(order=oslo_order)
    collect_order(order=oslo_order, code=pickup_of(oslo_order).code, by=None, now=COLLECTED_AT)
    blanket, coffee = oslo_order.lines.order_by("pk")
    with django_capture_on_commit_callbacks(execute=True):
        receipt = hand_over(payment, [(blanket, 1), (coffee, 2)])

    # when the shopper reads the receipt e-mail, and opens the receipt page in that language
    [sent] = [message for message in mailoutbox if message.subject.startswith("Kvitt")]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get(receipt_page(oslo_order, receipt.number)).content.decode()

    # then no English is left in any of them
    assert english_left_in(html.unescape(page), language) == []
    assert english_left_in(sent.subject, language) == []
    for body in (sent.body, sent.alternatives[0][0]):
        assert english_left_in(html.unescape(body), language) == [], body
