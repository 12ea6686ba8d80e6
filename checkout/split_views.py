"""A cart no single location can supply, offered as a split (issue 11): the address first, then
the parts — the lines the shopper's store has, picked up there at its earliest free time; the
rest delivered from a store that delivers there (in a window the shopper picks) or shipped from
a warehouse — each with its lines, location, fee, time and total, and the order total. Placing
confirms every part at once (checkout.services.place_split_order) and sends the shopper to pay
online for the whole; a part that changed meanwhile refuses all of it, with the cart kept.

Thin like the delivery checkout (delivery_views.py), whose address form and cart token it shares.
"""

from decimal import Decimal, InvalidOperation

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from delivery.selectors import PostcodeProblem
from delivery.services import DeliveryAddress
from delivery.windows import parse_window_key
from o2o_site.dates import format_time
from orders.models import FulfilmentMethod, Order
from orders.services import AlreadyPlaced, Contact, OrderError
from payment.selectors import provider_label
from rewards.services import member_for_checkout
from shipping.services import ShippingAddress
from stores.models import Store
from stores.selectors import my_store

from .cart import Cart
from .delivery_forms import DeliveryAddressForm, DeliveryCheckoutForm
from .delivery_views import _initial, _quantities
from .forms import ShownCheckout
from .services import (
    CheckoutChanged,
    ConfirmedLine,
    ConfirmedPart,
    DeliveryChoice,
    ShippingChoice,
    SplitCheckout,
    place_split_order,
)
from .split import NoSplit, split_offer
from .views import (
    CHECKOUT_TOKENS_KEY,
    _already_placed,
    _cart_is_as_shown,
    _cart_is_empty,
    _change_messages,
    _forget_token,
    _issue_token,
    _lines_still_sold,
    _placed_with_nothing_to_pay,
)

SPLIT_PLAN_SALT = "checkout.split-plan"


def signed_plan(offer) -> str:
    """The parts the page offered (method, location, products, fee), signed into the page: what
    is placed is what was shown, and each part's fee is compared again when placing."""
    return signing.dumps(
        [
            {
                "method": part.method.value,
                "location": part.location.pk,
                "products": sorted(part.product_ids),
                "fee": str(part.fee),
            }
            for part in offer.parts
        ],
        salt=SPLIT_PLAN_SALT,
    )


def read_plan(value: str) -> list[dict] | None:
    try:
        plan = signing.loads(value or "", salt=SPLIT_PLAN_SALT)
        return [
            {
                "method": FulfilmentMethod(part["method"]),
                "location": int(part["location"]),
                "products": frozenset(int(pk) for pk in part["products"]),
                "fee": Decimal(part["fee"]),
            }
            for part in plan
        ]
    except (signing.BadSignature, KeyError, TypeError, ValueError, InvalidOperation):
        return None


class SplitCheckoutForm(DeliveryAddressForm):
    """The address, the parts the page offered (`plan`, signed), the window for the delivered part,
    the shopper's details and the provider to pay online with."""

    name = DeliveryCheckoutForm.base_fields["name"]
    email = forms.EmailField(
        label=_("E-mail"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("We e-mail you about each part of your order: when it is ready, leaves or arrives."),
        error_messages={
            "required": _("Enter your e-mail address."),
            "invalid": _("Enter an e-mail address such as anna@example.com."),
        },
    )
    plan = forms.CharField(widget=forms.HiddenInput, required=False)
    window = forms.CharField(required=False)
    payment = forms.CharField(required=False)

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())

    def clean(self):
        cleaned = super().clean()
        cleaned["parts"] = read_plan(cleaned.get("plan", ""))
        if not cleaned["parts"]:
            self.add_error(None, gettext("Show the parts of your order again, then place it."))
            return cleaned
        cleaned["window_start"] = None
        if any(part["method"] == FulfilmentMethod.LOCAL_DELIVERY for part in cleaned["parts"]):
            cleaned["window_start"] = parse_window_key(cleaned.get("window"))
            if cleaned["window_start"] is None:
                self.add_error("window", gettext("Choose one of the delivery windows listed."))
        return cleaned


