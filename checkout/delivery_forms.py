"""What a shopper types to have the cart delivered: the address first, then the store, the
window, their details and how to pay. Kept apart from the pickup checkout's forms (forms.py)."""

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django import forms
from django.core import signing
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from delivery.selectors import COUNTRY_NAMES, PostcodeProblem, check_postcode
from delivery.windows import parse_window_key
from o2o_site.field_groups import QuickBoundField
from o2o_site.money import PointsField
from stores.models import Store

from .forms import validate_phone

DELIVERY_QUOTE_SALT = "checkout.delivery-quote"


class DeliveryAddressForm(forms.Form):
    """Where to deliver. The postcode is checked against the postcode table in the country chosen:
    a typo, the other country's postcode and an unknown one each say what is wrong."""

    # Its text, e-mail and phone fields written in Python, as the templates write them (o2o_site.field_groups).
    bound_field_class = QuickBoundField

    street = forms.CharField(
        label=_("Street address"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
        error_messages={"required": _("Enter the street and house number, e.g. Bergstaðastræti 12.")},
    )
    postcode = forms.CharField(
        label=_("Postcode"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
        error_messages={"required": _("Enter the postcode of the delivery address.")},
    )
    city = forms.CharField(
        label=_("Town or city"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
        error_messages={"required": _("Enter the town or city.")},
    )
    country = forms.ChoiceField(
        label=_("Country"),
        choices=list(COUNTRY_NAMES.items()),
        widget=forms.Select(attrs={"autocomplete": "country"}),
        error_messages={"invalid_choice": _("We deliver in Iceland and Norway only.")},
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        validators=[validate_phone],
        help_text=_("The driver calls this number if they cannot find you."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        error_messages={"required": _("Enter a phone number the driver can call.")},
    )

    def __init__(self, *args, cart: Mapping[int, int] | None = None, my_store: Store | None = None, **kwargs) -> None:
        """`cart` ({product id: units}): an unknown postcode names only stores that have all of it,
        the shopper's own store (`my_store`) first (delivery.selectors.nearest_stores_message)."""
        super().__init__(*args, **kwargs)
        self.cart = cart
        self.my_store = my_store

    def clean_street(self):
        return " ".join(self.cleaned_data["street"].split())

    def clean_city(self):
        return " ".join(self.cleaned_data["city"].split())

    def clean_phone(self):
        return " ".join(self.cleaned_data["phone"].split())

    def clean(self):
        cleaned = super().clean()
        if "postcode" in cleaned and "country" in cleaned:
            try:
                self.located = check_postcode(
                    cleaned["postcode"], country=cleaned["country"], cart=self.cart, my_store=self.my_store
                )
            except PostcodeProblem as problem:
                self.add_error("postcode", str(problem))
            else:
                cleaned["postcode"] = self.located.postcode
        return cleaned

    # Applied when the order is placed (checkout.services); the payment page shows the total less it.
    coupon_code = forms.CharField(
        label=_("Coupon code (optional)"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )
    # Rewards points a signed-in member uses as money off (the page offers it to members only),
    # on a delivery, a shipment or an order in parts alike.
    points = PointsField(label=_("Points to use"), min_value=0, required=False)
    # Unticked unless she ticks it; ticked, the order's e-mail address is subscribed to offers as
    # consent given at checkout (O2O_CHECKOUT_CONSENT: pending until she opens the confirmation).
    send_offers = forms.BooleanField(
        label=_("Send me offers by e-mail (optional)"),
        required=False,
        help_text=_("We e-mail you a link to confirm first. You can unsubscribe at any time."),
    )


class DeliveryCheckoutForm(DeliveryAddressForm):
    """The address, then the store (one of those offered), its window, the shopper's details and
    the provider to pay online with. The fee each store was shown for comes back signed
    (`quote`), so a fee changed meanwhile is named, not charged silently."""

    name = forms.CharField(
        label=_("Name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": _("Enter your name, so the store knows whose order it is.")},
    )
    email = forms.EmailField(
        label=_("E-mail"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("We e-mail you when your order leaves the store and when it is delivered."),
        error_messages={
            "required": _("Enter your e-mail address."),
            "invalid": _("Enter an e-mail address such as anna@example.com."),
        },
    )
    store = forms.IntegerField(
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose the store to deliver your order."),
            "invalid": _("Choose one of the stores listed."),
        },
    )
    payment = forms.CharField(required=False)
    quote = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())

    def clean(self):
        cleaned = super().clean()
        store_id = cleaned.get("store")
        cleaned["window_start"] = cleaned["fee_shown"] = None
        if store_id is None:
            return cleaned
        fees = read_quote(cleaned.get("quote", ""))
        if store_id not in fees:
            self.add_error("store", self.fields["store"].error_messages["invalid"])
            return cleaned
        cleaned["fee_shown"] = fees[store_id]
        chosen = self.data.get(f"window-{store_id}", "")
        cleaned["window_start"] = parse_window_key(chosen)
        if cleaned["window_start"] is None:
            self.add_error(None, gettext("Choose one of the delivery windows listed."))
        cleaned["payment"] = self.data.get(f"payment-{store_id}") or cleaned.get("payment") or ""
        return cleaned


def signed_quote(fees: dict[int, Decimal]) -> str:
    """The fee of each store offered ({store id: fee}), signed into the page."""
    return signing.dumps({str(pk): str(fee) for pk, fee in fees.items()}, salt=DELIVERY_QUOTE_SALT)


def read_quote(value: str) -> dict[int, Decimal]:
    try:
        return {int(pk): Decimal(fee) for pk, fee in signing.loads(value or "", salt=DELIVERY_QUOTE_SALT).items()}
    except (signing.BadSignature, AttributeError, TypeError, ValueError, InvalidOperation):
        return {}


class ShippingCheckoutForm(DeliveryAddressForm):
    """Shipping from a warehouse instead, when no store delivers the cart there: the address (as
    for a delivery), the shopper's details, the provider to pay online with, and the fee the page
    showed (quoted again when the order is placed: a fee changed meanwhile is named)."""

    name = DeliveryCheckoutForm.base_fields["name"]
    email = forms.EmailField(
        label=_("E-mail"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("We e-mail you the carrier's tracking number when the parcel leaves our warehouse."),
        error_messages={
            "required": _("Enter your e-mail address."),
            "invalid": _("Enter an e-mail address such as anna@example.com."),
        },
    )
    shipping_payment = forms.CharField(required=False)
    shipping_fee = forms.DecimalField(
        widget=forms.HiddenInput,
        min_value=0,
        error_messages={"required": _("Show the shipping options again, then place the order.")},
    )

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())
