"""Whole shop pages rendered once and served to every shopper who would see the same HTML.

A view decorated with @shared_page returns a SharedPage: the version stamps (and any other
values) of what it shows, the shopper's store, and how to render it. The page's body is then kept
in the fragments cache under a key of everything the body can differ by:

- its stamps, its path and query string (parameters sorted: the same page under any order);
- the language and the shop's currency (stamps.variant());
- the shopper's store, unless the page fills its store's parts in itself (SharedPage.fill);
- the store the browser is in (instore: its banner and the endless aisle), and whether a member
  of staff is selling from it; that store too while there.

What is each shopper's own is never in the body, so it is not in the key either:

- the header's nav ("My store: …", "Cart (n items)", log in or out): the body holds NAV_PLACEHOLDER
  there, and each response gets the shopper's nav (includes/site_nav.html, rendered once per
  process for each language, store, its name, cart count and login: site_nav);
- with SharedPage.fill, the store's parts (its stock lines, the product page's "at my store"):
  the body holds the view's placeholders and fill(body) puts the shopper's store's in, on a hit
  as on a miss;
- the CSRF token of its forms: rendered as CSRF_PLACEHOLDER, and every response gets the
  shopper's own token (and CSRF cookie) in its place, so no shopper ever receives another's.

Each shared answer says "hit" or "miss" in its X-Page-Cache header (CACHE_HEADER).

Not shared: a page while the shopper has a message waiting (it is rendered afresh, which shows
the message once), anything but a GET, and any answer but 200. Checkout never reads these pages:
it reserves against the locked stock rows (stores.services).
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, QueryDict
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.translation import get_language

from . import stamps

# Stands where each shopper's CSRF token goes in a shared page; letters and digits only, so it
# survives HTML escaping unchanged.
CSRF_PLACEHOLDER = stamps.marker("csrfPlaceholder")

# Says whether a shared page came from the cache ("hit") or was rendered ("miss"), as a CDN's
# X-Cache does: bench/run's traffic mix counts the hit rate from it (bench/mix.lua). A page not
# shared (a POST, a message waiting, an error) has none.
CACHE_HEADER = "X-Page-Cache"

# Stands where each shopper's nav goes in a shared page (templates/base.html).
NAV_PLACEHOLDER = stamps.marker("siteNav")
# Navs this process has rendered, by (language, store pk, store name, cart units, logged in).
_navs: dict[tuple, str] = {}
NAVS_KEPT = 5_000

# Where the cart keeps its lines in the session ({"product id": quantity}). The page cache reads
# it by this key, so it needs nothing from the apps above it; the cart uses the same constant.
CART_SESSION_KEY = "cart"
# Where the in-store context keeps the store the browser is in (instore.context); read here by
# this key for the same reason.
IN_STORE_SESSION_KEY = "in_store"


@dataclass(frozen=True)
class SharedPage:
    """What a @shared_page view returns instead of a response."""

    # The version stamps (and any other values) of what the page shows.
    stamps: tuple
    # The shopper's store (a stores.Store: its pk and name are read), or None: the header names
    # it and pages show its stock.
    store: object | None
    # build(extra_context) -> HttpResponse renders the page.
    build: Callable[[dict], HttpResponse]
    # fill(body: bytes) -> bytes, for a body the same for every store: the build renders the
    # store's parts as placeholders and fill puts the shopper's store's in (on every answer, so it
    # must be cheap). Then the key leaves the store out; what makes the body itself differ by
    # store (a list of what is in stock at my store) goes in `stamps`. None: the store is in the key.
    fill: Callable[[bytes], bytes] | None = None


def shared_page(view: Callable[..., SharedPage | HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve the SharedPage the view returns from the cache when it was rendered before; a view
    may still return an HttpResponse (a form with errors), which is never shared."""

    @wraps(view)
    def serve(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        _sort_query(request)
        page = view(request, *args, **kwargs)
        if not isinstance(page, SharedPage):
            return page
        if request.method != "GET" or _message_waiting(request):
            # Rendered for this shopper alone (their nav and token in place); the store's parts
            # are placeholders all the same.
            response = page.build({})
            if page.fill is not None and response.status_code == 200 and not response.streaming:
                response.content = page.fill(response.content)
            return response
        page_key = key_of(request, page)
        body = stamps.fragments().get(page_key)
        if body is None:
            response = page.build({"csrf_token": CSRF_PLACEHOLDER, "shared_nav": NAV_PLACEHOLDER})
            if response.status_code != 200 or response.streaming:
                return response
            body = response.content
            stamps.fragments().set(page_key, body, stamps.FRAGMENT_SECONDS)
            response[CACHE_HEADER] = "miss"
        else:
            response = HttpResponse()
            response[CACHE_HEADER] = "hit"
        if page.fill is not None:
            body = page.fill(body)
        body = body.replace(NAV_PLACEHOLDER.encode(), site_nav(request, page.store).encode())
        response.content = body.replace(CSRF_PLACEHOLDER.encode(), get_token(request).encode())
        return response

    return serve


def key_of(request: HttpRequest, page: SharedPage) -> str:
    """Everything the page's HTML can differ by (the module's docstring lists it)."""
    return stamps.key(
        "page",
        stamps.digest(
            repr(
                (
                    *page.stamps,
                    request.get_full_path(),
                    _store_in_key(request, page),
                    in_store_of(request.session),
                )
            )
        ),
    )


def _store_in_key(request: HttpRequest, page: SharedPage):
    # In a store, its banner names my store: the body is that store's.
    if page.store is None or (page.fill is not None and not in_store_of(request.session)):
        return "-"
    return page.store.pk


def site_nav(request: HttpRequest, store) -> str:
    """The header's nav for this shopper (includes/site_nav.html), with CSRF_PLACEHOLDER for the
    log-out form's token: rendered once per process for each language, store (pk and name), cart
    units and login, as base.html would render it in place."""
    # checkout.cart.CartCountMiddleware counts only what the cart page would show (products
    # taken off sale or deleted are not); the session's raw count where it is not installed.
    count = getattr(request, "cart_item_count", None)
    units = count() if count is not None else cart_item_count(request.session)
    authenticated = request.user.is_authenticated
    nav_key = (get_language(), store.pk if store else None, store.name if store else None, units, authenticated)
    nav = _navs.get(nav_key)
    if nav is None:
        if len(_navs) >= NAVS_KEPT:
            _navs.clear()
        nav = _navs[nav_key] = render_to_string(
            "includes/site_nav.html",
            {
                "my_store": store,
                "cart_item_count": units,
                "user": _Visitor(authenticated),
                "csrf_token": CSRF_PLACEHOLDER,
            },
        )
    return nav


@dataclass(frozen=True)
class _Visitor:
    # All the nav reads of the user: whether they are logged in.
    is_authenticated: bool


def cart_item_count(session) -> int:
    """The units in the cart, counted as the cart counts them for the header (checkout's Cart):
    entries that are not a product id and a quantity of at least 1 are not lines."""
    raw = session.get(CART_SESSION_KEY) or {}
    quantities = {}
    for product_id, quantity in raw.items() if isinstance(raw, dict) else ():
        try:
            product_id, quantity = int(product_id), int(quantity)
        except (TypeError, ValueError):
            continue
        if quantity >= 1:
            quantities[product_id] = quantity
    return sum(quantities.values())


def in_store_of(session) -> tuple:
    """The in-store context as the page shows it: (the store's pk, whether staff are selling), or
    () outside a store. instore's middleware has dropped an ended context before any view runs."""
    context = session.get(IN_STORE_SESSION_KEY)
    if not isinstance(context, dict):
        return ()
    return (context.get("store"), bool(context.get("staff")))


def _sort_query(request: HttpRequest) -> None:
    """The query string with its parameters in order (each one's values kept in theirs): the
    page, its links and its key are the same whatever order the shopper's address had."""
    if not request.META.get("QUERY_STRING"):
        return
    names = list(request.GET)
    if names == sorted(names):  # what nearly every address has: nothing to do
        return
    ordered = urlencode(sorted(request.GET.lists()), doseq=True)
    request.META["QUERY_STRING"] = ordered
    request.GET = QueryDict(ordered, encoding=request.encoding)


def _message_waiting(request: HttpRequest) -> bool:
    # len() reads the messages without marking them shown; only rendering them does that.
    storage = getattr(request, "_messages", None)
    return storage is not None and len(storage) > 0
