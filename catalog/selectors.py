"""Reads for the shopper's catalog pages. Each page's queries are decided here, so the count
stays the same whether a page shows 10 products or 200."""

from dataclasses import dataclass, field

from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet

from o2o_site.cache import stamps

from .models import Category, Product, ProductImage

PRODUCTS_PER_PAGE = 24


@dataclass
class CategoryNode:
    category: Category
    children: list["CategoryNode"] = field(default_factory=list)


class CategoryTree:
    """The whole (small) category tree from one query; ancestors and descendants are then free."""

    def __init__(self, categories):
        self._by_pk = {category.pk: category for category in categories}
        self._by_slug = {category.slug: category for category in categories}
        nodes = {pk: CategoryNode(category) for pk, category in self._by_pk.items()}
        self.roots = []
        for category in categories:  # already in (position, name) order
            node = nodes[category.pk]
            parent = nodes.get(category.parent_id)
            (parent.children if parent else self.roots).append(node)
        self._nodes = nodes

    def get(self, slug):
        return self._by_slug.get(slug)

    def descendant_ids(self, category) -> list[int]:
        """The category's id and all its descendants' ids."""
        found, pending = [], [self._nodes[category.pk]]
        while pending:
            node = pending.pop()
            found.append(node.category.pk)
            pending.extend(node.children)
        return found

    def ancestors(self, category) -> list[Category]:
        """Root first, down to and including `category` (for breadcrumbs)."""
        chain, seen = [], set()
        current = self._by_pk.get(category.pk)
        while current is not None and current.pk not in seen:  # a cycle would be a data error
            seen.add(current.pk)
            chain.append(current)
            current = self._by_pk.get(current.parent_id)
        return list(reversed(chain))


def category_tree(catalog_version: str | None = None) -> CategoryTree:
    """The tree; with the catalog's version stamp, from the cache (no query) while it holds."""
    if catalog_version is None:
        return CategoryTree(list(Category.objects.order_by("position", "name", "pk")))
    # Neutral: the categories carry their names in every language.
    key = stamps.key("catalog:tree", catalog_version, neutral=True)
    tree = stamps.fragments().get(key)
    if tree is None:
        tree = category_tree()
        stamps.fragments().set(key, tree, stamps.VERSION_SECONDS)
    return tree


class CachedCountPaginator(Paginator):
    """A Paginator whose count (a COUNT over the filtered catalog) is cached under `count_key`,
    a key that carries the version stamps of what it counts (stamps.key(): and the language)."""

    def __init__(self, object_list, per_page, *, count_key, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self._count_key = count_key

    @property
    def count(self):
        if "_cached_count" not in self.__dict__:
            found = stamps.fragments().get(self._count_key)
            if found is None:
                found = self.object_list.count()
                stamps.fragments().set(self._count_key, found, stamps.FRAGMENT_SECONDS)
            self.__dict__["_cached_count"] = found
        return self.__dict__["_cached_count"]


def _first_image():
    # A sliced Prefetch: one query for the first image of every product on the page.
    return Prefetch(
        "images",
        queryset=ProductImage.objects.order_by("position", "pk")[:1],
        to_attr="first_images",
    )


def product_listing(*, search: str = "", category_ids: list[int] | None = None) -> QuerySet[Product]:
    """Active products for the list page, each with `first_images`: in name order, or, for a
    search, the best found first (catalog/search.py). Variants are not listed: their product is,
    once (ProductQuerySet.styles).

    Stock is a higher layer's business: stores.selectors.only_available_at narrows this to what a
    store has, and stores.selectors.with_units_at reads the units for the page shown only.
    """
    products = Product.objects.active().styles().search(search).prefetch_related(_first_image())
    if category_ids is not None:
        products = products.filter(category_id__in=category_ids)
    if search.strip():
        return products.order_by("-search_rank", "name", "pk")
    return products.order_by("name", "pk")


# {slug: (catalog version, product id)} as this process last saw them: see product_page_stamps.
_product_ids = {}
PRODUCT_IDS_KEPT = 20_000


def product_page_stamps(slug: str) -> tuple[str, int | None, str | None]:
    """(the catalog's version, the product's id, its stock version) for a product page; the id and
    stock version are None when no active product has the slug.

    A page needs the product's id for its stock version. Once this process has seen the slug
    under the current catalog version, both versions come in one cache round trip, and the
    product itself is read only if the page has to be rendered."""
    remembered = _product_ids.get(slug)
    stock_key = stamps.product_stock_key(remembered[1]) if remembered else None
    found = stamps.versions(stamps.CATALOG, *([stock_key] if stock_key else []))
    catalog_version = found[stamps.CATALOG]
    if remembered and remembered[0] == catalog_version:
        return catalog_version, remembered[1], found[stock_key]
    product = product_for_page(slug, catalog_version=catalog_version)
    if product is None:
        return catalog_version, None, None
    if len(_product_ids) >= PRODUCT_IDS_KEPT:
        _product_ids.clear()
    _product_ids[slug] = (catalog_version, product.pk)
    stock_key = stamps.product_stock_key(product.pk)
    return catalog_version, product.pk, stamps.versions(stock_key)[stock_key]


def product_for_page(slug: str, *, catalog_version: str | None = None) -> Product | None:
    """An active product by slug with its category and all its images, or None; with the
    catalog's version stamp, from the cache while it holds."""
    if catalog_version is not None:
        # Neutral: the product carries its texts in every language.
        key = stamps.key("catalog:product", catalog_version, slug, neutral=True)
        product = stamps.fragments().get(key)
        if product is None:
            product = product_for_page(slug)
            if product is not None:
                stamps.fragments().set(key, product, stamps.FRAGMENT_SECONDS)
        return product
    return (
        Product.objects.active()
        .select_related("category")
        .prefetch_related(Prefetch("images", queryset=ProductImage.objects.order_by("position", "pk")))
        .filter(slug=slug)
        .first()
    )
