"""The dashboard page, its CSV exports, the beat task and the command, on a small real shop."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import StoreManagerFactory
from analytics.models import DailyStoreFigures
from analytics.rollups import roll_up
from analytics.scheduled import roll_up_recent_days
from catalog.tests.factories import ProductFactory
from orders.tests.factories import place_order
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

DASHBOARD = "admin:analytics_dailystorefigures_dashboard"
CSV = "admin:analytics_dailystorefigures_dashboard_csv"
OSLO_NAME = "Grünerløkka"


@pytest.fixture
def shop():
    reykjavik = StoreFactory(name="Laugavegur", slug="laugavegur")
    oslo = StoreFactory(name=OSLO_NAME, slug="grunerlokka", city="Oslo", country="NO", time_zone="Europe/Oslo")
    mittens = ProductFactory(name="Lopi mittens", price=Decimal("1000"))
    for store in (reykjavik, oslo):
        StockLevelFactory(store=store, product=mittens, on_hand=100)
    # today: one order at Laugavegur, three at Grünerløkka
    place_order(store=reykjavik, products_and_quantities=[(mittens, 1)])
    for _ in range(3):
        place_order(store=oslo, products_and_quantities=[(mittens, 1)])
    today = timezone.localdate()
    roll_up(start=today - datetime.timedelta(days=1), end=today + datetime.timedelta(days=1))
    manager = StoreManagerFactory(username="gudrun", stores=[reykjavik])
    return {"reykjavik": reykjavik, "oslo": oslo, "product": mittens, "manager": manager}


def period(**extra):
    today = timezone.localdate()
    return {"start": (today - datetime.timedelta(days=6)).isoformat(), "end": today.isoformat(), **extra}


def csv_rows(response):
    return list(csv.reader(io.StringIO(response.content.decode())))


def daily_total(rows):
    return sum(sum(int(value) for value in row[1:]) for row in rows[1:])


def test_a_manager_sees_only_their_stores_figures(client, shop):
    # given a manager of Laugavegur
    client.force_login(shop["manager"])

    # when she opens the dashboard, and asks for Grünerløkka's by its id
    own = client.get(reverse(DASHBOARD), period())
    other = client.get(reverse(DASHBOARD), period(store=shop["oslo"].pk))

    # then hers shows her one order, and no other store is offered or shown
    assert own.status_code == 200
    assert own.context["dashboard"].totals["orders_web"] == 1
    assert OSLO_NAME not in own.content.decode()
    assert "All stores (the chain)" not in own.content.decode()
    # and Grünerløkka's is refused at the store field, with no figures at all
    assert other.status_code == 200
    assert other.context["dashboard"] is None
    assert "store" in other.context["form"].errors
    assert OSLO_NAME not in other.content.decode()


def test_a_csv_url_tampered_with_another_stores_id_gives_nothing(client, shop):
    client.force_login(shop["manager"])

    # when the CSV of the orders chart is asked for Grünerløkka, and for all her stores
    tampered = client.get(reverse(CSV, kwargs={"chart": "orders"}), period(store=shop["oslo"].pk))
    own = client.get(reverse(CSV, kwargs={"chart": "orders"}), period())
    returns = client.get(reverse(CSV, kwargs={"chart": "returns"}), period())

    # then the tampered one is refused without a figure, hers counts only her order
    assert tampered.status_code == 400
    assert tampered["Content-Type"].startswith("text/plain")
    assert b"Web shop" not in tampered.content and b"store:" in tampered.content
    assert own.status_code == 200
    assert daily_total(csv_rows(own)) == 1
    assert OSLO_NAME not in returns.content.decode()
    assert csv_rows(returns) == [["Store", "Returned here", "Of them bought at another store"]]


def test_the_chain_and_any_store_for_a_superuser(client, shop, admin_user):
    client.force_login(admin_user)

    chain = client.get(reverse(CSV, kwargs={"chart": "orders"}), period())
    oslo = client.get(reverse(CSV, kwargs={"chart": "orders"}), period(store=shop["oslo"].pk))

    assert daily_total(csv_rows(chain)) == 4
    assert daily_total(csv_rows(oslo)) == 3
    assert csv_rows(chain)[0] == ["Day", "Web shop", "Kiosk", "In store"]
    assert chain["Content-Disposition"].startswith('attachment; filename="orders-chain-')


def test_an_unknown_chart_is_not_found(client, shop, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse(CSV, kwargs={"chart": "nope"}), period()).status_code == 404


def test_a_bad_range_is_an_error_at_its_field_with_what_was_typed(client, shop, admin_user):
    client.force_login(admin_user)

    response = client.get(reverse(DASHBOARD), {"start": "2026-11-10", "end": "2026-11-01"})

    assert response.context["dashboard"] is None
    assert response.context["form"].errors["end"] == ["The last day is before the first."]
    assert 'value="2026-11-01"' in response.content.decode()


def test_the_page_draws_each_chart_as_svg_with_its_table_and_csv_link(client, shop, admin_user):
    client.force_login(admin_user)

    page = client.get(reverse(DASHBOARD), period()).content.decode()

    for slug in (
        "orders",
        "revenue",
        "fulfilment",
        "times",
        "pickup",
        "returns",
        "scans",
        "rewards",
        "coupons",
        "coupon-discount",
    ):
        assert f'id="chart-{slug}"' in page
        assert reverse(CSV, kwargs={"chart": slug}) in page
    main = page.split('id="content-main"')[1]
    assert main.count('<svg class="o2o-chart-svg"') == 10
    assert main.count("<table>") == 10
    assert "<script" not in main


def test_the_csv_links_of_the_page_opened_bare_carry_its_default_range(client, shop, admin_user):
    # (a fresh-eyes tester's first "Download as CSV" answered 400: "start: This field is required")
    import html
    import re

    client.force_login(admin_user)
    page = client.get(reverse(DASHBOARD)).content.decode()

    link = html.unescape(re.search(r'href="([^"]*orders\.csv[^"]*)"', page).group(1))
    assert "start=" in link and "end=" in link
    response = client.get(link)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")


def test_the_dashboard_costs_the_same_queries_however_many_orders_and_stores(client, shop, admin_user):
    client.force_login(admin_user)
    url = reverse(DASHBOARD)

    with CaptureQueriesContext(connection) as few:
        assert client.get(url, period()).status_code == 200

    # when there are many more orders, in more stores, on more days
    for n in range(3):
        store = StoreFactory(name=f"Store {n}", slug=f"store-{n}")
        StockLevelFactory(store=store, product=shop["product"], on_hand=100)
        for _ in range(4):
            place_order(store=store, products_and_quantities=[(shop["product"], 1)])
    today = timezone.localdate()
    roll_up(start=today - datetime.timedelta(days=30), end=today)

    with CaptureQueriesContext(connection) as many:
        response = client.get(url, period())

    assert response.context["dashboard"].totals["orders_web"] == 16
    assert len(many) == len(few)
    # and none of them reads an order: only the roll-up rows (and the session, user, stores)
    assert not [q["sql"] for q in many.captured_queries if 'FROM "orders_' in q["sql"] or 'JOIN "orders_' in q["sql"]]


def test_the_manager_dashboard_costs_a_fixed_number_of_queries(client, shop, django_assert_num_queries):
    client.force_login(shop["manager"])
    url = reverse(DASHBOARD)
    client.get(url, period())  # the first request of the session warms nothing we count on

    with CaptureQueriesContext(connection) as counted:
        client.get(url, period())
    with django_assert_num_queries(len(counted)):
        client.get(url, period(store=shop["reykjavik"].pk))
    assert len(counted) <= 12


def test_the_beat_task_is_idempotent(shop):
    # given yesterday's and today's rows as beat writes them (two stores, both in UTC+0 or +1)
    DailyStoreFigures.objects.all().delete()
    written = roll_up_recent_days()
    first = list(DailyStoreFigures.objects.order_by("store", "day").values())

    # when it runs again with nothing new
    again = roll_up_recent_days()
    second = list(DailyStoreFigures.objects.order_by("store", "day").values())

    # then the same rows, the same figures (only the time they were computed moved)
    assert written == again == len(first) == len(second) == 2 * 2
    strip = [{k: v for k, v in row.items() if k != "computed_at"} for row in first]
    assert strip == [{k: v for k, v in row.items() if k != "computed_at"} for row in second]
    assert sum(row["orders_web"] for row in second if row["day"] == timezone.localdate()) == 1 + 3


def test_the_beat_task_picks_up_what_happened_since_its_last_run(shop):
    roll_up_recent_days()
    place_order(store=shop["reykjavik"], products_and_quantities=[(shop["product"], 1)])

    roll_up_recent_days()

    today = timezone.localdate()
    assert DailyStoreFigures.objects.get(store=shop["reykjavik"], day=today).orders_web == 2


def test_the_command_rolls_up_a_range_with_a_progress_bar(shop):
    DailyStoreFigures.objects.all().delete()
    today = timezone.localdate()
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "roll_up_figures",
        "--from",
        (today - datetime.timedelta(days=9)).isoformat(),
        "--to",
        today.isoformat(),
        "--days-per-step",
        "3",
        stdout=out,
        stderr=err,
    )

    assert DailyStoreFigures.objects.count() == 2 * 10
    assert DailyStoreFigures.objects.get(store=shop["oslo"], day=today).orders_web == 3
    assert "10/10" in err.getvalue() and "100%" in err.getvalue()
    assert "20 rows written for 10 days" in out.getvalue()


def test_the_command_for_one_store_and_its_refusals(shop):
    DailyStoreFigures.objects.all().delete()
    today = timezone.localdate().isoformat()

    call_command("roll_up_figures", "--from", today, "--to", today, "--store", "grunerlokka", "--no-progress")
    assert list(DailyStoreFigures.objects.values_list("store__slug", flat=True)) == ["grunerlokka"]

    with pytest.raises(CommandError, match="not a date"):
        call_command("roll_up_figures", "--from", "10.11.2026", "--to", today)
    with pytest.raises(CommandError, match="before"):
        call_command("roll_up_figures", "--from", today, "--to", "2020-01-01")
    with pytest.raises(CommandError, match="no store with the slug nowhere"):
        call_command("roll_up_figures", "--from", today, "--to", today, "--store", "nowhere")


@pytest.mark.parametrize("language", ["is", "nb"])
def test_the_dashboard_is_translated(client, shop, language, settings):
    import html

    from o2o_site.tests.po import english_left_in

    # given a manager who reads Icelandic or Norwegian
    client.force_login(shop["manager"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    # when she opens the dashboard, and gets a field wrong
    pages = [client.get(reverse(DASHBOARD), period()), client.get(reverse(DASHBOARD), {"start": "x", "end": "y"})]

    # then none of our English is left on either
    for response in pages:
        assert response.status_code == 200
        assert english_left_in(html.unescape(response.content.decode()), language) == []


def test_a_year_of_a_large_chain_renders_a_bounded_page_with_the_same_figures(client, shop, admin_user):
    from analytics import charts

    # given 60 stores with a row for each of the longest range's days: every day one web order
    # of 10 at each store, and one online return at each store on the last day
    DailyStoreFigures.objects.all().delete()
    today = timezone.localdate()
    days = [today - datetime.timedelta(days=n) for n in range(400)]
    stores = [StoreFactory(name=f"Store {n:02}", slug=f"store-{n}") for n in range(60)]
    now = timezone.now()
    DailyStoreFigures.objects.bulk_create(
        DailyStoreFigures(
            store=store,
            day=day,
            orders_web=1,
            revenue_web=Decimal("10"),
            returns_online=int(day == today),
            computed_at=now,
        )
        for store in stores
        for day in days
    )
    client.force_login(admin_user)
    year = {"start": days[-1].isoformat(), "end": today.isoformat()}

    # when the superuser opens the chain's dashboard over those 400 days
    response = client.get(reverse(DASHBOARD), year)

    # then the figures are the hand counts
    page = response.content.decode()
    figures = {figure.spec.key: figure.value for figure in response.context["dashboard"].figures}
    assert figures["online_orders"] == 60 * 400
    assert figures["online_revenue"] == Decimal("10") * 60 * 400
    # and each daily series is one path, not a shape per day
    orders = page.split('id="chart-orders"')[1].split("</section>")[0]
    assert orders.count("<rect") == 0
    assert orders.count('<path class="series-0"') == 1
    # and its table sums the days by week: 57 weeks and a last one of 1 day, 7 × 60 orders a week
    table = orders.split("<tbody>")[1].split("</tbody>")[0]
    assert table.count("<tr>") == 58
    assert table.split("<tr>")[1].count("<td>420</td>") == 1
    assert table.split("<tr>")[-1].count("<td>60</td>") == 1
    # and the per-store table shows the first stores and leaves the rest to the CSV, which has all
    returns = page.split('id="chart-returns"')[1].split("</section>")[0]
    assert returns.split("<tbody>")[1].count("<tr>") == charts.MAX_TABLE_ROWS
    assert f"{60 - charts.MAX_TABLE_ROWS} more in the CSV." in returns
    assert len(csv_rows(client.get(reverse(CSV, kwargs={"chart": "returns"}), year))) == 1 + 60
    assert len(csv_rows(client.get(reverse(CSV, kwargs={"chart": "orders"}), year))) == 1 + 400
    # and the page stays small: 60 stores × 400 days draw no more than a week of two stores would
    # at a day per bar (about 17 000 nodes and 440 kB before the bound)
    assert len(page) < 120_000
