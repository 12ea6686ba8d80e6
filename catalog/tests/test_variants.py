"""Products with variants (sizes, colours): each variant is a product of its own, named, priced
and categorised from its product by catalog.services; the admin and the CSV import go through it."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse
from django.utils import translation

from catalog import services
from catalog.models import RESERVED_ATTRIBUTE_SLUGS, Product, VariantAttribute
from catalog.selectors import product_listing
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantAttributeValueFactory, sizes

pytestmark = pytest.mark.django_db

# The product's admin page with its variants inline: session, user, the product, its pictures,
# its variants, their values, every value to choose from, the product's category; the same
# whatever the number of variants.
ADMIN_PRODUCT_PAGE_QUERIES = 8


@pytest.fixture
def sweater():
    return ProductFactory(
        name="Lopapeysa", name_is="Lopapeysa", name_nb="Lusekofte", sku="LOPI", slug="lopapeysa", price=Decimal("24990")
    )


def test_a_variant_is_named_after_its_product_and_values_in_every_language(sweater):
    # given sizes and a colour whose Icelandic name differs
    small, medium = sizes("S", "M")
    grey = VariantAttributeValueFactory(
        attribute__slug="colour",
        attribute__name="Colour",
        attribute__position=1,
        value="Grey",
        value_is="Grár",
        slug="grey",
    )

    # when a medium grey variant is made
    variant = services.create_variant(parent=sweater, sku="LOPI-M-GREY", values=[grey, medium])

    # then it is named in every language, its values in the attributes' order, and it takes the
    # product's category, VAT class and (no price given) price
    variant.refresh_from_db()
    assert (variant.name_en, variant.name_is, variant.name_nb) == (
        "Lopapeysa — M / Grey",
        "Lopapeysa — M / Grár",
        "Lusekofte — M / Grey",
    )
    with translation.override("is"):
        assert variant.name == "Lopapeysa — M / Grár"
    assert (variant.category_id, variant.vat_class, variant.price) == (
        sweater.category_id,
        sweater.vat_class,
        sweater.price,
    )
    assert variant.slug == "lopapeysa-m-grey"
    assert list(sweater.variants.all()) == [variant]
    assert small.products.count() == 0


def test_a_variant_keeps_its_own_price(sweater):
    (large,) = sizes("L")
    variant = services.create_variant(parent=sweater, sku="LOPI-L", values=[large], price=Decimal("26990"))
    assert Product.objects.get(pk=variant.pk).price == Decimal("26990")


def test_refused_variants_say_why_and_write_nothing(sweater):
    # given a medium variant
    small, medium = sizes("S", "M")
    services.create_variant(parent=sweater, sku="LOPI-M", values=[medium])
    variant = Product.objects.get(sku="LOPI-M")

    # then a second medium, a variant of a variant, two sizes at once and no size are refused
    with pytest.raises(ValidationError, match="already has a variant M"):
        services.create_variant(parent=sweater, sku="LOPI-M2", values=[medium])
    with pytest.raises(ValidationError, match="cannot have variants"):
        services.create_variant(parent=variant, sku="LOPI-M-S", values=[small])
    with pytest.raises(ValidationError, match="one value of each attribute"):
        services.create_variant(parent=sweater, sku="LOPI-SM", values=[small, medium])
    with pytest.raises(ValidationError, match="Choose the variant's size"):
        services.create_variant(parent=sweater, sku="LOPI-X", values=[])
    assert sorted(Product.objects.values_list("sku", flat=True)) == ["LOPI", "LOPI-M"]


def test_a_product_is_never_its_own_variant(sweater):
    with pytest.raises(IntegrityError):
        Product.objects.filter(pk=sweater.pk).update(parent=sweater.pk)


def test_renaming_or_moving_a_product_renames_and_moves_its_variants(sweater):
    # given a medium variant
    (medium,) = sizes("M")
    variant = services.create_variant(parent=sweater, sku="LOPI-M", values=[medium])

    # when the product is renamed and moved to another category
    sweater.name_en, sweater.category = "Icelandic sweater", CategoryFactory(slug="sweaters")
    sweater.save()
    changed = services.refresh_variants(parent=sweater)

    # then the variant follows
    variant.refresh_from_db()
    assert changed == 1
    assert (variant.name_en, variant.category.slug) == ("Icelandic sweater — M", "sweaters")
    assert services.refresh_variants(parent=sweater) == 0


def test_the_listing_shows_each_product_once_not_each_size(sweater):
    for size in sizes("S", "M", "L"):
        services.create_variant(parent=sweater, sku=f"LOPI-{size.value}", values=[size])
    assert [product.sku for product in product_listing()] == ["LOPI"]
    assert [product.sku for product in product_listing(search="lopapeysa")] == ["LOPI"]


def test_a_variant_of_a_product_taken_off_sale_is_not_for_sale(sweater):
    (medium,) = sizes("M")
    variant = services.create_variant(parent=sweater, sku="LOPI-M", values=[medium])
    assert list(Product.objects.for_sale().filter(parent=sweater)) == [variant]
    Product.objects.filter(pk=sweater.pk).update(is_active=False)
    assert not Product.objects.for_sale().filter(parent=sweater).exists()


# --- the admin ----------------------------------------------------------------------------------


def product_form_data(product, **extra):
    data = {
        "name_en": product.name_en,
        "name_is": product.name_is or "",
        "name_nb": product.name_nb or "",
        "slug": product.slug,
        "sku": product.sku,
        "category": product.category_id,
        "price": str(product.price),
        "vat_class": product.vat_class,
        "description_en": product.description,
        "description_is": "",
        "description_nb": "",
        "is_active": "on",
        "variants-TOTAL_FORMS": "0",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
    }
    data.update(extra)
    return data


def test_variants_are_added_on_the_products_admin_page(admin_client, sweater):
    # given sizes S and M
    small, medium = sizes("S", "M")

    # when the manager adds two variants, one at the product's price (blank) and one dearer
    response = admin_client.post(
        reverse("admin:catalog_product_change", args=[sweater.pk]),
        product_form_data(
            sweater,
            **{
                "variants-TOTAL_FORMS": "2",
                "variants-0-sku": "LOPI-S",
                "variants-0-attribute_values": [str(small.pk)],
                "variants-0-price": "",
                "variants-0-is_active": "on",
                "variants-1-sku": "LOPI-M",
                "variants-1-attribute_values": [str(medium.pk)],
                "variants-1-price": "25990",
                "variants-1-is_active": "on",
            },
        ),
    )

    # then both are saved, named and priced
    assert response.status_code == 302, response.context["errors"] if response.context else response
    with translation.override("en"):
        found = {variant.sku: (variant.name, variant.price) for variant in sweater.variants.all()}
    assert found == {
        "LOPI-S": ("Lopapeysa — S", Decimal("24990")),
        "LOPI-M": ("Lopapeysa — M", Decimal("25990")),
    }


def test_the_admin_refuses_two_variants_with_the_same_size_and_keeps_what_was_typed(admin_client, sweater):
    (medium,) = sizes("M")
    response = admin_client.post(
        reverse("admin:catalog_product_change", args=[sweater.pk]),
        product_form_data(
            sweater,
            **{
                "variants-TOTAL_FORMS": "2",
                "variants-0-sku": "LOPI-M",
                "variants-0-attribute_values": [str(medium.pk)],
                "variants-1-sku": "LOPI-M-AGAIN",
                "variants-1-attribute_values": [str(medium.pk)],
            },
        ),
    )
    assert response.status_code == 200
    assert "Another variant has the same values (LOPI-M)." in response.content.decode()
    assert 'value="LOPI-M-AGAIN"' in response.content.decode()
    assert not sweater.variants.exists()


def test_renaming_a_product_in_the_admin_renames_its_variants(admin_client, sweater):
    (medium,) = sizes("M")
    variant = services.create_variant(parent=sweater, sku="LOPI-M", values=[medium])
    sweater.name_en = "Icelandic sweater"
    response = admin_client.post(
        reverse("admin:catalog_product_change", args=[sweater.pk]),
        product_form_data(
            sweater,
            **{
                "variants-TOTAL_FORMS": "1",
                "variants-INITIAL_FORMS": "1",
                "variants-0-id": str(variant.pk),
                "variants-0-parent": str(sweater.pk),
                "variants-0-sku": "LOPI-M",
                "variants-0-attribute_values": [str(medium.pk)],
                "variants-0-price": str(variant.price),
                "variants-0-is_active": "on",
            },
        ),
    )
    assert response.status_code == 302
    variant.refresh_from_db()
    assert variant.name_en == "Icelandic sweater — M"


def test_the_admin_pages_of_attributes_and_variants_open(admin_client, sweater):
    (medium,) = sizes("M")
    variant = services.create_variant(parent=sweater, sku="LOPI-M", values=[medium])
    for url in (
        reverse("admin:catalog_variantattribute_changelist"),
        reverse("admin:catalog_variantattribute_change", args=[medium.attribute_id]),
        reverse("admin:catalog_product_change", args=[sweater.pk]),
        reverse("admin:catalog_product_change", args=[variant.pk]),
        reverse("admin:catalog_product_changelist"),
    ):
        assert admin_client.get(url).status_code == 200, url


# --- the CSV import ---------------------------------------------------------------------------

IMPORT_HEADER = "sku,name,category,price,description,active,parent_sku,size\n"


def import_text(tmp_path, text):
    from catalog.imports import import_catalog_file

    path = tmp_path / "catalog.csv"
    path.write_text(text, encoding="utf-8")
    return import_catalog_file(path=path)


def test_variant_rows_make_sizes_of_a_product_in_the_file_or_already_sold(tmp_path, sweater):
    # given sizes S, M, L (M also known in Icelandic as "Miðlungs") and a hat category
    small, medium, large = sizes("S", "M", "L")
    medium.value_is = "Miðlungs"
    medium.save()
    hats = CategoryFactory(slug="hats")

    # when a file adds a hat with two sizes (one dearer), and sizes of the sweater already sold,
    # one of them by its Icelandic name
    result = import_text(
        tmp_path,
        IMPORT_HEADER + "HAT,Wool hat,hats,3990,Warm,yes,,\n"
        "HAT-S,,,,,yes,HAT,s\n"
        "HAT-L,,,4290,,yes,HAT,L\n"
        "LOPI-M,,,,,yes,LOPI,miðlungs\n"
        "LOPI-L,,,,,no,LOPI,l\n",
    )

    # then the products and variants are there, named, priced and grouped
    assert (result.created, result.updated, result.unchanged) == (5, 0, 0)
    with translation.override("en"):
        found = {
            product.sku: (
                product.name,
                product.price,
                product.is_active,
                product.parent.sku if product.parent else None,
            )
            for product in Product.objects.select_related("parent")
        }
    assert found["HAT-S"] == ("Wool hat — S", Decimal("3990.00"), True, "HAT")
    assert found["HAT-L"] == ("Wool hat — L", Decimal("4290.00"), True, "HAT")
    assert found["LOPI-M"] == ("Lopapeysa — M", Decimal("24990.00"), True, "LOPI")
    assert found["LOPI-L"][2:] == (False, "LOPI")
    assert Product.objects.get(sku="HAT-S").category == hats

    # and the same file again changes nothing
    again = import_text(
        tmp_path,
        IMPORT_HEADER + "HAT,Wool hat,hats,3990,Warm,yes,,\n"
        "HAT-S,,,,,yes,HAT,s\n"
        "HAT-L,,,4290,,yes,HAT,L\n"
        "LOPI-M,,,,,yes,LOPI,M\n"
        "LOPI-L,,,,,no,LOPI,l\n",
    )
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)


def test_a_file_with_bad_variant_rows_is_refused_whole_with_every_problem(tmp_path, sweater):
    from o2o_site.csv_import import ImportRejected

    # given sizes S and M and a medium variant of the sweater already sold
    small, medium = sizes("S", "M")
    services.create_variant(parent=sweater, sku="LOPI-M", values=[medium])
    CategoryFactory(slug="hats")
    before = sorted(Product.objects.values_list("sku", "name", "price", "parent_id"))

    # when a file has a good hat and bad variant rows
    with pytest.raises(ImportRejected) as rejected:
        import_text(
            tmp_path,
            IMPORT_HEADER + "HAT,Wool hat,hats,3990,Warm,yes,,\n"  # line 2: good
            "HAT-S,,,,,yes,NOPE,S\n"  # 3: unknown product
            "HAT-X,,,,,yes,HAT,XXL\n"  # 4: unknown size
            "HAT-S2,,,,,yes,HAT,\n"  # 5: no size
            "HAT-M,,,,,yes,HAT,M\n"  # 6: good
            "HAT-M2,,,,,yes,HAT,m\n"  # 7: the same size twice
            "HAT-V,,,,,yes,HAT-M,S\n"  # 8: a variant of a variant
            "SCARF,Scarf,hats,2990,,yes,,M\n"  # 9: a size without a product
            "LOPI-M9,,,abc,,yes,LOPI,S\n"  # 10: a bad price
            "LOPI-M3,,,,,yes,LOPI,M\n",  # 11: the sweater has a medium already
        )

    # then every bad line is named and nothing was written
    messages = {error.line: error.message for error in rejected.value.errors}
    assert messages[3] == "unknown product NOPE in parent_sku"
    assert messages[4].startswith("unknown size 'XXL' (known: S, M)")
    assert messages[5].startswith("a variant needs a value in a variant attribute column (size)")
    assert messages[7] == "the same values as the variant on line 6 of HAT"
    assert messages[8] == "product HAT-M is itself a variant"
    assert messages[9].startswith("size given without a parent_sku")
    assert messages[10].startswith("price 'abc' is not a number")
    assert set(messages) == {3, 4, 5, 7, 8, 9, 10}
    assert sorted(Product.objects.values_list("sku", "name", "price", "parent_id")) == before

    # and a file whose only fault is the existing medium is refused at the write, still whole
    with pytest.raises(ImportRejected) as rejected:
        import_text(tmp_path, IMPORT_HEADER + "HAT,Wool hat,hats,3990,Warm,yes,,\nLOPI-M3,,,,,yes,LOPI,M\n")
    assert [(error.line, error.message) for error in rejected.value.errors] == [
        (3, "Lopapeysa already has a variant M (LOPI-M).")
    ]
    assert sorted(Product.objects.values_list("sku", "name", "price", "parent_id")) == before


def test_many_variants_are_made_at_once_and_refused_together(sweater):
    # given sizes S, M, L and a medium already
    small, medium, large = sizes("S", "M", "L")
    services.create_variant(parent=sweater, sku="LOPI-M", values=[medium])

    # when the small and large are made at once
    made = services.create_variants(
        variants=[
            services.NewVariant(parent=sweater, sku="LOPI-S", values=(small,)),
            services.NewVariant(parent=sweater, sku="LOPI-L", values=(large,), price=Decimal("26990")),
        ]
    )

    # then they are named and priced as one by one
    with translation.override("en"):
        found = Product.objects.filter(pk__in=[variant.pk for variant in made])
        assert {(variant.sku, variant.name, variant.price) for variant in found} == {
            ("LOPI-S", "Lopapeysa — S", Decimal("24990")),
            ("LOPI-L", "Lopapeysa — L", Decimal("26990")),
        }

    # and another medium, or two of the same at once, refuse the whole lot
    with pytest.raises(ValidationError):
        services.create_variants(
            variants=[
                services.NewVariant(parent=sweater, sku="LOPI-M2", values=(medium,)),
            ]
        )
    with pytest.raises(ValidationError):
        services.create_variants(
            variants=[
                services.NewVariant(parent=sweater, sku="LOPI-X1", values=()),
                services.NewVariant(parent=sweater, sku="LOPI-X2", values=(small, large)),
            ]
        )
    assert Product.objects.filter(parent=sweater).count() == 3


@pytest.mark.parametrize("size_count", [2, 8])
def test_the_products_admin_page_costs_the_same_however_many_variants(
    admin_client, django_assert_num_queries, sweater, size_count
):
    values = sizes(*(f"S{n}" for n in range(size_count)))
    services.create_variants(
        variants=[services.NewVariant(parent=sweater, sku=f"LOPI-{value.slug}", values=(value,)) for value in values]
    )
    url = reverse("admin:catalog_product_change", args=[sweater.pk])
    admin_client.get(url)  # Django caches content types per process: measured once they are read
    with django_assert_num_queries(ADMIN_PRODUCT_PAGE_QUERIES):
        response = admin_client.get(url)
    assert response.content.decode().count('name="variants-') > size_count


def test_renaming_a_size_in_the_admin_renames_the_variants_in_it(admin_client, sweater):
    # given a medium sweater
    (medium,) = sizes("M")
    variant = services.create_variant(parent=sweater, sku="LOPI-M", values=[medium])
    size = medium.attribute

    # when the size M is renamed Medium (Icelandic: Miðlungs) on the attribute's admin page
    response = admin_client.post(
        reverse("admin:catalog_variantattribute_change", args=[size.pk]),
        {
            "name_en": "Size",
            "name_is": "Stærð",
            "name_nb": "Størrelse",
            "slug": size.slug,
            "position": "0",
            "values-TOTAL_FORMS": "1",
            "values-INITIAL_FORMS": "1",
            "values-MIN_NUM_FORMS": "0",
            "values-MAX_NUM_FORMS": "1000",
            "values-0-id": str(medium.pk),
            "values-0-attribute": str(size.pk),
            "values-0-value_en": "Medium",
            "values-0-value_is": "Miðlungs",
            "values-0-value_nb": "",
            "values-0-slug": "m",
            "values-0-position": "0",
        },
    )

    # then the variant's names follow
    assert response.status_code == 302
    variant.refresh_from_db()
    assert (variant.name_en, variant.name_is) == ("Lopapeysa — Medium", "Lopapeysa — Miðlungs")


@pytest.mark.parametrize("slug", sorted(RESERVED_ATTRIBUTE_SLUGS))
def test_an_attribute_may_not_take_a_name_the_listing_uses(slug):
    # given a manager naming an attribute "sort" (a colour called Sort, say)
    attribute = VariantAttribute(name=slug.title(), slug=slug)
    # then it is refused, saying why and what to use instead
    with pytest.raises(ValidationError) as refused:
        attribute.full_clean()
    assert refused.value.message_dict["slug"] == [
        f"“{slug}” is a name the product listing uses for itself; choose another, such as “{slug}-1”."
    ]
