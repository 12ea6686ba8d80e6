from django import forms
from django.utils.translation import gettext_lazy as _

from stores.models import Store
from stores.selectors import StoreDirectory, country_near, locate_postcode


class NearestStoresForm(forms.Form):
    """Where the shopper is: a postcode from our table, or coordinates from the browser (locate.js).

    "Nearest" keeps to the shopper's country (`country`: the postcode's, or for coordinates the
    nearest store's) unless they tick `everywhere`: a shopper in Reykjavík is not near Oslo.
    """

    postcode = forms.CharField(label=_("Postcode"), max_length=16, required=False)
    lat = forms.DecimalField(
        min_value=-90, max_value=90, max_digits=12, decimal_places=8, required=False, widget=forms.HiddenInput
    )
    lon = forms.DecimalField(
        min_value=-180, max_value=180, max_digits=12, decimal_places=8, required=False, widget=forms.HiddenInput
    )

    everywhere = forms.BooleanField(label=_("Include stores in other countries"), required=False)

    FIELDS = ("postcode", "lat", "lon")
    country = None

    def __init__(self, *args, directory: StoreDirectory | None = None, **kwargs):
        # The view's store directory: reading it again would cost the page another look-up.
        super().__init__(*args, **kwargs)
        self.directory = directory

    def clean(self):
        cleaned = super().clean()
        postcode = (cleaned.get("postcode") or "").strip()
        lat, lon = cleaned.get("lat"), cleaned.get("lon")
        # A typed postcode wins over coordinates: the shopper chose it on purpose.
        if postcode:
            place = locate_postcode(postcode)
            if place is None:
                self.add_error(
                    "postcode",
                    forms.ValidationError(
                        _("We don't know the postcode “%(postcode)s”. Check it, or use your location instead."),
                        code="unknown_postcode",
                        params={"postcode": postcode},
                    ),
                )
                return cleaned
            self.location = (place.latitude, place.longitude)
            self.location_label = f"{place.postcode} {place.place_name}".strip()
            self.country = place.country
        elif lat is not None and lon is not None:
            self.location = (lat, lon)
            self.location_label = _("your location")
            self.country = country_near(latitude=lat, longitude=lon, directory=self.directory)
        elif "lat" in self.errors or "lon" in self.errors:
            raise forms.ValidationError(_("Your browser sent a location we could not read. Try a postcode."))
        else:
            raise forms.ValidationError(_("Enter a postcode, or use your location."))
        return cleaned


class ChooseStoreForm(forms.Form):
    store_id = forms.ModelChoiceField(
        queryset=Store.objects.for_shoppers(),
        error_messages={
            "required": _("Choose a store."),
            "invalid_choice": _("That store does not exist or is no longer open."),
        },
    )
    next = forms.CharField(required=False, max_length=2000)
