"""Returns in the admin, scoped to the manager's stores.

- "Take a return": find the order by number (with the shopper's e-mail or phone for another
  store's order), e-mail or phone, the order's QR code or the return code; then check the units in
  at one of your stores with each unit's condition, see the refund the server computed, and
  confirm it. The confirmation carries that amount: a changed one is refused (nothing written).
- A return's page: its lines, stock movements and history; "retry the refund" for one pending at
  the provider; the decision on units held for inspection.

The found order travels to the check-in screen in a signed token: an order id typed into the URL
finds nothing, so the lookup's rules (a guessed number finds only your own stores' orders) hold.
"""

import datetime
from decimal import Decimal

from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from o2o_site.admin_money import money_display
from o2o_site.dates import format_date, format_datetime
from o2o_site.money import format_money
from orders.models import Order
from payment.services import refundable_payment
from stores.admin_scoping import managed_stores

from .forms import FindOrderForm, ReceiveReturnForm
from .models import (
    RECEIVED_STATUSES,
    ExchangeLine,
    Resolution,
    Return,
    ReturnEvent,
    ReturnLine,
    ReturnStatus,
    StockMovement,
    StoreCredit,
)
from .policy import refund_value, return_window, returnable_by_line
from .selectors import NotFound, exchange_choices, exchange_for_sale, find_for_return
from .services import ReturnRefused, decide_inspection, price_exchange, receive_return, refund_return

FOUND_SALT = "returns.found-order"
# A lookup is good for the check-in that follows it, not for ever.
FOUND_MAX_AGE = 60 * 60


def _money(model, field: str, *, order=lambda obj: obj.order):
    """A read-only amount of the admin's rows, through the money formatter in the order's currency."""

    @admin.display(description=model._meta.get_field(field).verbose_name)
    def show(self, obj):
        value = getattr(obj, field)
        return "—" if value is None else format_money(value, order(obj).currency)

    return show


def _line_order(line):
    return line.order_return.order


