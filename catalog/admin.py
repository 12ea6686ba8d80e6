from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline

from o2o_site.money import format_money, minor_unit_digits, round_to_minor_unit

from . import services
from .images import validate_product_image
from .models import Category, Product, ProductImage, VariantAttribute, VariantAttributeValue


class CatalogChangesMixin:
    """Saves and deletions in the admin tell the shop's cached catalog pages (prices, names)."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.catalog_changed()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.catalog_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.catalog_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        services.catalog_changed()


@admin.register(Category)
class CategoryAdmin(CatalogChangesMixin, TranslationAdmin):
    # TranslationAdmin: one name field per shop language (catalog/translation.py).
    list_display = ("name", "parent", "position")
    list_select_related = ("parent",)
    list_editable = ("position",)
    search_fields = ("name_en", "name_is", "name_nb", "slug")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("parent",)


class ProductImageForm(forms.ModelForm):
    class Meta:
        model = ProductImage
        fields = ("image", "alt_text", "position")

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if image and "image" in self.changed_data:
            validate_product_image(image)  # real JPEG/PNG/WebP/GIF, size and pixel limits
        return image


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    form = ProductImageForm
    extra = 1
    fields = ("image", "thumbnail_preview", "alt_text", "position")
    readonly_fields = ("thumbnail_preview",)

    @admin.display(description=_("thumbnail"))
    def thumbnail_preview(self, picture):
        if not picture.thumbnail:
            return "—"
        return format_html('<img src="{}" alt="{}" width="80">', picture.thumbnail.url, picture.alt_text)


class PriceInput(forms.NumberInput):
    """A price as the shop's currency writes it: 6990 in krónur (step 1), 89.90 in kroner (step 0.01)."""

    def __init__(self, attrs=None):
        digits = minor_unit_digits()
        super().__init__({"step": "1" if digits == 0 else f"{1 / 10**digits:.{digits}f}", "min": "0", **(attrs or {})})

    def format_value(self, value):
        try:
            return super().format_value(round_to_minor_unit(value))
        except (TypeError, ValueError, ArithmeticError):
            return super().format_value(value)  # what was typed, shown back as it was


class VariantAttributeValueInline(TranslationTabularInline):
    model = VariantAttributeValue
    extra = 3
    fields = ("value", "slug", "position")
    prepopulated_fields = {"slug": ("value",)}


