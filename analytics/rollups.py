"""Computing the daily roll-up rows (analytics.DailyStoreFigures) from the rows that record each event.

Where each figure's time comes from (README, "The O2O dashboard"):

    figure                         recorded by                  time
    orders and revenue by channel  orders.Order                 created_at ("placed at")
    orders after a shelf scan      instore.SaleAttribution.scan the order's created_at
    collected / delivered / shipped orders.Fulfilment           fulfilled_at
    made ready (placed → ready)    orders.OrderEvent            the event to "ready for pickup"
    ready → collected              the first such event         and the fulfilment's fulfilled_at
    curbside wait                  pickup.CurbsideVisit         handed_over_at (wait_seconds)
    not collected / expired        orders.OrderEvent            the event ready → cancelled
    returns in store               returns.Return               received_at, at Return.store
    shelf-label scans              instore.ShelfScan            scanned_at
    reward points                  rewards.RewardEntry          created_at (earn / redeem entries)
    coupon uses                    coupons.Redemption           redeemed_at

A day is the store's own calendar day (Store.time_zone): PostgreSQL turns each moment into the
store's local date, so one grouped query per figure covers every store and day of a range.
Orders awaiting payment, or cancelled because the payment was never completed, are not orders
yet (or ever) and count nowhere; a day is therefore final once the payment holds of its last
minutes have ended, which is why beat recomputes yesterday as well as today.
"""

