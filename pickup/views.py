"""The shopper's curbside check-in page (signed link, no login).

Thin: pickup.curbside does the work. The staff's curbside queue is an admin page, a layer up
(backoffice.curbside_queue): handing an order over at the curb takes its payment too.
"""

from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from . import curbside
from .forms import CheckInForm, OnTheWayForm
from .models import PickupSettings
from .selectors import pickup_of


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