@admin.register(VariantAttribute)
class VariantAttributeAdmin(CatalogChangesMixin, TranslationAdmin):
    list_display = ("name", "slug", "position")
    list_editable = ("position",)
    search_fields = ("name_en", "name_is", "name_nb", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (VariantAttributeValueInline,)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # "M" renamed "Medium": the variants' names ("Lopapeysa — Medium") follow.
        services.refresh_variants_with(attribute=form.instance)


class VariantForm(forms.ModelForm):
    """A variant as its product's page edits it: its own SKU, attribute values, price (blank: the
    product's) and whether it is sold. Its name, category and VAT class come from the product
    (catalog.services.save_variant)."""

    attribute_values = forms.ModelMultipleChoiceField(
        label=_("variant attributes"),
        queryset=VariantAttributeValue.objects.select_related("attribute"),
        widget=forms.CheckboxSelectMultiple,
        required=True,
        error_messages={"required": _("Choose the variant's size, colour or other attribute.")},
    )

    class Meta:
        model = Product
        fields = ("sku", "attribute_values", "price", "is_active")
        widgets = {"price": PriceInput}
        help_texts = {"price": _("Blank: the product's price.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["price"].required = False

    def clean_attribute_values(self):
        values = self.cleaned_data["attribute_values"]
        attributes = [value.attribute_id for value in values]
        if len(attributes) != len(set(attributes)):
            raise ValidationError(gettext("Choose one value of each attribute, such as one size."))
        return values


class KnownVariantField(forms.ModelChoiceField):
    """A variant form's hidden id, found among the variants the formset already read: Django's
    own field reads each variant again by its primary key, one query per row."""

    def __init__(self, *args, known, **kwargs):
        super().__init__(*args, **kwargs)
        self.known = known

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return self.known[int(value)]
        except (KeyError, TypeError, ValueError):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice") from None


class VariantFormSet(forms.BaseInlineFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        # Every row offers the same values: read once for the formset, not once per row.
        if not hasattr(self, "_value_choices"):
            self._value_choices = [
                (value.pk, str(value)) for value in VariantAttributeValue.objects.select_related("attribute")
            ]
        form.fields["attribute_values"].choices = self._value_choices
        given = form.fields[self.model._meta.pk.name]
        form.fields[self.model._meta.pk.name] = KnownVariantField(
            queryset=given.queryset,
            known={variant.pk: variant for variant in self.get_queryset()},
            required=False,
            widget=given.widget,
            initial=given.initial,
        )

    def clean(self):
        super().clean()
        seen = {}
        for form in self.forms:
            if not form.has_changed() and not form.instance.pk:
                continue
            values = (form.cleaned_data or {}).get("attribute_values")
            if not values:
                continue
            key = frozenset(value.pk for value in values)
            if key in seen:
                form.add_error(
                    "attribute_values",
                    gettext("Another variant has the same values (%(sku)s).") % {"sku": seen[key]},
                )
            else:
                seen[key] = form.cleaned_data.get("sku")


class VariantInline(admin.TabularInline):
    model = Product
    fk_name = "parent"
    form = VariantForm
    formset = VariantFormSet
    extra = 1
    # A variant that was sold stays (order lines name it): take it off sale instead.
    can_delete = False
    verbose_name = _("variant")
    verbose_name_plural = _("variants (sizes, colours)")
    fields = ("sku", "attribute_values", "price", "is_active")
    show_change_link = True

    def get_queryset(self, request):
        # Each row shows its values ticked: read for all rows at once.
        return super().get_queryset(request).prefetch_related("attribute_values")


@admin.register(Product)
class ProductAdmin(CatalogChangesMixin, TranslationAdmin):
    list_display = ("name", "sku", "category", "price_display", "vat_class", "is_active", "parent")
    list_filter = ("is_active", "vat_class", "category")
    list_select_related = ("category", "parent")
    # Also what the stock pages' product autocomplete searches (variants too: stock is per variant).
    search_fields = ("name_en", "name_is", "name_nb", "sku")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("category",)
    inlines = (ProductImageInline, VariantInline)
    fields = ("name", "slug", "sku", "category", "price", "vat_class", "description", "is_active")
    formfield_overrides = {models.DecimalField: {"widget": PriceInput}}

    @admin.display(description=_("price"), ordering="price")
    def price_display(self, product):
        return format_money(product.price)

    @admin.display(description=_("name"))
    def variant_name(self, variant):
        return variant.name

    def get_inlines(self, request, obj):
        # A variant has no variants of its own.
        if obj is not None and obj.parent_id is not None:
            return (ProductImageInline,)
        return super().get_inlines(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.parent_id is not None:
            # A variant's name, category and VAT class are its product's (catalog.services.save_variant).
            return ("parent", "variant_name", "category", "vat_class")
        return super().get_readonly_fields(request, obj)

    def get_fields(self, request, obj=None):
        if obj is not None and obj.parent_id is not None:
            return ("parent", "variant_name", "sku", "category", "price", "vat_class", "is_active")
        return super().get_fields(request, obj)

    def get_prepopulated_fields(self, request, obj=None):
        if obj is not None and obj.parent_id is not None:
            return {}
        return super().get_prepopulated_fields(request, obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if form.instance.parent_id is None:
            services.refresh_variants(parent=form.instance)

    def save_formset(self, request, form, formset, change):
        if formset.model is Product:
            return self._save_variants(form.instance, formset)
        if formset.model is not ProductImage:
            return super().save_formset(request, form, formset, change)
        # Thumbnails are made once, here, through the catalog service: never when a page is shown.
        formset.save(commit=False)
        for picture in formset.deleted_objects:
            picture.delete()
        changed = {picture.pk: fields for picture, fields in formset.changed_objects}
        for picture_form in formset.forms:
            picture = picture_form.instance
            if picture in formset.new_objects:
                services.add_product_image(
                    product=form.instance,
                    image_file=picture_form.cleaned_data["image"],
                    alt_text=picture.alt_text,
                    position=picture.position,
                )
            elif picture.pk in changed:
                picture.save()
                if "image" in changed[picture.pk]:
                    services.refresh_thumbnail(picture=picture)
        return None

    def _save_variants(self, parent, formset):
        # Through the catalog service: a variant's name, category and VAT class are its product's.
        formset.save(commit=False)
        changed = {variant.pk for variant, _fields in formset.changed_objects}
        for variant_form in formset.forms:
            variant = variant_form.instance
            if variant in formset.new_objects or variant.pk in changed:
                services.save_variant(
                    parent=parent,
                    variant=variant,
                    values=variant_form.cleaned_data["attribute_values"],
                    price=variant_form.cleaned_data.get("price"),
                )
