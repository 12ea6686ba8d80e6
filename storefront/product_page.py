"""A product's page, its body the same for every store (o2o_site.cache.pages: SharedPage.fill).

What differs by the shopper's store is rendered apart (includes/product_store_parts.html): the
"at my store" box (its stock, whether it is open, the stores to pick it up at instead, the endless
aisle in a store), whether the cart button takes it and why not, the table of the other stores,
and the picker's units of each variant at my store. The body holds a placeholder for each
(letters and digits: escaping leaves them alone) and fill_store_parts puts them in, from one
fragment kept per product, what is shown, stock versions, minute ("open now"), store and language:
on a hit, one cache round trip and a replace.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial

from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.defaultfilters import floatformat
from django.template.loader import get_template, render_to_string
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from catalog.models import Product
from catalog.selectors import ProductPageStamps, category_tree, product_for_page
from checkout.forms import TYPED_QUANTITY_SESSION_KEY
from instore.context import current_context
from o2o_site.cache import stamps
from o2o_site.cache.pages import CSRF_PLACEHOLDER
from o2o_site.templatetags.fragments import kept_include
from stores.models import Store
from stores.selectors import StoreAvailability, arranged_availability, cached_units_per_store, nearest_that_have_it

from .endless_aisle import endless_aisle

# The page lists that many other stores: the nearest to mine, else the first by city and name.
OTHER_STORES_SHOWN = 10
# Sold out at my store: that many of the nearest stores that have it, each with "Pick up at".
PICKUP_ELSEWHERE_SHOWN = 3

# A store part's placeholder is PART, its name, "X"; includes/product_store_parts.html ends each
# part it renders with PART_END.
PART = stamps.marker("pdpPart")
_PLACEHOLDER = re.compile(re.escape(PART.encode()) + rb"([a-z0-9]+)X")
PART_END = stamps.marker("pdpPartEnd")
# Where the table's rows go in the parts (availability_rows).
ROWS_PLACEHOLDER = stamps.marker("pdpRows")
# Where my store's stock line goes in them (_stock_line).
STOCK_PLACEHOLDER = stamps.marker("pdpStock")
# The parts every page has: those the template renders, in its order (then each variant's units
# here), and the attributes written into the page's tags (then each variant's class), which are
# Python's: in a template's text they would be read as words to translate
# (o2o_site/tests/test_templates_have_no_raw_text.py).
RENDERED_PARTS = ("box", "cannot", "availability")
PAGE_PARTS = (*RENDERED_PARTS, "button")
# The cart button's when it cannot take the product, and a variant's none of which is here.
CANNOT_ADD_ATTRIBUTES = ' disabled aria-describedby="cannot-add"'
NONE_HERE_CLASS = " variant-option--none-here"


@dataclass(frozen=True)
class _Shown:
    """What the store's parts need of a product without variants: its pk."""

    pk: int


def _placeholder(name: str) -> str:
    return f"{PART}{name}X"


