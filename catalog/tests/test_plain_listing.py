"""catalog.selectors.PlainListing (the product list without a search, in SQL of its own) lists
what the ORM's product_listing lists, in the same order, and counts the same."""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from catalog.models import Product
from catalog.selectors import ListingSort, PlainListing, product_listing
from catalog.tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    # Names tied and missing in a language (sorted as the ORM sorts them: by the language's
    # column, then the primary key), prices tied, dates apart, a variant and a withdrawn product.
    knitwear, food = CategoryFactory(slug="knitwear"), CategoryFactory(slug="food")
    now = timezone.now()
    specs = [
        ("Lopi sweater", "Lopapeysa", None, "19990", knitwear),
        ("Mittens", "Vettlingar", "Votter", "4990", knitwear),
        ("Mittens", "Vettlingar", "Votter", "4990", knitwear),
        ("Hat", None, "Lue", "3990.50", knitwear),
        ("Dried fish", "Harðfiskur", "Tørrfisk", "2490", food),
        ("Skyr", "Skyr", None, "490", food),
    ]
    products = []
    for index, (name_en, name_is, name_nb, price, category) in enumerate(specs):
        product = ProductFactory(
            name_en=name_en, name_is=name_is, name_nb=name_nb, price=Decimal(price), category=category
        )
        Product.objects.filter(pk=product.pk).update(created_at=now - timedelta(days=index % 3))
        products.append(product)
    ProductFactory(parent=products[0], name="Lopi sweater M", category=knitwear)
    ProductFactory(is_active=False, name="Withdrawn", category=food)
    return {"knitwear": knitwear, "food": food}


@pytest.mark.parametrize("language", ["en", "is", "nb"])
def test_the_ids_and_count_are_the_orms_for_every_filter_and_order(catalog, language, django_assert_num_queries):
    categories = [None, [catalog["knitwear"].pk], [catalog["knitwear"].pk, catalog["food"].pk], []]
    sorts = [None, *ListingSort]
    prices = [(None, None), (Decimal("2490"), None), (None, Decimal("4990")), (Decimal("3000"), Decimal("20000"))]
    with translation.override(language):
        for category_ids, sort, (low, high) in itertools.product(categories, sorts, prices):
            filters = {"category_ids": category_ids, "sort": sort, "min_price": low, "max_price": high}
            expected = list(product_listing(**filters).values_list("pk", flat=True))
            listing = PlainListing(**filters)
            with django_assert_num_queries(3):
                assert listing[0:100] == expected, filters
                assert listing[1:3] == expected[1:3], filters
                assert listing.count() == len(expected), filters


def test_it_serves_listings_without_a_search_only():
    assert PlainListing.serves(search="") and PlainListing.serves(search="  ")
    assert not PlainListing.serves(search="hat")


@pytest.mark.parametrize("number", [None, "1", "2", "3", "abc", "1.0", "0", "-1", "99"])
def test_a_search_pages_and_counts_in_one_query_as_the_paginator_does_in_two(number, django_assert_num_queries):
    # given 30 products a search finds (a page and a bit) among others
    from django.core.paginator import Paginator

    from catalog.selectors import PRODUCTS_PER_PAGE, CachedCountPaginator, CountingListing

    for index in range(PRODUCTS_PER_PAGE + 6):
        ProductFactory(name=f"Wool hat {index:02}")
    ProductFactory(name="Dried fish")
    found = product_listing(search="wool hat")

    # when a page of it is asked for while its count is not cached
    expected = Paginator(found.values_list("pk", flat=True), PRODUCTS_PER_PAGE).get_page(number)
    # before the start (the last page, as Paginator.get_page has it): the count and the page
    with django_assert_num_queries(2 if number in ("0", "-1") else 1):
        page = CachedCountPaginator(CountingListing(found), PRODUCTS_PER_PAGE, count_key=f"t:{number}").get_page(number)
        ids = list(page.object_list)

    # then the page and count are the Paginator's, and the count is kept
    assert (page.number, page.paginator.count, ids) == (expected.number, 30, list(expected.object_list))
    again = CachedCountPaginator(CountingListing(found), PRODUCTS_PER_PAGE, count_key=f"t:{number}")
    with django_assert_num_queries(1):
        assert list(again.get_page(number).object_list) == ids


def test_a_search_that_finds_nothing_counts_nothing_in_one_query(django_assert_num_queries):
    from catalog.selectors import PRODUCTS_PER_PAGE, CachedCountPaginator, CountingListing

    ProductFactory(name="Dried fish")
    with django_assert_num_queries(1):
        paginator = CachedCountPaginator(
            CountingListing(product_listing(search="zzyzx")), PRODUCTS_PER_PAGE, count_key="t:none"
        )
        page = paginator.get_page("1")
        assert (page.number, paginator.count, list(page.object_list)) == (1, 0, [])


def test_the_first_images_are_the_orms(django_assert_num_queries):
    # given products with pictures in another order than they were added, and one without
    from catalog.models import ProductImage
    from catalog.selectors import with_first_images

    hat, scarf, bare = ProductFactory(), ProductFactory(), ProductFactory()
    ProductImage.objects.create(product=hat, image="products/1/b.png", position=2)
    first = ProductImage.objects.create(product=hat, image="products/1/a.png", thumbnail="t/a.jpg", position=1)
    ProductImage.objects.create(product=hat, image="products/1/c.png", position=1)
    only = ProductImage.objects.create(product=scarf, image="products/2/s.png")
    products = list(Product.objects.filter(pk__in=[hat.pk, scarf.pk, bare.pk]).order_by("pk"))

    # when their cards' pictures are read, then one query, each the first by position, then pk
    with django_assert_num_queries(1):
        with_first_images(products)
    assert [product.first_images for product in products] == [[first], [only], []]
    assert products[0].first_images[0].thumbnail.name == "t/a.jpg"
    with django_assert_num_queries(0):
        with_first_images([])
