from django import forms
from django.utils.translation import gettext_lazy as _

from pickup.models import Pickup


class CollectOrderForm(forms.Form):
    """What staff type at the counter: the code the shopper shows (from the e-mail or order page)."""

    code = forms.CharField(
        label=_("Pickup code"),
        max_length=Pickup._meta.get_field("code").max_length,
        help_text=_("Ask the shopper for the code on their order page or in their e-mail."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "inputmode": "numeric",
                "autofocus": True,
                "data-testid": "pickup-code-input",
            }
        ),
    )

    def clean_code(self):
        return self.cleaned_data["code"].strip().replace(" ", "")
