"""The driver's round: a phone page in the admin listing a store's deliveries of a day (today, or
`?date=`) in driving
order (nearest next from the store, delivery.selectors.todays_round), each with its address,
phone and window and the step it can take next: packed, out for delivery, delivered, failed.

Mixed into the order admin (backoffice.admin.OrderAdmin), so its views run through the admin
site's login, staff check and CSRF protection; a manager sees and moves only their own stores'
deliveries. Delivered goes through checkout.handover, which takes the card payment at the door.
"""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from checkout import handover
from checkout.services import collect_failed_delivery_at_store
from delivery import services as delivery_services
from delivery.models import Delivery, DeliveryState, FailureReason
from delivery.selectors import PostcodeProblem, delivery_options, delivery_round
from delivery.windows import parse_window_key
from orders.services import OrderError
from payment.services import PaymentRefused
from stores.admin_scoping import managed_stores

STEPS = {
    "packed": delivery_services.mark_packed,
    "out": delivery_services.send_out,
}


class DriverRoundMixin:
    """The round's page and the step posted from one of its stops, for a ModelAdmin of Order."""

    def driver_round_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("round/", self.admin_site.admin_view(self.driver_round_view), name=f"{prefix}_driver_round"),
            path(
                "round/<str:number>/rebook/",
                self.admin_site.admin_view(self.driver_rebook_view),
                name=f"{prefix}_driver_rebook",
            ),
            path(
                "round/<str:number>/<str:step>/",
                self.admin_site.admin_view(self.driver_step_view),
                name=f"{prefix}_driver_step",
            ),
        ]

    def driver_round_pages(self, request):
        if not self.has_change_permission(request):
            return []
        return [
            {
                "name": _("Delivery round"),
                "object_name": "DeliveryRound",
                "perms": {"change": True},
                "admin_url": reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_driver_round"),
                "add_url": None,
                "view_only": False,
            }
        ]

    def _round_scope(self, request):
        """The stores the user manages, and the one whose round is shown (`?store=<slug>`, else the first)."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        stores = list(managed_stores(request).order_by("city", "name"))
        chosen = request.GET.get("store") or request.POST.get("store") or ""
        return stores, next((store for store in stores if store.slug == chosen), stores[0] if stores else None)

    def _round_url(self, store, day=None):
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_driver_round")
        query = {"store": store.slug} if store else {}
        if day:
            query["date"] = day
        return url + (f"?{urlencode(query)}" if query else "")

    @method_decorator(require_GET)
    def driver_round_view(self, request):
        return self._round_page(request)

    def _round_page(self, request, *, failed_stop=None, status=200):
        """The round; `failed_stop` ({"number", "reason", "note", "error"}) is a "Failed" form sent
        back with what was typed and the error at its field."""
        stores, store = self._round_scope(request)
        today = timezone.now().astimezone(store.zone).date() if store else timezone.now().date()
        try:
            day = datetime.date.fromisoformat(request.GET.get("date") or request.POST.get("date", ""))
        except ValueError:
            day = today
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Delivery round: %(store)s") % {"store": store.name}
            if store
            else gettext("Delivery round"),
            "stores": stores,
            "store": store,
            "stops": delivery_round(store=store, day=day) if store else [],
            "day": day,
            "is_today": day == today,
            "previous_day": (day - datetime.timedelta(days=1)).isoformat(),
            "next_day": (day + datetime.timedelta(days=1)).isoformat(),
            "failure_reasons": FailureReason.choices,
            "states": DeliveryState,
            "failed_stop": failed_stop or {},
        }
        response = TemplateResponse(request, "admin/orders/order/driver_round.html", context, status=status)
        patch_cache_control(response, private=True, no_store=True)
        return response

    def _delivery_in_scope(self, request, number):
        stores, _store = self._round_scope(request)
        delivery = (
            Delivery.objects.select_related("fulfilment__order", "store")
            .filter(fulfilment__order__number=number, store__in=[store.pk for store in stores])
            .first()
        )
        if delivery is None:
            raise Http404(gettext("No such delivery in your stores."))
        return delivery

    @method_decorator(require_http_methods(["GET", "POST"]))
    def driver_rebook_view(self, request, number):
        """A failed delivery: another window of its store for the same address (GET lists them,
        POST books the one chosen), or collected at the store instead (POST `collect`)."""
        delivery = self._delivery_in_scope(request, number)
        names = {"number": number}
        if request.method == "POST":
            try:
                if "collect" in request.POST:
                    collect_failed_delivery_at_store(delivery=delivery, by=request.user)
                    messages.success(
                        request,
                        gettext("Order %(number)s will be collected at %(store)s: mark it ready from its page.")
                        % {**names, "store": delivery.store.name},
                    )
                    return redirect(self._round_url(delivery.store))
                starts_at = parse_window_key(request.POST.get("window"))
                if starts_at is None:
                    messages.error(request, gettext("Choose one of the delivery windows listed."))
                else:
                    delivery_services.rebook_delivery(delivery=delivery, starts_at=starts_at, by=request.user)
                    messages.success(request, gettext("Order %(number)s will be delivered again.") % names)
                    return redirect(
                        self._round_url(
                            delivery.store, delivery.window_start.astimezone(delivery.store.zone).date().isoformat()
                        )
                    )
            except (
                delivery_services.IllegalDeliveryStep,
                delivery_services.DeliveryUnavailable,
                PostcodeProblem,
            ) as error:
                messages.error(request, gettext("Order %(number)s: %(reason)s") % {**names, "reason": error})
            except OrderError as error:
                messages.error(request, gettext("Order %(number)s: %(reason)s") % {**names, "reason": error})
        windows = ()
        if delivery.state == DeliveryState.FAILED:
            try:
                lookup = delivery_options(
                    postcode=delivery.postcode, country=delivery.country, store_ids=[delivery.store_id]
                )
                windows = lookup.options[0].windows if lookup.options else ()
            except PostcodeProblem as problem:
                messages.error(request, str(problem))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Deliver order %(number)s again") % names,
            "delivery": delivery,
            "order": delivery.fulfilment.order,
            "store": delivery.store,
            "windows": windows,
            "states": DeliveryState,
            "round_url": self._round_url(delivery.store),
        }
        response = TemplateResponse(request, "admin/orders/order/driver_rebook.html", context)
        patch_cache_control(response, private=True, no_store=True)
        return response

    @method_decorator(require_POST)
    def driver_step_view(self, request, number, step):
        delivery = self._delivery_in_scope(request, number)
        names = {"number": number}
        try:
            if step in STEPS:
                STEPS[step](delivery=delivery, by=request.user)
                messages.success(
                    request, gettext("Order %(number)s: %(state)s.") % {**names, "state": delivery.get_state_display()}
                )
            elif step == "delivered":
                handed = handover.hand_over_delivery(delivery=delivery, by=request.user)
                messages.success(request, gettext("Order %(number)s delivered.") % names)
                if handed.captured is not None:
                    messages.info(request, gettext("The card payment was taken."))
            elif step == "failed":
                reason = request.POST.get("reason", "")
                if reason not in FailureReason.values:
                    # Sent back with the note as typed and the error at the reason's field.
                    return self._round_page(
                        request,
                        failed_stop={
                            "number": number,
                            "note": request.POST.get("note", ""),
                            "error": gettext("Choose why it could not be delivered."),
                        },
                        status=400,
                    )
                else:
                    delivery_services.mark_failed(
                        delivery=delivery, reason=reason, by=request.user, note=request.POST.get("note", "")
                    )
                    messages.warning(
                        request,
                        gettext("Order %(number)s not delivered: %(reason)s.")
                        % {**names, "reason": FailureReason(reason).label},
                    )
            else:
                raise Http404
        except (delivery_services.IllegalDeliveryStep, handover.HandOverError, PaymentRefused) as error:
            messages.error(request, gettext("Order %(number)s: %(reason)s") % {**names, "reason": error})
        return redirect(self._round_url(delivery.store, request.POST.get("date", "")))
