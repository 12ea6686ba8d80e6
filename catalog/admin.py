from django import forms
from django.contrib import admin
from django.db import models
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin

from o2o_site.money import format_money, minor_unit_digits, round_to_minor_unit

from . import services
from .images import validate_product_image
from .models import Category, Product, ProductImage


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


@admin.register(Product)
class ProductAdmin(CatalogChangesMixin, TranslationAdmin):
    list_display = ("name", "sku", "category", "price_display", "vat_class", "is_active")
    list_filter = ("is_active", "vat_class", "category")
    list_select_related = ("category",)
    # Also what the stock pages' product autocomplete searches.
    search_fields = ("name_en", "name_is", "name_nb", "sku")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("category",)
    inlines = (ProductImageInline,)
    fields = ("name", "slug", "sku", "category", "price", "vat_class", "description", "is_active")
    formfield_overrides = {models.DecimalField: {"widget": PriceInput}}

    @admin.display(description=_("price"), ordering="price")
    def price_display(self, product):
        return format_money(product.price)

    def save_formset(self, request, form, formset, change):
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
