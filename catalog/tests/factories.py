from decimal import Decimal

import factory

from catalog.models import Category, Product


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    category = factory.SubFactory(CategoryFactory)
    name = factory.Sequence(lambda n: f"Woollen mittens {n}")
    slug = factory.Sequence(lambda n: f"woollen-mittens-{n}")
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    description = "Warm mittens knitted from Icelandic wool."
    price = Decimal("4990.00")
    is_active = True
