"""Who a campaign goes to: the subscribed consents its audience selects, as one queryset.

Read in id ranges by campaigns.sending.prepare inside an INSERT … SELECT, so no row passes
through Python. "Near a store": the consent was given at, or its account's chosen store is, a
store within the radius (great-circle distance, stores.selectors.distance_km). "Bought in a
category": an order handed over (collected, delivered, shipped) with a line of a product in the
category or below it, by the consent's account or to its address.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet

from catalog.models import Category
from orders.models import OrderLine, OrderStatus
from stores.models import Store
from stores.selectors import distance_km

from .models import Audience, Campaign, ConsentState, EmailConsent

BOUGHT = (OrderStatus.COLLECTED, OrderStatus.DELIVERED, OrderStatus.SHIPPED)


def audience_of(campaign: Campaign) -> QuerySet[EmailConsent]:
    """The subscribed consents `campaign` goes to (not evaluated)."""
    consents = EmailConsent.objects.filter(state=ConsentState.SUBSCRIBED)
    if campaign.audience == Audience.NEAR_STORE:
        near = stores_near(campaign.store, radius_km=campaign.radius_km)
        return consents.filter(Q(store__in=near) | Q(user__preferred_store__in=near))
    if campaign.audience == Audience.BOUGHT_IN_CATEGORY:
        return consents.filter(bought_in(campaign.category))
    return consents


def stores_near(store: Store, *, radius_km: int) -> list[int]:
    """Ids of the stores within `radius_km` km of `store` (itself included); the chain has at most
    a few hundred stores, read once."""
    return [
        pk
        for pk, latitude, longitude in Store.objects.values_list("pk", "latitude", "longitude")
        if distance_km(store.latitude, store.longitude, latitude, longitude) <= radius_km
    ]


def nearest_other_store(store: Store, *, own: set[int]) -> tuple[Store, float] | None:
    """The store nearest to `store` whose id is not in `own`, with its distance in km, or None
    when every store is in `own`. What bounds a store manager's "near a store" radius: within it,
    their campaign would reach the shoppers of a store that is not theirs."""
    nearest = None
    for other in Store.objects.exclude(pk__in=own).only("pk", "name", "latitude", "longitude"):
        distance = distance_km(store.latitude, store.longitude, other.latitude, other.longitude)
        if nearest is None or distance < nearest[1]:
            nearest = (other, distance)
    return nearest


def bought_in(category: Category) -> Q:
    lines = OrderLine.objects.filter(order__status__in=BOUGHT, product__category__in=category.descendant_ids())
    by_account = lines.filter(order__customer=OuterRef("user"))
    by_address = lines.filter(order__contact_email__iexact=OuterRef("email"))
    return Q(Exists(by_account)) | Q(Exists(by_address))
