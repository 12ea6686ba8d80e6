"""The shopper's catalog: the product list and a product's page."""

import json
from functools import partial
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from catalog.models import Product
from catalog.selectors import (
    PRODUCTS_PER_PAGE,
    SEARCH_CANDIDATES,
    CachedCountPaginator,
    CountingListing,
    PlainListing,
    SearchListing,
    category_tree,
    having_variant_in,
    product_listing,
    product_page_stamps,
    variant_attribute_choices,
    variants_with_values,
)
from o2o_site.cache import stamps
from o2o_site.cache.pages import SharedPage, shared_page
from o2o_site.replica import reads_from_replica
from stores.selectors import (
    available_at_condition,
    cached_product_availability,
    my_store,
    only_available_at,
)

from .catalog_forms import ListingForm, VariantFilterForm
from .listing_html import STORE_LABEL, category_menu, fill_store_parts, product_cards
from .product_page import ProductPage
from .shopper_input import shopper_input

SEARCH_MAX_LENGTH = 200
# A list of only what the shopper's store has (?available=1) counts this many and one at most:
# the page then says "more than" (PlainListing's count_at_most).
AVAILABLE_COUNTED_AT_MOST = 500


@reads_from_replica
@shopper_input
@shared_page
def product_list(request):
    store = my_store(request, from_directory=True)
    versions = _versions(store)
    # Only what is in stock at my store (?available=1): the products and their count are my
    # store's, and without a store the page says to choose one. Otherwise the body is the same
    # for every store, the store's parts put in by the fill.
    listed_for = (store.pk if store else "-", versions["store"]) if request.GET.get("available") == "1" else ()
    return SharedPage(
        # The stores' version for the in-store banner, which names the store.
        stamps=("catalog:list", versions["catalog"], versions["stores"], *listed_for),
        store=store,
        build=partial(_product_list_page, request, store, versions),
        fill=partial(
            fill_store_parts, store=store, catalog_version=versions["catalog"], stock_version=versions["store"]
        ),
    )


def _counted_at_most(products: PlainListing | SearchListing | CountingListing | QuerySet, count: int) -> int | None:
    """The cap the listing's count passed (the page then says "more than" it), or None."""
    if isinstance(products, SearchListing):
        cap = SEARCH_CANDIDATES
    elif isinstance(products, PlainListing):
        cap = products.count_at_most
    else:
        cap = None
    return cap if cap is not None and count > cap else None


def _product_list_page(request, store, versions, extra_context):
    tree = category_tree(versions["catalog"])
    category = None
    if slug := request.GET.get("category", "").strip():
        category = tree.get(slug)
        if category is None:
            raise Http404(_("There is no such category."))
    search = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    wants_available = request.GET.get("available") == "1"
    filtering_available = wants_available and store is not None
    listing = ListingForm(request.GET, searching=bool(search))
    filters_of_listing = {
        "category_ids": tree.descendant_ids(category) if category else None,
        "sort": listing.sort_order,
        "min_price": listing.price("min_price"),
        "max_price": listing.price("max_price"),
    }
    variant_filter = VariantFilterForm(request.GET, choices=variant_attribute_choices(versions["catalog"]))
    chosen_values = variant_filter.chosen_values()
    # The page's products are read as ids: the cards come from the cache, and product_cards reads
    # the products only of those that are not.
    # What is in stock at my store, as SQL on the product (PlainListing, SearchListing).
    conditions = [available_at_condition(store)] if filtering_available else []
    if PlainListing.serves(search=search) and not chosen_values:
        # What a store has is counted up to a cap, as a search is: counting it all grows with
        # the catalogue (PlainListing).
        products = PlainListing(
            **filters_of_listing,
            conditions=conditions,
            count_at_most=AVAILABLE_COUNTED_AT_MOST if filtering_available else None,
        )
    elif not chosen_values and SearchListing.serves():
        # A search: its page and count in one statement, at most SEARCH_CANDIDATES ranked.
        products = SearchListing(search=search, **filters_of_listing, conditions=conditions)
    else:
        products = product_listing(search=search, **filters_of_listing)
        if chosen_values:
            # Size M in stock at my store: a variant in size M that my store has, not any size.
            variants = variants_with_values(chosen_values)
            if filtering_available:
                variants = only_available_at(variants, store=store)
            products = having_variant_in(products, variants)
        elif filtering_available:
            products = only_available_at(products, store=store)
        # A search by sizes pages and counts what it finds in one query (CountingListing).
        products = CountingListing(products) if search else products.values_list("pk", flat=True)
    # The filters without the page: what the category menu's links depend on.
    filter_params = request.GET.copy()
    filter_params.pop("page", None)
    # What the count depends on: the filters without the order, in one order of their own, so
    # every sort of a list (and the same filters written in another order) counts once.
    filters = urlencode(sorted((name, value) for name, value in filter_params.lists() if name != "sort"), doseq=True)
    # What the products listed depend on besides the catalog and the filters: my store's stock,
    # when only what it has is listed.
    listed_at = f"{store.pk}:{versions['store']}" if filtering_available else "-"
    # The count of a search depends on the language: it looks at the names in the shopper's;
    # without a search it is the same in every language, counted once for all three.
    count_key = stamps.key("catalog:count", versions["catalog"], listed_at, stamps.digest(filters), neutral=not search)
    # get_page: a missing or malformed number is page 1, a number past the end the last page.
    page = CachedCountPaginator(products, PRODUCTS_PER_PAGE, count_key=count_key).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/product_list.html",
        {
            "page": page,
            "product_ids": page.object_list,
            "product_cards": lambda: product_cards(page.object_list, catalog_version=versions["catalog"]),
            "category_menu": category_menu(
                roots=tree.roots, category=category, filters=filter_params, catalog_version=versions["catalog"]
            ),
            "category": category,
            "breadcrumb": tree.ancestors(category) if category else [],
            "category_roots": tree.roots,
            "search": search,
            # More found than a search ranks and counts, or than a list of what a store has
            # counts: the page says "more than" the cap.
            "found_more_than": _counted_at_most(products, page.paginator.count),
            "store": store,
            # The body is every store's: the store's name goes in with the fill (fill_store_parts).
            "store_label": STORE_LABEL,
            "wants_available": wants_available,
            "variant_filter": variant_filter,
            "listing": listing,
            "filtering_available": filtering_available,
            **extra_context,
        },
    )


