"""The dashboard's figures equal the ones counted by hand on the seeded shop (seed.py).

Laugavegur on 10 November 2026, by hand (every order 1 000 kr. a unit):
  web shop: collected (1), curbside (2, coupon: 900), expired (3), cancelled when ready (4),
            delivered (7), shipped (8) = 6 orders, 5 900 kr.; not counted: awaiting payment (9),
            never paid (10); the day before: one (11)
  in store: 1 order of 2 units after a shelf scan (5) = 2 000 kr.; kiosk: 1 (6) = 1 000 kr.
  reached the shopper: 1 in store, 1 at the curb, 1 delivered, 1 shipped
  made ready: 1, 2, 3, 4 after 30 + 20 + 10 + 40 = 100 minutes
  ready to collected: 1 (90 min), 2 (45 min); curbside wait: 2 (5 min)
  not collected: 3 and 4 of 4 ended pickups; expired: 3
  shelf scans 3, orders after a scan 1; points: 5 earned in store (5 % of 5 000), 50 online
  (5 % of order 1), 10 redeemed in store; coupons: 1 online (100 off), 1 in store (200 off)
Grünerløkka (Oslo): 1 web order on its 10 November (placed 9 November 23:30 UTC), and order 1
returned there: 1 online order returned, bought at another store.
"""

import datetime
from decimal import Decimal

import pytest

from analytics.models import DailyStoreFigures
from analytics.rollups import roll_up
from analytics.selectors import Period, build_dashboard, rows_in_scope

from .seed import DAY, seed_shop

pytestmark = pytest.mark.django_db

PREVIOUS_DAY = DAY - datetime.timedelta(days=1)


@pytest.fixture
def shop():
    world = seed_shop()
    roll_up(start=PREVIOUS_DAY, end=DAY + datetime.timedelta(days=1))
    return world


def figures_of(store, day):
    return DailyStoreFigures.objects.get(store=store, day=day)


def test_the_roll_up_of_a_store_and_day_equals_the_hand_count(shop):
    # when the day of Laugavegur is read
    row = figures_of(shop["reykjavik"], DAY)

    # then every figure is the one counted by hand
    assert (row.orders_web, row.orders_kiosk, row.orders_in_store) == (6, 1, 1)
    assert (row.revenue_web, row.revenue_kiosk, row.revenue_in_store) == (Decimal(5900), Decimal(1000), Decimal(2000))
    assert (row.collected_in_store, row.collected_curbside, row.delivered, row.shipped) == (1, 1, 1, 1)
    assert (row.ready_count, row.ready_seconds) == (4, 100 * 60)
    assert (row.collected_after_ready, row.collect_seconds) == (2, (90 + 45) * 60)
    assert (row.curbside_waits, row.curbside_wait_seconds) == (1, 5 * 60)
    assert (row.uncollected, row.expired) == (2, 1)
    assert (row.shelf_scans, row.orders_after_scan, row.revenue_after_scan) == (3, 1, Decimal(2000))
    assert (row.points_earned_in_store, row.points_earned_web) == (Decimal(250), Decimal(50))
    assert (row.points_redeemed_in_store, row.points_redeemed_web) == (Decimal(10), Decimal(0))
    assert (row.coupons_web, row.coupons_kiosk, row.coupons_in_store) == (1, 0, 1)
    assert (row.coupon_discount_web, row.coupon_discount_in_store) == (Decimal(100), Decimal(200))
    assert (row.returns_online, row.returns_from_other_stores) == (0, 0)


def test_days_are_each_stores_own_calendar_days(shop):
    # Oslo's 10 November began at 23:00 UTC on the 9th and ended at 23:00 UTC on the 10th
    oslo = shop["oslo"]
    assert figures_of(oslo, DAY).orders_web == 1
    assert figures_of(oslo, DAY + datetime.timedelta(days=1)).orders_web == 1
    assert figures_of(oslo, PREVIOUS_DAY).orders_web == 0
    # and the return of a Laugavegur order counts where it was brought back
    assert (figures_of(oslo, DAY).returns_online, figures_of(oslo, DAY).returns_from_other_stores) == (1, 1)
    # Laugavegur's day before: the one web order placed at 23:30
    assert figures_of(shop["reykjavik"], PREVIOUS_DAY).orders_web == 1


def test_the_dashboard_figures_of_a_store_and_of_the_chain_equal_the_hand_count(shop, admin_user):
    # when the dashboard of Laugavegur for 10 November is built, compared with 9 November
    dashboard = build_dashboard(rows=rows_in_scope(user=admin_user, store=shop["reykjavik"]), period=Period(DAY, DAY))
    figures = {figure.spec.key: figure for figure in dashboard.figures}

    # then each figure is the hand count, and the previous day's beside it
    assert (figures["online_orders"].value, figures["online_orders"].previous) == (7, 1)
    assert figures["online_orders"].change == Decimal(6)  # +600 %
    assert figures["online_revenue"].value == Decimal(6900)
    assert (figures["in_store_orders"].value, figures["in_store_revenue"].value) == (1, Decimal(2000))
    assert figures["share_in_store"].value == Decimal("0.25")
    assert figures["share_curbside"].value == Decimal("0.25")
    assert figures["share_delivered"].value == Decimal("0.25")
    assert figures["share_shipped"].value == Decimal("0.25")
    assert figures["placed_to_ready"].value == Decimal(25 * 60)
    assert figures["ready_to_collected"].value == Decimal("4050")  # 67.5 minutes
    assert figures["curbside_wait"].value == Decimal(300)
    assert figures["uncollected_rate"].value == Decimal("0.5")  # 2 of 4 ended pickups
    assert figures["expired_rate"].value == Decimal("0.25")
    assert figures["placed_to_ready"].previous is None  # nothing made ready the day before
    assert (figures["shelf_scans"].value, figures["orders_after_scan"].value) == (3, 1)
    assert (figures["points_earned"].value, figures["points_redeemed"].value) == (Decimal(300), Decimal(10))
    assert figures["coupon_uses"].value == 2

    # and the chain adds Grünerløkka's order and return
    chain = build_dashboard(rows=rows_in_scope(user=admin_user, store=None), period=Period(DAY, DAY))
    chain_figures = {figure.spec.key: figure for figure in chain.figures}
    assert chain_figures["online_orders"].value == 8
    assert chain_figures["returns_online"].value == 1
    assert chain_figures["returns_from_other_stores"].value == 1
    returns = chain.chart("returns")
    assert [(row.label, row.values) for row in returns.rows] == [("Grünerløkka, Oslo", [1, 1])]
    # a daily chart has a row for every day of the period
    assert [row.values for row in chain.chart("orders").rows] == [[7, 1, 1]]
