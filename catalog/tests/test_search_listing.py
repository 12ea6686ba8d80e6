"""catalog.selectors.SearchListing (a search's page and count, in SQL of its own) lists what the
ORM's product_listing lists, in the same order, and counts the same, up to SEARCH_CANDIDATES
found; past that it ranks and counts no further, the products named for the words first."""

import itertools
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from catalog import selectors, services
from catalog.models import Product
from catalog.selectors import PRODUCTS_PER_PAGE, CachedCountPaginator, ListingSort, SearchListing, product_listing
from catalog.tests.factories import CategoryFactory, ProductFactory, sizes
from stores.selectors import available_at_condition, only_available_at
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

LIST_URL = "/"


@pytest.fixture
def catalog(require_postgres):
    # Names in three languages and missing in some, words in names and in descriptions only,
    # accents, compounds, tied names and prices, SKUs alike, a variant with its own SKU, a
    # withdrawn product and a withdrawn size.
    knitwear, home = CategoryFactory(slug="knitwear"), CategoryFactory(slug="home")
    specs = [
        ("Wool sweater", "Lopapeysa", "Ullgenser", "Knitted from Icelandic wool.", "19990", knitwear, "NB-KNT-010"),
        ("Wool scarf", "Ullartrefill", "Ullskjerf", "Long and warm, for a hat too.", "6990", knitwear, "NB-KNT-011"),
        ("Knitted hat", "Prjónahúfa", None, "Warm and soft.", "3990", knitwear, "NB-KNT-012"),
        ("Knitted hat", "Prjónahúfa", None, "Warm and soft.", "3990", knitwear, "NB-KNT-013"),
        ("Dome tent", "Kúlutjald", "Telt for to", "Sleeps two; a bag for your hat.", "49990", home, "NB-OUT-001"),
        ("Beeswax candle", "Bývaxkerti", "Bivokslys", "Burns long. 100% beeswax.", "1990", home, "NB_HOM_1"),
        ("Wool blanket", None, "Ullteppe", "Sweater wool, woven.", "24990", home, "NB-HOM-002"),
    ]
    products = {}
    for name_en, name_is, name_nb, description, price, category, sku in specs:
        products.setdefault(name_en, []).append(
            ProductFactory(
                name_en=name_en,
                name_is=name_is,
                name_nb=name_nb,
                description_en=description,
                price=Decimal(price),
                category=category,
                sku=sku,
            )
        )
    sweater = products["Wool sweater"][0]
    extra_large, small = sizes("XL", "S")
    services.create_variant(parent=sweater, sku="NB-KNT-010-XL", values=[extra_large])
    retired = services.create_variant(parent=sweater, sku="NB-KNT-010-S", values=[small])
    Product.objects.filter(pk=retired.pk).update(is_active=False)
    ProductFactory(name_en="Wool socks", is_active=False, category=knitwear)
    return {"knitwear": knitwear, "home": home, "products": products}


TEXTS = [
    "wool",
    "hat",
    "sweter",  # a typo
    "sweaters",  # a plural
    "sweater wool",
    "WOOL SWEATER",
    '"wool sweater" -blanket',  # a phrase, a word excluded
    "trefil",  # part of a compound, misspelt
    "kerti",
    "bývaxkertí",
    "telter",
    "NB-KNT-01",  # the start of SKUs
    "nb-knt-010-xl",  # a variant's SKU
    "NB-KNT-010-S",  # a withdrawn size's
    "nb_hom",  # LIKE's wildcards are letters here
    "100%",
    "the",  # nothing but a stop word
    "a b",
    "zzyzx",
]


@pytest.mark.parametrize("language", ["en", "is", "nb"])
def test_the_ids_order_and_count_are_the_orms(catalog, language, django_assert_num_queries):
    categories = [None, [catalog["knitwear"].pk]]
    sorts = [None, *ListingSort]
    prices = [(None, None), (Decimal("3990"), Decimal("20000"))]
    with translation.override(language):
        for text, category_ids, sort, (low, high) in itertools.product(TEXTS, categories, sorts, prices):
            filters = {"category_ids": category_ids, "sort": sort, "min_price": low, "max_price": high}
            expected = list(product_listing(search=text, **filters).values_list("pk", flat=True))
            listing = SearchListing(search=text, **filters)
            with django_assert_num_queries(3):
                assert listing.counted(100) == (expected, len(expected)), (text, filters)
                assert listing[1:3] == expected[1:3], (text, filters)
                assert listing.count() == len(expected), (text, filters)


