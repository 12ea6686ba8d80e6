"""The admin screens that compose several apps: orders with their pickup actions, stores with
their pickup settings. The apps below register their own single-app screens; what needs pickup
(or, later, delivery) beside an order or a store is put together here, at the top of the layers.

Orders in the admin: what store staff use at the counter.

Nothing here changes an order directly. Orders are placed by shoppers and move only through the
services (mark ready, cancel, collect), each of which checks the transition table and writes the
event row; the change page is a read-only record with the lines, the notifications and the
timeline. Every list, action and view is scoped to the stores the user manages.
"""

from decimal import Decimal

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import IntegerField, OuterRef, Subquery, Sum
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from checkout import handover
from delivery.models import Delivery
from o2o_site import dates
from o2o_site.admin_money import money_display
from o2o_site.money import format_money
from o2o_site.vat import format_rate
from orders import services as order_services
from orders.models import (
    CancelReason,
    Fulfilment,
    FulfilmentMethod,
    FulfilmentStatus,
    Notification,
    NotificationKind,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
)
from orders.notifications import outbox
from orders.selectors import order_parts, readiness_of, units_on_the_way
from payment.history import payment_history
from payment.selectors import authorisation_expiry_of, with_authorisation_expiring
from payment.services import (
    PaymentRefused,
    RefundRefused,
    refund_order,
    refundable_payment,
    refunded_by_line,
    units_given_back_otherwise,
)
from pickup import services as pickup_services
from pickup.admin import PickupSettingsInline
from pickup.models import Pickup
from pickup.selectors import pickup_of
from shipping.admin import ShipmentForm
from shipping.models import Shipment
from stores.admin import StoreAdmin
from stores.admin_scoping import ManagedStoreListFilter, StoreScopedAdminMixin, shared_time_zone
from stores.models import Store
from stores.services import StockError

from .admin_filters import AuthorisationExpiringListFilter, PickupSlotListFilter
from .admin_forms import CancelOrderForm, CollectOrderForm, MarkLinesReadyForm, RefundForm
from .curbside_queue import CurbsideQueueMixin
from .driver_round import DriverRoundMixin


