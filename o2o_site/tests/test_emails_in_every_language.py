"""E-mails go out in the language the shopper ordered in, with the store's hours in its own time
zone and the money written that language's way."""

import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from zeal import zeal_ignore

from catalog.tests.factories import ProductFactory
from checkout.services import ConfirmedCheckout, place_pickup_order
from o2o_site.tests.po import english_left_in
from orders.emails import order_cancelled_email
from orders.models import CancelReason, Order
from orders.services import Contact
from pickup.emails import order_received_email, pickup_reminder_email
from pickup.services import mark_ready_for_pickup
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"


@pytest.fixture
def oslo_mittens():
    store = StoreFactory(
        name="Norðurbúð Grünerløkka", city="Oslo", country="NO", postcode="0555", time_zone="Europe/Oslo"
    )
    mittens = ProductFactory(
        name_en="Wool mittens", name_is="Lopavettlingar", name_nb="Ullvotter", price=Decimal("299")
    )
    StockLevelFactory(store=store, product=mittens, on_hand=5)
    return store, mittens


def ready_email(store, product, language, mailoutbox, capture):
    order = place_pickup_order(
        checkout=ConfirmedCheckout.at_current_prices(
            quantities={product.pk: 2},
            store=store,
            contact=Contact(name="Kari Nordmann", email="kari@example.com", phone="+47 22 00 00 00"),
            language=language,
        )
    )
    with capture(execute=True):
        mark_ready_for_pickup(order=order)
    (email,) = [message for message in mailoutbox if order.number in message.subject]
    return order, email


@pytest.mark.parametrize(
    ("language", "greeting", "what_to_bring", "monday", "total"),
    [
        ("is", "Hæ Kari Nordmann,", "Hvað þú þarft að hafa með", "Mánudagur", f"598,00{NBSP}NOK"),
        ("nb", "Hei Kari Nordmann,", "Dette må du ha med", "Mandag", f"598,00{NBSP}kr"),
    ],
)
def test_the_ready_email_is_in_the_language_of_the_order(
    oslo_mittens,
    settings,
    mailoutbox,
    django_capture_on_commit_callbacks,
    language,
    greeting,
    what_to_bring,
    monday,
    total,
):
    # given a Norwegian shop and an order placed in Icelandic or Norwegian
    settings.SHOP_CURRENCY = "NOK"
    store, mittens = oslo_mittens

    # when the store marks it ready
    order, email = ready_email(store, mittens, language, mailoutbox, django_capture_on_commit_callbacks)

    # then the subject, the text and the HTML are in that language, with no English left
    html_body = email.alternatives[0][0]
    assert order.number in email.subject and store.name in email.subject
    assert english_left_in(email.subject, language) == []
    for body in (email.body, html.unescape(html_body)):
        assert greeting in body
        assert what_to_bring in body
        assert f"{monday}" in body and "10:00–18:00" in body
        assert total in body
        assert english_left_in(body, language) == [], body
    assert f'<html lang="{language}">' in html_body


def test_the_same_order_in_english_would_have_been_english(
    oslo_mittens, settings, mailoutbox, django_capture_on_commit_callbacks
):
    # the check above can fail: an English e-mail is full of our English sentences
    settings.SHOP_CURRENCY = "NOK"
    store, mittens = oslo_mittens
    _order, email = ready_email(store, mittens, "en", mailoutbox, django_capture_on_commit_callbacks)
    assert "What to bring" in email.body and f"NOK{NBSP}598.00" in email.body
    assert len(english_left_in(email.body, "is")) > 5


def test_an_order_placed_in_norwegian_keeps_norwegian_for_its_record_and_its_email(
    client, oslo_mittens, settings, mailoutbox, django_capture_on_commit_callbacks
):
    # given a shopper reading the shop in Norwegian, with mittens in the cart
    settings.SHOP_CURRENCY = "NOK"
    store, mittens = oslo_mittens
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nb"
    client.post(reverse("checkout:cart_add"), {"product_id": mittens.pk, "quantity": 2, "next": "/"})
    checkout = client.get(reverse("checkout:checkout")).content.decode()
    token = re.search(r'name="checkout_token" value="([^"]+)"', checkout).group(1)

    # when they check out
    client.post(
        reverse("checkout:checkout"),
        {
            "name": "Kari Nordmann",
            "email": "kari@example.com",
            "phone": "+47 22 00 00 00",
            "store": store.pk,
            "checkout_token": token,
        },
    )

    # then the order remembers Norwegian and the product's Norwegian name, and its e-mail is Norwegian
    order = Order.objects.get()
    assert order.language == "nb"
    assert [line.product_name for line in order.lines.all()] == ["Ullvotter"]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # whatever the staff's language is
    with django_capture_on_commit_callbacks(execute=True):
        mark_ready_for_pickup(order=order)
    email = next(message for message in mailoutbox if order.number in message.subject)
    assert email.subject.startswith(f"Bestilling {order.number} er klar til henting")
    assert "Hei Kari Nordmann," in email.body and f"598,00{NBSP}kr" in email.body


@pytest.mark.parametrize(("language", "greeting"), [("is", "Hæ Kari Nordmann,"), ("nb", "Hei Kari Nordmann,")])
def test_the_received_reminder_and_cancellation_emails_are_in_the_language_of_the_order(
    oslo_mittens, settings, mailoutbox, django_capture_on_commit_callbacks, language, greeting
):
    # given a ready order placed in Icelandic or Norwegian
    settings.SHOP_CURRENCY = "NOK"
    store, mittens = oslo_mittens
    order, _ready = ready_email(store, mittens, language, mailoutbox, django_capture_on_commit_callbacks)

    # when the order received, reminder and cancellation e-mails (for each reason) are written for
    # it (separate jobs in the shop, one after the other here: not an N+1)
    with zeal_ignore():
        emails = [order_received_email(order), pickup_reminder_email(order)]
        for reason in CancelReason:
            order.cancel_reason = reason
            emails.append(order_cancelled_email(order))

    # then both are wholly in the order's language
    for email in emails:
        assert greeting in email.body
        assert english_left_in(email.subject, language) == []
        for body in (email.body, email.alternatives[0][0]):
            assert english_left_in(html.unescape(body), language) == [], body
        assert f'<html lang="{language}">' in email.alternatives[0][0]
