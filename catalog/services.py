"""Changes to the catalog: images (with their thumbnails, made once here) and variants."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from PIL import Image

from o2o_site.cache import stamps

from .images import stored_name, validate_product_image
from .models import Product, ProductImage, VariantAttribute, VariantAttributeValue

THUMBNAIL_SIZE = (400, 400)


def make_thumbnail(image_file: File, *, size: tuple[int, int] = THUMBNAIL_SIZE) -> ContentFile:
    image_file.seek(0)
    with Image.open(image_file) as original:
        picture = original.convert("RGB")
        picture.thumbnail(size)
        out = BytesIO()
        picture.save(out, format="JPEG", quality=82, optimize=True)
    image_file.seek(0)
    return ContentFile(out.getvalue())


def catalog_changed() -> None:
    """Products, prices, categories or pictures changed: cached catalog fragments are out of
    date once the current transaction commits. Every catalog write calls this (the admin's
    saves, imports, image services)."""
    stamps.bump(stamps.CATALOG)


def add_product_image(*, product: Product, image_file: File, alt_text: str = "", position: int = 0) -> ProductImage:
    """Store an image for `product` and its thumbnail, so pages never resize on request.

    Only real pictures within the limits are stored (catalog.images; raises ValidationError).
    """
    name = stored_name(Path(image_file.name).name, validate_product_image(image_file))
    with transaction.atomic():
        picture = ProductImage(product=product, alt_text=alt_text or product.name, position=position)
        picture.image.save(name, image_file, save=False)
        picture.thumbnail.save(f"{Path(name).stem}.jpg", make_thumbnail(picture.image.file), save=False)
        picture.save()
        catalog_changed()
    return picture


def refresh_thumbnail(*, picture: ProductImage) -> ProductImage:
    """Remake a thumbnail after the image itself was replaced (e.g. in the admin)."""
    picture.thumbnail.save(f"{Path(picture.image.name).stem}.jpg", make_thumbnail(picture.image.file), save=False)
    picture.save(update_fields=["thumbnail"])
    catalog_changed()
    return picture


# --- variants ---------------------------------------------------------------------------------
#
# A variant is a Product with a `parent`. What it shares with its product is copied onto it and
# kept in step here (refresh_variants, called by the admin's saves and the import): its category
# and VAT class, and its name in every language, made from the product's and the attribute
# values' ("Lopapeysa — M", "Lopapeysa — M / Grey"). So the cart, checkout, order lines,
# e-mails and receipts, which all name `product.name`, name the variant without knowing of
# variants. Its price is its own: left blank it is the product's price, copied when the variant
# is saved (a later change of the product's price does not change its variants': each is a
# price on the shelf). Its pictures are its own when it has some, else the product page shows
# the product's (nothing is copied).

VARIANT_NAME_SEPARATOR = " — "
VALUES_SEPARATOR = " / "


def _ordered(values: Iterable[VariantAttributeValue]) -> list[VariantAttributeValue]:
    return sorted(values, key=lambda value: (value.attribute.position, value.attribute_id, value.position, value.pk))


def variant_names(*, parent: Product, values: Iterable[VariantAttributeValue]) -> dict[str, str | None]:
    """{"name_en": "Lopapeysa — M", "name_is": …} for a variant of `parent` with `values`; a
    language the product has no name in stays empty (it shows the English one)."""
    ordered = _ordered(values)
    names = {}
    for language in settings.MODELTRANSLATION_LANGUAGES:
        base = getattr(parent, f"name_{language}")
        if not base:
            names[f"name_{language}"] = None
            continue
        texts = [getattr(value, f"value_{language}") or value.value_en or value.value for value in ordered]
        names[f"name_{language}"] = f"{base}{VARIANT_NAME_SEPARATOR}{VALUES_SEPARATOR.join(texts)}"
    return names


def check_variant(*, parent: Product, values: Iterable[VariantAttributeValue], variant: Product | None = None) -> None:
    """Raise ValidationError unless `values` can make a variant of `parent`: one value per
    attribute, at least one, and no other variant of the product with the same values."""
    values = list(values)
    problems = []
    if parent.parent_id is not None:
        problems.append(_("%(product)s is itself a variant; a variant cannot have variants.") % {"product": parent})
    if not values:
        problems.append(_("Choose the variant's size, colour or other attribute."))
    attributes = [value.attribute_id for value in values]
    if len(attributes) != len(set(attributes)):
        problems.append(_("Choose one value of each attribute, such as one size."))
    siblings = Product.objects.filter(parent_id=parent.pk)
    if variant is not None and variant.pk:
        siblings = siblings.exclude(pk=variant.pk)
    wanted = {value.pk for value in values}
    for sibling in siblings.prefetch_related("attribute_values"):
        if {value.pk for value in sibling.attribute_values.all()} == wanted:
            problems.append(
                _("%(product)s already has a variant %(values)s (%(sku)s).")
                % {
                    "product": parent.name,
                    "values": VALUES_SEPARATOR.join(value.value for value in _ordered(values)),
                    "sku": sibling.sku,
                }
            )
    if problems:
        raise ValidationError(problems)


def _unique_variant_slug(parent: Product, values: list[VariantAttributeValue], sku: str) -> str:
    base = slugify(f"{parent.slug}-{'-'.join(value.slug for value in _ordered(values))}")[:200]
    taken = set(Product.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    return slugify(f"{base}-{sku}")[:220]


def _take_from_parent(variant: Product, parent: Product, values: list[VariantAttributeValue]) -> None:
    variant.parent_id = parent.pk
    variant.category_id = parent.category_id
    variant.vat_class = parent.vat_class
    for field, name in variant_names(parent=parent, values=values).items():
        setattr(variant, field, name)
    for language in settings.MODELTRANSLATION_LANGUAGES:
        # A variant is described on its product's page, by its product's description.
        if getattr(variant, f"description_{language}") is None:
            setattr(variant, f"description_{language}", "")


def save_variant(
    *, parent: Product, variant: Product, values: Iterable[VariantAttributeValue], price: Decimal | None = None
) -> Product:
    """Save `variant` (new or known; its SKU, active flag and, unless `price` is given, price set)
    as the variant of `parent` with `values`: its name, category and VAT class from the
    product, its price the product's when it has none."""
    values = list(values)
    check_variant(parent=parent, values=values, variant=variant)
    # The `name` column holds the default language's name, as the import writes it.
    with translation.override(settings.MODELTRANSLATION_DEFAULT_LANGUAGE), transaction.atomic():
        _take_from_parent(variant, parent, values)
        if price is not None:
            variant.price = price
        elif variant.price is None:
            variant.price = parent.price
        if not variant.slug:
            variant.slug = _unique_variant_slug(parent, values, variant.sku)
        variant.save()
        # Through the link table itself: one delete and one insert, whatever was there before.
        links = Product.attribute_values.through
        links.objects.filter(product_id=variant.pk).delete()
        links.objects.bulk_create([links(product_id=variant.pk, variantattributevalue_id=value.pk) for value in values])
        catalog_changed()
    return variant


