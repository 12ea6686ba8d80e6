"""Parts of the checkout page rendered once and kept (checkout.views) are the HTML their
templates render for that store, language and values, whatever was kept before."""

import datetime

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from checkout.views import _opening_week_table
from orders.selectors import opening_week
from stores.models import OpeningHours, Store
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def as_page_reads(store):
    return Store.objects.prefetch_related("opening_hours").get(pk=store.pk)


def the_templates(store):
    return render_to_string("orders/includes/opening_week.html", {"store": store, "week": opening_week(store)})


@pytest.mark.parametrize("language", ["en", "is", "nb"])
def test_the_opening_hours_table_is_the_templates_for_each_store_and_language(language):
    # given stores open every day, closed on Sundays with a lunch break on Mondays, and in Oslo
    every_day = StoreFactory()
    split_week = StoreFactory(open_every_day=False)
    OpeningHours.objects.bulk_create(
        [
            OpeningHours(store=split_week, weekday=0, opens=datetime.time(9), closes=datetime.time(12)),
            OpeningHours(store=split_week, weekday=0, opens=datetime.time(13), closes=datetime.time(17, 30)),
            *[
                OpeningHours(store=split_week, weekday=day, opens=datetime.time(10), closes=datetime.time(18))
                for day in range(1, 6)
            ],
        ]
    )
    oslo = StoreFactory(time_zone="Europe/Oslo", country="NO")

    with translation.override(language):
        for store in (every_day, split_week, oslo, every_day, split_week):
            # then each is its own table, as the template writes it, the second time too
            store = as_page_reads(store)
            assert _opening_week_table(store) == the_templates(store)


def test_changed_hours_are_a_new_table():
    # given a store's table, kept
    store = StoreFactory()
    before = _opening_week_table(as_page_reads(store))

    # when its Friday hours change
    OpeningHours.objects.filter(store=store, weekday=4).update(closes=datetime.time(21))

    # then the page shows the new hours
    after = _opening_week_table(as_page_reads(store))
    assert after != before and "21:00" in after
    assert after == the_templates(as_page_reads(store))
