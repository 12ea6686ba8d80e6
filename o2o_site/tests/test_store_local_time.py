"""Times are the store's own, whatever the server's zone: opening hours, "open now", pickup
slots, the order timeline and the times in e-mails, across Oslo's daylight-saving changes
(last Sunday of March and of October) on a server that keeps New York time — which changes on
other days (second Sunday of March, first Sunday of November), so any use of the server's zone
shows up as an hour off.
"""

import datetime
from decimal import Decimal

import pytest

from catalog.tests.factories import ProductFactory
from checkout.services import ConfirmedCheckout, place_pickup_order
from orders.services import Contact
from pickup.services import mark_ready_for_pickup
from pickup.slots import available_slots
from stores.models import OpeningHours
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
# Oslo: 2026-03-29 02:00 CET → 03:00 CEST (01:00 UTC); 2026-10-25 03:00 CEST → 02:00 CET (01:00 UTC).
# New York already moved on 2026-03-08 and moves back only on 2026-11-01.


def at(*args):
    return datetime.datetime(*args, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _server_in_new_york(settings):
    settings.TIME_ZONE = "America/New_York"


@pytest.fixture
def oslo():
    """A Norwegian shop's hours: Monday to Friday 10–20, Saturday 10–18, closed on Sunday."""
    store = StoreFactory(name="Karl Johans gate", country="NO", time_zone="Europe/Oslo", open_every_day=False)
    OpeningHours.objects.bulk_create(
        [OpeningHours(store=store, weekday=day, opens=datetime.time(10), closes=datetime.time(20)) for day in range(5)]
        + [OpeningHours(store=store, weekday=5, opens=datetime.time(10), closes=datetime.time(18))]
    )
    return store


def store_page(client, monkeypatch, store, now):
    monkeypatch.setattr("django.utils.timezone.now", lambda: now)
    return client.get(store.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.parametrize(
    ("moment", "is_open", "oslo_time"),
    [
        # the Monday before the spring change: 08:30 UTC is 09:30 in Oslo (CET), not open yet
        (at(2026, 3, 23, 8, 30), False, "09:30"),
        (at(2026, 3, 23, 9, 30), True, "10:30"),
        (at(2026, 3, 23, 18, 30), True, "19:30"),
        # the Monday after it: the same 08:30 UTC is 10:30 (CEST), open; 18:30 UTC is 20:30, closed
        (at(2026, 3, 30, 8, 30), True, "10:30"),
        (at(2026, 3, 30, 18, 30), False, "20:30"),
        # the Monday before the autumn change (CEST) and after it (CET)
        (at(2026, 10, 19, 8, 30), True, "10:30"),
        (at(2026, 10, 19, 18, 30), False, "20:30"),
        (at(2026, 10, 26, 8, 30), False, "09:30"),
        (at(2026, 10, 26, 18, 30), True, "19:30"),
    ],
)
def test_open_now_follows_oslos_clock_across_daylight_saving(client, monkeypatch, oslo, moment, is_open, oslo_time):
    # when a shopper opens the store's page at `moment`, with the server in New York
    response = store_page(client, monkeypatch, oslo, moment)

    # then "open now" and the store's clock are Oslo's
    html = response.content.decode()
    assert oslo.is_open_at(moment) is is_open
    assert response.context["is_open"] is is_open
    assert ("Open until" if is_open else "Closed now") in html
    assert f"Times are local to the store (Europe/Oslo), where it is now {oslo_time}." in html


@pytest.mark.parametrize(
    "moment",
    [
        at(2026, 3, 28, 23, 30),  # Sunday 00:30 in Oslo (CET), Saturday 19:30 in New York
        at(2026, 3, 29, 0, 59),  # one minute before the change: 01:59 CET
        at(2026, 3, 29, 1, 0),  # the change: 03:00 CEST
        at(2026, 10, 25, 0, 30),  # 02:30 CEST, before the autumn change
        at(2026, 10, 25, 1, 30),  # 02:30 again, now CET
    ],
)
def test_the_displayed_week_is_the_same_wall_clock_hours_and_today_is_oslos_sunday(client, monkeypatch, oslo, moment):
    # when the store page is shown on the night of a change, when New York is still on Saturday
    response = store_page(client, monkeypatch, oslo, moment)

    # then the hours read the same as any week, Sunday (in Oslo) is today, and the store is closed
    html = response.content.decode()
    assert html.count("<td>10:00–20:00</td>") == 5
    assert html.count("<td>10:00–18:00</td>") == 1
    assert '<tr class="is-today" aria-current="date">\n            <th scope="row">Sunday</th>' in html
    assert "Closed now" in html


def test_pickup_slots_start_at_the_stores_opening_time_on_both_sides_of_the_change(oslo):
    # given the Friday before the spring change (CET) and the Monday after it (CEST)
    friday = available_slots(oslo, now=at(2026, 3, 27, 6, 0))
    monday = available_slots(oslo, now=at(2026, 3, 30, 6, 0))

    # then the first slot each day starts at 10:00 in Oslo: 09:00 UTC in winter, 08:00 UTC in summer
    first_on = {}
    for slot in friday + monday:
        local = slot.starts_at.astimezone(oslo.zone)
        first_on.setdefault(local.date(), slot)
    assert first_on[datetime.date(2026, 3, 27)].starts_at == at(2026, 3, 27, 9, 0)
    assert first_on[datetime.date(2026, 3, 30)].starts_at == at(2026, 3, 30, 8, 0)
    assert {slot.starts_at.astimezone(oslo.zone).time() for slot in friday + monday} >= {datetime.time(10)}
    # and no slot is offered on Sunday, the day of the change, when the store is closed
    assert not [slot for slot in friday if slot.starts_at.astimezone(oslo.zone).date() == datetime.date(2026, 3, 29)]


def test_the_order_page_and_the_ready_email_give_oslo_times(
    client, monkeypatch, oslo, mailoutbox, settings, django_capture_on_commit_callbacks
):
    # given an order for the first pickup slot after the spring change, placed before it
    settings.SHOP_CURRENCY = "NOK"
    mittens = ProductFactory(price=Decimal("299"))
    StockLevelFactory(store=oslo, product=mittens, on_hand=3)
    monkeypatch.setattr("django.utils.timezone.now", lambda: at(2026, 3, 27, 14, 5))  # 15:05 in Oslo (CET)
    slot = next(s for s in available_slots(oslo, now=at(2026, 3, 30, 6, 0)) if s.starts_at == at(2026, 3, 30, 8, 0))
    order = place_pickup_order(
        checkout=ConfirmedCheckout.at_current_prices(
            quantities={mittens.pk: 1},
            store=oslo,
            contact=Contact(name="Kari", email="kari@example.com", phone="+47 22 00 00 00"),
            pickup_slot=slot.starts_at,
        )
    )

    # when the shopper opens the order page and the store marks it ready
    html = client.get(order.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        mark_ready_for_pickup(order=order)

    # then the timeline shows 15:05 (Oslo), not 10:05 (New York), and the slot is 10:00–10:30
    assert "27 March 2026, 15:05" in html and "10:05" not in html
    assert "10:00–10:30" in html
    email = next(message for message in mailoutbox if order.number in message.subject)
    assert "10:00–10:30" in email.body
    assert "Monday 30 March" in email.body


@pytest.mark.parametrize(
    ("language", "until"),
    [
        ("en", "Please collect it by Monday 26 October, 11:00 (store time)."),
        ("nb", "26. oktober kl. 11:00"),
        ("is", "26. október kl. 11:00"),
    ],
)
def test_the_reminder_gives_the_last_pickup_time_on_oslos_clock_after_the_autumn_change(
    monkeypatch, oslo, settings, django_capture_on_commit_callbacks, language, until
):
    # given an Oslo order marked ready on Saturday 24 October at 12:00 Oslo time (CEST, 10:00 UTC),
    # at a store that cancels ready orders after two days
    from pickup.emails import pickup_reminder_email
    from pickup.tests.factories import PickupSettingsFactory

    PickupSettingsFactory(store=oslo, expire_after_days=2)
    mittens = ProductFactory(price=Decimal("299"))
    StockLevelFactory(store=oslo, product=mittens, on_hand=3)
    monkeypatch.setattr("django.utils.timezone.now", lambda: at(2026, 10, 24, 10, 0))
    order = place_pickup_order(
        checkout=ConfirmedCheckout.at_current_prices(
            quantities={mittens.pk: 1},
            store=oslo,
            contact=Contact(name="Kari", email="kari@example.com", phone="+47 22 00 00 00"),
            language=language,
        )
    )
    with django_capture_on_commit_callbacks(execute=True):
        mark_ready_for_pickup(order=order)

    # when the reminder is written (the server keeps New York time)
    email = pickup_reminder_email(order)

    # then the last moment to collect, 48 hours on (10:00 UTC on Monday 26 October), is given as
    # Oslo's clock reads it after the change back to CET: 11:00, not 12:00 (CEST) nor 06:00 (New York)
    assert until in email.body
    assert until in email.alternatives[0][0]
