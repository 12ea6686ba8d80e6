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
