"""Reads for the shopper's catalog pages. Each page's queries are decided here, so the count
stays the same whether a page shows 10 products or 200."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connection, connections, models, router
from django.db.models import (
    Count,
    Exists,
    Min,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Window,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from modeltranslation.utils import build_localized_fieldname
from modeltranslation.utils import get_language as translated_language

from o2o_site.cache import stamps
from o2o_site.rows import columns, converted, from_joined_row, from_row, width

from .models import Category, Product, ProductImage, VariantAttribute, VariantAttributeValue, search_languages
from .search import SEARCH_CANDIDATES, search_sql

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
    return _kept_here(stamps.key("catalog:tree", catalog_version, neutral=True), category_tree)


# The category tree and the attribute choices as this process last read them, by their cache key
# (which carries the catalog's version stamp, so a kept value is never stale): every list and
# product page needs them, and unpickling the tree's 50 categories from the cache cost a page
# miss 4 ms of CPU.
_read_here: dict[str, object] = {}
KEPT_HERE = 16


def _kept_here(key: str, read: Callable[[], object]) -> object:
    """The value under `key`: from this process, else from the shared cache, else read()."""
    found = _read_here.get(key)
    if found is None:
        found = stamps.fragments().get(key)
        if found is None:
            found = read()
            stamps.fragments().set(key, found, stamps.VERSION_SECONDS)
        if len(_read_here) >= KEPT_HERE:
            _read_here.clear()
        _read_here[key] = found
    return found


# The largest LIMIT sent: PostgreSQL's and SQLite's integers hold it.
LIMIT_MAX = 2**31 - 1


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

    def get_page(self, number):
        """As Paginator.get_page (a missing or malformed number is page 1, a number past the end
        the last page); of a CountingListing whose count is not cached yet, the page and the count
        from one query, however far the page."""
        if isinstance(self.object_list, CountingListing | SearchListing) and "_cached_count" not in self.__dict__:
            found = stamps.fragments().get(self._count_key)
            if found is not None:
                self.__dict__["_cached_count"] = found
                return super().get_page(number)
            try:
                wanted = int(number)
            except (TypeError, ValueError):
                wanted = 1
            if wanted >= 1:
                # Every id up to the page's end: past the end, the last page is among them. A
                # LIMIT past what a database's integers hold is refused (a page number of 20
                # digits): no catalogue has that many, so that many is the end.
                ids, total = self.object_list.counted(min(wanted * self.per_page, LIMIT_MAX))
                self.__dict__["_cached_count"] = total
                stamps.fragments().set(self._count_key, total, stamps.FRAGMENT_SECONDS)
                shown = min(wanted, self.num_pages)
                bottom = (shown - 1) * self.per_page
                return self._get_page(ids[bottom : bottom + self.per_page], shown, self)
        return super().get_page(number)


class CountingListing:
    """A search's products (product_listing's queryset, perhaps narrowed further) as ids, a page
    at a time (listing[24:48]), which can also count every product found as it reads them
    (COUNT(*) OVER ()): a search ranks all it finds to order them anyway, so counting them there
    costs PostgreSQL next to nothing, and spares the page a COUNT query of its own, which the ORM
    took ~1 ms to build and compile (the search's conditions a second time).
    CachedCountPaginator.get_page uses it."""

    def __init__(self, products: QuerySet[Product]):
        self._products = products

    def count(self) -> int:
        return self._products.count()

    def __getitem__(self, page: slice) -> list[int]:
        return list(self._products.values_list("pk", flat=True)[page])

    def counted(self, stop: int) -> tuple[list[int], int]:
        """The ids of products[:stop], and how many products there are."""
        rows = list(self._products.annotate(listing_total=Window(Count("*"))).values_list("pk", "listing_total")[:stop])
        return [pk for pk, _total in rows], rows[0][1] if rows else 0


def _first_image():
    # A sliced Prefetch: one query for the first image of every product on the page.
    return Prefetch(
        "images",
        queryset=ProductImage.objects.order_by("position", "pk")[:1],
        to_attr="first_images",
    )


def with_first_images(products: list[Product]) -> None:
    """Give each of `products` its `first_images` (what its card shows: a list of one or none),
    one query for them all: for the cards a list page has to render, when it read its products
    without them. Every image of these products, the first of each kept: a plain query costs a
    third of the CPU of _first_image's sliced prefetch (a window function), and a product has a
    handful of pictures. Its SQL is written here: the ORM took longer to compile it than
    PostgreSQL to answer it (catalog/tests/test_plain_listing.py compares the two)."""
    first = {}
    if products:
        sql = (
            f"SELECT {columns(ProductImage, 'i')} FROM {connection.ops.quote_name(ProductImage._meta.db_table)} i "
            f"WHERE i.product_id IN ({', '.join(['%s'] * len(products))}) ORDER BY i.position, i.id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [product.pk for product in products])
            for row in cursor.fetchall():
                image = from_row(ProductImage, row)
                first.setdefault(image.product_id, image)
    for product in products:
        product.first_images = [first[product.pk]] if product.pk in first else []


class ListingSort(models.TextChoices):
    """The orders a shopper can list products in (?sort=). Relevance needs a search."""

    RELEVANCE = "relevance", _("Relevance")
    PRICE_LOW_TO_HIGH = "price", _("Price, low to high")
    PRICE_HIGH_TO_LOW = "-price", _("Price, high to low")
    NEWEST = "newest", _("Newest")
    NAME = "name", _("Name")


# Each ends with the primary key, so pages never overlap where prices or dates tie.
LISTING_ORDER = {
    ListingSort.PRICE_LOW_TO_HIGH: ("price", "pk"),
    ListingSort.PRICE_HIGH_TO_LOW: ("-price", "-pk"),
    ListingSort.NEWEST: ("-created_at", "-pk"),
    ListingSort.NAME: ("name", "pk"),
}


def product_listing(
    *,
    search: str = "",
    category_ids: list[int] | None = None,
    sort: ListingSort | None = None,
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    images: bool = True,
) -> QuerySet[Product]:
    """Active products for the list page, each with `first_images` (unless `images` is False:
    with_first_images then reads them for the cards not cached), in the order `sort` says: by
    default, or by relevance, the best found first for a search (catalog/search.py), else by
    name. Variants are not listed: their product is, once (ProductQuerySet.styles), at its
    listed price (listed_price_sql: the lowest of its variants for sale, else its own), which the
    price filter and the price sort go by, as the card and the product page show it.

    Stock is a higher layer's business: stores.selectors.only_available_at narrows this to what a
    store has, and stores.selectors.units_at reads the units for the page shown only.
    """
    products = Product.objects.active().styles().search(search)
    if images:
        products = products.prefetch_related(_first_image())
    if category_ids is not None:
        products = products.filter(category_id__in=category_ids)
    by_price = sort in (ListingSort.PRICE_LOW_TO_HIGH, ListingSort.PRICE_HIGH_TO_LOW)
    if by_price or min_price is not None or max_price is not None:
        products = products.annotate(listed_price=_listed_price())
    if min_price is not None:
        products = products.filter(listed_price__gte=min_price)
    if max_price is not None:
        products = products.filter(listed_price__lte=max_price)
    searching = bool(search.strip())
    if sort in (None, ListingSort.RELEVANCE):
        return products.order_by("-search_rank", "name", "pk") if searching else products.order_by("name", "pk")
    return products.order_by(*(name.replace("price", "listed_price") for name in LISTING_ORDER[sort]))


def _listed_price():
    """listed_price_sql for the ORM: the lowest price of the product's variants for sale, else its own."""
    lowest = (
        Product.objects.filter(parent=OuterRef("pk"), is_active=True)
        .order_by()
        .values("parent")
        .annotate(lowest=Min("price"))
        .values("lowest")
    )
    return Coalesce(Subquery(lowest), "price")


def listed_price_sql(alias: str = "p") -> str:
    """A product's price as the shop lists it, in SQL on the product `alias`: the lowest price of
    its variants for sale, else its own. The card ("From" it when its variants' prices differ),
    the product page, the list's price filter and its price sort all go by it, as Saleor's
    product listing has the lowest of its variants' prices (its "minimal variant price")."""
    table = connection.ops.quote_name(Product._meta.db_table)
    return (
        f"COALESCE((SELECT MIN(v.price) FROM {table} v WHERE v.parent_id = {alias}.id AND v.is_active), {alias}.price)"
    )


def _listing_where(
    *,
    category_ids: list[int] | None,
    min_price: Decimal | None,
    max_price: Decimal | None,
    conditions: Iterable[tuple[str, list]],
) -> tuple[list[str], list]:
    """product_listing's filters as SQL on the product `p` (PlainListing, SearchListing), and
    their parameters."""
    price = Product._meta.get_field("price")
    where, params = ["p.is_active", "p.parent_id IS NULL"], []  # active().styles()
    if category_ids is not None:
        where.append(f"p.category_id IN ({', '.join(['%s'] * len(category_ids))})" if category_ids else "1 = 0")
        params.extend(category_ids)
    for bound, operator in ((min_price, ">="), (max_price, "<=")):
        if bound is not None:
            where.append(f"{listed_price_sql('p')} {operator} %s")
            params.append(price.get_db_prep_value(bound, connection))
    # A higher layer's own (SQL on the product `p`, and its parameters): what a store has.
    for condition, condition_params in conditions:
        where.append(f"({condition})")
        params.extend(condition_params)
    return where, params


def _listing_order(order: Iterable[str], table: str = "p") -> str:
    """LISTING_ORDER's names as SQL's ORDER BY on `table`. ProductQuerySet orders by the name in
    the active language (modeltranslation), as here."""
    quote = connection.ops.quote_name
    columns = {"name": build_localized_fieldname("name", translated_language()), "pk": "id"}

    def column(name: str) -> str:
        if name == "price" and table == "p":  # SearchListing's `found` holds the listed price
            return listed_price_sql(table)
        return f"{table}.{quote(columns.get(name, name))}"

    return ", ".join(f"{column(name.lstrip('-'))} {'DESC' if name.startswith('-') else 'ASC'}" for name in order)


class PlainListing:
    """The ids of product_listing(category_ids=…, sort=…, min_price=…, max_price=…) without a
    search, in its order, a page at a time (listing[24:48]), and their count: what the product
    list reads for a category or the home page (PlainListing.serves says when), in SQL written
    here; `conditions` narrow it further (stores.selectors.available_at_condition). The ORM took
    longer to build and compile the listing and its count (~1.7 ms a page) than PostgreSQL took
    to answer them; catalog/tests/test_plain_listing.py compares the two.

    With `count_at_most`, the count stops past that many (it is then count_at_most + 1: the page
    says "more than", as a search's does) and the first count_at_most are listed: counting every
    product a store has cost time in proportion to the catalogue (the home page's 8 500 of 10 000
    products in stock at a store: ~28 ms, ~150 ms of 30 000 with JIT compiling it)."""

    def __init__(
        self,
        *,
        category_ids: list[int] | None = None,
        sort: ListingSort | None = None,
        min_price: Decimal | None = None,
        max_price: Decimal | None = None,
        conditions: Iterable[tuple[str, list]] = (),
        count_at_most: int | None = None,
    ):
        where, params = _listing_where(
            category_ids=category_ids, min_price=min_price, max_price=max_price, conditions=conditions
        )
        self._from = f"FROM {connection.ops.quote_name(Product._meta.db_table)} p WHERE {' AND '.join(where)}"
        self._order = _listing_order(LISTING_ORDER.get(sort, ("name", "pk")))
        self._params = params
        self.count_at_most = count_at_most

    @staticmethod
    def serves(*, search: str) -> bool:
        """Whether a listing is one PlainListing reads (no search; the caller adds no filter of
        its own, such as stock at a store or variant attributes)."""
        return not search.strip()

    def count(self) -> int:
        """How many products there are; with count_at_most, at most count_at_most + 1."""
        with connection.cursor() as cursor:
            if self.count_at_most is None:
                cursor.execute(f"SELECT COUNT(*) {self._from}", self._params)
            else:
                cursor.execute(
                    f"SELECT COUNT(*) FROM (SELECT 1 {self._from} LIMIT %s) found",
                    [*self._params, self.count_at_most + 1],
                )
            return cursor.fetchone()[0]

    def __getitem__(self, page: slice) -> list[int]:
        start, stop = page.start or 0, page.stop
        if self.count_at_most is not None:  # the one past the cap is counted, not listed
            stop = min(stop, self.count_at_most)
            start = min(start, stop)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT p.id {self._from} ORDER BY {self._order} LIMIT %s OFFSET %s",
                [*self._params, stop - start, start],
            )
            return [row[0] for row in cursor.fetchall()]


