"""Which stores deliver to an address: postcode checks, zones, fees, the earliest window, and
what a lookup costs in queries as stores and zones grow."""

import datetime
from decimal import Decimal

import pytest

from delivery.models import ZoneKind
from delivery.selectors import PostcodeProblem, delivery_options, forget_directory
from delivery.tests.factories import DeliveryZoneFactory, evening_windows, next_monday
from stores.models import SpecialOpeningHours
from stores.tests.factories import PostcodeLocationFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def postcodes():
    return {
        "101": PostcodeLocationFactory(country="IS", postcode="101", place_name="Reykjavík"),
        "107": PostcodeLocationFactory(
            country="IS",
            postcode="107",
            place_name="Reykjavík",
            latitude=Decimal("64.1426"),
            longitude=Decimal("-21.9620"),
        ),
        "220": PostcodeLocationFactory(
            country="IS",
            postcode="220",
            place_name="Hafnarfjörður",
            latitude=Decimal("64.0671"),
            longitude=Decimal("-21.9377"),
        ),
        "600": PostcodeLocationFactory(
            country="IS",
            postcode="600",
            place_name="Akureyri",
            latitude=Decimal("65.6835"),
            longitude=Decimal("-18.1002"),
        ),
        "0150": PostcodeLocationFactory(
            country="NO", postcode="0150", place_name="Oslo", latitude=Decimal("59.9100"), longitude=Decimal("10.7500")
        ),
    }


@pytest.fixture
def laugavegur(postcodes):
    store = StoreFactory(name="Laugavegur")
    DeliveryZoneFactory(
        store=store, name="Miðbær", postcodes="101-108", fee=Decimal("990"), free_above=Decimal("15000")
    )
    evening_windows(store)
    return store


def test_a_store_delivering_to_the_postcode_is_offered_with_its_fee_and_earliest_window(laugavegur):
    # given Monday 10:00, a 2-hour lead time and evening windows with a 15:00 cut-off
    now = next_monday(10)

    # when a shopper in 107 asks
    lookup = delivery_options(postcode="107", country="IS", order_value=Decimal("5000"), now=now)

    # then Laugavegur delivers for 990 tonight, 17:00-19:00
    (option,) = lookup.options
    assert option.store == laugavegur
    assert option.fee == Decimal("990")
    assert option.earliest.starts_at == now.replace(hour=17)
    assert option.earliest.ends_at == now.replace(hour=19)
    assert option.can_deliver
    assert lookup.located.place_name == "Reykjavík"


def test_delivery_is_free_from_the_zones_threshold(laugavegur):
    (option,) = delivery_options(
        postcode="101", country="IS", order_value=Decimal("15000"), now=next_monday(10)
    ).options
    assert option.fee == Decimal("0")


def test_after_the_cut_off_the_earliest_window_is_tomorrows(laugavegur):
    now = next_monday(15, 30)
    (option,) = delivery_options(postcode="101", country="IS", now=now).options
    assert option.earliest.starts_at == now.replace(hour=17, minute=0) + datetime.timedelta(days=1)


def test_the_lead_time_pushes_the_window_back(laugavegur):
    laugavegur.delivery_zones.update(lead_time_minutes=8 * 60)
    forget_directory()
    now = next_monday(10)
    (option,) = delivery_options(postcode="101", country="IS", now=now).options
    assert option.earliest.starts_at == now.replace(hour=17) + datetime.timedelta(days=1)


def test_no_window_on_the_stores_closed_day(laugavegur):
    now = next_monday(10)
    SpecialOpeningHours.objects.create(store=laugavegur, date=now.date(), reason="Stock-taking")
    forget_directory()
    (option,) = delivery_options(postcode="101", country="IS", now=now).options
    assert option.earliest.starts_at.date() == now.date() + datetime.timedelta(days=1)
    assert all(window.starts_at.date() != now.date() for window in option.windows)


