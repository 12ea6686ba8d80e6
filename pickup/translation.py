"""What a store writes for shoppers in each language (django-modeltranslation): the curbside
instructions on the check-in page and in the e-mails. An empty translation shows the English."""

from modeltranslation.translator import TranslationOptions, register

from .models import PickupSettings


@register(PickupSettings)
class PickupSettingsTranslationOptions(TranslationOptions):
    fields = ("curbside_instructions",)
