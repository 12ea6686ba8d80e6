"""The shopper's order page, reached by the signed link: everyone without it gets a 404."""

import datetime
from decimal import Decimal

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import translation
from payments.core import PROVIDER_CACHE

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from orders.models import (
    ORDER_LINK_SALT,
    CancelReason,
    NotificationKind,
    OrderActivity,
    OrderEvent,
    OrderStatus,
)
from orders.services import cancel_order
from orders.tests.factories import place_order
from payment.tests.factories import DUMMY, authorised_payment
from pickup.selectors import pickup_of
from pickup.services import collect_order, mark_ready_for_pickup
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def oslo():
    return StoreFactory(
        name="Grünerløkka",
        address="Thorvald Meyers gate 40",
        postcode="0555",
        city="Oslo",
        country="NO",
        time_zone="Europe/Oslo",
    )


@pytest.fixture
def order(oslo):
    mittens = ProductFactory(name="Lopi mittens", sku="MIT-1", price=Decimal("4990"))
    StockLevelFactory(store=oslo, product=mittens, on_hand=5)
    return place_order(store=oslo, products_and_quantities=[(mittens, 2)])


def test_the_shopper_opens_their_order_by_its_link(client, order):
    # when the shopper opens the link from the confirmation
    response = client.get(order.get_absolute_url())

    # then they see the number, the status, the code with its QR code, the lines and the store
    html = response.content.decode()
    assert response.status_code == 200
    assert order.number in html
    assert 'data-testid="order-status">Placed<' in html
    assert 'data-testid="pickup-code"' in html and pickup_of(order).code in html
    assert 'src="data:image/svg+xml' in html
    assert "Lopi mittens" in html and "MIT-1" in html
    assert "ISK\u00a09,980" in html
    assert "Thorvald Meyers gate 40" in html
    assert "openstreetmap.org/directions" in html
    assert "10:00–18:00" in html


def test_the_order_page_is_private_and_not_indexed(client, order):
    response = client.get(order.get_absolute_url())

    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= cache_control
    assert "noindex" in response["X-Robots-Tag"]
    assert '<meta name="robots" content="noindex, nofollow">' in response.content.decode()


def test_the_timeline_shows_each_status_in_the_stores_local_time(client, order):
    # given the order was placed at 12:00 UTC on 15 January, 13:00 in Oslo
    OrderEvent.objects.filter(order=order).update(created_at=datetime.datetime(2025, 1, 15, 12, 0, tzinfo=datetime.UTC))
    mark_ready_for_pickup(order=order)

    html = client.get(order.get_absolute_url()).content.decode()

    timeline = html.split('data-testid="order-timeline"')[1].split("</ol>")[0]
    assert "15 January 2025, 13:00" in timeline
    assert timeline.index("Placed") < timeline.index("Ready for pickup")
    assert 'data-testid="order-status">Ready for pickup<' in html


def test_a_collected_order_no_longer_shows_the_code(client, order):
    # given the shopper collected the order at the counter
    mark_ready_for_pickup(order=order)
    collect_order(order=order, code=pickup_of(order).code, by=StoreManagerFactory(stores=[order.store]))

    # when they open its page again

    html = client.get(order.get_absolute_url()).content.decode()

    # then it says collected, and the code is gone
    assert 'data-testid="order-status">Collected<' in html
    assert 'data-testid="pickup-code"' not in html
    assert "data:image/svg+xml" not in html


def test_a_cancelled_order_no_longer_shows_the_code(client, order):
    cancel_order(order=order, reason=CancelReason.STORE)

    html = client.get(order.get_absolute_url()).content.decode()

    assert 'data-testid="order-status">Cancelled<' in html
    assert pickup_of(order).code not in html


def test_a_tampered_or_foreign_link_is_a_plain_404(client, order):
    # given links that were guessed, altered, signed for something else or for no order at all
    unknown_order = signing.Signer(salt=ORDER_LINK_SALT).sign("NOSUCHORDER")
    other_salt = signing.Signer(salt="something-else").sign(order.number)
    links = [
        reverse("checkout:order_detail", kwargs={"token": order.number}),
        reverse("checkout:order_detail", kwargs={"token": order.access_token[:-1] + "x"}),
        reverse("checkout:order_detail", kwargs={"token": order.access_token.replace(order.number, "AAAAAAAA")}),
        reverse("checkout:order_detail", kwargs={"token": other_salt}),
        reverse("checkout:order_detail", kwargs={"token": unknown_order}),
    ]

    # when anyone opens them
    responses = [client.get(link) for link in links]

    # then every one is the same 404, so probing tells nothing
    assert [response.status_code for response in responses] == [404] * len(links)
    assert len({response.content for response in responses}) == 1


def test_the_order_page_has_a_fixed_number_of_queries(client, django_assert_max_num_queries, oslo):
    products = ProductFactory.create_batch(12)
    for product in products:
        StockLevelFactory(store=oslo, product=product, on_hand=5)
    big = place_order(store=oslo, products_and_quantities=[(product, 1) for product in products])

    # 5, one more for its receipts (payment.receipts.receipts_for_order_page), one for its
    # payments' history in the timeline (payment.history), one for its returns (returns.panels),
    # one for which items are ready (a placed order: orders.selectors.readiness_of), one for its
    # transfers (transfers.panels), one for units a transfer still brings (a placed pickup:
    # orders.selectors.units_on_the_way)
    with django_assert_max_num_queries(11):
        assert client.get(big.get_absolute_url()).status_code == 200


def test_the_order_page_shows_the_vat_in_the_total_per_rate(client, order):
    # given an order at an Oslo store: 2 × 4 990 at the Norwegian standard rate (25 %)

    # when the shopper opens it
    html = client.get(order.get_absolute_url()).content.decode()

    # then the VAT included in the total is shown for its rate, from the lines' own VAT
    assert "of which VAT 25%" in html
    assert 'data-testid="order-vat">ISK\u00a01,996<' in html


def test_an_order_placed_in_icelandic_reads_wholly_in_english(client, oslo, settings):
    # given an order placed and paid online in Icelandic, its confirmation e-mail sent
    settings.PAYMENT_VARIANTS = {"dummy": DUMMY}
    PROVIDER_CACHE.clear()
    mittens = ProductFactory(name="Lopi mittens", sku="MIT-1", price=Decimal("4990"))
    StockLevelFactory(store=oslo, product=mittens, on_hand=5)
    order = place_order(store=oslo, products_and_quantities=[(mittens, 2)], payment="dummy")
    type(order).objects.filter(pk=order.pk).update(language="is")
    order.refresh_from_db()
    authorised_payment(order)
    with translation.override("is"):
        received = str(NotificationKind.ORDER_RECEIVED.label)
    OrderEvent.objects.create(
        order=order,
        kind=OrderActivity.EMAILED,
        from_status=OrderStatus.PLACED,
        to_status=OrderStatus.PLACED,
        note=received,
    )
    placed = OrderEvent.objects.get(order=order, from_status=OrderStatus.AWAITING_PAYMENT)
    assert "Greitt á netinu" in placed.note  # written in the order's language

    # when the page is read in English
    html = client.get(order.get_absolute_url()).content.decode()

    # then its history is all English: the e-mail's name and the payment, worded as read
    timeline = html.split('data-testid="order-timeline"')[1].split("</ol>")[0]
    assert "E-mail sent: Order received" in timeline
    assert "Payment authorised: ISK\u00a09,980" in timeline
    assert received not in timeline and "Greitt" not in timeline and "kr." not in timeline
