"""Store pages (issue 17): today's closing time, special dates and closures (which also close
pickup times), parking, curbside instructions, a map and directions."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import StoreManagerFactory
from pickup.slots import available_slots, available_slots_by_store, slot_grid
from pickup.tests.factories import PickupSettingsFactory
from stores.models import OpeningHours, SpecialOpeningHours, Store
from stores.opening import opening_status, specials_by_date
from stores.selectors import store_directory, store_listings
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
# Monday 23 November 2026 in Oslo; Christmas Eve is a Thursday.
MONDAY = datetime.date(2026, 11, 23)


def at(day, hour, minute=0):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=OSLO)


@pytest.fixture
def oslo():
    """Open Monday to Saturday 10–19, closed on Sunday."""
    store = StoreFactory(
        name="Karl Johan", slug="karl-johan", city="Oslo", country="NO", time_zone="Europe/Oslo", open_every_day=False
    )
    OpeningHours.objects.bulk_create(
        OpeningHours(store=store, weekday=day, opens=datetime.time(10), closes=datetime.time(19)) for day in range(6)
    )
    return store


def status(store, now):
    specials = specials_by_date(SpecialOpeningHours.objects.filter(store=store))
    return opening_status(store, now=now, weekly=list(OpeningHours.objects.filter(store=store)), specials=specials)


def special(store, day, opens=None, closes=None, reason=""):
    return SpecialOpeningHours.objects.create(store=store, date=day, opens=opens, closes=closes, reason=reason)


def test_the_status_says_when_the_store_closes_today_or_opens_next(oslo):
    # open: until when
    assert status(oslo, at(MONDAY, 12)).closes_at == datetime.time(19)
    # before opening: today at 10:00
    morning = status(oslo, at(MONDAY, 8))
    assert (morning.is_open, morning.days_until_opening, morning.opens_at) == (False, 0, datetime.time(10))
    # after closing: tomorrow at 10:00
    evening = status(oslo, at(MONDAY, 20))
    assert (evening.is_open, evening.days_until_opening, evening.opens_at) == (False, 1, datetime.time(10))
    # Saturday evening: closed on Sunday, so Monday, two days on
    saturday = status(oslo, at(MONDAY + datetime.timedelta(days=5), 20))
    assert (saturday.opens_on, saturday.days_until_opening) == (MONDAY + datetime.timedelta(days=7), 2)


def test_a_special_date_changes_the_days_hours_or_closes_the_store(oslo):
    # given shorter hours on Tuesday and stock-taking on Wednesday
    tuesday, wednesday = MONDAY + datetime.timedelta(days=1), MONDAY + datetime.timedelta(days=2)
    special(oslo, tuesday, datetime.time(12), datetime.time(14), "Christmas party")
    special(oslo, wednesday, reason="Stock-taking")

    # then on Tuesday at 11 it opens at noon and at 13 it is open until 14:00
    assert status(oslo, at(tuesday, 11)).opens_at == datetime.time(12)
    during = status(oslo, at(tuesday, 13))
    assert (during.is_open, during.closes_at, during.today_special.reason) == (
        True,
        datetime.time(14),
        "Christmas party",
    )
    # and on Wednesday at noon it is closed, and opens on Thursday
    closed = status(oslo, at(wednesday, 12))
    assert (closed.is_open, closed.opens_on, closed.today_special.reason) == (
        False,
        wednesday + datetime.timedelta(1),
        "Stock-taking",
    )
    # and on Tuesday evening the next opening skips Wednesday
    assert status(oslo, at(tuesday, 20)).days_until_opening == 2


def test_a_closure_and_special_hours_close_pickup_times_on_those_dates(oslo):
    # given 60-minute slots, three days ahead, Tuesday 12–14 only and Wednesday closed
    PickupSettingsFactory(store=oslo, slot_minutes=60, lead_time_minutes=0, days_ahead=3)
    tuesday, wednesday = MONDAY + datetime.timedelta(days=1), MONDAY + datetime.timedelta(days=2)
    special(oslo, tuesday, datetime.time(12), datetime.time(14))
    special(oslo, wednesday, reason="Stock-taking")

    # when a shopper checks out early on Monday
    now = at(MONDAY, 6)
    grid = [starts.astimezone(OSLO) for starts, _ends in slot_grid(oslo, now=now)]
    slots = [slot.starts_at.astimezone(OSLO) for slot in available_slots(oslo, now=now)]
    by_store = [slot.starts_at.astimezone(OSLO) for slot in available_slots_by_store([oslo], now=now)[oslo.pk]]

    # then Monday has its week's hours, Tuesday only 12 and 13, Wednesday nothing
    assert [(moment.day, moment.hour) for moment in grid] == [(23, hour) for hour in range(10, 19)] + [
        (24, 12),
        (24, 13),
    ]
    assert slots == by_store == grid


def test_the_special_hours_of_several_stores_are_read_in_one_query(django_assert_num_queries, oslo):
    # given three more stores, each with a closure on Monday
    others = [StoreFactory() for _ in range(3)]
    for store in [oslo, *others]:
        PickupSettingsFactory(store=store, lead_time_minutes=0)
        special(store, MONDAY)
    stores = list(Store.objects.select_related("pickup_settings").prefetch_related("opening_hours"))

    # when / then: the special dates and the booked counts, one query each
    with django_assert_num_queries(2):
        found = available_slots_by_store(stores, now=at(MONDAY, 6))
    assert all(slot.starts_at.astimezone(OSLO).date() != MONDAY for slots in found.values() for slot in slots)


def test_the_store_page_says_today_is_a_closure_and_when_the_store_opens(client):
    # given a store open all day every day, closed today for stock-taking
    store = StoreFactory(slug="laugavegur", open_every_day=False)
    OpeningHours.objects.bulk_create(
        OpeningHours(store=store, weekday=day, opens=datetime.time(0), closes=datetime.time(23, 59)) for day in range(7)
    )
    today = store.local_now().date()
    special(store, today, reason="Stock-taking")
    special(store, today + datetime.timedelta(days=3), datetime.time(11), datetime.time(15), "Public holiday")

    # when
    html = client.get(store.get_absolute_url()).content.decode()

    # then
    assert "Closed now · opens tomorrow at 00:00" in html
    assert "Today: Stock-taking" in html
    assert "Public holiday" in html and "11:00–15:00" in html


def test_the_store_page_says_until_when_the_store_is_open_in_icelandic(client):
    # given a store open all day every day
    store = StoreFactory(slug="laugavegur", open_every_day=False)
    OpeningHours.objects.bulk_create(
        OpeningHours(store=store, weekday=day, opens=datetime.time(0), closes=datetime.time(23, 59)) for day in range(7)
    )

    # when an Icelandic shopper reads its page
    html = client.get(store.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="is").content.decode()

    # then
    assert "Opið til 23:59" in html


def test_the_store_page_shows_parking_curbside_a_map_and_directions(client, settings):
    # given a store with parking and curbside pickup
    store = StoreFactory(slug="kringlan", parking="Free parking in the garage under the mall.")
    PickupSettingsFactory(store=store, offers_curbside=True, curbside_instructions="Bays 1–4 by door 3.")

    # when
    html = client.get(store.get_absolute_url()).content.decode()

    # then
    assert "Free parking in the garage under the mall." in html
    assert "Bays 1–4 by door 3." in html
    assert 'data-tiles="https://tile.openstreetmap.org/{z}/{x}/{y}.png"' in html
    assert 'data-lat="64.145800"' in html
    assert "leaflet.js" in html
    assert f"https://www.openstreetmap.org/directions?to={store.latitude}%2C{store.longitude}" in html


def test_parking_and_the_reason_for_special_hours_are_in_the_shoppers_language(client):
    # given a store whose staff wrote its parking and a holiday in English and Icelandic only
    store = StoreFactory(
        slug="kringlan", parking_en="Free parking in the garage.", parking_is="Ókeypis stæði í húsinu."
    )
    day = store.local_now().date() + datetime.timedelta(days=5)
    SpecialOpeningHours.objects.create(store=store, date=day, reason_en="Public holiday", reason_is="Frídagur")

    # when Icelandic and Norwegian shoppers read its page
    icelandic = client.get(store.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="is").content.decode()
    norwegian = client.get(store.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="nb").content.decode()

    # then each reads their language, or the English where nothing was written in theirs
    assert "Ókeypis stæði í húsinu." in icelandic and "Frídagur" in icelandic
    assert "Free parking in the garage." in norwegian and "Public holiday" in norwegian


def test_without_tiles_the_store_page_has_no_map_and_still_says_where_the_store_is(client, settings):
    settings.MAP_TILES_URL = ""
    store = StoreFactory(slug="kringlan")
    PickupSettingsFactory(store=store, offers_curbside=False)

    html = client.get(store.get_absolute_url()).content.decode()

    assert "data-store-map" not in html and "leaflet" not in html
    assert 'data-testid="directions"' in html and 'data-testid="address"' in html
    assert "Curbside pickup" not in html


@pytest.mark.parametrize("specials", [1, 40])
def test_the_store_page_costs_the_same_queries_however_many_special_dates(client, django_assert_num_queries, specials):
    # given a store with 1 or 40 special dates to come
    store = StoreFactory(slug="laugavegur")
    today = timezone.now().date()
    SpecialOpeningHours.objects.bulk_create(
        SpecialOpeningHours(store=store, date=today + datetime.timedelta(days=n), reason=f"Closed {n}")
        for n in range(specials)
    )

    # when / then: the store, its hours, its special dates, its pickup settings
    with django_assert_num_queries(4):
        response = client.get(store.get_absolute_url())
    assert response.status_code == 200


def test_a_manager_closes_their_store_for_a_day_in_the_store_admin_and_pickup_follows(client):
    # given Guðrún runs Laugavegur
    store = StoreFactory(slug="laugavegur")
    client.force_login(StoreManagerFactory(stores=[store]))
    url = reverse("admin:stores_store_change", args=[store.pk])
    page = client.get(url)
    assert "Special opening hours and closures" in page.content.decode()
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    closed_on = store.local_now().date() + datetime.timedelta(days=2)

    # when she adds a stock-taking day and saves the store
    response = client.post(
        url,
        data
        | management_form("opening_hours", 0)
        | management_form("pickup_settings", 0, maximum=1)
        | management_form("special_hours", 1)
        | {
            "special_hours-0-date": closed_on.isoformat(),
            "special_hours-0-reason_en": "Stock-taking",
            "special_hours-0-reason_is": "Vörutalning",
        },
    )

    # then the closure is saved, and no pickup time is offered that day
    assert response.status_code == 302, response.context["errors"] if response.context else response
    closure = SpecialOpeningHours.objects.get(store=store)
    assert (closure.date, closure.is_closed, closure.reason_en, closure.reason_is) == (
        closed_on,
        True,
        "Stock-taking",
        "Vörutalning",
    )
    days = {slot.starts_at.astimezone(store.zone).date() for slot in available_slots(store)}
    assert closed_on not in days and closed_on + datetime.timedelta(days=1) in days


def test_special_hours_need_both_times_or_none(admin_client):
    store = StoreFactory(slug="laugavegur")
    url = reverse("admin:stores_store_change", args=[store.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["managers"] = []

    response = admin_client.post(
        url,
        data
        | management_form("opening_hours", 0)
        | management_form("pickup_settings", 0, maximum=1)
        | management_form("special_hours", 1)
        | {"special_hours-0-date": "2026-12-24", "special_hours-0-opens": "10:00"},
    )

    assert response.status_code == 200
    assert "Give both the opening and the closing time, or neither for a closed day." in response.content.decode()
    assert not SpecialOpeningHours.objects.exists()


def management_form(prefix, total, *, maximum=1000):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": str(maximum),
    }


def test_a_store_closed_today_is_not_open_now_on_the_store_list_and_in_availability(client):
    # given two stores open all day every day, one of them closed today for stock-taking
    open_store, closed_store = (StoreFactory(open_every_day=False) for _ in range(2))
    for store in (open_store, closed_store):
        OpeningHours.objects.bulk_create(
            OpeningHours(store=store, weekday=day, opens=datetime.time(0), closes=datetime.time(23, 59))
            for day in range(7)
        )
    special(closed_store, closed_store.local_now().date(), reason="Stock-taking")

    # when the store list is read (the store directory decides "open now" there, on product
    # pages and in the availability JSON)
    listings = {row.store.pk: row.is_open for row in store_listings(directory=store_directory())}

    # then
    assert listings == {open_store.pk: True, closed_store.pk: False}