def test_the_products_my_store_has_are_the_orms(catalog):
    # given my store has the scarf, one hat and the sweater's XL; another store has the tent
    store, other = StoreFactory(), StoreFactory()
    products = catalog["products"]
    StockLevelFactory(store=store, product=products["Wool scarf"][0], on_hand=2)
    StockLevelFactory(store=store, product=products["Knitted hat"][1], on_hand=1)
    StockLevelFactory(store=store, product=Product.objects.get(sku="NB-KNT-010-XL"), on_hand=1)
    StockLevelFactory(store=other, product=products["Dome tent"][0], on_hand=4)

    with translation.override("en"):
        for shop, text in itertools.product((store, other), ("wool", "hat", "nb-knt-010-xl")):
            # when a search is narrowed to what the store has, both ways
            expected = list(only_available_at(product_listing(search=text), store=shop).values_list("pk", flat=True))
            listing = SearchListing(search=text, conditions=[available_at_condition(shop)])

            # then the same products in the same order
            assert listing.counted(50) == (expected, len(expected)), (shop, text)


def test_a_product_named_for_the_word_ranks_above_one_that_mentions_it(catalog):
    with translation.override("en"):
        ids = SearchListing(search="hat")[0:10]
    names = [Product.objects.get(pk=pk).name_en for pk in ids]
    assert names == ["Knitted hat", "Knitted hat", "Dome tent", "Wool scarf"]


@pytest.fixture
def many_hats(require_postgres, monkeypatch):
    """A search ranks 5 products at most; 8 have "hat" in their names, 8 in their descriptions,
    the described made first (the table's order is no guide to what is named)."""
    monkeypatch.setattr(selectors, "SEARCH_CANDIDATES", 5)
    category = CategoryFactory()
    described = [
        ProductFactory(name_en=f"Dome tent {n}", description_en="A bag for your hat.", category=category)
        for n in range(8)
    ]
    named = [
        ProductFactory(name_en=f"Wool hat {n}", description_en="Warm.", price=Decimal(1000 + n), category=category)
        for n in range(8)
    ]
    return named, described


def test_past_the_cap_the_named_are_ranked_and_counted_as_one_more(many_hats, django_assert_num_queries):
    named, _described = many_hats
    with translation.override("en"):
        listing = SearchListing(search="hat")
        with django_assert_num_queries(1):
            ids, total = listing.counted(100)

    # then the cap and one are counted (the page says "more than the cap"), the cap listed,
    # every one named for the word
    assert total == 6
    assert len(ids) == 5 and set(ids) <= {product.pk for product in named}


def test_past_the_cap_a_product_whose_sku_is_the_search_is_never_crowded_out(many_hats):
    # given a product whose SKU is the word, named otherwise, made last
    bag = ProductFactory(name_en="Dome tent bag", description_en="Light.", sku="HAT")

    with translation.override("en"):
        ids, total = SearchListing(search="hat").counted(100)

    assert total == 6 and bag.pk in ids


def test_past_the_cap_a_sort_orders_the_candidates(many_hats):
    named, _described = many_hats
    with translation.override("en"):
        ids = SearchListing(search="hat", sort=ListingSort.PRICE_HIGH_TO_LOW)[0:100]
    prices = [Product.objects.get(pk=pk).price for pk in ids]
    assert len(ids) == 5 and prices == sorted(prices, reverse=True)