@dataclass
class ProductPage:
    """One shopper's product page: what the body and the store's parts are of."""

    request: HttpRequest
    slug: str
    store: Store | None
    page_stamps: ProductPageStamps
    minute: int
    # The product as this request read it (by the stamps or the body), read once.
    _product: Product | None = field(default=None, repr=False)
    _filled: bool = field(default=False, repr=False)

    @cached_property
    def chosen_id(self) -> int | None:
        """The variant the picker chose (?variant=<id>), if it is one of the product's for sale."""
        try:
            chosen_id = int(self.request.GET.get("variant", ""))
        except ValueError:
            return None
        return chosen_id if chosen_id in self.page_stamps.variant_stocks else None

    @property
    def choose_first(self) -> bool:
        # With variants, nothing is shown (sold, stocked) until one is chosen.
        return bool(self.page_stamps.variant_stocks) and self.chosen_id is None

    @property
    def shown_id(self) -> int:
        return self.chosen_id or self.page_stamps.product_id

    @property
    def in_store_here(self) -> bool:
        """Standing in my store (instore): the page says whether it is here or how it can come."""
        in_store = current_context(self.request)
        return in_store is not None and self.store is not None and self.store.pk == in_store.store_id

    def product(self) -> Product:
        if self._product is None:
            self._product = self.page_stamps.product or product_for_page(
                self.slug, catalog_version=self.page_stamps.catalog
            )
            if self._product is None:  # taken off sale since the stamps were read
                raise Http404(_("This product is not for sale."))
        return self._product

    def build(self, extra_context: dict) -> HttpResponse:
        """The page's body, with the store's parts as placeholders; filled here when the page is
        not shared (serve() fills a shared one, o2o_site.cache.pages)."""
        product = self.product()
        variants = product.active_variants
        chosen = next((variant for variant in variants if variant.pk == self.chosen_id), None)
        shown = chosen or product
        prices = {variant.price for variant in variants}
        # Rendered for this shopper alone (a message waiting, never shared): a quantity the cart
        # refused for this product is shown again as typed, beside the message that says why.
        alone = extra_context.get("csrf_token") != CSRF_PLACEHOLDER
        typed = self.request.session.pop(TYPED_QUANTITY_SESSION_KEY, None) if alone else None
        typed_quantity = typed["quantity"] if typed and typed.get("product_id") == str(shown.pk) else None
        response = render(
            self.request,
            "catalog/product_detail.html",
            {
                "product": product,
                "shown": shown,
                "images": list(shown.images.all()) or list(product.images.all()),  # a variant's own, else the product's
                "variants": variants,
                # The picker: each variant with the placeholders of its units at my store.
                "picker": [
                    (variant, _placeholder(f"none{variant.pk}"), _placeholder(f"units{variant.pk}"))
                    for variant in variants
                ],
                "variant_attributes": product.variant_attributes,
                "chosen": chosen,
                "choose_first": self.choose_first,
                "unknown_variant": bool(variants) and chosen is None and "variant" in self.request.GET,
                # The listed price, as the list's card, filter and sort have it
                # (catalog.selectors.listed_price_sql): the lowest of the variants for sale, "From"
                # it when they differ; the variant's own once one is chosen.
                "price_from": min(prices) if len(prices) > 1 and chosen is None else None,
                "listed_price": min(prices) if prices and chosen is None else shown.price,
                "breadcrumb": category_tree(self.page_stamps.catalog).ancestors(product.category),
                "parts": {name: _placeholder(name) for name in PAGE_PARTS},
                "typed_quantity": typed_quantity,
                **extra_context,
            },
        )
        if alone and response.status_code == 200:
            # Rendered for this shopper alone (a message waiting): filled here, with their own
            # CSRF token in the parts' forms, which serve() puts in a shared page only.
            response.content = self.fill(response.content).replace(
                CSRF_PLACEHOLDER.encode(), get_token(self.request).encode()
            )
            self._filled = True
        return response

    def fill(self, body: bytes) -> bytes:
        """The body with my store's parts in place of their placeholders."""
        if self._filled:  # a page rendered for one shopper alone: build() filled it
            return body
        key = stamps.key(
            "catalog:product-store",
            self.page_stamps.catalog,
            self.shown_id,
            # Every variant's stock version (the picker shows them all), else the product's.
            self.page_stamps.stock,
            self.minute,
            # Store names, hours, open or not: a store renamed or closed shows at once.
            self.page_stamps.stores,
            self.store.pk if self.store else "-",
            self.in_store_here,
        )
        parts = stamps.fragments().get(key)
        if parts is None:
            parts = self._render_parts()
            stamps.fragments().set(key, parts, stamps.FRAGMENT_SECONDS)
        return _PLACEHOLDER.sub(lambda match: parts[match.group(1)], body)

    def _render_parts(self) -> dict[bytes, bytes]:
        """{name: HTML} of the store's parts, with CSRF_PLACEHOLDER for the token of their forms
        (the fragment is every shopper's of this store)."""
        store, page_stamps = self.store, self.page_stamps
        if page_stamps.variant_stocks or self.in_store_here:
            product = self.product()
            variants, variant_attributes = product.active_variants, product.variant_attributes
            shown = next((variant for variant in variants if variant.pk == self.chosen_id), product)
        else:
            # No variants and not in a store: the parts show the product's pk only (their forms'),
            # so a body served from the cache needs no read of the product for them.
            variants, variant_attributes, shown = [], [], _Shown(pk=page_stamps.product_id)
        choose_first = self.choose_first
        # The units of what is shown in every store, and of each variant for the picker.
        wanted = {} if choose_first else {shown.pk: page_stamps.variant_stocks.get(shown.pk, page_stamps.stock)}
        if store is not None:
            wanted.update(page_stamps.variant_stocks)
        units = cached_units_per_store(wanted)
        rows = [] if choose_first else arranged_availability(units=units[shown.pk], my_store=store, now=timezone.now())
        at_my_store = next((row for row in rows if row.is_my_store), None) if store is not None else None
        # My store can supply it only when it has a unit and hands orders over.
        my_store_supplies = at_my_store is not None and at_my_store.in_stock and at_my_store.store.offers_pickup
        pickup_elsewhere = (
            None
            if at_my_store is None or my_store_supplies
            else nearest_that_have_it([row for row in rows if not row.is_my_store], limit=PICKUP_ELSEWHERE_SHOWN)
        )
        # The stores offered for pickup above the table are not listed in it a second time.
        offered = {row.store.pk for row in pickup_elsewhere or ()}
        others = [row for row in rows if not row.is_my_store]
        if offered:
            others = [row for row in others if row.store.pk not in offered]
        aisle = (
            endless_aisle(product=shown, store=store, rows=rows, now=timezone.now())
            if self.in_store_here and not choose_first
            else None
        )
        elsewhere = others[:OTHER_STORES_SHOWN]
        picker_units = [max(units[variant.pk].get(store.pk, 0), 0) if store else 0 for variant in variants]
        context = {
            "shown": shown,
            "variant_attributes": variant_attributes,
            "choose_first": choose_first,
            "can_add": not choose_first and (at_my_store is None or my_store_supplies),
            "store": store,
            "at_my_store": at_my_store,
            # includes/stock_at_store.html, kept per process as the rows' pieces are (put in below).
            "my_stock_line": STOCK_PLACEHOLDER,
            "pickup_elsewhere": pickup_elsewhere,
            # A chain has hundreds of stores: the nearest to mine (else the first by city and
            # name), and how many more there are.
            "elsewhere": elsewhere,
            "elsewhere_rows": ROWS_PLACEHOLDER,
            "more_elsewhere": max(len(others) - OTHER_STORES_SHOWN, 0),
            "aisle": aisle,
            "variants": [{"available_here": units_here} for units_here in picker_units],
            "part_end": PART_END,
            "csrf_token": CSRF_PLACEHOLDER,
        }
        render = partial(get_template("includes/product_store_parts.html").render, context)
        if store is None or aisle is not None:
            html = render()
        else:
            # The parts around the table's rows and my store's stock line depend on these alone:
            # kept per process, so a product at my store renders no template for them once
            # another has been shown there alike (the rows and the line are put in below).
            html = _kept(
                (
                    "parts",
                    stamps.variant(),
                    choose_first,
                    tuple(str(attribute) for attribute in variant_attributes),
                    _store_key(store),
                    # Not its units (put in below): whether it has any.
                    None
                    if at_my_store is None
                    else (_store_key(at_my_store.store), at_my_store.in_stock, at_my_store.is_open),
                    None if pickup_elsewhere is None else (shown.pk, *(_row_key(row) for row in pickup_elsewhere)),
                    bool(elsewhere),
                    context["more_elsewhere"],
                    tuple(picker_units),
                ),
                render,
                kept=_parts_kept,
            )
        html = html.replace(ROWS_PLACEHOLDER, availability_rows(elsewhere, with_distance=store is not None))
        if at_my_store is not None:
            html = html.replace(STOCK_PLACEHOLDER, _stock_line(at_my_store))
        names = [*RENDERED_PARTS, *(f"units{variant.pk}" for variant in variants)]
        parts = dict(zip(names, html.split(PART_END), strict=False))
        parts["button"] = "" if context["can_add"] else CANNOT_ADD_ATTRIBUTES
        for variant, units_here in zip(variants, picker_units, strict=True):
            parts[f"none{variant.pk}"] = NONE_HERE_CLASS if store and not units_here else ""
        return {name.encode(): part.encode() for name, part in parts.items()}