class SearchListing:
    """The ids of product_listing(search=…, category_ids=…, sort=…, min_price=…, max_price=…) a
    page at a time (listing[24:48]), and their count, in one statement of SQL written here
    (the conditions and rank of catalog.search.search_sql): what the product list reads for a
    search; `conditions` narrow it further (stores.selectors.available_at_condition).

    The same cost whatever the catalogue's size: at most SEARCH_CANDIDATES + 1 of the products
    found are read, ranked, sorted and counted: the product with the search as its SKU (or a
    variant's) first, then those with the words in their names, those whose SKU starts with
    it, and those with the words in their descriptions. Up to SEARCH_CANDIDATES found, its ids,
    order and count are product_listing's (catalog/tests/test_search_listing.py compares them);
    past it the count is SEARCH_CANDIDATES + 1 (the page says "more than SEARCH_CANDIDATES",
    and how to see every match) and those listed are the first SEARCH_CANDIDATES found, in the
    order asked for. Ranking and counting every
    product found took PostgreSQL time in proportion to what it found (a word in half the
    descriptions: 120 ms of 10 000 products, 290 ms of 30 000), and the ORM ~3 ms of CPU to
    build and compile the query."""

    def __init__(
        self,
        *,
        search: str,
        category_ids: list[int] | None = None,
        sort: ListingSort | None = None,
        min_price: Decimal | None = None,
        max_price: Decimal | None = None,
        conditions: Iterable[tuple[str, list]] = (),
    ):
        where, where_params = _listing_where(
            category_ids=category_ids, min_price=min_price, max_price=max_price, conditions=conditions
        )
        # The replica when the request may read it (o2o_site.replica), as the ORM would.
        self._database = connections[router.db_for_read(Product)]
        found = search_sql(search.strip(), languages=search_languages())
        by_relevance = sort in (None, ListingSort.RELEVANCE)
        # Ranked only when ordered by rank.
        rank, rank_params = found.rank if by_relevance else ("NULL", [])
        quote = self._database.ops.quote_name
        table, name = quote(Product._meta.db_table), quote(build_localized_fieldname("name", translated_language()))
        # The listed price is read only for the price sort (it reads the variants of each candidate).
        by_price = sort in (ListingSort.PRICE_LOW_TO_HIGH, ListingSort.PRICE_HIGH_TO_LOW)
        price = listed_price_sql("p") if by_price else "p.price"
        shown = f"p.id, p.{name}, {price} AS price, p.created_at, {rank} AS search_rank"
        base = " AND ".join(where)
        limit = SEARCH_CANDIDATES + 1
        # Each tier (search_sql) at most the cap and one, without the products an earlier one
        # found; read in turn until there are as many: a search that names more products than
        # the cap reads no SKU prefix and no description. Nothing is ranked but what is kept.
        tiers, params = [], []
        for number, (condition, condition_params) in enumerate(found.tiers):
            earlier = "".join(
                f" AND NOT EXISTS (SELECT 1 FROM tier{before} t WHERE t.id = p.id)" for before in range(number)
            )
            tiers.append(
                f"tier{number} AS MATERIALIZED (SELECT {shown} FROM {table} p "
                f"WHERE {base} AND ({condition}){earlier} LIMIT %s)"
            )
            params += [*rank_params, *where_params, *condition_params, limit]
        every = " UNION ALL ".join(f"SELECT * FROM tier{number}" for number in range(len(found.tiers)))
        # Found: the cap and one (the one says "more than the cap"); kept: those listed, the cap.
        self._with = (
            f"WITH {', '.join(tiers)}, found AS MATERIALIZED ({every} LIMIT %s), "
            "kept AS (SELECT * FROM found LIMIT %s) "
        )
        self._params = [*params, limit, SEARCH_CANDIDATES]
        if by_relevance:
            self._order = f"f.search_rank DESC, {_listing_order(('name', 'pk'), table='f')}"
        else:
            self._order = _listing_order(LISTING_ORDER[sort], table="f")

    @staticmethod
    def serves() -> bool:
        """Whether the database searches as search_sql says (PostgreSQL; SQLite, `make run`'s
        embedded default, has no full-text search: the ORM's plain_search answers there)."""
        return connections[router.db_for_read(Product)].vendor == "postgresql"

    def count(self) -> int:
        with self._database.cursor() as cursor:
            cursor.execute(f"{self._with}SELECT COUNT(*) FROM found", self._params)
            return cursor.fetchone()[0]

    def __getitem__(self, page: slice) -> list[int]:
        start, stop = page.start or 0, page.stop
        with self._database.cursor() as cursor:
            cursor.execute(
                f"{self._with}SELECT f.id FROM kept f ORDER BY {self._order} LIMIT %s OFFSET %s",
                [*self._params, stop - start, start],
            )
            return [row[0] for row in cursor.fetchall()]

    def counted(self, stop: int) -> tuple[list[int], int]:
        """The ids of listing[:stop], and how many products there are (at most the cap and one)."""
        with self._database.cursor() as cursor:
            cursor.execute(
                f"{self._with}SELECT f.id, (SELECT COUNT(*) FROM found) FROM kept f ORDER BY {self._order} LIMIT %s",
                [*self._params, stop],
            )
            rows = cursor.fetchall()
        return [pk for pk, _total in rows], rows[0][1] if rows else 0


