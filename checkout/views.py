"""The cart, the checkout and the shopper's order page.

Thin on purpose: forms validate, selectors read, checkout.services.place_pickup_order writes.
"""

import functools
import secrets
from collections.abc import Iterable
from decimal import Decimal

import segno
from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.module_loading import import_string
from django.utils.translation import get_language, gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coupons.pricing import PricedLine
from coupons.services import CouponRefused, preview_for_checkout
from delivery.selectors import delivery_of
from instore.services import attribution_of, customer_of
from o2o_site.dates import format_datetime, format_time
from o2o_site.money import format_money
from o2o_site.templatetags.fragments import kept_render
from o2o_site.vat import vat_by_rate
from orders.models import STAFF_ONLY_ACTIVITIES, FulfilmentMethod, Order, OrderActivity, OrderStatus
from orders.notifications.delivery import emailed_note_shown
from orders.selectors import (
    CHECKOUT_STORES_SHOWN,
    available_units_at,
    opening_week,
    order_parts,
    orders_for_page,
    readiness_of,
    stores_to_offer,
    units_on_the_way,
)
from orders.services import AlreadyPlaced, Contact, OrderError, expire_payment_hold, expire_payment_holds
from payment.history import payment_history
from payment.models import OPEN_PAYMENT_STATUSES, PaymentEventKind, PaymentStatus
from payment.receipts import receipts_for_order_page
from payment.selectors import Outcome, order_payments, provider_label
from pickup.curbside import curbside_step
from pickup.models import PickupSettings
from pickup.selectors import pickup_of, with_pickups
from pickup.services import set_collector
from pickup.slots import available_slots_by_store
from rewards.services import member_for_checkout
from shipping.selectors import shipment_of
from stores.models import Store, StoreKind
from stores.selectors import my_store
from stores.services import choose_my_store

from .cart import Cart
from .forms import TYPED_QUANTITY_SESSION_KEY, CartLineForm, CheckoutForm, CollectorForm, PickupTimesForm, ShownCheckout
from .selectors import order_discounts
from .services import (
    PAY_AT_PICKUP,
    ChangeKind,
    CheckoutChanged,
    ConfirmedCheckout,
    ConfirmedLine,
    cancel_by_shopper,
    latest_pickup_when_paying_with,
    payment_methods_at,
    pickup_methods_at,
    place_pickup_order,
    retry_payment,
    shopper_cancel_refusal,
)

# Each checkout page carries its cart's checkout token (inside its signed ShownCheckout); the
# session remembers the ones it issued, and the order stores the one that placed it (unique), so a
# double submit finds the first order. The token belongs to the cart, not to the page: every
# checkout page opened for the same cart (two tabs, a reload) carries the same one, so two of them
# submitted at once place one order. Placing an order retires the token; the next cart gets a new one.
CHECKOUT_TOKENS_KEY = "checkout_tokens"
CURRENT_CHECKOUT_TOKEN_KEY = "checkout_token"
OPEN_TOKENS_KEPT = 5


def _next_url(request, fallback):
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback


def _form_errors(form):
    return [error for errors in form.errors.values() for error in errors]


def _lines_still_sold(request, cart):
    """The cart's lines; products no longer sold are taken out, and the shopper is told."""
    lines = cart.lines()
    if len(lines) < len(cart.quantities):
        sold = {line.product.pk for line in lines}
        for product_id in set(cart.quantities) - sold:
            cart.remove(product_id)
        messages.warning(request, gettext("Some products in your cart are no longer sold and were removed."))
    return lines


@require_GET
def cart_detail(request):
    cart = Cart(request.session)
    lines = _lines_still_sold(request, cart)
    store = my_store(request)
    available = available_units_at(store, [line.product.pk for line in lines])
    rows = [
        {
            "line": line,
            "available": available.get(line.product.pk),
            "enough": store is None or available.get(line.product.pk, 0) >= line.quantity,
        }
        for line in lines
    ]
    return render(
        request,
        "orders/cart.html",
        {
            "rows": rows,
            "total": Cart.total(lines),
            "store": store,
            "all_in_stock": all(row["enough"] for row in rows),
        },
    )


