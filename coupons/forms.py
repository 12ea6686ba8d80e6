from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from o2o_site.money import AmountField


class TillRedemptionForm(forms.Form):
    """What staff at a till enter: the store (one of theirs), the code (a scanner types it), the
    purchase the coupon applies to and the till's receipt number."""

    store = forms.ModelChoiceField(label=_("Store"), queryset=None, empty_label=None)
    code = forms.CharField(
        label=_("Coupon code"),
        max_length=64,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
        help_text=_("Scan the coupon's QR code, or type the code."),
        error_messages={"required": _("Scan or type the coupon's code.")},
    )
    purchase_amount = AmountField(
        label=_("Purchase amount"),
        min_value=Decimal("0.01"),
        help_text=_("VAT included: the goods the coupon applies to."),
        error_messages={"required": _("Enter the purchase amount, more than zero.")},
    )
    till_receipt = forms.CharField(
        label=_("Till receipt number"),
        max_length=40,
        help_text=_("As printed on the till's receipt: a coupon is used once per receipt."),
        error_messages={"required": _("Enter the receipt number printed by the till.")},
    )

    def __init__(self, *args, stores, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores
