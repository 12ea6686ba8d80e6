from django import forms
from django.utils.translation import gettext_lazy as _


class OffersForm(forms.Form):
    subscribed = forms.BooleanField(
        label=_("Send me offers and news by e-mail"),
        required=False,
        help_text=_("At most a few e-mails a month. You can unsubscribe at any time, here or from any of them."),
    )