@require_POST
def cart_add(request):
    cart = Cart(request.session)
    form = CartLineForm(request.POST, cart=cart, store=my_store(request))
    if not form.is_valid():
        for error in _form_errors(form):
            messages.error(request, error)
        # The page the shopper is sent back to keeps what they typed, as every form does.
        request.session[TYPED_QUANTITY_SESSION_KEY] = {
            "product_id": request.POST.get("product_id", "")[:20],
            "quantity": request.POST.get("quantity", "")[:20],
        }
        return redirect(_next_url(request, reverse("checkout:cart")))
    product, quantity = form.product, form.cleaned_data["quantity"]
    request.session.pop(TYPED_QUANTITY_SESSION_KEY, None)  # an earlier refusal's, not shown since
    cart.set(product.pk, cart.quantity_of(product.pk) + quantity)
    names = {"quantity": quantity, "product": product.name}
    if (pickup_store := form.cleaned_data.get("pickup_store")) is not None:
        # "Pick up at Smáralind": the cart is checked against that store from now on.
        choose_my_store(request=request, store=pickup_store)
        messages.success(
            request,
            gettext("Added %(quantity)s × %(product)s to your cart, to pick up at %(store)s, now your store.")
            % {**names, "store": pickup_store.name},
        )
    else:
        messages.success(request, gettext("Added %(quantity)s × %(product)s to your cart.") % names)
    return redirect(_next_url(request, reverse("checkout:cart")))


@require_POST
def cart_update(request):
    cart = Cart(request.session)
    form = CartLineForm(request.POST, cart=cart, store=my_store(request), replace=True)
    if not form.is_valid():
        for error in _form_errors(form):
            messages.error(request, error)
    elif form.cleaned_data["quantity"] == 0:
        cart.remove(form.cleaned_data["product_id"])
        messages.success(request, gettext("The product was removed from your cart."))
    else:
        cart.set(form.product.pk, form.cleaned_data["quantity"])
        messages.success(request, gettext("Your cart was updated."))
    return redirect(_next_url(request, reverse("checkout:cart")))


@require_http_methods(["GET", "POST"])
def checkout(request):
    """The checkout page, and placing the order it shows.

    The page signs what it shows into its hidden `checkout_token` field (ShownCheckout). A submit
    places exactly that, or nothing: when the cart, a price, a product, the stock or the store's
    pickup methods differ, the page is shown again naming each change, with a new summary to
    confirm; the cart and what the shopper typed are kept.
    """
    cart = Cart(request.session)
    if request.method == "GET":
        _expire_ended_holds_in_process()
        lines = _lines_still_sold(request, cart)
        if not lines:
            return _cart_is_empty(request)
        return _checkout_page(request, token=_issue_token(request), lines=lines)

    shown = ShownCheckout.from_signed(request.POST.get("checkout_token", ""))
    if not cart or shown is None or shown.token not in request.session.get(CHECKOUT_TOKENS_KEY, []):
        # Not a page this session is placing: perhaps one already placed (the token is forgotten
        # and the cart emptied when an order is placed), so the shopper gets that order. A page
        # still open is looked up inside place_pickup_order, where its twin is waited for.
        placed = Order.objects.filter(checkout_token=shown.token).first() if shown else None
        if placed is not None:
            return _already_placed(request, cart, placed, token=shown.token)
        if not cart:
            return _cart_is_empty(request)
        return _checkout_page(request, token=_issue_token(request), form=_expired_form(request))

    if "apply_coupon" in request.POST:
        # "Apply" shows what the coupon takes off (for the store chosen) before anything is
        # placed; what was typed is kept, nothing is checked or written yet.
        form = CheckoutForm(initial=request.POST.dict(), shown=shown)
        return _checkout_page(request, token=shown.token, form=form, shown=shown)
    form = CheckoutForm(request.POST, shown=shown)
    changes, products = (), None
    if form.is_valid() and not _cart_is_as_shown(cart, shown):
        form.add_error(
            None, gettext("Your cart changed after this page was shown. Check your order below and place it again.")
        )
    elif form.is_valid():
        try:
            order = place_pickup_order(checkout=_confirmed(request, form, shown))
        except AlreadyPlaced as duplicate:
            return _already_placed(request, cart, duplicate.order, token=shown.token)
        except CheckoutChanged as changed:
            changes, products = changed.changes, changed.products
        except OrderError as error:
            form.add_error(None, str(error))
        else:
            _forget_token(request, shown.token)
            cart.clear()
            if order.is_awaiting_payment:
                return _to_payment(request, order, payment=order.new_payment)
            messages.success(
                request,
                gettext(
                    "Thank you! Your order %(number)s is placed. We will e-mail %(email)s when it is ready "
                    "for pickup at %(store)s."
                )
                % {"number": order.number, "email": order.contact_email, "store": order.store.name},
            )
            return redirect(order.get_absolute_url())
    return _checkout_page(
        request, token=shown.token, lines=_lines_as_read(cart, shown, products), form=form, changes=changes, shown=shown
    )


