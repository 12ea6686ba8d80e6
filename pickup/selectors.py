"""Reads for the curbside queue: a fixed number of queries however many shoppers are waiting."""

from django.db.models.functions import Coalesce

from stores.models import Store

from .models import CurbsideVisit


def curbside_queue(*, user, store=None):
    """Shoppers at the curb (longest waiting first), then those on the way (soonest first), in the
    stores `user` manages (or just `store`). Two queries: the visits with their orders and stores,
    and the orders' lines."""
    stores = Store.objects.managed_by(user)
    if store is not None:
        stores = stores.filter(pk=store.pk)
    visits = (
        CurbsideVisit.objects.waiting()
        .filter(order__store__in=stores.values("pk"))
        .select_related("order", "order__store")
        .prefetch_related("order__lines")
        # "arrived" sorts before "on_the_way": the curb first, then by when they came or are due
        .order_by("state", Coalesce("arrived_at", "eta").asc(nulls_last=True), "pk")
    )
    return list(visits)
