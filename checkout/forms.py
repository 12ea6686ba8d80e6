"""What a shopper may type into the cart and the checkout, and the messages when it is wrong.

Prices are never read from a form: the cart and the order take them from the catalog.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.conf import settings
from django.core import signing
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from o2o_site.field_groups import QuickBoundField
from o2o_site.money import PointsField
from orders.models import FulfilmentMethod
from orders.selectors import available_units_at, best_pickup_availability
from pickup.forms import PickupTimeField, PickupTimeSelect
from pickup.slots import Slot, parse_slot_key
from shipping.selectors import shippable_units
from stores.models import Store, StoreKind, home_country

from .services import PAY_AT_PICKUP, ConfirmedLine, payment_methods_at, pickup_methods_at

# A shopper does not buy a pallet for pickup; this also keeps absurd numbers out of the session.
MAX_UNITS_PER_LINE = 99

# A quantity the cart refused, as typed, for the page the shopper is sent back to (one shot):
# {"product_id": "12", "quantity": "1000"}. The product page shows it again beside the message.
TYPED_QUANTITY_SESSION_KEY = "checkout:typed_quantity"

QUANTITY_ERRORS = {
    "required": _("Enter how many you want."),
    "invalid": _("Enter the quantity as a whole number, such as 1 or 2."),
    "min_value": _("The quantity must be at least %(limit_value)s."),
    "max_value": _("You can order at most %(limit_value)s of one product."),
}


class CartLineForm(forms.Form):
    """Add units of a product to the cart (or, with replace=True, set its quantity; 0 removes it).

    Checks that the product is sold and that the cart would not hold more than is available at
    the shopper's store, or at the best pickup store when they have not chosen one. With
    `pickup_store` ("Pick up at Smáralind" on a product sold out at my store), at that store, which
    the view then makes the shopper's store.
    """

    product_id = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        max_value=2**63 - 1,
        error_messages={
            "required": _("Choose a product."),
            "invalid": _("Choose a product."),
            "min_value": _("Choose a product."),
            "max_value": _("Choose a product."),
        },
    )
    quantity = forms.IntegerField(
        label=_("Quantity"), min_value=1, max_value=MAX_UNITS_PER_LINE, initial=1, error_messages=QUANTITY_ERRORS
    )
    pickup_store = forms.ModelChoiceField(
        queryset=Store.objects.offering_pickup(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("That store no longer hands over orders. Choose another store.")},
    )

    # The endless aisle's "Have it sent to me" (instore): checked against what a warehouse of the
    # store's country can ship, not the store's shelf; the cart then goes to the delivery checkout.
    to_ship = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, cart, store=None, replace=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.cart, self.store, self.replace = cart, store, replace
        if replace:
            self.fields["quantity"] = forms.IntegerField(
                label=_("Quantity"), min_value=0, max_value=MAX_UNITS_PER_LINE, error_messages=QUANTITY_ERRORS
            )
        self.product = None

    def clean(self):
        cleaned = super().clean()
        product_id, quantity = cleaned.get("product_id"), cleaned.get("quantity")
        if product_id is None or quantity is None:
            return cleaned
        if self.replace and quantity == 0:
            return cleaned  # removing a line needs no checks, even for a product no longer sold
        if "pickup_store" in self.errors:
            return cleaned  # the store asked for cannot hand it over: nothing to check against
        if cleaned.get("pickup_store") is not None:
            self.store = cleaned["pickup_store"]
        # Its name (the messages say it) and whether it has variants, in one query (an EXISTS
        # beside the row); not its other columns in three languages, nor its parent's.
        self.product = (
            Product.objects.for_sale()
            .only("name")
            .annotate(has_variants=Exists(Product.objects.filter(parent_id=OuterRef("pk"))))
            .filter(pk=product_id)
            .first()
        )
        if self.product is None:
            raise forms.ValidationError(gettext("Sorry, this product is no longer sold."), code="not_sold")
        if self.product.has_variants:
            # A product with variants is sold as one of them: a size, a colour (catalog.services).
            raise forms.ValidationError(
                gettext("Choose which %(product)s you want (such as its size) before adding it to your cart.")
                % {"product": self.product.name},
                code="choose_variant",
            )
        in_cart = self.cart.quantity_of(product_id)
        wanted = quantity if self.replace else in_cart + quantity
        if wanted > MAX_UNITS_PER_LINE:
            raise forms.ValidationError(
                gettext("You can order at most %(limit)s of one product; you already have %(in_cart)s in your cart.")
                % {"limit": MAX_UNITS_PER_LINE, "in_cart": in_cart},
                code="too_many",
            )
        if cleaned.get("to_ship"):
            country = self.store.country if self.store is not None else home_country()
            available = shippable_units(self.product, country=country)
            if wanted > available:
                raise forms.ValidationError(
                    gettext("'%(product)s' cannot be sent to you right now.") % {"product": self.product.name}
                    if available == 0
                    else gettext("We can send you at most %(available)s of '%(product)s'.")
                    % {"product": self.product.name, "available": available},
                    code="not_enough_stock",
                )
            return cleaned
        if self.store is not None:
            where, available = self.store, available_units_at(self.store, [product_id])[product_id]
        else:
            best = best_pickup_availability(product_id)
            where, available = best.store, best.units
        if wanted > available:
            raise forms.ValidationError(
                self._shortage_message(where=where, available=available, wanted=wanted, in_cart=in_cart),
                code="not_enough_stock",
            )
        return cleaned

    def _shortage_message(self, *, where, available, wanted, in_cart):
        names = {"product": self.product.name, "store": where.name if where else ""}
        if available == 0:
            if where is None:
                return gettext("'%(product)s' is sold out at every pickup store.") % names
            return gettext("'%(product)s' is sold out at %(store)s.") % names
        numbers = {**names, "available": available, "wanted": wanted, "in_cart": in_cart}
        if self.store is None:
            # A guest chose no store: say how many the best-stocked store has, without naming a
            # store they did not choose, and where to see more.
            if not self.replace and in_cart:
                return (
                    gettext(
                        "No store has more than %(available)s of '%(product)s', and you already have "
                        "%(in_cart)s in your cart."
                    )
                    % numbers
                )
            return (
                gettext(
                    "No store has more than %(available)s of '%(product)s'; you asked for %(wanted)s. "
                    "Choose your store to see what it has."
                )
                % numbers
            )
        if not self.replace and in_cart:
            return (
                gettext(
                    "Only %(available)s of '%(product)s' available at %(store)s, and you already have "
                    "%(in_cart)s in your cart."
                )
                % numbers
            )
        return (
            gettext("Only %(available)s of '%(product)s' available at %(store)s; you asked for %(wanted)s.") % numbers
        )


PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ()./-]+$")


def validate_phone(value):
    digits = sum(character.isdigit() for character in value)
    if not PHONE_CHARACTERS.match(value) or not 7 <= digits <= 15:
        raise forms.ValidationError(
            _("Enter a phone number with 7 to 15 digits, such as +354 555 1234."), code="invalid_phone"
        )


CHECKOUT_PAGE_SALT = "checkout.page"


@dataclass(frozen=True)
class ShownCheckout:
    """What a checkout page showed, signed into its hidden `checkout_token` field and compared
    with the shop when the shopper submits it (checkout.services.place_pickup_order).

    `token`: the page's one-time token (the order keeps it, so a second submit of the page finds
    the order). `lines`: the lines with the units and unit prices shown; the total shown is their
    sum. `withdrawn`: the cart's products shown as no longer sold (they leave the cart with the
    order). `methods`: the pickup methods shown at each store listed, by store id.

    Signed with the site's key under its own salt and compressed: it comes back exactly as it
    was sent, or not at all (from_signed gives None, and the page is shown again).
    """

    token: str
    lines: tuple[ConfirmedLine, ...]
    withdrawn: frozenset[int] = frozenset()
    methods: Mapping[int, frozenset[str]] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum((line.line_total for line in self.lines), Decimal("0"))

    @property
    def quantities(self) -> dict[int, int]:
        return {line.product_id: line.quantity for line in self.lines}

    def signed(self) -> str:
        payload = {
            "t": self.token,
            "l": [[line.product_id, line.quantity, str(line.unit_price), line.name] for line in self.lines],
            "w": sorted(self.withdrawn),
            "m": {str(store_id): sorted(methods) for store_id, methods in self.methods.items()},
        }
        return signing.dumps(payload, salt=CHECKOUT_PAGE_SALT, compress=True)

    @classmethod
    def from_signed(cls, value: str) -> "ShownCheckout | None":
        try:
            payload = signing.loads(value or "", salt=CHECKOUT_PAGE_SALT)
            return cls(
                token=str(payload["t"]),
                lines=tuple(
                    ConfirmedLine(product_id=int(pk), quantity=int(units), unit_price=Decimal(price), name=str(name))
                    for pk, units, price, name in payload["l"]
                ),
                withdrawn=frozenset(int(pk) for pk in payload["w"]),
                methods={int(store_id): frozenset(methods) for store_id, methods in payload["m"].items()},
            )
        except (signing.BadSignature, KeyError, TypeError, ValueError, ArithmeticError):
            return None


class StoreChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, store):
        return f"{store.name}, {store.address}, {store.city}"


class CheckoutForm(forms.Form):
    """Contact details, the pickup store and method, posted with the page's ShownCheckout (`shown`).

    The store field accepts any store that offers pickup, or that the page listed: whether it
    can supply the cart, and whether a store listed still offers the method chosen, is decided
    by place_pickup_order under row locks, which names each change. The page offers only the
    stores that could supply every line when it was shown.
    """

    # Its <input> fields written in Python as Django's templates write them: the page and every
    # refusal show six of them (o2o_site.field_groups).
    bound_field_class = QuickBoundField

    name = forms.CharField(
        label=_("Name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": _("Enter your name, so the store knows whose order it is.")},
    )
    email = forms.EmailField(
        label=_("E-mail"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("We e-mail you when your order is ready for pickup."),
        error_messages={
            "required": _("Enter your e-mail address."),
            "invalid": _("Enter an e-mail address such as anna@example.com."),
        },
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        validators=[validate_phone],
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        error_messages={"required": _("Enter a phone number the store can call about your order.")},
    )
    store = StoreChoiceField(
        label=_("Pickup store"),
        # With its pickup settings: clean() asks which pickup methods the store offers.
        queryset=Store.objects.filter(kind=StoreKind.STORE).select_related("pickup_settings"),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": _("Choose the store where you will pick up your order."),
            "invalid_choice": _("Choose one of the stores listed."),
        },
    )
    fulfilment = forms.ChoiceField(
        label=_("How do you want to pick up?"),
        choices=FulfilmentMethod.choices,
        initial=FulfilmentMethod.IN_STORE,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose pickup in store or curbside pickup.")},
    )
    vehicle_description = forms.CharField(
        label=_("Your car (for curbside pickup)"),
        max_length=120,
        required=False,
        help_text=_("Colour, make and plate help staff find you, e.g. “red Toyota Yaris, AB-123”."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    collector_name = forms.CharField(
        label=_("Someone else will collect (optional)"),
        max_length=150,
        required=False,
        help_text=_("Their name, if not you. Give them the pickup code; you can change this later on your order page."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    coupon_code = forms.CharField(
        label=_("Coupon code (optional)"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )

    # Rewards points a signed-in member uses as money off (the page offers it to members only).
    points = PointsField(label=_("Points to use"), min_value=0, required=False)
    # Unticked unless she ticks it; ticked, the order's e-mail address is subscribed to offers as
    # consent given at checkout (O2O_CHECKOUT_CONSENT: pending until she opens the confirmation).
    send_offers = forms.BooleanField(
        label=_("Send me offers by e-mail (optional)"),
        required=False,
        help_text=_("We e-mail you a link to confirm first. You can unsubscribe at any time."),
    )

    def __init__(self, *args, shown: ShownCheckout | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.shown = shown

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())

    def clean_phone(self):
        return " ".join(self.cleaned_data["phone"].split())

    def clean_fulfilment(self):
        return self.cleaned_data["fulfilment"] or FulfilmentMethod.IN_STORE

    def clean_vehicle_description(self):
        return " ".join(self.cleaned_data["vehicle_description"].split())

    def clean_collector_name(self):
        return " ".join(self.cleaned_data["collector_name"].split())

    def clean(self):
        cleaned = super().clean()
        store = cleaned.get("store")
        cleaned["pickup_slot"] = None
        cleaned["payment"] = PAY_AT_PICKUP
        if store is None:
            return cleaned
        # What the page offered is left to place_pickup_order, which says what changed since;
        # what it never offered (a form posted by hand) is refused here, at the field.
        shown = self.shown.methods.get(store.pk, frozenset()) if self.shown else frozenset()
        offered = pickup_methods_at(store)
        if not shown and not offered:
            self.add_error("store", self.fields["store"].error_messages["invalid_choice"])
            return cleaned
        fulfilment = cleaned.get("fulfilment")
        if fulfilment and fulfilment not in shown and fulfilment not in offered:
            self.add_error(
                "fulfilment",
                gettext(
                    "%(store)s does not offer curbside pickup. Choose pickup in store, or a store that offers "
                    "curbside pickup."
                )
                % {"store": store.name},
            )
        # Each store on the page has its own list of times (slot-<store id>), so the page works
        # without JavaScript; an empty choice means "the earliest time free", decided by the view.
        chosen = self.data.get(f"slot-{store.pk}") or self.data.get("slot") or ""
        if chosen:
            cleaned["pickup_slot"] = parse_slot_key(chosen)
            if cleaned["pickup_slot"] is None:
                self.add_error(None, gettext("Choose one of the pickup times listed."))
        # How to pay, per store too (payment-<store id>); none posted: the store's first way
        # (pay at pickup wherever the store takes it). Whether the store still allows the choice
        # is decided by place_pickup_order; a value no store ever offers is refused here.
        methods = payment_methods_at(store)
        paying = self.data.get(f"payment-{store.pk}") or self.data.get("payment") or methods[0]
        if paying != PAY_AT_PICKUP and paying not in settings.PAYMENT_VARIANTS:
            self.add_error(None, gettext("Choose one of the ways to pay listed."))
        else:
            cleaned["payment"] = paying
        return cleaned


class TransferCheckoutForm(forms.Form):
    """Contact details for an order sent to the shopper's store from another location (the
    endless aisle, checkout.transfer_views): the fields and rules of the pickup checkout's."""

    name = CheckoutForm.base_fields["name"]
    email = CheckoutForm.base_fields["email"]
    phone = CheckoutForm.base_fields["phone"]
    collector_name = CheckoutForm.base_fields["collector_name"]

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())

    def clean_phone(self):
        return " ".join(self.cleaned_data["phone"].split())

    def clean_collector_name(self):
        return " ".join(self.cleaned_data["collector_name"].split())


class PickupTimesForm(forms.Form):
    """The pickup time picker of each store the checkout lists, `slot-<store id>`: each store has
    its own, so the page works without JavaScript. Shown only; CheckoutForm reads the chosen
    store's time, and place_pickup_order decides whether it is still free."""

    def __init__(self, *, stores: Iterable[Store], slots: Mapping[int, list[Slot]], chosen: Mapping[str, str]):
        super().__init__(initial=dict(chosen), auto_id="%s", label_suffix="")
        for store in stores:
            self.fields[f"slot-{store.pk}"] = PickupTimeField(
                slots=slots.get(store.pk, []),
                zone=store.zone,
                label=_("Pickup time at %(store)s") % {"store": store.name},
                widget=PickupTimeSelect(
                    attrs={"data-testid": "slot-select", "aria-describedby": f"slot-help-{store.pk}"}
                ),
            )


class CollectorForm(forms.Form):
    """The shopper names (or clears) who will collect the order, from the order page."""

    collector_name = forms.CharField(
        label=_("Who will collect?"),
        max_length=150,
        required=False,
        help_text=_("Leave empty if you collect it yourself. The collector shows the pickup code."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "data-testid": "collector-input"}),
    )