@dataclass(frozen=True)
class ProductPageStamps:
    """What a product page's cache key needs before the product is read (product_page_stamps)."""

    catalog: str
    # None when no product for sale has the slug.
    product_id: int | None = None
    # The stock version of what the page shows: the product's, or with variants all of theirs.
    stock: str | None = None
    # {variant id: its stock version}: the chosen variant's availability is cached under its own.
    variant_stocks: dict = field(default_factory=dict)
    # A variant's own address answers with its product's page, the variant chosen there.
    redirect_to: str | None = None
    # The stores' version (names, hours, open or not: stores.services.stores_changed): the page's
    # store parts and in-store banner show them.
    stores: str = "-"
    # The product, when these stamps had to read it (this process had not seen the slug under
    # the catalog's version): the page's build then needs no second read of it from the cache.
    product: Product | None = field(default=None, compare=False, repr=False)


# {slug: (catalog version, product id, variant ids, redirect)} as this process last saw them:
# see product_page_stamps.
_product_ids = {}
PRODUCT_IDS_KEPT = 20_000


def product_page_stamps(slug: str) -> ProductPageStamps:
    """The catalog's version, the product's id and its stock version (with variants: all of
    theirs, in the same round trip), and the stores' version, for a product page.

    A page needs the product's id for its stock version. Once this process has seen the slug
    under the current catalog version, all versions come in one cache round trip, and the
    product itself is read only if the page has to be rendered."""
    remembered = _product_ids.get(slug)
    stock_keys = [stamps.product_stock_key(pk) for pk in (remembered[1], *remembered[2])] if remembered else []
    found = stamps.versions(stamps.CATALOG, stamps.STORES, *stock_keys)
    catalog_version = found[stamps.CATALOG]
    product = None
    if not (remembered and remembered[0] == catalog_version):
        product = product_for_page(slug, catalog_version=catalog_version)
        if product is None:
            return ProductPageStamps(catalog=catalog_version)
        redirect_to = f"{product.parent.get_absolute_url()}?variant={product.pk}" if product.parent_id else None
        if len(_product_ids) >= PRODUCT_IDS_KEPT:
            _product_ids.clear()
        remembered = _product_ids[slug] = (
            catalog_version,
            product.pk,
            tuple(variant.pk for variant in product.active_variants),
            redirect_to,
        )
        found.update(stamps.versions(*(stamps.product_stock_key(pk) for pk in (product.pk, *remembered[2]))))
    _version, product_id, variant_ids, redirect_to = remembered
    own = found[stamps.product_stock_key(product_id)]
    variant_stocks = {pk: found[stamps.product_stock_key(pk)] for pk in variant_ids}
    return ProductPageStamps(
        catalog=catalog_version,
        product_id=product_id,
        stock=stamps.digest(":".join([own, *variant_stocks.values()])) if variant_ids else own,
        variant_stocks=variant_stocks,
        redirect_to=redirect_to,
        stores=found[stamps.STORES],
        product=product,
    )