def _lines_as_read(cart, shown, products):
    """The cart's lines from the products a refused placing has just read (`products`, {pk:
    Product}, all still sold), when they are the whole cart; else None (the page reads them)."""
    if products is None or shown.withdrawn or set(cart.quantities) != set(products):
        return None
    return cart.lines_of(products)


def _expire_ended_holds_in_process():
    """With no broker there is no beat (`make run`): the checkout page expires ended payment
    holds itself, so their units are back on sale before the stock is shown."""
    if settings.PAYMENT_HOLDS_EXPIRED_BY_CHECKOUT:
        expire_payment_holds(now=timezone.now())


def _hold_ends(order):
    return format_time(order.payment_hold_until, zone=order.store.zone)


def _to_payment(request, order, *, payment=None):
    """Send the shopper to pay for `order`, saying how long it is held: to `payment`, the attempt
    placing it has just made, else to its newest attempt."""
    payment = payment or order.payments.order_by("-created", "-pk").first()
    messages.info(
        request,
        gettext(
            "Your order %(number)s is reserved: the items and your pickup time are held for you until "
            "%(time)s while you pay."
        )
        % {"number": order.number, "time": _hold_ends(order)},
    )
    return redirect("payment_page", token=payment.token)


def _placed_with_nothing_to_pay(request, order):
    """A delivery, shipping or split order whose total is 0 was placed at once, with no payment
    step (orders.services.create_order): to its page."""
    messages.success(
        request,
        gettext("Thank you! Your order %(number)s is placed, with nothing to pay. We have e-mailed %(email)s.")
        % {"number": order.number, "email": order.contact_email},
    )
    return redirect(order.get_absolute_url())


def _cart_is_empty(request):
    messages.info(request, gettext("Your cart is empty. Add something before checking out."))
    return redirect("checkout:cart")


def _already_placed(request, cart, order, *, token):
    _forget_token(request, token)
    cart.clear()
    if order.is_awaiting_payment and order.payments.filter(status__in=OPEN_PAYMENT_STATUSES).exists():
        # A double click on "place order" paying online: both land where the first one went.
        return _to_payment(request, order)
    messages.info(request, gettext("Your order was already placed. Here it is."))
    return redirect(order.get_absolute_url())


def _cart_is_as_shown(cart, shown):
    """The cart holds what the page showed (products shown as no longer sold aside): it was not
    changed in another window meanwhile."""
    in_cart = {pk: units for pk, units in cart.quantities.items() if pk not in shown.withdrawn}
    return in_cart == shown.quantities


def _confirmed(request, form, shown) -> ConfirmedCheckout:
    data = form.cleaned_data
    store = data["store"]
    return ConfirmedCheckout(
        lines=shown.lines,
        store=store,
        fulfilment=data["fulfilment"],
        methods_shown=shown.methods.get(store.pk, frozenset()),
        # No time chosen (an old page, a script): the earliest time with room, as the page
        # preselects, or the next ones if it fills up meanwhile.
        pickup_slot=data["pickup_slot"],
        first_free_slot=True,
        vehicle_description=data["vehicle_description"],
        collector_name=data["collector_name"],
        send_offers=data["send_offers"],
        contact=Contact(name=data["name"], email=data["email"], phone=data["phone"]),
        customer=customer_of(request),
        language=get_language(),
        checkout_token=shown.token,
        attribution=attribution_of(request),
        payment=data["payment"],
        coupon_code=data["coupon_code"],
        points=data.get("points") or Decimal(0),
    )


