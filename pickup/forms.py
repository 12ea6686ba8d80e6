"""What a curbside shopper and the staff at the curb type."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .curbside import MAX_ETA_MINUTES
from .models import Pickup


class OnTheWayForm(forms.Form):
    eta_minutes = forms.IntegerField(
        label=_("I will be there in (minutes)"),
        min_value=0,
        max_value=MAX_ETA_MINUTES,
        initial=10,
        error_messages={
            "required": _("Enter in how many minutes you expect to arrive."),
            "invalid": _("Enter the minutes as a whole number, such as 10."),
            "min_value": _("Enter 0 or more minutes."),
            "max_value": _("Enter at most %(limit_value)s minutes."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "data-testid": "eta-input"}),
    )


class CheckInForm(forms.Form):
    vehicle = forms.CharField(
        label=_("Your car"),
        max_length=120,
        required=False,
        help_text=_("Colour, make or plate, so we find you quickly."),
        widget=forms.TextInput(attrs={"data-testid": "vehicle-input"}),
    )

    def __init__(self, *args, bays=0, **kwargs):
        super().__init__(*args, **kwargs)
        if bays:
            wrong = _("Bays are numbered 1 to %(bays)s. Check the sign by your parking spot.") % {"bays": bays}
            self.fields["bay"] = forms.IntegerField(
                label=_("Bay number"),
                min_value=1,
                max_value=bays,
                required=False,
                error_messages={"invalid": wrong, "min_value": wrong, "max_value": wrong},
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "data-testid": "bay-input"}),
            )
            self.order_fields(["bay", "vehicle"])


class HandOverForm(forms.Form):
    code = forms.CharField(
        label=_("Pickup code"),
        max_length=Pickup._meta.get_field("code").max_length,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric", "data-testid": "hand-over-code"}),
        error_messages={"required": _("Ask the shopper for their pickup code.")},
    )

    def clean_code(self):
        return self.cleaned_data["code"].strip().replace(" ", "")
