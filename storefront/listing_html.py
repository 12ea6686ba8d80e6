"""The product list's two costliest pieces of HTML, rendered once and shared between pages:

- the category menu (the tree, shown twice: folded on phones, a sidebar on wider screens): kept
  per catalog version, current category and language (the tree itself rendered once for every
  category's menu, each marking its own link), with placeholders where each link's query
  string goes; a page puts its own filters in (a replace, not a render), so every search, sort
  and price range shares the one rendering instead of rendering the tree afresh for each;
- the product cards: each card kept per product, catalog version and language (name, picture,
  price: a price or picture change is a catalog change, which stamps a new catalog version), with
  a placeholder where "n in stock at <my store>" goes. A card is rendered once for every list,
  search, sort and page that shows the product.

A list page's body is the same for every store (o2o_site/cache/pages.py: SharedPage.fill): each
card's placeholder carries its product's id (STOCK_LINE:1234:), and fill_store_parts puts in the
shopper's store's lines, and its name in the "only in stock at" filter (STORE_LABEL), on every
answer, a cached page's too.

All give the HTML the templates would render in place (storefront/tests/test_listing_html.py).
"""

import re
from collections.abc import Iterable

from django.http import QueryDict
from django.template.defaultfilters import urlencode
from django.template.defaulttags import querystring
from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

from catalog.models import Category
from catalog.selectors import products_for_cards, with_first_images
from o2o_site.cache import stamps
from o2o_site.money import format_money
from stores.models import Store
from stores.selectors import units_at

# Placeholders (stamps.marker: letters and digits only, so they pass HTML escaping unchanged, and
# no shopper can type one into a search the page echoes).
MENU_HEAD = stamps.marker("menuHead")
MENU_TAIL = stamps.marker("menuTail")
MENU_ALL = stamps.marker("menuAll")
STOCK_LINE = stamps.marker("stockLine")
# A card's STOCK_LINE in a page's body, with its product's id.
_STOCK_LINE_OF = re.compile(re.escape(STOCK_LINE.encode()) + rb":(\d+):")
# Where the filter's label "Only in stock at <my store>" goes (templates/catalog/product_list.html).
STORE_LABEL = stamps.marker("storeLabel")
# "n in stock at <store>" lines and filter labels this process has rendered, by (language,
# store, its name, units).
_stock_lines: dict[tuple, bytes] = {}
STOCK_LINES_KEPT = 20_000
_store_labels: dict[tuple, bytes] = {}


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
        # The tree (includes/category_menu.html) is shown twice, the same: rendered once, and
        # from the tree every category's menu shares (_tree), its own link marked current.
        menu = _tree(roots, catalog_version)
        if category is None:
            link = f'{MENU_ALL}"'
        else:
            link = f'category={conditional_escape(urlencode(category.slug))}{MENU_TAIL}"'
        menu = menu.replace(f"{link}>", f'{link} aria-current="true" class="is-current">', 1)
        html = render_to_string("includes/category_menu_block.html", {"category": category, "menu": mark_safe(menu)})  # noqa: S308 - the template's rendering
        stamps.fragments().set(key, html, stamps.CATALOG_SECONDS)
    query = _Query(filters)
    return mark_safe(  # noqa: S308 - the rendering is the template's; the filters are escaped here
        html.replace(MENU_HEAD, escape(f"{query.head}&" if query.head else ""))
        .replace(MENU_TAIL, escape(f"&{query.tail}" if query.tail else ""))
        .replace(MENU_ALL, escape(query.all_products))
    )


class _NoCategory:
    """A current category that is none of the tree's, nor "all products"."""

    pk = None


def _tree(roots: list, catalog_version: str) -> str:
    """includes/category_menu.html with no link marked current: rendered once per catalog
    version and language (the tree of 50 categories took ~5 ms), where each category's menu
    marks its own."""
    key = stamps.key("catalog:menu-tree", catalog_version)
    tree = stamps.fragments().get(key)
    if tree is None:
        tree = render_to_string(
            "includes/category_menu.html",
            {
                "category_roots": roots,
                "category": _NoCategory(),
                "menu_head": MENU_HEAD,
                "menu_tail": MENU_TAIL,
                "menu_all": MENU_ALL,
            },
        )
        stamps.fragments().set(key, tree, stamps.CATALOG_SECONDS)
    return tree


def product_cards(product_ids: Iterable[int], *, catalog_version: str) -> SafeString:
    """The cards of a page of the list (its products' ids, in order), from the cache where another
    page rendered them: one round trip for them all. The products of the cards not cached are read
    then, with their pictures (a product taken off sale since its id was read has no card). Where
    each card's "n in stock at <my store>" goes, STOCK_LINE:<its id>: (fill_store_parts)."""
    product_ids = list(product_ids)
    keys = {pk: stamps.key("catalog:card", catalog_version, pk) for pk in product_ids}
    found = stamps.fragments().get_many(list(keys.values()))
    to_render = [pk for pk in product_ids if keys[pk] not in found]
    if to_render:
        products = list(products_for_cards(to_render).values())
        with_first_images(products)
        missing = {keys[product.pk]: _card(product) for product in products}
        found.update(missing)
        stamps.fragments().set_many(missing, stamps.CATALOG_SECONDS)
    return mark_safe(  # noqa: S308 - each card is the template's rendering
        "".join(found[keys[pk]].replace(STOCK_LINE, f"{STOCK_LINE}:{pk}:") for pk in product_ids if keys[pk] in found)
    )