# --- the table of other stores, row by row -----------------------------------------------------

# The pieces of a row this process has rendered, by what each shows (and the language).
_row_pieces: dict[tuple, str] = {}
# A store's parts of the page around the table's rows, by all they show (ProductPage._render_parts).
_parts_kept: dict[tuple, str] = {}
ROW_PIECES_KEPT = 50_000


def availability_rows(rows: list[StoreAvailability], *, with_distance: bool) -> SafeString:
    """The rows of the product page's table of other stores (includes/product_store_parts.html),
    as the template's loop over them would write them: each row put together from pieces kept per
    process (the store's cell, its distance, its units, open or closed), so a table of ten stores
    costs ten lookups a piece instead of a template's loop (a third of a page's CPU)."""
    language = get_language()
    distance_label, in_stock_label, now_label = _kept(("labels", language), _labels)
    html = []
    for row in rows:
        store = row.store
        cell = _kept(("store", store.pk, store.slug, store.name, store.city), partial(_store_cell, store))
        distance = (
            _kept(("distance", language, row.distance_km), partial(_distance_cell, row.distance_km, distance_label))
            if with_distance
            else ""
        )
        units = _kept(("units", language, row.available), partial(_units, row.available))
        open_now = kept_include("includes/open_status.html", is_open=row.is_open)
        html.append(
            f"{cell}{distance}\n"
            f'        <td data-testid="store-stock" data-label="{in_stock_label}">{units}</td>\n'
            f'        <td data-label="{now_label}">{open_now}</td>\n'
            "      </tr>\n      "
        )
    return mark_safe("".join(html))  # noqa: S308 - every value in it is escaped as the template escapes it


