"""Reads of transfers: when goods sent from a location would reach a store, and the lists staff
and shoppers see.

For other apps (the product page's "at Smáralind now, here by transfer on Thursday", checkout's
"send it to this store"): call `transfer_arrivals(sources=..., destination=..., now=...)` once for
every source a page shows — three queries whatever their number — or `transfer_arrival(...)` for
one pair. A source missing from the answer cannot send to that destination. The shopper orders
it sent to their store (stores.selectors.my_store) at
`reverse("checkout:transfer") + f"?product={product.pk}&quantity={units}"` (checkout.transfer_views),
which takes the best source (transfer_sources below).
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from orders.models import FULFILMENT_STATUSES_HOLDING_STOCK
from stores.models import OpeningHours, SpecialOpeningHours, StockLevel, Store
from stores.opening import hours_on, specials_by_date
from stores.selectors import distance_km

from .models import STATUSES_ON_THE_WAY, STATUSES_RESERVED_AT_SOURCE, Transfer, TransferLine, TransferRoute

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


def units_on_the_way(fulfilment_ids: list[int]) -> dict[int, dict[int, int]]:
    """{fulfilment id: {product id: units}} of those fulfilments' transfers not yet received
    (requested, picked or in transit): units not at the fulfilment's store yet. The
    settings.O2O_UNITS_ON_THE_WAY hook of orders.selectors.units_on_the_way. One query."""
    on_the_way: dict[int, dict[int, int]] = {}
    for fulfilment_id, product_id, units in TransferLine.objects.filter(
        transfer__fulfilment_id__in=fulfilment_ids, transfer__status__in=STATUSES_ON_THE_WAY
    ).values_list("transfer__fulfilment_id", "product_id", "quantity"):
        mine = on_the_way.setdefault(fulfilment_id, {})
        mine[product_id] = mine.get(product_id, 0) + units
    return on_the_way


def stock_reserved_for_transfers() -> dict[tuple[int, int], int]:
    """{(store id, product id): units} to add to what open fulfilments hold at a store, for
    `check_integrity` (settings.O2O_STOCK_RESERVED_OTHERWISE): + the units transfers not yet sent
    reserve at their source; - the units open fulfilments wait for from a transfer not yet
    received (not reserved at the fulfilment's store until they arrive). Units in transit are in
    neither store's stock: they appear only as the minus at the store waiting for them. Two queries."""
    adjustments: dict[tuple[int, int], int] = {}
    for store_id, product_id, units in (
        TransferLine.objects.filter(transfer__status__in=STATUSES_RESERVED_AT_SOURCE)
        .values("transfer__source_id", "product_id")
        .annotate(units=Sum("quantity"))
        .values_list("transfer__source_id", "product_id", "units")
    ):
        adjustments[(store_id, product_id)] = adjustments.get((store_id, product_id), 0) + units
    for store_id, product_id, units in (
        TransferLine.objects.filter(
            transfer__status__in=STATUSES_ON_THE_WAY,
            transfer__fulfilment__status__in=FULFILMENT_STATUSES_HOLDING_STOCK,
        )
        .values("transfer__fulfilment__stock_location_id", "product_id")
        .annotate(units=Sum("quantity"))
        .values_list("transfer__fulfilment__stock_location_id", "product_id", "units")
    ):
        adjustments[(store_id, product_id)] = adjustments.get((store_id, product_id), 0) - units
    return adjustments


def transfers_of_order(order) -> list[Transfer]:
    """The order's transfers, oldest first, with their two stores: the shopper's order page and
    the admin's order page. One query."""
    return list(Transfer.objects.filter(fulfilment__order=order).select_related("source", "destination").order_by("pk"))


@dataclass(frozen=True)
class TransferSource:
    """A location able to send a whole order to a store: `store`, when the goods can be
    collected at the destination (`arrives_on`, its local date), and the units it would still
    have for sale after sending them (`spare`, summed over the order's products)."""

    store: Store
    arrives_on: datetime.date
    spare: int = 0


def transfer_sources(
    quantities: dict[int, int], *, destination: Store, now: datetime.datetime | None = None
) -> list[TransferSource]:
    """The locations (stores and warehouses, not `destination`) with every unit of `quantities`
    ({product id: units}) for sale (on hand less reserved) that can send to `destination`, best
    first: the earliest arrival (transfer_arrivals), then the nearest (as the product page's
    endless aisle ranks them), then the most units to spare.
    The rule of the endless aisle's "send it to this store": checkout.services.place_transfer_order
    takes the first. Empty when none can. Four queries whatever the number of locations."""
    if not quantities:
        return []
    spare: dict[int, int] = {}
    holding: dict[int, int] = {}
    stores: dict[int, Store] = {}
    for level in (
        StockLevel.objects.filter(product_id__in=list(quantities), store__is_active=True)
        .exclude(store=destination)
        .select_related("store")
    ):
        available = level.on_hand - level.reserved
        if available >= quantities[level.product_id]:
            holding[level.store_id] = holding.get(level.store_id, 0) + 1
            spare[level.store_id] = spare.get(level.store_id, 0) + available - quantities[level.product_id]
            stores[level.store_id] = level.store
    able = [store for store_id, store in stores.items() if holding[store_id] == len(quantities)]
    arrivals = transfer_arrivals(sources=able, destination=destination, now=now)
    ranked = sorted(
        (store for store in able if store.pk in arrivals),
        key=lambda store: (
            arrivals[store.pk],
            round(distance_km(store.latitude, store.longitude, destination.latitude, destination.longitude), 1),
            -spare[store.pk],
            store.pk,
        ),
    )
    return [TransferSource(store=store, arrives_on=arrivals[store.pk], spare=spare[store.pk]) for store in ranked]


def most_units_sendable(product_id: int, *, destination: Store, now: datetime.datetime | None = None) -> int:
    """The most units of one product a single location can send to `destination` now (0 when
    none can): what the send-to-store page offers when more were asked for. Four queries."""
    return max(
        (source.spare + 1 for source in transfer_sources({product_id: 1}, destination=destination, now=now)), default=0
    )