def _checkout_page(request, *, token, lines=None, form=None, changes=(), shown=None):
    """The checkout page for the cart as it is now, signing what it shows (ShownCheckout).

    After a refused submit, `changes` (checkout.services.Change) are named above the form with
    the new total; lines whose products were withdrawn are shown as leaving the cart, and stay in
    it until the shopper confirms this page."""
    cart = Cart(request.session)
    if lines is None:
        lines, withdrawn = cart.lines_and_withdrawn()
    else:
        withdrawn = []
    quantities = {line.product.pk: line.quantity for line in lines}
    stores, more_stores = _stores_to_offer(request, quantities)
    if form is None:
        form = CheckoutForm(initial=_initial(request, stores))
    total = Cart.total(lines)
    for message in _change_messages(changes, shown_total=shown.total if shown else None, total=total):
        form.add_error(None, message)
    slots = available_slots_by_store(stores)
    chosen_times = {name: value for name, value in request.POST.items() if name.startswith("slot-")}
    chosen_store_id = str(form["store"].value() or "")
    instead = store_instead(chosen_store_id, ((store, bool(slots.get(store.pk))) for store in stores))
    if instead is not None:
        if message := _store_instead_message(form, chosen_store_id=chosen_store_id, instead=instead):
            _say(request, form, message)
        chosen_store_id = str(instead.pk)
        # Its earliest time, not one the shopper's page happened to leave in its picker.
        chosen_times.pop(f"slot-{instead.pk}", None)
    coupon = _coupon_preview(request, form, lines=lines, stores=stores, chosen_store_id=chosen_store_id)
    times = PickupTimesForm(stores=stores, slots=slots, chosen=chosen_times)
    page = ShownCheckout(
        token=token,
        lines=tuple(
            ConfirmedLine(
                product_id=line.product.pk,
                name=line.product.name,
                quantity=line.quantity,
                unit_price=line.unit_price,
            )
            for line in lines
        ),
        withdrawn=frozenset(line.product.pk for line in withdrawn),
        methods={store.pk: pickup_methods_at(store) for store in stores},
    )
    return render(
        request,
        "orders/checkout.html",
        {
            "form": form,
            "checkout_page": page.signed(),
            "lines": lines,
            "withdrawn": withdrawn,
            "total": total,
            "coupon": coupon,
            "member": member_for_checkout(request.user),
            "stores": [
                {
                    "store": store,
                    "opening_week": _opening_week_table(store),
                    "rules": PickupSettings.for_store(store),
                    "pickup_time": times[f"slot-{store.pk}"],
                    "payment_choices": _payment_choices(request, store),
                }
                for store in stores
            ],
            "more_stores": more_stores,
            "offers_online": any(method != PAY_AT_PICKUP for store in stores for method in payment_methods_at(store)),
            "hold_minutes": settings.PAYMENT_HOLD_MINUTES,
            "chosen_store_id": chosen_store_id,
            "curbside_stores": [store.name for store in stores if FulfilmentMethod.CURBSIDE in page.methods[store.pk]],
            "offers_curbside": any(FulfilmentMethod.CURBSIDE in page.methods[store.pk] for store in stores),
        },
    )


def _opening_week_table(store):
    """The store's table of opening hours (orders/includes/opening_week.html): the same for every
    shopper, so rendered once per process for its hours, time zone and language (0.6 ms a store,
    five stores a checkout page)."""
    week = opening_week(store)
    hours = tuple((day.weekday, tuple((i.opens, i.closes) for i in day.intervals)) for day in week)
    return kept_render(
        "orders/includes/opening_week.html", {"store": store, "week": week}, key=(store.time_zone, hours)
    )


def store_instead(chosen_store_id: str, listed: Iterable[tuple[Store, bool]]) -> Store | None:
    """The store a refused checkout page checks instead of the one chosen, when that one is no
    longer listed (it can no longer supply the cart): the first of `listed` ((store, can take the
    order now), nearest first) that can, as the page first shown preselects. None while the chosen
    store is listed, when none was chosen, or when no listed store can take the order. The pickup
    and delivery checkouts both use it."""
    listed = list(listed)
    if not chosen_store_id.isdigit() or any(str(store.pk) == chosen_store_id for store, _can in listed):
        return None
    return next((store for store, can in listed if can), None)


def shopper_store_name(chosen_store_id: str) -> str | None:
    """The name of the store a checkout page posted, if it is one a shopper may be shown (a store,
    not a warehouse); None for an id no page lists (made up, or a warehouse's): such a choice is
    refused as "Choose one of the stores listed", never named as a store gone from the list."""
    return (
        Store.objects.filter(pk=chosen_store_id, kind=StoreKind.STORE).values_list("name", flat=True).first()
        if chosen_store_id.isdigit()
        else None
    )


