"""Reads of transfers: when goods sent from a location would reach a store, and the lists staff
and shoppers see.

For other apps (the product page's "at Smáralind now, here by transfer on Thursday", checkout's
"send it to this store"): call `transfer_arrivals(sources=..., destination=..., now=...)` once for
every source a page shows — three queries whatever their number — or `transfer_arrival(...)` for
one pair. A source missing from the answer cannot send to that destination.
"""

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone

from stores.models import OpeningHours, SpecialOpeningHours, Store
from stores.opening import hours_on, specials_by_date

from .models import TransferRoute

# How far past the lead time to look for a day the destination is open (a long closure can last
# this long); a destination closed for longer receives no transfers meanwhile.
OPEN_DAY_HORIZON_DAYS = 14


def _lead_days(*, source: Store, destination: Store, routes: dict[int, TransferRoute]) -> int | None:
    """The route's lead time in days, the shop's default within one country, or None: no route."""
    route = routes.get(source.pk)
    if route is not None:
        return route.lead_days if route.is_active else None
    if source.country != destination.country:
        return None
    return settings.TRANSFER_DEFAULT_LEAD_DAYS


def transfer_arrivals(
    *, sources: Iterable[Store], destination: Store, now: datetime.datetime | None = None
) -> dict[int, datetime.date]:
    """{source store id: the date goods sent from it can be collected at `destination`}.

    The date is the destination's local date of `now` (default: the present) plus the route's lead
    time (TransferRoute.lead_days; without a route row, settings.TRANSFER_DEFAULT_LEAD_DAYS between
    two locations of one country), moved on to the first day the destination is open (its weekly
    hours and special dates, stores.opening). Left out: the destination itself, inactive sources,
    closed routes, other countries without a route, and every source when the destination is not
    an active store offering pickup or stays closed for OPEN_DAY_HORIZON_DAYS after the lead time.

    Queries: three (routes, weekly hours, special dates), whatever the number of sources; none when
    no source can send. Raises nothing.
    """
    if not (destination.is_active and not destination.is_warehouse and destination.offers_pickup):
        return {}
    candidates = [source for source in sources if source.is_active and source.pk != destination.pk]
    if not candidates:
        return {}
    routes = {
        route.source_id: route
        for route in TransferRoute.objects.filter(
            destination=destination, source_id__in=[source.pk for source in candidates]
        )
    }
    lead = {
        source.pk: days
        for source in candidates
        if (days := _lead_days(source=source, destination=destination, routes=routes)) is not None
    }
    if not lead:
        return {}
    today = destination.local_now(now).date()
    first = today + datetime.timedelta(days=min(lead.values()))
    last = today + datetime.timedelta(days=max(lead.values()) + OPEN_DAY_HORIZON_DAYS)
    weekly = list(OpeningHours.objects.filter(store=destination))
    specials = specials_by_date(SpecialOpeningHours.objects.filter(store=destination, date__range=(first, last)))
    arrivals = {}
    for source_id, days in lead.items():
        earliest = today + datetime.timedelta(days=days)
        for offset in range(OPEN_DAY_HORIZON_DAYS + 1):
            day = earliest + datetime.timedelta(days=offset)
            if hours_on(day, weekly, specials):
                arrivals[source_id] = day
                break
    return arrivals


def transfer_arrival(
    source: Store, destination: Store, *, now: datetime.datetime | None = None
) -> datetime.date | None:
    """The date goods sent from `source` can be collected at `destination`, or None when they
    cannot be sent there; the rules of transfer_arrivals. Three queries at most; for many sources,
    call transfer_arrivals once instead."""
    return transfer_arrivals(sources=[source], destination=destination, now=now or timezone.now()).get(source.pk)
