"""Nearest stores with their opening status, scoped to the channel."""

import pytest

from stores.tests.factories import StoreFactory

from .conftest import stores_changed_now

pytestmark = pytest.mark.django_db


def test_every_channel_store_with_its_opening_status(kiosk_client, world):
    stores = kiosk_client.get("/api/v1/stores").json()

    assert [store["slug"] for store in stores] == ["kringlan", "laugavegur"]
    kringlan = stores[0]
    # closed all day today (the holiday): not open, and the next opening is given
    assert kringlan["open_now"] is False and kringlan["closes_at"] is None and kringlan["opens_at"] is not None
    assert kringlan["distance_km"] is None
    laugavegur = stores[1]
    assert (laugavegur["open_now"] and laugavegur["closes_at"]) or (
        not laugavegur["open_now"] and laugavegur["opens_at"]
    )


def test_nearest_to_a_postcode_first(kiosk_client, world):
    stores = kiosk_client.get("/api/v1/stores", {"postcode": "101", "limit": 1}).json()
    assert [store["slug"] for store in stores] == ["laugavegur"]
    assert stores[0]["distance_km"] < 1

    unknown = kiosk_client.get("/api/v1/stores", {"postcode": "999"})
    assert unknown.status_code == 404 and "999" in unknown.json()["detail"]


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"postcode": "101", "lat": 64.14, "lon": -21.9}, ["postcode", "lat", "lon"]),
        ({"lat": 64.14}, ["lon"]),
        ({"lon": -21.9}, ["lat"]),
    ],
)
def test_a_postcode_and_a_point_together_or_half_a_point_are_refused(kiosk_client, world, query, fields):
    refused = kiosk_client.get("/api/v1/stores", query)

    assert refused.status_code == 422
    assert [error["field"] for error in refused.json()["errors"]] == fields


def test_an_unknown_query_parameter_is_a_field_error(kiosk_client, world):
    refused = kiosk_client.get("/api/v1/stores", {"limt": 3})

    assert refused.status_code == 422
    assert [error["field"] for error in refused.json()["errors"]] == ["limt"]


def test_nearest_to_a_point_never_another_channels_store(app_client, world):
    stores = app_client.get("/api/v1/stores", {"lat": 64.14, "lon": -21.9}).json()
    assert [store["slug"] for store in stores] == ["grunerlokka"]


def test_query_count_stays_the_same_as_stores_grow(kiosk_client, world, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        kiosk_client.get("/api/v1/stores", {"limit": 50})
    for i in range(15):
        world["kiosk"].stores.add(StoreFactory(slug=f"grow-{i}"))
    stores_changed_now()
    # both times the store directory is built (three queries), then the same number whatever the stores
    with django_assert_num_queries(len(small)):
        assert len(kiosk_client.get("/api/v1/stores", {"limit": 50}).json()) == 17
    with django_assert_num_queries(len(small) - 3):
        assert len(kiosk_client.get("/api/v1/stores", {"limit": 50}).json()) == 17
