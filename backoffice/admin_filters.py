"""The order list's "Pickup slot" filter: what must be ready today, by the hour, in store time
(the time of each order's pickup, at its fulfilment's stock location).

Each store keeps its own clock (Reykjavík and Oslo are an hour or two apart), so "today" and
"14:00" are worked out per store in its time zone and combined into one condition.
"""

import datetime

from django.contrib import admin
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import STATUSES_HOLDING_STOCK
from payment.selectors import with_authorisation_expiring
from stores.admin_scoping import managed_stores

FIRST_HOUR, LAST_HOUR = 6, 23


def _local_day_bounds(store, day_offset, now):
    zone = store.zone
    day = now.astimezone(zone).date() + datetime.timedelta(days=day_offset)
    start = datetime.datetime.combine(day, datetime.time(0), tzinfo=zone)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(0), tzinfo=zone)
    return start, end


def _local_hour_bounds(store, hour, now):
    zone = store.zone
    day = now.astimezone(zone).date()
    start = datetime.datetime.combine(day, datetime.time(hour), tzinfo=zone)
    return start, start + datetime.timedelta(hours=1)


class PickupSlotListFilter(admin.SimpleListFilter):
    title = _("pickup slot")
    parameter_name = "slot"

    def lookups(self, request, model_admin):
        choices = [
            ("today", _("Today")),
            ("tomorrow", _("Tomorrow")),
            ("next7", _("Next 7 days")),
            ("overdue", _("Slot passed, not collected")),
            ("none", _("No slot")),
        ]
        choices += [(f"h{hour:02d}", _("Today %(hour)s:00") % {"hour": f"{hour:02d}"}) for hour in self._hours()]
        return choices

    def _hours(self):
        return range(FIRST_HOUR, LAST_HOUR + 1)

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value == "none":
            return queryset.filter(fulfilments__pickup__slot_start__isnull=True)
        now = timezone.now()
        if value == "overdue":
            return queryset.filter(fulfilments__pickup__slot_end__lt=now, status__in=STATUSES_HOLDING_STOCK)
        if value == "next7":
            return queryset.filter(
                fulfilments__pickup__slot_start__gte=now,
                fulfilments__pickup__slot_start__lt=now + datetime.timedelta(days=7),
            )
        if value in ("today", "tomorrow"):
            offset = 0 if value == "today" else 1
            bounds = {store.pk: _local_day_bounds(store, offset, now) for store in managed_stores(request)}
        elif value.startswith("h") and value[1:].isdigit() and int(value[1:]) in self._hours():
            hour = int(value[1:])
            bounds = {store.pk: _local_hour_bounds(store, hour, now) for store in managed_stores(request)}
        else:
            return queryset
        condition = Q(pk__in=[])
        for store_id, (start, end) in bounds.items():
            condition |= Q(
                fulfilments__stock_location_id=store_id,
                fulfilments__pickup__slot_start__gte=start,
                fulfilments__pickup__slot_start__lt=end,
            )
        return queryset.filter(condition)


class AuthorisationExpiringListFilter(admin.SimpleListFilter):
    """Orders paid online whose authorisation expires within 24 hours (or has): staff hand them
    over (capturing the money) before then, or ask the shopper to pay again."""

    title = _("payment authorisation")
    parameter_name = "authorisation"

    def lookups(self, request, model_admin):
        return [("expiring", _("Expires within 24 hours"))]

    def queryset(self, request, queryset):
        if self.value() == "expiring":
            return with_authorisation_expiring(queryset)
        return queryset
