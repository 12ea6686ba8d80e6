from django import forms
from django.contrib import admin
from django.utils.translation import gettext

from o2o_site.admin_money import AmountFieldsAdmin, money_display

from . import services
from .models import Shipment, ShippingRate


@admin.register(ShippingRate)
class ShippingRateAdmin(AmountFieldsAdmin, admin.ModelAdmin):
    """The shop's fee table for shipping from a warehouse (the cheapest row covering a parcel's
    postcode and weight applies). Shop-wide: only those given its permissions see it. Orders
    already placed keep the fee they were placed with."""

    list_display = ("country", "postcode_from", "postcode_to", "max_weight_grams", money_display(ShippingRate, "fee"))
    list_filter = ("country",)
    ordering = ("country", "postcode_from", "max_weight_grams")
    amount_fields = ("fee",)


class ShipmentForm(forms.ModelForm):
    """Staff type the carrier and its tracking number when the parcel leaves; checked by
    shipping.services (a bad number is shown at its field, with what was typed). The admin that
    uses it, where the payment is taken as the parcel ships, is backoffice's ShipmentAdmin."""

    class Meta:
        model = Shipment
        fields = ("carrier", "tracking_number")

    def clean_tracking_number(self):
        try:
            return services.clean_tracking_number(self.cleaned_data["tracking_number"])
        except services.ShippingRefused as error:
            raise forms.ValidationError(str(error)) from None

    def clean_carrier(self):
        carrier = " ".join(self.cleaned_data["carrier"].split())
        if not carrier:
            raise forms.ValidationError(gettext("Enter the carrier, e.g. Pósturinn or Posten."))
        return carrier