@require_http_methods(["GET", "POST"])
def split_checkout(request):
    """GET: the address form. POST "find": the split offered. POST "place": the order."""
    cart = Cart(request.session)
    lines = _lines_still_sold(request, cart)
    if request.method == "GET" or request.POST.get("action") != "place":
        if not lines:
            return _cart_is_empty(request)
        form = DeliveryAddressForm(request.POST, cart=_quantities(lines)) if request.method == "POST" else None
        return _page(request, lines=lines, form=form or DeliveryAddressForm(initial=_initial(request)), token=None)

    shown = ShownCheckout.from_signed(request.POST.get("checkout_token", ""))
    if shown is not None and shown.token not in request.session.get(CHECKOUT_TOKENS_KEY, []):
        placed = Order.objects.filter(checkout_token=shown.token).first()
        if placed is not None:
            return _already_placed(request, cart, placed, token=shown.token)
    if not lines:
        return _cart_is_empty(request)
    form = SplitCheckoutForm(request.POST, cart=_quantities(lines))
    changes = ()
    if shown is None or shown.token not in request.session.get(CHECKOUT_TOKENS_KEY, []):
        form.is_valid()
        form.add_error(None, gettext("Your checkout page had expired. Please check your details and try again."))
    elif form.is_valid() and not _cart_is_as_shown(cart, shown):
        form.add_error(
            None, gettext("Your cart changed after this page was shown. Check your order below and place it again.")
        )
    elif form.is_valid():
        try:
            order = place_split_order(checkout=_confirmed(request, form, shown))
        except AlreadyPlaced as duplicate:
            return _already_placed(request, cart, duplicate.order, token=shown.token)
        except CheckoutChanged as changed:
            changes = changed.changes
        except OrderError as error:
            form.add_error(None, str(error))
        else:
            _forget_token(request, shown.token)
            cart.clear()
            if not order.is_awaiting_payment:
                return _placed_with_nothing_to_pay(request, order)
            payment = order.new_payment
            messages.info(
                request,
                gettext("Your order %(number)s is reserved in its parts, at each store, until %(time)s while you pay.")
                % {"number": order.number, "time": format_time(order.payment_hold_until, zone=order.store.zone)},
            )
            return redirect("payment_page", token=payment.token)
    for message in _change_messages(changes, shown_total=shown.total if shown else None, total=Cart.total(lines)):
        form.add_error(None, message)
    return _page(request, lines=lines, form=form, token=shown.token if shown else None)


def _confirmed(request, form, shown) -> SplitCheckout:
    data = form.cleaned_data
    stores = Store.objects.in_bulk([part["location"] for part in data["parts"]])
    contact = Contact(name=data["name"], email=data["email"], phone=data["phone"])
    parts = []
    for part in data["parts"]:
        location = stores.get(part["location"]) or Store(pk=part["location"])
        delivery = shipping = None
        if part["method"] == FulfilmentMethod.LOCAL_DELIVERY:
            delivery = DeliveryChoice(
                address=DeliveryAddress(
                    street=data["street"],
                    postcode=data["postcode"],
                    city=data["city"],
                    country=data["country"],
                    phone=data["phone"],
                ),
                window_start=data["window_start"],
                fee_shown=part["fee"],
            )
        elif part["method"] == FulfilmentMethod.SHIPPING:
            shipping = ShippingChoice(
                address=ShippingAddress(
                    name=data["name"],
                    address=data["street"],
                    postcode=data["postcode"],
                    city=data["city"],
                    country=data["country"],
                ),
                fee_shown=part["fee"],
            )
        parts.append(
            ConfirmedPart(
                method=part["method"],
                location=location,
                product_ids=part["products"],
                delivery=delivery,
                shipping=shipping,
            )
        )
    return SplitCheckout(
        lines=shown.lines,
        parts=tuple(parts),
        contact=contact,
        customer=request.user,
        language=get_language(),
        checkout_token=shown.token,
        payment=data["payment"]
        if data["payment"] in settings.PAYMENT_VARIANTS
        else next(iter(settings.PAYMENT_VARIANTS), ""),
        points=data.get("points") or Decimal(0),
        send_offers=data["send_offers"],
    )


def _offer(form, lines, request):
    """The split for the address typed, or None with the reason on the form."""
    if not form.is_bound or any(name in form.errors for name in DeliveryAddressForm.base_fields):
        return None
    data = form.cleaned_data
    try:
        return split_offer(lines=lines, postcode=data["postcode"], country=data["country"], near=my_store(request))
    except PostcodeProblem as problem:
        form.add_error("postcode", str(problem))
    except NoSplit as refused:
        form.add_error(None, str(refused))
    return None


def _page(request, *, lines, form, token):
    if form.is_bound:
        form.is_valid()
    offer = _offer(form, lines, request)
    page = ShownCheckout(
        token=token or _issue_token(request),
        lines=tuple(
            ConfirmedLine(
                product_id=line.product.pk, name=line.product.name, quantity=line.quantity, unit_price=line.unit_price
            )
            for line in lines
        ),
    )
    return render(
        request,
        "orders/checkout_split.html",
        {
            "form": form,
            "details_form": form
            if isinstance(form, SplitCheckoutForm)
            else SplitCheckoutForm(initial=_initial(request)),
            "lines": lines,
            "total": Cart.total(lines),
            "offer": offer,
            "plan": signed_plan(offer) if offer else "",
            "chosen_window": request.POST.get("window", ""),
            "payments": [{"value": value, "label": provider_label(value)} for value in settings.PAYMENT_VARIANTS],
            "checkout_page": page.signed(),
            "member": member_for_checkout(request.user),
        },
    )
