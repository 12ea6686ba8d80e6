from decimal import Decimal

import factory

from catalog.models import Category, Product, VariantAttribute, VariantAttributeValue


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


class VariantAttributeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VariantAttribute
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Attribute {n}")
    slug = factory.Sequence(lambda n: f"attribute-{n}")


class VariantAttributeValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VariantAttributeValue
        django_get_or_create = ("attribute", "slug")

    attribute = factory.SubFactory(VariantAttributeFactory)
    value = factory.Sequence(lambda n: f"Value {n}")
    slug = factory.Sequence(lambda n: f"value-{n}")


def sizes(*names, attribute_slug="size"):
    """The size attribute (made once) and its values `names` in that order, e.g. sizes("S", "M")."""
    size = VariantAttributeFactory(slug=attribute_slug, name="Size", name_is="Stærð", name_nb="Størrelse")
    return [
        VariantAttributeValueFactory(attribute=size, value=name, slug=name.lower(), position=position)
        for position, name in enumerate(names)
    ]
