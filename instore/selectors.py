"""Reads of in-store selling: shelf labels to print, and how often they were scanned."""

from dataclasses import dataclass

from django.db.models import Count

from catalog.models import Product
from stores.models import Store

from .context import absolute_link
from .models import SaleAttribution, ShelfScan


@dataclass(frozen=True)
class ShelfLabel:
    """One label of the sheet: the product, its shelf price (the lowest of its sizes' when they
    differ, with `price_varies`), whether it comes in sizes (`has_sizes`: the label's hint offers
    them only then) and the link its QR code holds (instore.context.absolute_link)."""

    product: Product
    price: object
    price_varies: bool
    link: str
    has_sizes: bool = False


def shelf_labels(*, store: Store, category_ids: list[int]) -> list[ShelfLabel]:
    """A label for each product on sale in the categories `category_ids` (products, not their
    sizes: a shelf holds the style, its page offers the sizes), by name. One query whatever the
    number of products (their sizes' prices come with them)."""
    products = Product.objects.for_sale().styles().filter(category_id__in=category_ids).order_by("name", "pk")
    sizes = {}
    for product_id, price in (
        Product.objects.active().filter(parent__in=products).values_list("parent_id", "price").order_by()
    ):
        sizes.setdefault(product_id, []).append(price)
    labels = []
    for product in products:
        prices = sizes.get(product.pk) or [product.price]
        labels.append(
            ShelfLabel(
                product=product,
                price=min(prices),
                price_varies=len(set(prices)) > 1,
                link=absolute_link(store=store, product=product),
                has_sizes=product.pk in sizes,
            )
        )
    return labels


@dataclass(frozen=True)
class ScanCount:
    """A product's shelf label in a store: how often it was scanned, and how many orders followed
    a scan of it (SaleAttribution.scan)."""

    product_id: int
    name: str
    sku: str
    scans: int
    orders: int


def scan_counts(*, store: Store, limit: int = 50) -> list[ScanCount]:
    """The store's most scanned labels, most first: two queries whatever the number of scans."""
    rows = list(
        ShelfScan.objects.filter(store=store)
        .values("product_id", "product__name", "product__sku")
        .annotate(scans=Count("pk"))
        .order_by("-scans", "product__name")[:limit]
    )
    orders = dict(
        SaleAttribution.objects.filter(scan__store=store, scan__product_id__in=[row["product_id"] for row in rows])
        .values("scan__product_id")
        .annotate(orders=Count("order_id", distinct=True))
        .values_list("scan__product_id", "orders")
    )
    return [
        ScanCount(
            product_id=row["product_id"],
            name=row["product__name"],
            sku=row["product__sku"],
            scans=row["scans"],
            orders=orders.get(row["product_id"], 0),
        )
        for row in rows
    ]
