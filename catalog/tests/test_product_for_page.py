"""catalog.selectors.product_for_page reads a product (its category, whether it has variants, its
pictures) in SQL of its own: what the ORM's Product.objects.for_sale().select_related("category")
.prefetch_related(pictures by position) read."""

from contextlib import nullcontext
from decimal import Decimal

import pytest
from django.db.models import Exists, OuterRef, Prefetch

from catalog.models import Category, Product, ProductImage
from catalog.selectors import product_for_page
from catalog.tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

FIELDS = [field.attname for field in Product._meta.concrete_fields]
CATEGORY_FIELDS = [field.attname for field in Category._meta.concrete_fields]
IMAGE_FIELDS = [field.attname for field in ProductImage._meta.concrete_fields]


def orms(slug):
    return (
        Product.objects.for_sale()
        .select_related("category")
        .annotate(has_variants=Exists(Product.objects.filter(parent=OuterRef("pk"))))
        .prefetch_related(Prefetch("images", queryset=ProductImage.objects.order_by("position", "pk")))
        .filter(slug=slug)
        .first()
    )


def picture(product, position, name):
    return ProductImage.objects.create(product=product, image=f"products/{name}.jpg", position=position, alt_text=name)


def test_the_product_its_category_and_pictures_are_the_orms(django_assert_num_queries):
    # given products with pictures out of order, none, variants, and some not for sale
    knitwear = CategoryFactory(slug="knitwear", name_en="Knitwear", name_is="Prjónavörur")
    sweater = ProductFactory(slug="sweater", category=knitwear, name_is="Peysa", price=Decimal("19990.00"))
    picture(sweater, 2, "back"), picture(sweater, 0, "front"), picture(sweater, 1, "side")
    ProductFactory(slug="sweater-s", parent=sweater, category=knitwear)
    bare = ProductFactory(slug="bare", category=knitwear)
    withdrawn = ProductFactory(slug="withdrawn", is_active=False)
    ProductFactory(slug="orphan", parent=withdrawn)

    for slug in ("sweater", "sweater-s", "bare", "withdrawn", "orphan", "nothing"):
        expected = orms(slug)
        # when the page reads it: one query (and those for its variants), its category and
        # pictures then need none
        with django_assert_num_queries(1) if slug != "sweater" else nullcontext():
            found = product_for_page(slug)
            if found is not None:
                category, images = found.category, list(found.images.all())
        if expected is None:
            assert found is None, slug
            continue
        # then the same product, fields, category and pictures as the ORM reads
        assert [getattr(found, name) for name in FIELDS] == [getattr(expected, name) for name in FIELDS]
        assert found.has_variants == expected.has_variants
        assert [getattr(category, name) for name in CATEGORY_FIELDS] == [
            getattr(expected.category, name) for name in CATEGORY_FIELDS
        ]
        assert [[getattr(image, name) for name in IMAGE_FIELDS] for image in images] == [
            [getattr(image, name) for name in IMAGE_FIELDS] for image in expected.images.all()
        ]
    assert [image.alt_text for image in product_for_page("sweater").images.all()] == ["front", "side", "back"]
    assert [variant.slug for variant in product_for_page("sweater").active_variants] == ["sweater-s"]
    assert bare.pk == product_for_page("bare").pk and list(product_for_page("bare").images.all()) == []
