"""The shopper's store pages: the list with nearest stores, a store's page and choosing "my store"."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from stores.models import OpeningHours
from stores.selectors import MY_STORE_SESSION_KEY, distance_km
from stores.tests.factories import PostcodeLocationFactory, StoreFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("stores:store_list")
CHOOSE_URL = reverse("stores:choose_store")
MONDAY_0930_UTC = datetime.datetime(2026, 1, 5, 9, 30, tzinfo=datetime.UTC)

# The store list, whatever the number of stores, for a shopper who chose a store: the session,
# my store, and the store directory (the stores, their opening hours and special dates, read once
# per process while the stores do not change).
STORE_LIST_QUERIES = 5
# Nearest stores by postcode: session, my store, the postcode, the store directory.
NEAREST_BY_POSTCODE_QUERIES = 6


@pytest.fixture
def monday_0930_utc(monkeypatch):
    """09:30 in Reykjavík (UTC+0, before the 10:00 opening) is 10:30 in Oslo (UTC+1 in winter)."""
    monkeypatch.setattr("django.utils.timezone.now", lambda: MONDAY_0930_UTC)
    return MONDAY_0930_UTC


def remember_store(client, store):
    session = client.session
    session[MY_STORE_SESSION_KEY] = store.pk
    session.save()


def store_names(response):
    return [listing.store.name for listing in response.context["listings"]]


# ---------- the store list ----------


def test_the_store_list_shows_every_open_for_business_store_with_address_and_pickup(client):
    # given
    StoreFactory(name="Laugavegur", address="Laugavegur 12", postcode="101", city="Reykjavík")
    StoreFactory(name="Outlet", address="Fiskislóð 1", city="Reykjavík", offers_pickup=False)
    StoreFactory(name="Karl Johan", city="Oslo", postcode="0154", time_zone="Europe/Oslo")
    StoreFactory(name="Closed for good", is_active=False)

    # when
    response = client.get(LIST_URL)

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert store_names(response) == ["Karl Johan", "Laugavegur", "Outlet"]
    assert "Laugavegur 12, 101 Reykjavík" in html
    assert "Closed for good" not in html
    assert html.count("No pickup") == 1
    assert html.count('data-testid="choose-store"') == 3
    assert 'data-testid="distance"' not in html


@pytest.mark.parametrize(
    ("currency", "expected"),
    [
        ("ISK", ["Smáralind", "Laugavegur", "Grünerløkka", "Majorstuen"]),
        ("NOK", ["Grünerløkka", "Majorstuen", "Smáralind", "Laugavegur"]),
    ],
)
def test_without_a_location_the_store_list_starts_with_the_shops_own_country(client, settings, currency, expected):
    # given stores in Iceland and in Norway, and a shop selling in ISK or in NOK
    settings.SHOP_CURRENCY = currency
    StoreFactory(name="Laugavegur", city="Reykjavík")
    StoreFactory(name="Smáralind", city="Kópavogur")
    StoreFactory(name="Majorstuen", city="Oslo", country="NO", postcode="0367", time_zone="Europe/Oslo")
    StoreFactory(name="Grünerløkka", city="Oslo", country="NO", postcode="0552", time_zone="Europe/Oslo")

    # when a shopper opens the store list
    response = client.get(LIST_URL)

    # then the home country's stores come first, each country's by city and name
    assert store_names(response) == expected


def test_open_now_is_judged_in_each_stores_own_time_zone(client, monday_0930_utc):
    # given: both open 10:00–18:00 local time
    StoreFactory(name="Karl Johan", city="Oslo", time_zone="Europe/Oslo")
    StoreFactory(name="Laugavegur", city="Reykjavík", time_zone="Atlantic/Reykjavik")

    # when
    response = client.get(LIST_URL)

    # then
    assert [(item.store.name, item.is_open) for item in response.context["listings"]] == [
        ("Karl Johan", True),
        ("Laugavegur", False),
    ]
    cards = response.content.decode().split('data-testid="store-card"')[1:]
    assert "Open now" in cards[0]
    assert "Closed now" in cards[1]


def test_nearest_stores_by_postcode_are_sorted_by_distance_and_show_it_in_km(client):
    # given: the shopper lives in 101 Reykjavík
    home = PostcodeLocationFactory(postcode="101", latitude=Decimal("64.1466"), longitude=Decimal("-21.9426"))
    oslo = StoreFactory(
        name="Karl Johan", city="Oslo", country="NO", latitude=Decimal("59.9127"), longitude=Decimal("10.7461")
    )
    kringlan = StoreFactory(name="Kringlan", latitude=Decimal("64.1300"), longitude=Decimal("-21.8950"))
    laugavegur = StoreFactory(name="Laugavegur", latitude=Decimal("64.1458"), longitude=Decimal("-21.9290"))

    # when: the shopper asks for the stores near them, then for every country's
    response = client.get(LIST_URL, {"postcode": "101"})
    everywhere = client.get(LIST_URL, {"postcode": "101", "everywhere": "on"})

    # then: Iceland's stores, nearest first; Oslo, 1,700 km away, only when asked for
    html = response.content.decode()
    assert store_names(response) == ["Laugavegur", "Kringlan"]
    expected = [
        distance_km(home.latitude, home.longitude, store.latitude, store.longitude) for store in (laugavegur, kringlan)
    ]
    assert [item.distance_km for item in response.context["listings"]] == pytest.approx(expected)
    assert "0.7 km" in html
    assert "3.0 km" in html
    assert "Karl Johan" not in html
    assert "Stores in Iceland only." in html
    assert 'href="?postcode=101&amp;everywhere=on"' in html
    assert "Stores nearest to 101 Reykjavík" in html
    assert 'value="101"' in html
    assert store_names(everywhere) == ["Laugavegur", "Kringlan", "Karl Johan"]
    assert "1,746.8 km" in everywhere.content.decode()
    assert 'data-testid="only-in-country"' not in everywhere.content.decode()
    assert everywhere.context["listings"][2].distance_km == pytest.approx(
        distance_km(home.latitude, home.longitude, oslo.latitude, oslo.longitude)
    )


def test_a_postcode_with_a_space_is_still_found(client):
    # given
    PostcodeLocationFactory(country="NO", postcode="0150", place_name="Oslo")
    StoreFactory(name="Karl Johan")

    # when
    response = client.get(LIST_URL, {"postcode": " 01 50 "})

    # then
    assert response.context["form"].is_valid()
    assert "Stores nearest to 0150 Oslo" in response.content.decode()


def test_an_unknown_postcode_is_a_clear_error_that_keeps_what_was_typed(client):
    # given
    StoreFactory(name="Laugavegur")

    # when
    response = client.get(LIST_URL, {"postcode": "999"})

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["form"].errors["postcode"] == [
        "We don't know the postcode “999”. Check it, or use your location instead."
    ]
    assert 'data-testid="postcode-error"' in html
    assert 'value="999"' in html
    assert 'aria-invalid="true"' in html
    assert store_names(response) == ["Laugavegur"]
    assert 'data-testid="distance"' not in html


def test_the_browsers_location_finds_the_nearest_stores(client):
    # given: the shopper stands in Oslo
    StoreFactory(name="Laugavegur", latitude=Decimal("64.1458"), longitude=Decimal("-21.9290"))
    StoreFactory(name="Karl Johan", country="NO", latitude=Decimal("59.9127"), longitude=Decimal("10.7461"))
    StoreFactory(name="Bergen", country="NO", latitude=Decimal("60.3913"), longitude=Decimal("5.3221"))

    # when
    response = client.get(LIST_URL, {"lat": "59.9139", "lon": "10.7522"})
    everywhere = client.get(LIST_URL, {"lat": "59.9139", "lon": "10.7522", "everywhere": "on"})

    # then: the country of the nearest store is the shopper's
    html = response.content.decode()
    assert store_names(response) == ["Karl Johan", "Bergen"]
    assert "0.4 km" in html
    assert "Stores nearest to your location" in html
    assert "Stores in Norway only." in html
    assert store_names(everywhere) == ["Karl Johan", "Bergen", "Laugavegur"]


@pytest.mark.parametrize(
    "query",
    [{"postcode": "", "lat": "", "lon": ""}, {"lat": "59.9"}, {"lat": "591", "lon": "10"}, {"lat": "N", "lon": "E"}],
    ids=["nothing entered", "latitude alone", "latitude off the globe", "not numbers"],
)
def test_a_location_the_shop_cannot_use_is_explained_and_all_stores_are_listed(client, query):
    # given
    StoreFactory(name="Laugavegur")

    # when
    response = client.get(LIST_URL, query)

    # then
    assert response.context["form"].non_field_errors()
    assert 'data-testid="nearest-errors"' in response.content.decode()
    assert store_names(response) == ["Laugavegur"]


def test_the_use_my_location_button_is_progressive_enhancement(client):
    # when
    html = client.get(LIST_URL).content.decode()

    # then: hidden until locate.js finds geolocation; the postcode form works without it
    assert '<p class="locate" hidden data-locate>' in html
    assert "js/locate.js" in html
    assert 'name="lat" value=""' in html


@pytest.mark.parametrize("store_count", [10, 200])
def test_the_store_list_costs_the_same_queries_for_10_or_200_stores(client, django_assert_num_queries, store_count):
    # given
    stores = StoreFactory.create_batch(store_count)
    remember_store(client, stores[-1])

    # when / then
    with django_assert_num_queries(STORE_LIST_QUERIES):
        response = client.get(LIST_URL)
    assert len(response.context["listings"]) == store_count


@pytest.mark.parametrize("store_count", [10, 200])
def test_nearest_stores_cost_the_same_queries_for_10_or_200_stores(client, django_assert_num_queries, store_count):
    # given
    PostcodeLocationFactory(postcode="101")
    stores = StoreFactory.create_batch(store_count)
    remember_store(client, stores[-1])

    # when / then
    with django_assert_num_queries(NEAREST_BY_POSTCODE_QUERIES):
        response = client.get(LIST_URL, {"postcode": "101"})
    assert len(response.context["listings"]) == 10


# ---------- a store's page ----------


def test_the_store_page_shows_address_phone_directions_and_pickup(client):
    # given
    store = StoreFactory(
        name="Laugavegur",
        address="Laugavegur 12",
        postcode="101",
        city="Reykjavík",
        phone="+354 555 1234",
        latitude=Decimal("64.145800"),
        longitude=Decimal("-21.929000"),
    )

    # when
    response = client.get(store.get_absolute_url())

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "Laugavegur 12<br>" in html
    assert "101 Reykjavík" in html
    assert 'href="tel:+3545551234"' in html
    assert (
        'href="https://www.openstreetmap.org/directions?to=64.145800%2C-21.929000#map=16/64.145800/-21.929000"' in html
    )
    assert "Order online, pick up here" in html
    assert 'data-testid="choose-store"' in html


@pytest.mark.parametrize(
    ("country", "language", "name"),
    [("IS", "en", "Iceland"), ("IS", "is", "Ísland"), ("NO", "nb", "Norge"), ("NO", "is", "Noregur")],
)
def test_the_store_page_names_the_country_in_the_shoppers_language(client, country, language, name):
    # given a store in Iceland or Norway
    store = StoreFactory(name="Laugavegur", postcode="101", city="Reykjavík", country=country)

    # when a shopper opens its page in their language
    html = client.get(store.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language).content.decode()

    # then its address ends with the country's name, not its code
    address = re.search(r'<address data-testid="address">(.*?)</address>', html, re.S).group(1)
    assert address.split("<br>")[-1].strip() == name


def test_the_store_page_lists_hours_per_weekday_in_the_stores_time_zone(client, monday_0930_utc):
    # given: open Monday 10–18 with a lunch break, and Saturday; closed the rest of the week
    store = StoreFactory(name="Karl Johan", time_zone="Europe/Oslo", open_every_day=False)
    OpeningHours.objects.create(store=store, weekday=0, opens=datetime.time(10), closes=datetime.time(12))
    OpeningHours.objects.create(store=store, weekday=0, opens=datetime.time(13), closes=datetime.time(18))
    OpeningHours.objects.create(store=store, weekday=5, opens=datetime.time(11), closes=datetime.time(16))

    # when
    response = client.get(store.get_absolute_url())

    # then
    html = response.content.decode()
    week = response.context["week"]
    assert [day.label for day in week] == [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ]
    assert "<td>10:00–12:00, 13:00–18:00</td>" in html
    assert "<td>11:00–16:00</td>" in html
    assert html.count("<td>Closed</td>") == 5
    assert "Times are local to the store (Europe/Oslo), where it is now 10:30." in html
    assert '<tr class="is-today" aria-current="date">\n            <th scope="row">Monday</th>' in html
    assert response.context["is_open"] is True
    # "open until" the end of the interval it is in: the lunch break comes first
    assert "Open until 12:00" in html


def test_a_store_is_closed_outside_its_hours(client, monday_0930_utc):
    # given: 09:30 in Reykjavík, it opens at 10
    store = StoreFactory(time_zone="Atlantic/Reykjavik")

    # when
    response = client.get(store.get_absolute_url())

    # then
    assert response.context["is_open"] is False
    assert "Closed now" in response.content.decode()


def test_an_inactive_or_unknown_store_is_not_found(client):
    # given
    closed = StoreFactory(is_active=False)

    # when / then
    assert client.get(closed.get_absolute_url()).status_code == 404
    assert client.get(reverse("stores:store_detail", kwargs={"slug": "atlantis"})).status_code == 404


# ---------- choosing my store ----------


def test_a_guest_chooses_a_store_and_it_is_remembered_in_the_session(client):
    # given
    store = StoreFactory(name="Kringlan")
    product_list = reverse("catalog:product_list")

    # when
    response = client.post(CHOOSE_URL, {"store_id": store.pk, "next": product_list}, follow=True)

    # then
    assert response.redirect_chain == [(product_list, 302)]
    assert client.session[MY_STORE_SESSION_KEY] == store.pk
    html = response.content.decode()
    assert "Kringlan is now your store." in html
    assert "My store: Kringlan" in html


def test_a_logged_in_shopper_has_the_store_remembered_on_the_account_too(client):
    # given
    shopper = UserFactory()
    store = StoreFactory()
    client.force_login(shopper)

    # when
    client.post(CHOOSE_URL, {"store_id": store.pk})

    # then
    shopper.refresh_from_db()
    assert shopper.preferred_store == store
    assert client.session[MY_STORE_SESSION_KEY] == store.pk


def test_the_account_store_is_used_in_a_new_session(client):
    # given: the shopper chose a store on another device
    store = StoreFactory(name="Kringlan")
    shopper = UserFactory(preferred_store=store)
    client.force_login(shopper)

    # when
    html = client.get(LIST_URL).content.decode()

    # then
    assert "My store: Kringlan" in html
    assert 'data-testid="my-store-badge"' in html


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/phish", "//evil.example/", ""], ids=["other host", "scheme-relative", "none"]
)
def test_after_choosing_the_shopper_only_returns_to_pages_of_this_shop(client, next_url):
    # given
    store = StoreFactory()

    # when
    response = client.post(CHOOSE_URL, {"store_id": store.pk, "next": next_url})

    # then
    assert response.status_code == 302
    assert response["Location"] == store.get_absolute_url()


@pytest.mark.parametrize("store_id", ["", "not-a-number", "0", "inactive"])
def test_choosing_a_store_that_does_not_exist_is_a_clear_bad_request(client, store_id):
    # given
    inactive = StoreFactory(is_active=False)
    if store_id == "inactive":
        store_id = inactive.pk

    # when
    response = client.post(CHOOSE_URL, {"store_id": store_id})

    # then
    assert response.status_code == 400
    assert 'data-testid="choose-store-error"' in response.content.decode()
    assert MY_STORE_SESSION_KEY not in client.session


def test_choosing_a_store_needs_a_post(client):
    # given
    store = StoreFactory()

    # when
    response = client.get(CHOOSE_URL, {"store_id": store.pk})

    # then
    assert response.status_code == 405
    assert MY_STORE_SESSION_KEY not in client.session
