"""The curbside queue: a staff page in the admin (beside the orders, in the admin's layout) that
lists the shoppers at the curb and on the way, refreshes itself, and hands an order over at the
car — which checks the pickup code (pickup) and takes the payment (payment), through
checkout.handover.

Mixed into the order admin (backoffice.admin.OrderAdmin), so its views run through the admin
site's login, staff check and CSRF protection, and are listed in the admin's index and menu.
pickup.selectors.curbside_queue reads the rows; a manager sees only the stores they manage.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import patch_cache_control
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from checkout import handover
from o2o_site.money import format_money
from orders.models import Order
from orders.services import IllegalTransition, OrderError
from payment.services import PaymentRefused
from pickup.forms import HandOverForm
from pickup.models import CurbsideState
from pickup.selectors import curbside_queue, pickup_of
from pickup.services import WrongPickupCode
from stores.admin_scoping import managed_stores

# How often the queue page asks for fresh rows (static/js/curbside-queue.js), and reloads itself
# without JavaScript.
QUEUE_POLL_SECONDS = 4
QUEUE_NOSCRIPT_REFRESH_SECONDS = 20


def _quantities(request, order) -> dict[int, int] | None:
    """Units per line from the row's quantity inputs (`line-<id>`); None when the row sent none
    (hand over everything). A value that is not a whole number raises ValueError."""
    sent = {line.pk: request.POST.get(f"line-{line.pk}") for line in order.lines.all()}
    if all(value is None for value in sent.values()):
        return None
    return {pk: int(value) if value not in (None, "") else 0 for pk, value in sent.items()}


def _no_store(response):
    patch_cache_control(response, private=True, no_store=True)
    return response


class CurbsideQueueMixin:
    """The queue's three views for a ModelAdmin of Order: the page, its rows (polled), and the
    hand-over posted from a row."""

    def curbside_queue_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "curbside/",
                self.admin_site.admin_view(self.curbside_queue_view),
                name=f"{prefix}_curbside_queue",
            ),
            path(
                "curbside/rows/",
                self.admin_site.admin_view(self.curbside_queue_rows_view),
                name=f"{prefix}_curbside_queue_rows",
            ),
            path(
                "curbside/<str:number>/hand-over/",
                self.admin_site.admin_view(self.curbside_hand_over_view),
                name=f"{prefix}_curbside_hand_over",
            ),
        ]

    def admin_pages(self, request):
        """The queue as an entry of the admin's index and menu, under the orders (read by
        o2o_site.admin_site.ShopAdminSite), for whoever may hand orders over."""
        if not self.has_change_permission(request):
            return []
        return [
            {
                "name": _("Curbside queue"),
                "object_name": "CurbsideQueue",
                "perms": {"change": True},
                "admin_url": reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_curbside_queue"),
                "add_url": None,
                "view_only": False,
            }
        ]

    def _queue_scope(self, request):
        """The stores the user manages, and the one chosen (`?store=<slug>`, or None: all)."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        stores = list(managed_stores(request).order_by("city", "name"))
        chosen = request.GET.get("store") or request.POST.get("store") or ""
        return stores, next((store for store in stores if store.slug == chosen), None)

    def _queue_url(self, name, store):
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}")
        return url + (f"?{urlencode({'store': store.slug})}" if store else "")

    def _queue_context(self, request):
        stores, store = self._queue_scope(request)
        visits = curbside_queue(user=request.user, store=store)
        return {
            "opts": self.opts,
            "stores": stores,
            "store": store,
            "arrived": [visit for visit in visits if visit.state == CurbsideState.ARRIVED],
            "on_the_way": [visit for visit in visits if visit.state == CurbsideState.ON_THE_WAY],
            "rows_url": self._queue_url("curbside_queue_rows", store),
            "poll_seconds": QUEUE_POLL_SECONDS,
            "refresh_seconds": QUEUE_NOSCRIPT_REFRESH_SECONDS,
        }

    @method_decorator(require_GET)
    def curbside_queue_view(self, request):
        context = {**self.admin_site.each_context(request), **self._queue_context(request)}
        store = context["store"]
        context["title"] = (
            gettext("Curbside queue: %(store)s") % {"store": store.name} if store else gettext("Curbside queue")
        )
        return _no_store(TemplateResponse(request, "admin/orders/order/curbside_queue.html", context))

    @method_decorator(require_GET)
    def curbside_queue_rows_view(self, request):
        """The queue's rows alone, fetched every few seconds by static/js/curbside-queue.js."""
        context = self._queue_context(request)
        return _no_store(TemplateResponse(request, "admin/orders/order/includes/curbside_rows.html", context))

    @method_decorator(require_POST)
    def curbside_hand_over_view(self, request, number):
        stores, store = self._queue_scope(request)
        order = Order.objects.filter(number=number, store__in=[s.pk for s in stores]).select_related("store").first()
        if order is None:
            raise Http404(gettext("No such order in your stores."))
        back = self._queue_url("curbside_queue", store)
        form = HandOverForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
            return redirect(back)
        try:
            handed = handover.hand_over(
                order=order,
                code=form.cleaned_data["code"],
                by=request.user,
                quantities=_quantities(request, order),
                till_receipt_number=request.POST.get("till_receipt_number", ""),
                at_curb=True,
                ip_address=request.META.get("REMOTE_ADDR"),
            )
        except ValueError:
            messages.error(
                request, gettext("Order %(number)s: type each quantity as a whole number.") % {"number": number}
            )
        except WrongPickupCode as error:
            messages.error(request, gettext("Order %(number)s: %(reason)s") % {"number": order.number, "reason": error})
        except IllegalTransition as error:
            messages.error(
                request,
                gettext("Order %(number)s is “%(status)s” and cannot be handed over.")
                % {"number": order.number, "status": error.order.get_status_display()},
            )
        except (handover.HandOverError, OrderError, PaymentRefused) as error:
            messages.error(request, gettext("Order %(number)s: %(reason)s") % {"number": order.number, "reason": error})
        else:
            messages.success(request, _curb_handed_over_message(handed))
        return redirect(back)


def _curb_handed_over_message(handed) -> str:
    order = handed.order
    message = gettext("Order %(number)s handed over to %(collector)s.") % {
        "number": order.number,
        "collector": pickup_of(order).collector,
    }
    if handed.captured is not None:
        message += " " + gettext("%(amount)s was captured from the card payment.") % {
            "amount": format_money(handed.value, order.currency)
        }
    elif handed.till is not None:
        message += " " + gettext("%(amount)s paid at the till, receipt %(receipt)s.") % {
            "amount": format_money(handed.value, order.currency),
            "receipt": handed.till.till_receipt_number,
        }
    return message