class ReadOnlyInline(admin.TabularInline):
    """A record, not a form: rows are written by the services only."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ("product_name", "sku", "unit_price_display", "quantity", "line_total_display", "vat_display")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order")

    @admin.display(description=_("VAT"))
    def vat_display(self, line):
        return f"{format_money(line.vat_amount, line.order.currency)} ({format_rate(line.vat_rate)})"

    @admin.display(description=_("unit price"))
    def unit_price_display(self, line):
        return format_money(line.unit_price, line.order.currency)

    @admin.display(description=_("line total"))
    def line_total_display(self, line):
        return format_money(line.line_total, line.order.currency)


class NotificationInline(ReadOnlyInline):
    model = Notification
    fields = ("kind", "status", "recipient", "attempts", "created_at", "sent_at", "last_error")
    readonly_fields = fields

    def get_queryset(self, request):
        # The row's title (Notification.__str__) names the order.
        return super().get_queryset(request).select_related("order")


class FulfilmentInline(ReadOnlyInline):
    """How the order reaches the shopper: each fulfilment with its method, stock and own status."""

    model = Fulfilment
    fields = ("method", "stock_location", "status", "created_at", "fulfilled_at", "fulfilled_by")
    readonly_fields = fields

    def get_queryset(self, request):
        # The row's title (Fulfilment.__str__) names the order.
        return super().get_queryset(request).select_related("order", "stock_location", "fulfilled_by")


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    verbose_name = _("status change")
    verbose_name_plural = _("timeline")
    fields = ("created_at", "actor", "kind", "from_status", "to_status", "note")
    readonly_fields = fields

    def get_queryset(self, request):
        # The row's title (OrderEvent.__str__) names the order.
        return super().get_queryset(request).select_related("actor", "order")


def _item_count():
    # Goods only: a delivery or shipping fee is a line without a product, not an item.
    units = (
        OrderLine.objects.filter(order=OuterRef("pk"), product__isnull=False)
        .values("order")
        .annotate(units=Sum("quantity"))
    )
    return Subquery(units.values("units"), output_field=IntegerField())


def _of_pickup(field):
    """A column of the order's (first) pickup, for the list: in the page's one query."""
    return Subquery(Pickup.objects.filter(fulfilment__order=OuterRef("pk")).order_by("pk").values(field)[:1])


@admin.register(Order)
class OrderAdmin(CurbsideQueueMixin, DriverRoundMixin, StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "created_display",
        "store",
        "pickup_slot_display",
        "method_display",
        "contact_name",
        "collector_display",
        "status",
        "total_display",
        "items",
    )
    list_filter = (
        "status",
        AuthorisationExpiringListFilter,
        PickupSlotListFilter,
        "fulfilments__method",
        ("store", ManagedStoreListFilter),
        "created_at",
    )
    search_fields = ("number", "contact_name", "contact_email", "fulfilments__pickup__collector_name")
    list_select_related = ("store",)
    date_hierarchy = "created_at"
    list_per_page = 100
    list_max_show_all = 500
    actions = ("mark_ready_for_pickup", "cancel_orders", "collect", "reset_pickup_code_lock")
    # The shopper's page shows the pickup code; staff must get the code from the shopper.
    view_on_site = False
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "number",
                    "status",
                    "cancel_reason",
                    "channel",
                    "store",
                    "created_at",
                    "total_display",
                    "items",
                )
            },
        ),
        (_("Shopper"), {"fields": ("contact_name", "contact_email", "contact_phone", "customer", "language")}),
        (
            _("Pickup"),
            {"fields": ("method_display", "pickup_slot_display", "collector_display", "vehicle", "curbside")},
        ),
        (_("Hand-over"), {"fields": ("fulfilled_at", "fulfilled_by")}),
        (_("Payment"), {"fields": ("payment_history_display",)}),
    )
    readonly_fields = (
        "number",
        "status",
        "cancel_reason",
        "channel",
        "store",
        "created_at",
        "total_display",
        "items",
        "contact_name",
        "contact_email",
        "contact_phone",
        "customer",
        "language",
        "fulfilled_at",
        "fulfilled_by",
        "method_display",
        "pickup_slot_display",
        "collector_display",
        "vehicle",
        "curbside",
        "payment_history_display",
    )
    inlines = (OrderLineInline, FulfilmentInline, NotificationInline, OrderEventInline)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                item_count=_item_count(),
                pickup_slot_start=_of_pickup("slot_start"),
                pickup_slot_end=_of_pickup("slot_end"),
                pickup_method=_of_pickup("fulfilment__method"),
                pickup_collector_name=_of_pickup("collector_name"),
                delivery_window_start=Subquery(
                    Delivery.objects.filter(fulfilment__order=OuterRef("pk")).order_by("pk").values("window_start")[:1]
                ),
            )
        )

    def has_add_permission(self, request):
        return False  # orders come from the checkout

    @admin.display(description=_("placed at"), ordering="created_at")
    def created_display(self, order):
        """In the order's store's time, whichever stores the list spans."""
        return dates.format_datetime(order.created_at, zone=order.store.zone)

    @admin.display(description=_("pickup slot"), ordering="pickup_slot_start")
    def pickup_slot_display(self, order):
        """In the store's own time: what must be ready by when."""
        if order.pickup_slot_start is None:
            return "—"
        return _slot_text(order.pickup_slot_start, order.pickup_slot_end, zone=order.store.zone)

    # A list spanning stores in several time zones (a superuser's): each row's store time says
    # its zone, or an Oslo order placed at 13:18 reads as an hour after a Reykjavík one at 12:18.

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        if shared_time_zone(request) is not None:
            return shown
        zoned = {"created_display": "created_zoned_display", "pickup_slot_display": "pickup_slot_zoned_display"}
        return tuple(zoned.get(column, column) for column in shown)

    @admin.display(description=_("placed at"), ordering="created_at")
    def created_zoned_display(self, order):
        zone = order.store.zone
        return f"{dates.format_datetime(order.created_at, zone=zone)} {order.created_at.astimezone(zone).tzname()}"

    @admin.display(description=_("pickup slot"), ordering="pickup_slot_start")
    def pickup_slot_zoned_display(self, order):
        if order.pickup_slot_start is None:
            return "—"
        zone = order.store.zone
        slot = _slot_text(order.pickup_slot_start, order.pickup_slot_end, zone=zone)
        return f"{slot} {order.pickup_slot_start.astimezone(zone).tzname()}"

    @admin.display(description=_("pickup method"), ordering="pickup_method")
    def method_display(self, order):
        return FulfilmentMethod(order.pickup_method).label if order.pickup_method else "—"

    @admin.display(description=_("collected by (name)"), ordering="pickup_collector_name")
    def collector_display(self, order):
        return order.pickup_collector_name or ""

    # The change page shows one order: its pickup is read once (and kept on the instance).

    def _pickup(self, order):
        if not hasattr(order, "_admin_pickup"):
            order._admin_pickup = pickup_of(order)
        return order._admin_pickup

    @admin.display(description=_("vehicle"))
    def vehicle(self, order):
        pickup = self._pickup(order)
        return pickup.vehicle_description if pickup is not None else ""

    # The admin writes a method's value on the change page with str(): "None", or a datetime
    # in UTC with its microseconds. These say "—" until there is something, and the time as the
    # page's other times are written, in the store's time.

    @admin.display(description=_("collected at"))
    def fulfilled_at(self, order):
        pickup = self._pickup(order)
        at = pickup.fulfilment.fulfilled_at if pickup is not None else None
        return dates.format_datetime(at, zone=order.store.zone) if at is not None else "—"

    @admin.display(description=_("handed over by"))
    def fulfilled_by(self, order):
        pickup = self._pickup(order)
        by = pickup.fulfilment.fulfilled_by if pickup is not None else None
        return str(by) if by is not None else "—"

    @admin.display(description=_("curbside"))
    def curbside(self, order):
        pickup = self._pickup(order)
        visit = (
            getattr(pickup.fulfilment, "curbside_visit", None) if pickup is not None and pickup.is_curbside else None
        )
        if visit is None:
            return "—"
        parts = [visit.get_state_display()]
        if visit.bay:
            parts.append(gettext("bay %(bay)s") % {"bay": visit.bay})
        if visit.vehicle:
            parts.append(visit.vehicle)
        if visit.wait_seconds is not None:
            parts.append(gettext("waited %(minutes)s min") % {"minutes": round(visit.wait_seconds / 60)})
        return ", ".join(parts)

    @admin.display(description=_("payment history"))
    def payment_history_display(self, order):
        """Every change of the order's payments: authorised, captured, released, refunded, paid at
        the till, failed captures; with who and the provider's or till's reference."""
        entries = payment_history(order, for_staff=True)
        if not entries:
            return gettext("No payment yet: paid at pickup, at the till.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    dates.format_datetime(entry.created_at, zone=order.store.zone),
                    entry.text,
                    entry.event.actor or entry.event.get_source_display(),
                    entry.event.provider_reference,
                )
                for entry in entries
            ),
        )
        return format_html(
            '<table data-testid="admin-payment-history"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>'
            "</tr></thead><tbody>{}</tbody></table>",
            gettext("at"),
            gettext("what"),
            gettext("by"),
            gettext("reference"),
            rows,
        )

    def has_delete_permission(self, request, obj=None):
        return False  # an order with reserved stock is cancelled, never deleted

    def save_model(self, request, obj, form, change):
        pass  # nothing is editable; orders change only through the actions

    def save_related(self, request, form, formsets, change):
        pass

    @admin.display(description=_("total"), ordering="total")
    def total_display(self, order):
        return format_money(order.total, order.currency)

    @admin.display(description=_("items"), ordering="item_count")
    def items(self, order):
        return order.item_count or 0

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            self._warn_of_expiring_authorisations(request)
        return super().changelist_view(request, extra_context)

    def _warn_of_expiring_authorisations(self, request):
        """A banner over the order list: the manager's orders (get_queryset scopes them) whose
        payment authorisation runs out within 24 hours. One query."""
        count = with_authorisation_expiring(self.get_queryset(request)).count()
        if count:
            self.message_user(
                request,
                ngettext(
                    "%(count)d order paid online has a payment authorisation that expires within 24 hours: "
                    "hand it over before then, or the shopper must pay again. Filter “Payment authorisation” "
                    "lists it.",
                    "%(count)d orders paid online have payment authorisations that expire within 24 hours: "
                    "hand them over before then, or the shoppers must pay again. Filter “Payment authorisation” "
                    "lists them.",
                    count,
                )
                % {"count": count},
                messages.WARNING,
            )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Only the manager's own orders (get_queryset): a message about another store's order
        # would show on their next page.
        order = None
        if request.method == "GET" and str(object_id).isdigit():
            mine = self.get_queryset(request).filter(pk=int(object_id)).select_related("store")
            order = with_authorisation_expiring(mine).first()
        if order is not None:
            expires = authorisation_expiry_of(order)
            self.message_user(
                request,
                gettext(
                    "The payment authorisation of this order expires at %(when)s (store time): hand the "
                    "order over before then, or the shopper must pay again."
                )
                % {"when": dates.format_datetime(expires, zone=order.store.zone)},
                messages.WARNING,
            )
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_collect"] = obj is not None and can_be_collected(obj)
        context["can_refund"] = (
            obj is not None and self.has_refund_permission(request) and refundable_payment(order=obj) is not None
        )
        if obj is not None and self.has_change_permission(request, obj):
            context.update(self._next_steps(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _next_steps(self, request, order):
        """The buttons for the order's next step on its page: only those the transition table
        allows from its status (Order.can_move_to). Each posts to its own view below, which
        checks again under the order's lock (the services)."""
        # Delivered to the door: a delivery, and not a failed one collected at the store since.
        delivered_at_door = (
            getattr(order, "delivery_window_start", None) is not None and getattr(order, "pickup_method", None) is None
        )
        # Neither a pickup nor a delivery: shipped from a warehouse (its tracking number is typed
        # on its shipment, admin: Shipments).
        shipped = getattr(order, "pickup_method", None) is None and not delivered_at_door
        # A split order: each part with its status (the page lists them); the steps below concern
        # its pickup part only, the other part goes by the driver's round or the shipments.
        parts = order_parts(order)
        pickup_part = next((part.fulfilment for part in parts if part.fulfilment.is_pickup), None)
        # Units a transfer is still bringing: nothing of them can be put aside yet.
        on_the_way = (
            order.status == OrderStatus.PLACED
            and not shipped
            and not delivered_at_door
            and any(units_on_the_way([f.pk for f in order.fulfilments.all() if f.is_pickup]).values())
        )
        steps = {
            "parts": parts,
            "on_the_way": on_the_way,
            # A delivery is packed and sent out from the driver's round, not made ready for pickup.
            "can_mark_ready": not delivered_at_door
            and not on_the_way
            and not shipped
            and order.can_move_to(OrderStatus.READY_FOR_PICKUP)
            and (not parts or (pickup_part is not None and pickup_part.status == FulfilmentStatus.PENDING)),
            "can_cancel": order.can_move_to(OrderStatus.CANCELLED),
            "cancel_form": CancelOrderForm(auto_id="cancel_%s"),
        }
        if order.status == OrderStatus.PLACED and not shipped and not delivered_at_door:
            readiness = _readiness(order)
            waiting = [line for line in order.lines.all() if line.pk not in readiness.ready_line_ids]
            if parts:
                waiting = [
                    line for line in waiting if pickup_part is not None and _carried_by(pickup_part, line, parts)
                ]
            steps["readiness"] = readiness
            if waiting and readiness.total and not on_the_way:
                steps["mark_lines_form"] = MarkLinesReadyForm(waiting=waiting, auto_id="ready_%s")
        if collects := can_be_collected(order):
            locked = pickup_services.pickup_lock_reason(order=order, user=request.user)
            settlement = handover.settlement_for(order)
            form = CollectOrderForm(
                auto_id="handover_%s",
                offers_till=settlement.offers_till,
                needs_till_receipt=settlement.needs_till_receipt,
            )
            form.fields["code"].widget.attrs.pop("autofocus", None)  # the page is read first
            steps.update(
                hand_over_form=form,
                hand_over_locked=locked,
                can_reset_lock=bool(locked) and self._may_reset_lock(request, order),
                settlement=settlement,
            )
        if delivered_at_door and order.status in (OrderStatus.PLACED, OrderStatus.OUT_FOR_DELIVERY):
            day = order.delivery_window_start.astimezone(order.store.zone).date()
            steps["delivery_round_url"] = self._round_url(order.store, day.isoformat())
        steps["has_next_step"] = (
            steps["can_mark_ready"] or steps["can_cancel"] or collects or "delivery_round_url" in steps
        )
        return steps

    # Actions: each order goes through its own service call, so one order that cannot move
    # (say, it was cancelled meanwhile) is reported and the others still go through.

    @admin.action(description=_("Mark ready for pickup"), permissions=["change"])
    def mark_ready_for_pickup(self, request, queryset):
        done = self._for_each_order(
            request,
            queryset,
            lambda order: pickup_services.mark_ready_for_pickup(order=order, by=request.user),
            refused=_("Order %(number)s was not marked ready for pickup: it is “%(status)s”."),
        )
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d order is ready for pickup; the shopper will get an e-mail.",
                    "%(count)d orders are ready for pickup; the shoppers will get an e-mail.",
                    done,
                )
                % {"count": done},
                messages.SUCCESS,
            )
        waiting = outbox.waiting_for_the_broker(orders=queryset, kind=NotificationKind.READY_FOR_PICKUP)
        if waiting:
            self.message_user(
                request,
                ngettext(
                    "The e-mail is queued: the mail queue cannot be reached right now, and the e-mail goes out "
                    "as soon as it is back.",
                    "The %(count)d e-mails are queued: the mail queue cannot be reached right now, and they go "
                    "out as soon as it is back.",
                    waiting,
                )
                % {"count": waiting},
                messages.WARNING,
            )

    @admin.action(description=_("Cancel (releases stock)"), permissions=["change"])
    def cancel_orders(self, request, queryset):
        if request.POST.get("confirm") != "yes":
            # Cancelling cannot be undone: ask first, like Django's own "delete selected".
            context = {
                **self.admin_site.each_context(request),
                "title": gettext("Cancel orders?"),
                "opts": self.opts,
                "orders": queryset.select_related("store").order_by("pk"),
                "action_name": "cancel_orders",
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/orders/order/cancel_confirmation.html", context)
        done = self._for_each_order(
            request,
            queryset,
            lambda order: order_services.cancel_order(order=order, reason=CancelReason.STORE, by=request.user),
            refused=_("Order %(number)s was not cancelled: it is “%(status)s”."),
        )
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d order cancelled; its units are back on sale.",
                    "%(count)d orders cancelled; their units are back on sale.",
                    done,
                )
                % {"count": done},
                messages.SUCCESS,
            )
        return None

    @admin.action(description=_("Collect (asks for the pickup code)"), permissions=["change"])
    def collect(self, request, queryset):
        chosen = list(queryset.order_by("pk")[:2])
        if len(chosen) != 1:
            self.message_user(
                request,
                gettext("Select exactly one order to collect: each hand-over checks that order's pickup code."),
                messages.WARNING,
            )
            return None
        return HttpResponseRedirect(reverse(f"admin:{self._url_prefix}_collect", args=[chosen[0].pk]))

    def has_reset_pickup_lock_permission(self, request):
        return request.user.is_superuser or request.user.has_perm("pickup.reset_pickup_code_lock")

    @admin.action(description=_("Reset pickup-code lock"), permissions=["reset_pickup_lock"])
    def reset_pickup_code_lock(self, request, queryset):
        cleared = 0
        for order in queryset.select_related("store").order_by("pk"):
            try:
                cleared += bool(pickup_services.reset_pickup_code_lock(order=order, by=request.user))
            except PermissionDenied as error:
                self.message_user(request, str(error), messages.ERROR)
        self.message_user(
            request,
            ngettext(
                "%(count)d order can be handed over again.",
                "%(count)d orders can be handed over again.",
                cleared,
            )
            % {"count": cleared},
            messages.SUCCESS,
        )

    def _for_each_order(self, request, queryset, change, *, refused):
        done = 0
        for order in queryset.select_related("store").order_by("pk"):
            try:
                change(order)
            except order_services.IllegalTransition as error:
                status = OrderStatus(error.order.status).label
                self.message_user(request, refused % {"number": order.number, "status": status}, messages.WARNING)
            except (StockError, order_services.OrderError) as error:
                self.message_user(
                    request,
                    gettext("Order %(number)s was not changed: %(reason)s") % {"number": order.number, "reason": error},
                    messages.ERROR,
                )
            else:
                done += 1
        return done

    # The collect screen: one order, the shopper's code, then the hand-over.

    @property
    def _url_prefix(self):
        return f"{self.opts.app_label}_{self.opts.model_name}"

    def admin_pages(self, request):
        """The curbside queue and the delivery round, as entries under the orders."""
        return [*super().admin_pages(request), *self.driver_round_pages(request)]

    def get_urls(self):
        return [
            *self.curbside_queue_urls(),
            *self.driver_round_urls(),
            path(
                "<path:object_id>/collect/",
                self.admin_site.admin_view(self.collect_view),
                name=f"{self._url_prefix}_collect",
            ),
            path(
                "<path:object_id>/mark-ready/",
                self.admin_site.admin_view(self.mark_ready_view),
                name=f"{self._url_prefix}_mark_ready",
            ),
            path(
                "<path:object_id>/mark-lines-ready/",
                self.admin_site.admin_view(self.mark_lines_ready_view),
                name=f"{self._url_prefix}_mark_lines_ready",
            ),
            path(
                "<path:object_id>/cancel/",
                self.admin_site.admin_view(self.cancel_view),
                name=f"{self._url_prefix}_cancel",
            ),
            path(
                "<path:object_id>/reset-pickup-lock/",
                self.admin_site.admin_view(self.reset_lock_view),
                name=f"{self._url_prefix}_reset_pickup_lock",
            ),
            path(
                "<path:object_id>/refund/",
                self.admin_site.admin_view(self.refund_view),
                name=f"{self._url_prefix}_refund",
            ),
            *super().get_urls(),
        ]

    def _order_to_change(self, request, object_id):
        """The order a next-step view acts on: one of the user's stores' (get_queryset), or 404;
        a crafted POST for another store's order finds nothing to change."""
        order = self.get_object(request, unquote(object_id))
        if order is None:
            raise Http404(gettext("No such order in your stores."))
        if not self.has_change_permission(request, order):
            raise PermissionDenied
        return order

    def _back_to(self, order):
        return HttpResponseRedirect(reverse(f"admin:{self._url_prefix}_change", args=[order.pk]))

    @method_decorator(require_POST)
    def mark_ready_view(self, request, object_id):
        """The order page's "Mark ready" button."""
        order = self._order_to_change(request, object_id)
        try:
            pickup_services.mark_ready_for_pickup(order=order, by=request.user)
        except order_services.IllegalTransition as error:
            self.message_user(
                request,
                gettext("Order %(number)s was not marked ready for pickup: it is “%(status)s”.")
                % {"number": order.number, "status": OrderStatus(error.order.status).label},
                messages.WARNING,
            )
            return self._back_to(order)
        except order_services.OrderError as error:  # its items are still on their way (a transfer)
            self.message_user(request, str(error), messages.WARNING)
            return self._back_to(order)
        self.message_user(
            request,
            gettext("Order %(number)s is ready for pickup; the shopper will get an e-mail.") % {"number": order.number},
            messages.SUCCESS,
        )
        if outbox.waiting_for_the_broker(
            orders=Order.objects.filter(pk=order.pk), kind=NotificationKind.READY_FOR_PICKUP
        ):
            self.message_user(
                request,
                gettext(
                    "The e-mail is queued: the mail queue cannot be reached right now, and the e-mail goes out "
                    "as soon as it is back."
                ),
                messages.WARNING,
            )
        return self._back_to(order)

    def mark_lines_ready_view(self, request, object_id):
        """The order page's "Mark these items ready" form (a box per line still waiting), or this
        page alone when what was sent needs correcting. pickup.services.mark_lines_ready decides,
        under the order's lock: the shopper's "2 of 3 items are ready", or the whole order ready."""
        order = self._order_to_change(request, object_id)
        readiness = readiness_of(order)
        waiting = [line for line in order.lines.all() if line.pk not in readiness.ready_line_ids]
        form = MarkLinesReadyForm(request.POST if request.method == "POST" else None, waiting=waiting)
        if request.method == "POST" and form.is_valid():
            try:
                now = pickup_services.mark_lines_ready(
                    order=order, order_line_ids=form.cleaned_data["lines"], by=request.user
                )
            except order_services.IllegalTransition as error:
                self.message_user(
                    request,
                    gettext("Order %(number)s is “%(status)s”: its items can no longer be marked ready.")
                    % {"number": order.number, "status": OrderStatus(error.order.status).label},
                    messages.WARNING,
                )
            except order_services.OrderError as error:
                form.add_error(None, str(error))
            else:
                if now.complete:
                    message = gettext("Order %(number)s is ready for pickup; the shopper will get an e-mail.")
                else:
                    message = gettext(
                        "%(ready)s of %(total)s items of order %(number)s are ready; the shopper will get an e-mail "
                        "and may collect them now."
                    )
                self.message_user(
                    request,
                    message % {"number": order.number, "ready": now.ready, "total": now.total},
                    messages.SUCCESS,
                )
                return self._back_to(order)
            if not form.errors:
                return self._back_to(order)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Mark items of order %(number)s ready") % {"number": order.number},
            "opts": self.opts,
            "original": order,
            "order": order,
            "form": form,
            "can_mark": order.status == OrderStatus.PLACED and bool(waiting),
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/orders/order/mark_lines_ready.html", context)

    def cancel_view(self, request, object_id):
        """The order page's "Cancel" form (a reason, a note), or this page alone when what was
        sent needs correcting. The cancellation is orders.services.cancel_order's: stock back on
        sale, the shopper's e-mail, and the payment released or refunded (order_cancelled)."""
        order = self._order_to_change(request, object_id)
        form = CancelOrderForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            note = form.cleaned_data["note"]
            try:
                order_services.cancel_order(
                    order=order, reason=CancelReason(form.cleaned_data["reason"]), by=request.user, note=note
                )
            except order_services.IllegalTransition as error:
                self.message_user(
                    request,
                    gettext("Order %(number)s was not cancelled: it is “%(status)s”.")
                    % {"number": order.number, "status": OrderStatus(error.order.status).label},
                    messages.WARNING,
                )
            except StockError as error:
                self.message_user(
                    request,
                    gettext("Order %(number)s was not changed: %(reason)s") % {"number": order.number, "reason": error},
                    messages.ERROR,
                )
            else:
                message = gettext("Order %(number)s cancelled; its units are back on sale.") % {"number": order.number}
                if order.is_paid_online:
                    message += " " + gettext("What the shopper paid online is released or refunded.")
                self.message_user(request, message, messages.SUCCESS)
            return self._back_to(order)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Cancel order %(number)s") % {"number": order.number},
            "opts": self.opts,
            "original": order,
            "order": order,
            "form": form,
            "can_cancel": order.can_move_to(OrderStatus.CANCELLED),
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/orders/order/cancel.html", context)

    def collect_view(self, request, object_id):
        order = self.get_object(request, unquote(object_id))
        if order is None:
            raise Http404(gettext("No such order in your stores."))
        if not self.has_change_permission(request, order):
            raise PermissionDenied
        settlement = handover.settlement_for(order)
        lines = list(order.lines.all())
        # Read only where it decides something (an order ready as a whole needs none).
        readiness = readiness_of(order) if order.status == OrderStatus.PLACED or order.is_split else None
        ready_part = readiness is not None and order.status == OrderStatus.PLACED and readiness.partly
        if order.is_split and not ready_part:
            # The part to collect of a split order: its ready lines (the rest is delivered or shipped).
            lines = [
                line
                for line in lines
                if line.pk in readiness.ready_line_ids and line.pk not in readiness.collected_line_ids
            ]
        if ready_part:
            # The ready part only: the rest stays reserved until it is ready.
            lines = [
                line
                for line in lines
                if line.pk in readiness.ready_line_ids and line.pk not in readiness.collected_line_ids
            ]

        def hand_over_form(data=None):
            return CollectOrderForm(
                data,
                lines=lines,
                offers_till=settlement.offers_till,
                needs_till_receipt=settlement.needs_till_receipt,
            )

        pickup = pickup_of(order)
        form = hand_over_form(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                handed = handover.hand_over(
                    order=order,
                    code=form.cleaned_data["code"],
                    by=request.user,
                    quantities=form.quantities,
                    till_receipt_number=form.cleaned_data.get("till_receipt_number", ""),
                    ip_address=request.META.get("REMOTE_ADDR"),
                )
            except pickup_services.WrongPickupCode as error:
                form.add_error("code", str(error))
            except order_services.IllegalTransition as error:
                form.add_error(None, _not_collectable_message(error.order))
            except handover.CaptureFailed as error:
                # Offer the till from now on: the failure is recorded on the payment.
                settlement = handover.settlement_for(order)
                form = hand_over_form(request.POST)
                form.is_valid()
                form.add_error(None, str(error))
            except (handover.HandOverError, order_services.OrderError, PaymentRefused) as error:
                form.add_error("till_receipt_number" if "till_receipt_number" in form.fields else None, str(error))
            else:
                self.message_user(request, _handed_over_message(request.user, handed), messages.SUCCESS)
                return HttpResponseRedirect(reverse(f"admin:{self._url_prefix}_change", args=[order.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Collect order %(number)s") % {"number": order.number},
            "opts": self.opts,
            "original": order,
            "order": order,
            "pickup": pickup,
            "pickup_slot": _slot_text(pickup.slot_start, pickup.slot_end, zone=order.store.zone)
            if pickup is not None and pickup.slot_start
            else "",
            "lines": lines,
            "ready_part": ready_part,
            "total": format_money(sum((line.line_total for line in lines), Decimal("0")), order.currency),
            "form": form,
            "settlement": settlement,
            "authorised": format_money(settlement.authorisation.capturable_amount, order.currency)
            if settlement.authorisation
            else "",
            "can_collect": can_be_collected(order),
            "not_collectable": "" if can_be_collected(order) else _not_collectable_message(order),
            "locked": pickup_services.pickup_lock_reason(order=order, user=request.user),
            "has_view_permission": True,
        }
        context["can_reset_lock"] = bool(context["locked"]) and self._may_reset_lock(request, order)
        return TemplateResponse(request, "admin/orders/order/collect.html", context)

    def _may_reset_lock(self, request, order) -> bool:
        """The order is locked by wrong codes (not only this user) and the user may reset it."""
        return pickup_services.order_is_code_locked(order=order) and pickup_services.can_reset_pickup_code_lock(
            order=order, user=request.user
        )

    @method_decorator(require_POST)
    def reset_lock_view(self, request, object_id):
        """The "Reset pickup-code lock" button beside the lock message (the order page and the
        collect screen): the store's manager, having checked the shopper's ID, lets the order be
        handed over again. The service checks who may and writes it on the order's timeline."""
        order = self._order_to_change(request, object_id)
        try:
            cleared = pickup_services.reset_pickup_code_lock(order=order, by=request.user)
        except PermissionDenied as error:
            self.message_user(request, str(error), messages.ERROR)
            return self._back_to(order)
        if cleared:
            self.message_user(
                request,
                gettext("The pickup-code lock of order %(number)s is reset: it can be handed over again.")
                % {"number": order.number},
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                gettext("Order %(number)s was not locked.") % {"number": order.number},
                messages.INFO,
            )
        if request.POST.get("next") == "collect":
            return HttpResponseRedirect(reverse(f"admin:{self._url_prefix}_collect", args=[order.pk]))
        return self._back_to(order)

    # The refund screen: a manager gives money back for units handed over, or an amount.

    def has_refund_permission(self, request):
        return request.user.has_perm("payment.add_refund")

    def refund_view(self, request, object_id):
        order = self.get_object(request, unquote(object_id))
        if order is None:
            raise Http404(gettext("No such order in your stores."))
        if not self.has_refund_permission(request):
            raise PermissionDenied
        payment = refundable_payment(order=order)
        form = self._refund_form(order, payment, request.POST or None)
        if request.method == "POST" and payment is not None and form.is_valid():
            data = form.cleaned_data
            try:
                refund = refund_order(
                    order=order,
                    lines=data["lines"],
                    amount=None if data["lines"] else data["amount"],
                    reason=data["reason"],
                    note=data["note"],
                    till_receipt_number=data.get("till_receipt_number", ""),
                    by=request.user,
                )
            except RefundRefused as error:
                form.add_error(None, str(error))
            except handover.PROVIDER_ERRORS as error:
                form.add_error(
                    None,
                    gettext("The payment provider did not refund (%(reason)s). Nothing was refunded; try again.")
                    % {"reason": error},
                )
            else:
                self.message_user(
                    request,
                    gettext("%(amount)s refunded for order %(number)s.")
                    % {"amount": format_money(refund.amount, order.currency), "number": order.number},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse(f"admin:{self._url_prefix}_change", args=[order.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Refund order %(number)s") % {"number": order.number},
            "opts": self.opts,
            "original": order,
            "order": order,
            "payment": payment,
            "form": form,
            "refundable": format_money(payment.refundable_amount, order.currency) if payment else "",
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/orders/order/refund.html", context)

    def _refund_form(self, order, payment, data):
        if payment is None:
            return RefundForm(data)
        taken = order_services.handed_over_by_line(order=order)
        refunded = refunded_by_line(order=order)
        # Units a return took back as store credit or in an exchange (or whose refund is pending)
        # were given back already: refund_order refuses them too.
        given_back = units_given_back_otherwise(order=order)
        lines = [
            (line, taken.get(line.pk, 0) - refunded.get(line.pk, 0) - given_back.get(line.pk, 0))
            for line in order.lines.all()
        ]
        lines = [(line, left) for line, left in lines if left > 0]
        return RefundForm(data, lines=lines, till=payment.is_till, handed_over=any(taken.values()))


def _slot_text(start, end, *, zone) -> str:
    """A pickup slot as the order list and the collect screen show it, in the store's time:
    "Tuesday 1 December, 13:30–14:00"."""
    return f"{dates.format_weekday_date(start, zone=zone)}, {dates.format_time_range(start, end, zone=zone)}"


def _handed_over_message(user, handed) -> str:
    staff = user.get_full_name() or user.get_username()
    currency = handed.order.currency
    if handed.partly:
        message = gettext(
            "The ready items of order %(number)s were handed over by %(staff)s; the rest stays reserved until it "
            "is ready."
        ) % {"number": handed.order.number, "staff": staff}
        if handed.captured is not None:
            message += " " + gettext("%(amount)s was captured from the card payment.") % {
                "amount": format_money(handed.value, currency)
            }
        elif handed.till is not None:
            message += " " + gettext("%(amount)s paid at the till, receipt %(receipt)s.") % {
                "amount": format_money(handed.value, currency),
                "receipt": handed.till.till_receipt_number,
            }
        return message
    message = gettext("Order %(number)s handed over by %(staff)s.") % {"number": handed.order.number, "staff": staff}
    if handed.captured is not None and handed.value < handed.order.total:
        message += " " + gettext("%(amount)s was captured from the card payment; the rest was released.") % {
            "amount": format_money(handed.value, currency)
        }
    elif handed.captured is not None:
        message += " " + gettext("%(amount)s was captured from the card payment.") % {
            "amount": format_money(handed.value, currency)
        }
    elif handed.till is not None:
        message += " " + gettext("%(amount)s paid at the till, receipt %(receipt)s.") % {
            "amount": format_money(handed.value, currency),
            "receipt": handed.till.till_receipt_number,
        }
    return message


def _readiness(order):
    """readiness_of(order), read once per page (the next steps and the collect link both ask)."""
    if not hasattr(order, "_readiness"):
        order._readiness = readiness_of(order)
    return order._readiness


def _carried_by(fulfilment, line, parts) -> bool:
    """Whether `line` is one of the lines the split order's part `fulfilment` carries."""
    return any(
        part.fulfilment.pk == fulfilment.pk and any(carried.pk == line.pk for carried, _units in part.lines)
        for part in parts
    )


def can_be_collected(order) -> bool:
    """Ready for pickup, or placed with some items ready that are not collected yet."""
    if order.can_move_to(OrderStatus.COLLECTED):
        return True
    if order.status != OrderStatus.PLACED:
        return False
    readiness = _readiness(order)
    return bool(readiness.ready_line_ids - readiness.collected_line_ids)


def _not_collectable_message(order):
    if order.status == OrderStatus.PLACED:
        return gettext("Order %(number)s is not ready for pickup yet: mark it ready first.") % {"number": order.number}
    return gettext("Order %(number)s is “%(status)s” and cannot be handed over.") % {
        "number": order.number,
        "status": OrderStatus(order.status).label,
    }


@admin.register(Store)
class StoreWithPickupAdmin(StoreAdmin):
    inlines = (*StoreAdmin.inlines, PickupSettingsInline)


@admin.register(Shipment)
class ShipmentAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    """Parcels to ship from the warehouses a manager runs: open one, type the carrier and the
    tracking number, save; the order is shipped, its payment taken (checkout.handover.ship) and the
    shopper e-mailed."""

    form = ShipmentForm
    store_path = "fulfilment__stock_location"
    list_display = (
        "fulfilment",
        "postcode",
        "city",
        "weight_grams",
        money_display(Shipment, "fee"),
        "carrier",
        "tracking_number",
        "shipped_at",
    )
    list_filter = ("country",)
    list_select_related = ("fulfilment__order", "fulfilment__stock_location")
    search_fields = ("fulfilment__order__number", "tracking_number", "postcode")
    readonly_fields = (
        "fulfilment",
        "name",
        "address",
        "postcode",
        "city",
        "country",
        "weight_grams",
        money_display(Shipment, "fee"),
        "shipped_at",
        "shipped_by",
    )
    fields = (*readonly_fields[:8], "carrier", "tracking_number", "shipped_at", "shipped_by")

    def has_add_permission(self, request):
        return False  # shipments come from the checkout

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.shipped_at is not None:
            return (*self.readonly_fields, "carrier", "tracking_number")
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        # Never a plain save: the service ships the order under its lock, or says why not.
        try:
            handover.ship(
                shipment=obj,
                carrier=form.cleaned_data["carrier"],
                tracking_number=form.cleaned_data["tracking_number"],
                by=request.user,
            )
        except (handover.HandOverError, order_services.OrderError, PaymentRefused) as error:
            request._not_shipped = True
            self.message_user(request, str(error), messages.ERROR)
        except order_services.IllegalTransition as error:
            request._not_shipped = True
            self.message_user(
                request,
                gettext("Order %(number)s was not shipped: it is “%(status)s”.")
                % {"number": error.order.number, "status": error.order.get_status_display()},
                messages.WARNING,
            )
        else:
            self.message_user(
                request,
                gettext("Order %(number)s is shipped; the shopper will get an e-mail with the tracking number.")
                % {"number": obj.fulfilment.order.number},
                messages.SUCCESS,
            )

    def save_related(self, request, form, formsets, change):
        pass  # nothing related is edited here

    def log_change(self, request, obj, message):
        pass  # the order's timeline records the shipping

    def response_change(self, request, obj):
        if getattr(request, "_not_shipped", False):
            # Not "changed successfully": the message above says why nothing was shipped.
            return HttpResponseRedirect(reverse("admin:shipping_shipment_change", args=[obj.pk]))
        return HttpResponseRedirect(reverse("admin:shipping_shipment_changelist"))
