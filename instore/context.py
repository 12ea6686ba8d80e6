"""The in-store context: a browser that opened a store's link (a kiosk, the sign at the door, a
shelf label's QR code, a member of staff selling) is "in" that store.

Kept in the session (o2o_site.cache.pages.IN_STORE_SESSION_KEY), as
{"store": pk, "since": epoch seconds, "previous_store": pk | None, "staff": user pk | None}.
While it lasts the store is the session's store (stores.selectors.my_store: its stock first on
every page, its pickup preselected at checkout), the pages show a banner naming it, and orders
placed record channel "in store", the store, and the member of staff selling
(checkout.services, instore.services.attribute_order).

A context ends when the shopper leaves it (the banner's button), chooses another store, or after
IN_STORE_CONTEXT_HOURS (a shopper who scanned a label and went home is no longer in the store);
the session's earlier store is then put back. A shelf scan is remembered apart from the context
(SHELF_SCAN_SESSION_KEY), for the rest of the session: an order that follows it, in the store or
at home that evening, is attributed to it.

Links are signed (django.core.signing, salt STORE_LINK_SALT) so a link can name only a store (and
a product) the shop itself printed; they do not expire (they are printed on signs and shelves),
and a SECRET_KEY rotation keeps them working through SECRET_KEY_FALLBACKS.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.http import HttpRequest
from django.urls import reverse

from accounts.models import User
from catalog.models import Product
from o2o_site.cache.pages import IN_STORE_SESSION_KEY
from stores.models import Store
from stores.selectors import MY_STORE_SESSION_KEY
from stores.services import choose_my_store, restore_session_store

STORE_LINK_SALT = "instore.store-link"
SHELF_SCAN_SESSION_KEY = "shelf_scan"


@dataclass(frozen=True)
class LinkTarget:
    """What a signed link names: a store, and for a shelf label the product on the shelf."""

    store_id: int
    product_id: int | None = None


def link_token(*, store: Store, product: Product | None = None) -> str:
    """The signed part of a store's link ("12:…") or of a shelf label's ("12-345:…"): the store's
    pk, and the product's, with a signature over both."""
    value = str(store.pk) if product is None else f"{store.pk}-{product.pk}"
    return signing.Signer(salt=STORE_LINK_SALT).sign(value)


def read_link_token(token: str) -> LinkTarget | None:
    """The store (and product) a link names, or None when its signature is not this shop's
    (tampered, made up, signed with another key) or it is malformed. Whether the store and
    product are still sold is for the caller to check."""
    try:
        value = signing.Signer(salt=STORE_LINK_SALT).unsign(token)
    except signing.BadSignature:
        return None
    store_id, _dash, product_id = value.partition("-")
    try:
        return LinkTarget(store_id=int(store_id), product_id=int(product_id) if product_id else None)
    except ValueError:
        return None


@dataclass(frozen=True)
class InStoreContext:
    """The store this browser is in (its pk), since when (epoch seconds), and the member of staff
    selling from it (their pk), if any."""

    store_id: int
    since: float
    staff_id: int | None = None


def current_context(request: HttpRequest) -> InStoreContext | None:
    """The in-store context of this request, or None. No query: the session alone. A context
    whose time is up, or whose store is no longer the session's store, is no context."""
    raw = request.session.get(IN_STORE_SESSION_KEY)
    if not isinstance(raw, dict):
        return None
    try:
        context = InStoreContext(
            store_id=int(raw["store"]),
            since=float(raw["since"]),
            staff_id=int(raw["staff"]) if raw.get("staff") else None,
        )
    except (KeyError, TypeError, ValueError):
        return None
    if time.time() - context.since > settings.IN_STORE_CONTEXT_HOURS * 3600:
        return None
    if request.session.get(MY_STORE_SESSION_KEY) != context.store_id:
        return None
    return context


def enter_store(request: HttpRequest, *, store: Store, staff: User | None = None) -> None:
    """Put this browser in `store` (a store for shoppers, checked by the caller): the store
    becomes the session's store (not the account's), remembering the one before. Entering again
    (another label in the same store) renews the context and keeps the store to go back to."""
    previous = request.session.get(IN_STORE_SESSION_KEY)
    if isinstance(previous, dict) and current_context(request) is not None:
        back_to = previous.get("previous_store")
    else:
        back_to = request.session.get(MY_STORE_SESSION_KEY)
    choose_my_store(request=request, store=store, on_account=False)
    request.session[IN_STORE_SESSION_KEY] = {
        "store": store.pk,
        "since": time.time(),
        # The same store when the shopper had chosen this one: leaving keeps it their store.
        "previous_store": back_to,
        "staff": staff.pk if staff is not None else None,
    }


def leave_store(request: HttpRequest) -> None:
    """End the in-store context: the session's store goes back to what it was before."""
    raw = request.session.pop(IN_STORE_SESSION_KEY, None)
    if not isinstance(raw, dict):
        return
    if request.session.get(MY_STORE_SESSION_KEY) == raw.get("store"):
        previous = raw.get("previous_store")
        restore_session_store(request=request, store_id=previous if isinstance(previous, int) else None)


def drop_ended_context(request: HttpRequest) -> None:
    """Leave the context when it has ended (its time is up, another store was chosen, or it
    cannot be read), so no page shows it or keys its cache by it. The middleware calls this."""
    if IN_STORE_SESSION_KEY in request.session and current_context(request) is None:
        raw = request.session.get(IN_STORE_SESSION_KEY)
        if isinstance(raw, dict) and request.session.get(MY_STORE_SESSION_KEY) != raw.get("store"):
            # Another store was chosen: that choice stands.
            del request.session[IN_STORE_SESSION_KEY]
        else:
            leave_store(request)


def remember_scan(request: HttpRequest, *, scan_id: int, store_id: int, product_id: int) -> None:
    """Remember the shelf scan for the rest of the session (orders that follow are attributed to
    it)."""
    request.session[SHELF_SCAN_SESSION_KEY] = {
        "id": scan_id,
        "store": store_id,
        "product": product_id,
        "at": time.time(),
    }


def last_scan(request: HttpRequest) -> dict | None:
    """The session's latest shelf scan ({"id", "store", "product", "at"}), or None."""
    raw = request.session.get(SHELF_SCAN_SESSION_KEY)
    return raw if isinstance(raw, dict) and isinstance(raw.get("id"), int) else None


def link_path(*, store: Store, product: Product | None = None) -> str:
    """The path of a store's link, or of `product`'s shelf label in `store` (the pages are
    storefront.instore_views, mounted at /in-store/)."""
    return reverse("instore:open", kwargs={"token": link_token(store=store, product=product)})


def absolute_link(*, store: Store, product: Product | None = None) -> str:
    """link_path on the shop's public address (SITE_URL): what the QR codes hold."""
    return settings.SITE_URL.rstrip("/") + link_path(store=store, product=product)