def _variant_order(variant: Product):
    # As the shop arranged the values (S, M, L), not alphabetically.
    return [(value.attribute.position, value.attribute_id, value.position, value.pk) for value in variant.values]


def product_for_page(slug: str, *, catalog_version: str | None = None) -> Product | None:
    """A product for sale by slug with its category and all its images, or None; with the
    catalog's version stamp, from the cache while it holds.

    With `active_variants` (those for sale, in the order of their values, each with `values`
    and `images`) and `variant_attributes` (what they differ by: size, colour). A variant's
    `parent` (its page is its product's) is read when asked for."""
    if catalog_version is not None:
        # Neutral: the product carries its texts in every language.
        key = stamps.key("catalog:product", catalog_version, slug, neutral=True)
        product = stamps.fragments().get(key)
        if product is None:
            product = product_for_page(slug)
            if product is not None:
                stamps.fragments().set(key, product, stamps.CATALOG_SECONDS)
        return product
    product = _product_by_slug(slug)
    if product is not None:
        if product.has_variants:
            # Built only here: the querysets alone cost a page of a product without variants
            # (most) a quarter of a millisecond.
            images = Prefetch("images", queryset=ProductImage.objects.order_by("position", "pk"))
            variants = (
                Product.objects.active()
                .order_by("pk")
                .prefetch_related(
                    Prefetch(
                        "attribute_values",
                        queryset=VariantAttributeValue.objects.select_related("attribute"),
                        to_attr="values",
                    ),
                    images,
                )
            )
            prefetch_related_objects([product], Prefetch("variants", queryset=variants, to_attr="active_variants"))
        else:
            product.active_variants = []
        product.active_variants.sort(key=_variant_order)
        attributes = {
            value.attribute.pk: value.attribute for variant in product.active_variants for value in variant.values
        }
        product.variant_attributes = sorted(
            attributes.values(), key=lambda attribute: (attribute.position, attribute.pk)
        )
    return product


