"""Charts as SVG drawn on the server: the geometry of a selectors.Chart, for the template to draw.

No script and no inline style (the admin's Content-Security-Policy allows neither): shapes carry
classes coloured by analytics/dashboard.css, and each bar its value as a <title> tooltip. The
chart's table view and CSV export show the same numbers (README, "The O2O dashboard").

What the page draws stays bounded whatever the range or the number of stores, so a year of the
chain renders as fast as a week: a daily chart of more than MAX_DAILY_BARS days draws each series
as one <path> (its total as the tooltip) instead of a <rect> per day, its table sums the days by
week (the CSV has each day), and a per-store table lists at most MAX_TABLE_ROWS rows (the CSV has
them all).
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from o2o_site.dates import format_date
from o2o_site.money import format_money

from .selectors import Chart

WIDTH = 720
LEFT = 64  # room for the value axis (daily) …
LABEL_WIDTH = 190  # … or the row labels (compare)
RIGHT = 16
TOP = 12
DAILY_HEIGHT = 220
BOTTOM = 30
BAR = 14
GAP = 10


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    title: str


@dataclass
class Label:
    x: float
    y: float
    text: str
    anchor: str = "start"


@dataclass
class SeriesPath:
    """One series' bars as a single SVG path (`d`), for a chart of many days."""

    series: int
    d: str
    title: str


@dataclass
class Drawing:
    width: int
    height: int
    bars: list[Bar]
    labels: list[Label]
    gridlines: list[tuple[float, float, float, float]]
    paths: list[SeriesPath] = field(default_factory=list)


@dataclass
class Table:
    """A chart's table view: `header` (the row header, then the series), `rows` of (label, values
    as text), and a `note` saying what the page leaves to the CSV ("" when nothing)."""

    header: str
    rows: list[tuple[str, list[str]]]
    note: str = ""


def value_text(unit: str, value) -> str:
    """A chart value as the table and tooltips show it: money through o2o_site.money, and reward
    points so too (a point is worth a unit of the shop's currency, as the member page shows them),
    minutes with one decimal, counts whole; an empty value (nothing to average) as "–"."""
    if value is None:
        return "–"
    if unit in ("money", "points"):
        return format_money(value)
    if unit == "minutes":
        return number_format(value, 1)
    return number_format(value, 0, force_grouping=True)


def row_text(label) -> str:
    return format_date(label) if isinstance(label, datetime.date) else str(label)


def _number(value) -> float:
    return float(value or 0)


def draw(chart: Chart) -> Drawing:
    return _draw_daily(chart) if chart.kind == "daily" else _draw_compare(chart)


def _nice_max(largest: float) -> float:
    """The axis' top: 1, 2 or 5 times a power of ten, at or above `largest`."""
    if largest <= 0:
        return 1
    power = 10 ** (len(str(int(largest))) - 1)
    for step in (1, 2, 5, 10):
        if largest <= step * power:
            return step * power
    return 10 * power


# A daily chart of more days than this draws one path per series, and its table sums by week.
MAX_DAILY_BARS = 62
# A table of more rows than this (a chain's stores) shows the first ones; the CSV has them all.
MAX_TABLE_ROWS = 50