import datetime
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.db.models import (
    Count,
    DateField,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from coupons.models import Redemption
from instore.models import ShelfScan
from orders.models import (
    PICKUP_METHODS,
    CancelReason,
    Channel,
    Fulfilment,
    FulfilmentMethod,
    FulfilmentStatus,
    Order,
    OrderActivity,
    OrderEvent,
    OrderStatus,
)
from pickup.models import CurbsideVisit
from returns.models import Return
from rewards.models import EntryKind, RewardChannel, RewardEntry
from stores.models import Store

from .models import FIGURE_FIELDS, DailyStoreFigures

ONLINE_CHANNELS = (Channel.WEB, Channel.KIOSK)
# The event rows that are moves (an order's, or a split order's part's); the others (a check-in,
# a reminder…) repeat the status the order is in as their to_status.
STATUS_KINDS = (OrderActivity.STATUS, OrderActivity.FULFILMENT_STATUS)


class LocalDay(Func):
    """The date of a timestamp expression in the time zone named by another expression (each row
    its own store's zone). PostgreSQL: timezone(zone, moment)::date. SQLite (the demo): Django's
    own SQLite function django_datetime_cast_date(moment, zone, 'UTC'), which the SQLite backend
    registers on every connection; timestamps are stored there in UTC."""

    arity = 2
    output_field = DateField()

    def __init__(self, moment, zone):
        super().__init__(moment, zone)

    def as_sql(self, compiler, connection, **extra):
        moment, zone = self.get_source_expressions()
        clone = self.copy()
        clone.set_source_expressions([zone, moment])
        return Func.as_sql(clone, compiler, connection, template="(timezone(%(expressions)s))::date", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return Func.as_sql(
            self, compiler, connection, template="django_datetime_cast_date(%(expressions)s, 'UTC')", **extra
        )


def local_day(moment, zone):
    """The date of `moment` (an expression of a timestamp) in time zone `zone` (an expression of
    a zone's name), on PostgreSQL and on SQLite (LocalDay)."""
    return LocalDay(moment, zone)


class SecondsBetween(Func):
    """Seconds from one timestamp expression to a later one, a float. PostgreSQL:
    EXTRACT(EPOCH FROM later - earlier); SQLite: the difference of their Julian days × 86 400."""

    arity = 2
    arg_joiner = " - "
    template = "EXTRACT(EPOCH FROM (%(expressions)s))"
    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra,
        )


def seconds_between(later, earlier):
    """Seconds between two timestamp expressions (SecondsBetween)."""
    return SecondsBetween(later, earlier)


def _window(start: datetime.date, end: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """UTC moments sure to hold every store's local days start…end: a day either side, as no
    time zone is more than 14 hours from UTC. Each query then keeps only its local days."""
    utc = datetime.UTC
    return (
        datetime.datetime.combine(start - datetime.timedelta(days=1), datetime.time(), tzinfo=utc),
        datetime.datetime.combine(end + datetime.timedelta(days=2), datetime.time(), tzinfo=utc),
    )


def _grouped(queryset, *, moment: str, store: str, start, end, **sums):
    """`sums` of `queryset` per (store id, local day), for local days start…end: `moment` is the
    path to the event's timestamp, `store` the path to the Store the figure belongs to."""
    low, high = _window(start, end)
    return (
        queryset.filter(**{f"{moment}__gte": low, f"{moment}__lt": high})
        .annotate(rollup_store=F(f"{store}_id"))
        .annotate(rollup_day=local_day(F(moment), F(f"{store}__time_zone")))
        .filter(rollup_day__gte=start, rollup_day__lte=end)
        .order_by()
        .values("rollup_store", "rollup_day")
        .annotate(**sums)
    )


def _first_ready_at():
    """The moment a fulfilment (OuterRef "pk") first became ready for pickup."""
    return Subquery(
        OrderEvent.objects.filter(
            fulfilment=OuterRef("pk"), kind__in=STATUS_KINDS, to_status=OrderStatus.READY_FOR_PICKUP
        )
        .order_by("created_at", "pk")
        .values("created_at")[:1]
    )


def _orders(start, end):
    placed = Order.objects.exclude(status=OrderStatus.AWAITING_PAYMENT).exclude(
        cancel_reason=CancelReason.PAYMENT_NOT_COMPLETED
    )
    sums = {}
    for channel, name in ((Channel.WEB, "web"), (Channel.KIOSK, "kiosk"), (Channel.IN_STORE, "in_store")):
        sums[f"orders_{name}"] = Count("pk", filter=Q(channel=channel))
        sums[f"revenue_{name}"] = Sum("total", filter=Q(channel=channel))
    after_scan = Q(sale_attribution__scan__isnull=False)
    sums["orders_after_scan"] = Count("pk", filter=after_scan)
    sums["revenue_after_scan"] = Sum("total", filter=after_scan)
    return _grouped(placed, moment="created_at", store="store", start=start, end=end, **sums)


def _fulfilled(start, end):
    pickup = Q(method__in=PICKUP_METHODS, ready_at__isnull=False)
    fulfilments = Fulfilment.objects.filter(status=FulfilmentStatus.FULFILLED).annotate(ready_at=_first_ready_at())
    return _grouped(
        fulfilments,
        moment="fulfilled_at",
        store="order__store",
        start=start,
        end=end,
        collected_in_store=Count("pk", filter=Q(method=FulfilmentMethod.IN_STORE)),
        collected_curbside=Count("pk", filter=Q(method=FulfilmentMethod.CURBSIDE)),
        delivered=Count("pk", filter=Q(method=FulfilmentMethod.LOCAL_DELIVERY)),
        shipped=Count("pk", filter=Q(method=FulfilmentMethod.SHIPPING)),
        collected_after_ready=Count("pk", filter=pickup),
        collect_seconds=Sum(seconds_between(F("fulfilled_at"), F("ready_at")), filter=pickup),
    )


def _made_ready(start, end):
    events = OrderEvent.objects.filter(
        kind__in=STATUS_KINDS,
        to_status=OrderStatus.READY_FOR_PICKUP,
        fulfilment__isnull=False,
        fulfilment__method__in=PICKUP_METHODS,
    )
    return _grouped(
        events,
        moment="created_at",
        store="order__store",
        start=start,
        end=end,
        ready_count=Count("pk"),
        ready_seconds=Sum(seconds_between(F("created_at"), F("order__created_at"))),
    )


def _not_collected(start, end):
    events = OrderEvent.objects.filter(
        kind__in=STATUS_KINDS,
        to_status=OrderStatus.CANCELLED,
        from_status=OrderStatus.READY_FOR_PICKUP,
        fulfilment__isnull=False,
        fulfilment__method__in=PICKUP_METHODS,
    )
    return _grouped(
        events,
        moment="created_at",
        store="order__store",
        start=start,
        end=end,
        uncollected=Count("pk"),
        expired=Count("pk", filter=Q(order__cancel_reason=CancelReason.NOT_COLLECTED)),
    )


def _curbside(start, end):
    return _grouped(
        CurbsideVisit.objects.filter(wait_seconds__isnull=False),
        moment="handed_over_at",
        store="fulfilment__order__store",
        start=start,
        end=end,
        curbside_waits=Count("pk"),
        curbside_wait_seconds=Sum("wait_seconds"),
    )


def _returns(start, end):
    return _grouped(
        Return.objects.filter(order__channel__in=ONLINE_CHANNELS, store__isnull=False),
        moment="received_at",
        store="store",
        start=start,
        end=end,
        returns_online=Count("pk"),
        returns_from_other_stores=Count("pk", filter=~Q(order__store=F("store"))),
    )


def _scans(start, end):
    return _grouped(
        ShelfScan.objects.all(), moment="scanned_at", store="store", start=start, end=end, shelf_scans=Count("pk")
    )


def _rewards(start, end):
    # An online entry names its order; its store is the order's when the entry names none.
    low, high = _window(start, end)
    sums = {}
    for kind, verb in ((EntryKind.EARN, "earned"), (EntryKind.REDEEM, "redeemed")):
        for channel, name in ((RewardChannel.WEB, "web"), (RewardChannel.IN_STORE, "in_store")):
            sums[f"points_{verb}_{name}"] = Sum("points", filter=Q(kind=kind, channel=channel))
    return (
        RewardEntry.objects.filter(
            created_at__gte=low, created_at__lt=high, kind__in=(EntryKind.EARN, EntryKind.REDEEM)
        )
        .annotate(rollup_store=Coalesce(F("store_id"), F("order__store_id")))
        .filter(rollup_store__isnull=False)
        .annotate(rollup_day=local_day(F("created_at"), Coalesce(F("store__time_zone"), F("order__store__time_zone"))))
        .filter(rollup_day__gte=start, rollup_day__lte=end)
        .order_by()
        .values("rollup_store", "rollup_day")
        .annotate(**sums)
    )


def _coupons(start, end):
    uses = Redemption.objects.exclude(order__status=OrderStatus.AWAITING_PAYMENT).exclude(
        order__cancel_reason=CancelReason.PAYMENT_NOT_COMPLETED
    )
    sums = {}
    for channel, name in ((Channel.WEB, "web"), (Channel.KIOSK, "kiosk"), (Channel.IN_STORE, "in_store")):
        sums[f"coupons_{name}"] = Count("pk", filter=Q(channel=channel))
        sums[f"coupon_discount_{name}"] = Sum("discount", filter=Q(channel=channel))
    return _grouped(uses, moment="redeemed_at", store="store", start=start, end=end, **sums)


FIGURE_QUERIES = (
    _orders,
    _fulfilled,
    _made_ready,
    _not_collected,
    _curbside,
    _returns,
    _scans,
    _rewards,
    _coupons,
)

# Redemptions are negative entries in the ledger; the dashboard shows points redeemed as positive.
_NEGATED = {"points_redeemed_web", "points_redeemed_in_store"}
_SECONDS = {"ready_seconds", "collect_seconds", "curbside_wait_seconds"}


def roll_up(*, start: datetime.date, end: datetime.date, stores: Iterable[Store] | None = None) -> int:
    """Write the DailyStoreFigures of every store (or of `stores`) for every local day from `start`
    to `end`, both included, and return the number of rows written.

    Each row is computed whole from the recorded events and written over the one before it
    (INSERT … ON CONFLICT DO UPDATE), in one transaction: running a range again changes nothing
    unless events were recorded meanwhile (beat's task relies on that). A day with nothing
    recorded gets a row of zeros, so it is known to have been computed. Raises ValueError when
    `end` is before `start`. Runs len(FIGURE_QUERIES) grouped queries and one write, whatever
    the number of stores, days or orders."""
    if end < start:
        raise ValueError("end is before start")
    store_ids = (
        [store.pk for store in stores] if stores is not None else list(Store.objects.values_list("pk", flat=True))
    )
    wanted = set(store_ids)
    figures: dict[tuple[int, datetime.date], dict] = defaultdict(dict)
    for query in FIGURE_QUERIES:
        for row in query(start, end):
            key = (row.pop("rollup_store"), row.pop("rollup_day"))
            if key[0] in wanted:
                figures[key].update(row)
    now = timezone.now()
    days = [start + datetime.timedelta(days=n) for n in range((end - start).days + 1)]
    rows = []
    for store_id in store_ids:
        for day in days:
            found = figures.get((store_id, day), {})
            row = DailyStoreFigures(store_id=store_id, day=day, computed_at=now)
            for name in FIGURE_FIELDS:
                value = found.get(name) or 0
                if name in _NEGATED:
                    value = -value
                elif name in _SECONDS:
                    value = round(value)
                setattr(row, name, value if not isinstance(value, float) else Decimal(str(value)))
            rows.append(row)
    with transaction.atomic():
        DailyStoreFigures.objects.bulk_create(
            rows,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["store", "day"],
            update_fields=[*FIGURE_FIELDS, "computed_at"],
        )
    return len(rows)


def recent_days(now: datetime.datetime | None = None) -> tuple[datetime.date, datetime.date]:
    """Yesterday and today in every store's calendar: from the earliest store's yesterday to the
    latest store's today (stores in zones either side of midnight UTC are on different days)."""
    now = now or timezone.now()
    zones = set(Store.objects.values_list("time_zone", flat=True)) or {"UTC"}
    todays = {timezone.localtime(now, zoneinfo.ZoneInfo(name)).date() for name in zones}
    return min(todays) - datetime.timedelta(days=1), max(todays)