def _kept(key: tuple, render: Callable[[], object], *, kept: dict | None = None):
    kept = _row_pieces if kept is None else kept
    found = kept.get(key)
    if found is None:
        if len(kept) >= ROW_PIECES_KEPT:
            kept.clear()
        found = kept[key] = render()
    return found


def _store_key(store: Store) -> tuple:
    # What the parts show of a store: its name, its address (slug), whether it hands orders over.
    return (store.pk, store.slug, store.name, store.city, store.offers_pickup)


def _row_key(row: StoreAvailability) -> tuple:
    return (_store_key(row.store), row.available, row.is_open, row.distance_km)


def _stock_line(row: StoreAvailability) -> str:
    store = row.store
    return _kept(
        ("stock", get_language(), store.pk, store.name, row.available),
        partial(render_to_string, "includes/stock_at_store.html", {"units": row.available, "store": store}),
    )


def _labels() -> tuple[str, str, str]:
    # {% translate "…" as label %}: a translated literal is safe, not escaped.
    return (_("Distance"), _("In stock"), _("Now"))


def _store_cell(store: Store) -> str:
    return (
        f'\n      <tr data-testid="store-availability-row" data-store="{escape(store.slug)}">\n'
        f'        <th scope="row"><a href="{escape(store.get_absolute_url())}">{escape(store.name)}</a>'
        f'<br><span class="muted">{escape(store.city)}</span></th>\n        '
    )


def _distance_cell(distance_km: float, label: str) -> str:
    # {% blocktranslate with distance=…|floatformat:"1g" %}{{ distance }} km{% endblocktranslate %}
    distance = _("%(distance)s km") % {"distance": conditional_escape(floatformat(distance_km, "1g"))}
    return f'<td class="nowrap" data-label="{label}">{distance}</td>'


def _units(available: int) -> str:
    if available > 0:
        # {% blocktranslate count counter=… %}{{ counter }} available{% plural %}…{% endblocktranslate %}
        counter = conditional_escape(str(localize(available)))
        return ngettext("%(counter)s available", "%(counter)s available", available) % {"counter": counter}
    return f'<span class="out-of-stock">{_("Out of stock")}</span>'
