"""catalog.selectors.products_for_sale (the cart's lines, in SQL of its own) reads what the ORM's
Product.objects.for_sale().select_related("parent").in_bulk() reads."""

from decimal import Decimal

import pytest

from catalog.models import Product
from catalog.selectors import products_for_sale
from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

FIELDS = [field.attname for field in Product._meta.concrete_fields]


def test_the_products_and_their_parents_are_the_orms(django_assert_num_queries):
    # given a product on sale, its variants (one withdrawn), a withdrawn product and its variant
    sweater = ProductFactory(name="Lopi sweater", price=Decimal("19990.00"))
    small = ProductFactory(parent=sweater, name="Lopi sweater S")
    withdrawn_variant = ProductFactory(parent=sweater, is_active=False)
    withdrawn = ProductFactory(is_active=False)
    orphan = ProductFactory(parent=withdrawn)
    ids = [p.pk for p in (sweater, small, withdrawn_variant, withdrawn, orphan)]

    # when the cart reads them, then one query, and the parent needs none
    with django_assert_num_queries(1):
        found = products_for_sale([*ids, small.pk, 0])
        parents = {pk: product.parent for pk, product in found.items()}

    # then the same products, fields and parents as the ORM reads
    expected = Product.objects.for_sale().select_related("parent").in_bulk(ids)
    assert sorted(found) == sorted(expected) == [sweater.pk, small.pk]
    for pk, product in found.items():
        assert [getattr(product, name) for name in FIELDS] == [getattr(expected[pk], name) for name in FIELDS]
        assert product.name == expected[pk].name and product.is_for_sale
    assert parents[sweater.pk] is None
    assert [getattr(parents[small.pk], name) for name in FIELDS] == [getattr(sweater, name) for name in FIELDS]
    assert found[small.pk].get_absolute_url() == expected[small.pk].get_absolute_url()
    assert products_for_sale([]) == {}


def test_a_cards_products_are_the_listed_ones_with_what_their_cards_show(django_assert_num_queries):
    # given a product, one with variants, a variant and a withdrawn product
    from catalog.selectors import CARD_FIELDS, products_for_cards

    hat = ProductFactory(name_en="Hat", name_is="Húfa", price=Decimal("3990.50"))
    sweater = ProductFactory(name="Lopi sweater")
    small = ProductFactory(parent=sweater, name="Lopi sweater S")
    withdrawn = ProductFactory(is_active=False)

    # when a page's cards read them, then one query, the listed ones only
    with django_assert_num_queries(1):
        found = products_for_cards([hat.pk, sweater.pk, small.pk, withdrawn.pk, 0, hat.pk])
    assert sorted(found) == sorted([hat.pk, sweater.pk])

    # and what a card shows is the ORM's, without a query more
    expected = Product.objects.in_bulk(list(found))
    with django_assert_num_queries(0):
        for pk, product in found.items():
            assert [getattr(product, name) for name in sorted(CARD_FIELDS)] == [
                getattr(expected[pk], name) for name in sorted(CARD_FIELDS)
            ]
            assert product.get_absolute_url() == expected[pk].get_absolute_url()
    assert products_for_cards([]) == {}