def _product_by_slug(slug: str) -> Product | None:
    """Product.objects.for_sale().select_related("category").annotate(has_variants=Exists(its
    variants)).prefetch_related(its images, by position).filter(slug=slug).first(), in one query
    of SQL written here (the images joined): the ORM's two took a product page's miss 3 ms of CPU
    to compile and read (catalog/tests/test_product_for_page.py compares the two)."""
    database = connections[router.db_for_read(Product)]
    quote = database.ops.quote_name
    products, categories = quote(Product._meta.db_table), quote(Category._meta.db_table)
    images = quote(ProductImage._meta.db_table)
    sql = (
        f"SELECT {columns(Product, 'p')}, {columns(Category, 'c')}, "
        f"EXISTS (SELECT 1 FROM {products} v WHERE v.parent_id = p.id), {columns(ProductImage, 'i')} "
        f"FROM {products} p LEFT OUTER JOIN {products} parent ON p.parent_id = parent.id "
        f"INNER JOIN {categories} c ON p.category_id = c.id "
        f"LEFT OUTER JOIN {images} i ON i.product_id = p.id "
        # ProductQuerySet.for_sale: active, and a variant's product too.
        "WHERE p.slug = %s AND p.is_active AND (p.parent_id IS NULL OR parent.is_active) "
        "ORDER BY i.position, i.id"
    )
    with database.cursor() as cursor:
        cursor.execute(sql, [slug])
        rows = cursor.fetchall()
    if not rows:
        return None
    product_end = width(Product)
    category_end = product_end + width(Category)
    product = from_row(Product, rows[0][:product_end])
    Product._meta.get_field("category").set_cached_value(product, from_row(Category, rows[0][product_end:category_end]))
    product.has_variants = bool(rows[0][category_end])
    pictures = [from_joined_row(ProductImage, row[category_end + 1 :]) for row in rows]
    pictures = [picture for picture in pictures if picture is not None]
    # As prefetch_related leaves them: each picture knows its product, the product its pictures.
    for picture in pictures:
        ProductImage._meta.get_field("product").set_cached_value(picture, product)
    queryset = product.images.all()
    queryset._result_cache, queryset._prefetch_done = pictures, True
    product._prefetched_objects_cache = {"images": queryset}
    return product


