"""Writes of in-store selling: counting shelf scans, and recording where an order was sold."""

import time
from dataclasses import dataclass

from django.http import HttpRequest

from accounts.models import User
from catalog.models import Product
from orders.models import Channel, Order
from stores.models import Store

from .context import current_context, last_scan, remember_scan
from .models import SaleAttribution, ShelfScan

# The same label scanned again in the same session within this many seconds (a reload, a second
# look) is the same scan, counted once.
RESCAN_SECONDS = 15 * 60


def record_scan(request: HttpRequest, *, store: Store, product: Product) -> int:
    """Count one scan of `product`'s shelf label in `store` and remember it in the session (an
    order that follows in this session is attributed to it). A repeat of the session's last scan
    of the same label within RESCAN_SECONDS is not counted again; its id is returned instead.
    Returns the scan's pk. The caller checks that the store and product are for sale."""
    previous = last_scan(request)
    if (
        previous is not None
        and previous.get("store") == store.pk
        and previous.get("product") == product.pk
        and time.time() - float(previous.get("at") or 0) < RESCAN_SECONDS
    ):
        return previous["id"]
    scan = ShelfScan.objects.create(store=store, product=product)
    remember_scan(request, scan_id=scan.pk, store_id=store.pk, product_id=product.pk)
    return scan.pk


@dataclass(frozen=True)
class Attribution:
    """Where an order being placed was sold: the store the browser is in (its pk, or None), the
    shelf scan that preceded it in the session (its pk, or None) and the member of staff selling
    (their pk, or None). `channel` is the order's: in store when a store context is set."""

    store_id: int | None = None
    scan_id: int | None = None
    staff_id: int | None = None

    @property
    def channel(self) -> Channel:
        return Channel.IN_STORE if self.store_id is not None else Channel.WEB

    @property
    def is_empty(self) -> bool:
        return self.store_id is None and self.scan_id is None and self.staff_id is None


def attribution_of(request: HttpRequest) -> Attribution | None:
    """What an order placed by this request owes to a store, a shelf scan and a member of staff,
    from the session (no query), or None when nothing. The staff member is checked when the
    order is written (attribute_order)."""
    context = current_context(request)
    scan = last_scan(request)
    attribution = Attribution(
        store_id=context.store_id if context else None,
        scan_id=scan["id"] if scan else None,
        staff_id=context.staff_id if context else None,
    )
    return None if attribution.is_empty else attribution


def customer_of(request: HttpRequest) -> User | None:
    """Whose order a checkout in this request places: the signed-in shopper, or nobody when a
    member of staff is selling for a customer here (assisted selling: the order carries the
    customer's contact details, never the staff member's account or details)."""
    context = current_context(request)
    if context is not None and context.staff_id is not None and context.staff_id == request.user.pk:
        return None
    return request.user if request.user.is_authenticated else None


def may_sell_in(user: User, store: Store) -> bool:
    """Whether `user` may sell to customers in `store` (assisted selling): active staff who are a
    superuser or one of the store's managers (stores.Store.managers, as the admin's scoping)."""
    if not (user.is_active and user.is_staff):
        return False
    return user.is_superuser or store.managers.filter(pk=user.pk).exists()


def attribute_order(*, order: Order, attribution: Attribution | None) -> SaleAttribution | None:
    """Record where `order` (just created, in the caller's transaction) was sold. A scan that no
    longer exists is left out; so is a member of staff who may no longer sell in the store
    (may_sell_in). Returns the row, or None when there is nothing to record. Writes no channel:
    the caller creates the order with `attribution.channel`."""
    if attribution is None or attribution.is_empty:
        return None
    store = Store.objects.filter(pk=attribution.store_id).first() if attribution.store_id else None
    scan_id = attribution.scan_id
    if scan_id is not None and not ShelfScan.objects.filter(pk=scan_id).exists():
        scan_id = None
    staff = None
    if attribution.staff_id is not None and store is not None:
        candidate = User.objects.filter(pk=attribution.staff_id).first()
        if candidate is not None and may_sell_in(candidate, store):
            staff = candidate
    if store is None and scan_id is None:
        return None
    return SaleAttribution.objects.create(order=order, store=store, scan_id=scan_id, staff=staff)
