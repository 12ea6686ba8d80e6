"""What a store writes for shoppers in each language (django-modeltranslation): where to park,
and why the store keeps other hours on a date ("Christmas Eve"). An empty translation shows the
English. Store names and addresses are proper names and stay as they are."""

from modeltranslation.translator import TranslationOptions, register

from .models import SpecialOpeningHours, Store


@register(Store)
class StoreTranslationOptions(TranslationOptions):
    fields = ("parking",)


@register(SpecialOpeningHours)
class SpecialOpeningHoursTranslationOptions(TranslationOptions):
    fields = ("reason",)
