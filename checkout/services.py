"""Placing an order from a checkout: the one place that composes the cart, stock, pickup times
and orders (Saleor's checkout/complete_checkout.py has the same role). Views call these."""

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from catalog.models import Product
from o2o_site.database_errors import limit_lock_wait, retry_on_conflict
from orders.models import FulfilmentMethod, Order
from orders.services import AlreadyPlaced, Contact, LineSpec, OrderError, create_order
from pickup.models import PickupSettings
from pickup.services import create_pickup
from pickup.slots import SlotUnavailable, available_slots, book_first_free_slot
from stores import services as stock
from stores.models import Store

# A checkout without a chosen pickup time tries this many of the earliest free ones.
FREE_SLOTS_TRIED = 5


def pickup_times_to_try(*, store: Store) -> list:
    """The earliest free pickup times at `store` (aware datetimes, at most FREE_SLOTS_TRIED), for a
    checkout where the shopper chose none: the page preselects the first, and if it fills up
    meanwhile the next ones are tried. Raises OrderError when the store has none in the coming days.
    """
    offered = available_slots(store)
    if not offered:
        raise OrderError(
            _("%(store)s has no free pickup times in the coming days. Please choose another store.")
            % {"store": store.name}
        )
    return [free.starts_at for free in offered[:FREE_SLOTS_TRIED]]


def place_pickup_order(
    *,
    quantities: dict[int, int],
    store: Store,
    contact: Contact,
    customer: User | None = None,
    language: str = "en",
    checkout_token: str | None = None,
    fulfilment: FulfilmentMethod = FulfilmentMethod.IN_STORE,
    vehicle_description: str = "",
    collector_name: str = "",
    pickup_slot=None,
    pickup_slot_choices=(),
) -> Order:
    """Reserve every line at `store` and create the order, all in one transaction: one
    fulfilment by the pickup method `fulfilment`, from `store`'s stock, with its pickup details.

    `quantities` maps product ids to units. Prices come from the catalog as it is now, never from
    the shopper. Raises stores.services.InsufficientStock (nothing reserved) or OrderError. Given
    the same `checkout_token` twice (a double submit), returns the order the first call placed.
    `pickup_slot` (an aware datetime, a slot start from pickup.slots) is booked under the slot's
    lock in the same transaction; a full or no longer offered slot is an OrderError. Without one,
    `pickup_slot_choices` (slot starts, earliest first) are tried in turn and the first with
    room is booked: a shopper who chose no time is not refused because one filled meanwhile.
    """
    if checkout_token:
        placed = Order.objects.filter(checkout_token=checkout_token).first()
        if placed is not None:
            return placed
    try:
        return _place_pickup_order(
            quantities=quantities,
            store=store,
            contact=contact,
            customer=customer,
            language=language,
            checkout_token=checkout_token or None,
            fulfilment=fulfilment,
            vehicle_description=vehicle_description,
            collector_name=collector_name,
            pickup_slots=[pickup_slot] if pickup_slot is not None else list(pickup_slot_choices),
        )
    except AlreadyPlaced as duplicate:
        return duplicate.order


# Deadlocks and serialization failures are repeated (the whole transaction, up to 3 times);
# a lock wait is bounded by CHECKOUT_LOCK_TIMEOUT_MS, then the shopper is asked to try again.
@retry_on_conflict(attempts=3)
def _place_pickup_order(
    *, quantities, store, pickup_slots, fulfilment, vehicle_description, collector_name, **order_fields
):
    if not quantities:
        raise OrderError(_("Your cart is empty."))
    if not (store.is_active and store.offers_pickup):
        raise OrderError(_("%(store)s does not offer pickup.") % {"store": store.name})
    if fulfilment == FulfilmentMethod.CURBSIDE and not PickupSettings.for_store(store).offers_curbside:
        raise OrderError(_("%(store)s does not offer curbside pickup.") % {"store": store.name})
    with transaction.atomic():
        limit_lock_wait()
        products = Product.objects.active().in_bulk(list(quantities))
        missing = set(quantities) - set(products)
        if missing:
            raise OrderError(_("Some products in your cart are no longer sold. Please remove them."))
        # The slot first, then the stock: every checkout takes its locks in this order.
        slot = None
        if pickup_slots:
            try:
                slot = book_first_free_slot(store=store, starts=pickup_slots)
            except SlotUnavailable as refused:
                raise OrderError(str(refused)) from refused
        stock.reserve_stock(store=store, quantities=quantities)
        placed = create_order(
            lines=[LineSpec(product=products[pk], quantity=units) for pk, units in sorted(quantities.items())],
            store=store,
            method=fulfilment,
            stock_location=store,
            **order_fields,
        )
        create_pickup(
            fulfilment=placed.fulfilment,
            slot_start=slot.starts_at if slot else None,
            slot_end=slot.ends_at if slot else None,
            vehicle_description=vehicle_description,
            collector_name=collector_name,
        )
        return placed.order