# --- the listing's filter by variant attributes (size M, colour grey) ----------------------------


@dataclass
class AttributeChoices:
    """An attribute with its values, in the shop's order, for the listing's filter."""

    attribute: VariantAttribute
    values: list[VariantAttributeValue]


def variant_attribute_choices(catalog_version: str | None = None) -> list[AttributeChoices]:
    """Every attribute with values (one query); with the catalog's version stamp, from the cache
    (no query) while it holds."""
    if catalog_version is not None:
        # Neutral: the attributes and values carry their names in every language.
        return _kept_here(
            stamps.key("catalog:attribute-choices", catalog_version, neutral=True), variant_attribute_choices
        )
    choices = {}
    for value in VariantAttributeValue.objects.select_related("attribute"):  # in the attributes' order
        choices.setdefault(value.attribute_id, AttributeChoices(value.attribute, [])).values.append(value)
    return list(choices.values())


def variants_with_values(values: Iterable[VariantAttributeValue]) -> QuerySet[Product]:
    """Active variants with one of `values` of each attribute among them: size M or L, and grey."""
    by_attribute = {}
    for value in values:
        by_attribute.setdefault(value.attribute_id, []).append(value.pk)
    links = Product.attribute_values.through.objects.order_by()
    variants = Product.objects.active().filter(parent__isnull=False).order_by()
    for value_ids in by_attribute.values():
        variants = variants.filter(Exists(links.filter(product=OuterRef("pk"), variantattributevalue__in=value_ids)))
    return variants


