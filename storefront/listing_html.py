"""The product list's two costliest pieces of HTML, rendered once and shared between pages:

- the category menu (the tree, shown twice: folded on phones, a sidebar on wider screens): kept
  per catalog version, current category and language, with placeholders where each link's query
  string goes; a page puts its own filters in (a replace, not a render), so every search, sort
  and price range shares the one rendering instead of rendering the tree afresh for each;
- the product cards: each card kept per product, catalog version and language (name, picture,
  price: a price or picture change is a catalog change, which stamps a new catalog version), with
  a placeholder where "n in stock at <my store>" goes, filled per page from the units the page
  read. A card is rendered once for every list, search, sort and page that shows the product.

Both give the HTML the templates would render in place (storefront/tests/test_listing_html.py).
"""

from collections.abc import Iterable

from django.http import QueryDict
from django.template.defaulttags import querystring
from django.template.loader import get_template, render_to_string
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from catalog.models import Category, Product
from catalog.selectors import with_first_images
from o2o_site.cache import stamps

# Letters and digits only: they pass HTML escaping unchanged.
MENU_HEAD = "menuHead4Qz8Xv2Lk"
MENU_TAIL = "menuTail9Rw3Jp6Ty"
MENU_ALL = "menuAll5Hn7Bc1Gs"
STOCK_LINE = "stockLine2Mf6Wd8Kq"
# Ends each card of a page's cards rendered together (includes/product_cards.html).
CARD_END = "cardEnd7Pv3Nx5Rb"
# "n in stock at <store>" lines this process has rendered, by (language, store, its name, units).
_stock_lines: dict[tuple, str] = {}
STOCK_LINES_KEPT = 20_000


class _Query:
    """What the menu's links need of the filters: the parameters before and after "category" (the
    querystring tag replaces it where it stands, else adds it at the end)."""

    def __init__(self, filters: QueryDict):
        names = list(filters)
        at = names.index("category") if "category" in names else len(names)
        self.head = _encoded(filters, names[:at])
        self.tail = _encoded(filters, names[at + 1 :])
        self.all_products = querystring({}, filters, category=None)


def _encoded(filters: QueryDict, names: list[str]) -> str:
    part = QueryDict(mutable=True)
    for name in names:
        part.setlist(name, filters.getlist(name))
    return part.urlencode()


def category_menu(*, roots: list, category: Category | None, filters: QueryDict, catalog_version: str) -> SafeString:
    """The menu block of templates/catalog/product_list.html for these filters (a QueryDict of
    the page's parameters without "page"); rendered once per catalog version, current category
    and language (stamps.key)."""
    key = stamps.key("catalog:menu", catalog_version, category.pk if category else "-")
    html = stamps.fragments().get(key)
    if html is None:
        html = render_to_string(
            "includes/category_menu_block.html",
            {"category_roots": roots, "category": category, "menu_head": MENU_HEAD, "menu_tail": MENU_TAIL},
        )
        stamps.fragments().set(key, html, stamps.CATALOG_SECONDS)
    query = _Query(filters)
    return mark_safe(  # noqa: S308 - the rendering is the template's; the filters are escaped here
        html.replace(MENU_HEAD, escape(f"{query.head}&" if query.head else ""))
        .replace(MENU_TAIL, escape(f"&{query.tail}" if query.tail else ""))
        .replace(MENU_ALL, escape(query.all_products))
    )


def product_cards(products: Iterable[Product], *, store, catalog_version: str) -> SafeString:
    """The cards of a page of the list (each product with `available_here` when `store` is
    given: stores.selectors.with_units_at), from the cache where another page rendered them: one
    round trip for them all. The pictures are read for the cards rendered here only, unless the
    products came with their `first_images`."""
    products = list(products)
    keys = {product.pk: stamps.key("catalog:card", catalog_version, product.pk) for product in products}
    found = stamps.fragments().get_many(list(keys.values()))
    to_render = [product for product in products if keys[product.pk] not in found]
    missing = {}
    if to_render:
        if not all(hasattr(product, "first_images") for product in to_render):
            with_first_images(to_render)
        # Each card's address (a reverse()) and name (a translated field) read once, not through
        # the template's lookups at each place the card shows them: a third of a card's CPU.
        cards = [{"product": product, "url": product.get_absolute_url(), "name": product.name} for product in to_render]
        rendered = (
            get_template("includes/product_cards.html")
            .render({"cards": cards, "stock_line": STOCK_LINE, "card_end": CARD_END})
            .split(CARD_END)
        )
        for product, html in zip(to_render, rendered, strict=False):  # what follows the last card_end: none
            found[keys[product.pk]] = missing[keys[product.pk]] = html
        stamps.fragments().set_many(missing, stamps.CATALOG_SECONDS)
    return mark_safe(  # noqa: S308 - each card is the template's rendering
        "".join(
            found[keys[product.pk]].replace(STOCK_LINE, _stock_line(product.available_here, store) if store else "")
            for product in products
        )
    )


def _stock_line(units: int, store) -> str:
    key = (get_language(), store.pk, store.name, units)
    line = _stock_lines.get(key)
    if line is None:
        if len(_stock_lines) >= STOCK_LINES_KEPT:
            _stock_lines.clear()
        line = _stock_lines[key] = render_to_string("includes/stock_at_store.html", {"units": units, "store": store})
    return line