def _versions(store):
    keys = [stamps.CATALOG, stamps.STORES]
    if store is not None:
        keys.append(stamps.store_stock_key(store.pk))
    found = stamps.versions(*keys)
    return {
        "catalog": found[stamps.CATALOG],
        "stores": found[stamps.STORES],
        "store": found[stamps.store_stock_key(store.pk)] if store is not None else "-",
    }


@reads_from_replica
@shopper_input
@shared_page
def product_detail(request, slug):
    page_stamps = product_page_stamps(slug)
    if page_stamps.product_id is None:
        raise Http404(_("This product is not for sale."))
    if page_stamps.redirect_to is not None:  # a variant: its product's page, with it chosen
        return redirect(page_stamps.redirect_to)
    store = my_store(request, from_directory=True)
    page = ProductPage(request, slug, store, page_stamps, minute=stamps.minute_bucket())  # the minute: "open now"
    return SharedPage(
        # The body shows the catalog only (the chosen variant, ?variant=, is in its address, part
        # of the key): the store's parts, stock and "open now" are filled in (ProductPage.fill).
        # The stores' version for the in-store banner, which names the store.
        stamps=("catalog:product", page_stamps.catalog, page_stamps.stores, page_stamps.product_id),
        store=store,
        build=page.build,
        fill=page.fill,
    )


@reads_from_replica
@shopper_input
def product_availability_json(request, sku):
    """One product's units for sale in every active store, for store apps and the shop's own
    scripts: {"sku", "name", "stores": [{"slug", "name", "city", "available", "open_now"}]}.

    Two queries at most whatever the number of stores, one (the product) while the body is
    cached under the product's stock version stamp and the minute (and the language: the
    product's name is the one in the language asked for)."""
    product = Product.objects.active().filter(sku=sku).only("pk", "sku", "name").first()
    if product is None:
        raise Http404(_("This product is not for sale."))
    stock_key = stamps.product_stock_key(product.pk)
    found = stamps.versions(stock_key, stamps.CATALOG)
    key = stamps.key(
        "catalog:availability-json", product.pk, found[stock_key], found[stamps.CATALOG], stamps.minute_bucket()
    )
    body = stamps.fragments().get(key)
    if body is None:
        rows = cached_product_availability(product=product, stock_stamp=found[stock_key])
        body = json.dumps(
            {
                "sku": product.sku,
                "name": product.name,
                "stores": [
                    {
                        "slug": row.store.slug,
                        "name": row.store.name,
                        "city": row.store.city,
                        "available": row.available,
                        "open_now": row.is_open,
                    }
                    for row in rows
                ],
            }
        )
        stamps.fragments().set(key, body, stamps.FRAGMENT_SECONDS)
    return HttpResponse(body, content_type="application/json")
