from django import forms
from django.utils.translation import gettext_lazy as _

from o2o_site.money import AmountField


class GuestJoinForm(forms.Form):
    email = forms.EmailField(label=_("Your e-mail address"), max_length=254)


class PhoneJoinForm(forms.Form):
    phone = forms.CharField(
        label=_("Your mobile number"),
        max_length=32,
        help_text=_("We text you a code to type in on the next page."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )


class PhoneCodeForm(forms.Form):
    code = forms.CharField(
        label=_("The code we texted you"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class FindMemberForm(forms.Form):
    member = forms.CharField(
        label=_("Member number or scanned QR code"),
        max_length=64,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off", "inputmode": "numeric"}),
    )


class TillForm(forms.Form):
    """A till sale of a member at one of the staff's stores: what she paid (earns points) or the
    points she uses (money off), with the till's receipt number."""

    EARN, REDEEM = "earn", "redeem"
    action = forms.ChoiceField(
        label=_("What"),
        choices=[(EARN, _("Earn points on a purchase")), (REDEEM, _("Use points as money off"))],
        widget=forms.RadioSelect,
        initial=EARN,
    )
    store = forms.ModelChoiceField(label=_("Store"), queryset=None, empty_label=None)
    amount = AmountField(label=_("Amount"), min_value=0)
    till_receipt_number = forms.CharField(label=_("Till receipt number"), max_length=40)

    def __init__(self, *args, stores, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores


class TillImportForm(forms.Form):
    file = forms.FileField(
        label=_("Till file (CSV)"),
        help_text=_(
            "UTF-8, with the header member,store,receipt,amount: the member number, "
            "the store's slug, the till receipt number, the amount paid."
        ),
    )