def _card(product) -> str:
    """includes/product_card.html for `product` (with its `first_images`): the template rendered
    once per process with placeholders, this product's values put in, escaped as the template
    escapes them. A page of cards rendered by the template took 2 ms; this, a tenth of that."""
    image = product.first_images[0] if product.first_images else None
    name = product.name or ""
    values = {
        "sku": product.sku,
        "url": _address(product),
        "image": (image.thumbnail.url if image.thumbnail else image.image.url) if image is not None else "",
        "initial": name[:1].upper(),
        "name": name,
        # The listed price (catalog.selectors.listed_price_sql), as the product page shows it.
        "price": _listed_price(product),
    }
    return "".join(
        conditional_escape(values[part]) if index % 2 else part
        for index, part in enumerate(_card_parts(image is not None))
    )


def _listed_price(product) -> str:
    price = format_money(getattr(product, "listed_price", product.price))
    return gettext("From %(price)s") % {"price": price} if getattr(product, "price_varies", False) else price


# A product's address (catalog:product_detail) as reverse() makes it, cut where the slug goes, by
# script prefix: reverse() took a third of a card's CPU. For a slug reverse() would neither quote
# nor refuse; a variant's address is its product's (Product.get_absolute_url).
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")
_SLUG_PLACEHOLDER = "slugPlaceholder3Vn8"
_addresses: dict[str, list[str]] = {}


def _address(product) -> str:
    if product.parent_id is not None or not _SLUG.fullmatch(product.slug):
        return product.get_absolute_url()
    prefix = get_script_prefix()
    around = _addresses.get(prefix)
    if around is None:
        around = _addresses[prefix] = reverse("catalog:product_detail", kwargs={"slug": _SLUG_PLACEHOLDER}).split(
            _SLUG_PLACEHOLDER
        )
    return product.slug.join(around)


# The card as the template renders it with a placeholder for each value, cut at the placeholders:
# text, value name, text, … (by language and whether it has a picture).
_card_templates: dict[tuple, list[str]] = {}


def _card_parts(with_image: bool) -> list[str]:
    key = (get_language(), with_image)
    parts = _card_templates.get(key)
    if parts is None:
        names = ("sku", "url", "image", "initial", "name", "price")
        # Letters and digits only: the template's escaping leaves them as they are.
        placeholders = {f"cardValue{index}Wq7Zt": name for index, name in enumerate(names)}
        values = {name: placeholder for placeholder, name in placeholders.items()}
        html = render_to_string(
            "includes/product_card.html",
            {**values, "image": values["image"] if with_image else "", "stock_line": STOCK_LINE},
        )
        parts = re.split(f"({'|'.join(placeholders)})", html)
        parts[1::2] = [placeholders[placeholder] for placeholder in parts[1::2]]
        _card_templates[key] = parts
    return parts


def fill_store_parts(body: bytes, *, store: Store | None, catalog_version: str, stock_version: str) -> bytes:
    """A list page's body (every store's) with `store`'s parts put in: each card's "n in stock at
    <my store>" (nothing without a store) and the filter's label. The units come from one query
    (stores.selectors.units_at), kept per store, its stock version stamp and the page's products
    (and the catalog's version: what is a variant for sale), so a page shown again to a shopper
    of the same store costs none."""
    body = body.replace(STORE_LABEL.encode(), _store_label(store))
    product_ids = [int(pk) for pk in _STOCK_LINE_OF.findall(body)]
    if not product_ids:
        return body
    if store is None:
        return _STOCK_LINE_OF.sub(b"", body)
    key = stamps.key(
        "catalog:units-at",
        catalog_version,
        store.pk,
        stock_version,
        stamps.digest(",".join(map(str, product_ids))),
        neutral=True,  # numbers
    )
    units = stamps.fragments().get(key)
    if units is None:
        units = units_at(store, product_ids)
        stamps.fragments().set(key, units, stamps.FRAGMENT_SECONDS)
    lines = {}  # by units: a page has a handful of different counts

    def line(found):
        count = units.get(int(found[1]), 0)
        text = lines.get(count)
        if text is None:
            text = lines[count] = _stock_line(count, store)
        return text

    return _STOCK_LINE_OF.sub(line, body)


def _stock_line(units: int, store: Store) -> bytes:
    key = (get_language(), store.pk, store.name, units)
    line = _stock_lines.get(key)
    if line is None:
        if len(_stock_lines) >= STOCK_LINES_KEPT:
            _stock_lines.clear()
        line = _stock_lines[key] = render_to_string(
            "includes/stock_at_store.html", {"units": units, "store": store}
        ).encode()
    return line


def _store_label(store: Store | None) -> bytes:
    key = (get_language(), store.pk, store.name) if store is not None else (get_language(),)
    label = _store_labels.get(key)
    if label is None:
        if len(_store_labels) >= STOCK_LINES_KEPT:
            _store_labels.clear()
        label = _store_labels[key] = render_to_string("includes/available_filter_label.html", {"store": store}).encode()
    return label
