"""Having the cart delivered from a store: the address first, then the stores that deliver there
and have everything in the cart, each with its fee and windows; placing the order books the
window and sends the shopper to pay online (checkout.services.place_delivery_order).

Thin like the pickup checkout (views.py), whose cart token and signed page summary it shares.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext, ngettext
from django.views.decorators.http import require_http_methods

from coupons.pricing import PricedLine
from coupons.services import CouponRefused, preview_for_checkout
from delivery.selectors import PostcodeProblem, delivery_options
from delivery.services import DeliveryAddress
from instore.services import attribution_of, customer_of
from o2o_site.dates import format_time, format_weekday_date, time_range_formatter
from orders.models import Order
from orders.selectors import CHECKOUT_STORES_SHOWN, store_ids_holding
from orders.services import AlreadyPlaced, Contact, OrderError
from payment.selectors import provider_label
from pickup.slots import FEW_PLACES_LEFT
from rewards.services import member_for_checkout
from shipping.selectors import ShippingProblem, shipping_options
from shipping.services import ShippingAddress
from stores.models import Store
from stores.selectors import my_store

from .cart import Cart
from .delivery_forms import DeliveryAddressForm, DeliveryCheckoutForm, ShippingCheckoutForm, signed_quote
from .forms import ShownCheckout
from .services import (
    CheckoutChanged,
    ConfirmedCheckout,
    ConfirmedLine,
    DeliveryChoice,
    ShippingChoice,
    delivery_payment_methods_at,
    place_delivery_order,
    place_shipping_order,
)
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
    shopper_store_name,
    store_instead,
)


@require_http_methods(["GET", "POST"])
def delivery_checkout(request):
    """GET: the address form. POST "find": the stores delivering there. POST "place": the order."""
    cart = Cart(request.session)
    lines = _lines_still_sold(request, cart)
    if request.method == "GET":
        if not lines:
            return _cart_is_empty(request)
        return _page(request, lines=lines, form=DeliveryAddressForm(initial=_initial(request)), token=None)
    if request.POST.get("action") == "ship":
        return _ship(request, cart, lines)
    if request.POST.get("action") != "place":
        if not lines:
            return _cart_is_empty(request)
        return _page(
            request,
            lines=lines,
            form=DeliveryAddressForm(request.POST, cart=_quantities(lines), my_store=my_store(request)),
            token=None,
        )

    shown = ShownCheckout.from_signed(request.POST.get("checkout_token", ""))
    if shown is not None and shown.token not in request.session.get(CHECKOUT_TOKENS_KEY, []):
        placed = Order.objects.filter(checkout_token=shown.token).first()
        if placed is not None:
            return _already_placed(request, cart, placed, token=shown.token)
    if not lines:
        return _cart_is_empty(request)
    form = DeliveryCheckoutForm(request.POST, cart=_quantities(lines), my_store=my_store(request))
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
            order = place_delivery_order(checkout=_confirmed(request, form, shown))
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
                gettext(
                    "Your order %(number)s is reserved: the items and your delivery window are held for you "
                    "until %(time)s while you pay."
                )
                % {
                    "number": order.number,
                    "time": format_time(order.payment_hold_until, zone=order.store.zone),
                },
            )
            return redirect("payment_page", token=payment.token)
    for message in _change_messages(changes, shown_total=shown.total if shown else None, total=Cart.total(lines)):
        form.add_error(None, message)
    return _page(request, lines=lines, form=form, token=shown.token if shown else None)


def _ship(request, cart, lines):
    """POST "ship": place the cart as an order shipped from a warehouse (place_shipping_order),
    then on to the payment; what is wrong is said on the page, with what was typed kept."""
    shown = ShownCheckout.from_signed(request.POST.get("checkout_token", ""))
    if not lines:
        return _cart_is_empty(request)
    form = ShippingCheckoutForm(request.POST, cart=_quantities(lines), my_store=my_store(request))
    changes = ()
    if shown is None or shown.token not in request.session.get(CHECKOUT_TOKENS_KEY, []):
        form.is_valid()
        form.add_error(None, gettext("Your checkout page had expired. Please check your details and try again."))
    elif form.is_valid() and not _cart_is_as_shown(cart, shown):
        form.add_error(
            None, gettext("Your cart changed after this page was shown. Check your order below and place it again.")
        )
    elif form.is_valid():
        data = form.cleaned_data
        try:
            order = place_shipping_order(
                checkout=ConfirmedCheckout(
                    lines=shown.lines,
                    store=my_store(request) or Store(),
                    contact=Contact(name=data["name"], email=data["email"], phone=data["phone"]),
                    customer=customer_of(request),
                    language=get_language(),
                    checkout_token=shown.token,
                    attribution=attribution_of(request),
                    payment=data["shipping_payment"] or next(iter(settings.PAYMENT_VARIANTS), ""),
                    coupon_code=data["coupon_code"],
                    points=data.get("points") or Decimal(0),
                    send_offers=data["send_offers"],
                ),
                shipping=ShippingChoice(
                    address=ShippingAddress(
                        name=data["name"],
                        address=data["street"],
                        postcode=data["postcode"],
                        city=data["city"],
                        country=data["country"],
                    ),
                    fee_shown=data["shipping_fee"],
                ),
            )
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
                gettext("Your order %(number)s is reserved at our warehouse while you pay, until %(time)s.")
                % {"number": order.number, "time": format_time(order.payment_hold_until, zone=order.store.zone)},
            )
            return redirect("payment_page", token=payment.token)
    for message in _change_messages(changes, shown_total=shown.total if shown else None, total=Cart.total(lines)):
        form.add_error(None, message)
    return _page(request, lines=lines, form=form, token=shown.token if shown else None)


def _shipping_offer(data, lines):
    """Shipping from a warehouse, offered when no store delivers the whole cart to the address
    typed (`data`, the address form's cleaned data): the fee and the providers to pay with, or
    the reason it cannot be shipped either."""
    if not all(data.get(name) for name in ("postcode", "country")):
        return None
    try:
        quote = shipping_options(
            postcode=data["postcode"],
            country=data["country"],
            lines=[(line.product, line.quantity) for line in lines],
        )
    except ShippingProblem as problem:
        return {"problem": str(problem)}
    return {
        "quote": quote,
        "payments": [{"value": value, "label": provider_label(value)} for value in settings.PAYMENT_VARIANTS],
    }


def _initial(request):
    initial = {"country": "NO" if get_language() == "nb" else "IS"}
    mine = my_store(request)
    if mine is not None and mine.country in ("IS", "NO"):
        initial["country"] = mine.country
    user = customer_of(request)
    if user is not None:
        initial.update(name=user.get_full_name(), email=user.email, phone=user.phone)
    return initial


def _confirmed(request, form, shown) -> ConfirmedCheckout:
    data = form.cleaned_data
    return ConfirmedCheckout(
        lines=shown.lines,
        # Read by the placing, as it is now (checkout.services.store_to_place_at).
        store=Store(pk=data["store"]),
        contact=Contact(name=data["name"], email=data["email"], phone=data["phone"]),
        customer=customer_of(request),
        language=get_language(),
        checkout_token=shown.token,
        attribution=attribution_of(request),
        payment=data["payment"],
        coupon_code=data["coupon_code"],
        points=data.get("points") or Decimal(0),
        send_offers=data["send_offers"],
        delivery=DeliveryChoice(
            address=DeliveryAddress(
                street=data["street"],
                postcode=data["postcode"],
                city=data["city"],
                country=data["country"],
                phone=data["phone"],
            ),
            window_start=data["window_start"],
            fee_shown=data["fee_shown"],
        ),
    )


def _quantities(lines) -> dict[int, int]:
    """The cart's {product id: units}, as the stock checks and the postcode messages take it."""
    return {line.product.pk: line.quantity for line in lines}


def _offers(form, lines) -> tuple[list | None, tuple[str | None, str] | None]:
    """The stores delivering to the address typed that have the whole cart, nearest first, or
    None; and why none can deliver it there, (the form field it is about, the message), or None
    when they can or the address itself is wrong."""
    if any(name in form.errors for name in DeliveryAddressForm.base_fields):
        return None, None
    data = form.cleaned_data
    quantities = _quantities(lines)
    try:
        lookup = delivery_options(
            postcode=data["postcode"], country=data["country"], order_value=Cart.total(lines), cart=quantities
        )
    except PostcodeProblem as problem:
        return None, ("postcode", str(problem))
    holding = store_ids_holding(quantities, among=[option.store.pk for option in lookup.options])
    # The nearest few, as the pickup checkout lists its stores: a town centre's address is
    # covered by dozens of stores' zones (29 on the benchmark's), each with a week of windows.
    offers = [option for option in lookup.options if option.store.pk in holding][:CHECKOUT_STORES_SHOWN]
    if not offers:
        return None, (
            None,
            gettext(
                "No store that delivers to %(postcode)s %(place)s has everything in your cart. Change your cart, "
                "or check out for pickup at a store that has it all."
            )
            % {"postcode": lookup.located.postcode, "place": lookup.located.place_name},
        )
    return [
        {
            "option": option,
            "windows": _window_choices(option),
            "payments": [
                {"value": value, "label": provider_label(value)} for value in delivery_payment_methods_at(option.store)
            ],
        }
        for option in offers
    ], None


def _coupon_on_fee(request, form, *, lines, store, fee) -> dict | None:
    """What the coupon typed takes off this order delivered or shipped by `store` for `fee`, shown
    where the fee is (nothing is held: the order's placing decides again): {"code", "fee_off",
    "goods_off"}, or {"code", "refused": message}; None without a code."""
    code = (form["coupon_code"].value() or "").strip()
    if not code or not lines:
        return None
    priced = [
        PricedLine(key=line.product.pk, amount=line.line_total, category_id=line.product.category_id) for line in lines
    ]
    email = form["email"].value() if "email" in form.fields else ""
    try:
        applied = preview_for_checkout(
            code=code, store=store, customer=request.user, email=email or "", lines=priced, fees={"fee": fee}
        )
    except CouponRefused as refused:
        return {"code": code, "refused": refused.message}
    return {
        "code": applied.code.display,
        "fee_off": applied.discount.fees.get("fee", Decimal(0)),
        "goods_off": sum(applied.discount.lines.values(), Decimal(0)),
    }


def _window_choices(option) -> list[tuple[str, str]]:
    """(key, label) of the option's windows: "Sunday 6 December, 12:00–14:00", in the store's
    time, with the places left when few are. Each day is worded once and the time format looked
    up once per list (a template filter per window did both for every one: a fifth of the page)."""
    zone = option.store.zone
    time_range = time_range_formatter()
    days: dict[datetime.date, str] = {}
    choices = []
    for window in option.windows:
        starts, ends = window.starts_at.astimezone(zone), window.ends_at.astimezone(zone)
        day = days.get(starts.date())
        if day is None:
            day = days[starts.date()] = capfirst(format_weekday_date(starts, zone=zone))
        label = f"{day}, {time_range(starts, ends)}"
        if window.remaining <= FEW_PLACES_LEFT:
            places = ngettext("%(counter)s place left", "%(counter)s places left", window.remaining)
            label = f"{label} ({places % {'counter': window.remaining}})"
        choices.append((window.key, label))
    return choices


def _window_options(windows: list[tuple[str, str]], *, chosen: str) -> str:
    """The <option>s of a store's window list (_window_choices), `chosen` selected, as the template
    wrote them: a store's week of windows is some 25 options, and three to five stores a page."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((key, SELECTED if key == chosen else "", label) for key, label in windows),
    )


SELECTED = mark_safe(" selected")


def _page(request, *, lines, form, token):
    if form.is_bound:
        form.is_valid()
    # The address as typed and checked, before the delivery lookup says no store delivers there.
    address = dict(getattr(form, "cleaned_data", {}))
    offers, no_delivery = _offers(form, lines) if form.is_bound else (None, None)
    # No store delivers it all there: a warehouse may ship it (the address itself must be valid).
    address_valid = form.is_bound and not any(name in form.errors for name in ("street", "city", "country", "phone"))
    shipping = _shipping_offer(address, lines) if address_valid and not offers else None
    # Why no store delivers it is an error only when nothing else can be done here; with shipping
    # offered below it is a notice leading to it, not a red mark on a postcode that is right.
    if no_delivery is not None and not (shipping and "quote" in shipping):
        form.add_error(*no_delivery)
        no_delivery = None
    for offer in offers or ():
        offer["coupon"] = _coupon_on_fee(
            request, form, lines=lines, store=offer["option"].store, fee=offer["option"].fee
        )
    if shipping and "quote" in shipping:
        shipping["coupon"] = _coupon_on_fee(
            request, form, lines=lines, store=shipping["quote"].warehouse, fee=shipping["quote"].fee
        )
    page = ShownCheckout(
        token=token or _issue_token(request),
        lines=tuple(
            ConfirmedLine(
                product_id=line.product.pk, name=line.product.name, quantity=line.quantity, unit_price=line.unit_price
            )
            for line in lines
        ),
    )
    chosen = str(form["store"].value() or "") if "store" in form.fields else ""
    if offers and not chosen:
        chosen = str(offers[0]["option"].store.pk)
    # A store can take the order when it delivers there and takes a way to pay for deliveries.
    deliverable = (
        (offer["option"].store, offer["option"].can_deliver and bool(offer["payments"])) for offer in offers or ()
    )
    instead = store_instead(chosen, deliverable)
    if instead is not None:
        gone = shopper_store_name(chosen)
        if gone is None:  # an id no page lists (made up, or a warehouse's): never named
            form.add_error("store", gettext("Choose one of the stores listed."))
        else:
            form.add_error(
                None,
                gettext(
                    "%(gone)s can no longer deliver your order; %(store)s, the nearest store that can, is chosen "
                    "instead. Check the delivery window."
                )
                % {"gone": gone, "store": instead.name},
            )
        chosen = str(instead.pk)
    for offer in offers or ():
        # Each store's own window as its list posted it; the store chosen instead shows its earliest
        # (window keys are times: another store's key may be one of its windows too).
        store_id = offer["option"].store.pk
        chosen_window = "" if offer["option"].store == instead else request.POST.get(f"window-{store_id}", "")
        offer["window_options"] = _window_options(offer["windows"], chosen=chosen_window)
    return render(
        request,
        "orders/checkout_delivery.html",
        {
            "form": form,
            "details_form": form
            if isinstance(form, DeliveryCheckoutForm)
            else DeliveryCheckoutForm(initial=_initial(request)),
            "lines": lines,
            "total": Cart.total(lines),
            "offers": offers,
            # The radios a shopper can choose (as the template disables the others): without one,
            # no "Place order" button to press for a refusal that would only say "choose a store".
            "offers_choosable": any(offer["option"].can_deliver and offer["payments"] for offer in offers or ()),
            "chosen_store_id": chosen,
            "quote": signed_quote({offer["option"].store.pk: offer["option"].fee for offer in offers or ()}),
            "checkout_page": page.signed(),
            "member": member_for_checkout(request.user),
            "shipping": shipping,
            "no_delivery": no_delivery[1] if no_delivery else "",
            "shipping_form": form
            if isinstance(form, ShippingCheckoutForm)
            else ShippingCheckoutForm(initial=_initial(request)),
        },
    )
