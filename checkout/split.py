"""The split the checkout offers for a cart no single location can supply: the lines the
shopper's pickup store has, picked up there; the rest delivered from a store that delivers to the
address and has it all, or else shipped from a warehouse. Each part with its lines, location,
fee, time or windows and total; the order total. place_split_order places what was confirmed.

Reads only (a fixed number of queries whatever the size of the cart or the chain: the pickup
stores' stock in one, the delivery lookup, the stock of the stores that deliver, the pickup
times, the shipping quote).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q
from django.utils.translation import gettext as _

from checkout.cart import CartLine
from delivery.selectors import PostcodeProblem, delivery_options
from delivery.windows import Window
from orders.models import FulfilmentMethod
from orders.selectors import store_ids_holding, stores_able_to_supply
from pickup.slots import Slot, available_slots_by_store
from shipping.selectors import ShippingProblem, ShippingQuote, shipping_options
from stores.models import StockLevel, Store


class NoSplit(Exception):
    """Why no split is offered, for the shopper (in the active language)."""


@dataclass(frozen=True)
class OfferedPart:
    """One part offered: its cart lines, how and from where, its fee, and its time: the earliest
    free pickup time (a pickup), the windows with room (a delivery)."""

    method: FulfilmentMethod
    location: Store
    lines: tuple[CartLine, ...]
    fee: Decimal = Decimal("0")
    pickup_slot: Slot | None = None
    windows: tuple[Window, ...] = ()
    quote: ShippingQuote | None = None

    @property
    def goods(self) -> Decimal:
        return sum((line.line_total for line in self.lines), Decimal("0"))

    @property
    def total(self) -> Decimal:
        return self.goods + self.fee

    @property
    def product_ids(self) -> frozenset[int]:
        return frozenset(line.product.pk for line in self.lines)


@dataclass(frozen=True)
class SplitOffer:
    parts: tuple[OfferedPart, ...]

    @property
    def total(self) -> Decimal:
        return sum((part.total for part in self.parts), Decimal("0"))


def split_offer(*, lines: list[CartLine], postcode: str, country: str, near: Store | None) -> SplitOffer:
    """The split offered for `lines` delivered or shipped to `postcode` in `country` when needed:
    the pickup part at `near` (the shopper's store) if it has any line in full, else at the
    store of that country with the most lines; the rest delivered by the nearest store that
    delivers there and has all of it (its earliest windows with room), else shipped from a
    warehouse. Raises NoSplit when one location has the whole cart (no split is needed), when no
    store has any line, or the rest can be neither delivered nor shipped there (why), and
    PostcodeProblem for an address that cannot be checked."""
    quantities = {line.product.pk: line.quantity for line in lines}
    if stores_able_to_supply(quantities).exists():
        raise NoSplit(_("A store has everything in your cart: check out for pickup there, no need to split it."))
    pickup_store = _pickup_store(quantities, country=country, near=near)
    if pickup_store is None:
        raise NoSplit(_("No store has any of the items in your cart for pickup right now."))
    here = _lines_held(pickup_store, quantities)
    picked = tuple(line for line in lines if line.product.pk in here)
    rest = tuple(line for line in lines if line.product.pk not in here)
    slots = available_slots_by_store([pickup_store]).get(pickup_store.pk, [])
    pickup = OfferedPart(
        method=FulfilmentMethod.IN_STORE, location=pickup_store, lines=picked, pickup_slot=slots[0] if slots else None
    )
    rest_quantities = {line.product.pk: line.quantity for line in rest}
    rest_value = sum((line.line_total for line in rest), Decimal("0"))
    lookup = None
    try:
        lookup = delivery_options(postcode=postcode, country=country, order_value=rest_value)
    except PostcodeProblem:
        # No store delivers there: the rest may still be shipped (an unknown postcode fails there too).
        lookup = None
    if lookup is not None:
        stocked = store_ids_holding(rest_quantities, among=[option.store.pk for option in lookup.options])
        for option in lookup.options:
            if option.store.pk in stocked and option.can_deliver and option.windows:
                if option.store.pk == pickup_store.pk:
                    continue
                delivered = OfferedPart(
                    method=FulfilmentMethod.LOCAL_DELIVERY,
                    location=option.store,
                    lines=rest,
                    fee=option.fee,
                    windows=tuple(window for window in option.windows if window.booked < window.capacity),
                )
                if delivered.windows:
                    return SplitOffer(parts=(pickup, delivered))
    try:
        quote = shipping_options(
            postcode=postcode, country=country, lines=[(line.product, line.quantity) for line in rest]
        )
    except ShippingProblem as problem:
        raise NoSplit(
            _("The rest of your cart can be neither delivered nor shipped to that address: %(reason)s")
            % {"reason": problem}
        ) from problem
    shipped = OfferedPart(
        method=FulfilmentMethod.SHIPPING, location=quote.warehouse, lines=rest, fee=quote.fee, quote=quote
    )
    return SplitOffer(parts=(pickup, shipped))


def _pickup_store(quantities: dict[int, int], *, country: str, near: Store | None) -> Store | None:
    """`near` if it has a line in full, else the pickup store of `country` with the most lines in
    full (then by name): one query."""
    if near is not None and near.offers_pickup and near.is_active and _lines_held(near, quantities):
        return near
    enough = Q()
    for product_id, units in quantities.items():
        enough |= Q(product_id=product_id, on_hand__gte=F("reserved") + units)
    best = (
        StockLevel.objects.filter(enough, store__in=Store.objects.offering_pickup().filter(country=country))
        .values("store_id")
        .annotate(lines=Count("pk"))
        .order_by("-lines", "store__name", "store_id")
        .first()
    )
    return Store.objects.select_related("pickup_settings").get(pk=best["store_id"]) if best else None


def _lines_held(store: Store, quantities: dict[int, int]) -> set[int]:
    """The products of `quantities` `store` has enough units of for sale now."""
    enough = Q()
    for product_id, units in quantities.items():
        enough |= Q(product_id=product_id, on_hand__gte=F("reserved") + units)
    return set(StockLevel.objects.filter(enough, store=store).values_list("product_id", flat=True))
