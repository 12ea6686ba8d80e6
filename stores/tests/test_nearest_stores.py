"""The store locator finds the nearest stores exactly, from a bounding box instead of every store."""

import random
from decimal import Decimal

import factory
import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from stores.models import Store
from stores.selectors import distance_km, nearest_stores
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def scatter(count, *, rng, south, north, west, east):
    return StoreFactory.create_batch(
        count,
        latitude=factory_coordinate(rng, south, north),
        longitude=factory_coordinate(rng, west, east),
        open_every_day=False,
    )


def factory_coordinate(rng, low, high):
    return factory.LazyFunction(lambda: Decimal(f"{rng.uniform(low, high):.6f}"))


def brute_force(latitude, longitude, limit):
    ranked = sorted(
        Store.objects.all(), key=lambda store: distance_km(latitude, longitude, store.latitude, store.longitude)
    )
    return [store.pk for store in ranked[:limit]]


@pytest.mark.parametrize(
    "point",
    [(64.1466, -21.9426), (59.91, 10.75), (70.0, 25.0), (0.0, 0.0), (-40.0, 179.9), (89.9, 0.0)],
    ids=["Reykjavík", "Oslo", "far north of every store", "far from every store", "by the date line", "the pole"],
)
def test_the_nearest_stores_are_exactly_those_every_store_would_give(point):
    # given stores in Iceland, in Norway and a few either side of the date line
    rng = random.Random(5)
    scatter(60, rng=rng, south=63.3, north=66.5, west=-24.0, east=-13.5)
    scatter(60, rng=rng, south=58.0, north=63.5, west=5.0, east=12.0)
    scatter(4, rng=rng, south=-41.0, north=-39.0, west=179.0, east=180.0)
    scatter(4, rng=rng, south=-41.0, north=-39.0, west=-180.0, east=-179.0)

    # when
    found = nearest_stores(latitude=point[0], longitude=point[1], limit=10)

    # then
    assert [item.store.pk for item in found] == brute_force(*point, 10)
    assert [item.distance_km for item in found] == sorted(item.distance_km for item in found)


def test_the_locator_reads_the_stores_once_then_finds_the_nearest_without_a_query(django_assert_num_queries):
    # given 200 stores in Reykjavík and 200 in Oslo
    rng = random.Random(9)
    scatter(200, rng=rng, south=64.10, north=64.16, west=-22.0, east=-21.8)
    scatter(200, rng=rng, south=59.90, north=59.95, west=10.7, east=10.8)

    # when / then: the store directory is read once (the stores, their opening hours and special
    # dates), then no query
    with django_assert_num_queries(3):
        nearest_stores(latitude=59.91, longitude=10.75, limit=10)
    with django_assert_num_queries(0):
        found = nearest_stores(latitude=64.1466, longitude=-21.9426, limit=10)
    assert len(found) == 10
    assert all(store.latitude < 65 for store in (item.store for item in found))


def test_a_store_closed_or_opened_in_the_admin_shows_in_the_locator_at_once(
    admin_user, django_capture_on_commit_callbacks
):
    # given the locator found the store on Laugavegur nearest
    laugavegur = StoreFactory(latitude=Decimal("64.145800"), longitude=Decimal("-21.929000"))
    StoreFactory(latitude=Decimal("65.683300"), longitude=Decimal("-18.100000"))
    assert nearest_stores(latitude=64.1466, longitude=-21.9426, limit=1)[0].store == laugavegur
    request = RequestFactory().post("/admin/")
    request.user = admin_user

    # when head office closes it in the admin and opens one in Kringlan
    laugavegur.is_active = False
    kringlan = StoreFactory.build(name="Kringlan", latitude=Decimal("64.130000"), longitude=Decimal("-21.896000"))
    with django_capture_on_commit_callbacks(execute=True):
        site._registry[Store].save_model(request, laugavegur, form=None, change=True)
        site._registry[Store].save_model(request, kringlan, form=None, change=False)

    # then
    assert nearest_stores(latitude=64.1466, longitude=-21.9426, limit=1)[0].store == kringlan
