"""What the catalog stores per language (django-modeltranslation): name_en, name_is, name_nb…

Reading `product.name` gives the active language's text, or the English one while a
translation is missing (settings.MODELTRANSLATION_FALLBACK_LANGUAGES). Pictures need no
translated alt text of their own: an empty one shows the product's (translated) name.
"""

from modeltranslation.translator import TranslationOptions, register

from .models import Category, Product, VariantAttribute, VariantAttributeValue


@register(Category)
class CategoryTranslationOptions(TranslationOptions):
    fields = ("name",)


@register(Product)
class ProductTranslationOptions(TranslationOptions):
    fields = ("name", "description")


@register(VariantAttribute)
class VariantAttributeTranslationOptions(TranslationOptions):
    fields = ("name",)


@register(VariantAttributeValue)
class VariantAttributeValueTranslationOptions(TranslationOptions):
    fields = ("value",)
