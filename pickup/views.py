"""Curbside pages: the shopper's check-in page (signed link, no login) and the staff queue.

Thin: pickup.curbside does the work, pickup.selectors reads the queue. Handing an order over at
the curb takes its payment too, so that view composes pickup and payment a layer up
(backoffice.views.curb_hand_over).
"""

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods

from stores.models import Store

from . import curbside
from .forms import CheckInForm, OnTheWayForm
from .models import PickupSettings
from .selectors import curbside_queue, pickup_of

# How often the queue page asks for fresh rows (JavaScript), and reloads itself without it.
QUEUE_POLL_SECONDS = 4
QUEUE_NOSCRIPT_REFRESH_SECONDS = 20


def _private(response):
    # The link is the key to the order: keep the page out of shared caches and search engines.
    patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _refused(request, *, reason, status):
    return _private(render(request, "pickup/check_in_refused.html", {"reason": reason}, status=status))


@require_http_methods(["GET", "POST"])
def check_in(request, number, signature):
    try:
        order = curbside.order_for_check_in(number=number, signature=signature)
    except curbside.CheckInLinkInvalid:
        return _refused(request, reason="invalid", status=404)
    except curbside.CheckInLinkExpired:
        return _refused(request, reason="expired", status=410)

    rules = PickupSettings.for_store(order.store)
    pickup = pickup_of(order)
    visit = curbside.visit_of(order)
    on_the_way_form = OnTheWayForm()
    check_in_form = CheckInForm(
        bays=rules.curbside_bays,
        initial={"vehicle": (visit.vehicle if visit else "") or pickup.vehicle_description, "bay": visit and visit.bay},
    )
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "on_the_way":
                on_the_way_form = OnTheWayForm(request.POST)
                if on_the_way_form.is_valid():
                    curbside.announce_on_the_way(order=order, eta_minutes=on_the_way_form.cleaned_data["eta_minutes"])
                    messages.success(request, gettext("Thank you! The store knows you are on your way."))
                    return redirect(request.path)
            elif action == "arrived":
                check_in_form = CheckInForm(request.POST, bays=rules.curbside_bays)
                if check_in_form.is_valid():
                    curbside.check_in(
                        order=order,
                        bay=check_in_form.cleaned_data.get("bay"),
                        vehicle=check_in_form.cleaned_data["vehicle"],
                    )
                    messages.success(request, gettext("You are checked in. Stay in your car: we are on our way out."))
                    return redirect(request.path)
            else:
                return HttpResponseBadRequest(gettext("Choose “On my way” or “I'm here”."))
        except curbside.CheckInRefused as refused:
            messages.error(request, str(refused))
            return redirect(request.path)
        order.refresh_from_db()

    return _private(
        render(
            request,
            "pickup/check_in.html",
            {
                "order": order,
                "pickup": pickup,
                "fulfilment": pickup.fulfilment,
                "store": order.store,
                "rules": rules,
                "visit": curbside.visit_of(order),
                "step": curbside.curbside_step(order),
                "on_the_way_form": on_the_way_form,
                "check_in_form": check_in_form,
            },
        )
    )


def queue_scope(request):
    if not request.user.has_perm("orders.change_order"):
        raise PermissionDenied
    stores = list(Store.objects.managed_by(request.user).order_by("city", "name"))
    chosen = request.GET.get("store") or request.POST.get("store") or ""
    store = next((store for store in stores if store.slug == chosen), None)
    return stores, store


def _queue_context(request):
    stores, store = queue_scope(request)
    visits = curbside_queue(user=request.user, store=store)
    return {
        "stores": stores,
        "store": store,
        "arrived": [visit for visit in visits if visit.state == "arrived"],
        "on_the_way": [visit for visit in visits if visit.state == "on_the_way"],
        "rows_url": reverse("pickup:queue_rows") + (f"?{urlencode({'store': store.slug})}" if store else ""),
        "poll_seconds": QUEUE_POLL_SECONDS,
        "refresh_seconds": QUEUE_NOSCRIPT_REFRESH_SECONDS,
    }


@staff_member_required
@require_GET
def queue(request):
    response = render(request, "pickup/queue.html", _queue_context(request))
    patch_cache_control(response, private=True, no_store=True)
    return response


@staff_member_required
@require_GET
def queue_rows(request):
    """The queue's rows alone, fetched every few seconds by static/js/curbside-queue.js."""
    response = render(request, "pickup/includes/queue_rows.html", _queue_context(request))
    patch_cache_control(response, private=True, no_store=True)
    return response