def create_variant(
    *,
    parent: Product,
    sku: str,
    values: Iterable[VariantAttributeValue],
    price: Decimal | None = None,
    is_active: bool = True,
) -> Product:
    """A new variant of `parent`: save_variant with a new product."""
    return save_variant(parent=parent, variant=Product(sku=sku, is_active=is_active), values=values, price=price)


def refresh_variants(*, parent: Product) -> int:
    """After `parent` changed (renamed, moved to another category, another VAT class): its
    variants' copies follow. Returns how many variants changed."""
    variants = list(Product.objects.filter(parent_id=parent.pk).prefetch_related("attribute_values__attribute"))
    fields = ["category", "vat_class", *(f"name_{language}" for language in settings.MODELTRANSLATION_LANGUAGES)]
    compared = ["category_id", *fields[1:]]
    changed = []
    for variant in variants:
        before = [getattr(variant, field) for field in compared]
        _take_from_parent(variant, parent, list(variant.attribute_values.all()))
        if [getattr(variant, field) for field in compared] != before:
            changed.append(variant)
    if changed:
        with translation.override(settings.MODELTRANSLATION_DEFAULT_LANGUAGE):
            Product.objects.bulk_update(changed, [*fields, "name"])
        catalog_changed()
    return len(changed)


def refresh_variants_with(*, attribute: VariantAttribute) -> int:
    """After `attribute` or its values were renamed: the names of the variants with its values
    follow. Returns how many variants changed."""
    parents = Product.objects.filter(variants__attribute_values__attribute=attribute).distinct().order_by("pk")
    return sum(refresh_variants(parent=parent) for parent in parents)


@dataclass(frozen=True)
class NewVariant:
    parent: Product
    sku: str
    values: tuple[VariantAttributeValue, ...]
    price: Decimal | None = None


def create_variants(*, variants: list[NewVariant]) -> list[Product]:
    """Many new variants at once (the demo's sizes, a catalog's worth): each checked as
    save_variant checks one, against its product's other variants and the others given here;
    written in a few statements whatever their number. Raises ValidationError naming every
    refused one, and then writes nothing."""
    parent_ids = {new.parent.pk for new in variants}
    taken = {}
    for product_id, parent_id, value_id in Product.attribute_values.through.objects.filter(
        product__parent_id__in=parent_ids
    ).values_list("product_id", "product__parent_id", "variantattributevalue_id"):
        taken.setdefault((parent_id, product_id), set()).add(value_id)
    combinations = {(parent_id, frozenset(values)) for (parent_id, _pk), values in taken.items()}
    problems, products = [], []
    slugs = set(Product.objects.filter(parent_id__in=parent_ids).values_list("slug", flat=True))
    for new in variants:
        values = list(new.values)
        attributes = [value.attribute_id for value in values]
        key = (new.parent.pk, frozenset(value.pk for value in values))
        if (
            new.parent.parent_id is not None
            or not values
            or len(attributes) != len(set(attributes))
            or key in combinations
        ):
            problems.append(
                _("%(sku)s cannot be a variant of %(product)s with these values.")
                % {"sku": new.sku, "product": new.parent.sku}
            )
            continue
        combinations.add(key)
        variant = Product(sku=new.sku, price=new.price if new.price is not None else new.parent.price, is_active=True)
        _take_from_parent(variant, new.parent, values)
        slug = slugify(f"{new.parent.slug}-{'-'.join(value.slug for value in _ordered(values))}")[:200]
        variant.slug = slug if slug not in slugs else slugify(f"{slug}-{new.sku}")[:220]
        slugs.add(variant.slug)
        products.append((variant, values))
    if problems:
        raise ValidationError(problems)
    elsewhere = set(
        Product.objects.filter(slug__in=[variant.slug for variant, _values in products]).values_list("slug", flat=True)
    )
    for variant, _values in products:
        if variant.slug in elsewhere:  # another product's slug already
            variant.slug = slugify(f"{variant.slug}-{variant.sku}")[:220]
    with translation.override(settings.MODELTRANSLATION_DEFAULT_LANGUAGE), transaction.atomic():
        created = Product.objects.bulk_create([variant for variant, _values in products], batch_size=500)
        links = Product.attribute_values.through
        links.objects.bulk_create(
            [
                links(product_id=variant.pk, variantattributevalue_id=value.pk)
                for variant, (_same, values) in zip(created, products, strict=True)
                for value in values
            ],
            batch_size=1000,
        )
        catalog_changed()
    return created
