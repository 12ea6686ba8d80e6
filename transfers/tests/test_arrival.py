"""When goods sent from one location can be collected at a store (transfers.selectors)."""

import datetime

import pytest
from django.utils import timezone

from stores.models import OpeningHours, SpecialOpeningHours, StoreKind
from stores.tests.factories import StoreFactory
from transfers.models import TransferRoute
from transfers.selectors import transfer_arrival, transfer_arrivals

pytestmark = pytest.mark.django_db

# A Monday at 11:00 in Reykjavík.
MONDAY = datetime.datetime(2026, 11, 30, 11, 0, tzinfo=datetime.UTC)


@pytest.fixture
def kringlan():
    return StoreFactory(name="Kringlan", slug="kringlan")


def test_same_country_without_a_route_takes_the_default_lead_time(settings, kringlan):
    # given no route between Smáralind and Kringlan, and a default of 2 days
    settings.TRANSFER_DEFAULT_LEAD_DAYS = 2
    smaralind = StoreFactory(name="Smáralind")

    # then goods sent on Monday can be collected on Wednesday
    assert transfer_arrival(smaralind, kringlan, now=MONDAY) == datetime.date(2026, 12, 2)


def test_a_route_sets_its_own_lead_time_and_a_closed_route_sends_nothing(kringlan):
    smaralind, akureyri = StoreFactory(name="Smáralind"), StoreFactory(name="Akureyri")
    TransferRoute.objects.create(source=smaralind, destination=kringlan, lead_days=3)
    TransferRoute.objects.create(source=akureyri, destination=kringlan, lead_days=1, is_active=False)

    arrivals = transfer_arrivals(sources=[smaralind, akureyri], destination=kringlan, now=MONDAY)

    assert arrivals == {smaralind.pk: datetime.date(2026, 12, 3)}  # Thursday


def test_another_country_needs_a_route(kringlan):
    oslo = StoreFactory(name="Oslo", country="NO", time_zone="Europe/Oslo")
    assert transfer_arrival(oslo, kringlan, now=MONDAY) is None

    TransferRoute.objects.create(source=oslo, destination=kringlan, lead_days=7)
    assert transfer_arrival(oslo, kringlan, now=MONDAY) == datetime.date(2026, 12, 7)


def test_the_arrival_moves_on_to_a_day_the_destination_is_open(settings):
    # given Kringlan closed on Sundays, and closed for stock-taking on Wednesday 2 December
    settings.TRANSFER_DEFAULT_LEAD_DAYS = 2
    kringlan = StoreFactory(name="Kringlan", open_every_day=False)
    OpeningHours.objects.bulk_create(
        OpeningHours(store=kringlan, weekday=day, opens=datetime.time(10), closes=datetime.time(18)) for day in range(6)
    )
    SpecialOpeningHours.objects.create(store=kringlan, date=datetime.date(2026, 12, 2), reason="Stock-taking")
    smaralind = StoreFactory(name="Smáralind")

    # then Monday's goods are there on Thursday; Friday's wait for Monday past the Sunday
    assert transfer_arrival(smaralind, kringlan, now=MONDAY) == datetime.date(2026, 12, 3)
    friday = MONDAY + datetime.timedelta(days=5)
    assert transfer_arrival(smaralind, kringlan, now=friday) == datetime.date(2026, 12, 7)


def test_the_date_is_the_destinations_own(settings):
    # given 23:30 UTC on Monday, which is already Tuesday in Oslo
    settings.TRANSFER_DEFAULT_LEAD_DAYS = 1
    oslo = StoreFactory(name="Oslo", country="NO", time_zone="Europe/Oslo")
    bergen = StoreFactory(name="Bergen", country="NO", time_zone="Europe/Oslo")
    late = datetime.datetime(2026, 11, 30, 23, 30, tzinfo=datetime.UTC)
    assert transfer_arrival(bergen, oslo, now=late) == datetime.date(2026, 12, 2)


def test_nothing_goes_to_a_warehouse_a_closed_store_or_from_an_inactive_one(kringlan):
    warehouse = StoreFactory(name="Lager", kind=StoreKind.WAREHOUSE, offers_pickup=False, accepts_returns=False)
    shut = StoreFactory(name="Shut", is_active=False)
    no_pickup = StoreFactory(name="No pickup", offers_pickup=False)

    assert transfer_arrival(kringlan, warehouse, now=MONDAY) is None
    assert transfer_arrival(kringlan, shut, now=MONDAY) is None
    assert transfer_arrival(kringlan, no_pickup, now=MONDAY) is None
    assert transfer_arrival(shut, kringlan, now=MONDAY) is None
    assert transfer_arrival(kringlan, kringlan, now=MONDAY) is None
    # a warehouse sends to stores
    assert transfer_arrival(warehouse, kringlan, now=MONDAY) is not None


def test_many_sources_cost_three_queries(django_assert_num_queries, kringlan):
    sources = [StoreFactory(name=f"Store {n}") for n in range(12)]
    TransferRoute.objects.create(source=sources[0], destination=kringlan, lead_days=5)

    with django_assert_num_queries(3):
        arrivals = transfer_arrivals(sources=sources, destination=kringlan, now=timezone.now())

    assert len(arrivals) == 12
