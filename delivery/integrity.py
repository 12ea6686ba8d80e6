"""Reconciling local deliveries (read-only), part of `manage.py check_integrity`
(O2O_INTEGRITY_CHECKS):

- every local-delivery fulfilment has its delivery (address, window, fee), and every delivery
  still to be delivered belongs to one;
- a delivery's state agrees with its fulfilment: delivered ⇔ fulfilled;
- no window from yesterday on holds more deliveries than its capacity (counted as booking counts
  them: every delivery whose window overlaps, not only equal starts).
Three queries whatever the number of deliveries.
"""

import datetime
from collections import defaultdict

from django.db.models import Q
from django.utils import timezone

from orders.models import Fulfilment, FulfilmentMethod, FulfilmentStatus

from .models import Delivery, DeliveryState, DeliveryWindow
from .windows import WindowRule, booked_in, window_grid


def check_deliveries(report, *, now: datetime.datetime | None = None) -> None:
    now = now or timezone.now()
    _check_rows(report)
    _check_capacity(report, now=now)


def _check_rows(report) -> None:
    rows = Fulfilment.objects.filter(Q(method=FulfilmentMethod.LOCAL_DELIVERY) | Q(delivery__isnull=False)).values_list(
        "order__number", "method", "status", "delivery__state", "stock_location_id", "delivery__store_id"
    )
    for number, method, status, state, location, van_store in rows:
        if state is not None and van_store != location:
            # The van's store books the window and must be where the units are reserved (a split
            # order's delivered part comes from its own store, not the order's).
            report.problems.append(f"order {number}: delivered by store {van_store} from the stock of store {location}")
        if method == FulfilmentMethod.LOCAL_DELIVERY and state is None:
            report.problems.append(f"order {number}: a local delivery without its delivery details")
        elif state is not None and state != DeliveryState.TO_COLLECT and method != FulfilmentMethod.LOCAL_DELIVERY:
            report.problems.append(f"order {number}: delivery details on a fulfilment by {method}")
        elif (state == DeliveryState.DELIVERED) != (
            status == FulfilmentStatus.FULFILLED
        ) and state != DeliveryState.TO_COLLECT:
            report.problems.append(f"order {number}: delivery {state} but its fulfilment is {status}")


def _check_capacity(report, *, now) -> None:
    booked = defaultdict(list)
    for store_id, starts_at, ends_at in (
        Delivery.objects.filter(window_start__gte=now - datetime.timedelta(days=1))
        .exclude(fulfilment__status=FulfilmentStatus.CANCELLED)
        .values_list("store_id", "window_start", "window_end")
    ):
        booked[store_id].append((starts_at, ends_at, 1))
    if not booked:
        return
    rules = defaultdict(list)
    zones = {}
    for window in DeliveryWindow.objects.filter(store_id__in=list(booked)).select_related("store"):
        rules[window.store_id].append(
            WindowRule(window.weekday, window.starts, window.ends, window.cutoff, window.capacity)
        )
        zones[window.store_id] = window.store
    for store_id, bookings in booked.items():
        if store_id not in zones:
            continue
        store = zones[store_id]
        last = max(starts for starts, _ends, _n in bookings)
        days = (last.astimezone(store.zone).date() - now.astimezone(store.zone).date()).days + 3
        # Every window from yesterday on, whatever its cut-off and lead time.
        grid = window_grid(
            rules=[WindowRule(r.weekday, r.starts, r.ends, datetime.time(23, 59), r.capacity) for r in rules[store_id]],
            zone=store.zone,
            closed=(),
            lead_time=datetime.timedelta(0),
            days_ahead=max(days, 1),
            now=now - datetime.timedelta(days=1),
        )
        for window in grid:
            count = booked_in(window, bookings)
            if count > window.capacity:
                local = window.starts_at.astimezone(store.zone)
                report.problems.append(
                    f"{store.name}: the delivery window {local:%Y-%m-%d %H:%M} holds {count} deliveries, "
                    f"{window.capacity} places"
                )