def _store_instead_message(form, *, chosen_store_id: str, instead: Store) -> str | None:
    """Why another store is chosen, or None when the chosen one was never a store to list (its
    field says "Choose one of the stores listed")."""
    # The store as the form read it when the placing was refused; else (a coupon applied) read.
    read = getattr(form, "cleaned_data", {}).get("store")
    gone = read.name if read else shopper_store_name(chosen_store_id)
    if gone is None:
        return None
    return gettext(
        "%(gone)s can no longer have your order ready; %(store)s, the nearest store that can, is chosen instead. "
        "Check the pickup time."
    ) % {"gone": gone, "store": instead.name}


def _say(request, form, message: str):
    """A notice above the checkout form: among its errors when it was submitted, else as a message."""
    if form.is_bound:
        form.add_error(None, message)
    else:
        messages.warning(request, message)


def _coupon_preview(request, form, *, lines, stores, chosen_store_id):
    """What the coupon typed takes off this cart at the store chosen (else the first listed):
    {"code", "discount", "total"} or {"code", "refused": message}; None without a code."""
    code = (form["coupon_code"].value() or "").strip()
    if not code or not lines:
        return None
    store = next((store for store in stores if str(store.pk) == chosen_store_id), stores[0] if stores else None)
    if store is None:
        return None
    priced = [
        PricedLine(key=line.product.pk, amount=line.line_total, category_id=line.product.category_id) for line in lines
    ]
    try:
        applied = preview_for_checkout(
            code=code, store=store, customer=request.user, email=form["email"].value() or "", lines=priced
        )
    except CouponRefused as refused:
        return {"code": code, "refused": refused.message}
    discount = applied.discount.total
    return {"code": applied.code.display, "discount": discount, "total": Cart.total(lines) - discount, "store": store}


def _payment_choices(request, store):
    """The ways to pay at `store` for its part of the checkout page: value, label, whether it is
    chosen, and for paying online the last pickup time the authorisation allows."""
    methods = payment_methods_at(store)
    chosen = request.POST.get(f"payment-{store.pk}") or methods[0]
    choices = []
    for value in methods:
        if value == PAY_AT_PICKUP:
            label, latest = gettext("Pay at pickup, in the store"), None
        else:
            label = gettext("Pay online now: %(provider)s") % {"provider": provider_label(value)}
            latest = format_datetime(latest_pickup_when_paying_with(value), zone=store.zone)
        choices.append({"value": value, "label": label, "chosen": value == chosen, "latest_pickup": latest})
    return choices


def _change_messages(changes, *, shown_total, total):
    if not changes:
        return []
    found = [change.message for change in changes]
    if shown_total is not None and shown_total != total:
        found.append(
            gettext("The total is now %(new)s (it was %(old)s).")
            % {"old": format_money(shown_total), "new": format_money(total)}
        )
    if any(change.kind == ChangeKind.STOCK for change in changes):
        found.append(
            gettext(
                "Nothing was reserved and your cart is unchanged. Change the quantities in your cart "
                "or choose another store."
            )
        )
    else:
        found.append(
            gettext("Nothing was placed and your cart is unchanged. Check your order below and place it again.")
        )
    return found


def _stores_to_offer(request, quantities):
    """The stores the checkout lists (my store first, then the nearest to it) and whether more
    stores could supply the cart.

    My store as the store directory holds it (stores.selectors.my_store): it only orders the
    list and names itself in it; the stores listed, mine among them, are read as they are now.
    A query less on every checkout page and every refusal (a flash sale's shoppers all chose
    their store)."""
    mine = my_store(request, from_directory=True)
    found = stores_to_offer(quantities, near=mine, limit=CHECKOUT_STORES_SHOWN + 1)
    return found[:CHECKOUT_STORES_SHOWN], len(found) > CHECKOUT_STORES_SHOWN


def _expired_form(request):
    form = CheckoutForm(request.POST)
    form.is_valid()
    form.add_error(None, gettext("Your checkout page had expired. Please check your details and try again."))
    return form


def _initial(request, stores):
    initial = {}
    user = customer_of(request)
    if user is not None:
        initial.update(name=user.get_full_name(), email=user.email, phone=user.phone)
    mine = my_store(request)
    if mine is not None and any(store.pk == mine.pk for store in stores):
        initial["store"] = mine.pk
    elif len(stores) == 1:
        initial["store"] = stores[0].pk
    return initial


