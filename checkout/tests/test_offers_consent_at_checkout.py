"""The "send me offers" box on every checkout (issue 14's consent with provenance): unticked by
default and optional; ticked, the order's address is subscribed as consent given on the web at
checkout, pending until the shopper opens the double opt-in e-mail; unticked, nothing is
recorded; a checkout refused records nothing."""

import re

import pytest
from django.core import mail

from campaigns.models import ConsentEvent, ConsentSource, ConsentState, EmailConsent
from orders.models import Order

from .test_checkout import fill_cart, place
from .test_checkout import laugavegur as _laugavegur
from .test_checkout import mittens as _mittens
from .test_checkout_shipping import find, ship
from .test_checkout_shipping import providers as _shipping_providers  # noqa: F401 — fixture
from .test_checkout_shipping import world as _shipping_world

pytestmark = pytest.mark.django_db

shipping_world = pytest.fixture(_shipping_world.__wrapped__, name="shipping_world")
laugavegur = pytest.fixture(_laugavegur.__wrapped__, name="laugavegur")
mittens = pytest.fixture(_mittens.__wrapped__, name="mittens")


def test_the_box_is_there_unticked_and_optional(client, laugavegur, mittens):
    fill_cart(client, {mittens: 1})
    html = client.get("/checkout/").content.decode()
    box = re.search(r'<input type="checkbox" name="send_offers"[^>]*>', html).group(0)
    assert "checked" not in box and "required" not in box


def test_ticked_at_checkout_records_consent_pending_confirmation_from_the_web(
    client, laugavegur, mittens, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_CONSENT_DOUBLE_OPT_IN = True
    fill_cart(client, {mittens: 1})
    with django_capture_on_commit_callbacks(execute=True):
        response = place(client, laugavegur, send_offers="on")
    assert response.status_code == 302 and Order.objects.count() == 1
    consent = EmailConsent.objects.get()
    assert (consent.email, consent.state, consent.source) == (
        "anna@example.com",
        ConsentState.PENDING,
        ConsentSource.CHECKOUT,
    )
    event = ConsentEvent.objects.get(consent=consent)
    assert (event.to_state, event.source) == (ConsentState.PENDING, ConsentSource.CHECKOUT)
    # the double opt-in e-mail goes to her, besides the order's own e-mails
    assert [message.to for message in mail.outbox if "/email/confirm/" in message.body] == [["anna@example.com"]]


def test_unticked_records_nothing(client, laugavegur, mittens, django_capture_on_commit_callbacks):
    fill_cart(client, {mittens: 1})
    with django_capture_on_commit_callbacks(execute=True):
        response = place(client, laugavegur)
    assert response.status_code == 302 and Order.objects.count() == 1
    assert not EmailConsent.objects.exists()


def test_a_refused_checkout_records_no_consent(client, laugavegur, mittens):
    fill_cart(client, {mittens: 1})
    response = place(client, laugavegur, send_offers="on", email="not an address")
    assert response.status_code == 200 and not Order.objects.exists()
    assert not EmailConsent.objects.exists()


def test_ticked_on_the_shipping_checkout_records_consent(client, shipping_world, django_capture_on_commit_callbacks):
    html = find(client).content.decode()
    assert 'name="send_offers"' in html
    with django_capture_on_commit_callbacks(execute=True):
        response = ship(client, html, send_offers="on")
    assert response.status_code == 302
    consent = EmailConsent.objects.get()
    assert (consent.state, consent.source) == (ConsentState.PENDING, ConsentSource.CHECKOUT)
