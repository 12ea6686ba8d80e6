"""The shopper's returns pages, behind the order's signed link: start a return, see it (its code
and QR code to show at a store), and its return receipt. Thin: forms check, services decide."""

import segno
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods

from orders.models import Order
from stores.models import Store

from .forms import StartReturnForm
from .policy import return_window, returnable_by_line
from .receipts import return_receipt_context, return_receipts_with_lines
from .selectors import returns_with_lines
from .services import ReturnRefused, request_return


def _order_from_link(token) -> Order:
    """The order a signed link points to; the same 404 for a bad signature and no order."""
    number = Order.number_from_token(token)
    order = Order.objects.select_related("store").filter(number=number).first() if number else None
    if order is None:
        raise Http404
    return order


def _private(response):
    # The link is the key to the order: keep it out of shared caches and search engines.
    patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_http_methods(["GET", "POST"])
def start_return(request, token):
    order = _order_from_link(token)
    returnable = returnable_by_line(order=order, less_refunded=True)
    lines = [(line, returnable[line.pk]) for line in order.lines.order_by("pk") if returnable.get(line.pk)]
    form = StartReturnForm(request.POST or None, lines=lines)
    if request.method == "POST" and form.is_valid():
        try:
            order_return = request_return(
                order=order, lines=form.chosen_lines(), resolution=form.cleaned_data["resolution"], by=request.user
            )
        except ReturnRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request,
                gettext("Your return %(code)s is started. Show its code at any of our stores that take returns.")
                % {"code": order_return.code},
            )
            return redirect("returns:detail", token=order.access_token, code=order_return.code)
    window = return_window(order)
    context = {
        "order": order,
        "store": order.store,
        "form": form,
        "window": window,
        "window_open": window.last_day is not None and bool(lines) and _window_open(order),
        "stores": Store.objects.accepting_returns().order_by("city", "name"),
    }
    return _private(render(request, "returns/start.html", context, status=200 if form.is_bound is False else 200))


def _window_open(order: Order) -> bool:
    from_policy = return_window(order)
    today = order.store.local_now().date()
    return from_policy.open_on(today)


@require_GET
def return_detail(request, token, code):
    order = _order_from_link(token)
    order_return = returns_with_lines().filter(order=order, code=code).first()
    if order_return is None:
        raise Http404
    qr_code = segno.make(order_return.qr_payload, micro=False).svg_data_uri(scale=6)
    context = {
        "order": order,
        "store": order.store,
        "order_return": order_return,
        "qr_code": qr_code,
        "stores": Store.objects.accepting_returns().order_by("city", "name"),
    }
    return _private(render(request, "returns/detail.html", context))


@require_GET
def return_receipt(request, token, code):
    order = _order_from_link(token)
    receipt = return_receipts_with_lines().filter(order=order, order_return__code=code).first()
    if receipt is None:
        raise Http404
    return _private(render(request, "returns/receipt.html", {"view": return_receipt_context(receipt), "order": order}))
