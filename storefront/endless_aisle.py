"""The endless aisle: what the product page tells a shopper standing in a store (instore) about a
product (or size) that store lacks — where it is now and how it can reach them.

Three answers, each as the page says it:
- "In stock here now": the store has a unit to sell;
- "At Smáralind now, here by transfer on Thursday": the store of this country that has it and
  can send it here soonest (transfers.selectors.transfer_arrivals; ties go to the nearest);
- "Ships to you in 2-3 days": a warehouse of the store's country has it and it can be shipped
  (shipping.selectors.ships_to_country; SHIPPING_DAYS).
"""

import datetime
from dataclasses import dataclass

from django.conf import settings

from catalog.models import Product
from shipping.selectors import ships_to_country
from stores.models import Store
from stores.selectors import StoreAvailability
from transfers.selectors import transfer_arrivals


@dataclass(frozen=True)
class EndlessAisle:
    """What the page offers in `store` for one product: `here` units to sell in the store; else
    the store it can come from by transfer (`transfer_from`) and the day it can be collected here
    (`transfer_on`, the store's local date), and whether it `ships` from a warehouse, in
    `ship_days` (fewest, most)."""

    store: Store
    here: int
    transfer_from: Store | None = None
    transfer_on: datetime.date | None = None
    ships: bool = False
    ship_days: tuple[int, int] = (0, 0)

    @property
    def available_elsewhere(self) -> bool:
        return self.transfer_from is not None or self.ships


def endless_aisle(
    *, product: Product, store: Store, rows: list[StoreAvailability], now: datetime.datetime
) -> EndlessAisle:
    """The endless aisle for `product` (a product or a variant loaded with its parent) in `store`,
    from `rows`, the product's availability arranged for that store (stores.selectors
    .cached_product_availability: the store first, then the others of its country, nearest
    first).

    Queries: none when the store has it; else at most three for the transfer (whatever the number
    of stores holding it) and one for the warehouses.
    """
    mine = next((row for row in rows if row.store.pk == store.pk), None)
    here = mine.available if mine is not None else 0
    if here > 0:
        return EndlessAisle(store=store, here=here)
    holders = [row.store for row in rows if row.store.pk != store.pk and row.in_stock]
    arrivals = transfer_arrivals(sources=holders, destination=store, now=now) if holders else {}
    # The earliest day; among sources arriving that day the nearest (holders are nearest first).
    source = min(
        (holder for holder in holders if holder.pk in arrivals),
        key=lambda holder: arrivals[holder.pk],
        default=None,
    )
    fewest, most = settings.SHIPPING_DAYS
    return EndlessAisle(
        store=store,
        here=0,
        transfer_from=source,
        transfer_on=arrivals[source.pk] if source is not None else None,
        ships=ships_to_country(product, country=store.country),
        ship_days=(fewest, most),
    )