def _issue_token(request):
    """The cart's checkout token: the one already issued for this cart, else a new one."""
    issued = request.session.get(CHECKOUT_TOKENS_KEY, [])
    token = request.session.get(CURRENT_CHECKOUT_TOKEN_KEY)
    if token not in issued:
        token = secrets.token_urlsafe(24)
        request.session[CURRENT_CHECKOUT_TOKEN_KEY] = token
        request.session[CHECKOUT_TOKENS_KEY] = [*issued, token][-OPEN_TOKENS_KEPT:]
    return token


def _forget_token(request, token):
    """An order was placed with `token`: no page may place another with it, and the next cart
    gets a new one."""
    request.session[CHECKOUT_TOKENS_KEY] = [t for t in request.session.get(CHECKOUT_TOKENS_KEY, []) if t != token]
    if request.session.get(CURRENT_CHECKOUT_TOKEN_KEY) == token:
        del request.session[CURRENT_CHECKOUT_TOKEN_KEY]


@require_GET
def order_detail(request, token):
    number = Order.number_from_token(token)
    order = with_pickups(orders_for_page()).filter(number=number).first() if number else None
    if order is None:
        # The same 404 for a bad signature and an unknown order: nothing to learn by probing.
        raise Http404
    if order.is_awaiting_payment and order.payment_hold_until <= timezone.now():
        # The hold ended and beat has not come round yet: the page shows the truth, not a
        # "try again" that would be refused.
        expire_payment_hold(order=order, now=timezone.now())
        order = with_pickups(orders_for_page()).get(pk=order.pk)
    pickup = pickup_of(order)
    # A split order's parts, each with its own status, lines and details (orders.selectors).
    parts = order_parts(order)
    # An order without a pickup is delivered to the shopper's door (the delivery app).
    delivery = delivery_of(order) if pickup is None else None
    # Neither: it is shipped from a warehouse (the shipping app).
    shipment = shipment_of(order) if pickup is None and delivery is None else None
    receipts = receipts_for_order_page(order)
    discounts = order_discounts(order)
    qr_code = segno.make(pickup.qr_payload, micro=False).svg_data_uri(scale=6) if pickup and order.is_open else None
    response = render(
        request,
        "orders/order_detail.html",
        {
            "order": order,
            "pickup": pickup,
            "delivery": delivery,
            "shipment": shipment,
            "fulfilment": (pickup or delivery or shipment).fulfilment if (pickup or delivery or shipment) else None,
            "store": order.store,
            "week": opening_week(order.store),
            "qr_code": qr_code,
            "curbside_step": curbside_step(order) if pickup and pickup.is_curbside else "",
            "curbside_steps": CURBSIDE_STEPS,
            "collector_form": CollectorForm(initial={"collector_name": pickup.collector_name})
            if pickup and order.is_open
            else None,
            "may_cancel": shopper_cancel_refusal(order) is None,
            "vat": vat_by_rate(order.lines.all()),
            "receipts": receipts.receipts,
            "withdrawal": receipts.withdrawal,
            "paid_online": order_payments(order),
            "outcomes": Outcome,
            "timeline": order_timeline(order),
            # "2 of 3 items are ready" (a placed order whose lines staff mark ready one by one).
            "readiness": readiness_of(order) if order.status == OrderStatus.PLACED else None,
            # Units a transfer is still bringing to the store: "on its way", not "getting it ready".
            "on_the_way": order.status == OrderStatus.PLACED
            and pickup is not None
            and any(units_on_the_way([pickup.fulfilment.pk]).values()),
            "panels": [panel(request, order) for panel in order_page_panels()],
            "discounts": discounts,
            # Of a split order the sections above show its pickup part (or its first part); the
            # parts section shows every part with its status, lines, total and details.
            "parts": parts,
            "part_count": len(parts),
            "part_delivery": (delivery or delivery_of(order)) if parts else None,
            "part_shipment": (shipment or shipment_of(order)) if parts else None,
        },
    )
    # The link is the key to the order: keep it out of shared caches and search engines.
    patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@functools.cache
def order_page_panels() -> list:
    """The callables of O2O_ORDER_PAGE_PANELS (parts of the order page that higher apps add, such
    as its returns), imported once per process."""
    return [import_string(path) for path in settings.O2O_ORDER_PAGE_PANELS]