def test_the_page_says_more_than_the_cap_in_the_shoppers_language(many_hats, client, monkeypatch):
    import storefront.catalog_views

    named, _described = many_hats
    monkeypatch.setattr(storefront.catalog_views, "SEARCH_CANDIDATES", 5)
    icelandic = client.get(LIST_URL, {"q": "hat"}, HTTP_ACCEPT_LANGUAGE="is").content.decode()
    english = client.get(LIST_URL, {"q": "hat"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    one = client.get(LIST_URL, {"q": named[3].sku}, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Fleiri en 5 vörur passa við „hat“" in icelandic
    assert "More than 5 products match “hat”" in english
    assert icelandic.count('data-testid="product-card"') == english.count('data-testid="product-card"') == 5
    assert "Showing the 5 best matches: narrow the search" in english and "5 bestu niðurstöðurnar" in icelandic
    # a search that finds fewer says how many
    assert f"1 product matches “{named[3].sku}”" in one and "More than" not in one


def test_a_search_page_and_its_count_are_one_query(many_hats, django_assert_num_queries):
    with translation.override("en"), django_assert_num_queries(1):
        page = CachedCountPaginator(SearchListing(search="hat"), PRODUCTS_PER_PAGE, count_key="t:hat").get_page("1")
        assert (page.paginator.count, len(page.object_list)) == (6, 5)


def test_no_scan_reads_past_the_cap_however_many_it_finds(require_postgres):
    # given 2 000 products named for the word and 2 000 mentioning it, analysed
    category = CategoryFactory()
    Product.objects.bulk_create(
        Product(
            category=category,
            name=f"{'Enamel mug' if n % 2 else 'Wool hat'} {n}",
            slug=f"p-{n}",
            sku=f"MUG-{n:05d}",
            description="A sturdy enamel mug for coffee by the fjord.",
            price=Decimal("1990"),
        )
        for n in range(4000)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT gin_clean_pending_list(indexname::regclass) FROM pg_indexes "
            "WHERE indexname LIKE 'product_%_trgm' OR indexname LIKE 'product_document_%'"
        )
        cursor.execute("ANALYZE catalog_product")

    for language, text in (("en", "mug"), ("en", "mugs"), ("is", "mug"), ("en", "MUG-0"), ("en", "enamel coffee")):
        # when the search's statement is explained as it runs
        with translation.override(language), CaptureQueriesContext(connection) as captured:
            ids, total = SearchListing(search=text).counted(PRODUCTS_PER_PAGE)
        (sql,) = [query["sql"] for query in captured.captured_queries]
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0][0]["Plan"]

        # then no scan of the products gives more rows than the cap and one: no more are ranked
        assert (len(ids), total) == (PRODUCTS_PER_PAGE, selectors.SEARCH_CANDIDATES + 1)
        scans = [node for node in _nodes(plan) if node.get("Relation Name") == "catalog_product"]
        assert scans and max(node["Actual Rows"] for node in scans) <= selectors.SEARCH_CANDIDATES + 1, (text, scans)


def _nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def test_every_tier_is_answered_from_its_index(require_postgres):
    # given a catalog of 3 000 products with a paragraph each, analysed
    category = CategoryFactory()
    Product.objects.bulk_create(
        Product(
            category=category,
            name=f"Enamel mug {n}",
            name_is=f"Glerungskrús {n}",
            slug=f"mug-{n}",
            sku=f"MUG-{n:05d}",
            description="A sturdy enamel mug for coffee by the fjord, warm in the hand on a cold morning. " * 3,
            price=Decimal("1990"),
        )
        for n in range(3000)
    )
    ProductFactory(name_en="Wool sweater", name_is="Lopapeysa frá Álafossi", category=category)
    with connection.cursor() as cursor:
        # What autovacuum does to a live catalog: new rows leave GIN's pending list for the index.
        cursor.execute(
            "SELECT gin_clean_pending_list(indexname::regclass) FROM pg_indexes "
            "WHERE indexname LIKE 'product_%_trgm' OR indexname LIKE 'product_document_%'"
        )
        cursor.execute("ANALYZE catalog_product")

    for language, text in (("is", "lopapeysa"), ("is", "lopapeisa alafoss"), ("en", "sweters"), ("nb", "genser")):
        # when the search's statement is explained, sequential scans ruled out
        with translation.override(language), CaptureQueriesContext(connection) as captured:
            SearchListing(search=text).counted(PRODUCTS_PER_PAGE)
        (sql,) = [query["sql"] for query in captured.captured_queries]
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())

        # then every tier is answered by an index of migrations 0006, 0010 and 0011
        assert "Seq Scan on catalog_product" not in plan, plan
        for index in (f"product_document_{language}", f"product_folded_name_{language}_trgm"):
            assert index in plan, plan
        # and the SKU's only for what could be a SKU (no spaces)
        assert ("product_sku_upper_prefix" in plan) is (" " not in text), plan
