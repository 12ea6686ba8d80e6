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


def test_a_payments_page_lists_its_receipts_with_the_shoppers_page(client, two_stores):
    # given the Oslo order captured and its receipt issued
    laugavegur, _ours, _paid, theirs, other = two_stores
    receipt = hand_over(other, [(theirs.lines.get(), 2)])
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    html = client.get(reverse("admin:payment_payment_change", args=[other.pk])).content.decode()

    assert receipt_link(receipt) in html
    assert "ISK\u00a09,980" in html  # its total
    assert "ISK\u00a01,996" in html  # its VAT: 9 980 × 25/125 in an Oslo store
