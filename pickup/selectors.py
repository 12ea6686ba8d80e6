"""Reads for pickups and the curbside queue: a fixed number of queries however many orders or
shoppers there are."""

from django.db.models import Prefetch, QuerySet
from django.db.models.functions import Coalesce

from accounts.models import User
from orders.models import Fulfilment, Order
from stores.models import Store

from .models import CurbsideVisit, Pickup


def with_pickups(orders: QuerySet[Order]) -> QuerySet[Order]:
    """`orders` with their fulfilments, each with its pickup and curbside visit: one more query
    however many orders, and pickup_of() then costs none."""
    return orders.prefetch_related(
        Prefetch("fulfilments", queryset=Fulfilment.objects.select_related("pickup", "curbside_visit"))
    )


def pickup_of(order: Order) -> Pickup | None:
    """The pickup of `order` (today every order has exactly one fulfilment, a pickup), or None.

    Reads the fulfilments prefetched by with_pickups; otherwise costs one query."""
    if "fulfilments" in getattr(order, "_prefetched_objects_cache", {}):
        for fulfilment in order.fulfilments.all():
            try:
                return fulfilment.pickup
            except Pickup.DoesNotExist:
                continue
        return None
    pickup = (
        Pickup.objects.select_related("fulfilment__curbside_visit")
        .filter(fulfilment__order=order)
        .order_by("pk")
        .first()
    )
    if pickup is not None:
        pickup.fulfilment.order = order
    return pickup


def curbside_queue(*, user: User, store: Store | None = None) -> list[CurbsideVisit]:
    """Shoppers at the curb (longest waiting first), then those on the way (soonest first), in the
    stores `user` manages (or just `store`). Two queries: the visits with their fulfilments,
    pickups, orders and stores, and the orders' lines."""
    stores = Store.objects.managed_by(user)
    if store is not None:
        stores = stores.filter(pk=store.pk)
    visits = (
        CurbsideVisit.objects.waiting()
        .filter(fulfilment__stock_location__in=stores.values("pk"))
        .select_related("fulfilment__pickup", "fulfilment__order__store")
        .prefetch_related("fulfilment__order__lines")
        # "arrived" sorts before "on_the_way": the curb first, then by when they came or are due
        .order_by("state", Coalesce("arrived_at", "eta").asc(nulls_last=True), "pk")
    )
    return list(visits)