def test_an_order_below_the_zones_minimum_is_shown_but_cannot_be_delivered(laugavegur):
    laugavegur.delivery_zones.update(minimum_order=Decimal("3000"))
    forget_directory()
    (option,) = delivery_options(postcode="101", country="IS", order_value=Decimal("2990"), now=next_monday(10)).options
    assert option.below_minimum
    assert not option.can_deliver


def test_a_radius_zone_reaches_postcodes_within_its_distance(postcodes):
    # given a Hafnarfjörður store delivering within 8 km (Reykjavík 101 is about 9 km away)
    store = StoreFactory(name="Fjörður", latitude=Decimal("64.0671"), longitude=Decimal("-21.9377"))
    DeliveryZoneFactory(store=store, kind=ZoneKind.RADIUS, postcodes="", radius_km=Decimal("8"))
    evening_windows(store)

    assert [option.store for option in delivery_options(postcode="220", country="IS").options] == [store]
    with pytest.raises(PostcodeProblem):
        delivery_options(postcode="101", country="IS")


def test_several_zones_of_one_store_give_one_option_at_the_cheapest_fee(laugavegur):
    DeliveryZoneFactory(store=laugavegur, name="Vesturbær", postcodes="107", fee=Decimal("490"))
    forget_directory()
    (option,) = delivery_options(postcode="107", country="IS", now=next_monday(10)).options
    assert option.fee == Decimal("490")


def test_options_are_limited_to_the_stores_with_the_cart_in_stock(laugavegur):
    other = StoreFactory(name="Kringlan")
    DeliveryZoneFactory(store=other, postcodes="101")
    evening_windows(other)
    forget_directory()
    lookup = delivery_options(postcode="101", country="IS", store_ids=[other.pk], now=next_monday(10))
    assert [option.store for option in lookup.options] == [other]


@pytest.mark.parametrize(
    ("typed", "country", "message"),
    [
        ("", "IS", "Enter the postcode of the delivery address."),
        ("   ", "IS", "Enter the postcode of the delivery address."),
        ("1O1", "IS", "“1O1” is not an Icelandic postcode: they have 3 digits."),
        ("10", "IS", "“10” is not an Icelandic postcode: they have 3 digits."),
        ("0150", "IS", "0150 is a postcode in Norway, not in Iceland. Check the postcode or the country."),
        ("101", "NO", "101 is a postcode in Iceland, not in Norway. Check the postcode or the country."),
        ("12", "NO", "“12” is not a Norwegian postcode: they have 4 digits."),
        ("199", "IS", "We do not know the postcode 199 in Iceland. Please check it."),
    ],
)
def test_a_postcode_that_cannot_be_delivered_to_says_why(laugavegur, typed, country, message):
    with pytest.raises(PostcodeProblem) as refused:
        delivery_options(postcode=typed, country=country)
    assert str(refused.value).startswith(message)


def test_an_unknown_postcode_names_the_store_near_the_nearest_known_one_without_a_distance(laugavegur):
    # given 219 is not in the table; 220 (Hafnarfjörður) is the nearest number known: where 219
    # is is only guessed, so no distance is named
    with pytest.raises(PostcodeProblem) as refused:
        delivery_options(postcode="219", country="IS")
    assert str(refused.value) == (
        "We do not know the postcode 219 in Iceland. Please check it. You can pick up your order at Laugavegur."
    )


def test_outside_every_zone_the_nearest_pickup_store_is_named(laugavegur):
    # given Akureyri, far outside Laugavegur's zone, with a store there that offers pickup only
    StoreFactory(name="Glerártorg", latitude=Decimal("65.6885"), longitude=Decimal("-18.1100"))

    with pytest.raises(PostcodeProblem) as refused:
        delivery_options(postcode="600", country="IS")

    assert str(refused.value) == (
        "No store delivers to 600 Akureyri yet. You can pick up your order at Glerártorg (1 km away)."
    )


def _stores_delivering_to_101(count):
    for index in range(count):
        store = StoreFactory(name=f"Store {index}")
        DeliveryZoneFactory(store=store, postcodes="101-108, 110")
        DeliveryZoneFactory(store=store, postcodes="200-299", fee=Decimal("1990"))
        DeliveryZoneFactory(store=store, kind=ZoneKind.RADIUS, postcodes="", radius_km=Decimal("5"))
        evening_windows(store, capacity=2)


