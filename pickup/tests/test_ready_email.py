"""The "ready for pickup" e-mail: everything the shopper needs to come and collect."""

import datetime
from decimal import Decimal

import pytest

from catalog.tests.factories import ProductFactory
from orders.tests.factories import place_order
from pickup.selectors import pickup_of
from pickup.services import mark_ready_for_pickup
from stores.models import OpeningHours
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    store = StoreFactory(name="Laugavegur", address="Laugavegur 12", postcode="101", city="Reykjavík")
    mittens = ProductFactory(name="Lopi mittens", sku="MIT-1", price=Decimal("4990"))
    StockLevelFactory(store=store, product=mittens, on_hand=5)
    return place_order(store=store, products_and_quantities=[(mittens, 2)], email="anna@example.com")


def test_the_shopper_gets_one_email_with_code_link_store_and_hours(
    order, mailoutbox, django_capture_on_commit_callbacks
):
    # when the store marks the order ready (the task runs after commit)
    with django_capture_on_commit_callbacks(execute=True):
        mark_ready_for_pickup(order=order)

    # then one e-mail goes to the shopper with what they need to collect it
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    html = email.alternatives[0][0]
    link = f"http://testserver/orders/{order.access_token}/"
    assert email.to == ["anna@example.com"]
    assert order.number in email.subject and "Laugavegur" in email.subject
    for body in (email.body, html):
        assert order.number in body
        assert pickup_of(order).code in body
        assert link in body
        assert "Laugavegur 12" in body
        assert "101 Reykjavík" in body
        assert "Monday" in body and "10:00–18:00" in body
        assert "Atlantic/Reykjavik" in body
        assert "What to bring" in body
        assert "ISK\u00a09,980" in body
    assert f'href="{link}"' in html


def test_the_plain_text_email_is_not_html_escaped(order, mailoutbox, django_capture_on_commit_callbacks):
    order.contact_name = "Óli O'Brien"
    order.save(update_fields=["contact_name"])

    with django_capture_on_commit_callbacks(execute=True):
        mark_ready_for_pickup(order=order)

    assert "Hello Óli O'Brien," in mailoutbox[0].body
    assert "&#x27;" not in mailoutbox[0].body


def test_days_the_store_is_closed_are_said_to_be_closed(mailoutbox, django_capture_on_commit_callbacks):
    # given a store open on Mondays only
    store = StoreFactory(name="Seyðisfjörður", open_every_day=False)
    OpeningHours.objects.create(store=store, weekday=0, opens=datetime.time(12), closes=datetime.time(16))
    scarf = ProductFactory(name="Wool scarf")
    StockLevelFactory(store=store, product=scarf, on_hand=1)
    order = place_order(store=store, products_and_quantities=[(scarf, 1)])

    with django_capture_on_commit_callbacks(execute=True):
        mark_ready_for_pickup(order=order)

    assert "Monday: 12:00–16:00\nClosed on other days." in mailoutbox[0].body
    assert "Tuesday" not in mailoutbox[0].body
