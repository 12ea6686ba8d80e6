"""The dashboard's reads: figures and charts of a period, from the roll-up rows only.

Three queries, whatever the number of orders, stores or days: the period's rows summed per day,
the previous period's summed, and the period's summed per store. What each figure means is in
the README ("The O2O dashboard"); the numbers here are the same as there.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from stores.models import Store

from .models import FIGURE_FIELDS, DailyStoreFigures


@dataclass(frozen=True)
class Period:
    """The days `start` to `end`, both included (store-local dates)."""

    start: datetime.date
    end: datetime.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> "Period":
        """The period of equal length that ends the day before this one starts."""
        end = self.start - datetime.timedelta(days=1)
        return Period(start=end - datetime.timedelta(days=self.days - 1), end=end)

    def each_day(self) -> list[datetime.date]:
        return [self.start + datetime.timedelta(days=n) for n in range(self.days)]


def rows_in_scope(*, user, store: Store | None) -> QuerySet[DailyStoreFigures]:
    """The roll-up rows `user` may read: of `store` (the caller has checked it is one of theirs),
    else of every store they manage (a superuser: the chain)."""
    rows = DailyStoreFigures.objects.all()
    if store is not None:
        return rows.filter(store=store)
    if user.is_superuser:
        return rows
    return rows.filter(store__in=Store.objects.managed_by(user).values("pk"))


def _sums():
    return {name: Sum(name) for name in FIGURE_FIELDS}


def _zeros() -> dict:
    return dict.fromkeys(FIGURE_FIELDS, 0)


def _filled(row: dict) -> dict:
    return {name: (row.get(name) or 0) for name in FIGURE_FIELDS}


def _ratio(part, whole) -> Decimal | None:
    """part / whole as a Decimal fraction, None when there is no whole."""
    if not whole:
        return None
    return Decimal(part) / Decimal(whole)


def _average(total, count) -> Decimal | None:
    if not count:
        return None
    return Decimal(total) / Decimal(count)


# Derived figures: each a function of one period's summed row (FIGURE_FIELDS → value).
def online_orders(t):
    return t["orders_web"] + t["orders_kiosk"]


def online_revenue(t):
    return t["revenue_web"] + t["revenue_kiosk"]


def fulfilled(t):
    return t["collected_in_store"] + t["collected_curbside"] + t["delivered"] + t["shipped"]


def pickups_ended(t):
    return t["collected_in_store"] + t["collected_curbside"] + t["uncollected"]


@dataclass(frozen=True)
class FigureSpec:
    key: str
    label: str
    kind: str  # count, money, seconds, share, points
    value: Callable[[dict], object]
    help: str = ""


FIGURES = [
    FigureSpec(
        "online_orders",
        _("Online orders"),
        "count",
        online_orders,
        _("Orders placed in the web shop or at a kiosk."),
    ),
    FigureSpec("online_revenue", _("Online revenue"), "money", online_revenue, _("Their totals as placed.")),
    FigureSpec(
        "in_store_orders",
        _("In-store orders"),
        "count",
        lambda t: t["orders_in_store"],
        _("Orders placed in a store by its staff or a shopper in store mode."),
    ),
    FigureSpec("in_store_revenue", _("In-store revenue"), "money", lambda t: t["revenue_in_store"]),
    FigureSpec(
        "share_in_store",
        _("Collected in store"),
        "share",
        lambda t: _ratio(t["collected_in_store"], fulfilled(t)),
        _("Share of the orders that reached the shopper."),
    ),
    FigureSpec(
        "share_curbside", _("Collected at the curb"), "share", lambda t: _ratio(t["collected_curbside"], fulfilled(t))
    ),
    FigureSpec("share_delivered", _("Delivered"), "share", lambda t: _ratio(t["delivered"], fulfilled(t))),
    FigureSpec("share_shipped", _("Shipped"), "share", lambda t: _ratio(t["shipped"], fulfilled(t))),
    FigureSpec(
        "placed_to_ready",
        _("Placed to ready"),
        "seconds",
        lambda t: _average(t["ready_seconds"], t["ready_count"]),
        _("Average time until a pickup order was ready."),
    ),
    FigureSpec(
        "ready_to_collected",
        _("Ready to collected"),
        "seconds",
        lambda t: _average(t["collect_seconds"], t["collected_after_ready"]),
        _("Average time a ready order waited for its shopper."),
    ),
    FigureSpec(
        "curbside_wait",
        _("Curbside wait"),
        "seconds",
        lambda t: _average(t["curbside_wait_seconds"], t["curbside_waits"]),
        _("Average time from checking in at the curb to the hand-over."),
    ),
    FigureSpec(
        "uncollected_rate",
        _("Not collected"),
        "share",
        lambda t: _ratio(t["uncollected"], pickups_ended(t)),
        _("Ready pickup orders cancelled instead of collected."),
    ),
    FigureSpec(
        "expired_rate",
        _("Expired"),
        "share",
        lambda t: _ratio(t["expired"], pickups_ended(t)),
        _("Of them, cancelled because the pickup time ran out."),
    ),
    FigureSpec(
        "returns_online",
        _("Online orders returned in store"),
        "count",
        lambda t: t["returns_online"],
        _("Returns received at the counter of orders placed online."),
    ),
    FigureSpec(
        "returns_from_other_stores",
        _("Of them bought at another store"),
        "count",
        lambda t: t["returns_from_other_stores"],
    ),
    FigureSpec("shelf_scans", _("Shelf-label scans"), "count", lambda t: t["shelf_scans"]),
    FigureSpec(
        "orders_after_scan",
        _("Orders after a scan"),
        "count",
        lambda t: t["orders_after_scan"],
        _("Orders placed in the same visit as a shelf-label scan."),
    ),
    FigureSpec(
        "points_earned", _("Points earned"), "points", lambda t: t["points_earned_web"] + t["points_earned_in_store"]
    ),
    FigureSpec(
        "points_redeemed",
        _("Points redeemed"),
        "points",
        lambda t: t["points_redeemed_web"] + t["points_redeemed_in_store"],
    ),
    FigureSpec(
        "coupon_uses",
        _("Coupon uses"),
        "count",
        lambda t: t["coupons_web"] + t["coupons_kiosk"] + t["coupons_in_store"],
    ),
]


@dataclass
class Figure:
    spec: FigureSpec
    value: object
    previous: object

    @property
    def change(self) -> Decimal | None:
        """The change from the previous period: a fraction for counts, money, times and points;
        for shares, the difference in points of share. None where there is nothing to compare."""
        if self.value is None or self.previous is None:
            return None
        if self.spec.kind == "share":
            return Decimal(self.value) - Decimal(self.previous)
        if not self.previous:
            return None
        return (Decimal(self.value) - Decimal(self.previous)) / Decimal(self.previous)


@dataclass
class ChartRow:
    label: str
    values: list


@dataclass
class Chart:
    """One chart: `rows` (a day or a category each) of `series` values, in `unit` (count, money,
    minutes, points). `kind` "daily" stacks the series per day; "compare" sets them side by side."""

    slug: str
    title: str
    kind: str
    unit: str
    row_header: str
    series: list[str]
    rows: list[ChartRow] = field(default_factory=list)


@dataclass
class Dashboard:
    period: Period
    figures: list[Figure]
    charts: list[Chart]
    totals: dict
    previous_totals: dict
    # The stores that took online returns in the period: store_name, store_city, returns_online,
    # returns_from_other_stores.
    by_store: list[dict]

    def chart(self, slug: str) -> Chart | None:
        return next((chart for chart in self.charts if chart.slug == slug), None)


def _minutes(seconds) -> Decimal | None:
    return None if seconds is None else (Decimal(seconds) / 60).quantize(Decimal("0.1"))


def build_dashboard(*, rows: QuerySet[DailyStoreFigures], period: Period) -> Dashboard:
    """The figures and charts of `rows` (already scoped, see rows_in_scope) for `period`, each
    compared with the previous period of equal length. Three queries."""
    per_day = {
        row["day"]: _filled(row)
        for row in rows.filter(day__range=(period.start, period.end)).order_by().values("day").annotate(**_sums())
    }
    previous_totals = _filled(rows.filter(day__range=(period.previous.start, period.previous.end)).aggregate(**_sums()))
    # Only the returns chart reads per store, and only its two columns, of the stores that took
    # returns: summing every column of every store's rows doubled the cost of a chain's year.
    by_store = [
        {
            "store_name": row["store__name"],
            "store_city": row["store__city"],
            "returns_online": row["returned_here"],
            "returns_from_other_stores": row["from_other_stores"],
        }
        for row in rows.filter(day__range=(period.start, period.end), returns_online__gt=0)
        .order_by()
        .values("store_id", "store__name", "store__city")
        .annotate(returned_here=Sum("returns_online"), from_other_stores=Sum("returns_from_other_stores"))
        .order_by("store__city", "store__name")
    ]
    totals = _zeros()
    for day_row in per_day.values():
        for name in FIGURE_FIELDS:
            totals[name] += day_row[name]
    figures = [Figure(spec, spec.value(totals), spec.value(previous_totals)) for spec in FIGURES]
    days = [(day, per_day.get(day) or _zeros()) for day in period.each_day()]
    return Dashboard(
        period=period,
        figures=figures,
        charts=_charts(days, totals, previous_totals, by_store),
        totals=totals,
        previous_totals=previous_totals,
        by_store=by_store,
    )


def _compare(slug, title, unit, row_header, rows: list[tuple[str, Callable[[dict], object]]], totals, previous):
    return Chart(
        slug=slug,
        title=title,
        kind="compare",
        unit=unit,
        row_header=row_header,
        series=[_("This period"), _("Previous period")],
        rows=[ChartRow(label, [value(totals), value(previous)]) for label, value in rows],
    )


def _charts(days, totals, previous, by_store) -> list[Chart]:
    channels = [_("Web shop"), _("Kiosk"), _("In store")]
    day_header = _("Day")
    charts = [
        Chart(
            "orders",
            _("Orders by channel"),
            "daily",
            "count",
            day_header,
            channels,
            [ChartRow(day, [t["orders_web"], t["orders_kiosk"], t["orders_in_store"]]) for day, t in days],
        ),
        Chart(
            "revenue",
            _("Revenue by channel"),
            "daily",
            "money",
            day_header,
            channels,
            [ChartRow(day, [t["revenue_web"], t["revenue_kiosk"], t["revenue_in_store"]]) for day, t in days],
        ),
        _compare(
            "fulfilment",
            _("How orders reached the shopper"),
            "count",
            _("Fulfilment"),
            [
                (_("Collected in store"), lambda t: t["collected_in_store"]),
                (_("Collected at the curb"), lambda t: t["collected_curbside"]),
                (_("Delivered"), lambda t: t["delivered"]),
                (_("Shipped"), lambda t: t["shipped"]),
            ],
            totals,
            previous,
        ),
        _compare(
            "times",
            _("Average times (minutes)"),
            "minutes",
            _("Time"),
            [
                (_("Placed to ready"), lambda t: _minutes(_average(t["ready_seconds"], t["ready_count"]))),
                (
                    _("Ready to collected"),
                    lambda t: _minutes(_average(t["collect_seconds"], t["collected_after_ready"])),
                ),
                (_("Curbside wait"), lambda t: _minutes(_average(t["curbside_wait_seconds"], t["curbside_waits"]))),
            ],
            totals,
            previous,
        ),
        _compare(
            "pickup",
            _("Pickup orders: collected or not"),
            "count",
            _("Outcome"),
            [
                (_("Collected"), lambda t: t["collected_in_store"] + t["collected_curbside"]),
                (_("Not collected"), lambda t: t["uncollected"]),
                (_("Of them expired"), lambda t: t["expired"]),
            ],
            totals,
            previous,
        ),
        Chart(
            "returns",
            _("Online orders returned in store, by store"),
            "compare",
            "count",
            _("Store"),
            [_("Returned here"), _("Of them bought at another store")],
            [
                ChartRow(
                    f"{row['store_name']}, {row['store_city']}",
                    [row["returns_online"], row["returns_from_other_stores"]],
                )
                # The stores that took returns back, most first: a chain of a thousand stores
                # lists the few that matter, not a thousand zeros.
                for row in sorted(by_store, key=lambda row: -row["returns_online"])
                if row["returns_online"]
            ],
        ),
        _compare(
            "scans",
            _("Shelf-label scans and the orders that followed"),
            "count",
            _("What"),
            [
                (_("Shelf-label scans"), lambda t: t["shelf_scans"]),
                (_("Orders after a scan"), lambda t: t["orders_after_scan"]),
            ],
            totals,
            previous,
        ),
        _compare(
            "rewards",
            _("Reward points by channel"),
            "points",
            _("Points"),
            [
                (_("Earned online"), lambda t: t["points_earned_web"]),
                (_("Earned in store"), lambda t: t["points_earned_in_store"]),
                (_("Redeemed online"), lambda t: t["points_redeemed_web"]),
                (_("Redeemed in store"), lambda t: t["points_redeemed_in_store"]),
            ],
            totals,
            previous,
        ),
        _compare(
            "coupons",
            _("Coupon uses by channel"),
            "count",
            _("Channel"),
            [
                (_("Web shop"), lambda t: t["coupons_web"]),
                (_("Kiosk"), lambda t: t["coupons_kiosk"]),
                (_("In store"), lambda t: t["coupons_in_store"]),
            ],
            totals,
            previous,
        ),
        _compare(
            "coupon-discount",
            _("Coupon discount by channel"),
            "money",
            _("Channel"),
            [
                (_("Web shop"), lambda t: t["coupon_discount_web"]),
                (_("Kiosk"), lambda t: t["coupon_discount_kiosk"]),
                (_("In store"), lambda t: t["coupon_discount_in_store"]),
            ],
            totals,
            previous,
        ),
    ]
    return charts