class ReturnLineInline(admin.TabularInline):
    model = ReturnLine
    extra = 0
    can_delete = False
    fields = (
        "order_line",
        "quantity",
        "reason",
        "reason_note",
        "amount_shown",
        "resellable",
        "damaged",
        "to_inspect",
        "inspected_resellable",
        "inspected_damaged",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    amount_shown = _money(ReturnLine, "amount", order=_line_order)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line", "order_return__order")


class ReturnEventInline(admin.TabularInline):
    model = ReturnEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "from_status", "to_status", "actor", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


def _with_units_for_sale(exchanged, *, store):
    """The exchange's lines, each with the units for sale at `store` now."""
    for_sale = exchange_for_sale(exchanged, store=store)
    return [(line, for_sale.get(line.product_id, 0)) for line in exchanged.lines] if exchanged else []


class ExchangeLineInline(admin.TabularInline):
    model = ExchangeLine
    extra = 0
    can_delete = False
    fields = ("product_name", "sku", "unit_price_shown", "quantity", "line_total_shown", "vat_rate", "vat_shown")
    readonly_fields = fields

    unit_price_shown = _money(ExchangeLine, "unit_price", order=_line_order)
    line_total_shown = _money(ExchangeLine, "line_total", order=_line_order)
    vat_shown = _money(ExchangeLine, "vat_amount", order=_line_order)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_return__order")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Return)
class ReturnAdmin(admin.ModelAdmin):
    list_display = ("code", "order", "status", "store", "refund_shown", "created_at", "received_at")
    list_filter = ("status", "resolution")
    search_fields = ("code", "order__number")
    list_select_related = ("order", "store")
    date_hierarchy = "created_at"
    inlines = (ReturnLineInline, ExchangeLineInline, ReturnEventInline)
    readonly_fields = (
        "order",
        "code",
        "status",
        "resolution",
        "store",
        "created_at",
        "received_at",
        "received_by",
        "refund_shown",
        "refunded_at",
        "exchanged_at",
        "refund",
        "till_receipt_number",
        "exchange_total_shown",
        "difference_paid_shown",
        "difference_receipt_number",
        "refund_attempts",
        "last_refund_error",
        "window_overridden_by",
        "window_override_reason",
        "window_overridden_at",
        "movements",
    )
    change_list_template = "admin/returns/return/change_list.html"
    change_form_template = "admin/returns/return/change_form.html"

    def get_queryset(self, request):
        # Taken at the manager's stores, or of orders sold by them (a return started online).
        return Return.objects.for_stores_managed_by(request.user).select_related("order", "store")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_receive_permission(self, request):
        return request.user.has_perm("returns.add_return")

    refund_shown = _money(Return, "refund_amount")
    exchange_total_shown = _money(Return, "exchange_total")
    difference_paid_shown = _money(Return, "difference_paid")

    @admin.display(description=_("Exchanged at"))
    def exchanged_at(self, obj):
        # A method's value is written with str() (UTC, microseconds, "None"): as the page's
        # other times instead, in the store's time.
        if obj.refunded_at is None:
            return "—"
        return format_datetime(obj.refunded_at, zone=obj.store.zone)

    def get_fields(self, request, obj=None):
        # An exchange with nothing to refund was settled, not refunded: its time says so.
        exchanged = obj is not None and obj.resolution == Resolution.EXCHANGE and not obj.refund_amount
        hidden = "refunded_at" if exchanged else "exchanged_at"
        return [field for field in self.readonly_fields if field != hidden]

    @admin.display(description=_("Stock movements"))
    def movements(self, obj):
        rows = (
            StockMovement.objects.filter(Q(return_line__order_return=obj) | Q(exchange_line__order_return=obj))
            .select_related("store", "product")
            .order_by("pk")
        )
        return (
            "; ".join(
                f"{row.get_kind_display()}: {row.quantity} × {row.product.name if row.product else '—'} "
                f"({row.store.name})"
                for row in rows
            )
            or "—"
        )

    @property
    def _url_prefix(self):
        return f"{self.opts.app_label}_{self.opts.model_name}"

    def get_urls(self):
        return [
            path("find/", self.admin_site.admin_view(self.find_view), name=f"{self._url_prefix}_find"),
            path(
                "receive/<str:token>/",
                self.admin_site.admin_view(self.receive_view),
                name=f"{self._url_prefix}_receive",
            ),
            path(
                "<path:object_id>/retry-refund/",
                self.admin_site.admin_view(self.retry_refund_view),
                name=f"{self._url_prefix}_retry_refund",
            ),
            path(
                "<path:object_id>/inspect/<int:line_id>/",
                self.admin_site.admin_view(self.inspect_view),
                name=f"{self._url_prefix}_inspect",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = {
            "can_retry_refund": obj is not None
            and obj.status == ReturnStatus.REFUND_PENDING
            and self.has_receive_permission(request),
            "awaiting_inspection": [line for line in obj.lines.select_related("order_line") if line.awaiting_inspection]
            if obj is not None and obj.store_id in set(managed_stores(request).values_list("pk", flat=True))
            else [],
        }
        return super().change_view(request, object_id, form_url, extra_context={**extra, **(extra_context or {})})

    def _context(self, request, **context):
        return {**self.admin_site.each_context(request), "opts": self.opts, "has_view_permission": True, **context}

    # --- take a return -------------------------------------------------------------------------

    def find_view(self, request):
        if not self.has_receive_permission(request):
            raise PermissionDenied
        form = FindOrderForm(request.POST or None)
        refusal = self._no_store_takes_returns(request)
        if not refusal and request.method == "POST" and form.is_valid():
            try:
                found = find_for_return(
                    query=form.cleaned_data["query"], contact=form.cleaned_data["contact"], user=request.user
                )
            except NotFound as not_found:
                form.add_error(None, str(not_found))
            else:
                token = signing.dumps(
                    {
                        "order": found.order.pk,
                        "return": found.order_return.pk if found.order_return else None,
                        # A second tab's confirmation after this lookup is told what was received meanwhile.
                        "since": timezone.now().isoformat(),
                    },
                    salt=FOUND_SALT,
                )
                return HttpResponseRedirect(reverse(f"admin:{self._url_prefix}_receive", args=[token]))
        return TemplateResponse(
            request,
            "admin/returns/return/find.html",
            self._context(request, title=gettext("Take a return"), form=form, refusal=refusal),
        )

    def _no_store_takes_returns(self, request) -> str:
        """Why nothing can be taken back here: none of the manager's open stores takes returns."""
        stores = managed_stores(request).filter(is_active=True).order_by("city", "name")
        if stores.filter(accepts_returns=True).exists():
            return ""
        names = [store.name for store in stores]
        if not names:
            return gettext("None of your stores is open: no return can be taken back.")
        return ngettext("%(stores)s does not take returns.", "%(stores)s do not take returns.", len(names)) % {
            "stores": ", ".join(names)
        }

    def _found(self, token):
        try:
            found = signing.loads(token, salt=FOUND_SALT, max_age=FOUND_MAX_AGE)
        except signing.BadSignature:
            raise Http404(gettext("Look the order up again.")) from None
        order = Order.objects.select_related("store").filter(pk=found["order"]).first()
        if order is None:
            raise Http404(gettext("Look the order up again."))
        requested = None
        if found.get("return"):
            requested = Return.objects.filter(pk=found["return"], order=order, status=ReturnStatus.REQUESTED).first()
        since = found.get("since")
        return order, requested, datetime.datetime.fromisoformat(since) if since else None

    def receive_view(self, request, token):
        if not self.has_receive_permission(request):
            raise PermissionDenied
        # Reached from the find step, which refuses when none of the manager's stores takes returns.
        order, requested, looked_up_at = self._found(token)
        stores = managed_stores(request).filter(is_active=True, accepts_returns=True).order_by("city", "name")
        # Units another open request claims are not offered: that request's code takes them back.
        returnable = returnable_by_line(order=order, exclude=requested, less_refunded=True)
        order_lines = list(order.lines.select_related("product").order_by("pk"))
        lines = [(line, returnable[line.pk]) for line in order_lines if returnable.get(line.pk)]
        initial_lines = {}
        if requested is not None:
            for line in requested.lines.all():
                initial_lines[line.order_line_id] = {
                    "quantity": line.quantity,
                    "reason": line.reason,
                    "note": line.reason_note,
                }
        payment = refundable_payment(order=order)
        form = ReceiveReturnForm(
            request.POST or None,
            lines=lines,
            stores=stores,
            initial_lines=initial_lines,
            initial={"resolution": requested.resolution} if requested else None,
        )
        confirm = None
        if request.method == "POST" and "confirm" in request.POST:
            taken = self._taken_back_since_lookup(request, order, looked_up_at=looked_up_at)
            if taken is not None:
                return HttpResponseRedirect(reverse(f"admin:{self._url_prefix}_change", args=[taken.pk]))
        if (
            request.method == "POST"
            and "confirm" in request.POST
            and (form.has_error("amount") or (form.is_valid() and form.confirmed_amount is None))
        ):
            # The hidden amount the confirmation showed was removed or altered in the page.
            form.add_error(None, gettext("The refund amount was changed; start again."))
        if request.method == "POST" and form.is_valid():
            chosen = form.lines_to_return()
            by_pk = {line.pk: line for line in order_lines}
            total = sum(
                (refund_value(order, by_pk[line.order_line_id], line.quantity, lines=order_lines) for line in chosen),
                Decimal(0),
            )
            if "confirm" in request.POST:
                try:
                    order_return = receive_return(
                        order=order,
                        store=form.cleaned_data["store"],
                        lines=chosen,
                        by=request.user,
                        resolution=form.cleaned_data["resolution"],
                        requested=requested,
                        override_reason=form.cleaned_data["override_reason"],
                        expected_amount=form.confirmed_amount if form.confirmed_amount is not None else Decimal(-1),
                        till_receipt_number=form.cleaned_data["till_receipt_number"],
                        exchange=form.exchange_items(),
                    )
                except ReturnRefused as refused:
                    form.add_error(None, str(refused))
                else:
                    self._tell_outcome(request, order_return)
                    return HttpResponseRedirect(reverse(f"admin:{self._url_prefix}_change", args=[order_return.pk]))
            else:
                exchanged, shown = None, total
                if form.cleaned_data["resolution"] == Resolution.EXCHANGE:
                    try:
                        exchanged = price_exchange(
                            form.exchange_items(),
                            store=form.cleaned_data["store"],
                            currency=order.currency,
                            returned=total,
                        )
                    except ReturnRefused as refused:
                        form.add_error(None, str(refused))
                    else:
                        shown = exchanged.refund - exchanged.to_pay
                if form.is_valid():
                    data = request.POST.copy()
                    data["amount"] = str(shown)
                    form = ReceiveReturnForm(data, lines=lines, stores=stores, initial_lines=initial_lines)
                    form.is_valid()
                    confirm = {
                        "total": format_money(total, order.currency),
                        "store_credit": form.cleaned_data["resolution"] == Resolution.STORE_CREDIT,
                        "exchange": exchanged,
                        "exchange_rows": _with_units_for_sale(exchanged, store=form.cleaned_data["store"]),
                    }
        window = return_window(order)
        context = self._context(
            request,
            title=gettext("Take back items of order %(number)s") % {"number": order.number},
            order=order,
            requested=requested,
            form=form,
            confirm=confirm,
            window=window,
            window_open=window.open_on(order.store.local_now().date()),
            pickup_store=order.store,
            paid_at_till=payment is not None and payment.is_till,
            refundable=format_money(payment.refundable_amount, order.currency) if payment else "",
            exchange_choices=exchange_choices([line for line, _left in lines]),
        )
        return TemplateResponse(request, "admin/returns/return/receive.html", context)

    def _taken_back_since_lookup(self, request, order, *, looked_up_at):
        """A confirmation after a return of the order was received since the lookup (another tab,
        or a colleague, confirmed first): that return, said with when and by whom, or None.
        """
        if looked_up_at is None:
            return None
        taken = (
            Return.objects.filter(order=order, status__in=RECEIVED_STATUSES, received_at__gte=looked_up_at)
            .select_related("store", "received_by")
            .order_by("-received_at")
            .first()
        )
        if taken is None:
            return None
        by = taken.received_by.get_full_name() or taken.received_by.get_username() if taken.received_by else "—"
        self.message_user(
            request,
            gettext(
                "Return %(code)s of this order was received at %(store)s on %(when)s by %(by)s since you looked "
                "it up. Check it, then look the order up again for anything else."
            )
            % {
                "code": taken.code,
                "store": taken.store.name,
                "when": format_datetime(taken.received_at, zone=taken.store.zone),
                "by": by,
            },
            messages.WARNING,
        )
        return taken

    def _tell_outcome(self, request, order_return):
        currency = order_return.order.currency
        amount = format_money(order_return.refund_amount, currency)
        if order_return.status == ReturnStatus.REFUND_PENDING:
            self.message_user(
                request,
                gettext(
                    "Return %(code)s is recorded, but the payment provider did not refund %(amount)s yet "
                    "(%(error)s). It is retried; you can also retry it here."
                )
                % {"code": order_return.code, "amount": amount, "error": order_return.last_refund_error},
                messages.WARNING,
            )
            return
        credit = getattr(order_return, "store_credit", None)
        if credit is not None:
            message = gettext(
                "Return %(code)s is recorded and %(amount)s issued as store credit: code %(credit)s, valid until "
                "%(until)s."
            ) % {
                "code": order_return.code,
                "amount": amount,
                "credit": credit.code,
                "until": format_date(credit.expires_at, zone=order_return.store.zone),
            }
        elif order_return.resolution != Resolution.EXCHANGE:
            message = gettext("Return %(code)s is recorded and %(amount)s refunded.") % {
                "code": order_return.code,
                "amount": amount,
            }
        elif order_return.difference_paid:
            message = gettext("Exchange %(code)s is recorded: %(amount)s paid at the till, receipt %(receipt)s.") % {
                "code": order_return.code,
                "amount": format_money(order_return.difference_paid, currency),
                "receipt": order_return.difference_receipt_number,
            }
        elif order_return.refund_amount:
            message = gettext("Exchange %(code)s is recorded and %(amount)s refunded.") % {
                "code": order_return.code,
                "amount": amount,
            }
        else:
            message = gettext("Exchange %(code)s is recorded: nothing to pay or refund.") % {"code": order_return.code}
        self.message_user(request, message, messages.SUCCESS)

    @method_decorator(require_POST)
    def retry_refund_view(self, request, object_id):
        order_return = self.get_object(request, object_id)
        if order_return is None:
            raise Http404(gettext("No such return in your stores."))
        if not self.has_receive_permission(request):
            raise PermissionDenied
        self._tell_outcome(request, refund_return(order_return=order_return, by=request.user))
        return HttpResponseRedirect(reverse(f"admin:{self._url_prefix}_change", args=[order_return.pk]))

    @method_decorator(require_POST)
    def inspect_view(self, request, object_id, line_id):
        order_return = self.get_object(request, object_id)
        if order_return is None:
            raise Http404(gettext("No such return in your stores."))
        if not self.has_receive_permission(request):
            raise PermissionDenied
        line = ReturnLine.objects.filter(pk=line_id, order_return=order_return).first()
        if line is None:
            raise Http404(gettext("No such return in your stores."))
        try:
            resellable = int(request.POST.get("resellable") or 0)
            damaged = int(request.POST.get("damaged") or 0)
            decide_inspection(return_line=line, resellable=resellable, damaged=damaged, by=request.user)
        except (ValueError, ReturnRefused) as refused:
            message = str(refused) if isinstance(refused, ReturnRefused) else gettext("Give whole numbers of units.")
            self.message_user(request, message, messages.ERROR)
        else:
            self.message_user(request, gettext("The inspected units are recorded."), messages.SUCCESS)
        return HttpResponseRedirect(reverse(f"admin:{self._url_prefix}_change", args=[order_return.pk]))


@admin.register(StoreCredit)
class StoreCreditAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        money_display(StoreCredit, "amount", currency_field="currency"),
        "issued_at",
        "expires_at",
        "order_return",
    )
    search_fields = ("code", "order_return__code", "order_return__order__number")
    list_select_related = ("order_return",)
    readonly_fields = (
        "code",
        "order_return",
        money_display(StoreCredit, "amount", currency_field="currency"),
        "issued_at",
        "expires_at",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        returns = Return.objects.for_stores_managed_by(request.user).values("pk")
        return super().get_queryset(request).filter(order_return__in=returns)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