def _coordinate(value: float) -> str:
    """A coordinate as the SVG gets it: two decimals at most, no trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _draw_daily(chart: Chart) -> Drawing:
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = DAILY_HEIGHT - TOP - BOTTOM
    count = max(len(chart.rows), 1)
    top = _nice_max(max((sum(_number(v) for v in row.values) for row in chart.rows), default=0))
    slot = plot_width / count
    bar_width = max(slot * 0.8, 1)
    bars, labels, gridlines = [], [], []
    for fraction in (0, 0.5, 1) if top >= 2 else (0, 1):
        y = TOP + plot_height * (1 - fraction)
        gridlines.append((LEFT, y, WIDTH - RIGHT, y))
        labels.append(Label(LEFT - 6, y + 4, value_text(chart.unit, Decimal(str(top * fraction))), "end"))
    as_paths = len(chart.rows) > MAX_DAILY_BARS
    pieces: list[list[str]] = [[] for _name in chart.series]
    for index, row in enumerate(chart.rows):
        x = LEFT + index * slot + (slot - bar_width) / 2
        base = TOP + plot_height
        for series, value in enumerate(row.values):
            height = plot_height * _number(value) / top
            if height <= 0:
                continue
            base -= height
            if as_paths:
                pieces[series].append(
                    f"M{_coordinate(x)} {_coordinate(base)}h{_coordinate(bar_width)}"
                    f"v{_coordinate(height)}h-{_coordinate(bar_width)}z"
                )
                continue
            title = f"{row_text(row.label)} – {chart.series[series]}: {value_text(chart.unit, value)}"
            bars.append(Bar(round(x, 2), round(base, 2), round(bar_width, 2), round(height, 2), series, title))
    paths = [
        SeriesPath(series, "".join(piece), f"{chart.series[series]}: {value_text(chart.unit, _total(chart, series))}")
        for series, piece in enumerate(pieces)
        if piece
    ]
    if chart.rows:
        ends = {0: "start", len(chart.rows) - 1: "end"}
        if len(chart.rows) > 2:
            ends.setdefault(len(chart.rows) // 2, "middle")
        for index, anchor in sorted(ends.items()):
            x = LEFT + index * slot + (0 if anchor == "start" else slot if anchor == "end" else slot / 2)
            labels.append(Label(round(x, 2), DAILY_HEIGHT - 10, row_text(chart.rows[index].label), anchor))
    return Drawing(WIDTH, DAILY_HEIGHT, bars, labels, gridlines, paths)


def _decimal(value) -> Decimal:
    return Decimal(value or 0)


def _total(chart: Chart, series: int) -> Decimal:
    return sum((_decimal(row.values[series]) for row in chart.rows), Decimal(0))


# Units whose days add up to a week (an average, in minutes, does not).
SUMMABLE = ("count", "money", "points")


def table(chart: Chart) -> Table:
    """The chart's table view. A daily chart of more than MAX_DAILY_BARS days sums its days by
    week (seven days from the period's first; the last week may be shorter), as its values are
    counts and money; any other table shows at most MAX_TABLE_ROWS rows. Both say so in `note`."""
    if chart.kind == "daily" and chart.unit in SUMMABLE and len(chart.rows) > MAX_DAILY_BARS:
        rows = []
        for start in range(0, len(chart.rows), 7):
            week = chart.rows[start : start + 7]
            sums = [sum(_decimal(row.values[series]) for row in week) for series in range(len(chart.series))]
            label = f"{row_text(week[0].label)} – {row_text(week[-1].label)}"
            rows.append((label, [value_text(chart.unit, value) for value in sums]))
        return Table(_("Week"), rows, _("Summed by week; the CSV has each day."))
    shown = chart.rows[:MAX_TABLE_ROWS]
    rows = [(row_text(row.label), [value_text(chart.unit, value) for value in row.values]) for row in shown]
    hidden = len(chart.rows) - len(shown)
    note = _("%(count)s more in the CSV.") % {"count": hidden} if hidden else ""
    return Table(str(chart.row_header), rows, note)


# A compare chart draws at most this many rows; its table and CSV have them all.
MAX_COMPARE_ROWS = 15


def _draw_compare(chart: Chart) -> Drawing:
    hidden = max(len(chart.rows) - MAX_COMPARE_ROWS, 0)
    chart = Chart(**{**chart.__dict__, "rows": chart.rows[:MAX_COMPARE_ROWS]})
    series_count = max(len(chart.series), 1)
    group = series_count * BAR + GAP
    height = TOP + max(len(chart.rows), 1) * group + BOTTOM
    plot_width = WIDTH - LABEL_WIDTH - RIGHT - 90  # room after a bar for its value
    top = max((_number(v) for row in chart.rows for v in row.values), default=0) or 1
    bars, labels = [], []
    for index, row in enumerate(chart.rows):
        y0 = TOP + index * group
        labels.append(Label(LABEL_WIDTH - 8, y0 + series_count * BAR / 2 + 4, row_text(row.label), "end"))
        for series, value in enumerate(row.values):
            width = plot_width * _number(value) / top
            y = y0 + series * BAR
            title = f"{row_text(row.label)} – {chart.series[series]}: {value_text(chart.unit, value)}"
            bars.append(Bar(LABEL_WIDTH, y, round(max(width, 0), 2), BAR - 2, series, title))
            labels.append(Label(round(LABEL_WIDTH + max(width, 0) + 4, 2), y + BAR - 4, value_text(chart.unit, value)))
    axis = (LABEL_WIDTH, TOP - 4, LABEL_WIDTH, height - BOTTOM + 4)
    if not chart.rows:
        labels.append(Label(LABEL_WIDTH, TOP + 16, _("Nothing in this period.")))
    if hidden:
        labels.append(Label(LABEL_WIDTH, height - 10, _("%(count)s more in the table.") % {"count": hidden}))
    return Drawing(WIDTH, height, bars, labels, [axis])


def duration_text(seconds) -> str:
    """Seconds as "2 h 5 min", "12 min" or "40 s"."""
    seconds = int(round(seconds))
    if seconds < 60:
        return _("%(seconds)s s") % {"seconds": seconds}
    minutes = round(seconds / 60)
    if minutes < 60:
        return _("%(minutes)s min") % {"minutes": minutes}
    return _("%(hours)s h %(minutes)s min") % {"hours": minutes // 60, "minutes": minutes % 60}


def figure_text(kind: str, value) -> str:
    """A dashboard figure as shown: counts whole, money through o2o_site.money, shares as
    percentages, times as durations, points as money; nothing to show as "–"."""
    if value is None:
        return "–"
    if kind == "share":
        return _("%(percent)s %%") % {"percent": number_format(Decimal(value) * 100, 1)}
    if kind == "seconds":
        return duration_text(value)
    return value_text(kind, value)


def change_text(kind: str, change) -> str:
    """A change from the previous period: "+12.5 %" (of the previous value), or for a share
    "+3.0 pts" (points of percentage); "–" when there is nothing to compare."""
    if change is None:
        return "–"
    if kind == "share":
        points = Decimal(change) * 100
        return _("%(sign)s%(points)s pts") % {
            "sign": "+" if points >= 0 else "−",
            "points": number_format(abs(points), 1),
        }
    percent = Decimal(change) * 100
    return _("%(sign)s%(percent)s %%") % {
        "sign": "+" if percent >= 0 else "−",
        "percent": number_format(abs(percent), 1),
    }