def order_timeline(order: Order) -> list:
    """The order's history and its payment's in one list, oldest first: each item is an
    orders.OrderEvent or a payment.history.PaymentHistoryEntry (both have `created_at`).

    An order paid at checkout already says so in its own history (awaiting payment → placed,
    "Paid online: … authorised"), so the payment's authorisation or charge is not told twice. What
    is for the store's audit only (a pickup-code lock reset) is left out.

    Notes are written in the order's language (orders.services.note_in_order_language). Read in
    another language, an e-mail's name is worded again in the reader's, and the placing's payment
    note ("Paid online: 3.980 kr. …", words and money format frozen) gives way to the payment's
    own entries, worded as they are read. The notes are changed on this page's copies only."""
    events = [event for event in order.events.all() if event.kind not in STAFF_ONLY_ACTIVITIES]
    paid_at_checkout = any(event.from_status == OrderStatus.AWAITING_PAYMENT for event in events)
    in_order_language = (get_language() or "").split("-")[0] == order.language.split("-")[0]
    for event in events:
        if event.kind == OrderActivity.EMAILED:
            event.note = emailed_note_shown(event.note)
        elif (
            not in_order_language
            and event.from_status == OrderStatus.AWAITING_PAYMENT
            and event.to_status == OrderStatus.PLACED
        ):
            event.note = ""
    payments = [
        entry
        for entry in payment_history(order)
        if not (
            paid_at_checkout
            and in_order_language
            and entry.event.kind == PaymentEventKind.STATUS
            and entry.event.to_status in (PaymentStatus.PREAUTH, PaymentStatus.CONFIRMED)
        )
    ]
    return sorted([*events, *payments], key=lambda item: item.created_at)


# The shopper's view of a curbside order: ready → on the way → checked in → handed over.
CURBSIDE_STEPS = [
    ("ready", gettext_lazy("Ready")),
    ("on_the_way", gettext_lazy("On the way")),
    ("arrived", gettext_lazy("Checked in")),
    ("handed_over", gettext_lazy("Handed over")),
]


@require_POST
def order_collector(request, token):
    """The shopper names (or clears) who will collect, until the order is collected."""
    number = Order.number_from_token(token)
    order = Order.objects.filter(number=number).first() if number else None
    if order is None:
        raise Http404
    form = CollectorForm(request.POST)
    if not form.is_valid():
        for error in _form_errors(form):
            messages.error(request, error)
        return redirect(order.get_absolute_url())
    try:
        set_collector(order=order, name=form.cleaned_data["collector_name"], by=request.user)
    except OrderError as error:
        messages.error(request, str(error))
    else:
        name = " ".join(form.cleaned_data["collector_name"].split())
        if name:
            messages.success(
                request,
                gettext("%(name)s can now collect the order. Give them the pickup code.") % {"name": name},
            )
        else:
            messages.success(request, gettext("You will collect the order yourself."))
    return redirect(order.get_absolute_url())


def _order_from_link(token):
    """The order a signed order link points to; the same 404 for a bad signature and no order."""
    number = Order.number_from_token(token)
    order = Order.objects.select_related("store").filter(number=number).first() if number else None
    if order is None:
        raise Http404
    return order


@require_POST
def order_pay(request, token):
    """The shopper tries again to pay for an order awaiting payment (a new payment attempt), while
    its hold lasts; checkout.services.retry_payment says why not otherwise."""
    order = _order_from_link(token)
    try:
        payment = retry_payment(order=order, by=request.user)
    except OrderError as refused:
        messages.error(request, str(refused))
        return redirect(order.get_absolute_url())
    return redirect("payment_page", token=payment.token)


@require_http_methods(["GET", "POST"])
def order_cancel(request, token):
    """The shopper cancels their order: GET asks them to confirm, the POST (with CSRF) cancels.

    Only through the signed order link, and only until the store has the order ready
    (checkout.services.shopper_cancel_refusal says why not, on the order page)."""
    order = _order_from_link(token)
    if request.method == "POST":
        try:
            cancel_by_shopper(order=order, by=request.user)
        except OrderError as refused:
            messages.error(request, str(refused))
        else:
            messages.success(
                request,
                gettext("Order %(number)s is cancelled. The items reserved for you are back on sale.")
                % {"number": order.number},
            )
        return redirect(order.get_absolute_url())
    refusal = shopper_cancel_refusal(order)
    if refusal is not None:
        messages.error(request, refusal)
        return redirect(order.get_absolute_url())
    response = render(request, "orders/order_cancel.html", {"order": order, "store": order.store})
    patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