@pytest.mark.parametrize("stores", [2, 30])
def test_a_lookup_is_one_query_whatever_the_number_of_stores_and_zones(postcodes, stores, django_assert_num_queries):
    # given stores, each with three zones covering 101 and windows every evening
    _stores_delivering_to_101(stores)
    now = next_monday(10)
    delivery_options(postcode="101", country="IS", now=now)  # the directories are built once
    with pytest.raises(PostcodeProblem):
        delivery_options(postcode="600", country="IS", now=now)

    # when shoppers look up addresses
    with django_assert_num_queries(1):
        lookup = delivery_options(postcode="101", country="IS", now=now)
    # then every store is an option, in one query (the bookings), and none for nowhere covered
    assert len(lookup.options) == stores
    with django_assert_num_queries(0), pytest.raises(PostcodeProblem):
        delivery_options(postcode="600", country="IS", now=now)
    with django_assert_num_queries(0), pytest.raises(PostcodeProblem):
        delivery_options(postcode="1O1", country="IS", now=now)


def test_the_bookings_a_lookup_counts_are_the_orms(laugavegur):
    # given deliveries at two stores in several windows, one cancelled, one outside the grids
    from django.db.models import Count

    from catalog.tests.factories import ProductFactory
    from delivery.models import Delivery
    from delivery.selectors import _bookings
    from delivery.tests.factories import place_delivery
    from delivery.windows import Window
    from orders.models import CancelReason, FulfilmentStatus
    from orders.services import cancel_order
    from stores.tests.factories import StockLevelFactory

    kringlan = StoreFactory(name="Kringlan")
    DeliveryZoneFactory(store=kringlan, postcodes="101-108")
    evening_windows(kringlan)
    now = next_monday(10)
    product = ProductFactory(price=Decimal("1000"))
    for store in (laugavegur, kringlan):
        StockLevelFactory(store=store, product=product, on_hand=20)
    placed = [
        place_delivery(
            store=store, products_and_quantities=[(product, 1)], starts_at=now.replace(hour=17) + shift, now=now
        )
        for store, shift in (
            (laugavegur, datetime.timedelta(0)),
            (laugavegur, datetime.timedelta(0)),
            (laugavegur, datetime.timedelta(days=1)),
            (kringlan, datetime.timedelta(days=1)),
            (kringlan, datetime.timedelta(days=6)),
        )
    ]
    cancel_order(order=placed[1].fulfilment.order, reason=CancelReason.SHOPPER)

    def window(day, hour):
        starts = now.replace(hour=hour) + datetime.timedelta(days=day)
        return Window(starts_at=starts, ends_at=starts + datetime.timedelta(hours=2), cutoff_at=starts, capacity=9)

    grids = {laugavegur.pk: [window(0, 17), window(1, 17)], kringlan.pk: [window(1, 17), window(2, 17)], 0: []}

    # when a lookup counts them, then it finds what the ORM finds
    found = _bookings(grids)
    windows = [window for grid in grids.values() for window in grid]
    expected = {}
    for store_id, starts_at, ends_at, count in (
        Delivery.objects.filter(
            store_id__in=[laugavegur.pk, kringlan.pk],
            window_start__lt=max(window.ends_at for window in windows),
            window_end__gt=min(window.starts_at for window in windows),
        )
        .exclude(fulfilment__status=FulfilmentStatus.CANCELLED)
        .values("store_id", "window_start", "window_end")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("store_id", "window_start", "window_end", "n")
    ):
        expected.setdefault(store_id, []).append((starts_at, ends_at, count))
    assert {store: sorted(rows) for store, rows in found.items()} == {
        store: sorted(rows) for store, rows in expected.items()
    }
    assert sum(count for rows in found.values() for _start, _end, count in rows) == 3
    assert _bookings({laugavegur.pk: []}) == {}
