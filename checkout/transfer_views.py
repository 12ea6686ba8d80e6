"""The endless aisle's "send it to this store, collect it later": one product (a size) the
shopper's store lacks, sent from the best location that has it (transfers.selectors.
transfer_sources), placed by checkout.services.place_transfer_order and paid at pickup.

GET /checkout/send-to-store/?product=<id>&quantity=<n> shows the product, where it comes from and
the day it can be collected at the shopper's store (stores.selectors.my_store: their chosen store,
or the store they are standing in); the form posts back what it showed, signed, with the page's
one-time token (a second submit finds the first one's order). Thin: the services decide.
"""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core import signing
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext, ngettext
from django.views.decorators.http import require_http_methods

from catalog.models import Product
from instore.services import attribution_of, customer_of
from orders.models import FulfilmentMethod, Order
from orders.services import AlreadyPlaced, Contact, LineSpec, OrderError
from stores.models import Store
from stores.selectors import my_store
from transfers.selectors import most_units_sendable, transfer_sources

from .forms import MAX_UNITS_PER_LINE, TransferCheckoutForm
from .services import (
    PAY_AT_PICKUP,
    CheckoutChanged,
    ConfirmedCheckout,
    ConfirmedLine,
    pickup_methods_at,
    place_transfer_order,
)
from .views import CHECKOUT_TOKENS_KEY, _forget_token, _issue_token

SHOWN_SALT = "checkout.transfer-page"


@require_http_methods(["GET", "POST"])
def transfer_checkout(request):
    destination = my_store(request)
    if destination is None:
        messages.info(request, gettext("Choose your store first: we send the item there for you to collect."))
        return redirect(reverse("stores:store_list"))
    if request.method == "POST":
        return _place(request, destination)
    product = _product(request.GET.get("product"))
    if product is None:
        messages.error(request, gettext("Sorry, this product is no longer sold."))
        return redirect("catalog:product_list")
    typed = request.GET.get("quantity", "1")
    quantity = _quantity(typed)
    form = TransferCheckoutForm(initial=_initial(request))
    quantity_error = (
        gettext("Enter a whole number of units from 1 to %(most)s.") % {"most": MAX_UNITS_PER_LINE}
        if quantity is None
        else None
    )
    return _page(
        request,
        destination=destination,
        product=product,
        quantity=quantity or 1,
        form=form,
        token=None,
        typed=typed,
        quantity_error=quantity_error,
    )


def _product(value) -> Product | None:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    # A product with sizes is never sold itself: a size is.
    return Product.objects.for_sale().filter(pk=pk, variants__isnull=True).first() if 0 < pk < 2**63 else None


def _quantity(value) -> int | None:
    """The units asked for in the page's address (?quantity=), or None when it is not a whole
    number from 1 to MAX_UNITS_PER_LINE: the page then says so, and never guesses another number."""
    try:
        quantity = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return quantity if 1 <= quantity <= MAX_UNITS_PER_LINE else None


def _initial(request):
    user = customer_of(request)
    if user is not None:
        return {"name": user.get_full_name(), "email": user.email, "phone": user.phone}
    return {}


def _page(request, *, destination, product, quantity, form, token, status=200, typed=None, quantity_error=None):
    sources = transfer_sources({product.pk: quantity}, destination=destination)
    best = sources[0] if sources else None
    if best is None and quantity_error is None and quantity > 1:
        # Fewer can be sent than were asked for: say how many, rather than "none".
        most = most_units_sendable(product.pk, destination=destination)
        if most:
            quantity_error = ngettext(
                "Only %(most)s unit can be sent to %(store)s at once.",
                "At most %(most)s units can be sent to %(store)s at once.",
                most,
            ) % {"most": most, "store": destination.name}
    unit_price = LineSpec(product=product, quantity=quantity).unit_price
    token = token or _issue_token(request)
    shown = signing.dumps(
        {
            "token": token,
            "product": product.pk,
            "quantity": quantity,
            "price": str(unit_price),
            "source": best.store.pk if best else None,
            "store": destination.pk,
        },
        salt=SHOWN_SALT,
    )
    return render(
        request,
        "orders/checkout_transfer.html",
        {
            "destination": destination,
            "product": product,
            "quantity": quantity,
            "unit_price": unit_price,
            "total": unit_price * quantity,
            "best": best,
            "form": form,
            "shown": shown,
            "typed_quantity": quantity if typed is None else typed,
            "quantity_error": quantity_error,
            "max_quantity": MAX_UNITS_PER_LINE,
        },
        status=status,
    )


def _place(request, destination):
    try:
        shown = signing.loads(request.POST.get("shown", ""), salt=SHOWN_SALT)
        unit_price = Decimal(shown["price"])
    except (signing.BadSignature, KeyError, TypeError, InvalidOperation):
        messages.error(request, gettext("Your checkout page had expired. Please check your details and try again."))
        return redirect("catalog:product_list")
    product = _product(shown["product"])
    if product is None:
        messages.error(request, gettext("Sorry, this product is no longer sold."))
        return redirect("catalog:product_list")
    token = shown["token"]
    if token not in request.session.get(CHECKOUT_TOKENS_KEY, []):
        placed = Order.objects.filter(checkout_token=token).first()
        if placed is not None:
            messages.info(request, gettext("Your order was already placed. Here it is."))
            return redirect(placed.get_absolute_url())
        token = None  # an expired page: shown again with a new token
    form = TransferCheckoutForm(request.POST)
    if token is None:
        form.is_valid()
        form.add_error(None, gettext("Your checkout page had expired. Please check your details and try again."))
    elif shown["store"] != destination.pk:
        form.is_valid()
        form.add_error(
            None, gettext("Your store changed after this page was shown. Check the order and place it again.")
        )
    elif form.is_valid():
        data = form.cleaned_data
        source = Store.objects.filter(pk=shown["source"]).first() if shown["source"] else None
        checkout = ConfirmedCheckout(
            lines=(
                ConfirmedLine(
                    product_id=product.pk, name=product.name, quantity=shown["quantity"], unit_price=unit_price
                ),
            ),
            store=destination,
            contact=Contact(name=data["name"], email=data["email"], phone=data["phone"]),
            fulfilment=FulfilmentMethod.IN_STORE,
            methods_shown=pickup_methods_at(destination),
            collector_name=data["collector_name"],
            customer=customer_of(request),
            language=get_language(),
            checkout_token=token,
            payment=PAY_AT_PICKUP,
            attribution=attribution_of(request),
        )
        try:
            order = place_transfer_order(checkout=checkout, source=source)
        except AlreadyPlaced as duplicate:
            _forget_token(request, token)
            messages.info(request, gettext("Your order was already placed. Here it is."))
            return redirect(duplicate.order.get_absolute_url())
        except CheckoutChanged as changed:
            for change in changed.changes:
                form.add_error(None, change.message)
            form.add_error(None, gettext("Check the order below and place it again."))
        except OrderError as error:
            form.add_error(None, str(error))
        else:
            _forget_token(request, token)
            messages.success(
                request,
                gettext(
                    "Thank you! Your order %(number)s is placed. We will e-mail %(email)s when it has arrived at "
                    "%(store)s and is ready for pickup."
                )
                % {"number": order.number, "email": order.contact_email, "store": destination.name},
            )
            return redirect(order.get_absolute_url())
    return _page(
        request,
        destination=destination,
        product=product,
        quantity=shown["quantity"],
        form=form,
        token=token,
        status=200,
    )
