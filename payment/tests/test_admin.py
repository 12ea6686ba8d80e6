"""Payments in the admin: read-only, each with its events, a manager's own stores only."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import StoreManagerFactory, UserFactory
from catalog.tests.factories import ProductFactory
from orders.tests.factories import place_order
from payment.receipts import receipt_link
from payment.services import Actor, create_payment, release_payment
from stores.tests.factories import StockLevelFactory, StoreFactory

from .test_receipts import hand_over

pytestmark = pytest.mark.django_db

# A payment's admin page, with its events and receipts (a fixed number however many there are).
QUERIES = 7


def authorised(client, payment):
    page = reverse("payment_page", kwargs={"token": payment.token})
    client.get(page)
    client.post(page, {"status": "preauth", "fraud_status": "accept", "gateway_response": "3ds-disabled"})
    return payment


@pytest.fixture
def two_stores(client):
    laugavegur = StoreFactory(name="Laugavegur")
    oslo = StoreFactory(name="Grünerløkka", city="Oslo", country="NO", time_zone="Europe/Oslo")
    mittens = ProductFactory(name="Lopi mittens", price=Decimal("4990"))
    for store in (laugavegur, oslo):
        StockLevelFactory(store=store, product=mittens, on_hand=5)
    ours = place_order(store=laugavegur, products_and_quantities=[(mittens, 1)])
    theirs = place_order(store=oslo, products_and_quantities=[(mittens, 2)], email="ola@example.no")
    paid = authorised(client, create_payment(order=ours, variant="dummy"))
    release_payment(payment=paid, by=Actor.staff(None), note="order cancelled")
    other = authorised(client, create_payment(order=theirs, variant="dummy"))
    return laugavegur, ours, paid, theirs, other


def test_a_payment_shows_its_history(client, two_stores):
    _store, order, payment, _theirs, _other = two_stores
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    page = client.get(reverse("admin:payment_payment_change", args=[payment.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert order.number in html
    assert "order cancelled" in html
    assert html.count("ISK") >= 4  # the amounts, formatted as money
    assert 'name="_save"' not in html  # read-only


def test_a_manager_sees_only_their_own_stores_payments(client, two_stores):
    laugavegur, order, payment, theirs, other = two_stores
    client.force_login(StoreManagerFactory(username="anna", stores=[laugavegur]))

    listing = client.get(reverse("admin:payment_payment_changelist")).content.decode()
    assert order.number in listing
    assert theirs.number not in listing

    assert client.get(reverse("admin:payment_payment_change", args=[payment.pk])).status_code == 200
    response = client.get(reverse("admin:payment_payment_change", args=[other.pk]))
    assert response.status_code == 302  # the admin sends a manager away from what they may not see
    assert theirs.number not in response.content.decode()


def test_a_payments_page_lists_its_receipts_with_the_shoppers_page(client, two_stores, django_assert_max_num_queries):
    # given the Oslo order handed over in two parts, each captured with its receipt
    laugavegur, _ours, _paid, theirs, other = two_stores
    first = hand_over(other, [(theirs.lines.get(), 1)])
    second = hand_over(other, [(theirs.lines.get(), 1)])
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    # when staff open the payment: its events and receipts at a fixed number of queries
    with django_assert_max_num_queries(QUERIES):
        html = client.get(reverse("admin:payment_payment_change", args=[other.pk])).content.decode()

    # then each receipt links to the shopper's page, with its total and VAT
    assert receipt_link(first) in html and receipt_link(second) in html
    assert html.count("ISK\u00a04,990") >= 2  # each receipt's total
    assert html.count("ISK\u00a0998") == 2  # its VAT: 4 990 × 25/125 in an Oslo store
