"""The order page's history carries notes written by the shop's background jobs (the reminder,
the automatic cancellation) and by staff in the admin. They are written in the language the
shopper ordered in, whoever or whatever writes them, so an Icelandic or Norwegian order page
has no English left on it."""

import datetime
import html
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from o2o_site.tests.po import english_left_in
from orders.tests.factories import place_order
from pickup import curbside
from pickup.reminders import expire_uncollected_orders, send_pickup_reminders
from pickup.services import mark_ready_for_pickup
from pickup.tests.factories import PickupSettingsFactory, place_curbside_order
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    store = StoreFactory(name="Norðurbúð Grünerløkka", time_zone="Europe/Oslo")
    PickupSettingsFactory(store=store, remind_after_hours=1, expire_after_days=1)
    return store


@pytest.fixture
def mittens(store):
    mittens = ProductFactory(
        name_en="Wool mittens", name_is="Lopavettlingar", name_nb="Ullvotter", price=Decimal("299")
    )
    StockLevelFactory(store=store, product=mittens, on_hand=5)
    return mittens


def order_page(client, order, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return html.unescape(client.get(order.get_absolute_url()).content.decode())


@pytest.mark.parametrize(
    ("language", "reminded", "cancelled"),
    [
        ("is", "Ekki sótt eftir 1 klukkustund", "Ekki sótt innan 1 dags"),
        ("nb", "Ikke hentet etter 1 time", "Ikke hentet innen 1 dag"),
    ],
)
def test_the_reminder_and_the_automatic_cancellation_are_noted_in_the_orders_language(
    client, store, mittens, django_capture_on_commit_callbacks, language, reminded, cancelled
):
    # given an order placed in Icelandic or Norwegian and marked ready
    order = place_order(store=store, products_and_quantities=[(mittens, 1)], language=language)
    with django_capture_on_commit_callbacks(execute=True):
        mark_ready_for_pickup(order=order)

    # when the scheduled jobs run in a worker that has no shopper's language (English), an hour
    # later the reminder and a day later the cancellation
    now = timezone.now()
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        assert send_pickup_reminders(now=now + datetime.timedelta(hours=1, minutes=1)).done == [order.number]
        assert expire_uncollected_orders(now=now + datetime.timedelta(days=1, minutes=1)).done == [order.number]

    # then the shopper's order page tells both in their language, one hour and one day in the singular
    page = order_page(client, order, language)
    assert reminded in page and cancelled in page
    assert english_left_in(page, language) == []


@pytest.mark.parametrize(("language", "note"), [("is", "Verslunin hætti við"), ("nb", "Kansellert av butikken")])
def test_a_cancellation_by_staff_reading_the_admin_in_english_is_noted_in_the_orders_language(
    client, store, mittens, language, note
):
    # given an order placed in Icelandic or Norwegian
    order = place_order(store=store, products_and_quantities=[(mittens, 1)], language=language)

    # when the store's manager, who reads the admin in English, cancels it there
    client.force_login(StoreManagerFactory(stores=[store]))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "cancel_orders", "_selected_action": [order.pk], "confirm": "yes"},
    )
    client.logout()

    # then the shopper's order page tells it in their language
    page = order_page(client, order, language)
    assert note in page
    assert english_left_in(page, language) == []


def test_the_reminder_note_counts_hours_in_english_too(client, store, mittens, django_capture_on_commit_callbacks):
    # given an English order reminded after one hour
    order = place_order(store=store, products_and_quantities=[(mittens, 1)], language="en")
    with django_capture_on_commit_callbacks(execute=True):
        mark_ready_for_pickup(order=order)
    with django_capture_on_commit_callbacks(execute=True):
        send_pickup_reminders(now=timezone.now() + datetime.timedelta(hours=1, minutes=1))

    # then the history says "1 hour", not "1 hours"
    page = order_page(client, order, "en")
    assert "Not collected after 1 hour:" in page


@pytest.mark.parametrize(
    ("language", "on_the_way", "waiting"),
    [
        ("is", "Kemur eftir 5 mínútur", "Bíður við stæði 2"),
        ("nb", "Ventes om 5 minutter", "Venter ved plass 2"),
    ],
)
def test_curbside_steps_are_noted_in_the_orders_language_whatever_the_phone_shows(
    client, store, mittens, language, on_the_way, waiting
):
    # given a curbside order placed in Icelandic or Norwegian, ready, and a phone set to English
    order = place_curbside_order(store=store, products_and_quantities=[(mittens, 1)], language=language)
    mark_ready_for_pickup(order=order)

    # when the shopper taps "On my way" and "I'm here" from the English page
    with translation.override("en"):
        curbside.announce_on_the_way(order=order, eta_minutes=5)
        curbside.check_in(order=order, bay=2)

    # then the order's history notes both steps in the order's language
    page = order_page(client, order, language)
    assert on_the_way in page and waiting in page
