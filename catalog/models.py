from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from o2o_site.money import validate_price

from .search import search_products


class Category(models.Model):
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=140, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        related_name="children",
        on_delete=models.PROTECT,
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("catalog:product_list") + f"?category={self.slug}"

    def descendant_ids(self):
        """This category's id and all its descendants', from one query over the (small) tree."""
        children = {}
        for pk, parent_id in Category.objects.values_list("pk", "parent_id"):
            children.setdefault(parent_id, []).append(pk)
        found, pending = [], [self.pk]
        while pending:
            pk = pending.pop()
            found.append(pk)
            pending.extend(children.get(pk, []))
        return found


def search_languages() -> list[str]:
    """The languages a search looks in: the shopper's, then English (shown where a translation
    is missing)."""
    active = translation.get_language() or settings.LANGUAGE_CODE
    languages = [code for code, _name in settings.LANGUAGES]
    base = active.split("-")[0]
    ordered = [base] if base in languages else []
    return ordered + [code for code in settings.MODELTRANSLATION_FALLBACK_LANGUAGES if code not in ordered]


class ProductQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def for_sale(self):
        """What a shopper can put in the cart and buy: active and, for a variant, its product too.
        A product with variants is never bought itself (checkout.forms.CartLineForm says so)."""
        return self.active().filter(models.Q(parent__isnull=True) | models.Q(parent__is_active=True))

    def styles(self):
        """What the listing shows: products, not their variants (one card per style, not per size)."""
        return self.filter(parent__isnull=True)

    def search(self, text):
        """Products `text` finds, each with `search_rank` (catalog/search.py), best first when
        ordered by it. Names and descriptions in the shopper's language and in English, which
        shows where a translation is missing (catalog/translation.py)."""
        text = (text or "").strip()
        if not text:
            return self
        return search_products(self, text, languages=search_languages())


class VatClass(models.TextChoices):
    """What kind of goods a product is for VAT; the rate per class and country is
    settings.VAT_RATES (o2o_site.vat), applied by the country of the store that sells it."""

    STANDARD = "standard", _("Standard rate")
    REDUCED = "reduced", _("Reduced rate (food and drink)")


# The names the product listing reads from its address (?q=…&sort=…; storefront/catalog_views.py
# and catalog_forms.py). An attribute's slug is the name of its filter there (?size=m), so it may
# not be one of these: "sort" as a colour's slug would take the listing's order away.
RESERVED_ATTRIBUTE_SLUGS = frozenset(
    {"q", "page", "sort", "min_price", "max_price", "available", "category", "variant", "store", "next", "lang"}
)


def validate_attribute_slug(value):
    if value in RESERVED_ATTRIBUTE_SLUGS:
        raise ValidationError(
            _("“%(value)s” is a name the product listing uses for itself; choose another, such as “%(value)s-1”."),
            code="reserved",
            params={"value": value},
        )


class VariantAttribute(models.Model):
    """What variants of a product differ by: size, colour, …"""

    name = models.CharField(_("name"), max_length=60)
    slug = models.SlugField(_("slug"), max_length=60, unique=True, validators=[validate_attribute_slug])
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("variant attribute")
        verbose_name_plural = _("variant attributes")

    def __str__(self):
        return self.name


class VariantAttributeValue(models.Model):
    """One value of an attribute: size M, colour Grey. Its position orders sizes as people expect
    (S, M, L), not alphabetically."""

    attribute = models.ForeignKey(
        VariantAttribute, verbose_name=_("attribute"), related_name="values", on_delete=models.CASCADE
    )
    value = models.CharField(_("value"), max_length=60)
    slug = models.SlugField(_("slug"), max_length=60)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["attribute__position", "attribute_id", "position", "pk"]
        verbose_name = _("variant attribute value")
        verbose_name_plural = _("variant attribute values")
        constraints = [
            models.UniqueConstraint(fields=["attribute", "slug"], name="variant_value_slug_unique_per_attribute"),
        ]

    def __str__(self):
        return f"{self.attribute.name}: {self.value}"


class Product(models.Model):
    # A variant (a size, a colour) is a product of its own: its own SKU, price, pictures, stock
    # per store, cart and order lines. Its `parent` is the product shoppers see in the listing,
    # whose page offers the variants. Only one level: a variant has no variants.
    parent = models.ForeignKey(
        "self",
        verbose_name=_("variant of"),
        null=True,
        blank=True,
        related_name="variants",
        on_delete=models.CASCADE,
    )
    attribute_values = models.ManyToManyField(
        VariantAttributeValue, verbose_name=_("variant attributes"), related_name="products", blank=True
    )
    category = models.ForeignKey(
        Category, verbose_name=_("category"), related_name="products", on_delete=models.PROTECT
    )
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=220, unique=True)
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    description = models.TextField(_("description"), blank=True)
    # In the shop's currency, and payable in it: whole krónur in ISK (o2o_site.money.validate_price).
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, validators=[validate_price])
    # Prices include VAT; this says at which rate (orders snapshot the rate on each line).
    vat_class = models.CharField(
        _("VAT class"),
        max_length=16,
        choices=VatClass.choices,
        default=VatClass.STANDARD,
        help_text=_("Food and drink are sold at the reduced rate; everything else at the standard rate."),
    )
    # What one unit weighs packed, for shipping fees (the shipping app); a variant without its own
    # weight weighs what its product does. Empty: not known, and such a product is not shipped.
    weight_grams = models.PositiveIntegerField(
        _("weight (g)"),
        null=True,
        blank=True,
        help_text=_("One unit, packed, in grams: the shipping fee depends on it. Empty: not shipped."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        # The listing's orders (catalog.selectors.LISTING_ORDER): name, price both ways, newest.
        indexes = [
            models.Index(fields=["is_active", "name"], name="product_active_name_idx"),
            models.Index(fields=["is_active", "price", "id"], name="product_active_price_idx"),
            models.Index(fields=["is_active", "created_at", "id"], name="product_active_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price__gte=0),
                name="product_price_not_negative",
                violation_error_message=_("The price cannot be negative."),
            ),
            models.CheckConstraint(condition=~models.Q(parent=models.F("pk")), name="product_not_a_variant_of_itself"),
        ]

    def __str__(self):
        return f"{self.name} ({self.sku})"

    def get_absolute_url(self):
        if self.parent_id is not None:
            # A variant is shown on its product's page, chosen there (read `parent` with it).
            return f"{self.parent.get_absolute_url()}?variant={self.pk}"
        return reverse("catalog:product_detail", kwargs={"slug": self.slug})

    @property
    def is_for_sale(self) -> bool:
        """As ProductQuerySet.for_sale, for one product read with its `parent`."""
        return self.is_active and (self.parent_id is None or self.parent.is_active)


def product_image_path(instance, filename):
    return f"products/{instance.product_id}/{filename}"


def product_thumbnail_path(instance, filename):
    return f"products/{instance.product_id}/thumbs/{filename}"


class ProductImage(models.Model):
    product = models.ForeignKey(Product, verbose_name=_("product"), related_name="images", on_delete=models.CASCADE)
    image = models.ImageField(_("image"), upload_to=product_image_path)
    # Made once when the image is added (catalog.services.add_product_image), never per request.
    thumbnail = models.ImageField(_("thumbnail"), upload_to=product_thumbnail_path, blank=True)
    alt_text = models.CharField(_("alternative text"), max_length=200, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("product image")
        verbose_name_plural = _("product images")

    def __str__(self):
        return self.alt_text or self.image.name