def having_variant_in(products: QuerySet[Product], variants: QuerySet[Product]) -> QuerySet[Product]:
    """`products` narrowed to those with one of `variants` (variants_with_values, perhaps narrowed
    further to those in stock at a store by stores.selectors.only_available_at)."""
    return products.filter(Exists(variants.filter(parent=OuterRef("pk"))))


# What a product card shows (storefront/listing_html._card): its address, name in every
# language, SKU and price; its pictures are read beside (with_first_images).
CARD_FIELDS = frozenset(
    ("id", "parent_id", "slug", "sku", "price", "name")
    + tuple(f"name_{code}" for code in settings.MODELTRANSLATION_LANGUAGES)
)


def products_for_cards(product_ids: Iterable[int]) -> dict[int, Product]:
    """The products of `product_ids` a list shows (active, not variants) with what their cards
    show only ({pk: product}; the other fields deferred: reading one costs a query), for the
    cards of a list page not cached yet. One query, SQL written here: half the CPU of reading
    whole products (twenty fields, descriptions in three languages) for a page's cards."""
    product_ids = list(dict.fromkeys(product_ids))
    if not product_ids:
        return {}
    fields = [field for field in Product._meta.concrete_fields if field.attname in CARD_FIELDS]
    quote = connection.ops.quote_name
    table = quote(Product._meta.db_table)
    sql = (
        f"SELECT {', '.join(f'p.{quote(field.column)}' for field in fields)}, "
        # The lowest and highest price of its variants for sale (NULL without any): the card
        # shows the listed price (listed_price_sql), "From" it when they differ.
        f"(SELECT MIN(v.price) FROM {table} v WHERE v.parent_id = p.id AND v.is_active), "
        f"(SELECT MAX(v.price) FROM {table} v WHERE v.parent_id = p.id AND v.is_active) "
        f"FROM {table} p WHERE p.is_active AND p.parent_id IS NULL "
        f"AND p.id IN ({', '.join(['%s'] * len(product_ids))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, product_ids)
        rows = cursor.fetchall()
    names = [field.attname for field in fields]
    found = {}
    for row in rows:
        values = [
            converted(Product, field.name, value) for field, value in zip(fields, row[: len(fields)], strict=True)
        ]
        product = Product.from_db(connection.alias, names, values)
        lowest, highest = (converted(Product, "price", value) for value in row[len(fields) :])
        product.listed_price = product.price if lowest is None else lowest
        product.price_varies = lowest is not None and lowest != highest
        found[product.pk] = product
    return found


def products_for_sale(product_ids: Iterable[int]) -> dict[int, Product]:
    """Product.objects.for_sale().select_related("parent").in_bulk(product_ids): the cart's lines
    on every cart and checkout page, in SQL written here, not compiled by the ORM each time (~1.5
    ms; catalog/tests/test_products_for_sale.py compares the two)."""
    product_ids = list(dict.fromkeys(product_ids))
    if not product_ids:
        return {}
    table = connection.ops.quote_name(Product._meta.db_table)
    sql = (
        f"SELECT {columns(Product, 'p')}, {columns(Product, 'parent')} FROM {table} p "
        f"LEFT OUTER JOIN {table} parent ON p.parent_id = parent.id "
        # ProductQuerySet.for_sale: active, and a variant's product too.
        "WHERE p.is_active AND (p.parent_id IS NULL OR parent.is_active) "
        f"AND p.id IN ({', '.join(['%s'] * len(product_ids))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, product_ids)
        rows = cursor.fetchall()
    split = width(Product)
    parent_field, found = Product._meta.get_field("parent"), {}
    for row in rows:
        product = from_row(Product, row[:split])
        # As select_related("parent") leaves it: None for a product that is no variant.
        parent_field.set_cached_value(product, from_joined_row(Product, row[split:]))
        found[product.pk] = product
    return found
