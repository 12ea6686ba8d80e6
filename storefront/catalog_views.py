"""The shopper's catalog: the product list and a product's page."""

import hashlib
import json
from functools import cache, partial

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from catalog import fragment_cache
from catalog.models import Product
from catalog.page_cache import shared_page
from catalog.selectors import (
    PRODUCTS_PER_PAGE,
    CachedCountPaginator,
    category_tree,
    product_for_page,
    product_listing,
    product_page_stamps,
)
from stores.selectors import cached_product_availability, my_store, only_available_at, with_units_at

# The product page lists that many other stores: the nearest to mine, else the first by city and name.
OTHER_STORES_SHOWN = 10
SEARCH_MAX_LENGTH = 200


def product_list(request):
    store = my_store(request)
    stamps = _stamps(store)
    return shared_page(
        request,
        store=store,
        stamps=("catalog:list", stamps["catalog"], stamps["store"]),
        build=partial(_product_list_page, request, store, stamps),
    )


def _product_list_page(request, store, stamps, extra_context):
    tree = category_tree(stamps["catalog"])
    category = None
    if slug := request.GET.get("category", "").strip():
        category = tree.get(slug)
        if category is None:
            raise Http404(_("There is no such category."))
    search = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    wants_available = request.GET.get("available") == "1"
    products = product_listing(search=search, category_ids=tree.descendant_ids(category) if category else None)
    if store is not None and wants_available:
        products = only_available_at(products, store=store)
    # The filters without the page: what the category menu's links and the count depend on.
    filters = request.GET.copy()
    filters.pop("page", None)
    filters = filters.urlencode()
    count_key = f"catalog:count:{stamps['catalog']}:{stamps['store']}:{store.pk if store else '-'}:{_digest(filters)}"
    # get_page: a missing or malformed number is page 1, a number past the end the last page.
    page = CachedCountPaginator(products, PRODUCTS_PER_PAGE, count_key=count_key).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/product_list.html",
        {
            "page": page,
            # Read only when the cached grid is missing (templates/catalog/product_list.html).
            "products": SimpleLazyObject(lambda: with_units_at(store, page.object_list)),
            "category": category,
            "breadcrumb": tree.ancestors(category) if category else [],
            "category_roots": tree.roots,
            "search": search,
            "store": store,
            "wants_available": wants_available,
            "filtering_available": wants_available and store is not None,
            "fragment_seconds": fragment_cache.FRAGMENT_SECONDS,
            "catalog_version": stamps["catalog"],
            "stock_version": stamps["store"],
            "filters_digest": _digest(filters),
            "page_number": page.number,
            **extra_context,
        },
    )


def _stamps(store):
    keys = [fragment_cache.CATALOG]
    if store is not None:
        keys.append(fragment_cache.store_stock_key(store.pk))
    found = fragment_cache.versions(*keys)
    return {
        "catalog": found[fragment_cache.CATALOG],
        "store": found[fragment_cache.store_stock_key(store.pk)] if store is not None else "-",
    }


def _digest(text):
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def product_detail(request, slug):
    catalog_stamp, product_id, stock_stamp = product_page_stamps(slug)
    if product_id is None:
        raise Http404(_("This product is not for sale."))
    store = my_store(request)
    minute = fragment_cache.minute_bucket()  # "open now"
    return shared_page(
        request,
        store=store,
        stamps=("catalog:product", catalog_stamp, product_id, stock_stamp, minute),
        build=partial(_product_page, request, slug, store, catalog_stamp, stock_stamp, minute),
    )


def _product_page(request, slug, store, catalog_stamp, stock_stamp, minute, extra_context):
    product = product_for_page(slug, catalog_version=catalog_stamp)
    if product is None:  # taken off sale since the stamps were read
        raise Http404(_("This product is not for sale."))

    # Read only when the cached availability table (or my store's line) is missing.
    @cache
    def availability():
        return cached_product_availability(product=product, my_store=store, stock_stamp=stock_stamp)

    @cache
    def other_stores():
        return [row for row in availability() if not row.is_my_store]

    at_my_store = next((row for row in availability() if row.is_my_store), None) if store is not None else None
    return render(
        request,
        "catalog/product_detail.html",
        {
            "product": product,
            "images": list(product.images.all()),
            "breadcrumb": category_tree(catalog_stamp).ancestors(product.category),
            "store": store,
            "at_my_store": at_my_store,
            # A chain has hundreds of stores: the nearest to mine (else the first by city and
            # name), and how many more there are.
            "elsewhere": SimpleLazyObject(lambda: other_stores()[:OTHER_STORES_SHOWN]),
            "more_elsewhere": lambda: max(len(other_stores()) - OTHER_STORES_SHOWN, 0),
            "fragment_seconds": fragment_cache.FRAGMENT_SECONDS,
            "stock_version": stock_stamp,
            "minute": minute,
            **extra_context,
        },
    )


def product_availability_json(request, sku):
    """One product's units for sale in every active store, for store apps and the shop's own
    scripts: {"sku", "name", "stores": [{"slug", "name", "city", "available", "open_now"}]}.

    Two queries at most whatever the number of stores, one (the product) while the body is
    cached under the product's stock version stamp and the minute."""
    product = Product.objects.active().filter(sku=sku).only("pk", "sku", "name").first()
    if product is None:
        raise Http404(_("This product is not for sale."))
    stock_key = fragment_cache.product_stock_key(product.pk)
    stamps = fragment_cache.versions(stock_key, fragment_cache.CATALOG)
    key = f"catalog:availability-json:{product.pk}:{stamps[stock_key]}:{stamps[fragment_cache.CATALOG]}:" + str(
        fragment_cache.minute_bucket()
    )
    body = fragment_cache.fragments().get(key)
    if body is None:
        rows = cached_product_availability(product=product, stock_stamp=stamps[stock_key])
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
        fragment_cache.fragments().set(key, body, fragment_cache.FRAGMENT_SECONDS)
    return HttpResponse(body, content_type="application/json")
