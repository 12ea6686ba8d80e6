"""The cache's version stamps are read once a request (o2o_site.cache.stamps.RequestStampsMiddleware):
a page's parts, its nav and the store directory ask for the same stamps, and one round trip
answers them all; a stamp bumped in the request is the new one for the rest of it; no stamp is
kept from one request to the next."""

import pytest
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory

from o2o_site.cache import stamps


class CountedCache:
    """The real cache, its round trips for stamps counted."""

    def __init__(self, monkeypatch):
        self.round_trips = 0
        real = cache.get_many

        def get_many(keys):
            self.round_trips += 1
            return real(keys)

        monkeypatch.setattr(cache, "get_many", get_many)


def serve(view):
    return stamps.RequestStampsMiddleware(view)(RequestFactory().get("/"))


@pytest.mark.django_db
def test_a_request_reads_each_stamp_once_and_sees_its_own_bump(monkeypatch, django_capture_on_commit_callbacks):
    # given the cache's round trips counted
    counted = CountedCache(monkeypatch)
    seen = []

    def view(request):
        seen.append(stamps.versions(stamps.CATALOG, stamps.STORES))
        seen.append(stamps.versions(stamps.STORES))
        seen.append(stamps.versions(stamps.CATALOG))
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            stamps.bump(stamps.CATALOG)
        seen.append(stamps.versions(stamps.CATALOG, stamps.STORES))
        return HttpResponse()

    # when one request asks for the catalog's and the stores' stamps three times, bumps the
    # catalog's, and asks again
    serve(view)

    # then one round trip answered the first three, and the fourth has the new catalog stamp
    assert counted.round_trips == 1
    first, stores_again, catalog_again, after_bump = seen
    assert stores_again[stamps.STORES] == first[stamps.STORES] == after_bump[stamps.STORES]
    assert catalog_again[stamps.CATALOG] == first[stamps.CATALOG] != after_bump[stamps.CATALOG]
    assert after_bump[stamps.CATALOG] == cache.get(stamps.CATALOG)


@pytest.mark.django_db
def test_no_stamp_is_kept_from_one_request_to_the_next_nor_outside_one(monkeypatch):
    # given a request that read the catalog's stamp
    serve(lambda request: stamps.versions(stamps.CATALOG) and HttpResponse())
    counted = CountedCache(monkeypatch)

    # when another process bumps it, then a task (no request) and the next request read it
    cache.set(stamps.CATALOG, "bumped-elsewhere")
    outside = stamps.versions(stamps.CATALOG)[stamps.CATALOG]
    inside = []
    serve(lambda request: inside.append(stamps.versions(stamps.CATALOG)[stamps.CATALOG]) or HttpResponse())

    # then both read it from the cache, and have the new one
    assert (outside, inside, counted.round_trips) == ("bumped-elsewhere", ["bumped-elsewhere"], 2)
